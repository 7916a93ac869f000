/**
 * Encoded frames waiting for the connection. Frames are encoded straight into shared blocks,
 * so everything produced before the writer runs goes out as one write, the payload is copied
 * exactly once, and the caller's chunk is free as soon as it has been queued.
 *
 * @module
 */

import { encodeHeaderInto } from "./codec.ts";
import { HEADER_LENGTH } from "./constants.ts";

/** Smallest and largest block allocated for coalescing frames. */
const MIN_BLOCK = 1024;
const MAX_BLOCK = 64 * 1024;

/**
 * Small batches (pings, window updates, short messages: the latency-bound traffic) are carved
 * from one slab shared by every session of this isolate instead of a fresh block per batch:
 * allocating an ArrayBuffer per write showed up as 3-5% of the CPU of echo round trips and
 * handshakes. A carved region is never written again once taken, so a chunk still queued in a
 * writer stays intact; a slab is freed when the last chunk cut from it is.
 */
const SLAB_SIZE = 16 * 1024;
/** Largest reservation carved from the shared slab. */
const SLAB_MAX_FRAME = 2048;
const shared = { slab: new Uint8Array(0), used: 0 };

/**
 * Blocks big enough for one full frame come back once the connection has written them
 * ({@link Outbox.recycle}: only from a channel that copies its writes) and serve the next large
 * reservation of any session of this isolate, instead of a fresh zero-filled ArrayBuffer per
 * 64 KiB frame (allocation, zeroing and the garbage collections it drives): plaintext yamux on
 * Deno went from ~14.3 to ~16.4 Gbit/s (medians of 4 interleaved runs each way). At most
 * {@link POOL_MAX} blocks (~1 MiB) wait, per isolate rather than per session, so an idle
 * connection holds none.
 */
const POOL_BLOCK = MAX_BLOCK + HEADER_LENGTH;
/** Reservations from this size up take a pool block; smaller ones get a block of their size. */
const POOL_MIN = 16 * 1024;
const POOL_MAX = 16;
const pool: ArrayBuffer[] = [];

/** Told when an {@link Outbox} has output (an object rather than a callback: no closure). */
export interface OutboxListener {
  /** The queue went from empty to non-empty. */
  onOutput(): void;
}

/**
 * A byte queue of encoded frames. `take()` hands out everything queued so far.
 *
 * @example
 * ```ts
 * import { Outbox } from "./outbox.ts";
 * const box = new Outbox({ onOutput: () => {} });
 * box.frame(2, 1, 0, 7);
 * box.take(); // [Uint8Array(12)]
 * ```
 */
export class Outbox {
  /** Filled parts of previous blocks not taken yet. */
  #full: Uint8Array[] | undefined;
  #buf: Uint8Array | undefined;
  /** Whether #buf is a shared slab (regions past #end belong to others). */
  #inSlab = false;
  #start = 0;
  #end = 0;
  #size = 0;
  #hint = MIN_BLOCK;
  readonly #listener: OutboxListener;
  /** Ping replies queued since the last take (the session bounds it). */
  pingReplies = 0;

  /** `listener.onOutput()` runs when the queue goes from empty to non-empty. */
  constructor(listener: OutboxListener) {
    this.#listener = listener;
  }

  /** Bytes queued and not yet taken. */
  get size(): number {
    return this.#size;
  }

  /** Queue a header-only frame. */
  frame(type: number, flags: number, streamId: number, length: number): void {
    const at = this.#reserve(HEADER_LENGTH);
    encodeHeaderInto(this.#buf!, at, type, flags, streamId, length);
    this.#grew(HEADER_LENGTH);
  }

  /** Queue a Data frame carrying `payload` (copied). */
  data(flags: number, streamId: number, payload: Uint8Array): void {
    const n = HEADER_LENGTH + payload.byteLength;
    const at = this.#reserve(n);
    const buf = this.#buf!;
    encodeHeaderInto(buf, at, 0, flags, streamId, payload.byteLength);
    buf.set(payload, at + HEADER_LENGTH);
    this.#grew(n);
  }

  /** Everything queued so far, in order, or undefined when empty. Resets the ping-reply count. */
  take(): Uint8Array[] | undefined {
    if (this.#size === 0) return undefined;
    const out = this.#full ?? [];
    this.#full = undefined;
    if (this.#end > this.#start) out.push(this.#buf!.subarray(this.#start, this.#end));
    // Size the next block after this batch; drop the current one so an idle session holds none.
    this.#hint = Math.min(MAX_BLOCK, Math.max(MIN_BLOCK, this.#size * 2));
    this.#buf = undefined;
    this.#start = this.#end = 0;
    this.#size = 0;
    this.pingReplies = 0;
    return out;
  }

  /**
   * Give back what {@link take} returned once nothing holds it any more: after the connection's
   * `drained()`, on a channel that copies its writes (its `copiesWrites`). Blocks of the pool's
   * size are kept for reuse; the rest is left to the garbage collector.
   */
  recycle(blocks: readonly Uint8Array[]): void {
    for (const block of blocks) {
      if (pool.length >= POOL_MAX) return;
      // A detached buffer has length 0; slabs are smaller than a pool block.
      if (block.buffer.byteLength === POOL_BLOCK) pool.push(block.buffer as ArrayBuffer);
    }
  }

  /** Drop everything (the session is gone). */
  clear(): void {
    this.#full = undefined;
    this.#buf = undefined;
    this.#start = this.#end = this.#size = 0;
    this.pingReplies = 0;
  }

  #reserve(n: number): number {
    const buf = this.#buf;
    if (buf !== undefined) {
      // A region of a slab can only grow while it is the current slab's tail: past its end are
      // other sessions' frames, or (in a replaced slab) bytes that may have been handed out.
      const room = !this.#inSlab
        ? buf.byteLength - this.#end
        : buf === shared.slab && this.#end === shared.used
        ? buf.byteLength - this.#end
        : 0;
      if (room >= n) return this.#claim(n);
      if (this.#end > this.#start) (this.#full ??= []).push(buf.subarray(this.#start, this.#end));
    }
    if (n <= SLAB_MAX_FRAME && this.#hint <= MIN_BLOCK) {
      if (shared.slab.byteLength - shared.used < n) {
        shared.slab = new Uint8Array(SLAB_SIZE);
        shared.used = 0;
      }
      this.#buf = shared.slab;
      this.#inSlab = true;
      this.#start = this.#end = shared.used;
    } else {
      const want = Math.max(n, this.#hint);
      if (want >= POOL_MIN && want <= POOL_BLOCK) {
        const reused = pool.pop();
        this.#buf = reused === undefined ? new Uint8Array(POOL_BLOCK) : new Uint8Array(reused);
      } else {
        this.#buf = new Uint8Array(want);
      }
      this.#inSlab = false;
      this.#start = this.#end = 0;
    }
    return this.#claim(n);
  }

  /** Take `n` bytes at the end of the current block (room was checked). */
  #claim(n: number): number {
    const at = this.#end;
    this.#end += n;
    if (this.#inSlab) shared.used = this.#end;
    return at;
  }

  #grew(n: number): void {
    const wasEmpty = this.#size === 0;
    this.#size += n;
    if (wasEmpty) this.#listener.onOutput();
  }
}
