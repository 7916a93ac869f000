/**
 * In-process simulation of a Kademlia network on a virtual clock: nodes are routing tables
 * (protocols/kad-dht/routing_table.ts), lookups are protocols/kad-dht/query.ts machines, and a
 * request costs a round trip of the per-link latency. No sockets, no timers, no sleeps: events
 * are processed in virtual-time order from a binary heap. Deterministic for a given seed.
 */

import { Query, type QueryPeer } from "../../protocols/kad-dht/query.ts";
import { RoutingTable } from "../../protocols/kad-dht/routing_table.ts";
import { kadId } from "../../protocols/kad-dht/keyspace.ts";

/** Parameters of a simulation run. */
export interface SimulationOptions {
  nodes: number;
  lookups: number;
  seed: number;
  k?: number;
  alpha?: number;
  disjointPaths?: number;
  resiliency?: number;
  peerTimeoutMs?: number;
}

/** One node of the simulated network. */
interface SimNode {
  index: number;
  peerId: Uint8Array;
  kadId: Uint8Array;
  addr: Uint8Array;
  x: number;
  y: number;
  table: RoutingTable;
  alive: boolean;
}

/** Outcome of one lookup. */
export interface LookupResult {
  found: boolean;
  messages: number;
  hops: number;
  /** Virtual ms from start until the target was first learned (or the end when not found). */
  timeToFind: number;
  /** Virtual ms from start until the query terminated. */
  duration: number;
}

/** Aggregates of many lookups. */
export interface LookupReport {
  lookups: number;
  successRate: number;
  meanMessages: number;
  meanHops: number;
  maxHops: number;
  p50FindMs: number;
  p99FindMs: number;
  p50DoneMs: number;
  p99DoneMs: number;
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

function key(id: Uint8Array): string {
  let s = "";
  for (let i = 0; i < id.byteLength; i++) s += String.fromCharCode(id[i]);
  return s;
}

/** A min-heap of events by time (ties in insertion order). */
class EventHeap<T> {
  #items: { t: number; n: number; v: T }[] = [];
  #n = 0;
  get size(): number {
    return this.#items.length;
  }
  push(t: number, v: T): void {
    const h = this.#items;
    h.push({ t, n: this.#n++, v });
    let i = h.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (less(h[p], h[i])) break;
      [h[p], h[i]] = [h[i], h[p]];
      i = p;
    }
  }
  pop(): { t: number; v: T } {
    const h = this.#items;
    const top = h[0];
    const last = h.pop()!;
    if (h.length > 0) {
      h[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < h.length && less(h[l], h[m])) m = l;
        if (r < h.length && less(h[r], h[m])) m = r;
        if (m === i) break;
        [h[m], h[i]] = [h[i], h[m]];
        i = m;
      }
    }
    return top;
  }
}

function less(a: { t: number; n: number }, b: { t: number; n: number }): boolean {
  return a.t < b.t || (a.t === b.t && a.n < b.n);
}

/** The simulated network. */
export class Network {
  readonly nodes: SimNode[] = [];
  readonly #byId = new Map<string, SimNode>();
  readonly #rand: () => number;
  readonly #opts: Required<Omit<SimulationOptions, "lookups">>;

