/**
 * Encoded frames waiting for the connection. Frames are encoded straight into shared blocks,
 * so everything produced before the writer runs goes out as one write, the payload is copied
 * exactly once, and the caller's chunk is free as soon as it has been queued.
 *
 * Two things here are for the receiver's sake (bench/RESULTS.md, "mixed pairs"):
 * - Blocks are at most {@link BULK_BLOCK} = 65,519 bytes and are filled to the brim (a payload
 *   continues in the next block), so under Noise, which seals every write on its own, each full
 *   block becomes exactly one full transport message: no 29-byte second message per 64 KiB
 *   frame, half the messages (and decryptions) for the receiver.
 * - A Data frame queued right after a Data frame of the same stream, before the writer took
 *   them, extends that frame (its length is patched) up to the session's `maxMessageSize`.
 *   The bytes on the wire and their order are the same; only headers go. A receiver that
 *   answers every Data frame with a WindowUpdate (js-libp2p) then sends a quarter as many.
 *
 * @module
 */

import { encodeHeaderInto } from "./codec.ts";
import { HEADER_LENGTH } from "./constants.ts";

/** Smallest block allocated for coalescing frames. */
const MIN_BLOCK = 1024;
/**
 * Largest block, and the size of every pooled one: Noise's largest plaintext per transport
 * message (noise/README.md "Wire Format": 65,535 bytes including the 16-byte tag), the usual
 * secure channel under yamux, so that one full block seals into one full message.
 */
export const BULK_BLOCK = 65_535 - 16;

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
const POOL_BLOCK = BULK_BLOCK;
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
  /** The last frame queued, when it is a Data frame that may still grow; undefined otherwise. */
  #lastData: { buf: Uint8Array; at: number; id: number; length: number } | undefined;
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
    this.#lastData = undefined;
    const at = this.#reserve(HEADER_LENGTH, HEADER_LENGTH);
    encodeHeaderInto(this.#buf!, at, type, flags, streamId, length);
    this.#grew(HEADER_LENGTH);
  }

  /**
   * Queue `payload` (copied) as Data of stream `streamId`. Without flags, right after a Data
   * frame of the same stream that was not taken yet, and while their sum stays within
   * `maxFrame`, the previous frame grows instead of a new one starting.
   */
  data(flags: number, streamId: number, payload: Uint8Array, maxFrame = 0): void {
    const n = payload.byteLength;
    const last = this.#lastData;
    if (flags === 0 && last !== undefined && last.id === streamId && last.length + n <= maxFrame) {
      last.length += n;
      setLength(last.buf, last.at, last.length);
      this.#append(payload);
      this.#grew(n);
      return;
    }
    const at = this.#reserve(HEADER_LENGTH, HEADER_LENGTH + n);
    const buf = this.#buf!;
    encodeHeaderInto(buf, at, 0, flags, streamId, n);
    this.#lastData = flags === 0 ? { buf, at, id: streamId, length: n } : undefined;
    this.#append(payload);
    this.#grew(HEADER_LENGTH + n);
  }

  /** Everything queued so far, in order, or undefined when empty. Resets the ping-reply count. */
  take(): Uint8Array[] | undefined {
    if (this.#size === 0) return undefined;
    const out = this.#full ?? [];
    this.#full = undefined;
    if (this.#end > this.#start) out.push(this.#buf!.subarray(this.#start, this.#end));
    // Size the next block after this batch; drop the current one so an idle session holds none.
    this.#hint = Math.min(BULK_BLOCK, Math.max(MIN_BLOCK, this.#size * 2));
    this.#lastData = undefined;
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
    this.#lastData = undefined;
    this.#full = undefined;
    this.#buf = undefined;
    this.#start = this.#end = this.#size = 0;
    this.pingReplies = 0;
  }

  /** Free bytes at the end of the current block that this outbox may claim. */
  #room(): number {
    const buf = this.#buf;
    if (buf === undefined) return 0;
    if (!this.#inSlab) return buf.byteLength - this.#end;
    return buf === shared.slab && this.#end === shared.used ? buf.byteLength - this.#end : 0;
  }

  /**
   * `n` contiguous bytes; when the current block lacks them, a new block sized for `want`
   * bytes (what the caller will write in all, spanning blocks) starts.
   */
  #reserve(n: number, want: number): number {
    if (this.#room() < n) this.#newBlock(want);
    return this.#claim(n);
  }

  /** Copy `bytes` in at the end, filling the current block and continuing in new ones. */
  #append(bytes: Uint8Array): void {
    const n = bytes.byteLength;
    let off = 0;
    while (off < n) {
      let room = this.#room();
      if (room === 0) {
        this.#newBlock(n - off);
        room = this.#room();
      }
      const k = Math.min(room, n - off);
      const at = this.#claim(k);
      this.#buf!.set(off === 0 && k === n ? bytes : bytes.subarray(off, off + k), at);
      off += k;
    }
  }

  /** Close the current block (its filled part joins #full) and start one for `want` bytes. */
  #newBlock(want: number): void {
    const buf = this.#buf;
    if (buf !== undefined && this.#end > this.#start) {
      (this.#full ??= []).push(buf.subarray(this.#start, this.#end));
    }
    if (want <= SLAB_MAX_FRAME && this.#hint <= MIN_BLOCK) {
      if (shared.slab.byteLength - shared.used < want) {
        shared.slab = new Uint8Array(SLAB_SIZE);
        shared.used = 0;
      }
      this.#buf = shared.slab;
      this.#inSlab = true;
      this.#start = this.#end = shared.used;
      return;
    }
    const size = Math.min(BULK_BLOCK, Math.max(want, this.#hint));
    if (size >= POOL_MIN) {
      const reused = pool.pop();
      this.#buf = reused === undefined ? new Uint8Array(POOL_BLOCK) : new Uint8Array(reused);
    } else {
      this.#buf = new Uint8Array(size);
    }
    this.#inSlab = false;
    this.#start = this.#end = 0;
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

/** Patch the length field (bytes 8-11, big-endian) of the header at `at`. */
function setLength(buf: Uint8Array, at: number, length: number): void {
  buf[at + 8] = length >>> 24;
  buf[at + 9] = (length >>> 16) & 0xff;
  buf[at + 10] = (length >>> 8) & 0xff;
  buf[at + 11] = length & 0xff;
}
