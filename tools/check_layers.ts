/**
 * The layering check (ARCHITECTURE.md, "Layers"): fails when an import goes up or sideways, or
 * when folders import each other in a cycle. Run: `deno task check:layers` (also in .ci/run).
 * No dependencies; reads every tracked .ts file (`git ls-files`, without node_modules,
 * bench/thirdparty and dist) and prints one line per violation: `file:line  import  rule`.
 *
 * Layers, from the bottom:
 * - `src/`: the core. Imports nothing outside `src/`.
 * - `protocols/<name>/`: one wire protocol each. Imports `src/` and other protocols only through
 *   their `mod.ts`; never a transport.
 * - `transports/<name>/`: imports `src/`, protocols and other transports only through their
 *   `mod.ts` (WebTransport runs Noise on its first stream).
 * - `stores/`: the persistent datastores (runtime adapters of src/datastore). Imports `src/`
 *   only.
 * - `app/`: composition roots (the CLI, the browser entry). Only `cli.ts`, `app/` itself, tests
 *   and benchmarks import it; the library (root `mod.ts` included) never does.
 * - Library code (everything above, `mod.ts`, `cli.ts`) never imports `tests/`, `bench/`, `tools/`.
 *
 * Cycles, two rules, both on every static import (`import type` included: erased at run time,
 * but a dependency for the reader and the type checker all the same):
 * - No cycle between files. A file is what an ES module loader evaluates: in a file cycle one
 *   module runs before the other has defined its exports (a class extended or a constant read at
 *   top level is then in its temporal dead zone), and which one depends on who imported first.
 *   The core already avoids one on purpose (src/peer_id.ts takes its key decoder by registration).
 * - No cycle between components: `src` (the whole core), each `protocols/<name>`, each
 *   `transports/<name>`, `app`. This is the "no import cycles" as a layering rule: its
 *   example (src/ and the multistream protocol importing each other) is such a cycle, and the
 *   layer rules above already forbid the upward half of most; this also catches two protocols (or
 *   a protocol and a transport) importing each other through their mod.ts.
 * Why not every folder: inside the core, folders are parts of one layer and may refer to each
 * other's types: src/transport.ts names the key types of src/keys/types.ts, and src/keys uses
 * src/errors.ts and src/bytes.ts. Counting `src` and `src/keys` as two folders would call that a
 * cycle and force moving files that are where a reader looks for them, without making the
 * layering any clearer; the file rule still keeps each of those imports acyclic.
 * Dynamic `import("...")` counts for the layer rules but not for cycles: a factory loads its
 * runtime adapter that way when called (tools/check_web.ts), and the adapter importing its
 * folder's core back is the intended shape.
 *
 * @module
 */

import { gitTsFiles, type ImportRef, relativeImports } from "./imports.ts";

/** One broken rule. */
export interface Violation {
  /** Importing file (repository path). */
  readonly file: string;
  /** Line of the import. */
  readonly line: number;
  /** The import as written (for cycles: the folders of the cycle). */
  readonly importText: string;
  /** The rule it breaks. */
  readonly rule: string;
}

/** Where a file sits in the layering. */
type Place =
  | { kind: "src" }
  | { kind: "protocol"; name: string }
  | { kind: "transport"; name: string }
  | { kind: "stores" }
  | { kind: "app" }
  | { kind: "cli" }
  | { kind: "root" }
  | { kind: "tests" }
  | { kind: "tools" }
  | { kind: "other" };

function placeOf(path: string): Place {
  const parts = path.split("/");
  switch (parts[0]) {
    case "src":
      return { kind: "src" };
    case "protocols":
      return parts.length > 2 ? { kind: "protocol", name: parts[1] } : { kind: "other" };
    case "transports":
      return parts.length > 2 ? { kind: "transport", name: parts[1] } : { kind: "other" };
    case "stores":
      return { kind: "stores" };
    case "app":
      return { kind: "app" };
    case "tests":
    case "bench":
      return { kind: "tests" };
    case "tools":
      return { kind: "tools" };
    case "cli.ts":
      return { kind: "cli" };
    case "mod.ts":
      return { kind: "root" };
    default:
      return { kind: "other" };
  }
}

function isModOf(target: string, folder: string): boolean {
  return target === `${folder}/mod.ts`;
}

