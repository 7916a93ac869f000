/**
 * The default identify agentVersion: library name and version, and the runtime it runs on
 * (src/runtime.ts finds it by feature detection; no runtime-specific API is called).
 *
 * @module
 */

import { runtimeInfo } from "../../src/runtime.ts";

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
  const { name, version } = runtimeInfo();
  if ((name === "deno" || name === "bun") && version !== "") {
    return `${LIBRARY_AGENT} (${name} ${version})`;
  }
  return LIBRARY_AGENT;
}
