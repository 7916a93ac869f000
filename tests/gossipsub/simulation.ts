/**
 * In-process simulation of a gossipsub network on a virtual clock: every node is a
 * protocols/gossipsub/router.ts router, every RPC is an event delivered after the link's latency,
 * heartbeats are events one interval apart. No sockets, no timers, no sleeps; deterministic for a
 * given seed. Attackers are routers with a filtered sink plus scripted per-heartbeat actions.
 *
 * Measures: delivery rate to honest subscribers, p50/p99 delivery latency, duplicate copies per
 * delivery, and bytes sent per delivered data byte (RPC sizes from {@link rpcBytes}).
 */

import { GossipsubRouter } from "../../protocols/gossipsub/router.ts";
import type { GossipsubParams } from "../../protocols/gossipsub/params.ts";
import type {
  IncomingMessage,
  PeerScoreApi,
  PubsubMessage,
  Rpc,
} from "../../protocols/pubsub/types.ts";
import { PeerScore } from "../../protocols/gossipsub/score.ts";
import { createPeerScoreParams } from "../../protocols/gossipsub/score_params.ts";
import { prng } from "./helpers.ts";
import { EventQueue, rpcBytes } from "./sim_support.ts";

/**
 * The real peer score for a simulated node: topic "sim" scored with P1, P2 and P4 (P3 off, as
 * its defaults; a 10 ms near-first window would penalise honest peers on 10-100 ms links).
 */
export function simPeerScore(): PeerScore {
  return new PeerScore(createPeerScoreParams({ topics: { sim: { topicWeight: 1 } } }));
}

/** The attacks the simulation can stage. */
export type Attack =
  | "none"
  | "sybil-silent"
  | "invalid-spam"
  | "ihave-flood"
  | "graft-backoff"
  | "sub-flood";

/** Parameters of a run. */
export interface GossipSimOptions {
  nodes: number;
  seed: number;
  /** Connections each node dials (the graph's mean degree is about twice this). */
  dials?: number;
  /** Messages published by random honest nodes after the warm-up. */
  messages?: number;
  /** Data bytes per message. */
  messageBytes?: number;
  /** Virtual ms between two publications. */
  publishIntervalMs?: number;
  /** Virtual ms before the first publication (mesh formation). */
  warmupMs?: number;
  /** Virtual ms simulated after the last publication (gossip recovery). */
  tailMs?: number;
  /** Per-link one-way latency range, ms. */
  latencyMs?: [number, number];
  /** Each node's uplink, bytes per ms (RPCs leave one after another); default 12,500 (100 Mbit/s). */
  uplinkBytesPerMs?: number;
  /** Time to validate a message (signature check and the topic validator), ms; default 1. */
  validationMs?: number;
  attack?: Attack;
  /** Fraction of nodes that are attackers. */
  attackerFraction?: number;
  /** A peer score per node (undefined: the router's null score). */
  /** Give every honest node a peer score (default: none, the router's null score). */
  scoreFactory?: (node: string) => PeerScoreApi;
  params?: Partial<GossipsubParams>;
}

/** What a run measured. */
export interface GossipSimReport {
  attack: Attack;
  nodes: number;
  attackers: number;
  messages: number;
  /** Deliveries to honest nodes / (messages x (honest nodes - 1)). */
  deliveryRate: number;
  /** The lowest per-message delivery rate. */
  worstMessageRate: number;
  p50LatencyMs: number;
  p99LatencyMs: number;
  /** Copies of a message an honest node received beyond the first, per delivery. */
  duplicatesPerDelivery: number;
  /** Bytes honest nodes sent per data byte delivered to honest nodes. */
  bytesPerDeliveredByte: number;
  /** Whether honest nodes ran a peer score. */
  scored: boolean;
  /** RPC events processed. */
  rpcs: number;
  /** The most remote topics any honest router tracks. */
  maxTopicsTracked: number;
  /** Invalid messages handed to an honest node's application (must be 0). */
  invalidDelivered: number;
  /** P7 penalties honest nodes applied, by reason. */
  penalties: Record<string, number>;
  /** Share of honest nodes' mesh slots held by attackers at the end. */
  attackerMeshShare: number;
  /** The largest mcache and seen cache of an honest router at the end. */
  maxMcache: number;
  maxSeen: number;
}

