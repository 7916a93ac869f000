/**
 * The per-stream inactivity deadline of protocol streams (HARDENING.md rule 8: "every stream
 * has an inactivity deadline").
 *
 * {@link StreamIdleWatch} is what the node uses: muxed streams keep their own `lastActivity`
 * field up to date (a plain field write per chunk, see MuxedStream), and ONE timer per
 * connection scans them, so protocol streams are handed out unwrapped (ARCHITECTURE.md: no
 * transform chains per substream). The timer runs only while the connection has streams with
 * a deadline; a stream is reset between its deadline and deadline + one scan period.
 *
 * @module
 */

import { clampDelay } from "../abort.ts";
import { TimeoutError } from "../errors.ts";
import type { MuxedStream } from "../muxer.ts";

/** Default inactivity deadline of a protocol stream, ms. */
export const DEFAULT_STREAM_IDLE_TIMEOUT_MS = 60_000;

/** Shortest scan period of a {@link StreamIdleWatch}, ms (unless a deadline is shorter). */
export const MIN_IDLE_SCAN_PERIOD_MS = 250;

/**
 * How often a deadline of `timeoutMs` is checked: a quarter of it, at least
 * {@link MIN_IDLE_SCAN_PERIOD_MS} (or the deadline itself when that is shorter).
 */
function scanPeriod(timeoutMs: number): number {
  return Math.max(Math.min(timeoutMs, MIN_IDLE_SCAN_PERIOD_MS), timeoutMs / 4);
}

interface Watched {
  readonly timeoutMs: number;
  /** When it was added: activity before that (negotiation) does not count against it. */
  readonly since: number;
  readonly what: string;
  readonly onIdle: (error: TimeoutError) => void;
}

/** Options of a {@link StreamIdleWatch}. */
export interface StreamIdleWatchInit {
  /** Runs after every scan (the connection sweeps ended streams' resources here). */
  onScan?: () => void;
}

/**
 * The inactivity deadlines of one connection's streams with one timer.
 *
 * Each watched stream reports its own `lastActivity`; the timer (period: a quarter of the
 * smallest deadline, at least {@link MIN_IDLE_SCAN_PERIOD_MS}) is armed only while streams are
 * watched and cleared when the last one leaves or on `close()`. A stream idle for longer than
 * its deadline leaves the watch and its `onIdle` gets a TimeoutError
 * (`"<what> idle for more than <ms> ms"`); resetting it is the caller's job.
 *
 * @example
 * ```ts
 * import { StreamIdleWatch } from "@p2p-edge/libp2p";
 * import type { MuxedStream } from "@p2p-edge/libp2p";
 * declare const muxed: MuxedStream;
 * const watch = new StreamIdleWatch();
 * watch.add(muxed, 60_000, "/echo/1.0.0 stream", (err) => muxed.abort(err));
 * watch.close(); // with the connection
 * ```
 */
export class StreamIdleWatch {
  // Made with the first stream and dropped with the last: idle connections hold no empty map.
  #entries: Map<MuxedStream, Watched> | undefined;
  readonly #onScan: (() => void) | undefined;
  #timer: ReturnType<typeof setTimeout> | undefined;
  /** The period the armed timer was set for (Infinity: not armed). */
  #period = Infinity;
  #closed = false;

  /** An empty watch; no timer runs until a stream is added. */
  constructor(init: StreamIdleWatchInit = {}) {
    this.#onScan = init.onScan;
  }

  /** Streams watched. */
  get size(): number {
    return this.#entries?.size ?? 0;
  }

  /** Whether the scan timer is armed (for leak checks). */
  get armed(): boolean {
    return this.#timer !== undefined;
  }

  /**
   * Watch `stream` with a deadline of `timeoutMs` (> 0, finite; otherwise this does nothing).
   * `onIdle` is called at most once. After `close()` nothing is watched.
   */
  add(
    stream: MuxedStream,
    timeoutMs: number,
    what: string,
    onIdle: (error: TimeoutError) => void,
  ): void {
    if (this.#closed || !(timeoutMs > 0) || !Number.isFinite(timeoutMs)) return;
    (this.#entries ??= new Map()).set(stream, {
      timeoutMs,
      since: performance.now(),
      what,
      onIdle,
    });
    const period = scanPeriod(timeoutMs);
    if (period < this.#period) this.#arm(period);
  }

  /** Stop watching `stream`; the timer is cleared with the last stream. */
  delete(stream: MuxedStream): void {
    if (this.#entries?.delete(stream) !== true || this.#entries.size > 0) return;
    this.#entries = undefined;
    this.#disarm();
  }

  /** Stop watching everything and release the timer (with the connection). Idempotent. */
  close(): void {
    this.#closed = true;
    this.#entries = undefined;
    this.#disarm();
  }

  #arm(period: number): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#period = period;
    this.#timer = setTimeout(this.#scan, clampDelay(period));
  }

  #disarm(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#period = Infinity;
  }

  readonly #scan = (): void => {
    this.#timer = undefined;
    this.#period = Infinity;
    const now = performance.now();
    let idle: [Watched, TimeoutError][] | undefined;
    const entries = this.#entries;
    for (const [stream, e] of entries ?? []) {
      if (stream.status === "closed" || stream.status === "reset") {
        entries!.delete(stream);
        continue;
      }
      if (now - Math.max(e.since, stream.lastActivity) >= e.timeoutMs) {
        entries!.delete(stream);
        (idle ??= []).push([
          e,
          new TimeoutError(`${e.what} idle for more than ${e.timeoutMs} ms`),
        ]);
      }
    }
    // Callbacks after the scan: they may delete or add entries.
    if (idle !== undefined) {
      for (const [e, err] of idle) {
        try {
          e.onIdle(err);
        } catch { /* the stream is gone either way */ }
      }
    }
    this.#onScan?.();
    if (this.#entries?.size === 0) this.#entries = undefined;
    if (this.#closed || this.#entries === undefined) return;
    // A callback may have added a stream (and armed the timer) meanwhile.
    const period = this.#minPeriod();
    if (this.#timer === undefined || period < this.#period) this.#arm(period);
  };

  #minPeriod(): number {
    let p = Infinity;
    for (const e of this.#entries?.values() ?? []) p = Math.min(p, scanPeriod(e.timeoutMs));
    return p;
  }
}
