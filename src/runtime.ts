/**
 * Runtime feature detection: the one module outside `transports/*\/deno.ts` and
 * `transports/*\/bun.ts` that looks at the `Deno` and `Bun` globals (ARCHITECTURE.md, "Runtime
 * boundaries"). It reads them through `globalThis` with local structural types, so it type-checks
 * without Deno or Bun type declarations and runs unchanged in a browser.
 *
 * @module
 */

/** The runtimes this library knows apart. */
export type RuntimeName = "deno" | "bun" | "node" | "browser" | "unknown";

/** What {@link runtimeInfo} reports. */
export interface RuntimeInfo {
  /** Which runtime runs this code. */
  readonly name: RuntimeName;
  /** Its version string (e.g. "2.9.6"), or "" when the runtime does not expose one. */
  readonly version: string;
}

/** The parts of `globalThis` this module reads; each may be absent. */
interface RuntimeGlobals {
  Deno?: { version?: { deno?: unknown } };
  Bun?: { version?: unknown };
  process?: { versions?: { node?: unknown; bun?: unknown } };
  window?: unknown;
  document?: unknown;
}

function globals(): RuntimeGlobals {
  return globalThis as unknown as RuntimeGlobals;
}

/**
 * Whether the code runs on Deno.
 *
 * @example
 * ```ts
 * import { isDeno } from "@p2p-edge/libp2p/runtime";
 * if (isDeno()) console.log("running on Deno");
 * ```
 */
export function isDeno(): boolean {
  const d = globals().Deno;
  return typeof d === "object" && d !== null && typeof d.version?.deno === "string";
}

/**
 * Whether the code runs on Bun.
 *
 * @example
 * ```ts
 * import { isBun } from "@p2p-edge/libp2p/runtime";
 * if (isBun()) console.log("running on Bun");
 * ```
 */
export function isBun(): boolean {
  const b = globals().Bun;
  return typeof b === "object" && b !== null && typeof b.version === "string";
}

/**
 * The runtime's name and version. Deno and Bun are recognised by their own globals (Bun also
 * defines `process.versions.node`, so Bun is checked before Node).
 *
 * @example
 * ```ts
 * import { runtimeInfo } from "@p2p-edge/libp2p/runtime";
 * const { name, version } = runtimeInfo();
 * console.log(`${name} ${version}`); // e.g. "deno 2.9.6"
 * ```
 */
export function runtimeInfo(): RuntimeInfo {
  const g = globals();
  if (isDeno()) return { name: "deno", version: String(g.Deno!.version!.deno) };
  if (isBun()) return { name: "bun", version: String(g.Bun!.version) };
  const node = g.process?.versions?.node;
  if (typeof node === "string") return { name: "node", version: node };
  if (typeof g.window === "object" && typeof g.document === "object") {
    return { name: "browser", version: "" };
  }
  return { name: "unknown", version: "" };
}
