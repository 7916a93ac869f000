/**
 * The iterative Kademlia lookup (libp2p/specs `kad-dht/README.md` §Peer routing) as a sans-IO
 * state machine. It sends nothing and reads no clock: the caller asks {@link Query.poll} which
 * peers to query now (each with its deadline), sends the requests, and reports each outcome with
 * {@link Query.onResponse} or {@link Query.onFailure}. Time is the `now` passed in.
 *
 * Rules:
 * - Candidates are kept sorted by XOR distance to the target. A path sends to a waiting candidate
 *   only when it ranks among the `k` closest non-failed candidates of that path and fewer than
 *   `alpha` requests of that path are in flight, so no message is spent on a peer that cannot
 *   change the result.
 * - A path is done when its `k` closest non-failed candidates have all answered (or, with the
 *   `resiliency` option, its β closest, as go does), or when it has nothing left to ask. The
 *   query is done when every path is done; requests still in flight are then abandoned.
 * - Disjoint paths (S/Kademlia, as js-libp2p): the seeds are dealt round-robin to `disjointPaths`
 *   paths, and a peer belongs to the first path that learns of it, so paths share no peer.
 * - A request not answered by its deadline fails; a late answer is still accepted while the
 *   query runs (the peer turns from failed to answered).
 * - Each path keeps at most {@link MAX_QUERY_CANDIDATES_PER_PATH} candidates, dropping the
 *   farthest idle ones (HARDENING.md rule 4).
 *
 * @module
 */

import { equals } from "../../src/bytes.ts";
import { ALPHA, K_BUCKET_SIZE, QUERY_PEER_TIMEOUT_MS } from "./constants.ts";
import { compareDistance, kadId } from "./keyspace.ts";

/**
 * Candidates kept per path: ten buckets' worth, enough to survive heavy failure among the k
 * closest, bounded against responses that flood us with peers (HARDENING.md rule 4).
 */
export const MAX_QUERY_CANDIDATES_PER_PATH = 10 * K_BUCKET_SIZE;

/** A peer known to the query. */
export interface QueryPeer {
  /** Binary peer id (multihash bytes). */
  peerId: Uint8Array;
  /** Keyspace position (sha256 of `peerId`); computed when absent. */
  kadId?: Uint8Array;
  /** Binary multiaddrs, passed through to the caller untouched. */
  addrs?: readonly Uint8Array[];
}

/** A request the caller must send. */
export interface QueryRequest {
  /** The peer to ask. */
  peer: QueryPeer;
  /** The disjoint path the request belongs to. */
  path: number;
  /** Time after which the request counts as failed (report it, or call poll()). */
  deadline: number;
}

/** Options of {@link Query}. */
export interface QueryOptions {
  /** Keyspace position of the target: `kadId(key)`. */
  target: Uint8Array;
  /** Starting peers (usually the routing table's closest). */
  seeds: readonly QueryPeer[];
  /** Time the query starts. */
  now: number;
  /** Our own peer id: never queried, ignored in responses. */
  selfId?: Uint8Array;
  /** Result size and termination set k. Default {@link K_BUCKET_SIZE}. */
  k?: number;
  /**
   * A path is done when this many of its closest non-failed candidates answered (go's
   * `Resiliency`, β = 3). Default k: the spec's rule, every one of the k closest answered.
   */
  resiliency?: number;
  /** Requests in flight per path. Default {@link ALPHA}. */
  alpha?: number;
  /** Number of disjoint paths. Default 1. */
  disjointPaths?: number;
  /** Per-request timeout. Default {@link QUERY_PEER_TIMEOUT_MS}. */
  peerTimeoutMs?: number;
  /** Whole-query timeout (state `"timeout"` once passed). Default none. */
  queryTimeoutMs?: number;
}

/** Lifecycle of a query. */
export type QueryState = "running" | "done" | "cancelled" | "timeout";

/** Counters of a query. */
export interface QueryStats {
  /** Requests handed out by poll(). */
  messages: number;
  /** Responses accepted. */
  responses: number;
  /** Failures reported (including timeouts). */
  failures: number;
  /** Requests that passed their deadline. */
  timeouts: number;
  /** Longest chain of referrals queried: 1 when only seeds were asked. */
  hops: number;
  /** Time the query started. */
  startedAt: number;
  /** Time it stopped (undefined while running). */
  finishedAt?: number;
}

/** What a response taught the query. */
export interface ResponseOutcome {
  /** Peers that were new to the query, in the order received. */
  learned: QueryPeer[];
  /** True when this response finished the query. */
  finished: boolean;
}

