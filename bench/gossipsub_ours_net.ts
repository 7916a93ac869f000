/**
 * Our half of bench/gossipsub_bench.ts: N of our nodes with `gossipsub()` in this one process
 * (Deno or Bun), over loopback TCP with Noise and Yamux, driven through the phases of
 * bench/gossipsub_scenario.ts. Prints one JSON line (`GsRunOutput`). Mirrors
 * bench/gossipsub_js_net.ts step for step.
 *
 *   deno run -A bench/gossipsub_ours_net.ts '<GsParams JSON>'
 *
 * @module
 */

import process from "node:process";
import { generateKeyPairFromSeed } from "../src/keys/mod.ts";
import { createNode, type Libp2pNode } from "../src/node/node.ts";
import { identify, type IdentifyService } from "../protocols/identify/mod.ts";
import { noise } from "../protocols/noise/mod.ts";
import { yamux } from "../protocols/yamux/mod.ts";
import { tcp } from "../transports/tcp/mod.ts";
import { gossipsub, type GossipsubService } from "../protocols/gossipsub/mod.ts";
import { type BenchNode, drive, type GsParams, keySeeds } from "./gossipsub_scenario.ts";

type S = { identify: IdentifyService; pubsub: GossipsubService };

const params = JSON.parse(process.argv[2] ?? process.argv.at(-1)!) as GsParams;
const seeds = keySeeds(params);
const runtime = "Bun" in globalThis ? "bun" : "deno";

const t0 = performance.now();
const nodes: BenchNode[] = [];
for (let i = 0; i < params.nodes; i++) {
  const node: Libp2pNode<S> = await createNode<S>({
    privateKey: generateKeyPairFromSeed("Ed25519", seeds[i]),
    transports: [tcp()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    listen: ["/ip4/127.0.0.1/tcp/0"],
    // Every node connects from 127.0.0.1: the per-IP inbound limits (meant for distinct
    // hosts) are lifted, as in the js half.
    connectionManager: {
      maxInboundPerIp: 1024,
      inboundRatePerIp: Infinity,
      inboundBurstPerIp: 1024,
    },
    services: {
      identify: identify(),
      pubsub: gossipsub({
        // StrictSign and go's `from ‖ seqno` message ids are our defaults.
        D: params.D,
        Dlo: params.Dlo,
        Dhi: params.Dhi,
        heartbeatIntervalMs: params.heartbeatMs,
        // js's IDONTWANT threshold (512 B; ours defaults to go's 1 KiB), so both send
        // IDONTWANT for the 1 KiB messages too.
        idontwantMinDataSize: params.idontwantMinDataSize,
        scoreParams: { IPColocationFactorWhitelist: ["127.0.0.1"] },
      }),
    },
  });
  const ps = node.services.pubsub;
  nodes.push({
    peerId: node.peerId.toString(),
    addr: node.addrs()[0].toString(),
    dial: async (addr) => void await node.dial(addr),
    subscribe: (topic) => ps.subscribe(topic),
    publish: async (topic, data) => void await ps.publish(topic, data),
    onMessage: (cb) => ps.addEventListener("message", (e) => cb(e.detail.data)),
    meshSize: (topic) => ps.getMeshPeers(topic).length,
    subscriberCount: (topic) => ps.getSubscribers(topic).length,
    // The router knows a peer once our outbound stream to it is open.
    writableCount: () => ps.getPeers().length,
    stop: () => node.stop(),
  });
}

const out = await drive(params, nodes, "ours", runtime, t0);
await Promise.all(nodes.map((n) => n.stop().catch(() => {})));
process.stdout.write(JSON.stringify(out) + "\n");
process.exit(0);