const RULE_SRC = "src/ must not import protocols/, transports/, stores/ or app/";
const RULE_PROTO_PROTO = "a protocol imports another protocol only through its mod.ts";
const RULE_PROTO_TRANSPORT = "a protocol must not import a transport";
const RULE_TRANSPORT_TRANSPORT = "a transport imports another transport only through its mod.ts";
const RULE_TRANSPORT_PROTO = "a transport imports a protocol only through its mod.ts";
const RULE_STORES = "stores/ imports only src/";
const RULE_APP = "only cli.ts, app/, tests and bench may import app/";
const RULE_LIBRARY = "library code must not import tests/, bench/ or tools/";
const RULE_CYCLE = "no import cycle between components (src, a protocol, a transport, app)";
const RULE_FILE_CYCLE = "no import cycle between files";

/** The layer rule `ref` (imported by `file`) breaks, if any. */
function layerRule(file: string, ref: ImportRef): string | undefined {
  const from = placeOf(file);
  const to = placeOf(ref.target);
  if (to.kind === "app" && from.kind !== "app" && from.kind !== "cli" && from.kind !== "tests") {
    return RULE_APP;
  }
  const library = from.kind === "src" || from.kind === "protocol" || from.kind === "transport" ||
    from.kind === "stores" || from.kind === "app" || from.kind === "cli" || from.kind === "root";
  if (library && (to.kind === "tests" || to.kind === "tools")) return RULE_LIBRARY;
  switch (from.kind) {
    case "src":
      if (
        to.kind === "protocol" || to.kind === "transport" || to.kind === "stores" ||
        to.kind === "app"
      ) return RULE_SRC;
      return undefined;
    case "stores":
      if (to.kind === "protocol" || to.kind === "transport" || to.kind === "app") {
        return RULE_STORES;
      }
      return undefined;
    case "protocol":
      if (to.kind === "transport") return RULE_PROTO_TRANSPORT;
      if (
        to.kind === "protocol" && to.name !== from.name &&
        !isModOf(ref.target, `protocols/${to.name}`)
      ) return RULE_PROTO_PROTO;
      return undefined;
    case "transport":
      if (
        to.kind === "transport" && to.name !== from.name &&
        !isModOf(ref.target, `transports/${to.name}`)
      ) return RULE_TRANSPORT_TRANSPORT;
      if (to.kind === "protocol" && !isModOf(ref.target, `protocols/${to.name}`)) {
        return RULE_TRANSPORT_PROTO;
      }
      return undefined;
    default:
      return undefined;
  }
}

/** The component of a file for the cycle rule: `src`, `protocols/<name>`, `app`, or the file. */
function componentOf(path: string): string {
  const place = placeOf(path);
  switch (place.kind) {
    case "protocol":
      return `protocols/${place.name}`;
    case "transport":
      return `transports/${place.name}`;
    case "src":
    case "stores":
    case "app":
    case "tests":
    case "tools":
      return path.split("/")[0];
    default:
      return path;
  }
}

/** A directed graph that remembers the first import behind each edge. */
class Graph {
  readonly edges = new Map<string, Set<string>>();
  readonly #at = new Map<string, { file: string; line: number }>();

  node(name: string): void {
    if (!this.edges.has(name)) this.edges.set(name, new Set());
  }

