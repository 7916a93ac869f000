/**
 * A js-libp2p node with `@libp2p/gossipsub` 17.1.1 and `@libp2p/pubsub-peer-discovery` 12.0.0
 * (announcing every second) run as a separate Deno process: the js half of the pubsub peer
 * discovery interop. Commands on stdin (JSON lines, answered with the same `id`):
 *
 *   {"op":"dial","addr":"<multiaddr>"}   connect
 *   {"op":"discovered"}                  [{id, addrs}] from the node's `peer:discovery` events
 *
 * The first line is {"event":"listening","peerId","addrs"}; it exits when stdin closes.
 */

import { createLibp2p } from "libp2p";
import { tcp } from "@libp2p/tcp";
import { noise } from "@chainsafe/libp2p-noise";
import { yamux } from "@chainsafe/libp2p-yamux";
import { identify } from "@libp2p/identify";
import { gossipsub } from "@libp2p/gossipsub";
import { pubsubPeerDiscovery } from "@libp2p/pubsub-peer-discovery";
import { multiaddr } from "@multiformats/multiaddr";
import { serveJsonCommands } from "./json_commands.ts";

const node = await createLibp2p({
  addresses: { listen: ["/ip4/127.0.0.1/tcp/0"] },
  transports: [tcp()],
  connectionEncrypters: [noise()],
  streamMuxers: [yamux()],
  connectionManager: { inboundConnectionThreshold: 10_000 },
  peerDiscovery: [pubsubPeerDiscovery({ interval: 1000 })],
  services: {
    identify: identify(),
    pubsub: gossipsub({
      allowPublishToZeroTopicPeers: true,
      // Every peer of the test is on 127.0.0.1 (wave-2 research §2.2 "loopback test trap").
      scoreParams: { IPColocationFactorWhitelist: new Set(["127.0.0.1"]) },
    }),
  },
});

// Every address a peer:discovery event named, per peer (js also reports some peers without
// addresses, e.g. from identify).
const discovered = new Map<string, Set<string>>();
node.addEventListener("peer:discovery", (e) => {
  const addrs = discovered.get(e.detail.id.toString()) ?? new Set<string>();
  for (const a of e.detail.multiaddrs) addrs.add(a.toString());
  discovered.set(e.detail.id.toString(), addrs);
});

serveJsonCommands(
  { peerId: node.peerId.toString(), addrs: () => node.getMultiaddrs().map(String) },
  async (cmd) => {
    switch (cmd.op) {
      case "dial":
        await node.dial(multiaddr(String(cmd.addr)), { signal: AbortSignal.timeout(30_000) });
        return null;
      case "discovered":
        return [...discovered].map(([id, addrs]) => ({ id, addrs: [...addrs] }));
      default:
        throw new Error(`unknown op ${String(cmd.op)}`);
    }
  },
  () => node.stop(),
);
