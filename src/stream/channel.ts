/**
 * Byte channels: the internal data path between transport, security and muxer, without web
 * streams (ARCHITECTURE.md, "The layers"). Each layer is one object whose `read()` pulls from the
 * layer below and whose `write()` pushes into it: no stream controllers, queues or pipes in
 * between, so a chunk costs one promise per layer on its way up and none on its way down, and an
 * idle connection holds no stream objects at all.
 *
 * Web streams stay at the edges: a {@link channelDuplex} builds its `readable`/`writable` on first
 * access, for code that speaks streams, while layers built on channels take the channel itself
 * with {@link takeChannel}. Any other duplex (WebSocket, an in-memory pair, a relayed stream) is
 * adapted by {@link takeChannel} through a reader and a writer.
 *
 * @module
 */

import { ConnectionClosedError, StreamClosedError } from "../errors.ts";
import type { ClosableDuplex, Duplex } from "./types.ts";

/**
 * One connection's bytes, both directions, as plain method calls.
 *
 * Reading: one `read()` at a time; it resolves with the next chunk (never empty), with `null`
 * once the remote side ended (or after `cancelRead`), and rejects with the failure once the
 * channel failed. Writing: `write()` queues a chunk and starts sending it at once; the channel may
 * keep using the chunk until `drained()` resolves, which it does once every chunk written so far
 * left this channel and everything below it that keeps references (a socket's kernel buffer
 * holds a copy). Until then the caller must not change the chunk; afterwards it may reuse it.
 * `drained()` is also where a writer waits (backpressure).
 *
 * @example
 * ```ts
 * import type { ByteChannel } from "@p2p-edge/libp2p/stream";
 * async function echo(ch: ByteChannel): Promise<void> {
 *   for (let chunk = await ch.read(); chunk !== null; chunk = await ch.read()) {
 *     ch.write(chunk);
 *     await ch.drained();
 *   }
 *   await ch.closeWrite();
 * }
 * ```
 */
export interface ByteChannel {
  /**
   * The next chunk from the remote side, or `null` at its end. One read at a time.
   *
   * With `into`, the channel may read into that buffer and resolve with a view of it
   * (`chunk.buffer === into.buffer`): the caller lends the buffer for this read and owns it
   * again afterwards, so it must copy out what it keeps before it reuses the buffer. A channel
   * that cannot read into a buffer ignores `into` and resolves with a chunk of its own, which
   * the caller owns as with a plain read. Lending lets a reader that copies anyway (a muxer
   * filling BYOB reads) reuse one buffer instead of allocating one per read.
   */
  read(into?: Uint8Array): Promise<Uint8Array | null>;
  /**
   * Queue `chunk` for sending; it must stay unchanged until `drained()` resolves. Throws the
   * failure when the channel failed, and StreamClosedError after {@link ByteChannel.closeWrite}.
   */
  write(chunk: Uint8Array): void;
  /**
   * Resolves once everything written so far left this layer and is no longer referenced (the
   * chunks may be reused); rejects if the channel failed.
   */
  drained(): Promise<void>;
  /**
   * True when this channel copies every chunk it is given (into a socket's kernel buffer, a
   * fresh ciphertext buffer, a peer's queue) and holds none once `drained()` resolved, whatever
   * is below it: a writer may then recycle its buffers. A channel over a web stream cannot know
   * what the stream's sink keeps (an identity TransformStream hands the chunk itself to its
   * reader), so it leaves this unset.
   */
  readonly copiesWrites?: boolean;
  /** Flush what was written, then end our direction (TCP FIN). Reading goes on. */
  closeWrite(): Promise<void>;
  /** We read no more: a pending read resolves `null`, bytes still arriving are dropped. */
  cancelRead(reason?: unknown): void;
  /** Tear both directions down at once; pending and later calls fail with `reason`. */
  abort(reason?: unknown): void;
}

/** A promise already resolved, returned by `drained()` when nothing is queued. */
export const RESOLVED: Promise<void> = Promise.resolve();

/** A promise already resolved with `null`, returned by `read()` after the end of the input. */
export const READ_END: Promise<null> = Promise.resolve(null);

/**
 * The property under which a duplex offers its channel; see {@link takeChannel}.
 */
export const channelKey: unique symbol = Symbol.for("@p2p-edge/libp2p/byte-channel");

