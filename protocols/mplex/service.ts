/**
 * mplex over a connection: the reader loop, the writer and the muxer/factory objects. This is
 * the only mplex file that touches the connection.
 *
 * @module
 */

import {
  AbortError,
  ConnectionClosedError,
  Libp2pError,
  StreamResetError,
} from "../../src/errors.ts";
import type {
  MuxedStream,
  StreamMuxer,
  StreamMuxerFactory,
  StreamMuxerInit,
} from "../../src/muxer.ts";
import type { AbortOptions } from "../../src/stream/types.ts";
import type { ByteChannel, ChannelConnection } from "../../src/stream/channel.ts";
import type { MplexMessage } from "./codec.ts";
import { type DecodeStep, MplexDecoder } from "./decoder.ts";
import {
  MAX_MESSAGE_SIZE_OPTION,
  MAX_SLOW_READER_TIMEOUT,
  MPLEX_PROTOCOL_ID,
  MplexFlag,
  STARVATION_YIELD_MS,
} from "./constants.ts";
import {
  DEFAULT_MPLEX_LIMITS,
  type MplexLimits,
  MplexSession,
  type MplexSessionEvent,
  type MplexStreamState,
} from "./session.ts";
import { MplexStream } from "./stream.ts";
import { FrameWriter } from "./writer.ts";

/** Options of {@link mplex}. Every field is optional; defaults are listed per field. */
export interface MplexOptions {
  /**
   * Streams the remote may have open with us at once; a NewStream beyond it is answered with a
   * reset. Default 1024 (DEFAULT_MAX_INBOUND_STREAMS).
   */
  maxInboundStreams?: number;
  /** Streams we may have open at once; newStream() beyond it rejects. Default 1024. */
  maxOutboundStreams?: number;
  /**
   * Largest data segment per message. Longer writes are split; a longer incoming message closes
   * the connection. Default 1 MiB (MAX_MESSAGE_SIZE, what go and js use), at most 16 MiB.
   */
  maxMessageSize?: number;
  /**
   * Unread bytes one stream may queue; data beyond it resets that stream (mplex has no flow
   * control). Default 4 MiB; must be at least maxMessageSize.
   */
  maxStreamBufferSize?: number;
  /**
   * Unread bytes all streams of one connection may queue together; data beyond it resets the
   * stream it arrived on. Default 64 MiB; must be at least maxStreamBufferSize.
   */
  maxSessionBufferSize?: number;
  /**
   * Milliseconds the connection's reader waits for a stream that is over its buffer to be read
   * before it resets that stream; meanwhile the whole connection is paused. 0 resets at once
   * (js-libp2p's behaviour). Default 5000 (DEFAULT_SLOW_READER_TIMEOUT), at most 600000.
   */
  slowReaderTimeout?: number;
}

function positiveInt(
  name: string,
  value: unknown,
  fallback: number,
  max?: number,
  min = 1,
): number {
  if (value === undefined) return fallback;
  if (typeof value !== "number" || !Number.isSafeInteger(value)) {
    throw new TypeError(`mplex option ${name} must be an integer, got ${String(value)}`);
  }
  if (value < min || (max !== undefined && value > max)) {
    throw new RangeError(`mplex option ${name} must be in ${min}..${max ?? "2^53"}, got ${value}`);
  }
  return value;
}

/**
 * Validate options and fill in the defaults. Throws TypeError/RangeError.
 *
 * @example
 * ```ts
 * import { mplexLimits } from "@p2p-edge/libp2p/protocols/mplex";
 * mplexLimits({ maxInboundStreams: 64 }).maxMessageSize; // 1048576
 * ```
 */
