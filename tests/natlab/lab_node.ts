/**
 * The NAT lab's driver for OUR node (run by Deno or Bun inside a lab namespace):
 *
 *   lab_node.ts --role relay|client [--listen <multiaddr>]... [--key <hex protobuf key>]
 *
 * `relay` serves circuit relay v2 with no default limit (the lab moves 10 MiB through a circuit)
 * and puts every listening address in reservations (the lab's public side uses documentation
 * addresses, which the default filter treats as non-public); `client` has the relay client
 * transport, so a `<relay>/p2p-circuit` listen address reserves on that relay. Both serve
 * `/echo/1.0.0` (also on limited connections) and ping.
 *
 * Commands on stdin, one JSON object a line, answered {"id":n,"ok":true,"result":…} or
 * {"id":n,"ok":false,"error":"…"}:
 *   {"op":"echo","addr":"<multiaddr>","size":N}  dial, echo N bytes, compare;
 *                                               result {ms, limited, remoteAddr}
 *   {"op":"connect","addr":"<multiaddr>"}       dial only; result {limited, remoteAddr}
 *   {"op":"ping","addr":"<multiaddr>"[,"timeoutMs":N]}  result: round trip, ms (dial included)
 *   {"op":"conns"}                              result [{peer, remoteAddr, limited, direction}]
 *   {"op":"stats"}                              the relay server's stats (relay role)
 * Events: {"event":"listening","peerId":…,"addrs":[…]} first, then {"event":"addrs","addrs":[…]}
 * whenever our addresses change (a reservation made or lost). Exits when stdin closes.
 */

import process from "node:process";
import { createNode, type Libp2pNode, type NodeInit } from "../../src/node/node.ts";
import { privateKeyFromProtobuf } from "../../src/keys/mod.ts";
import { multiaddr } from "../../src/multiaddr/mod.ts";
import { tcp } from "../../transports/tcp/mod.ts";
import { circuitRelayTransport } from "../../transports/circuit-relay/mod.ts";
import { noise } from "../../protocols/noise/mod.ts";
import { yamux } from "../../protocols/yamux/mod.ts";
import { identify } from "../../protocols/identify/mod.ts";
import { ping, type PingService } from "../../protocols/ping/mod.ts";
import { ECHO_PROTOCOL_ID } from "../../protocols/echo/mod.ts";
import { type CircuitRelayServer, circuitRelayServer } from "../../protocols/circuit-relay/mod.ts";
import { echoOver, flags, onCommands, report } from "./lab_driver.ts";

const args = flags(process.argv.slice(2));
const role = args.get("role")?.[0] ?? "client";
const key = args.get("key")?.[0];

type Services = { ping: PingService; relay?: CircuitRelayServer };

const node: Libp2pNode<Services> = await createNode<Services>({
  privateKey: key === undefined ? undefined : privateKeyFromProtobuf(
    new Uint8Array(key.match(/../g)!.map((b) => parseInt(b, 16))),
  ),
  transports: role === "relay" ? [tcp()] : [tcp(), circuitRelayTransport()],
  connectionEncrypters: [noise()],
  streamMuxers: [yamux()],
  listen: args.get("listen") ?? [],
  services: {
    identify: identify(),
    ping: ping(),
    ...(role === "relay"
      ? {
        relay: circuitRelayServer({
          reservations: { applyDefaultLimit: false, addressFilter: () => true },
        }),
      }
      : {}),
  },
} as NodeInit<Services>);

node.handle(ECHO_PROTOCOL_ID, (s) => s.readable.pipeTo(s.writable).catch(() => {}), {
  runOnLimitedConnection: true,
});

const addrs = (): string[] => node.getMultiaddrs().map((a) => a.toString());
report({ event: "listening", peerId: node.peerId.toString(), addrs: addrs() });
let last = JSON.stringify(addrs());
// Address changes (reservations made or lost) are reported; polled, the lab is not a hot path.
const watch = setInterval(() => {
  const now = JSON.stringify(addrs());
  if (now === last) return;
  last = now;
  report({ event: "addrs", addrs: addrs() });
}, 50);

await onCommands(async (cmd) => {
  switch (cmd.op) {
    case "echo": {
      const conn = await node.dial(multiaddr(String(cmd.addr)));
      const stream = await conn.newStream(ECHO_PROTOCOL_ID, { runOnLimitedConnection: true });
      const ms = await echoOver(stream, Number(cmd.size));
      return { ms, limited: conn.limited, remoteAddr: conn.remoteAddr.toString() };
    }
    case "connect": {
      const conn = await node.dial(multiaddr(String(cmd.addr)));
      return { limited: conn.limited, remoteAddr: conn.remoteAddr.toString() };
    }
    case "ping":
      return await node.services.ping.ping(multiaddr(String(cmd.addr)), {
        signal: AbortSignal.timeout(Number(cmd.timeoutMs ?? 30_000)),
      });
    case "conns":
      return node.getConnections().map((c) => ({
        peer: c.remotePeer.toString(),
        remoteAddr: c.remoteAddr.toString(),
        limited: c.limited,
        direction: c.direction,
      }));
    case "stats":
      return node.services.relay?.stats() ?? null;
    default:
      throw new Error(`unknown op ${String(cmd.op)}`);
  }
});
clearInterval(watch);
await node.stop();
process.exit(0);
