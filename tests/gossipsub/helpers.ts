/**
 * Test harness for the gossipsub router: a recording sink, a fake PeerScoreApi whose scores the
 * test sets, and message builders.
 */

import { GossipsubRouter, type GossipsubRouterOptions } from "../../protocols/gossipsub/router.ts";
import type {
  IncomingMessage,
  PeerScoreApi,
  PubsubMessage,
  Rpc,
} from "../../protocols/pubsub/types.ts";

export const V10 = "/meshsub/1.0.0";
export const V11 = "/meshsub/1.1.0";
export const V12 = "/meshsub/1.2.0";
export const FLOOD = "/floodsub/1.0.0";

/** A PeerScoreApi whose scores are set by the test; records penalties and calls. */
export class FakeScore implements PeerScoreApi {
  readonly scores = new Map<string, number>();
  readonly penalties: { peer: string; count: number; reason: string }[] = [];
  readonly calls: string[] = [];
  addPeer(peer: string): void {
    this.calls.push(`addPeer ${peer}`);
  }
  removePeer(peer: string): void {
    this.calls.push(`removePeer ${peer}`);
  }
  graft(peer: string, topic: string): void {
    this.calls.push(`graft ${peer} ${topic}`);
  }
  prune(peer: string, topic: string): void {
    this.calls.push(`prune ${peer} ${topic}`);
  }
  validateMessage(): void {}
  deliverMessage(peer: string): void {
    this.calls.push(`deliver ${peer}`);
  }
  rejectMessage(peer: string, _id: string, _t: string, reason: string): void {
    this.calls.push(`reject ${peer} ${reason}`);
  }
  duplicateMessage(peer: string): void {
    this.calls.push(`duplicate ${peer}`);
  }
  addPenalty(peer: string, count: number, reason: string): void {
    this.penalties.push({ peer, count, reason });
  }
  score(peer: string): number {
    return this.scores.get(peer) ?? 0;
  }
  refresh(): void {}
  penaltyOf(peer: string): number {
    return this.penalties.filter((p) => p.peer === peer).reduce((a, p) => a + p.count, 0);
  }
}

/** Deterministic PRNG (mulberry32). */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A router with a recording sink. */
export class Harness {
  readonly router: GossipsubRouter;
  readonly sent: { peer: string; rpc: Rpc }[] = [];
  readonly delivered: IncomingMessage[] = [];
  readonly score: FakeScore | undefined;

  constructor(
    options: Omit<GossipsubRouterOptions, "sink"> & { withScore?: boolean } = {},
  ) {
    const { withScore, ...rest } = options;
    this.score = withScore ? new FakeScore() : undefined;
    this.router = new GossipsubRouter({
      random: prng(1),
      ...(this.score === undefined ? {} : { score: this.score }),
      ...rest,
      sink: {
        send: (peer, rpc) => this.sent.push({ peer, rpc }),
        deliver: (m) => this.delivered.push(m),
      },
    });
  }

  /** Forget what was sent so far. */
  clear(): void {
    this.sent.length = 0;
  }

  /** RPCs sent to a peer. */
  to(peer: string): Rpc[] {
    return this.sent.filter((s) => s.peer === peer).map((s) => s.rpc);
  }

  grafts(peer: string): string[] {
    return this.to(peer).flatMap((r) => r.control?.graft.map((g) => g.topic) ?? []);
  }

  prunes(peer: string): { topic: string; backoff?: number; peers: { peerId: Uint8Array }[] }[] {
    return this.to(peer).flatMap((r) => r.control?.prune ?? []);
  }

  messagesTo(peer: string): PubsubMessage[] {
    return this.to(peer).flatMap((r) => r.messages);
  }

  /** Add `n` peers named `${prefix}${i}` subscribed to `topic`. */
  addPeers(
    n: number,
    topic: string,
    now = 0,
    opts: { prefix?: string; protocol?: string; direction?: "inbound" | "outbound" } = {},
  ): string[] {
    const ids: string[] = [];
    for (let i = 0; i < n; i++) {
      const id = `${opts.prefix ?? "p"}${i}`;
      this.router.addPeer(id, opts.protocol ?? V12, {
        direction: opts.direction ?? "outbound",
      }, now);
      this.router.handleRpc(id, sub(topic), now);
      ids.push(id);
    }
    return ids;
  }
}

/** An RPC subscribing to topics. */
export function sub(...topics: string[]): Rpc {
  return { subscriptions: topics.map((topic) => ({ topic, subscribe: true })), messages: [] };
}

/** An RPC with only control messages. */
export function ctl(control: Partial<NonNullable<Rpc["control"]>>): Rpc {
  return {
    subscriptions: [],
    messages: [],
    control: { ihave: [], iwant: [], graft: [], prune: [], idontwant: [], ...control },
  };
}

let seq = 0;
/** A message from author `from` with a fresh seqno and `size` data bytes. */
export function msg(topic: string, size = 8, author = 7): PubsubMessage {
  const seqno = new Uint8Array(8);
  new DataView(seqno.buffer).setUint32(4, ++seq);
  return { topic, from: new Uint8Array([author]), seqno, data: new Uint8Array(size) };
}

/** The default id of a message built by {@link msg}. */
export function idOf(m: PubsubMessage): Uint8Array {
  const id = new Uint8Array(m.from!.length + m.seqno!.length);
  id.set(m.from!);
  id.set(m.seqno!, m.from!.length);
  return id;
}