/** A duplex that can hand its {@link ByteChannel} to a layer built on channels. */
export interface ChannelOwner {
  /** The channel, once, if the duplex's web streams were not used; `undefined` otherwise. */
  [channelKey](): ByteChannel | undefined;
}

/**
 * The channel of `duplex`: its own when it has one whose web streams were never touched (a
 * {@link channelDuplex}), otherwise an adapter reading its `readable` and writing its `writable`
 * (both are locked from then on). `abort` on the adapter calls the duplex's `abort` when it has
 * one.
 *
 * @example
 * ```ts
 * import { duplexPair, takeChannel } from "@p2p-edge/libp2p/stream";
 * const [a, b] = duplexPair();
 * const ch = takeChannel(a);
 * ch.write(new Uint8Array([1, 2]));
 * console.log(await takeChannel(b).read()); // Uint8Array [1, 2]
 * ```
 */
export function takeChannel(duplex: Duplex & { abort?(reason?: unknown): void }): ByteChannel {
  return takeOwnChannel(duplex) ?? new StreamChannel(duplex);
}

/**
 * The duplex's own channel, when it is a {@link ChannelOwner} whose web streams were never
 * touched; `undefined` for any other duplex (which is then left as it is).
 *
 * @example
 * ```ts
 * import { duplexPair, takeOwnChannel } from "@p2p-edge/libp2p/stream";
 * const [a] = duplexPair();
 * console.log(takeOwnChannel(a) !== undefined); // true: a pair end is a channelDuplex
 * const { readable, writable } = new TransformStream<Uint8Array, Uint8Array>();
 * console.log(takeOwnChannel({ readable, writable })); // undefined: streams only
 * ```
 */
export function takeOwnChannel(duplex: Duplex): ByteChannel | undefined {
  return (duplex as Partial<ChannelOwner>)[channelKey]?.call(duplex);
}

const noop = (): void => {};

/** A {@link ByteChannel} over a duplex's web streams (the adapter {@link takeChannel} builds). */
class StreamChannel implements ByteChannel {
  readonly #reader: ReadableStreamDefaultReader<Uint8Array>;
  readonly #writer: WritableStreamDefaultWriter<Uint8Array>;
  readonly #abort: ((reason?: unknown) => void) | undefined;
  #last: Promise<void> = RESOLVED;
  #failure: unknown;
  #writeClosed = false;

  constructor(duplex: Duplex & { abort?(reason?: unknown): void }) {
    this.#reader = duplex.readable.getReader();
    this.#writer = duplex.writable.getWriter();
    this.#writer.closed.catch(noop);
    this.#abort = duplex.abort?.bind(duplex);
  }

  async read(): Promise<Uint8Array | null> {
    for (;;) {
      const { value, done } = await this.#reader.read();
      if (done) return null;
      if (value.byteLength > 0) return value;
    }
  }

