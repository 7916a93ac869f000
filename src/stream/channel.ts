/**
 * Byte channels: the internal data path between transport, security and muxer, without web
 * streams (ARCHITECTURE.md, "A byte's path, socket to handler"). Each layer is one object whose `read()` pulls from the
 * layer below and whose `write()` pushes into it: no stream controllers, queues or pipes in
 * between, so a chunk costs one promise per layer on its way up and none on its way down, and an
 * idle connection holds no stream objects at all.
 *
 * Web streams stay at the two edges: a stream-based transport (WebSocket, WebTransport) converts
 * its streams to a channel once ({@link streamChannel}), and the public Stream builds fresh
 * `readable`/`writable` from its channel on first access ({@link channelReadable},
 * {@link channelWritable}). Connections carry their channel as a typed member
 * ({@link ChannelConnection}); no layer wraps a channel into a duplex and back.
 *
 * @module
 */

import { ConnectionClosedError, StreamClosedError } from "../errors.ts";
import type { Duplex } from "./types.ts";

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
 * A connection as the layers inside a node see it: its bytes as a {@link ByteChannel} plus its
 * teardown. What a transport produces (RawConnection), what a security protocol returns
 * (SecuredConnection), and what encrypters and muxers are handed.
 *
 * @example
 * ```ts
 * import type { ChannelConnection } from "@p2p-edge/libp2p/stream";
 * async function hangUp(c: ChannelConnection): Promise<void> {
 *   await c.channel.closeWrite();
 *   await c.close();
 * }
 * ```
 */
export interface ChannelConnection {
  /** The connection's bytes. The layer it is handed to owns it from then on. */
  readonly channel: ByteChannel;
  /** Close gracefully: flush pending writes, then close the underlying resource. */
  close(): Promise<void>;
  /** Tear down at once; pending reads and writes fail with `reason`. Idempotent. */
  abort(reason?: unknown): void;
}

/**
 * The one conversion of a stream-based transport (WebSocket, WebTransport, a web duplex handed
 * in by a user): a {@link ByteChannel} reading `duplex.readable` and writing `duplex.writable`
 * (both are locked from then on). `abort` on the channel calls the duplex's `abort` when it has
 * one.
 *
 * @example
 * ```ts
 * import { streamChannel } from "@p2p-edge/libp2p/stream";
 * const { readable, writable } = new TransformStream<Uint8Array, Uint8Array>();
 * const ch = streamChannel({ readable, writable });
 * ch.write(new Uint8Array([1, 2]));
 * console.log(await ch.read()); // Uint8Array [1, 2]
 * ```
 */
export function streamChannel(duplex: Duplex & { abort?(reason?: unknown): void }): ByteChannel {
  return new StreamChannel(duplex);
}

/**
 * A web duplex (a WebSocket's streams, a stream of another connection, a test pair) as a
 * connection the node's layers can take: its streams converted to a channel once
 * ({@link streamChannel}); `close` ends the writing side and then calls the duplex's `close` when
 * it has one, `abort` aborts the channel (and through it the duplex).
 *
 * @example
 * ```ts
 * import { duplexPair, streamConnection } from "@p2p-edge/libp2p/stream";
 * import { noise } from "@p2p-edge/libp2p/protocols/noise";
 * import { generateKeyPair } from "@p2p-edge/libp2p/keys";
 * const [a] = duplexPair();
 * const encrypter = noise({ privateKey: await generateKeyPair("Ed25519") });
 * const secured = encrypter.secureOutbound(streamConnection(a));
 * ```
 */
export function streamConnection(
  duplex: Duplex & { close?(): Promise<void>; abort?(reason?: unknown): void },
): ChannelConnection {
  const channel = streamChannel(duplex);
  return {
    channel,
    async close() {
      await channel.closeWrite().catch(noop);
      await duplex.close?.();
    },
    abort: (reason) => channel.abort(reason),
  };
}

const noop = (): void => {};

/** A {@link ByteChannel} over a duplex's web streams (see {@link streamChannel}). */
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

/**
 * `channel` with `prefix` read first: the bytes a handshake reader had buffered beyond its last
 * message. Returns `channel` itself when there is nothing to replay.
 *
 * @example
 * ```ts
 * import { channelPair, prefixChannel } from "@p2p-edge/libp2p/stream";
 * const [a] = channelPair();
 * const ch = prefixChannel(a.channel, [new Uint8Array([7])]);
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
