/**
 * When the bootstrap list is dialled again: a sans-IO schedule with an injected clock. The
 * first round runs `delayMs` after start (js-libp2p's `timeout`, 1 s); later rounds only while
 * the node is below its connection target, at most every `intervalMs`, and that interval
 * doubles (up to `maxIntervalMs`) after each round that left no bootstrap peer connected, so a
 * dead bootstrap list is not hammered (HARDENING.md rule 4).
 *
 * @module
 */

/** Default delay of the first round after start, ms (js-libp2p bootstrap `timeout`). */
export const DEFAULT_BOOTSTRAP_DELAY_MS = 1_000;
/** Default shortest time between two rounds, ms. */
export const DEFAULT_BOOTSTRAP_INTERVAL_MS = 10_000;
/** Default longest time between two rounds after repeated failures, ms. */
export const DEFAULT_BOOTSTRAP_MAX_INTERVAL_MS = 300_000;

/** Options of {@link BootstrapSchedule}. */
export interface BootstrapScheduleOptions {
  /** First round after start, ms. Default 1000. */
  delayMs?: number;
  /** Shortest time between rounds, ms. Default 10 000. */
  intervalMs?: number;
  /** Longest time between rounds, ms. Default 300 000. */
  maxIntervalMs?: number;
}

/**
 * The round schedule.
 *
 * @example
 * ```ts
 * import { BootstrapSchedule } from "@p2p-edge/libp2p/protocols/bootstrap";
 * const s = new BootstrapSchedule({ delayMs: 1000, intervalMs: 10_000 });
 * s.start(0);
 * s.due(500, true); // false: the first round waits for the delay
 * s.due(1000, true); // true
 * s.roundStarted(1000);
 * s.roundDone(false); // nobody answered: the next round waits 20 s
 * s.nextAt(); // 21_000
 * ```
 */
export class BootstrapSchedule {
  readonly #delay: number;
  readonly #interval: number;
  readonly #max: number;
  #next = Infinity;
  #gap: number;
  #running = false;
  #first = true;
  #startedAt = 0;

  /** Validate the options (RangeError when negative or not numbers). */
  constructor(options: BootstrapScheduleOptions = {}) {
    const ms = (name: string, v: number | undefined, d: number, min: number): number => {
      const value = v ?? d;
      if (typeof value !== "number" || !(value >= min) || !Number.isFinite(value)) {
        throw new RangeError(`${name} must be a finite number >= ${min}`);
      }
      return value;
    };
    this.#delay = ms("delayMs", options.delayMs, DEFAULT_BOOTSTRAP_DELAY_MS, 0);
    this.#interval = ms("intervalMs", options.intervalMs, DEFAULT_BOOTSTRAP_INTERVAL_MS, 1);
    this.#max = Math.max(
      this.#interval,
      ms("maxIntervalMs", options.maxIntervalMs, DEFAULT_BOOTSTRAP_MAX_INTERVAL_MS, 1),
    );
    this.#gap = this.#interval;
  }

  /** The node started at `now`: the first round is due after the delay. */
  start(now: number): void {
    this.#first = true;
    this.#gap = this.#interval;
    this.#next = now + this.#delay;
  }

  /**
   * Whether a round should start now: the time has come, no round is running, and (except for
   * the first round, which always runs) the node is below its target.
   */
  due(now: number, belowTarget: boolean): boolean {
    if (this.#running || now < this.#next) return false;
    return this.#first || belowTarget;
  }

  /** A round started (no other until it is done). */
  roundStarted(now: number): void {
    this.#running = true;
    this.#first = false;
    this.#startedAt = now;
    this.#next = now + this.#gap;
  }

  /**
   * The round ended; `connected`: a bootstrap peer is connected now. Failure doubles the gap
   * to the next round (capped), success resets it.
   */
  roundDone(connected: boolean): void {
    this.#running = false;
    this.#gap = connected ? this.#interval : Math.min(this.#max, this.#gap * 2);
    this.#next = this.#startedAt + this.#gap;
  }

  /** When the next round may start (the clock's ms). */
  nextAt(): number {
    return this.#next;
  }
}