  write(chunk: Uint8Array): void {
    if (this.#failure !== undefined) throw this.#failure;
    if (this.#writeClosed) throw new StreamClosedError("write after closeWrite()");
    const p = this.#writer.write(chunk);
    p.catch((err) => (this.#failure ??= err));
    this.#last = p;
  }

  drained(): Promise<void> {
    return this.#last;
  }

  async closeWrite(): Promise<void> {
    if (this.#writeClosed) return;
    this.#writeClosed = true;
    await this.#writer.close();
  }

  cancelRead(reason?: unknown): void {
    this.#reader.cancel(reason).catch(noop);
  }

  abort(reason?: unknown): void {
    this.#failure ??= reason ?? new ConnectionClosedError("connection aborted");
    this.#abort?.(reason);
    this.#writer.abort(reason).catch(noop);
    this.#reader.cancel(reason).catch(noop);
  }
}

/**
 * A ReadableStream over `channel` (no read-ahead: each pull is one `read()`); cancelling it
 * cancels the channel's reading.
 */
export function channelReadable(channel: ByteChannel): ReadableStream<Uint8Array> {
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      const chunk = await channel.read();
      if (chunk === null) controller.close();
      else controller.enqueue(chunk);
    },
    cancel(reason) {
      channel.cancelRead(reason);
    },
  }, { highWaterMark: 0 });
}

/**
 * A WritableStream over `channel`: each write is handed to the channel once the previous one
 * drained, and up to `highWaterMark` bytes (default: one chunk) wait in the stream's queue before
 * `writer.ready` waits; close is `closeWrite()`, abort aborts the channel (both directions, as a
 * socket's would).
 */
export function channelWritable(
  channel: ByteChannel,
  highWaterMark?: number,
): WritableStream<Uint8Array> {
  return new WritableStream<Uint8Array>({
    write(chunk) {
      if (!(chunk instanceof Uint8Array)) {
        throw new TypeError("connections carry Uint8Array chunks");
      }
      channel.write(chunk);
      return channel.drained();
    },
    close() {
      return channel.closeWrite();
    },
    abort(reason) {
      channel.abort(reason);
    },
  }, highWaterMark === undefined ? undefined : new ByteLengthQueuingStrategy({ highWaterMark }));
}

/** A {@link ClosableDuplex} that can hand over its {@link ByteChannel}: see {@link channelDuplex}. */
export type ChannelDuplex = ClosableDuplex & ChannelOwner;

/**
 * A {@link ClosableDuplex} backed by a {@link ByteChannel}. Layers built on channels take the
 * channel ({@link takeChannel}); `readable` and `writable` are built on first access for code that
 * speaks web streams. Using both is a programming error: once the channel was taken, the streams
 * throw TypeError, and once a stream exists, the channel is no longer handed out (takeChannel then
 * adapts the streams).
 *
 * The result is a class instance (one small object per layer and connection, its members on the
 * prototype): to change a member, wrap it (`{ readable: conn.readable, writable: mine, close: ()
 * => conn.close(), abort: (r) => conn.abort(r) }`) rather than spreading it, which copies no
 * getters or methods.
 *
 * `close` implements the duplex's `close()`. It gets the closing of the `writable` when that
 * stream exists and nobody holds it (its queued chunks are flushed into the channel, then
 * `closeWrite()` runs), which it must wait for, within its limits, before it closes the channel.
 * `writableHighWaterMark`: bytes the `writable` queues ahead of the channel (default one chunk).
 *
 * @example
 * ```ts
 * import { channelDuplex, takeChannel, type ByteChannel } from "@p2p-edge/libp2p/stream";
 * declare const channel: ByteChannel;
 * const conn = channelDuplex(channel, (flush) => flush ?? channel.closeWrite());
 * const same = takeChannel(conn); // the channel itself: no stream layer in between
 * ```
 */
export function channelDuplex(
  channel: ByteChannel,
  close: (flush: Promise<void> | undefined) => Promise<void>,
  options: { writableHighWaterMark?: number } = {},
): ChannelDuplex {
  return new ChannelBackedDuplex(channel, close, options.writableHighWaterMark);
}

/** What {@link channelDuplex} builds. */
class ChannelBackedDuplex implements ChannelDuplex {
  readonly #channel: ByteChannel;
  readonly #close: (flush: Promise<void> | undefined) => Promise<void>;
  #readable: ReadableStream<Uint8Array> | undefined;
  #writable: WritableStream<Uint8Array> | undefined;
  #taken = false;
  readonly #writableHighWaterMark: number | undefined;

  constructor(
    channel: ByteChannel,
    close: (flush: Promise<void> | undefined) => Promise<void>,
    writableHighWaterMark: number | undefined,
  ) {
    this.#channel = channel;
    this.#close = close;
    this.#writableHighWaterMark = writableHighWaterMark;
  }

  get readable(): ReadableStream<Uint8Array> {
    this.#checkNotTaken();
    return this.#readable ??= channelReadable(this.#channel);
  }

  get writable(): WritableStream<Uint8Array> {
    this.#checkNotTaken();
    return this.#writable ??= channelWritable(this.#channel, this.#writableHighWaterMark);
  }

  close(): Promise<void> {
    const writable = this.#writable;
    return this.#close(writable !== undefined && !writable.locked ? writable.close() : undefined);
  }

  abort(reason?: unknown): void {
    this.#channel.abort(reason);
  }

  [channelKey](): ByteChannel | undefined {
    if (this.#taken || this.#readable !== undefined || this.#writable !== undefined) {
      return undefined;
    }
    this.#taken = true;
    return this.#channel;
  }

  #checkNotTaken(): void {
    if (this.#taken) {
      throw new TypeError("this connection is read and written through its byte channel");
    }
  }
}

/**
 * The `close` of a {@link channelDuplex} whose channel queues nothing itself (it seals or passes
 * each write straight down): wait for `flush` when given, otherwise start `channel.closeWrite()`,
 * then close `below`, the connection underneath, whose own close bounds the wait (a TCP socket
 * gives up after its closeTimeoutMs). Without a closable `below`, closing is `closeWrite()`.
 *
 * @example
 * ```ts
 * import { channelDuplex, layeredClose, type ByteChannel } from "@p2p-edge/libp2p/stream";
 * import type { ClosableDuplex } from "@p2p-edge/libp2p";
 * declare const channel: ByteChannel;
 * declare const raw: ClosableDuplex;
 * const secured = channelDuplex(channel, layeredClose(channel, raw));
 * ```
 */
export function layeredClose(
  channel: ByteChannel,
  below: Duplex & { close?(): Promise<void> },
): (flush: Promise<void> | undefined) => Promise<void> {
  return async (flush) => {
    if (below.close === undefined) return await (flush ?? channel.closeWrite());
    if (flush !== undefined) await flush.catch(() => {});
    else channel.closeWrite().catch(() => {});
    await below.close();
  };
}

/**
 * `channel` with `prefix` read first: the bytes a handshake reader had buffered beyond its last
 * message. Returns `channel` itself when there is nothing to replay.
 *
 * @example
 * ```ts
 * import { prefixChannel, takeChannel, duplexPair } from "@p2p-edge/libp2p/stream";
 * const [a] = duplexPair();
 * const ch = prefixChannel(takeChannel(a), [new Uint8Array([7])]);
 * console.log(await ch.read()); // Uint8Array [7]
 * ```
 */
export function prefixChannel(channel: ByteChannel, prefix: Uint8Array[]): ByteChannel {
  const pending = prefix.filter((c) => c.byteLength > 0);
  if (pending.length === 0) return channel;
  return new PrefixedChannel(channel, pending);
}

/**
 * A {@link ByteChannel} layer that passes every call to the channel below: extend it and
 * override what the layer changes. A class rather than an object of closures, because such a
 * layer lives as long as its connection.
 *
 * @example
 * ```ts
 * import { type ByteChannel, ForwardingChannel } from "@p2p-edge/libp2p/stream";
 * class CountingChannel extends ForwardingChannel {
 *   written = 0;
 *   override write(chunk: Uint8Array): void {
 *     this.written += chunk.byteLength;
 *     super.write(chunk);
 *   }
 * }
 * declare const below: ByteChannel;
 * const counting = new CountingChannel(below);
 * ```
 */
export class ForwardingChannel implements ByteChannel {
  /** The channel every call goes to. */
  protected readonly below: ByteChannel;

