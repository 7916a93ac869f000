/**
 * Which WebSocket server the runtime offers (on top of src/runtime.ts) and the machine's
 * interface addresses. Only globalThis lookups: safe to load in browsers.
 *
 * @module
 */

import { isBun, isDeno } from "../../src/runtime.ts";
import type { InterfaceAddress } from "./listener_common.ts";

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

/**
 * The machine's interface addresses through `node:os` (Deno and Bun both provide it via
 * `process.getBuiltinModule`, so no static `node:` import reaches browsers); undefined when
 * unavailable or not permitted.
 */
export function interfaceAddresses(): InterfaceAddress[] | undefined {
  const proc = (globalThis as {
    process?: { getBuiltinModule?: (name: string) => unknown };
  }).process;
  try {
    const os = proc?.getBuiltinModule?.("node:os") as
      | { networkInterfaces(): Record<string, InterfaceAddress[] | undefined> }
      | undefined;
    if (os === undefined) return undefined;
    return Object.values(os.networkInterfaces()).flatMap((list) => list ?? []);
  } catch {
    return undefined;
  }
}
