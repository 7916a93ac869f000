/**
 * The scenario shared by both halves of bench/gossipsub_bench.ts (bench/gossipsub_ours_net.ts,
 * bench/gossipsub_js_net.ts): the seeded identities, the seeded connection graph, and the
 * driver that runs the same phases over either implementation through {@link BenchNode}.
 *
 * All nodes of one implementation live in one process over loopback TCP (Noise + Yamux), so
 * publish and receipt times come from one clock (`performance.now()`) and the process's CPU
 * time (`process.cpuUsage()`) covers every node's work.
 *
 * Phases, per payload size (1 KiB, then 64 KiB):
 * - latency: `latencyMessages` publications paced `paces[size]` apart (publishers rotate over all
 *   nodes); per delivery, receipt time minus the time `publish` was called; p50/p99 over all
 *   deliveries.
 * - throughput: `throughputMessages` publications with at most `window` messages in flight (a
 *   message is in flight from its publish call until every other node's application has it),
 *   publishers rotating; messages per second = completed messages / (last completion - first
 *   publish); CPU per delivery = process CPU time in the phase / deliveries.
 *
 * @module
 */

import process from "node:process";

/** Parameters of one run (the orchestrator passes them as JSON). */
export interface GsParams {
  nodes: number;
  /** Extra random edges per node on top of the ring (the graph's mean degree is 2 + 2x). */
  chords: number;
  seed: number;
  sizes: number[];
  latencyMessages: number;
  /** Gap between paced publications, per size (same order as `sizes`). */
  paces: number[];
  throughputMessages: number;
  /** In-flight window per size (same order as `sizes`). */
  windows: number[];
  /** Cap on each phase's duration. */
  phaseCapMs: number;
  /** Gossipsub parameters set the same on both sides. */
  D: number;
  Dlo: number;
  Dhi: number;
  heartbeatMs: number;
  /** Messages at least this large trigger IDONTWANT (1.2), on both sides. */
  idontwantMinDataSize: number;
}

/** One node as the driver sees it. */
export interface BenchNode {
  readonly peerId: string;
  readonly addr: string;
  dial(addr: string): Promise<void>;
  subscribe(topic: string): void;
  publish(topic: string, data: Uint8Array): Promise<void>;
  /** Calls `cb` with each message's data delivered to this node's application. */
  onMessage(cb: (data: Uint8Array) => void): void;
  meshSize(topic: string): number;
  subscriberCount(topic: string): number;
  /** Peers this node can write pubsub RPCs to now. */
  writableCount(): number;
  stop(): Promise<void>;
}

/** Phase results. */
export interface PhaseResult {
  size: number;
  expected: number;
  delivered: number;
  duplicates: number;
  p50Ms: number;
  p99Ms: number;
  elapsedMs: number;
  msgsPerSec: number;
  cpuUsPerDelivery: number;
}

/** What a net script prints (one JSON line). */
export interface GsRunOutput {
  impl: string;
  runtime: string;
  peerIds: string[];
  edges: number;
  setupMs: number;
  latency: PhaseResult[];
  throughput: PhaseResult[];
}

/** mulberry32: a small seeded PRNG (the same sequence in both processes). */
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

/** 32-byte Ed25519 seeds, one per node. */
export function keySeeds(p: GsParams): Uint8Array[] {
  const r = prng(p.seed);
  return Array.from({ length: p.nodes }, () => {
    const s = new Uint8Array(32);
    for (let i = 0; i < 32; i++) s[i] = Math.floor(r() * 256);
    return s;
  });
}

/** The graph: a ring plus `chords` random chords from every node; pairs [i, j], i < j. */
export function edges(p: GsParams): [number, number][] {
  const r = prng(p.seed ^ 0x9e3779b9);
  const set = new Set<string>();
  const out: [number, number][] = [];
  const add = (a: number, b: number): void => {
    if (a === b) return;
    const [i, j] = a < b ? [a, b] : [b, a];
    const k = `${i}-${j}`;
    if (set.has(k)) return;
    set.add(k);
    out.push([i, j]);
  };
  for (let i = 0; i < p.nodes; i++) add(i, (i + 1) % p.nodes);
  for (let i = 0; i < p.nodes; i++) {
    for (let c = 0; c < p.chords; c++) add(i, Math.floor(r() * p.nodes));
  }
  return out;
}

/** The `q` quantile of ascending `xs` (nearest rank). */
export function quantile(xs: number[], q: number): number {
  if (xs.length === 0) return NaN;
  return xs[Math.min(xs.length - 1, Math.max(0, Math.ceil(q * xs.length) - 1))];
}

const TOPIC = "gs-bench";
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const log = (s: string): void => void process.stderr.write(s + "\n");

