/**
 * The DHT bench scenario shared by both sides of bench/kad_dht_bench.ts: the same seeded
 * identities, bootstrap graph, warm-up and operations for our nodes (bench/kad_ours_net.ts) and
 * js-libp2p's (bench/kad_js_net.ts), and the per-operation measurement both report. Pure: no
 * runtime APIs, no imports of either stack beyond byte helpers.
 *
 * @module
 */

import { concat, toHex, utf8Encode } from "../src/bytes.ts";
import { base58btc, multibaseEncode } from "../src/multiformats/multibase.ts";
import { compareDistance, kadId } from "../protocols/kad-dht/keyspace.ts";

/** Parameters of one network run (the same on both sides). */
export interface ScenarioParams {
  /** Nodes per implementation. */
  nodes: number;
  /** PRNG seed: identities, bootstrap graph and operations follow from it. */
  seed: number;
  /** Bootstrap peers each node dials first (earlier nodes only, so the graph is connected). */
  bootstrapDegree: number;
  /** findPeer operations. */
  findPeer: number;
  /** getClosestPeers operations of random keys. */
  closest: number;
  /** provide then findProviders pairs. */
  providers: number;
  /** One-way delay per message, ms. */
  delayMs: number;
  /** Lookup concurrency (alpha); undefined = the implementation's default. */
  alpha?: number;
  /** Our disjoint paths (js's default is alpha paths); undefined = our default (1). */
  oursDisjointPaths?: number;
  /** Self-lookup rounds of the warm-up. */
  warmupRounds: number;
  /** Warm-up operations run at once (dials and self lookups). */
  warmupConcurrency: number;
}

/** One operation of the measured phase. */
export type Op =
  | { kind: "findPeer"; from: number; target: number }
  | { kind: "closest"; from: number; key: string }
  | { kind: "provide"; from: number; cid: string; key: string }
  | { kind: "findProviders"; from: number; cid: string; key: string; provider: number };

/** The whole scenario. */
export interface Scenario {
  /** 32-byte Ed25519 seeds, hex, one per node. */
  keySeeds: string[];
  /** Indexes each node dials first. */
  bootstrap: number[][];
  /** The measured operations, in order. */
  ops: Op[];
}

/** What one side measured for one operation. */
export interface OpResult {
  kind: Op["kind"];
  ok: boolean;
  /** Wall-clock duration, ms. */
  ms: number;
  /** CPU time of the whole process (all its nodes) during the operation, ms. */
  cpuMs: number;
  /** Requests the origin sent for the operation's key (FIND_NODE, GET_PROVIDERS, ADD_PROVIDER). */
  messages: number;
  /** Path length to the decisive responder (see {@link hopsOf}); undefined when none. */
  hops?: number;
  /** getClosestPeers: how many of the true k closest live nodes the result held. */
  recall?: number;
}

/** Deterministic PRNG (mulberry32), as tests/kad-dht/simulation.ts. */
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

/** A CIDv0 (sha2-256 multihash, base58btc) of some text, and its multihash bytes as hex. */
export function cidV0(text: string): { cid: string; key: string } {
  const mh = concat([new Uint8Array([0x12, 0x20]), kadId(utf8Encode(text))]);
  return { cid: multibaseEncode(mh, base58btc).slice(1), key: toHex(mh) };
}

/** Build the scenario for `p` (identical on every call with the same parameters). */
export function buildScenario(p: ScenarioParams): Scenario {
  const rand = prng(p.seed);
  const pick = (n: number): number => Math.floor(rand() * n);
  const keySeeds: string[] = [];
  for (let i = 0; i < p.nodes; i++) {
    const s = new Uint8Array(32);
    for (let b = 0; b < 32; b++) s[b] = pick(256);
    keySeeds.push(toHex(s));
  }
  const bootstrap: number[][] = [];
  for (let i = 0; i < p.nodes; i++) {
    const set = new Set<number>();
    const want = Math.min(i, p.bootstrapDegree);
    while (set.size < want) set.add(pick(i));
    bootstrap.push([...set]);
  }
  const other = (from: number): number => {
    let t = pick(p.nodes);
    while (t === from) t = pick(p.nodes);
    return t;
  };
  const ops: Op[] = [];
  // Interleave the kinds so that slow drift of the machine hits each kind alike.
  const total = Math.max(p.findPeer, p.closest, p.providers);
  for (let i = 0; i < total; i++) {
    if (i < p.findPeer) {
      const from = pick(p.nodes);
      ops.push({ kind: "findPeer", from, target: other(from) });
    }
    if (i < p.closest) {
      const key = new Uint8Array(32);
      for (let b = 0; b < 32; b++) key[b] = pick(256);
      ops.push({ kind: "closest", from: pick(p.nodes), key: toHex(key) });
    }
    if (i < p.providers) {
      const provider = pick(p.nodes);
      const { cid, key } = cidV0(`kad bench ${p.seed} content ${i}`);
      ops.push({ kind: "provide", from: provider, cid, key });
      ops.push({ kind: "findProviders", from: other(provider), cid, key, provider });
    }
  }
  return { keySeeds, bootstrap, ops };
}

