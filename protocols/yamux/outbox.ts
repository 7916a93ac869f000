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
 * A byte queue of encoded frames. `take()` hands out everything queued so far.
 *
 * @example
 * ```ts
 * import { Outbox } from "./outbox.ts";
 * const box = new Outbox(() => {});
 * box.frame(2, 1, 0, 7);
 * box.take(); // [Uint8Array(12)]
 * ```
 */
export class Outbox {
  /** Filled parts of previous blocks not taken yet. */
  #full: Uint8Array[] = [];
  #buf: Uint8Array | undefined;
  #start = 0;
  #end = 0;
  #size = 0;
  #hint = MIN_BLOCK;
  #onNonEmpty: () => void;
  /** Ping replies queued since the last take (the session bounds it). */
  pingReplies = 0;

  /** `onNonEmpty` runs when the queue goes from empty to non-empty. */
  constructor(onNonEmpty: () => void) {
    this.#onNonEmpty = onNonEmpty;
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
    const out = this.#full;
    this.#full = [];
    if (this.#end > this.#start) out.push(this.#buf!.subarray(this.#start, this.#end));
    // Size the next block after this batch; drop the current one so an idle session holds none.
    this.#hint = Math.min(MAX_BLOCK, Math.max(MIN_BLOCK, this.#size * 2));
    this.#buf = undefined;
    this.#start = this.#end = 0;
    this.#size = 0;
    this.pingReplies = 0;
    return out;
  }

  /** Drop everything (the session is gone). */
  clear(): void {
    this.#full = [];
    this.#buf = undefined;
    this.#start = this.#end = this.#size = 0;
    this.pingReplies = 0;
  }

  #reserve(n: number): number {
    const buf = this.#buf;
    if (buf === undefined || buf.byteLength - this.#end < n) {
      if (buf !== undefined && this.#end > this.#start) {
        this.#full.push(buf.subarray(this.#start, this.#end));
      }
      this.#buf = new Uint8Array(Math.max(n, this.#hint));
      this.#start = this.#end = 0;
    }
    const at = this.#end;
    this.#end += n;
    return at;
  }

  #grew(n: number): void {
    const wasEmpty = this.#size === 0;
    this.#size += n;
    if (wasEmpty) this.#onNonEmpty();
  }
}
