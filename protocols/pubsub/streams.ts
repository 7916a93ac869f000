/**
 * The pubsub stream I/O (libp2p/specs pubsub/README.md "Stream management"): frames are
 * `uvarint(len) ‖ RPC`; an inbound stream is only read, an outbound stream only written.
 *
 * - {@link FrameReader} reads frames from a web readable, refusing a declared length over the
 *   limit before any body byte is buffered (HARDENING.md rule 3).
 * - {@link OutboundQueue} is the write side of one peer: frames wait in a queue bounded in bytes
 *   (HARDENING.md rule 4); when a slow peer lets it fill, new frames are dropped and counted
 *   (go-libp2p-pubsub drops too: its per-peer queue is bounded at 32 RPCs), and a peer that
 *   keeps the queue full past a number of drops is reported as stalled so the service resets it.
 *
 * @module
 */

import { DecodeError, LimitExceededError, StreamClosedError } from "../../src/errors.ts";

/**
 * A pubsub frame longer than this is refused before allocation: js-libp2p's inbound RPC limit
 * (4 MiB, `maxInboundDataLength`; wave-2 research §2.4). go's default max message size is 1 MiB,
 * so every implementation's frames fit.
 */
export const DEFAULT_MAX_FRAME_BYTES = 4 * 1024 * 1024;

/**
 * Bytes queued to one peer and not yet written (HARDENING.md rule 4). A peer whose queue is
 * full loses new frames (they are dropped, counted) until it reads again.
 */
export const DEFAULT_MAX_QUEUED_BYTES = 8 * 1024 * 1024;

/** Frames dropped in a row to a peer whose queue stays full before it is reset (rule 4). */
export const DEFAULT_MAX_CONSECUTIVE_DROPS = 256;

/** Frames coalesced into one write at most (bounds one write's size, keeps writes large). */
const MAX_COALESCE_BYTES = 256 * 1024;

/**
 * Reads `uvarint(len) ‖ body` frames from a web readable. `next()` resolves with the next body,
 * or `undefined` at a clean end of stream. A declared length over `maxBytes` throws
 * LimitExceededError before the body is buffered; an end inside a frame throws
 * StreamClosedError. Bodies lying whole in one chunk are returned without a copy.
 *
 * @example
 * ```ts
 * import { FrameReader } from "./streams.ts";
 * const reader = new FrameReader(new Blob([new Uint8Array([2, 8, 1])]).stream(), 1024);
 * await reader.next(); // Uint8Array [8, 1]
 * await reader.next(); // undefined
 * ```
 */
export class FrameReader {
  readonly #reader: ReadableStreamDefaultReader<Uint8Array>;
  readonly #maxBytes: number;
  #chunk: Uint8Array = new Uint8Array(0);
  #offset = 0;

  /** Read from `readable` (locked until {@link release}), frames up to `maxBytes`. */
  constructor(readable: ReadableStream<Uint8Array>, maxBytes: number = DEFAULT_MAX_FRAME_BYTES) {
    this.#reader = readable.getReader();
    this.#maxBytes = maxBytes;
  }