/** One response the origin received during an operation: who answered, whom it listed. */
export interface Referral {
  /** Responder's peer id bytes, hex. */
  from: string;
  /** Peers it listed (closerPeers), peer id bytes hex. */
  closer: string[];
}

/**
 * Depth of each responder in the referral tree of one operation: a peer asked without having
 * been listed by an earlier answer of the same operation (a seed from the routing table) has
 * depth 0, a peer first listed by a responder of depth d has depth d + 1. The hop count of a
 * responder is its depth + 1 (requests along the chain that reached it).
 */
export function depths(referrals: readonly Referral[]): Map<string, number> {
  const depth = new Map<string, number>();
  for (const r of referrals) {
    if (!depth.has(r.from)) depth.set(r.from, 0);
    const d = depth.get(r.from)!;
    for (const c of r.closer) if (!depth.has(c)) depth.set(c, d + 1);
  }
  return depth;
}

/**
 * Hops of an operation: for findPeer, to the first responder that listed the target; for the
 * others, to the responder nearest the key (the lookup's decisive answer).
 */
export function hopsOf(
  referrals: readonly Referral[],
  keyHex: string,
  target?: string,
): number | undefined {
  const depth = depths(referrals);
  if (target !== undefined) {
    const r = referrals.find((x) => x.closer.includes(target) || x.from === target);
    return r === undefined ? undefined : depth.get(r.from)! + 1;
  }
  const kid = kadId(fromHexStr(keyHex));
  let best: { id: Uint8Array; from: string } | undefined;
  for (const r of referrals) {
    const id = kadId(fromHexStr(r.from));
    if (best === undefined || compareDistance(id, best.id, kid) < 0) best = { id, from: r.from };
  }
  return best === undefined ? undefined : depth.get(best.from)! + 1;
}

/** How many of `found` (peer id hex) are among the `k` nodes of `all` nearest `keyHex`. */
export function recallOf(
  found: readonly string[],
  all: readonly string[],
  keyHex: string,
  k = 20,
): number {
  const kid = kadId(fromHexStr(keyHex));
  const ids = all.map((h) => ({ h, id: kadId(fromHexStr(h)) }));
  ids.sort((a, b) => compareDistance(a.id, b.id, kid));
  const best = new Set(ids.slice(0, k).map((x) => x.h));
  return found.filter((h) => best.has(h)).length;
}

function fromHexStr(hex: string): Uint8Array {
  const out = new Uint8Array(hex.length >> 1);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  return out;
}

/** Nearest-rank percentile of ascending `sorted`. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))];
}

/** A FIFO of chunks, each released `delayMs` after it was queued, in order (one timer). */
export class DelayLine<T> {
  readonly #delay: number;
  readonly #deliver: (item: T) => void;
  readonly #queue: { at: number; item: T }[] = [];
  #head = 0;
  #timer: ReturnType<typeof setTimeout> | undefined;

  constructor(delayMs: number, deliver: (item: T) => void) {
    this.#delay = delayMs;
    this.#deliver = deliver;
  }

  /** Queue `item` for delivery after the delay. */
  push(item: T): void {
    this.#queue.push({ at: performance.now() + this.#delay, item });
    if (this.#timer === undefined) this.#arm();
  }

  /** Drop everything queued. */
  clear(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#queue.length = 0;
    this.#head = 0;
  }

  #arm(): void {
    const next = this.#queue[this.#head];
    this.#timer = setTimeout(() => this.#fire(), Math.max(0, next.at - performance.now()));
  }

  #fire(): void {
    this.#timer = undefined;
    const now = performance.now();
    while (this.#head < this.#queue.length && this.#queue[this.#head].at <= now + 0.5) {
      const { item } = this.#queue[this.#head++];
      this.#deliver(item);
    }
    if (this.#head > 1024 && this.#head * 2 > this.#queue.length) {
      this.#queue.splice(0, this.#head);
      this.#head = 0;
    }
    if (this.#head < this.#queue.length) this.#arm();
    else {
      this.#queue.length = 0;
      this.#head = 0;
    }
  }
}
