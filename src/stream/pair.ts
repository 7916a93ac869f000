/**
 * In-memory connected pairs (byte channels, web duplexes), for the memory transport and tests.
 *
 * @module
 */

import { ConnectionClosedError, StreamClosedError } from "../errors.ts";
import {
  type ByteChannel,
  type ChannelConnection,
  channelReadable,
  channelWritable,
  READ_END,
  RESOLVED,
} from "./channel.ts";
import { Deferred } from "./deferred.ts";
import type { Duplex } from "./types.ts";

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
  /** A read waiting for data. */
  readonly #reader = new Deferred<Uint8Array | null>();
  /** Our writer waiting for the peer to read below the high-water mark. */
  readonly #drain = new Deferred<void>();

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
    if (this.#ended || this.#cancelled) return READ_END;
    return this.#reader.promise;
  }

  write(chunk: Uint8Array): void {
    if (this.#failure !== undefined) throw this.#failure;
    if (this.#writeClosed) throw new StreamClosedError("write after closeWrite()");
    // Copied: the reader keeps what it reads, and the writer may reuse its chunk once drained
    // (ByteChannel contract), as it may after a socket's write.
    if (chunk.byteLength > 0) this.peer.#deliver(chunk.slice());
  }

  /** `write()` hands the peer a copy. */
  get copiesWrites(): boolean {
    return true;
  }

  drained(): Promise<void> {
    if (this.#failure !== undefined) return Promise.reject(this.#failure);
    if (this.peer.#queued <= this.#highWaterMark) return RESOLVED;
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
    this.#reader.resolve(null);
  }

  abort(reason?: unknown): void {
    if (this.#failure !== undefined) return;
    const err = reason ?? new ConnectionClosedError("connection aborted");
    this.#fail(err);
    this.peer.#fail(err);
  }

  #deliver(chunk: Uint8Array): void {
    if (this.#cancelled || this.#failure !== undefined) return;
    if (this.#reader.waiting) {
      this.#reader.resolve(chunk);
      return;
    }
    this.#queue.push(chunk);
    this.#queued += chunk.byteLength;
  }

  #end(): void {
    this.#ended = true;
    if (this.#queue.length === 0) this.#reader.resolve(null);
  }

  #fail(err: unknown): void {
    if (this.#failure !== undefined) return;
    this.#failure = err;
    this.#queue = [];
    this.#queued = 0;
    this.#reader.reject(err);
    this.#drain.reject(err);
  }

  #releaseDrain(): void {
    this.#drain.resolve();
  }
}

/**
 * Two connected in-memory connections: bytes written to one's channel come out of the other's.
 * Closing the writing side ends the other side's reading (half-close); `abort` fails both
 * directions on both ends; `close` ends our writing side. Each chunk is copied once, as a
 * socket's write would, so the writer may reuse it; a writer waits while the other end holds
 * more than `highWaterMark` unread bytes (default 64 KiB).
 *
 * @example
 * ```ts
 * import { channelPair } from "@p2p-edge/libp2p/stream";
 * const [a, b] = channelPair();
 * a.channel.write(new Uint8Array([1]));
 * console.log(await b.channel.read()); // Uint8Array [1]
 * ```
 */
export function channelPair(
  options: { highWaterMark?: number } = {},
): [ChannelConnection, ChannelConnection] {
  const hwm = options.highWaterMark ?? 64 * 1024;
  const a = new PairChannel(hwm);
  const b = new PairChannel(hwm);
  a.peer = b;
  b.peer = a;
  return [new PairEnd(a), new PairEnd(b)];
}

/** One end of a {@link channelPair}. */
class PairEnd implements ChannelConnection {
  readonly channel: PairChannel;

  constructor(channel: PairChannel) {
    this.channel = channel;
  }

  async close(): Promise<void> {
    await this.channel.closeWrite().catch(() => {});
  }

  abort(reason?: unknown): void {
    this.channel.abort(reason);
  }
}

/**
 * Two connected web duplexes (a {@link channelPair} with web streams at both ends), for code
 * that speaks web streams: bytes written to one's `writable` come out of the other's `readable`.
 * `close` ends our writing side, `abort` fails both directions on both ends.
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
): [
  Duplex & { close(): Promise<void>; abort(reason?: unknown): void },
  Duplex & { close(): Promise<void>; abort(reason?: unknown): void },
] {
  const [a, b] = channelPair(options);
  return [webEnd(a), webEnd(b)];
}

/** One end of a {@link duplexPair}: a web duplex that can be closed and aborted. */
type WebDuplexEnd = Duplex & { close(): Promise<void>; abort(reason?: unknown): void };

function webEnd(end: ChannelConnection): WebDuplexEnd {
  const channel = end.channel;
  const readable = channelReadable(channel);
  const writable = channelWritable(channel);
  return {
    readable,
    writable,
    async close() {
      if (!writable.locked) await writable.close().catch(() => {});
      else await channel.closeWrite().catch(() => {});
    },
    abort: (reason) => channel.abort(reason),
  };
}
