/**
 * Our circuit relay v2 server (protocols/circuit-relay, `circuitRelayServer`) alone in a
 * process, for bench/relay_bench.ts. Limits are raised to the same values as bench/relay_js.ts:
 * reservations and circuits far above what the bench opens, and a circuit limit (1 h, 1 TiB per
 * direction) that no transfer reaches, so both relays still count every relayed byte.
 *
 *   deno run -A --v8-flags=--expose-gc bench/relay_ours.ts
 *
 * Commands (bench/relay_proc.ts): `stats` (memory, CPU; `gc: true` collects first) and
 * `relay` (the service's counters).
 *
 * @module
 */

import { createNode } from "../src/node/node.ts";
import { tcp } from "../transports/tcp/mod.ts";
import { noise } from "../protocols/noise/mod.ts";
import { yamux } from "../protocols/yamux/mod.ts";
import { identify, type IdentifyService } from "../protocols/identify/mod.ts";
import { type CircuitRelayServer, circuitRelayServer } from "../protocols/circuit-relay/mod.ts";
import { serveCommands } from "./relay_proc.ts";
import { RELAY_LIMITS } from "./relay_limits.ts";

const L = RELAY_LIMITS;
const node = await createNode<{ identify: IdentifyService; relay: CircuitRelayServer }>({
  transports: [tcp()],
  connectionEncrypters: [noise()],
  streamMuxers: [yamux()],
  listen: ["/ip4/127.0.0.1/tcp/0"],
  // Every bench client comes from loopback: per-IP connection limits off, as js's are.
  connectionManager: { maxConnections: L.maxConnections, allowList: ["127.0.0.0/8"] },
  services: {
    identify: identify(),
    relay: circuitRelayServer({
      reservations: {
        maxReservations: L.maxReservations,
        maxReservationsPerBlock: L.maxReservations,
        peerRate: { burst: L.maxReservations, perHour: 1e9 },
        blockRate: { burst: L.maxReservations, perHour: 1e9 },
        defaultDurationLimit: L.durationMs,
        defaultDataLimit: L.dataBytes,
        maxCircuits: L.maxCircuits,
        maxCircuitsPerPeer: L.maxCircuits,
        addressFilter: () => true,
      },
      maxInboundHopStreams: L.maxInboundHopStreams,
      maxOutboundStopStreams: L.maxOutboundStopStreams,
    }),
  },
});

serveCommands(
  { impl: "ours", peerId: node.peerId.toString(), addrs: node.addrs().map(String) },
  (cmd) => {
    if (cmd.op === "relay") return Promise.resolve(node.services.relay.stats());
    return Promise.reject(new Error(`unknown op ${String(cmd.op)}`));
  },
  () => node.stop(),
);
