/**
 * A js-libp2p node for the edge node test (tests/edge/edge_node_test.ts), run as a separate Deno
 * process: `@libp2p/kad-dht` 16.4.5 in server mode (loopback addresses kept with
 * `passthroughMapper`), the `@libp2p/circuit-relay-v2` 4.2.13 client transport, identify, ping and
 * echo. Argument 1, when given, is a relay address: the node then also listens on
 * `<relay>/p2p-circuit`. Commands on stdin, one JSON object a line, answered with the same `id`:
 *
 *   {"op":"addrs"}                         our addresses
 *   {"op":"dial","addr":"<multiaddr>"}     connect (the DHT learns the peer through identify)
 *   {"op":"findPeer","peer":"<id>"}        a DHT lookup (never from the local cache)
 *   {"op":"table"}                         the DHT routing table's size
 *   {"op":"ping","addr":"<multiaddr>"}     {rtt, relayed}
 *   {"op":"echo","addr":"<multiaddr>","hex":"…"}
 *
 * The first line is {"event":"listening","peerId","addrs"}; it exits when stdin closes.
 */

import process from "node:process";
import { createLibp2p } from "libp2p";
import { tcp } from "@libp2p/tcp";
import { noise } from "@chainsafe/libp2p-noise";
import { yamux } from "@chainsafe/libp2p-yamux";
import { identify } from "@libp2p/identify";
import { ping } from "@libp2p/ping";
import { echo } from "@libp2p/echo";
import { kadDHT, passthroughMapper } from "@libp2p/kad-dht";
import { circuitRelayTransport } from "@libp2p/circuit-relay-v2";
import { peerIdFromString } from "@libp2p/peer-id";
import { multiaddr } from "@multiformats/multiaddr";
import { serveJsonCommands } from "../interop/json_commands.ts";

const fromHex = (s: string): Uint8Array =>
  new Uint8Array(s.match(/../g)?.map((b) => parseInt(b, 16)) ?? []);
const toHex = (b: Uint8Array): string =>
  Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");

const relay = process.argv[2];
const listen = ["/ip4/127.0.0.1/tcp/0"];
if (relay !== undefined && relay !== "") listen.push(`${relay}/p2p-circuit`);

const node = await createLibp2p({
  addresses: { listen },
  transports: [tcp(), circuitRelayTransport()],
  connectionEncrypters: [noise()],
  streamMuxers: [yamux()],
  connectionManager: { inboundConnectionThreshold: 10_000 },
  services: {
    identify: identify(),
    ping: ping(),
    echo: echo({ runOnLimitedConnection: true }),
    dht: kadDHT({
      clientMode: false,
      peerInfoMapper: passthroughMapper,
    }),
  },
});

serveJsonCommands(
  { peerId: node.peerId.toString(), addrs: () => node.getMultiaddrs().map(String) },
  async (cmd) => {
    const signal = AbortSignal.timeout(Number(cmd.timeoutMs ?? 30_000));
    switch (cmd.op) {
      case "addrs":
        return node.getMultiaddrs().map((a) => a.toString());
      case "dial":
        await node.dial(multiaddr(String(cmd.addr)), { signal });
        return null;
      case "findPeer": {
        const info = await node.peerRouting.findPeer(peerIdFromString(String(cmd.peer)), {
          signal,
          useCache: false,
        });
        return info.multiaddrs.map((a) => a.toString());
      }
      case "table": {
        // deno-lint-ignore no-explicit-any
        const dht = node.services.dht as any;
        return dht.routingTable?.size ?? -1;
      }
      case "ping": {
        const target = multiaddr(String(cmd.addr));
        const rtt = await node.services.ping.ping(target, { signal });
        const relayed = node.getConnections().some((c) =>
          c.remoteAddr.toString().includes("/p2p-circuit")
        );
        return { rtt, relayed };
      }
      case "echo": {
        const out = await node.services.echo.echo(
          multiaddr(String(cmd.addr)),
          fromHex(String(cmd.hex)),
          { signal, runOnLimitedConnection: true },
        );
        return toHex(out.subarray());
      }
      default:
        throw new Error(`unknown op ${String(cmd.op)}`);
    }
  },
  () => node.stop(),
);
