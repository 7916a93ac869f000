/**
 * Helpers shared by the benchmark worker processes (ours_server.ts, ours_client.ts,
 * raw_tcp.ts, cipher_limits.ts and thirdparty/{server,client}.ts): flags, JSON-line reports on
 * stdout, stdin commands from the orchestrator, GC + RSS, and small statistics. Web APIs and
 * node:process only, so it runs unchanged under Deno and Bun and imports no package.
 *
 * @module
 */

import process from "node:process";

/** The value after `--name` on the command line, or `fallback`. */
export function flag(name: string, fallback?: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && i + 1 < process.argv.length ? process.argv[i + 1] : fallback;
}

/** A numeric flag (RangeError when present but not a finite number). */
export function numFlag(name: string, fallback: number): number {
  const text = flag(name);
  if (text === undefined) return fallback;
  const n = Number(text);
  if (!Number.isFinite(n)) throw new RangeError(`--${name} must be a number, got ${text}`);
  return n;
}

/** One JSON object a line on stdout: how workers talk to bench/run.ts. */
export function report(obj: Record<string, unknown>): void {
  process.stdout.write(JSON.stringify(obj) + "\n");
}

/** "deno 2.9.6", "bun 1.4.5" or "unknown". */
export function runtimeName(): string {
  const g = globalThis as { Deno?: { version: { deno: string } }; Bun?: { version: string } };
  if (g.Bun !== undefined) return `bun ${g.Bun.version}`;
  if (g.Deno !== undefined) return `deno ${g.Deno.version.deno}`;
  return "unknown";
}

/**
 * Lines from stdin, one at a time; `null` when stdin ended. The orchestrator sends commands
 * ("rss", "go") and closes stdin to end a worker.
 */
export function stdinLines(): () => Promise<string | null> {
  const lines: string[] = [];
  const waiters: ((line: string | null) => void)[] = [];
  let ended = false;
  let buf = "";
  const decoder = new TextDecoder();
  process.stdin.on("data", (d: Uint8Array | string) => {
    buf += typeof d === "string" ? d : decoder.decode(d, { stream: true });
    let i: number;
    while ((i = buf.indexOf("\n")) >= 0) {
      const line = buf.slice(0, i).trim();
      buf = buf.slice(i + 1);
      const w = waiters.shift();
      if (w !== undefined) w(line);
      else lines.push(line);
    }
  });
  process.stdin.on("end", () => {
    ended = true;
    for (const w of waiters.splice(0)) w(null);
  });
  process.stdin.resume();
  return () => {
    const line = lines.shift();
    if (line !== undefined) return Promise.resolve(line);
    if (ended) return Promise.resolve(null);
    return new Promise((resolve) => waiters.push(resolve));
  };
}

/**
 * Run a full GC when the runtime exposes one: Bun.gc(true), or V8's gc() under --expose-gc.
 * With `reduce`, V8's "last-resort" flavor: the memory-reducing GC that V8's memory reducer runs
 * on its own once a process has been idle for ~10 s (it shrinks the young generation a burst of
 * handshakes grew, and releases free pages). A plain gc() leaves both, so an RSS read right
 * after a burst of connections measures the burst as much as the connections.
 */
export function fullGc(reduce = true): void {
  const g = globalThis as {
    Bun?: { gc(sync: boolean): void };
    gc?: (options?: { type: string; execution: string; flavor: string }) => void;
  };
  if (g.Bun !== undefined) g.Bun.gc(true);
  else if (typeof g.gc === "function") {
    if (reduce) g.gc({ type: "major", execution: "sync", flavor: "last-resort" });
    else g.gc();
  }
}

/**
 * Resident set size after a few GCs with pauses in between (so finalizers and frees settle);
 * `reduce` as in {@link fullGc}.
 */
export async function settledRss(reduce = true): Promise<number> {
  for (let i = 0; i < 3; i++) {
    fullGc(reduce);
    await new Promise((r) => setTimeout(r, 100));
  }
  return process.memoryUsage().rss;
}

/**
 * The server side of the memory scenario's stdin commands: "rss" (settled, memory-reducing GC)
 * and "rss burst" (plain GC, as right after a burst) each answer one
 * {"event":"rss","rss":bytes,"heapUsed":bytes,"connections":n} line.
 */
export async function answerRss(line: string, connections: () => number): Promise<void> {
  if (line !== "rss" && line !== "rss burst") return;
  const rss = await settledRss(line === "rss");
  const heapUsed = process.memoryUsage().heapUsed;
  await heapSnapshot(line === "rss" ? "settled" : "burst");
  report({ event: "rss", rss, heapUsed, connections: connections() });
}

let snapshots = 0;

/**
 * With BENCH_HEAP_DIR set (bench/run.ts `--heap <dir>`) and node:v8 available (Deno), write a
 * heap snapshot `<dir>/<pid>-<n>-<what>.heapsnapshot` after each RSS reading, so the settled
 * "before" and "after" snapshots of the memory scenario can be compared object by object.
 */
async function heapSnapshot(what: string): Promise<void> {
  const dir = process.env.BENCH_HEAP_DIR;
  if (dir === undefined || dir === "" || "Bun" in globalThis) return;
  const v8 = await import("node:v8");
  v8.writeHeapSnapshot(`${dir}/${process.pid}-${snapshots++}-${what}.heapsnapshot`);
}

/** The q-quantile (0..1) of `values` (nearest rank on a sorted copy). */
export function quantile(values: readonly number[], q: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[rank];
}

/** Megabits per second for `bytes` in `ms`. */
export function mbps(bytes: number, ms: number): number {
  return (bytes * 8) / 1e6 / (ms / 1000);
}

/** Resolve after `ms`. */
export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/**
 * Yamux options from `--yamux-window <bytes>` (initial stream window, for experiments; the
 * benchmark itself runs the library defaults).
 */
export function yamuxOptions(): { initialStreamWindow?: number } {
  const w = flag("yamux-window");
  return w === undefined ? {} : { initialStreamWindow: Number(w) };
}

/** TCP options from `--tcp-read-hwm` / `--tcp-write-hwm <bytes>` (for experiments). */
export function tcpOptions(): { readHighWaterMark?: number; writeHighWaterMark?: number } {
  const r = flag("tcp-read-hwm"), w = flag("tcp-write-hwm");
  return {
    ...(r === undefined ? {} : { readHighWaterMark: Number(r) }),
    ...(w === undefined ? {} : { writeHighWaterMark: Number(w) }),
  };
}
