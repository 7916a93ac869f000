/**
 * The transport conformance suite over WebSocket on loopback: the Deno listener under
 * `deno test`, the Bun listener under `bun test`, the standard WebSocket dialler on both.
 * WebSocket has no half-close (one closing handshake for both directions), hence
 * `halfClose: false`.
 */

import { multiaddr } from "../../src/multiaddr/mod.ts";
import { websocket } from "../../transports/websocket/mod.ts";
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
