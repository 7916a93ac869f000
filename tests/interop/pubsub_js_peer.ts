/**
 * A js-libp2p node with `@libp2p/floodsub` 11.0.28 or `@libp2p/gossipsub` 17.1.1 (first
 * argument: "floodsub" or "gossipsub") run as a separate Deno process: the js half of the
 * pubsub interop networks. It listens on loopback TCP and takes commands on stdin, one JSON
 * object a line, answering each on stdout with the same `id`:
 *
 *   {"id":1,"op":"dial","addr":"/ip4/127.0.0.1/tcp/…/p2p/…"}     -> {"id":1,"ok":true}
 *   {"id":2,"op":"subscribe","topic":"t"}                       -> {"id":2,"ok":true}
 *   {"id":3,"op":"publish","topic":"t","data":"text"}          -> {"id":3,"ok":true,"result":n}
 *   {"id":4,"op":"subscribers","topic":"t"}                     -> {"id":4,"ok":true,"result":["12D3…"]}
 *   {"id":5,"op":"mesh","topic":"t"}                            -> {"id":5,"ok":true,"result":["12D3…"]}
 *   {"id":6,"op":"score","peer":"12D3…"}                        -> {"id":6,"ok":true,"result":-12.5}
 *   {"id":7,"op":"idontwants","peer":"12D3…"}                   -> {"id":7,"ok":true,"result":n}
 *   {"id":8,"op":"validator","topic":"t","reject":"bad"}        -> {"id":8,"ok":true}
 *   {"id":9,"op":"writable"}                                    -> {"id":9,"ok":true,"result":["12D3…"]}
 *
 * Every accepted message is reported as
 * {"event":"message","topic":…,"data":…(UTF-8),"from":…,"seqno":"…"}. The first line is
 * {"event":"listening","peerId":"…","addrs":[…]}. It exits when stdin closes.
 *
 * All peers share 127.0.0.1, so gossipsub's IP colocation penalty is whitelisted for it
 * (wave-2 research §2.2 "loopback test trap").
 */

import process from "node:process";
import { createLibp2p } from "libp2p";
import { tcp } from "@libp2p/tcp";
import { noise } from "@chainsafe/libp2p-noise";
import { yamux } from "@chainsafe/libp2p-yamux";
import { identify } from "@libp2p/identify";
import { floodsub } from "@libp2p/floodsub";
import { gossipsub } from "@libp2p/gossipsub";
import { multiaddr } from "@multiformats/multiaddr";
import { reportLine as report, serveJsonCommands } from "./json_commands.ts";

const kind = process.argv[2] === "floodsub" ? "floodsub" : "gossipsub";

const fromId = (from: Uint8Array, seqno: Uint8Array): Uint8Array => {
  const out = new Uint8Array(from.length + seqno.length);
  out.set(from, 0);
  out.set(seqno, from.length);
  return out;
};

const pubsub = kind === "floodsub" ? floodsub() : gossipsub({
  allowPublishToZeroTopicPeers: true,
  // go-compatible ids (from ‖ seqno bytes), the same as ours (research §2.2).
  msgIdFn: (msg) => {
    const m = msg as unknown as {
      type: string;
      from?: { toMultihash(): { bytes: Uint8Array } };
      sequenceNumber?: bigint;
      data: Uint8Array;
    };
    if (m.type !== "signed" || m.from === undefined || m.sequenceNumber === undefined) {
      return m.data;
    }
    const seq = new Uint8Array(8);
    new DataView(seq.buffer).setBigUint64(0, m.sequenceNumber);
    return fromId(m.from.toMultihash().bytes, seq);
  },
  scoreParams: {
    IPColocationFactorWhitelist: new Set(["127.0.0.1"]),
    // The interop topic is scored only for invalid messages (P4), so the test can watch a
    // sender's score fall; the delivery terms (P1-P3) stay out of a short test's way.
    topics: {
      "interop-gossipsub": {
        topicWeight: 1,
        timeInMeshWeight: 0,
        firstMessageDeliveriesWeight: 0,
        meshMessageDeliveriesWeight: 0,
        meshFailurePenaltyWeight: 0,
        invalidMessageDeliveriesWeight: -10,
        invalidMessageDeliveriesDecay: 0.9,
      },
      // js fills the other topic parameters from its defaults (createTopicScoreParams).
    } as never,
  },
  // Every message of the tests is "large" for IDONTWANT when it is >= 64 bytes.
  idontwantMinDataSize: 64,
});

const node = await createLibp2p({
  addresses: { listen: ["/ip4/127.0.0.1/tcp/0"] },
  transports: [tcp()],
  connectionEncrypters: [noise()],
  streamMuxers: [yamux()],
  connectionManager: { inboundConnectionThreshold: 10_000, maxIncomingPendingConnections: 256 },
  services: { identify: identify(), pubsub },
});

// deno-lint-ignore no-explicit-any
const ps = node.services.pubsub as any;

ps.addEventListener("message", (e: CustomEvent) => {
  const m = e.detail as {
    topic: string;
    data: Uint8Array;
    from?: { toString(): string };
    sequenceNumber?: bigint;
  };
  report({
    event: "message",
    topic: m.topic,
    data: new TextDecoder().decode(m.data),
    from: m.from?.toString(),
    seqno: m.sequenceNumber?.toString(),
  });
});

const rejects = new Map<string, string>();

async function run(cmd: Record<string, unknown>): Promise<unknown> {
  const signal = AbortSignal.timeout(Number(cmd.timeoutMs ?? 30_000));
  switch (cmd.op) {
    case "dial":
      await node.dial(multiaddr(String(cmd.addr)), { signal });
      return null;
    case "subscribe":
      ps.subscribe(String(cmd.topic));
      return null;
    case "publish": {
      const text = String(cmd.data) + (cmd.pad !== undefined ? "~".repeat(Number(cmd.pad)) : "");
      const r = await ps.publish(String(cmd.topic), new TextEncoder().encode(text));
      return r?.recipients?.length ?? 0;
    }
    case "subscribers":
      return ps.getSubscribers(String(cmd.topic)).map((p: { toString(): string }) => p.toString());
    case "mesh":
      return kind === "gossipsub"
        ? ps.getMeshPeers(String(cmd.topic)).map((p: unknown) => String(p))
        : [];
    case "writable": {
      // Peers js can send to now: its outbound stream to them is attached. (js records a
      // peer's subscriptions from the inbound stream, maybe before that; sends are then
      // silently skipped.)
      if (kind === "gossipsub") return [...ps.streamsOutbound.keys()].map(String);
      return [...ps.peers.entries()].filter(([, s]) => s.outboundPb != null).map(([id]) =>
        String(id)
      );
    }
    case "peers":
      return ps.getPeers().map((p: { toString(): string }) => p.toString());
    case "score":
      return kind === "gossipsub" ? ps.getScore(String(cmd.peer)) : 0;
    case "idontwants": {
      const map = ps.idontwants?.get(String(cmd.peer));
      return map?.size ?? 0;
    }
    case "validator": {
      const topic = String(cmd.topic);
      rejects.set(topic, String(cmd.reject));
      ps.topicValidators.set(
        topic,
        (_peer: unknown, msg: { data: Uint8Array }) =>
          new TextDecoder().decode(msg.data).startsWith(rejects.get(topic)!) ? "reject" : "accept",
      );
      return null;
    }
    default:
      throw new Error(`unknown op ${String(cmd.op)}`);
  }
}

serveJsonCommands(
  { peerId: node.peerId.toString(), addrs: () => node.getMultiaddrs().map(String) },
  run,
  () => node.stop(),
);