export function mplexLimits(options: MplexOptions = {}): MplexLimits {
  if (typeof options !== "object" || options === null) {
    throw new TypeError("mplex options must be an object");
  }
  const d = DEFAULT_MPLEX_LIMITS;
  const maxMessageSize = positiveInt(
    "maxMessageSize",
    options.maxMessageSize,
    d.maxMessageSize,
    MAX_MESSAGE_SIZE_OPTION,
  );
  const maxStreamBufferSize = positiveInt(
    "maxStreamBufferSize",
    options.maxStreamBufferSize,
    Math.max(d.maxStreamBufferSize, maxMessageSize),
  );
  const maxSessionBufferSize = positiveInt(
    "maxSessionBufferSize",
    options.maxSessionBufferSize,
    Math.max(d.maxSessionBufferSize, maxStreamBufferSize),
  );
  if (maxStreamBufferSize < maxMessageSize) {
    throw new RangeError("mplex option maxStreamBufferSize must be at least maxMessageSize");
  }
  if (maxSessionBufferSize < maxStreamBufferSize) {
    throw new RangeError("mplex option maxSessionBufferSize must be at least maxStreamBufferSize");
  }
  return {
    maxInboundStreams: positiveInt(
      "maxInboundStreams",
      options.maxInboundStreams,
      d.maxInboundStreams,
    ),
    maxOutboundStreams: positiveInt(
      "maxOutboundStreams",
      options.maxOutboundStreams,
      d.maxOutboundStreams,
    ),
    maxMessageSize,
    maxStreamBufferSize,
    maxSessionBufferSize,
    slowReaderTimeout: positiveInt(
      "slowReaderTimeout",
      options.slowReaderTimeout,
      d.slowReaderTimeout,
      MAX_SLOW_READER_TIMEOUT,
      0,
    ),
  };
}

/**
 * The mplex stream muxer (`/mplex/6.7.0`). Deprecated in libp2p in favour of yamux, but still
 * deployed; it has no flow control, so slow readers are reset at maxStreamBufferSize.
 *
 * @example
 * ```ts
 * import { mplex } from "@p2p-edge/libp2p/protocols/mplex";
 * import { channelPair } from "@p2p-edge/libp2p/stream";
 * const [a, b] = channelPair();
 * const factory = mplex({ maxInboundStreams: 256 });
 * const server = factory.createStreamMuxer(b, {
 *   direction: "inbound",
 *   onIncomingStream: (s) => void s.readable.pipeTo(s.writable), // echo
 * });
 * const client = factory.createStreamMuxer(a, { direction: "outbound" });
 * const s = await client.newStream();
 * ```
 */
export function mplex(options: MplexOptions = {}): StreamMuxerFactory {
  const limits = mplexLimits(options);
  return {
    protocol: MPLEX_PROTOCOL_ID,
    createStreamMuxer(conn, init): StreamMuxer {
      return new MplexMuxer(conn, init, limits);
    },
  };
}

/**
 * One mplex session over a connection; created through {@link mplex}.
 *
 * @example
 * ```ts
 * import { MplexMuxer, mplexLimits } from "@p2p-edge/libp2p/protocols/mplex";
 * import { channelPair } from "@p2p-edge/libp2p/stream";
 * const [a] = channelPair();
 * const m = new MplexMuxer(a, { direction: "outbound" }, mplexLimits());
 * m.abort();
 * ```
 */
export class MplexMuxer implements StreamMuxer {
  /** "/mplex/6.7.0". */
  readonly protocol: string = MPLEX_PROTOCOL_ID;
  /** Settles when the session has ended. */
  readonly closed: Promise<void>;
  #conn: ChannelConnection;
  #init: StreamMuxerInit;
  #session: MplexSession;
  #writer: FrameWriter;
  /** The connection's bytes: read by the reader loop, written by the frame writer. */
  #channel: ByteChannel;
  #byState = new WeakMap<MplexStreamState, MplexStream>();
  #open = new Set<MplexStream>();
  #ended = false;
  #failing = false;
  #finished = false;
  #closedDeferred = Promise.withResolvers<void>();
  #drained: PromiseWithResolvers<void> | undefined;
  /** Messages from the connection's bytes (sans-IO; state across chunk boundaries). */
  readonly #decoder: MplexDecoder;
  // A data piece the session could not take yet (its stream is over budget): the reader loop
  // pauses until the application reads or the slow-reader timeout resets the stream.
  #stalled: { stream: MplexStreamState; piece: Uint8Array } | undefined;
  #wake: (() => void) | undefined;
  #probe: Promise<void> | undefined;
  #probeSince = 0;

