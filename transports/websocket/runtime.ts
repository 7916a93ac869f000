/**
 * Which WebSocket server the runtime offers (on top of src/runtime.ts) and the machine's
 * interface addresses. Only globalThis lookups: safe to load in browsers.
 *
 * @module
 */

import { isBun, isDeno } from "../../src/runtime.ts";

/** Which WebSocket server this runtime offers. */
export type WebSocketServerKind = "deno" | "bun" | "none";

/**
 * `Deno.serve` + `Deno.upgradeWebSocket` on Deno, `Bun.serve` on Bun, none elsewhere
 * (browsers, workers): there only dialling works.
 */
export function webSocketServerKind(): WebSocketServerKind {
  const g = globalThis as {
    Deno?: { serve?: unknown; upgradeWebSocket?: unknown };
    Bun?: { serve?: unknown };
  };
  if (isBun() && typeof g.Bun?.serve === "function") return "bun";
  if (
    isDeno() && typeof g.Deno?.serve === "function" &&
    typeof g.Deno.upgradeWebSocket === "function"
  ) {
    return "deno";
  }
  return "none";
}

/** The machine's interface addresses (see src/runtime.ts). */
export { interfaceAddresses } from "../../src/runtime.ts";
