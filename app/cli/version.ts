/**
 * `--version`: `p2p-edge-libp2p <version> (<runtime> <runtime version>)`, then ` commit <hash>`
 * when known. The commit comes from the build (`bun build --define BUILD_COMMIT='"<hash>"'`, as
 * the `build:bun` task does with `git rev-parse HEAD`), else from the `P2P_EDGE_COMMIT`
 * environment variable (a source run or a `deno compile` build sets it).
 *
 * @module
 */

import { runtimeInfo } from "../../src/runtime.ts";

/** The package version (deno.json "version"; tests/cli/config_test.ts keeps them equal). */
export const VERSION = "0.1.0";

/** The program name `--version` prints. */
export const PROGRAM = "p2p-edge-libp2p";

// Replaced by `bun build --define BUILD_COMMIT=...`; undeclared (typeof "undefined") otherwise.
declare const BUILD_COMMIT: string | undefined;

/**
 * The commit recorded at build time, if any.
 *
 * @example
 * ```ts
 * import { buildCommit } from "./version.ts";
 * console.log(buildCommit() ?? "not recorded");
 * ```
 */
export function buildCommit(): string | undefined {
  try {
    return typeof BUILD_COMMIT === "string" && BUILD_COMMIT !== "" ? BUILD_COMMIT : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The `--version` line. `commit` defaults to the build's, then `env.P2P_EDGE_COMMIT`.
 *
 * @example
 * ```ts
 * import { versionLine } from "./version.ts";
 * versionLine({ name: "deno", version: "2.9.6" }, "abc123");
 * // "p2p-edge-libp2p 0.1.0 (deno 2.9.6) commit abc123"
 * ```
 */
export function versionLine(
  runtime: { name: string; version: string } = runtimeInfo(),
  commit?: string,
  env: Readonly<Record<string, string | undefined>> = {},
): string {
  const hash = commit ?? buildCommit() ?? (env.P2P_EDGE_COMMIT || undefined);
  const base = `${PROGRAM} ${VERSION} (${runtime.name} ${runtime.version})`;
  return hash === undefined ? base : `${base} commit ${hash}`;
}
