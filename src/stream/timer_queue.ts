/**
 * One runtime timer for many long deadlines: every yamux session's keep-alive, for instance.
 *
 * Why: a runtime timer is not cheap to hold. On Deno 2.9.6 a pending `setTimeout` is a Timeout
 * object with its callback, a closure over it and a context (~400 B of heap, measured with heap
 * snapshots of 1,000 idle connections), and an idle connection held one for its keep-alive
 * ping. A {@link Deadline} in a shared queue is one small object and one slot of a binary heap;
 * the queue keeps a single `setTimeout` armed for the earliest deadline of all.
 *
 * @module
 */

import { clampDelay } from "../abort.ts";

/** What a {@link Deadline} calls when it is due. */
export interface DeadlineTarget {
  /** The deadline passed (`now` is the queue's clock). It is not re-armed by itself. */
  onDeadline(now: number): void;
}

/**
 * A min-heap of deadlines driven by one runtime timer (armed only while a deadline is set).
 *
 * @example
 * ```ts
 * import { Deadline, TimerQueue } from "@p2p-edge/libp2p/stream";
 * const queue = new TimerQueue();
 * const deadline = new Deadline(queue, { onDeadline: () => console.log("due") });
 * deadline.set(performance.now() + 1_000);
 * deadline.clear(); // never fires
 * ```
 */
export class TimerQueue {
  readonly #heap: Deadline[] = [];
  readonly #now: () => number;
  #timer: ReturnType<typeof setTimeout> | undefined;
  /** The time the armed timer fires at (Infinity: not armed). */
  #armedAt = Infinity;

  /** A queue on `now` (default `performance.now()`, the clock deadlines are given in). */
  constructor(now: () => number = () => performance.now()) {
    this.#now = now;
  }

  /** Deadlines set. */
  get size(): number {
    return this.#heap.length;
  }

  /** Whether the runtime timer is armed (for leak checks: false when nothing is set). */
  get armed(): boolean {
    return this.#timer !== undefined;
  }

  /** @internal Put `d` in the heap, or move it to its new time. */
  place(d: Deadline): void {
    if (d.index < 0) {
      d.index = this.#heap.length;
      this.#heap.push(d);
    }
    this.#siftUp(d.index);
    this.#siftDown(d.index);
    this.#rearm();
  }

  /** @internal Take `d` out of the heap. */
  remove(d: Deadline): void {
    if (d.index < 0) return;
    this.#unlink(d);
    this.#rearm();
  }

  /** Take `d` (in the heap) out of it, without touching the runtime timer. */
  #unlink(d: Deadline): void {
    const i = d.index;
    d.index = -1;
    const last = this.#heap.pop()!;
    if (last !== d) {
      this.#heap[i] = last;
      last.index = i;
      this.#siftUp(i);
      this.#siftDown(last.index);
    }
  }

  #rearm(): void {
    const first = this.#heap[0];
    if (first === undefined) {
      if (this.#timer !== undefined) clearTimeout(this.#timer);
      this.#timer = undefined;
      this.#armedAt = Infinity;
      return;
    }
    // An armed timer that fires no later than the earliest deadline stays: firing early only
    // means one more look at the heap.
    if (this.#timer !== undefined && this.#armedAt <= first.at) return;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    const now = this.#now();
    const delay = Math.ceil(clampDelay(first.at - now));
    this.#armedAt = now + delay;
    this.#timer = setTimeout(this.#fire, delay);
  }

  readonly #fire = (): void => {
    this.#timer = undefined;
    this.#armedAt = Infinity;
    const now = this.#now();
    let error: unknown;
    let failed = false;
    for (let first = this.#heap[0]; first !== undefined && first.at <= now; first = this.#heap[0]) {
      // Unlinked only: the timer is re-armed once, after every due deadline ran.
      this.#unlink(first);
      try {
        first.target.onDeadline(now);
      } catch (e) {
        // One failing target must not stop the others; the first error surfaces like one
        // thrown from a timer callback would.
        if (!failed) error = e;
        failed = true;
      }
    }
    this.#rearm();
    if (failed) throw error;
  };

  #siftUp(i: number): void {
    const heap = this.#heap;
    const d = heap[i];
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (heap[parent].at <= d.at) break;
      heap[i] = heap[parent];
      heap[i].index = i;
      i = parent;
    }
    heap[i] = d;
    d.index = i;
  }

  #siftDown(i: number): void {
    const heap = this.#heap;
    const d = heap[i];
    const n = heap.length;
    for (;;) {
      let child = 2 * i + 1;
      if (child >= n) break;
      if (child + 1 < n && heap[child + 1].at < heap[child].at) child++;
      if (heap[child].at >= d.at) break;
      heap[i] = heap[child];
      heap[i].index = i;
      i = child;
    }
    heap[i] = d;
    d.index = i;
  }
}

/**
 * One re-armable deadline of a {@link TimerQueue}: calls `target.onDeadline()` once at the time
 * last set, unless cleared first.
 *
 * @example
 * ```ts
 * import { Deadline, sharedTimerQueue } from "@p2p-edge/libp2p/stream";
 * const d = new Deadline(sharedTimerQueue, { onDeadline: (now) => console.log("due at", now) });
 * d.set(performance.now() + 50);
 * d.set(performance.now() + 10); // moved earlier: fires once, at the new time
 * ```
 */
export class Deadline {
  /** When it is due (the queue's clock) while {@link Deadline.pending}; read-only: use `set()`. */
  at: number = Infinity;
  /** @internal Position in the queue's heap (-1: not set). */
  index: number = -1;
  /** What is called when due. */
  readonly target: DeadlineTarget;
  readonly #queue: TimerQueue;

  /** An unset deadline for `target` on `queue`. */
  constructor(queue: TimerQueue, target: DeadlineTarget) {
    this.#queue = queue;
    this.target = target;
  }

  /** Whether it is set and has not fired yet. */
  get pending(): boolean {
    return this.index >= 0;
  }

  /** Fire at `at` (replaces an earlier setting). */
  set(at: number): void {
    this.at = at;
    this.#queue.place(this);
  }

  /** Do not fire. Idempotent. */
  clear(): void {
    this.#queue.remove(this);
  }
}

/** The queue the library's own long timers share (yamux keep-alive). */
export const sharedTimerQueue: TimerQueue = new TimerQueue();