  /** The next frame body, or `undefined` at the end of the stream. */
  async next(): Promise<Uint8Array | undefined> {
    // Header: up to 5 varint bytes cover every length we accept (< 2^35).
    let length = 0;
    let scale = 1;
    for (let i = 0;; i++) {
      if (i >= 5) throw new DecodeError("pubsub frame length varint too long");
      const b = await this.#byte(i === 0);
      if (b === undefined) return undefined;
      length += (b & 0x7f) * scale;
      if (length > this.#maxBytes) {
        throw new LimitExceededError(
          `pubsub frame over ${this.#maxBytes} bytes`,
          "PUBSUB_MAX_FRAME_BYTES",
        );
      }
      if (b < 0x80) break;
      scale *= 128;
    }
    const left = this.#chunk.byteLength - this.#offset;
    if (left >= length) {
      const body = this.#chunk.subarray(this.#offset, this.#offset + length);
      this.#offset += length;
      return body;
    }
    const body = new Uint8Array(length);
    let filled = 0;
    while (filled < length) {
      if (this.#offset >= this.#chunk.byteLength && !(await this.#fill())) {
        throw new StreamClosedError("pubsub stream ended inside a frame");
      }
      const take = Math.min(length - filled, this.#chunk.byteLength - this.#offset);
      body.set(this.#chunk.subarray(this.#offset, this.#offset + take), filled);
      this.#offset += take;
      filled += take;
    }
    return body;
  }

  /** Release the lock on the readable (no-op while a read is pending). */
  release(): void {
    try {
      this.#reader.releaseLock();
    } catch {
      // A pending read keeps the lock; the stream is being reset anyway.
    }
  }

  /** Cancel the readable. */
  cancel(reason?: unknown): void {
    this.#reader.cancel(reason).catch(() => {});
  }

  async #byte(first: boolean): Promise<number | undefined> {
    if (this.#offset >= this.#chunk.byteLength && !(await this.#fill())) {
      if (first) return undefined;
      throw new StreamClosedError("pubsub stream ended inside a frame header");
    }
    return this.#chunk[this.#offset++];
  }

  async #fill(): Promise<boolean> {
    for (;;) {
      const r = await this.#reader.read();
      if (r.done) return false;
      if (r.value.byteLength === 0) continue;
      this.#chunk = r.value;
      this.#offset = 0;
      return true;
    }
  }
}

/** Limits of an {@link OutboundQueue}. */
export interface OutboundQueueLimits {
  /** Bytes queued at most. Default {@link DEFAULT_MAX_QUEUED_BYTES}. */
  maxQueuedBytes?: number;
  /** Drops in a row before `onStall`. Default {@link DEFAULT_MAX_CONSECUTIVE_DROPS}. */
  maxConsecutiveDrops?: number;
}

/** Something frames can be written to (a web writable's writer). */
export interface FrameSink {
  write(bytes: Uint8Array): Promise<void>;
}

/**
 * The write side of one peer. Frames are queued (bounded in bytes) until a sink is attached and
 * written in order, several coalesced into one write. Frames queued while the queue is full are
 * dropped; `onStall` runs once when drops in a row reach the limit; `onError` when a write
 * fails (the sink is detached then, and the queue kept for the replacement stream).
 *
 * @example
 * ```ts
 * import { OutboundQueue } from "./streams.ts";
 * const written: Uint8Array[] = [];
 * const q = new OutboundQueue({ onError: () => {}, onStall: () => {} });
 * q.attach({ write: async (b) => void written.push(b) });
 * q.push(new Uint8Array([1, 0]));
 * ```
 */
export class OutboundQueue {
  readonly #maxBytes: number;
  readonly #maxDrops: number;
  readonly #onError: (err: unknown) => void;
  readonly #onStall: () => void;
  #frames: Uint8Array[] = [];
  #head = 0;
  #bytes = 0;
  #sink: FrameSink | undefined;
  #writing = false;
  #consecutiveDrops = 0;
  #closed = false;
  readonly #waiters: { n: number; resolve: () => void }[] = [];
  /** Set when a publication gave up waiting for room; cleared when a write goes through. */
  congested = false;
  /** Frames dropped because the queue was full. */
  dropped = 0;
  /** Frames written. */
  written = 0;

  /** A queue reporting write failures to `onError` and a stalled peer to `onStall`. */
  constructor(
    init: { onError: (err: unknown) => void; onStall: () => void } & OutboundQueueLimits,
  ) {
    this.#maxBytes = init.maxQueuedBytes ?? DEFAULT_MAX_QUEUED_BYTES;
    this.#maxDrops = init.maxConsecutiveDrops ?? DEFAULT_MAX_CONSECUTIVE_DROPS;
    this.#onError = init.onError;
    this.#onStall = init.onStall;
  }

  /** Bytes waiting. */
  get queuedBytes(): number {
    return this.#bytes;
  }

  /** True while a sink is attached. */
  get attached(): boolean {
    return this.#sink !== undefined;
  }

