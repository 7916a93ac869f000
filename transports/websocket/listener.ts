/**
 * Picks the listener for the runtime: Deno.serve, Bun.serve, or one that explains that this
 * runtime (a browser, a worker) can only dial.
 *
 * @module
 */

import type { Multiaddr } from "../../src/multiaddr/mod.ts";
import type { Listener, ListenerInit } from "../../src/transport.ts";
import { BunWebSocketListener } from "./bun.ts";
import { DenoWebSocketListener } from "./deno.ts";
import { WebSocketListenError } from "./errors.ts";
import type { ResolvedWebSocketOptions } from "./options.ts";
import type { WebSocketServerKind } from "./runtime.ts";

class UnsupportedListener implements Listener {
  listen(_addr: Multiaddr): Promise<void> {
    return Promise.reject(
      new WebSocketListenError(
        "no WebSocket server on this runtime (needs Deno.serve or Bun.serve); " +
          "browsers can only dial",
      ),
    );
  }
  getAddrs(): Multiaddr[] {
    return [];
  }
  close(): Promise<void> {
    return Promise.resolve();
  }
}

/** The listener for a runtime's WebSocket server kind. */
export function createListenerFor(
  kind: WebSocketServerKind,
  init: ListenerInit,
  options: ResolvedWebSocketOptions,
): Listener {
  switch (kind) {
    case "deno":
      return new DenoWebSocketListener(init, options);
    case "bun":
      return new BunWebSocketListener(init, options);
    default:
      return new UnsupportedListener();
  }
}
