/**
 * The web-only check (ARCHITECTURE.md, "Layers"): everything but the runtime adapters
 * runs on web APIs alone. Run: `deno task check:web` (also in .ci/run). Fails (exit 1, one line per
 * violation: `file:line  what  [rule]`) when a web-only file
 * 1. names the `Deno` or `Bun` global in code (comments and strings do not count), except
 *    {@link FEATURE_DETECTION}, the one module that looks at them (through `globalThis` and local
 *    structural types, so it type-checks on web APIs too);
 * 2. imports an adapter statically (`import type` included: it would bring the adapter's runtime
 *    types into the web-only program). A factory picks its runtime with a dynamic `import()` of the
 *    adapter behind feature detection from src/runtime.ts, typed by an interface of its own core;
 * 3. does not type-check with `deno check --config tools/web_only.json` (lib: dom, dom.iterable,
 *    esnext; no deno.window, deno.unstable or Bun types).
 *
 * Web-only files: every tracked .ts file under src/, protocols/, transports/, stores/,
 * app/browser/, and the root mod.ts, except the {@link ADAPTERS} (and tests). Files imported by both sides (an adapter
 * imports its transport's core, src/, ...) are web-only: the rule runs one way, an adapter may use
 * anything web-only, never the reverse.
 *
 * tools/web_only.json maps the package.json dependencies to `npm:` specifiers itself (with
 * `--config`, Deno does not read package.json); this script fails when the two disagree.
 *
 * How rule 3 treats adapters: `deno check` follows dynamic imports too, so the adapters a factory
 * may load are in the checked program, where those written against Deno's types do not compile
 * (no `Deno` namespace). Diagnostics located in an adapter are therefore set aside: adapters are
 * checked against their runtime by the ordinary `deno check` (deno.json), and rule 2 guarantees no
 * web-only file sees an adapter's types (explicit types on what an adapter exports keep an error
 * inside it from leaking out as `any`). Any diagnostic in a web-only file fails the check.
 *
 * @module
 */

import { blankLiterals, gitTsFiles, relativeImports } from "./imports.ts";

/**
 * The runtime adapters: the only files that may use `Deno.*` / `Bun.*` besides
 * {@link FEATURE_DETECTION}. Adding one is a deliberate change of this list.
 */
export const ADAPTERS: readonly string[] = [
  "transports/tcp/deno.ts",
  "transports/tcp/bun.ts",
  "transports/websocket/deno.ts",
  "transports/websocket/bun.ts",
  "transports/webtransport/deno.ts",
  "transports/webtransport/deno_dial.ts",
  "transports/webtransport/deno_listener.ts",
  "stores/deno_kv.ts",
  "stores/bun_sqlite.ts",
  "protocols/mdns/deno.ts",
  "protocols/mdns/dgram.ts",
];

/** The one feature-detection module: may name `Deno` and `Bun`, and is itself web-only. */
export const FEATURE_DETECTION = "src/runtime.ts";

/** Web-only config for `deno check` (relative to the repository root). */
const WEB_CONFIG = "tools/web_only.json";

/** One broken rule. */
export interface WebViolation {
  /** Repository path. */
  readonly file: string;
  /** 1-based line. */
  readonly line: number;
  /** What was found. */
  readonly what: string;
  /** The rule it breaks. */
  readonly rule: string;
}

const RULE_GLOBAL = "only adapters and src/runtime.ts may use the Deno or Bun global";
const RULE_STATIC = "a web-only file loads an adapter only by dynamic import()";
const RULE_TYPES = "a web-only file type-checks against web APIs alone (tools/web_only.json)";

/**
 * Whether `path` must run on web APIs alone.
 *
 * @example
 * ```ts
 * isWebOnly("src/bytes.ts"); // true
 * isWebOnly("transports/tcp/deno.ts"); // false
 * ```
 */
export function isWebOnly(path: string): boolean {
  if (!path.endsWith(".ts") || path.endsWith("_test.ts") || ADAPTERS.includes(path)) return false;
  return path === "mod.ts" || path.startsWith("src/") || path.startsWith("protocols/") ||
    path.startsWith("transports/") || path.startsWith("stores/") || path.startsWith("app/browser/");
}

const RUNTIME_GLOBAL = /(?<![\w$])(Deno|Bun)(?![\w$])/g;

/**
 * Rules 1 and 2 over a tree (repository path to source text).
 *
 * @example
 * ```ts
 * checkWebSources(new Map([["src/x.ts", "Deno.exit(1);"]]))[0].rule;
 * ```
 */