  /** Queue a frame; false when it was dropped (queue full or closed). */
  push(bytes: Uint8Array): boolean {
    if (this.#closed) return false;
    if (!this.hasRoom(bytes.byteLength)) {
      this.dropped++;
      if (++this.#consecutiveDrops === this.#maxDrops) this.#onStall();
      return false;
    }
    this.#consecutiveDrops = 0;
    this.#frames.push(bytes);
    this.#bytes += bytes.byteLength;
    if (this.#sink !== undefined && !this.#writing) this.#drain();
    return true;
  }

  /** True when a frame of `n` bytes fits (an empty queue takes any one frame). */
  hasRoom(n: number): boolean {
    return this.#bytes === 0 || this.#bytes + n <= this.#maxBytes;
  }

  /**
   * Resolves once a frame of `n` bytes fits, or the queue closed, or `signal` aborted (then it
   * rejects with the signal's reason). For our own publications: they wait for a slow peer
   * instead of being dropped (HARDENING.md rule 4 still bounds the queue).
   */
  waitForRoom(n: number, signal?: AbortSignal): Promise<void> {
    if (this.#closed || this.hasRoom(n)) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const waiter = {
        n,
        resolve: () => {
          signal?.removeEventListener("abort", onAbort);
          resolve();
        },
      };
      const onAbort = (): void => {
        const i = this.#waiters.indexOf(waiter);
        if (i >= 0) this.#waiters.splice(i, 1);
        reject(signal!.reason);
      };
      signal?.addEventListener("abort", onAbort, { once: true });
      this.#waiters.push(waiter);
    });
  }

  #wake(): void {
    while (this.#waiters.length > 0 && (this.#closed || this.hasRoom(this.#waiters[0].n))) {
      this.#waiters.shift()!.resolve();
    }
  }

  /** Put `bytes` first in the queue (a replacement stream's hello), never dropped. */
  unshift(bytes: Uint8Array): void {
    if (this.#closed) return;
    this.#compact();
    this.#frames.unshift(bytes);
    this.#bytes += bytes.byteLength;
  }

  /** Write queued and future frames to `sink`. */
  attach(sink: FrameSink): void {
    if (this.#closed) return;
    this.#sink = sink;
    if (!this.#writing) this.#drain();
  }

  /** Stop writing to the current sink (frames stay queued). */
  detach(): void {
    this.#sink = undefined;
  }

  /** Drop everything; later pushes are refused. */
  close(): void {
    this.#closed = true;
    for (const w of this.#waiters.splice(0)) w.resolve();
    this.#sink = undefined;
    this.#frames = [];
    this.#head = 0;
    this.#bytes = 0;
  }

  #compact(): void {
    if (this.#head > 0) {
      this.#frames = this.#frames.slice(this.#head);
      this.#head = 0;
    }
  }

  async #drain(): Promise<void> {
    this.#writing = true;
    try {
      while (this.#sink !== undefined && this.#head < this.#frames.length) {
        const sink = this.#sink;
        // Coalesce queued frames into one write, up to MAX_COALESCE_BYTES.
        let end = this.#head;
        let size = 0;
        while (end < this.#frames.length) {
          const next = this.#frames[end].byteLength;
          if (end > this.#head && size + next > MAX_COALESCE_BYTES) break;
          size += next;
          end++;
        }
        let out: Uint8Array;
        if (end === this.#head + 1) {
          out = this.#frames[this.#head];
        } else {
          out = new Uint8Array(size);
          let o = 0;
          for (let i = this.#head; i < end; i++) {
            out.set(this.#frames[i], o);
            o += this.#frames[i].byteLength;
          }
        }
        try {
          await sink.write(out);
        } catch (err) {
          if (this.#sink === sink) this.#sink = undefined;
          // The frames stay queued for a replacement stream.
          this.#onError(err);
          return;
        }
        if (this.#closed) return;
        for (let i = this.#head; i < end; i++) this.#frames[i] = EMPTY;
        this.written += end - this.#head;
        this.#head = end;
        this.#bytes -= size;
        this.congested = false;
        this.#wake();
        if (this.#head > 64 && this.#head * 2 > this.#frames.length) this.#compact();
      }
      if (this.#head === this.#frames.length) {
        this.#frames = [];
        this.#head = 0;
      }
    } finally {
      this.#writing = false;
    }
    // A sink attached while the last write was failing, or frames pushed meanwhile.
    if (this.#sink !== undefined && this.#head < this.#frames.length) this.#drain();
  }
}

const EMPTY = new Uint8Array(0);
