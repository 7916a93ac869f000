/**
 * Builds the edge node as one executable with `bun build --compile` (works offline: the Bun
 * runtime in the npm package is the base): `deno task build:bun [outfile]` (default
 * dist/p2p-edge-libp2p). The commit (`git rev-parse --short HEAD`, when in a git checkout) is
 * compiled in for `--version`. Prints the output path and its size in bytes.
 *
 * @module
 */

import { execFileSync } from "node:child_process";
import { statSync } from "node:fs";
import process from "node:process";

/** The default output of the build. */
export const DEFAULT_OUTFILE = "dist/p2p-edge-libp2p";

/** The Bun the build uses (the same pin as the tests). */
export const BUN = "bun@1.4.5";

/**
 * Build the executable at `outfile` from cli.ts in `root`; returns its size in bytes.
 *
 * @example
 * ```ts ignore
 * import { buildBun } from "./build_bun.ts";
 * const bytes = buildBun("/tmp/p2p-edge-libp2p", ".");
 * ```
 */
export function buildBun(outfile: string, root: string): number {
  let commit = "";
  try {
    commit = execFileSync("git", ["rev-parse", "--short", "HEAD"], { cwd: root })
      .toString().trim();
  } catch { /* not a git checkout: --version prints no commit */ }
  const args = ["-y", BUN, "build", "--compile", "--minify", "cli.ts", "--outfile", outfile];
  if (/^[0-9a-f]{4,40}$/.test(commit)) args.push("--define", `BUILD_COMMIT="${commit}"`);
  execFileSync("npx", args, { cwd: root, stdio: ["ignore", "ignore", "inherit"] });
  return statSync(outfile).size;
}

if (import.meta.main) {
  const outfile = process.argv[2] ?? DEFAULT_OUTFILE;
  const size = buildBun(outfile, new URL("../", import.meta.url).pathname);
  console.log(`${outfile} ${size} bytes (${(size / 1024 ** 2).toFixed(1)} MiB)`);
}