type PeerState = "waiting" | "inflight" | "succeeded" | "failed";

interface Candidate {
  peer: QueryPeer;
  kadId: Uint8Array;
  key: string;
  state: PeerState;
  path: number;
  depth: number;
  deadline: number;
}

interface Path {
  list: Candidate[];
  inflight: number;
  done: boolean;
}

/**
 * One iterative lookup.
 *
 * @example
 * ```ts
 * import { kadId, Query } from "@p2p-edge/libp2p/protocols/kad-dht";
 * const target = kadId(new Uint8Array([1]));
 * const q = new Query({ target, seeds: [{ peerId: new Uint8Array([0, 1, 2]) }], now: 0 });
 * const [req] = q.poll(0); // ask this peer, by req.deadline
 * q.onResponse(req.peer.peerId, [], 5); // it knew nobody closer
 * q.state; // "done"
 * q.result().length; // 1
 * ```
 */
export class Query {
  /** Keyspace position of the target. */
  readonly target: Uint8Array;
  /** Counters. */
  readonly stats: QueryStats;
  readonly #k: number;
  readonly #beta: number;
  readonly #alpha: number;
  readonly #timeout: number;
  readonly #deadline: number;
  readonly #self: Uint8Array | undefined;
  readonly #paths: Path[] = [];
  readonly #all = new Map<string, Candidate>();
  #state: QueryState = "running";