const TOPIC = "sim";
const SIGNATURE = new Uint8Array(64);

type Event =
  | { kind: "rpc"; from: number; to: number; rpc: Rpc }
  | { kind: "validated"; node: number; incoming: IncomingMessage }
  | { kind: "heartbeat"; node: number }
  | { kind: "publish"; node: number; index: number };

interface SimNode {
  index: number;
  id: string;
  router: GossipsubRouter;
  attacker: boolean;
  peers: number[];
  /** message index -> copies received. */
  copies: Map<number, number>;
  seq: number;
  /** When the node's uplink is free again (virtual ms). */
  uplinkFree: number;
}

function quantile(sorted: number[], q: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}

/** The simulated network. */
export class GossipSim {
  readonly nodes: SimNode[] = [];
  readonly #o: Required<Omit<GossipSimOptions, "scoreFactory" | "params">> & GossipSimOptions;
  readonly #rand: () => number;
  readonly #queue = new EventQueue<Event>();
  readonly #latency = new Map<number, number>();
  #now = 0;
  #rpcs = 0;
  #bytesSent = 0;
  /** message index -> [publisher, publish time]. */
  readonly #published = new Map<number, [number, number]>();
  readonly #latencies: number[] = [];
  readonly #deliveries = new Map<number, number>();
  #bogus = 0;
  #invalidDelivered = 0;
  readonly #penalties: Record<string, number> = {};
  readonly #flooded = new Set<number>();
  /** link -> the RPC merged so far in the current event. */
  readonly #pending = new Map<number, { from: number; to: number; rpc: Rpc }>();

