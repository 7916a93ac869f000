/**
 * The default identify agentVersion: library name and version, and the runtime it runs on
 * (found by feature detection on globalThis, no runtime-specific API is called).
 *
 * @module
 */

/** Name and version we announce. */
export const LIBRARY_AGENT = "p2p-edge-libp2p/0.1.0";

/**
 * `p2p-edge-libp2p/0.1.0 (deno 2.x.y)`, `(bun 1.x.y)`, or without the runtime part when it is
 * neither.
 *
 * @example
 * ```ts
 * import { defaultAgentVersion } from "@p2p-edge/libp2p/protocols/identify";
 * defaultAgentVersion().startsWith("p2p-edge-libp2p/"); // true
 * ```
 */
export function defaultAgentVersion(): string {
  const g = globalThis as {
    Deno?: { version?: { deno?: string } };
    Bun?: { version?: string };
  };
  // Bun first: Bun may expose a Deno shim in the future, not the other way around.
  if (typeof g.Bun?.version === "string") return `${LIBRARY_AGENT} (bun ${g.Bun.version})`;
  if (typeof g.Deno?.version?.deno === "string") {
    return `${LIBRARY_AGENT} (deno ${g.Deno.version.deno})`;
  }
  return LIBRARY_AGENT;
}