  /** Start a lookup from `options.seeds` at `options.now`. */
  constructor(options: QueryOptions) {
    this.target = options.target;
    this.#k = Math.max(1, options.k ?? K_BUCKET_SIZE);
    this.#beta = Math.min(this.#k, Math.max(1, options.resiliency ?? this.#k));
    this.#alpha = Math.max(1, options.alpha ?? ALPHA);
    this.#timeout = options.peerTimeoutMs ?? QUERY_PEER_TIMEOUT_MS;
    this.#deadline = options.queryTimeoutMs === undefined
      ? Infinity
      : options.now + options.queryTimeoutMs;
    this.#self = options.selfId;
    this.stats = {
      messages: 0,
      responses: 0,
      failures: 0,
      timeouts: 0,
      hops: 0,
      startedAt: options.now,
    };
    const paths = Math.max(1, options.disjointPaths ?? 1);
    for (let i = 0; i < paths; i++) this.#paths.push({ list: [], inflight: 0, done: false });
    const seeds = [...options.seeds].map((p) => ({ p, id: p.kadId ?? kadId(p.peerId) }))
      .sort((a, b) => compareDistance(a.id, b.id, this.target));
    let next = 0;
    for (const { p, id } of seeds) {
      if (this.#learn(p, id, next, 0) !== undefined) next = (next + 1) % paths;
    }
    this.#update(options.now);
  }

  /** Current state. */
  get state(): QueryState {
    return this.#state;
  }

  /** True once the query stopped for any reason. */
  get finished(): boolean {
    return this.#state !== "running";
  }

  /** Number of requests in flight. */
  get inflight(): number {
    let n = 0;
    for (const p of this.#paths) n += p.inflight;
    return n;
  }

  /**
   * Expire requests whose deadline passed, then hand out the requests to send now. Call it
   * after every outcome reported and whenever {@link nextDeadline} passes.
   */
  poll(now: number): QueryRequest[] {
    if (this.#state !== "running") return [];
    for (const c of this.#all.values()) {
      if (c.state === "inflight" && c.deadline <= now) {
        this.stats.timeouts++;
        this.#fail(c);
      }
    }
    if (now >= this.#deadline) {
      this.#finish("timeout", now);
      return [];
    }
    const out: QueryRequest[] = [];
    for (let i = 0; i < this.#paths.length; i++) {
      const path = this.#paths[i];
      if (path.done) continue;
      let rank = 0;
      for (const c of path.list) {
        if (path.inflight >= this.#alpha || rank >= this.#k) break;
        if (c.state === "failed") continue;
        rank++;
        if (c.state !== "waiting") continue;
        c.state = "inflight";
        c.deadline = now + this.#timeout;
        path.inflight++;
        this.stats.messages++;
        this.stats.hops = Math.max(this.stats.hops, c.depth + 1);
        out.push({ peer: c.peer, path: i, deadline: c.deadline });
      }
    }
    this.#update(now);
    return out;
  }

  /** The earliest time poll() must run again even if nothing arrives, or undefined. */
  nextDeadline(): number | undefined {
    if (this.#state !== "running") return undefined;
    let min = this.#deadline;
    for (const c of this.#all.values()) {
      if (c.state === "inflight" && c.deadline < min) min = c.deadline;
    }
    return min === Infinity ? undefined : min;
  }

  /** Report a peer's answer and the closer peers it listed. */
  onResponse(peerId: Uint8Array, closer: readonly QueryPeer[], now: number): ResponseOutcome {
    const c = this.#all.get(key(peerId));
    if (this.#state !== "running" || c === undefined) return { learned: [], finished: false };
    if (c.state !== "inflight" && c.state !== "failed") return { learned: [], finished: false };
    if (c.state === "inflight") this.#paths[c.path].inflight--;
    c.state = "succeeded";
    this.stats.responses++;
    const learned: QueryPeer[] = [];
    for (const p of closer) {
      const added = this.#learn(p, p.kadId ?? kadId(p.peerId), c.path, c.depth + 1);
      if (added !== undefined) learned.push(added.peer);
    }
    this.#update(now);
    return { learned, finished: this.finished };
  }

  /** Report that a request failed (error, reset, refused, or the caller's own timeout). */
  onFailure(peerId: Uint8Array, now: number): void {
    const c = this.#all.get(key(peerId));
    if (this.#state !== "running" || c === undefined || c.state !== "inflight") return;
    this.#fail(c);
    this.#update(now);
  }

  /** Stop the query; returns the peers whose requests are still in flight (to abort them). */
  cancel(now: number): QueryPeer[] {
    if (this.#state !== "running") return [];
    const out: QueryPeer[] = [];
    for (const c of this.#all.values()) if (c.state === "inflight") out.push(c.peer);
    this.#finish("cancelled", now);
    return out;
  }

  /** Up to `n` (default k) closest peers that answered, nearest first. */
  result(n: number = this.#k): QueryPeer[] {
    return this.#answered().slice(0, n).map((c) => c.peer);
  }

  /** Hops from the seeds at which a peer was learned (0 for seeds), or undefined. */
  depthOf(peerId: Uint8Array): number | undefined {
    return this.#all.get(key(peerId))?.depth;
  }

  #answered(): Candidate[] {
    const out: Candidate[] = [];
    for (const c of this.#all.values()) if (c.state === "succeeded") out.push(c);
    return out.sort((a, b) => compareDistance(a.kadId, b.kadId, this.target));
  }

  #learn(peer: QueryPeer, id: Uint8Array, path: number, depth: number): Candidate | undefined {
    if (this.#self !== undefined && equals(peer.peerId, this.#self)) return undefined;
    const k = key(peer.peerId);
    if (this.#all.has(k)) return undefined;
    const list = this.#paths[path].list;
    // Binary search for the insertion point.
    let lo = 0;
    let hi = list.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (compareDistance(list[mid].kadId, id, this.target) < 0) lo = mid + 1;
      else hi = mid;
    }
    if (list.length >= MAX_QUERY_CANDIDATES_PER_PATH) {
      // Full: the newcomer must beat the farthest idle candidate, which is dropped.
      let drop = list.length - 1;
      while (drop >= 0 && list[drop].state === "inflight") drop--;
      if (drop < lo) return undefined;
      this.#all.delete(list[drop].key);
      list.splice(drop, 1);
    }
    const c: Candidate = {
      peer: { ...peer, kadId: id },
      kadId: id,
      key: k,
      state: "waiting",
      path,
      depth,
      deadline: Infinity,
    };
    list.splice(lo, 0, c);
    this.#all.set(k, c);
    return c;
  }

  #fail(c: Candidate): void {
    this.#paths[c.path].inflight--;
    c.state = "failed";
    this.stats.failures++;
  }

  #update(now: number): void {
    if (this.#state !== "running") return;
    let allDone = true;
    for (const path of this.#paths) {
      if (!path.done) path.done = this.#pathDone(path);
      if (!path.done) allDone = false;
    }
    if (allDone) this.#finish("done", now);
  }

  #pathDone(path: Path): boolean {
    let rank = 0;
    for (const c of path.list) {
      if (c.state === "failed") continue;
      if (c.state !== "succeeded") return false;
      if (++rank >= this.#beta) return true;
    }
    // Fewer than k live candidates, all answered: nothing left to ask.
    return path.inflight === 0;
  }

  #finish(state: QueryState, now: number): void {
    this.#state = state;
    this.stats.finishedAt = now;
    for (const c of this.#all.values()) if (c.state === "inflight") c.state = "failed";
    for (const p of this.#paths) p.inflight = 0;
  }
}

function key(peerId: Uint8Array): string {
  let s = "";
  for (let i = 0; i < peerId.byteLength; i++) s += String.fromCharCode(peerId[i]);
  return s;
}
