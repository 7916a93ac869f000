/**
 * The NAT lab's driver for OUR node (run by Deno or Bun inside a lab namespace):
 *
 *   lab_node.ts --role relay|client [--listen <multiaddr>]... [--key <hex protobuf key>]
 *               [--limit on] [--dcutr <DcutrOptions as JSON>] [--autonat <AutoNATOptions as JSON>]
 *
 * `relay` serves circuit relay v2 with no default limit (the lab moves 10 MiB through a circuit)
 * and puts every listening address in reservations (the lab's public side uses documentation
 * addresses, which the default filter treats as non-public); `client` has the relay client
 * transport, so a `<relay>/p2p-circuit` listen address reserves on that relay. Both serve
 * `/echo/1.0.0` (also on limited connections) and ping. `--limit on` makes the relay apply its
 * default limit (relayed connections are limited, which is what DCUtR upgrades); `--dcutr` runs
 * the DCUtR service, reporting each upgrade it initiated as
 * {"event":"dcutr","peer":…,"ok":…,"method":…,"attempts":…,"rtts":[…],"reason":…}.
 *
 * Commands on stdin, one JSON object a line, answered {"id":n,"ok":true,"result":…} or
 * {"id":n,"ok":false,"error":"…"}:
 *   {"op":"echo","addr":"<multiaddr>","size":N[,"existing":true]}  dial (or, with existing, use
 *                                               the open connection), echo N bytes, compare;
 *                                               result {ms, limited, remoteAddr}
 *   {"op":"connect","addr":"<multiaddr>"}       dial only; result {limited, remoteAddr}
 *   {"op":"ping","addr":"<multiaddr>"[,"timeoutMs":N]}  result: round trip, ms (dial included)
 *   {"op":"conns"}                              result [{peer, remoteAddr, limited, direction}]
 *   {"op":"stats"}                              the relay server's stats (relay role)
 *   {"op":"dcutrStats"}                         the DCUtR service's stats (with --dcutr)
 *   {"op":"reachability"}                       the node's reachability (AutoNAT's verdict)
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
import { dcutr, type DcutrService } from "../../protocols/dcutr/mod.ts";
import { type AutoNAT, autoNAT } from "../../protocols/autonat/mod.ts";
import { echoOver, flags, onCommands, report } from "./lab_driver.ts";

const args = flags(process.argv.slice(2));
const role = args.get("role")?.[0] ?? "client";
const key = args.get("key")?.[0];

const dcutrJson = args.get("dcutr")?.[0];
const limit = args.get("limit")?.[0] === "on";
const autonatJson = args.get("autonat")?.[0];

type Services = {
  ping: PingService;
  relay?: CircuitRelayServer;
  dcutr?: DcutrService;
  autonat?: AutoNAT;
};

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
          reservations: { applyDefaultLimit: limit, addressFilter: () => true },
        }),
      }
      : {}),
    ...(autonatJson !== undefined ? { autonat: autoNAT(JSON.parse(autonatJson)) } : {}),
    ...(dcutrJson !== undefined
      ? {
        dcutr: dcutr({
          ...JSON.parse(dcutrJson),
          onUpgrade: (peer, r) =>
            report({
              event: "dcutr",
              peer: peer.toString(),
              ok: r.ok,
              method: r.method,
              attempts: r.attempts,
              rtts: r.rtts,
              reason: r.reason,
            }),
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
      // {"existing": true}: over the connection open to that peer (a limited one included), as
      // dial() looks for an unlimited connection when only a limited one is open.
      const target = String(cmd.addr).split("/p2p/").pop()!;
      const open = node.getConnections().find((c) => c.remotePeer.toString() === target);
      const conn = cmd.existing === true && open !== undefined
        ? open
        : await node.dial(multiaddr(String(cmd.addr)));
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
    case "reachability":
      return node.addressManager.reachability;
    case "dcutrStats":
      return node.services.dcutr?.stats() ?? null;
    default:
      throw new Error(`unknown op ${String(cmd.op)}`);
  }
});
clearInterval(watch);
await node.stop();
process.exit(0);