  constructor(options: SimulationOptions) {
    this.#opts = {
      nodes: options.nodes,
      seed: options.seed,
      k: options.k ?? 20,
      alpha: options.alpha ?? 10,
      disjointPaths: options.disjointPaths ?? 1,
      resiliency: options.resiliency ?? options.k ?? 20,
      peerTimeoutMs: options.peerTimeoutMs ?? 10_000,
    };
    this.#rand = prng(options.seed);
    for (let i = 0; i < options.nodes; i++) {
      const peerId = new Uint8Array(34);
      peerId[0] = 0x12;
      peerId[1] = 0x20;
      for (let b = 2; b < 34; b++) peerId[b] = Math.floor(this.#rand() * 256);
      // A public IPv4 in a random /16 of 11.0.0.0-99.255.0.0 (all public unicast).
      const a = 11 + Math.floor(this.#rand() * 89);
      const b = Math.floor(this.#rand() * 256);
      const addr = new Uint8Array([4, a, b, 0, 1, 6, 0x0f, 0xa1]);
      const node: SimNode = {
        index: i,
        peerId,
        kadId: kadId(peerId),
        addr,
        x: this.#rand(),
        y: this.#rand(),
        table: new RoutingTable({ selfId: peerId, kBucketSize: this.#opts.k }),
        alive: true,
      };
      this.nodes.push(node);
      this.#byId.set(key(peerId), node);
    }
  }

  /** One-way latency between two nodes: 10 ms plus up to 140 ms by distance on a unit square. */
  latency(a: SimNode, b: SimNode): number {
    return 10 + 140 * Math.hypot(a.x - b.x, a.y - b.y) / Math.SQRT2;
  }

  random(): number {
    return this.#rand();
  }

  /** Offer `peer` to `node`'s table; a full bucket checks its old contact (alive or not). */
  #offer(node: SimNode, peer: SimNode, now: number): void {
    const r = node.table.add(peer.peerId, [peer.addr], now);
    if (r.action === "check") {
      const old = this.#byId.get(key(r.old.peerId))!;
      node.table.resolveCheck(old.peerId, old.alive, now);
    }
  }

  /**
   * Nodes join one by one: each knows one random earlier node, runs a self-lookup, and adds
   * every peer that answered; each answering peer adds the joiner (it proved itself by asking).
   * Then every node refreshes with a lookup of a random key.
   */
  bootstrap(): void {
    for (let i = 1; i < this.nodes.length; i++) {
      const node = this.nodes[i];
      const seed = this.nodes[Math.floor(this.random() * i)];
      this.#offer(node, seed, 0);
      this.lookup(node, node.kadId, { learn: true });
    }
    for (const node of this.nodes) {
      const target = new Uint8Array(32);
      for (let b = 0; b < 32; b++) target[b] = Math.floor(this.random() * 256);
      this.lookup(node, target, { learn: true });
    }
  }

  /** Take a fraction of the nodes offline, leaving every routing table stale. */
  churn(fraction: number): void {
    const count = Math.round(this.nodes.length * fraction);
    const order = [...this.nodes];
    for (let i = order.length - 1; i > 0; i--) {
      const j = Math.floor(this.random() * (i + 1));
      [order[i], order[j]] = [order[j], order[i]];
    }
    for (let i = 0; i < count; i++) order[i].alive = false;
  }

  /** Run one lookup of `target` from `from` to completion on a fresh virtual clock. */
  lookup(
    from: SimNode,
    target: Uint8Array,
    options: { learn?: boolean; wanted?: Uint8Array } = {},
  ): LookupResult {
    const { k, alpha, disjointPaths, resiliency, peerTimeoutMs } = this.#opts;
    const toPeer = (c: { peerId: Uint8Array; kadId: Uint8Array }): QueryPeer => ({
      peerId: c.peerId,
      kadId: c.kadId,
    });
    const q = new Query({
      target,
      seeds: from.table.closest(target, k).map(toPeer),
      now: 0,
      selfId: from.peerId,
      k,
      alpha,
      disjointPaths,
      resiliency,
      peerTimeoutMs,
    });
    const events = new EventHeap<SimNode | undefined>();
    let found = options.wanted === undefined;
    let timeToFind = 0;
    const wantedKey = options.wanted === undefined ? "" : key(options.wanted);
    const issue = (now: number): void => {
      for (const r of q.poll(now)) {
        const peer = this.#byId.get(key(r.peer.peerId))!;
        if (peer.alive) events.push(now + 2 * this.latency(from, peer), peer);
        else events.push(r.deadline, undefined); // no answer: poll at the deadline
      }
    };
    issue(0);
    while (!q.finished && events.size > 0) {
      const { t, v: peer } = events.pop();
      if (peer !== undefined) {
        const closer = peer.table.closest(target, k).map(toPeer);
        if (options.learn === true) {
          this.#offer(from, peer, t);
          this.#offer(peer, from, t);
        }
        const out = q.onResponse(peer.peerId, closer, t);
        if (
          !found && (key(peer.peerId) === wantedKey ||
            out.learned.some((p) => key(p.peerId) === wantedKey))
        ) {
          found = true;
          timeToFind = t;
        }
      }
      issue(t);
    }
    const duration = q.stats.finishedAt ?? 0;
    const wantedDepth = options.wanted === undefined ? undefined : q.depthOf(options.wanted);
    return {
      found: found && options.wanted !== undefined,
      messages: q.stats.messages,
      hops: wantedDepth === undefined ? q.stats.hops : wantedDepth + 1,
      timeToFind: found ? timeToFind : duration,
      duration,
    };
  }

  /** `count` lookups of random live nodes from random live nodes. */
  measure(count: number): LookupReport {
    const live = this.nodes.filter((n) => n.alive);
    const results: LookupResult[] = [];
    for (let i = 0; i < count; i++) {
      const from = live[Math.floor(this.random() * live.length)];
      let to = live[Math.floor(this.random() * live.length)];
      while (to === from) to = live[Math.floor(this.random() * live.length)];
      results.push(this.lookup(from, to.kadId, { wanted: to.peerId }));
    }
    return report(results);
  }
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1)];
}

function report(results: LookupResult[]): LookupReport {
  const n = results.length;
  const find = results.map((r) => r.timeToFind).sort((a, b) => a - b);
  const done = results.map((r) => r.duration).sort((a, b) => a - b);
  return {
    lookups: n,
    successRate: results.filter((r) => r.found).length / n,
    meanMessages: results.reduce((s, r) => s + r.messages, 0) / n,
    meanHops: results.reduce((s, r) => s + r.hops, 0) / n,
    maxHops: Math.max(...results.map((r) => r.hops)),
    p50FindMs: Math.round(percentile(find, 0.5)),
    p99FindMs: Math.round(percentile(find, 0.99)),
    p50DoneMs: Math.round(percentile(done, 0.5)),
    p99DoneMs: Math.round(percentile(done, 0.99)),
  };
}
