/**
 * The transport conformance suite over WebSocket on loopback: the Deno listener under
 * `deno test`, the Bun listener under `bun test`; the default dialler (our client on Deno, the
 * standard WebSocket on Bun), then the other one.
 * WebSocket has no half-close (one closing handshake for both directions), hence
 * `halfClose: false`.
 */

import { multiaddr } from "../../src/multiaddr/mod.ts";
import type { Transport } from "../../src/transport.ts";
import { parseWebSocketAddr } from "../../transports/websocket/address.ts";
import { dialWebSocketClient } from "../../transports/websocket/client.ts";
import { websocket } from "../../transports/websocket/mod.ts";
import { resolveWebSocketOptions } from "../../transports/websocket/options.ts";
import { runTransportSuite } from "../conformance/transport_suite.ts";

runTransportSuite(
  "websocket ip4",
  () => ({ transport: websocket(), listenAddr: multiaddr("/ip4/127.0.0.1/tcp/0/ws") }),
  { halfClose: false },
);

runTransportSuite(
  "websocket ip6",
  () => ({ transport: websocket(), listenAddr: multiaddr("/ip6/::1/tcp/0/ws") }),
  { halfClose: false },
);

// The other dialler on each runtime: on Deno the default is our own client (client.ts), so the
// standard WebSocket runs here through `createWebSocket`; on Bun the default is the standard
// WebSocket, so our client runs here against Bun's listener.
const isBun = "Bun" in globalThis;
runTransportSuite(
  isBun ? "websocket ip4, our client" : "websocket ip4, standard WebSocket dialler",
  () => {
    const base = isBun ? websocket() : websocket({ createWebSocket: (url) => new WebSocket(url) });
    const transport: Transport = isBun
      ? {
        ...base,
        dial: (addr, options) =>
          dialWebSocketClient(addr, parseWebSocketAddr(addr)!, resolveWebSocketOptions(), options),
      }
      : base;
    return { transport, listenAddr: multiaddr("/ip4/127.0.0.1/tcp/0/ws") };
  },
  { halfClose: false },
);
