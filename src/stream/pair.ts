/**
 * In-memory connected duplex pairs, for the memory transport and for tests.
 *
 * @module
 */

import { ConnectionClosedError, StreamClosedError } from "../errors.ts";
import { type ByteChannel, channelDuplex, RESOLVED } from "./channel.ts";
import type { ClosableDuplex } from "./types.ts";

/** A settle-once promise handle. */
interface Waiter<T> {
  resolve(value: T): void;
  reject(reason: unknown): void;
}

/**
 * One end of an in-memory pair: writes land in the peer's queue, reads take from ours. A writer
 * waits in `drained()` while the peer holds more than `highWaterMark` unread bytes.
 */
class PairChannel implements ByteChannel {
  peer!: PairChannel;
  readonly #highWaterMark: number;
  #queue: Uint8Array[] = [];
  #queued = 0;
  /** The peer closed its writing side: EOF after the queue. */
  #ended = false;
  /** We stopped reading: what arrives is dropped. */
  #cancelled = false;
  #writeClosed = false;
  #failure: unknown;
  #reader: Waiter<Uint8Array | null> | undefined;
  /** Our writer waiting for the peer to read below the high-water mark. */
  #drain: { promise: Promise<void> } & Waiter<void> | undefined;

  constructor(highWaterMark: number) {
    this.#highWaterMark = highWaterMark;
  }

  read(): Promise<Uint8Array | null> {
    if (this.#failure !== undefined) return Promise.reject(this.#failure);
    const chunk = this.#queue.shift();
    if (chunk !== undefined) {
      this.#queued -= chunk.byteLength;
      if (this.#queued <= this.#highWaterMark) this.peer.#releaseDrain();
      return Promise.resolve(chunk);
    }
    if (this.#ended || this.#cancelled) return Promise.resolve(null);
    return new Promise((resolve, reject) => (this.#reader = { resolve, reject }));
  }

  write(chunk: Uint8Array): void {
    if (this.#failure !== undefined) throw this.#failure;
    if (this.#writeClosed) throw new StreamClosedError("write after closeWrite()");
    // Copied: the reader keeps what it reads, and the writer may reuse its chunk once drained
    // (ByteChannel contract), as it may after a socket's write.
    if (chunk.byteLength > 0) this.peer.#deliver(chunk.slice());
  }

  drained(): Promise<void> {
    if (this.#failure !== undefined) return Promise.reject(this.#failure);
    if (this.peer.#queued <= this.#highWaterMark) return RESOLVED;
    if (this.#drain === undefined) {
      const waiter = {} as { promise: Promise<void> } & Waiter<void>;
      waiter.promise = new Promise<void>((resolve, reject) => {
        waiter.resolve = resolve;
        waiter.reject = reject;
      });
      this.#drain = waiter;
    }
    return this.#drain.promise;
  }

  closeWrite(): Promise<void> {
    if (this.#failure !== undefined) return Promise.reject(this.#failure);
    if (!this.#writeClosed) {
      this.#writeClosed = true;
      this.peer.#end();
    }
    return RESOLVED;
  }

  cancelRead(): void {
    this.#cancelled = true;
    this.#queue = [];
    this.#queued = 0;
    this.peer.#releaseDrain();
    this.#takeReader()?.resolve(null);
  }

  abort(reason?: unknown): void {
    if (this.#failure !== undefined) return;
    const err = reason ?? new ConnectionClosedError("connection aborted");
    this.#fail(err);
    this.peer.#fail(err);
  }

  #deliver(chunk: Uint8Array): void {
    if (this.#cancelled || this.#failure !== undefined) return;
    const reader = this.#takeReader();
    if (reader !== undefined) {
      reader.resolve(chunk);
      return;
    }
    this.#queue.push(chunk);
    this.#queued += chunk.byteLength;
  }

  #end(): void {
    this.#ended = true;
    if (this.#queue.length === 0) this.#takeReader()?.resolve(null);
  }

  #fail(err: unknown): void {
    if (this.#failure !== undefined) return;
    this.#failure = err;
    this.#queue = [];
    this.#queued = 0;
    this.#takeReader()?.reject(err);
    const drain = this.#drain;
    this.#drain = undefined;
    drain?.reject(err);
  }

  #releaseDrain(): void {
    const drain = this.#drain;
    this.#drain = undefined;
    drain?.resolve();
  }

  #takeReader(): Waiter<Uint8Array | null> | undefined {
    const reader = this.#reader;
    this.#reader = undefined;
    return reader;
  }
}

/**
 * Two connected duplexes: bytes written to one come out of the other. Each end is a
 * {@link channelDuplex}: layers built on byte channels (Noise, yamux, multistream) use its channel
 * directly, and its `readable`/`writable` are built on first use for everything else. Closing
 * the writing side ends the other side's reading (half-close); `abort` fails both directions on
 * both ends. Each chunk is copied once, as a socket's write would, so the writer may reuse it; a
 * writer waits while the other end holds more than `highWaterMark` unread bytes (default 64 KiB).
 *
 * @example
 * ```ts
 * import { duplexPair } from "@p2p-edge/libp2p/stream";
 * const [a, b] = duplexPair();
 * const w = a.writable.getWriter();
 * await w.write(new Uint8Array([1]));
 * const { value } = await b.readable.getReader().read(); // Uint8Array [1]
 * ```
 */
export function duplexPair(
  options: { highWaterMark?: number } = {},
): [ClosableDuplex, ClosableDuplex] {
  const hwm = options.highWaterMark ?? 64 * 1024;
  const a = new PairChannel(hwm);
  const b = new PairChannel(hwm);
  a.peer = b;
  b.peer = a;
  const end = (channel: PairChannel): ClosableDuplex =>
    channelDuplex(channel, async (flush) => {
      await (flush ?? channel.closeWrite()).catch(() => {});
    });
  return [end(a), end(b)];
}