  constructor(options: GossipSimOptions) {
    this.#o = {
      dials: 10,
      messages: 20,
      messageBytes: 1024,
      publishIntervalMs: 50,
      warmupMs: 3_000,
      tailMs: 4_000,
      latencyMs: [10, 100],
      uplinkBytesPerMs: 12_500,
      validationMs: 1,
      attack: "none",
      attackerFraction: 0,
      ...options,
    };
    this.#rand = prng(options.seed);
    const n = options.nodes;
    const attackers = this.#o.attack === "none" ? 0 : Math.round(n * this.#o.attackerFraction);
    for (let i = 0; i < n; i++) this.#addNode(i, i >= n - attackers);
    // Every node subscribes, then the graph is wired (hello RPCs carry the subscription).
    for (const node of this.nodes) node.router.subscribe(TOPIC, 0);
    for (const node of this.nodes) {
      for (let d = 0; d < this.#o.dials; d++) {
        const j = Math.floor(this.#rand() * n);
        if (j === node.index || node.peers.includes(j)) continue;
        this.#connect(node.index, j);
      }
    }
    for (const node of this.nodes) {
      this.#queue.push(Math.floor(this.#rand() * 1000) + 100, {
        kind: "heartbeat",
        node: node.index,
      });
    }
    const honest = this.nodes.filter((x) => !x.attacker);
    for (let m = 0; m < this.#o.messages; m++) {
      const publisher = honest[Math.floor(this.#rand() * honest.length)].index;
      this.#queue.push(this.#o.warmupMs + m * this.#o.publishIntervalMs, {
        kind: "publish",
        node: publisher,
        index: m,
      });
    }
  }

  #addNode(index: number, attacker: boolean): void {
    const id = `n${index}`;
    const inner = this.#o.scoreFactory?.(id);
    const penalties = this.#penalties;
    // Count P7 penalties by reason (broken promises, GRAFT in backoff) for the report.
    const scoring: PeerScoreApi | undefined = inner === undefined ? undefined : {
      addPeer: (...a) => inner.addPeer(...a),
      removePeer: (...a) => inner.removePeer(...a),
      graft: (...a) => inner.graft(...a),
      prune: (...a) => inner.prune(...a),
      validateMessage: (...a) => inner.validateMessage(...a),
      deliverMessage: (...a) => inner.deliverMessage(...a),
      rejectMessage: (...a) => inner.rejectMessage(...a),
      duplicateMessage: (...a) => inner.duplicateMessage(...a),
      addPenalty: (peer, count, reason) => {
        penalties[reason] = (penalties[reason] ?? 0) + count;
        inner.addPenalty(peer, count, reason);
      },
      score: (...a) => inner.score(...a),
      refresh: (...a) => inner.refresh(...a),
    };
    const node: SimNode = {
      index,
      id,
      attacker,
      peers: [],
      copies: new Map(),
      seq: 0,
      uplinkFree: 0,
      router: undefined as unknown as GossipsubRouter,
    };
    const silent = attacker && this.#o.attack !== "invalid-spam";
    node.router = new GossipsubRouter({
      random: prng(this.#o.seed * 7919 + index),
      params: this.#o.params,
      ...(scoring === undefined || attacker ? {} : { score: scoring }),
      sink: {
        send: (peer, rpc) => {
          // A silent attacker keeps its subscriptions and control, never forwards a message.
          const out = silent ? { ...rpc, messages: [] } : rpc;
          this.#send(index, Number(peer.slice(1)), out);
        },
        deliver: (incoming) => {
          if (attacker) return;
          if (incoming.message.data?.[0] === 0xff) this.#invalidDelivered++;
          const m = this.#indexOf(incoming.message);
          if (m < 0) return;
          const pub = this.#published.get(m);
          if (pub === undefined) return;
          this.#latencies.push(this.#now - pub[1]);
          this.#deliveries.set(m, (this.#deliveries.get(m) ?? 0) + 1);
        },
      },
    });
    this.nodes.push(node);
  }

  #connect(a: number, b: number): void {
    const [lo, hi] = this.#o.latencyMs;
    const latency = lo + this.#rand() * (hi - lo);
    this.#latency.set(a * 1_000_003 + b, latency);
    this.#latency.set(b * 1_000_003 + a, latency);
    this.nodes[a].peers.push(b);
    this.nodes[b].peers.push(a);
    this.nodes[a].router.addPeer(`n${b}`, "/meshsub/1.2.0", { direction: "outbound" }, 0);
    this.nodes[b].router.addPeer(`n${a}`, "/meshsub/1.2.0", { direction: "inbound" }, 0);
  }

  /**
   * Queue an RPC. What one node sends to one peer while handling one event is merged into one
   * RPC, as a stream writer coalesces the frames written in one tick (ARCHITECTURE.md
   * "Conventions"); the IDONTWANT sent before validation and the forward after it travel together.
   */
  #send(from: number, to: number, rpc: Rpc): void {
    if (rpc.subscriptions.length === 0 && rpc.messages.length === 0 && rpc.control === undefined) {
      return;
    }
    const link = from * 1_000_003 + to;
    const pending = this.#pending.get(link);
    if (pending === undefined) {
      this.#pending.set(link, { from, to, rpc });
      return;
    }
    const a = pending.rpc;
    const merged: Rpc = {
      subscriptions: [...a.subscriptions, ...rpc.subscriptions],
      messages: [...a.messages, ...rpc.messages],
    };
    if (a.control !== undefined || rpc.control !== undefined) {
      const empty = { ihave: [], iwant: [], graft: [], prune: [], idontwant: [] };
      const x = a.control ?? empty;
      const y = rpc.control ?? empty;
      merged.control = {
        ihave: [...x.ihave, ...y.ihave],
        iwant: [...x.iwant, ...y.iwant],
        graft: [...x.graft, ...y.graft],
        prune: [...x.prune, ...y.prune],
        idontwant: [...x.idontwant, ...y.idontwant],
      };
    }
    pending.rpc = merged;
  }

  #flushPending(): void {
    for (const { from, to, rpc } of this.#pending.values()) {
      const bytes = rpcBytes(rpc);
      if (!this.nodes[from].attacker) this.#bytesSent += bytes;
      const latency = this.#latency.get(from * 1_000_003 + to) ?? 50;
      // The sender's uplink serialises its RPCs; then the link's latency.
      const node = this.nodes[from];
      const departs = Math.max(this.#now, node.uplinkFree) + bytes / this.#o.uplinkBytesPerMs;
      node.uplinkFree = departs;
      this.#queue.push(departs + latency, { kind: "rpc", from, to, rpc });
    }
    this.#pending.clear();
  }

  #indexOf(m: PubsubMessage): number {
    const d = m.data;
    if (d === undefined || d.byteLength < 5 || d[0] !== 1) return -1;
    return new DataView(d.buffer, d.byteOffset).getUint32(1);
  }

  #message(node: SimNode, index: number, valid: boolean): { m: PubsubMessage; id: Uint8Array } {
    const data = new Uint8Array(this.#o.messageBytes);
    data[0] = valid ? 1 : 0xff;
    new DataView(data.buffer).setUint32(1, index);
    // A 38-byte Ed25519 peer id and a 64-byte signature, as StrictSign messages carry.
    const from = new Uint8Array(38);
    new DataView(from.buffer).setUint32(34, node.index);
    const seqno = new Uint8Array(8);
    new DataView(seqno.buffer).setUint32(4, ++node.seq);
    const id = new Uint8Array(from.length + 8);
    id.set(from);
    id.set(seqno, from.length);
    return { m: { topic: TOPIC, from, seqno, data, signature: SIGNATURE }, id };
  }

  /** Run until the queue is empty or the end time; returns the report. */
  run(): GossipSimReport {
    const end = this.#o.warmupMs + this.#o.messages * this.#o.publishIntervalMs + this.#o.tailMs;
    while (this.#queue.size > 0 && this.#queue.peekTime() <= end) {
      const { t, v } = this.#queue.pop();
      this.#now = t;
      const node = this.nodes[v.kind === "rpc" ? v.to : v.node];
      if (v.kind === "validated") {
        const valid = v.incoming.message.data?.[0] === 1;
        node.router.reportValidation(v.incoming, valid ? "accept" : "reject", t);
      } else if (v.kind === "heartbeat") {
        node.router.heartbeat(t);
        if (node.attacker) this.#attack(node);
        this.#queue.push(t + 1000, v);
      } else if (v.kind === "publish") {
        const { m, id } = this.#message(node, v.index, true);
        this.#published.set(v.index, [node.index, t]);
        node.router.publish(m, id, t);
      } else {
        this.#rpcs++;
        if (!node.attacker) {
          for (const m of v.rpc.messages) {
            const index = this.#indexOf(m);
            if (index >= 0) node.copies.set(index, (node.copies.get(index) ?? 0) + 1);
          }
        }
        const arrivals = node.router.handleRpc(`n${v.from}`, v.rpc, t);
        if (!node.attacker) {
          // Validation takes time; IDONTWANT has already gone out (v1.2: before validation).
          for (const incoming of arrivals) {
            this.#queue.push(t + this.#o.validationMs, {
              kind: "validated",
              node: node.index,
              incoming,
            });
          }
        }
      }
      this.#flushPending();
    }
    return this.#report();
  }

  /** The scripted part of an attacker, once per heartbeat. */
  #attack(node: SimNode): void {
    const attack = this.#o.attack;
    if (attack === "invalid-spam") {
      for (let k = 0; k < 2; k++) {
        const { m, id } = this.#message(node, 0, false);
        node.router.publish(m, id, this.#now);
      }
    } else if (attack === "ihave-flood") {
      // 12 IHAVEs of 500 fresh bogus ids each: above both per-heartbeat caps (10, 5,000).
      const ihave = Array.from({ length: 12 }, () => {
        const messageIds: Uint8Array[] = [];
        for (let k = 0; k < 500; k++) {
          const id = new Uint8Array(12);
          new DataView(id.buffer).setUint32(0, node.index);
          new DataView(id.buffer).setUint32(4, ++this.#bogus);
          messageIds.push(id);
        }
        return { topic: TOPIC, messageIds };
      });
      for (const peer of node.peers) {
        this.#send(node.index, peer, {
          subscriptions: [],
          messages: [],
          control: { ihave, iwant: [], graft: [], prune: [], idontwant: [] },
        });
      }
    } else if (attack === "graft-backoff") {
      for (const peer of node.peers) {
        this.#send(node.index, peer, {
          subscriptions: [],
          messages: [],
          control: { ihave: [], iwant: [], graft: [{ topic: TOPIC }], prune: [], idontwant: [] },
        });
      }
    } else if (attack === "sub-flood" && !this.#flooded.has(node.index)) {
      // 100,000 distinct topics in RPCs of 5,000 (the codec's per-RPC cap), to every peer, once.
      this.#flooded.add(node.index);
      for (let r = 0; r < 20; r++) {
        const subscriptions = Array.from({ length: 5000 }, (_, k) => ({
          topic: `junk-${node.index}-${r * 5000 + k}`,
          subscribe: true,
        }));
        for (const peer of node.peers) {
          this.#send(node.index, peer, { subscriptions, messages: [] });
        }
        this.#flushPending();
      }
    }
  }

  #report(): GossipSimReport {
    const honest = this.nodes.filter((n) => !n.attacker);
    const receivers = honest.length - 1;
    let delivered = 0;
    let worst = 1;
    for (let m = 0; m < this.#o.messages; m++) {
      const d = this.#deliveries.get(m) ?? 0;
      delivered += d;
      worst = Math.min(worst, d / receivers);
    }
    let copies = 0;
    for (const n of honest) for (const c of n.copies.values()) copies += c;
    const lat = [...this.#latencies].sort((a, b) => a - b);
    let maxTopics = 0;
    let maxMcache = 0;
    let maxSeen = 0;
    let slots = 0;
    let attackerSlots = 0;
    for (const n of honest) {
      for (const peer of n.router.getMeshPeers(TOPIC)) {
        slots++;
        if (this.nodes[Number(peer.slice(1))].attacker) attackerSlots++;
      }
      const s = n.router.state;
      maxTopics = Math.max(maxTopics, s.topics.size);
      maxMcache = Math.max(maxMcache, s.mcache.size);
      maxSeen = Math.max(maxSeen, s.seen.size);
    }
    const round = (x: number, d = 3): number => Math.round(x * 10 ** d) / 10 ** d;
    return {
      attack: this.#o.attack,
      nodes: this.nodes.length,
      attackers: this.nodes.length - honest.length,
      scored: this.#o.scoreFactory !== undefined,
      messages: this.#o.messages,
      deliveryRate: round(delivered / (this.#o.messages * receivers), 5),
      worstMessageRate: round(worst, 4),
      p50LatencyMs: round(quantile(lat, 0.5), 1),
      p99LatencyMs: round(quantile(lat, 0.99), 1),
      duplicatesPerDelivery: round(delivered === 0 ? 0 : (copies - delivered) / delivered, 2),
      bytesPerDeliveredByte: round(
        this.#bytesSent / Math.max(1, delivered * this.#o.messageBytes),
        2,
      ),
      rpcs: this.#rpcs,
      maxTopicsTracked: maxTopics,
      invalidDelivered: this.#invalidDelivered,
      penalties: { ...this.#penalties },
      attackerMeshShare: round(slots === 0 ? 0 : attackerSlots / slots),
      maxMcache,
      maxSeen,
    };
  }
}
