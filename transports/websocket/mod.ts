/**
 * WebSocket transport: `/ip4|ip6|dns|dns4|dns6/<h>/tcp/<p>/ws`, `/tls/ws` (= `/wss`),
 * `/tls/sni/<name>/ws`. Binary messages carry the raw libp2p byte stream; Noise and a muxer
 * still run inside, even over TLS.
 *
 * Dialling uses the standard `WebSocket` and works in Deno, Bun and browsers; on Deno, `ws://`
 * dials use our own RFC 6455 client over a TCP_NODELAY socket instead (client.ts: Deno's
 * `WebSocket` lets Nagle's algorithm hold small writes back, two round trips to the first byte). Listening uses
 * `Deno.serve` on Deno and `Bun.serve` on Bun; elsewhere (browsers) `listen` rejects with a
 * {@link WebSocketListenError}. With `mount: true`, listeners attach to the application's own
 * server through `transport.mount` instead (see {@link WebSocketMount}); on platforms that only
 * give a fetch handler, {@link webSocketFetchHandler} routes that server's requests.
 *
 * There is no half-close (closing the writable closes the WebSocket) and no read backpressure
 * (received bytes queue up to `maxBufferedIncoming`, then the connection closes); see
 * connection.ts.
 *
 * @example
 * ```ts ignore
 * import { websocket } from "@p2p-edge/libp2p/transports/websocket";
 * import { multiaddr } from "@p2p-edge/libp2p";
 * const transport = websocket();
 * const listener = transport.createListener({ onConnection: (c) => c.readable.pipeTo(c.writable) });
 * await listener.listen(multiaddr("/ip4/127.0.0.1/tcp/0/ws"));
 * const conn = await transport.dial(listener.getAddrs()[0]);
 * await conn.close();
 * await listener.close();
 * ```
 *
 * @module
 */

import type { Multiaddr } from "../../src/multiaddr/mod.ts";
import type { AbortOptions } from "../../src/stream/types.ts";
import type { Listener, ListenerInit, RawConnection, Transport } from "../../src/transport.ts";
import { isListenableWebSocketAddr, parseWebSocketAddr } from "./address.ts";
import { dialWebSocket } from "./dial.ts";
import { createListenerFor } from "./listener.ts";
import { createMount, type WebSocketMount } from "./mount.ts";
import { resolveWebSocketOptions, type WebSocketOptions } from "./options.ts";
import { webSocketServerKind } from "./runtime.ts";

export {
  WebSocketDialError,
  WebSocketHandshakeError,
  WebSocketListenError,
  WebSocketProtocolError,
} from "./errors.ts";
export type { WebSocketMount } from "./mount.ts";
export {
  type BunServeParts,
  type FetchRoute,
  type WebSocketFetchHandler,
  webSocketFetchHandler,
  type WebSocketFetchOptions,
} from "./fetch_handler.ts";
export type {
  BunServerLike,
  BunServerWebSocket,
  BunWebSocketHandlers,
  DenoRequestInfo,
} from "./upgrade.ts";
export type { WebSocketOptions, WebSocketTlsOptions } from "./options.ts";

/**
 * The WebSocket transport. `mount` is set when created with `mount: true`.
 *
 * @example
 * ```ts
 * import { websocket, type WebSocketTransport } from "@p2p-edge/libp2p/transports/websocket";
 * const t: WebSocketTransport = websocket({ mount: true });
 * console.log(t.mount !== undefined); // true
 * ```
 */
export interface WebSocketTransport extends Transport {
  /** The hook for the application's server, when created with `mount: true`. */
  readonly mount?: WebSocketMount;
}

/**
 * Create a WebSocket transport. Options are validated here (RangeError/TypeError).
 *
 * @example
 * ```ts
 * import { websocket } from "@p2p-edge/libp2p/transports/websocket";
 * import { multiaddr } from "@p2p-edge/libp2p";
 * const transport = websocket({ connectTimeoutMs: 5_000 });
 * transport.dialFilter([
 *   multiaddr("/dns4/example.com/tcp/443/wss/p2p/12D3KooWD3eckifWpRn9wQpMG9R9hX3sD158z7EqHWmweQAJU5SA"),
 *   multiaddr("/ip4/192.0.2.1/tcp/4001"),
 * ]).length; // 1
 * ```
 */
export function websocket(options: WebSocketOptions = {}): WebSocketTransport {
  const resolved = resolveWebSocketOptions(options);
  const mounted = resolved.mount ? createMount(resolved) : undefined;
  const transport: WebSocketTransport = {
    name: "websocket",
    dial(addr: Multiaddr, dialOptions?: AbortOptions): Promise<RawConnection> {
      return dialWebSocket(addr, resolved, dialOptions);
    },
    createListener(init: ListenerInit): Listener {
      if (mounted !== undefined) return mounted.createListener(init);
      return createListenerFor(webSocketServerKind(), init, resolved);
    },
    listenFilter(addrs: readonly Multiaddr[]): Multiaddr[] {
      return addrs.filter(isListenableWebSocketAddr);
    },
    dialFilter(addrs: readonly Multiaddr[]): Multiaddr[] {
      return addrs.filter((a) => parseWebSocketAddr(a) !== undefined);
    },
  };
  return mounted === undefined ? transport : { ...transport, mount: mounted.mount };
}
