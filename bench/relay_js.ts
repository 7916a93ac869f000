/**
 * js-libp2p's circuit relay v2 server (`@libp2p/circuit-relay-v2` 4.2.13, `circuitRelayServer`)
 * alone in a process, for bench/relay_bench.ts, with the same limits as bench/relay_ours.ts
 * (bench/relay_limits.ts). js's defaults would cut a circuit at 128 KiB or 2 min; its
 * connection manager's defaults (300 connections, 5 inbound a second per host, 10 pending) are
 * raised too, as our node's per-IP limits are lifted for loopback.
 *
 *   deno run -A --v8-flags=--expose-gc bench/relay_js.ts
 *
 * Commands (bench/relay_proc.ts): `stats` (memory, CPU; `gc: true` collects first) and
 * `relay` (reservations held).
 *
 * @module
 */

import { createLibp2p } from "libp2p";
import { tcp } from "@libp2p/tcp";
import { noise } from "@chainsafe/libp2p-noise";
import { yamux } from "@chainsafe/libp2p-yamux";
import { identify } from "@libp2p/identify";
import { circuitRelayServer } from "@libp2p/circuit-relay-v2";
import { serveCommands } from "./relay_proc.ts";
import { RELAY_LIMITS } from "./relay_limits.ts";

const L = RELAY_LIMITS;
const node = await createLibp2p({
  addresses: { listen: ["/ip4/127.0.0.1/tcp/0"] },
  transports: [tcp()],
  connectionEncrypters: [noise()],
  streamMuxers: [yamux()],
  connectionManager: {
    maxConnections: L.maxConnections,
    inboundConnectionThreshold: 100_000,
    maxIncomingPendingConnections: 1024,
  },
  services: {
    identify: identify(),
    relay: circuitRelayServer({
      reservations: {
        maxReservations: L.maxReservations,
        applyDefaultLimit: true,
        // js sends Limit.duration in ms (the spec says seconds); we pass ms as js expects.
        defaultDurationLimit: L.durationMs,
        defaultDataLimit: L.dataBytes,
      },
      maxInboundHopStreams: L.maxInboundHopStreams,
      maxOutboundStopStreams: L.maxOutboundStopStreams,
    }),
  },
});

serveCommands(
  {
    impl: "js",
    peerId: node.peerId.toString(),
    addrs: node.getMultiaddrs().map((a) => a.toString()),
  },
  (cmd) => {
    // deno-lint-ignore no-explicit-any
    const relay = (node.services as any).relay;
    if (cmd.op === "relay") {
      return Promise.resolve({ reservations: relay?.reservations?.size ?? -1 });
    }
    return Promise.reject(new Error(`unknown op ${String(cmd.op)}`));
  },
  () => Promise.resolve(node.stop()),
);