export function checkWebSources(files: ReadonlyMap<string, string>): WebViolation[] {
  const found: WebViolation[] = [];
  for (const [file, source] of files) {
    if (!isWebOnly(file)) continue;
    if (file !== FEATURE_DETECTION) {
      const code = blankLiterals(source);
      const lines = code.split("\n");
      lines.forEach((text, k) => {
        for (const m of text.matchAll(RUNTIME_GLOBAL)) {
          const original = source.split("\n")[k].trim();
          found.push({ file, line: k + 1, what: `${m[1]}: ${original}`, rule: RULE_GLOBAL });
        }
      });
    }
    for (const ref of relativeImports(file, source)) {
      if (!ref.dynamic && ADAPTERS.includes(ref.target)) {
        found.push({ file, line: ref.line, what: `import "${ref.specifier}"`, rule: RULE_STATIC });
      }
    }
  }
  return found.sort((a, b) => a.file.localeCompare(b.file) || a.line - b.line);
}

/**
 * Diagnostics of `deno check` output (colours off), as [file URL path, line, message].
 *
 * @example
 * ```ts
 * parseDiagnostics("TS2304 [ERROR]: Cannot find name 'Deno'.\n    at file:///r/src/a.ts:3:5\n");
 * ```
 */
export function parseDiagnostics(
  output: string,
): { path: string; line: number; message: string }[] {
  const out: { path: string; line: number; message: string }[] = [];
  let message = "";
  for (const line of output.split("\n")) {
    const head = /^(TS\d+ \[ERROR\]: .*)$/.exec(line);
    if (head !== null) {
      message = head[1];
      continue;
    }
    const at = /^\s+at file:\/\/(.+):(\d+):\d+$/.exec(line);
    if (at !== null && message !== "") {
      out.push({ path: decodeURIComponent(at[1]), line: Number(at[2]), message });
      message = "";
    }
  }
  return out;
}

function trackedFiles(root: string): Promise<Map<string, string>> {
  return gitTsFiles(root, isWebOnly);
}

/** The dependencies of package.json that tools/web_only.json does not map to the same version. */
async function configDrift(root: string): Promise<WebViolation[]> {
  const pkg = JSON.parse(await Deno.readTextFile(`${root}/package.json`)) as {
    dependencies?: Record<string, string>;
  };
  const config = JSON.parse(await Deno.readTextFile(`${root}/${WEB_CONFIG}`)) as {
    imports?: Record<string, string>;
  };
  const mapped = Object.values(config.imports ?? {}).join(" ");
  return Object.entries(pkg.dependencies ?? {})
    .filter(([name, version]) => !mapped.includes(`${name}@${version}`))
    .map(([name, version]) => ({
      file: WEB_CONFIG,
      line: 1,
      what: `package.json dependency ${name}@${version} is not in "imports"`,
      rule: RULE_TYPES,
    }));
}

async function typeCheck(root: string, files: string[]): Promise<WebViolation[]> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["check", "--quiet", "--config", WEB_CONFIG, ...files],
    cwd: root,
    env: { NO_COLOR: "1" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (out.success) return [];
  const text = new TextDecoder().decode(out.stderr) + new TextDecoder().decode(out.stdout);
  const rootPath = await Deno.realPath(root);
  const found: WebViolation[] = [];
  let located = 0;
  for (const d of parseDiagnostics(text)) {
    located++;
    const file = d.path.startsWith(rootPath + "/") ? d.path.slice(rootPath.length + 1) : d.path;
    if (ADAPTERS.includes(file)) continue; // checked against its runtime by deno.json
    found.push({ file, line: d.line, what: d.message, rule: RULE_TYPES });
  }
  if (located === 0) {
    // Failed without a diagnostic we can place (bad config, resolution error): show it all.
    found.push({ file: WEB_CONFIG, line: 1, what: text.trim(), rule: RULE_TYPES });
  }
  return found;
}

if (import.meta.main) {
  const root = Deno.args[0] ?? ".";
  const files = await trackedFiles(root);
  const violations = [
    ...checkWebSources(files),
    ...await configDrift(root),
    ...await typeCheck(root, [...files.keys()].sort()),
  ];
  for (const v of violations) console.log(`${v.file}:${v.line}  ${v.what}  [${v.rule}]`);
  if (violations.length > 0) {
    console.error(`check_web: ${violations.length} violation(s) in ${files.size} web-only files`);
    Deno.exit(1);
  }
  console.log(`check_web: ${files.size} web-only files, no violation`);
}
