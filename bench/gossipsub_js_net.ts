/**
 * The js half of bench/gossipsub_bench.ts: N js-libp2p nodes with `@libp2p/gossipsub` 17.1.1
 * in this one Deno process, over loopback TCP with Noise and Yamux, driven through the phases
 * of bench/gossipsub_scenario.ts. Prints one JSON line (`GsRunOutput`). Mirrors
 * bench/gossipsub_ours_net.ts step for step.
 *
 *   deno run -A bench/gossipsub_js_net.ts '<GsParams JSON>'
 *
 * @module
 */

// deno-lint-ignore-file no-explicit-any
import process from "node:process";
import { createLibp2p } from "libp2p";
import { tcp } from "@libp2p/tcp";
import { noise } from "@chainsafe/libp2p-noise";
import { yamux } from "@chainsafe/libp2p-yamux";
import { identify } from "@libp2p/identify";
import { gossipsub } from "@libp2p/gossipsub";
import { generateKeyPairFromSeed } from "@libp2p/crypto/keys";
import { multiaddr } from "@multiformats/multiaddr";
import { type BenchNode, drive, type GsParams, keySeeds } from "./gossipsub_scenario.ts";

const params = JSON.parse(process.argv[2] ?? process.argv.at(-1)!) as GsParams;
const seeds = keySeeds(params);

/** go's message id, `from ‖ seqno` (8 bytes big-endian): js's default hashes differently. */
function goMsgId(msg: any): Uint8Array {
  if (msg.type !== "signed") return msg.data;
  const from: Uint8Array = msg.from.toMultihash().bytes;
  const out = new Uint8Array(from.length + 8);
  out.set(from, 0);
  new DataView(out.buffer).setBigUint64(from.length, msg.sequenceNumber);
  return out;
}

const t0 = performance.now();
const nodes: BenchNode[] = [];
for (let i = 0; i < params.nodes; i++) {
  const privateKey = await generateKeyPairFromSeed("Ed25519", seeds[i]);
  const node: any = await createLibp2p({
    privateKey,
    addresses: { listen: ["/ip4/127.0.0.1/tcp/0"] },
    transports: [tcp()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    connectionManager: { inboundConnectionThreshold: 10_000, maxIncomingPendingConnections: 256 },
    services: {
      identify: identify(),
      pubsub: gossipsub({
        // StrictSign is js's default too.
        globalSignaturePolicy: "StrictSign",
        msgIdFn: goMsgId as any,
        D: params.D,
        Dlo: params.Dlo,
        Dhi: params.Dhi,
        heartbeatInterval: params.heartbeatMs,
        idontwantMinDataSize: params.idontwantMinDataSize,
        scoreParams: { IPColocationFactorWhitelist: new Set(["127.0.0.1"]) },
      }),
    },
  });
  const ps = node.services.pubsub;
  nodes.push({
    peerId: node.peerId.toString(),
    addr: node.getMultiaddrs()[0].toString(),
    dial: async (addr) => void await node.dial(multiaddr(addr)),
    subscribe: (topic) => ps.subscribe(topic),
    publish: async (topic, data) => void await ps.publish(topic, data),
    onMessage: (cb) => ps.addEventListener("message", (e: any) => cb(e.detail.data)),
    meshSize: (topic) => ps.getMeshPeers(topic).length,
    subscriberCount: (topic) => ps.getSubscribers(topic).length,
    // js records subscriptions from a peer's inbound stream, possibly before its own outbound
    // stream is attached, and skips sends until then.
    writableCount: () => ps.streamsOutbound.size,
    stop: () => node.stop(),
  });
}

const out = await drive(params, nodes, "js", "deno", t0);
await Promise.all(nodes.map((n) => n.stop().catch(() => {})));
process.stdout.write(JSON.stringify(out) + "\n");
process.exit(0);