  /** Start a session over `conn` (which the session now owns). */
  constructor(
    conn: ChannelConnection,
    init: StreamMuxerInit,
    limits: MplexLimits,
  ) {
    this.#conn = conn;
    this.#init = init;
    this.closed = this.#closedDeferred.promise;
    this.#writer = new FrameWriter(
      conn.channel,
      (err) => this.#fail(asConnectionError(err, "mplex connection write failed")),
    );
    this.#session = new MplexSession(limits, {
      send: (id, flag, data) => this.#writer.push(id, flag, data),
      onFree: (st) => this.#onFree(st),
      onDrain: () => this.#wakeReader(),
    }, init.direction === "outbound");
    this.#channel = conn.channel;
    this.#decoder = new MplexDecoder(limits.maxMessageSize);
    this.#readLoop();
  }

  /** Streams not yet freed. */
  get streams(): readonly MuxedStream[] {
    return [...this.#open];
  }

  /** Open an outbound stream. Rejects when the session is closing/closed or at the limit. */
  newStream(options?: AbortOptions): Promise<MuxedStream> {
    try {
      if (options?.signal?.aborted) throw options.signal.reason ?? new AbortError();
      if (this.#ended) throw new ConnectionClosedError("mplex session is closed");
      const st = this.#session.openStream();
      return Promise.resolve(this.#track(st));
    } catch (err) {
      return Promise.reject(err);
    }
  }

  /**
   * Refuse new streams, wait until every open stream is freed (or `signal` aborts: then reset
   * them), then close the connection.
   */
  async close(options?: AbortOptions): Promise<void> {
    if (this.#ended) return await this.closed;
    this.#session.startClosing();
    const signal = options?.signal;
    if (this.#open.size > 0) {
      this.#drained ??= Promise.withResolvers<void>();
      const drained = this.#drained.promise;
      if (signal === undefined) await drained;
      else {
        const aborted = new Promise<void>((resolve) => {
          if (signal.aborted) resolve();
          signal.addEventListener("abort", () => resolve(), { once: true });
        });
        await Promise.race([drained, aborted]);
        for (const s of [...this.#open]) s.reset();
      }
    }
    if (this.#ended) return await this.closed;
    this.#ended = true;
    try {
      await this.#writer.close();
    } catch { /* the connection failed while closing: nothing left to do */ }
    this.#channel.cancelRead();
    this.#finish(undefined);
  }

  /** Tear the session down: every stream is reset, the connection aborted. */
  abort(reason?: unknown): void {
    this.#fail(reason ?? new ConnectionClosedError("mplex session aborted"));
  }

  #track(st: MplexStreamState): MplexStream {
    const s = new MplexStream(this.#session, st);
    this.#byState.set(st, s);
    this.#open.add(s);
    return s;
  }

  #onFree(st: MplexStreamState): void {
    const s = this.#byState.get(st);
    if (s === undefined) return;
    s.onFree();
    this.#open.delete(s);
    this.#wakeReader();
    if (this.#open.size === 0 && this.#drained !== undefined) this.#drained.resolve();
  }

  async #readLoop(): Promise<void> {
    try {
      for (;;) {
        const value = await this.#channel.read();
        if (value === null) break;
        if (this.#ended) return;
        let off = this.#onChunk(value, 0);
        while (off >= 0) {
          await this.#resolveStall();
          if (this.#ended) return;
          off = this.#onChunk(value, off);
        }
        if (this.#ended) return;
        await this.#yieldIfStarving();
      }
      if (this.#ended) return;
      // The remote ended the connection. Streams still open did not get their Close or Reset:
      // that is a failure for them, not an EOF.
      if (this.#open.size > 0) this.#fail(new ConnectionClosedError("mplex connection ended"));
      else {
        this.#ended = true;
        this.#writer.close().catch(() => {});
        this.#finish(undefined);
      }
    } catch (err) {
      this.#fail(asConnectionError(err, "mplex connection read failed"));
    }
  }

  /**
   * Keep one zero-delay timer armed as a probe; if it has not fired after STARVATION_YIELD_MS,
   * nothing but microtasks ran meanwhile, so wait for it (see STARVATION_YIELD_MS).
   */
  #yieldIfStarving(): Promise<void> | undefined {
    const now = performance.now();
    if (this.#probe === undefined) {
      this.#probeSince = now;
      this.#probe = new Promise<void>((resolve) =>
        setTimeout(() => {
          this.#probe = undefined;
          resolve();
        }, 0)
      );
      return undefined;
    }
    return now - this.#probeSince > STARVATION_YIELD_MS ? this.#probe : undefined;
  }

  #wakeReader(): void {
    const wake = this.#wake;
    if (wake === undefined) return;
    this.#wake = undefined;
    wake();
  }

  /**
   * Wait until the stalled piece fits (then deliver it), its stream went away (drop it), or the
   * slow-reader timeout passed (reset the stream, drop it).
   */
  async #resolveStall(): Promise<void> {
    const stall = this.#stalled!;
    this.#stalled = undefined;
    const { stream, piece } = stall;
    let timedOut = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = this.#session.limits.slowReaderTimeout;
    try {
      for (;;) {
        if (this.#ended) return;
        const ev = this.#session.receive({
          id: stream.id,
          flag: stream.initiator ? MplexFlag.MessageReceiver : MplexFlag.MessageInitiator,
          data: piece,
        });
        if (ev?.type !== "blocked") {
          if (ev !== undefined) this.#handle(ev);
          return;
        }
        if (timedOut || timeout === 0) {
          this.#handle(this.#session.overflow(stream, piece.byteLength));
          return;
        }
        await new Promise<void>((resolve) => {
          this.#wake = resolve;
          timer ??= setTimeout(() => {
            timedOut = true;
            this.#wakeReader();
          }, timeout);
        });
      }
    } finally {
      if (timer !== undefined) clearTimeout(timer);
      this.#wake = undefined;
    }
  }

  /**
   * Parse messages out of `chunk`. A data segment is delivered piece by piece as it arrives
   * (views into the chunk, no copies, no reassembly buffer); only a header split across chunks
   * is copied (at most 2 x 9 bytes). The length is checked against maxMessageSize as soon as the
   * header is complete, before any body byte is accepted.
   */
  #onChunk(chunk: Uint8Array, off: number): number {
    return this.#decoder.push(chunk, off, this.#onMessage);
  }

  /** One decoded message: the session says what it means; a blocked data piece pauses. */
  readonly #onMessage = (message: MplexMessage): DecodeStep => {
    const ev = this.#session.receive(message);
    if (ev?.type === "blocked") {
      this.#stalled = { stream: ev.stream, piece: message.data! };
      return "pause";
    }
    if (ev !== undefined) this.#handle(ev);
    return this.#ended ? "stop" : "next";
  };

  #handle(ev: MplexSessionEvent): void {
    switch (ev.type) {
      case "inbound": {
        const s = this.#track(ev.stream);
        const handler = this.#init.onIncomingStream;
        if (handler === undefined) {
          s.reset();
          return;
        }
        try {
          handler(s);
        } catch (err) {
          s.abort(err);
        }
        return;
      }
      case "data":
        this.#byState.get(ev.stream)?.onData(ev.data);
        return;
      case "remote-close":
        this.#byState.get(ev.stream)?.onRemoteClose();
        return;
      case "remote-reset":
        this.#byState.get(ev.stream)?.onReset(
          new StreamResetError(`mplex stream ${ev.stream.id} was reset by the remote`),
        );
        return;
      case "local-reset":
        this.#byState.get(ev.stream)?.onReset(
          new StreamResetError(`mplex stream ${ev.stream.id} reset: ${ev.error.message}`, {
            cause: ev.error,
          }),
        );
        return;
      case "blocked": // handled by #onChunk
        return;
    }
  }

  #fail(reason: unknown): void {
    if (this.#failing || this.#finished) return;
    this.#failing = true;
    this.#ended = true;
    const error = reason instanceof Error ? reason : new ConnectionClosedError(String(reason));
    // Every stream still open fails with a reset-class error that carries the cause.
    const streamError = new StreamResetError("mplex connection failed", { cause: error });
    for (const st of this.#session.resetAll()) this.#byState.get(st)?.onReset(streamError);
    this.#open.clear();
    this.#drained?.resolve();
    this.#wakeReader();
    this.#writer.abort(error);
    this.#channel.cancelRead(error);
    try {
      this.#conn.abort(error);
    } catch { /* already torn down */ }
    this.#finish(error);
  }

  #finish(error: Error | undefined): void {
    if (this.#finished) return;
    this.#finished = true;
    this.#closedDeferred.resolve();
    try {
      this.#init.onClose?.(error);
    } catch { /* a throwing callback must not break the session teardown */ }
  }
}

/**
 * Failures of the underlying connection reach streams as a library error: our own errors pass
 * through, anything else (a web-streams TypeError from an aborted pipe, a socket error) becomes
 * a ConnectionClosedError with the original as its cause.
 */
function asConnectionError(err: unknown, message: string): Error {
  return err instanceof Libp2pError ? err : new ConnectionClosedError(message, { cause: err });
}