/** Run every phase over `nodes` (built by the caller with the seeds of {@link keySeeds}). */
export async function drive(
  p: GsParams,
  nodes: BenchNode[],
  impl: string,
  runtime: string,
  t0: number,
): Promise<GsRunOutput> {
  const n = nodes.length;
  const graph = edges(p);
  const degree = new Array(n).fill(0);
  for (const [i, j] of graph) degree[i]++, degree[j]++;

  // Message bookkeeping: the first 4 bytes of every payload are its index.
  let published: number[] = []; // publish time per index
  let counts: number[] = [];
  let seen: Uint8Array[] = []; // per node, per index
  let latencies: number[] = [];
  let deliveries = 0;
  let duplicates = 0;
  let completed = 0;
  let lastCompletion = 0;
  let wake: () => void = () => {};
  const reset = (m: number): void => {
    published = new Array(m).fill(-1);
    counts = new Array(m).fill(0);
    seen = nodes.map(() => new Uint8Array(m));
    latencies = [];
    deliveries = duplicates = completed = 0;
  };
  reset(0);
  nodes.forEach((node, k) =>
    node.onMessage((data) => {
      const now = performance.now();
      const idx = new DataView(data.buffer, data.byteOffset, 4).getUint32(0);
      if (idx >= counts.length || published[idx] < 0) return; // a previous phase's straggler
      if (seen[k][idx] !== 0) {
        duplicates++;
        return;
      }
      seen[k][idx] = 1;
      deliveries++;
      latencies.push(now - published[idx]);
      if (++counts[idx] === n - 1) {
        completed++;
        lastCompletion = now;
        wake();
      }
    })
  );

  for (const node of nodes) node.subscribe(TOPIC);
  await Promise.all(graph.map(([i, j]) => nodes[i].dial(nodes[j].addr)));
  const ready = (): boolean =>
    nodes.every((node, k) =>
      node.subscriberCount(TOPIC) >= degree[k] && node.writableCount() >= degree[k] &&
      node.meshSize(TOPIC) >= Math.min(degree[k], p.Dlo)
    );
  const readyBy = performance.now() + 30_000;
  while (!ready() && performance.now() < readyBy) await sleep(50);
  if (!ready()) log(`${impl}: mesh not fully formed after 30 s; going on`);
  await sleep(2 * p.heartbeatMs);
  const setupMs = performance.now() - t0;

  const payload = (idx: number, size: number): Uint8Array => {
    const b = new Uint8Array(size);
    for (let i = 4; i < size; i += 97) b[i] = (idx * 31 + i) & 0xff;
    new DataView(b.buffer).setUint32(0, idx);
    return b;
  };

  const waitAll = async (m: number, cap: number): Promise<void> => {
    const end = performance.now() + cap;
    while (completed < m && performance.now() < end) await sleep(10);
  };

  const result = (size: number, m: number, elapsed: number, cpuUs: number): PhaseResult => {
    latencies.sort((a, b) => a - b);
    return {
      size,
      expected: m * (n - 1),
      delivered: deliveries,
      duplicates,
      p50Ms: quantile(latencies, 0.5),
      p99Ms: quantile(latencies, 0.99),
      elapsedMs: elapsed,
      msgsPerSec: elapsed > 0 ? completed / (elapsed / 1000) : 0,
      cpuUsPerDelivery: deliveries > 0 ? cpuUs / deliveries : NaN,
    };
  };

  // Warm-up: a few messages of each size, so code paths are compiled in both processes.
  for (const size of p.sizes) {
    reset(20);
    for (let i = 0; i < 20; i++) {
      published[i] = performance.now();
      await nodes[i % n].publish(TOPIC, payload(i, size));
      await sleep(5);
    }
    await waitAll(20, 10_000);
    log(`${impl}: warm-up ${size} B: ${deliveries}/${20 * (n - 1)} delivered`);
  }
  await sleep(p.heartbeatMs);

  const latency: PhaseResult[] = [];
  const throughput: PhaseResult[] = [];
  for (const [si, size] of p.sizes.entries()) {
    // Latency: paced publications.
    const m = p.latencyMessages;
    reset(m);
    const start = performance.now();
    for (let i = 0; i < m; i++) {
      const due = start + i * p.paces[si];
      const wait = due - performance.now();
      if (wait > 0) await sleep(wait);
      published[i] = performance.now();
      await nodes[i % n].publish(TOPIC, payload(i, size));
    }
    await waitAll(m, p.phaseCapMs);
    latency.push(result(size, m, performance.now() - start, 0));
    log(`${impl}: latency ${size} B: ${JSON.stringify(latency.at(-1))}`);
    await sleep(p.heartbeatMs);

    // Throughput: a window of messages in flight.
    const t = p.throughputMessages;
    const w = p.windows[si];
    reset(t);
    const cpu0 = process.cpuUsage();
    const begin = performance.now();
    const end = begin + p.phaseCapMs;
    let next = 0;
    while (completed < t && performance.now() < end) {
      while (next < t && next - completed < w) {
        published[next] = performance.now();
        await nodes[next % n].publish(TOPIC, payload(next, size));
        next++;
      }
      if (completed >= t) break;
      await new Promise<void>((r) => {
        const timer = setTimeout(r, 100);
        wake = () => {
          clearTimeout(timer);
          r();
        };
      });
      wake = () => {};
    }
    const cpu = process.cpuUsage(cpu0);
    const elapsed = (completed >= t ? lastCompletion : performance.now()) - begin;
    throughput.push(result(size, t, elapsed, cpu.user + cpu.system));
    log(`${impl}: throughput ${size} B: ${JSON.stringify(throughput.at(-1))}`);
    await sleep(p.heartbeatMs);
  }

  return {
    impl,
    runtime,
    peerIds: nodes.map((x) => x.peerId),
    edges: graph.length,
    setupMs,
    latency,
    throughput,
  };
}