  edge(from: string, to: string, at: { file: string; line: number }): void {
    this.node(from);
    this.node(to);
    this.edges.get(from)!.add(to);
    const key = `${from}\n${to}`;
    if (!this.#at.has(key)) this.#at.set(key, at);
  }

  at(from: string, to: string): { file: string; line: number } {
    return this.#at.get(`${from}\n${to}`)!;
  }
}

/**
 * The cycles of a directed graph: one per strongly connected component with more than one node
 * (Tarjan's algorithm, iterative), each given as a closed path through the component.
 */
function cycles(edges: Map<string, Set<string>>): string[][] {
  let counter = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const onStack = new Set<string>();
  const stack: string[] = [];
  const components: string[][] = [];
  const nodes = [...edges.keys()].sort();
  for (const root of nodes) {
    if (index.has(root)) continue;
    const work: { node: string; next: string[] }[] = [];
    const enter = (node: string): void => {
      index.set(node, counter);
      low.set(node, counter);
      counter++;
      stack.push(node);
      onStack.add(node);
      work.push({ node, next: [...(edges.get(node) ?? [])].sort() });
    };
    enter(root);
    while (work.length > 0) {
      const top = work[work.length - 1];
      const succ = top.next.shift();
      if (succ !== undefined) {
        if (!index.has(succ)) enter(succ);
        else if (onStack.has(succ)) {
          low.set(top.node, Math.min(low.get(top.node)!, index.get(succ)!));
        }
        continue;
      }
      work.pop();
      if (work.length > 0) {
        const parent = work[work.length - 1].node;
        low.set(parent, Math.min(low.get(parent)!, low.get(top.node)!));
      }
      if (low.get(top.node) === index.get(top.node)) {
        const component: string[] = [];
        let member: string;
        do {
          member = stack.pop()!;
          onStack.delete(member);
          component.push(member);
        } while (member !== top.node);
        if (component.length > 1) components.push(component);
      }
    }
  }
  // A closed path inside each component: breadth-first from its first node back to itself.
  return components.map((component) => {
    const members = new Set(component);
    const start = component.sort()[0];
    const previous = new Map<string, string>();
    const queue = [start];
    while (queue.length > 0) {
      const node = queue.shift()!;
      for (const succ of [...(edges.get(node) ?? [])].sort()) {
        if (!members.has(succ)) continue;
        if (succ === start) {
          const path = [node];
          while (path[0] !== start) path.unshift(previous.get(path[0])!);
          return [...path, start];
        }
        if (!previous.has(succ)) {
          previous.set(succ, node);
          queue.push(succ);
        }
      }
    }
    return [...component, component[0]];
  });
}

/**
 * Check the files of a tree (repository path to source text); violations sorted by file and line.
 *
 * @example
 * ```ts
 * const found = checkLayers(new Map([["src/a.ts", 'import "../protocols/x/mod.ts";']]));
 * found[0].rule; // "src/ must not import protocols/, transports/ or app/"
 * ```
 */
export function checkLayers(files: ReadonlyMap<string, string>): Violation[] {
  const violations: Violation[] = [];
  const fileGraph = new Graph();
  const componentGraph = new Graph();
  for (const [file, source] of [...files].sort(([a], [b]) => a.localeCompare(b))) {
    fileGraph.node(file);
    componentGraph.node(componentOf(file));
    for (const ref of relativeImports(file, source)) {
      const rule = layerRule(file, ref);
      if (rule !== undefined) {
        violations.push({ file, line: ref.line, importText: ref.specifier, rule });
      }
      if (ref.dynamic || !files.has(ref.target)) continue;
      const at = { file, line: ref.line };
      fileGraph.edge(file, ref.target, at);
      const [from, to] = [componentOf(file), componentOf(ref.target)];
      if (from !== to) componentGraph.edge(from, to, at);
    }
  }
  for (
    const [graph, rule] of [[fileGraph, RULE_FILE_CYCLE], [componentGraph, RULE_CYCLE]] as const
  ) {
    for (const cycle of cycles(graph.edges)) {
      const steps = cycle.slice(0, -1).map((node, k) => graph.at(node, cycle[k + 1]));
      const via = steps.map((at) => `${at.file}:${at.line}`);
      violations.push({
        file: steps[0].file,
        line: steps[0].line,
        importText: `cycle ${cycle.join(" -> ")} (imports at ${via.join(", ")})`,
        rule,
      });
    }
  }
  return violations.sort((a, b) => a.file.localeCompare(b.file) || a.line - b.line);
}

/** Tracked .ts files of the repository at `root`, outside node_modules, bench/thirdparty, dist. */
function trackedFiles(root: string): Promise<Map<string, string>> {
  return gitTsFiles(
    root,
    (path) =>
      !/(^|\/)node_modules\//.test(path) && !path.startsWith("bench/thirdparty/") &&
      !path.startsWith("dist/"),
  );
}

/** Format a violation as one line. */
export function formatViolation(v: Violation): string {
  return `${v.file}:${v.line}  ${v.importText}  [${v.rule}]`;
}

if (import.meta.main) {
  const root = Deno.args[0] ?? ".";
  const files = await trackedFiles(root);
  const violations = checkLayers(files);
  for (const v of violations) console.log(formatViolation(v));
  if (violations.length > 0) {
    console.error(`check_layers: ${violations.length} violation(s) in ${files.size} files`);
    Deno.exit(1);
  }
  console.log(`check_layers: ${files.size} files, no violation`);
}
