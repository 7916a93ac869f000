/**
 * The relative imports of a TypeScript file, found without a parser: comments and the contents of
 * string and template literals are blanked first (so an `import` in a JSDoc example or inside a
 * string is not taken), then static `import ... from`, `import "..."`, `export ... from` and
 * dynamic `import("...")` with a literal specifier are matched on what is left. Used by
 * tools/check_layers.ts and tools/check_web.ts. No dependencies; runs on Deno and Bun.
 *
 * @module
 */

/** One relative import of a file. */
export interface ImportRef {
  /** 1-based line of the specifier. */
  readonly line: number;
  /** The specifier as written, e.g. "../../src/errors.ts". */
  readonly specifier: string;
  /** Repository-relative path it resolves to (POSIX separators). */
  readonly target: string;
  /** `import type` / `export type`: erased at run time. */
  readonly typeOnly: boolean;
  /** `import("...")`: loaded at run time when reached, not when the importer loads. */
  readonly dynamic: boolean;
}

/** Characters after which a `/` starts a regular expression rather than a division. */
const REGEX_PREFIX = new Set([..."(,=:[!&|?{};+-*%<>~^"]);
const REGEX_KEYWORDS = /(?:^|[^\w$])(?:return|typeof|case|do|else|in|of|void|yield|await)$/;

/**
 * `source` with comments blanked and the contents of string, template and regular-expression
 * literals blanked (quotes kept); line breaks are kept, so offsets and lines stay the same.
 *
 * @example
 * ```ts
 * blankLiterals('a = "x"; // c'); // 'a = " "; '.padEnd(13)
 * ```
 */
export function blankLiterals(source: string): string {
  const out = source.split("");
  const blank = (from: number, to: number): void => {
    for (let k = from; k < to; k++) if (out[k] !== "\n") out[k] = " ";
  };
  let i = 0;
  let lastSignificant = "";
  while (i < source.length) {
    const c = source[i];
    const next = source[i + 1];
    if (c === "/" && next === "/") {
      const end = source.indexOf("\n", i);
      const stop = end === -1 ? source.length : end;
      blank(i, stop);
      i = stop;
      continue;
    }
    if (c === "/" && next === "*") {
      const end = source.indexOf("*/", i + 2);
      const stop = end === -1 ? source.length : end + 2;
      blank(i, stop);
      i = stop;
      continue;
    }
    if (c === '"' || c === "'" || c === "`") {
      let j = i + 1;
      while (j < source.length && source[j] !== c) {
        if (source[j] === "\\") j++;
        else if (c !== "`" && source[j] === "\n") break; // unterminated: stop at the line end
        j++;
      }
      blank(i + 1, j);
      i = j + 1;
      lastSignificant = c;
      continue;
    }
    if (c === "/") {
      const isRegex = lastSignificant === "" || REGEX_PREFIX.has(lastSignificant) ||
        REGEX_KEYWORDS.test(source.slice(Math.max(0, i - 12), i).trimEnd());
      if (isRegex) {
        let j = i + 1;
        let inClass = false;
        while (j < source.length && source[j] !== "\n") {
          const d = source[j];
          if (d === "\\") j++;
          else if (d === "[") inClass = true;
          else if (d === "]") inClass = false;
          else if (d === "/" && !inClass) break;
          j++;
        }
        blank(i + 1, j);
        i = j + 1;
        lastSignificant = "/";
        continue;
      }
    }
    if (!/\s/.test(c)) lastSignificant = c;
    i++;
  }
  return out.join("");
}

// Matched on blanked code: the specifier's quotes are kept, its contents are spaces.
const STATIC_FROM = /(?<![\w$.])(import|export)(\s+type)?[\s\w$*{},]*?\bfrom\s*(["'])/g;
const SIDE_EFFECT = /(?<![\w$.])import\s*(["'])/g;
const DYNAMIC = /(?<![\w$.])import\s*\(\s*(["'])/g;

function lineOf(source: string, offset: number): number {
  let line = 1;
  for (let k = 0; k < offset; k++) if (source.charCodeAt(k) === 10) line++;
  return line;
}

/** Join `spec` to the directory of `from` (both repository-relative), or undefined if outside. */
export function resolveRelative(from: string, spec: string): string | undefined {
  const parts = from.split("/").slice(0, -1);
  for (const part of spec.split("/")) {
    if (part === "." || part === "") continue;
    if (part === "..") {
      if (parts.length === 0) return undefined;
      parts.pop();
    } else parts.push(part);
  }
  return parts.join("/");
}

/**
 * The relative imports of `source` (the file at repository path `path`).
 *
 * @example
 * ```ts
 * relativeImports("src/a.ts", 'import { b } from "./b.ts";')[0].target; // "src/b.ts"
 * ```
 */
export function relativeImports(path: string, source: string): ImportRef[] {
  const code = blankLiterals(source);
  const found: ImportRef[] = [];
  const take = (quoteAt: number, typeOnly: boolean, dynamic: boolean): void => {
    const quote = source[quoteAt];
    const end = source.indexOf(quote, quoteAt + 1);
    if (end === -1) return;
    const specifier = source.slice(quoteAt + 1, end);
    if (!specifier.startsWith("./") && !specifier.startsWith("../")) return;
    const target = resolveRelative(path, specifier);
    if (target === undefined) return;
    found.push({ line: lineOf(source, quoteAt), specifier, target, typeOnly, dynamic });
  };
  for (const m of code.matchAll(STATIC_FROM)) {
    const typeOnly = m[2] !== undefined && !/^\s+type\s*,/.test(m[0].slice(m[1].length));
    take(m.index! + m[0].length - 1, typeOnly, false);
  }
  for (const m of code.matchAll(SIDE_EFFECT)) take(m.index! + m[0].length - 1, false, false);
  for (const m of code.matchAll(DYNAMIC)) take(m.index! + m[0].length - 1, false, true);
  return found.sort((a, b) => a.line - b.line);
}

/**
 * The repository's .ts files as git lists them (tracked, plus untracked ones it does not ignore)
 * that `keep` accepts, each with its text; files listed but deleted in the work tree are skipped.
 * Both checks read the tree through this.
 *
 * @example
 * ```ts
 * import { gitTsFiles } from "./imports.ts";
 * const files = await gitTsFiles(".", (path) => path.startsWith("src/"));
 * ```
 */
export async function gitTsFiles(
  root: string,
  keep: (path: string) => boolean,
): Promise<Map<string, string>> {
  const out = await new Deno.Command("git", {
    args: ["ls-files", "-z", "--cached", "--others", "--exclude-standard", "--", "*.ts"],
    cwd: root,
    stdout: "piped",
  }).output();
  if (!out.success) throw new Error(`git ls-files failed in ${root}`);
  const files = new Map<string, string>();
  for (const path of new TextDecoder().decode(out.stdout).split("\0")) {
    if (path === "" || !keep(path)) continue;
    try {
      files.set(path, await Deno.readTextFile(`${root}/${path}`));
    } catch {
      // Listed by git but deleted in the work tree: nothing to check.
    }
  }
  return files;
}