  /** A layer over `below`. */
  constructor(below: ByteChannel) {
    this.below = below;
  }

  /** {@link ByteChannel.read} of the channel below (`into` is passed on). */
  read(into?: Uint8Array): Promise<Uint8Array | null> {
    return this.below.read(into);
  }

  /** {@link ByteChannel.write} of the channel below. */
  write(chunk: Uint8Array): void {
    this.below.write(chunk);
  }

  /** {@link ByteChannel.drained} of the channel below. */
  drained(): Promise<void> {
    return this.below.drained();
  }

  /** {@link ByteChannel.copiesWrites} of the channel below. */
  get copiesWrites(): boolean {
    return this.below.copiesWrites === true;
  }

  /** {@link ByteChannel.closeWrite} of the channel below. */
  closeWrite(): Promise<void> {
    return this.below.closeWrite();
  }

  /** {@link ByteChannel.cancelRead} of the channel below. */
  cancelRead(reason?: unknown): void {
    this.below.cancelRead(reason);
  }

  /** {@link ByteChannel.abort} of the channel below. */
  abort(reason?: unknown): void {
    this.below.abort(reason);
  }
}

/** Reads `pending` first, then the channel below. */
class PrefixedChannel extends ForwardingChannel {
  #pending: Uint8Array[] | undefined;

  constructor(below: ByteChannel, pending: Uint8Array[]) {
    super(below);
    this.#pending = pending;
  }

  override read(into?: Uint8Array): Promise<Uint8Array | null> {
    const next = this.#pending?.shift();
    if (next === undefined) {
      this.#pending = undefined;
      return this.below.read(into);
    }
    return Promise.resolve(next);
  }

  override cancelRead(reason?: unknown): void {
    this.#pending = undefined;
    this.below.cancelRead(reason);
  }

  override abort(reason?: unknown): void {
    this.#pending = undefined;
    this.below.abort(reason);
  }
}
