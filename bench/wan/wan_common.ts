/**
 * Plumbing shared by the WAN bench's drivers (ours_node.ts on Deno/Bun, js_node.ts on Deno):
 * flags, JSON lines, the wire format of /wan/source/1.0.0 and the throughput clock.
 *
 * @module
 */

import process from "node:process";

/** The echo protocol (the request in "time to first byte" and the small request in p99). */
export const ECHO = "/echo/1.0.0";
/** Bulk source: the client sends a u64 BE byte count, the server sends that many bytes. */
export const SOURCE = "/wan/source/1.0.0";
/** What a bulk request asks for: more than any run can move (runs are time-bounded). */
export const BULK_BYTES = 2 ** 40;
/** No measurement waits longer than this for its first byte or its end (bounded). */
const CLOCK_LIMIT_MS = 60_000;

/** `--name value` pairs. */
export function flags(argv: readonly string[]): Map<string, string> {
  const out = new Map<string, string>();
  for (let i = 0; i + 1 < argv.length; i += 2) out.set(argv[i].replace(/^--/, ""), argv[i + 1]);
  return out;
}

/** Print one JSON object line. */
export function report(obj: Record<string, unknown>): void {
  process.stdout.write(JSON.stringify(obj) + "\n");
}

/** Run stdin command lines one after another (the bench never overlaps measurements). */
export function onCommands(run: (cmd: Record<string, unknown>) => Promise<unknown>): Promise<void> {
  return new Promise((resolve) => {
    let buf = "";
    let chain = Promise.resolve();
    const decoder = new TextDecoder();
    process.stdin.on("data", (d: Uint8Array) => {
      buf += decoder.decode(d, { stream: true });
      let i: number;
      while ((i = buf.indexOf("\n")) >= 0) {
        const line = buf.slice(0, i).trim();
        buf = buf.slice(i + 1);
        if (line === "") continue;
        const cmd = JSON.parse(line) as Record<string, unknown>;
        chain = chain.then(() =>
          run(cmd).then(
            (result) => report({ id: cmd.id, ok: true, result }),
            (err) => report({ id: cmd.id, ok: false, error: String((err as Error)?.stack ?? err) }),
          )
        );
      }
    });
    process.stdin.on("end", () => resolve());
  });
}

/** `n` as 8 bytes big-endian. */
export function u64(n: number): Uint8Array {
  const b = new Uint8Array(8);
  new DataView(b.buffer).setBigUint64(0, BigInt(n));
  return b;
}

/** Read a u64 BE from chunks given by `next` (null at the end); extra bytes are ignored. */
export async function readU64(next: () => Promise<Uint8Array | null>): Promise<number> {
  const head = new Uint8Array(8);
  let have = 0;
  while (have < 8) {
    const c = await next();
    if (c === null) throw new Error("stream ended before the size");
    const take = Math.min(8 - have, c.byteLength);
    head.set(c.subarray(0, take), have);
    have += take;
  }
  return Number(new DataView(head.buffer).getBigUint64(0));
}

/**
 * A throughput clock: counts bytes from the first one; `warmMs` after it, snapshots (the
 * "steady" part starts: slow start and window growth are behind); `measureMs` later, or at
 * stop(), it ends.
 */
export interface Clock {
  /** Count `n` received bytes. */
  bytes(n: number): void;
  /** Resolves when the warm-up is over. */
  warmed: Promise<void>;
  /** Resolves when the measurement ended. */
  done: Promise<void>;
  /** End now. */
  stop(): void;
  /** Ended? */
  readonly stopped: boolean;
  /** Snapshots, ms (performance.now) and byte counts. */
  t: { start: number; first?: number; warm?: number; end?: number; bWarm: number; bEnd: number };
  /** Bytes so far. */
  total: number;
}

/** Starting and reading {@link Clock}s. */
export const summarize = {
  /** A new clock, started now. */
  start(warmMs: number, measureMs: number): Clock {
    let warmed!: () => void, done!: () => void;
    const timers: ReturnType<typeof setTimeout>[] = [];
    const clock: Clock = {
      total: 0,
      stopped: false,
      t: { start: performance.now(), bWarm: 0, bEnd: 0 },
      warmed: new Promise((r) => (warmed = r)),
      done: new Promise((r) => (done = r)),
      bytes(n) {
        if (clock.stopped) return;
        clock.total += n;
        if (clock.t.first !== undefined) return;
        clock.t.first = performance.now();
        timers.push(setTimeout(() => {
          clock.t.warm = performance.now();
          clock.t.bWarm = clock.total;
          warmed();
        }, warmMs));
        timers.push(setTimeout(() => clock.stop(), warmMs + measureMs));
      },
      stop() {
        if (clock.stopped) return;
        (clock as { stopped: boolean }).stopped = true;
        clock.t.end = performance.now();
        clock.t.bEnd = clock.total;
        for (const t of timers) clearTimeout(t);
        warmed();
        done();
      },
    };
    timers.push(setTimeout(() => clock.stop(), CLOCK_LIMIT_MS));
    return clock;
  },
  /** Steady and whole-run rates (Mbit/s), the time to the first byte and latency quantiles. */
  result(clock: Clock, latencies: number[]): Record<string, number> {
    const { start, first, warm, end, bWarm, bEnd } = clock.t;
    const rate = (b: number, ms: number): number => ms > 0 ? (b * 8) / (ms * 1000) : 0;
    const sorted = [...latencies].sort((a, b) => a - b);
    const q = (p: number): number =>
      sorted.length === 0
        ? NaN
        : sorted[Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1)];
    return {
      mbit: warm !== undefined && end !== undefined ? rate(bEnd - bWarm, end - warm) : 0,
      mbitAll: first !== undefined && end !== undefined ? rate(bEnd, end - first) : 0,
      firstByteMs: first !== undefined ? first - start : NaN,
      n: sorted.length,
      p50: q(0.5),
      p99: q(0.99),
      max: sorted.length === 0 ? NaN : sorted[sorted.length - 1],
    };
  },
};
