/**
 * A WebTransport session presented to the node as a {@link StreamMuxer}: WebTransport is the
 * muxer (libp2p/specs webtransport/README.md: after the Noise handshake every libp2p stream is
 * a native WebTransport bidirectional stream), so each {@link MuxedStream} wraps one native
 * stream directly: one ReadableStream and one WritableStream layer, no framing.
 *
 * Runtime specifics stay behind {@link NativeSession}: the standard `WebTransport` API (browsers)
 * or Deno's raw QUIC streams with the WebTransport stream header handled by the adapter.
 *
 * @module
 */

import { ConnectionClosedError, StreamClosedError, StreamResetError } from "../../src/errors.ts";
import type {
  MuxedStream,
  MuxedStreamStatus,
  StreamMuxer,
  StreamMuxerInit,
} from "../../src/muxer.ts";
import type { AbortOptions, Direction, Timeline } from "../../src/stream/types.ts";
import { type ByteChannel, streamChannel } from "../../src/stream/channel.ts";

/** The protocol name a WebTransport session reports as its "muxer". */
export const WEBTRANSPORT_MUXER = "/webtransport";

/**
 * One native bidirectional stream. `prefix` holds bytes that were read past the WebTransport
 * stream header and belong to the stream's data.
 */
export interface NativeBidiStream {
  /** Bytes from the remote. */
  readonly readable: ReadableStream<Uint8Array>;
  /** Bytes to the remote; close = FIN, abort = RESET_STREAM where the runtime can send one. */
  readonly writable: WritableStream<Uint8Array>;
  /** Data already read from `readable` (after the stream header). */
  readonly prefix?: Uint8Array;
}

/**
 * What a runtime adapter provides for one established WebTransport session.
 *
 * @example
 * ```ts
 * import type { NativeSession } from "@p2p-edge/libp2p/transports/webtransport";
 * async function first(s: NativeSession): Promise<boolean> {
 *   return (await s.acceptBidi()) !== undefined;
 * }
 * ```
 */
export interface NativeSession {
  /** Open a bidirectional stream (the adapter writes any stream header). */
  openBidi(): Promise<NativeBidiStream>;
  /** The next stream the remote opened, or `undefined` once the session ended. */
  acceptBidi(): Promise<NativeBidiStream | undefined>;
  /** Close the session (and its QUIC connection) with an application code. */
  close(code?: number, reason?: string): void;
  /** Settles when the session ended for any reason. */
  readonly closed: Promise<void>;
}

let streamCounter = 0;

/** One libp2p stream = one native WebTransport bidirectional stream. */
class WebTransportStream implements MuxedStream {
  readonly id: string;
  readonly direction: Direction;
  readonly timeline: Timeline;
  readonly readable: ReadableStream<Uint8Array>;
  readonly writable: WritableStream<Uint8Array>;
  #status: MuxedStreamStatus = "open";
  #readDone = false;
  #writeDone = false;
  #reader: ReadableStreamDefaultReader<Uint8Array>;
  #writer: WritableStreamDefaultWriter<Uint8Array>;
  #readController!: ReadableStreamDefaultController<Uint8Array>;
  #writeController!: WritableStreamDefaultController;
  #closing: Promise<void> | undefined;
  #onFree: (s: WebTransportStream) => void;
  /** See {@link MuxedStream.lastActivity}: a plain field write per chunk, nothing more. */
  #active = performance.now();
  #freed = Promise.withResolvers<void>();
  #channel: ByteChannel | undefined;

  constructor(
    native: NativeBidiStream,
    direction: Direction,
    onFree: (s: WebTransportStream) => void,
  ) {
    this.id = `${direction === "outbound" ? "o" : "i"}${++streamCounter}`;
    this.direction = direction;
    this.timeline = { open: Date.now() };
    this.#onFree = onFree;
    this.#reader = native.readable.getReader();
    this.#writer = native.writable.getWriter();
    // The native writer's closed promise also reports a remote STOP_SENDING.
    this.#writer.closed.catch(() => {});
    let prefix = native.prefix !== undefined && native.prefix.byteLength > 0
      ? native.prefix
      : undefined;
    this.readable = new ReadableStream<Uint8Array>({
      start: (controller) => {
        this.#readController = controller;
      },
      pull: async (controller) => {
        if (prefix !== undefined) {
          controller.enqueue(prefix);
          prefix = undefined;
          return;
        }
        try {
          const { value, done } = await this.#reader.read();
          this.#active = performance.now();
          if (done) {
            controller.close();
            this.#readEnded();
          } else if (value.byteLength > 0) {
            controller.enqueue(value);
          }
        } catch (cause) {
          this.#fail(new StreamResetError("stream reset by the remote", { cause }), false);
        }
      },
      cancel: (reason) => {
        // STOP_SENDING: the remote's writes fail from now on.
        this.#reader.cancel(reason).catch(() => {});
        this.#readEnded();
      },
    }, { highWaterMark: 0 });
    this.writable = new WritableStream<Uint8Array>({
      start: (controller) => {
        this.#writeController = controller;
      },
      write: async (chunk) => {
        if (this.#writeDone) throw new StreamClosedError("stream closed for writing");
        this.#active = performance.now();
        try {
          await this.#writer.write(chunk);
        } catch (cause) {
          const err = new StreamResetError("stream reset while writing", { cause });
          this.#fail(err, false);
          throw err;
        }
      },
      close: () => this.#finish(),
      abort: (reason) => {
        this.abort(reason);
      },
    });
  }

  get status(): MuxedStreamStatus {
    return this.#status;
  }

  /**
   * The stream's bytes as a byte channel: its web streams converted once (WebTransport streams
   * are web streams natively); aborting it resets the stream.
   */
  get channel(): ByteChannel {
    return this.#channel ??= streamChannel(this);
  }

  /** When data last moved (read, or a write accepted), `performance.now()` ms. */
  get lastActivity(): number {
    return this.#active;
  }

  /** Resolves once the stream was freed (both sides closed, or reset). */
  get closed(): Promise<void> {
    return this.#freed.promise;
  }

  /** Half-close: FIN after pending writes. */
  close(_options?: AbortOptions): Promise<void> {
    if (this.#status === "reset") return Promise.resolve();
    if (!this.writable.locked) {
      return this.writable.close().catch(() => {});
    }
    return this.#finish();
  }

  closeRead(): void {
    if (this.#readDone) return;
    this.#reader.cancel().catch(() => {});
    try {
      this.#readController.close();
    } catch { /* already closed */ }
    this.#readEnded();
  }

  reset(): void {
    this.abort(new StreamResetError("stream reset locally"));
  }

  abort(reason?: unknown): void {
    this.#fail(reason ?? new StreamResetError("stream aborted"), true);
  }

  #finish(): Promise<void> {
    this.#closing ??= (async () => {
      this.#writeDone = true;
      try {
        await this.#writer.close();
      } catch { /* the remote stopped reading or the session ended */ }
      if (this.#status !== "reset") {
        this.#status = this.#readDone ? "closed" : "closing";
        if (this.#readDone) this.#free();
      }
    })();
    return this.#closing;
  }

  #readEnded(): void {
    if (this.#readDone) return;
    this.#readDone = true;
    if (this.#status === "reset") return;
    this.#status = this.#writeDone ? "closed" : "closing";
    if (this.#writeDone) this.#free();
  }

  #fail(reason: unknown, local: boolean): void {
    if (this.#status === "reset" || this.#status === "closed") return;
    this.#status = "reset";
    this.#readDone = true;
    this.#writeDone = true;
    if (local) {
      // RESET_STREAM and STOP_SENDING (browsers); Deno's raw streams can only FIN.
      this.#writer.abort(reason).catch(() => {});
      this.#reader.cancel(reason).catch(() => {});
    } else {
      this.#reader.cancel(reason).catch(() => {});
      this.#writer.abort(reason).catch(() => {});
    }
    try {
      this.#readController.error(reason);
    } catch { /* already closed */ }
    try {
      this.#writeController.error(reason);
    } catch { /* already closed */ }
    this.#free();
  }

  #free(): void {
    this.timeline.close ??= Date.now();
    this.#onFree(this);
    this.#freed.resolve();
  }
}

/** Options of {@link WebTransportMuxer}. */
export interface WebTransportMuxerOptions {
  /** Most streams open at once in each direction; more inbound ones are reset (default 1024). */
  maxStreams?: number;
}

/**
 * A WebTransport session as a StreamMuxer. Created by the transport after the Noise handshake.
 *
 * @example
 * ```ts
 * import { WebTransportMuxer, type NativeSession } from "@p2p-edge/libp2p/transports/webtransport";
 * declare const session: NativeSession;
 * const muxer = new WebTransportMuxer(session, { direction: "outbound" });
 * const stream = await muxer.newStream();
 * await stream.close();
 * ```
 */
export class WebTransportMuxer implements StreamMuxer {
  /** "/webtransport". */
  readonly protocol: string = WEBTRANSPORT_MUXER;
  /** Settles when the session ended. */
  readonly closed: Promise<void>;
  readonly #session: NativeSession;
  readonly #init: StreamMuxerInit;
  readonly #streams = new Set<WebTransportStream>();
  readonly #maxStreams: number;
  #state: "open" | "closing" | "closed" = "open";
  #closeError: Error | undefined;

  /** Take over `session` (after the handshake) with the node's muxer callbacks. */
  constructor(
    session: NativeSession,
    init: StreamMuxerInit,
    options: WebTransportMuxerOptions = {},
  ) {
    this.#session = session;
    this.#init = init;
    this.#maxStreams = options.maxStreams ?? 1024;
    if (!Number.isInteger(this.#maxStreams) || this.#maxStreams < 1) {
      throw new RangeError("maxStreams must be a positive integer");
    }
    this.closed = session.closed.then(() => this.#ended(), () => this.#ended());
    this.#acceptLoop();
  }

  get streams(): readonly MuxedStream[] {
    return [...this.#streams];
  }

  async newStream(_options?: AbortOptions): Promise<MuxedStream> {
    if (this.#state !== "open") throw new ConnectionClosedError("the session is closing");
    const native = await this.#session.openBidi().catch((cause) => {
      throw new ConnectionClosedError("could not open a WebTransport stream", { cause });
    });
    if (this.#state !== "open") {
      native.writable.abort().catch(() => {});
      native.readable.cancel().catch(() => {});
      throw new ConnectionClosedError("the session is closing");
    }
    return this.#track(native, "outbound");
  }

  async close(options?: AbortOptions): Promise<void> {
    if (this.#state === "closed") return;
    this.#state = "closing";
    const signal = options?.signal;
    const drained = new Promise<void>((resolve) => {
      const check = (): void => {
        if (this.#streams.size === 0) resolve();
        else setTimeout(check, 20);
      };
      check();
    });
    const aborted = new Promise<void>((resolve) => {
      if (signal === undefined) return;
      if (signal.aborted) resolve();
      else signal.addEventListener("abort", () => resolve(), { once: true });
    });
    await Promise.race([drained, aborted, this.closed]);
    for (const s of [...this.#streams]) s.reset();
    this.#session.close(0, "");
    await this.closed;
  }

  abort(reason?: unknown): void {
    if (this.#state === "closed") return;
    const err = reason instanceof Error ? reason : new ConnectionClosedError("session aborted");
    this.#closeError = err;
    for (const s of [...this.#streams]) {
      s.abort(new StreamResetError("session aborted", { cause: err }));
    }
    this.#session.close(1, err.message.slice(0, 100));
  }

  #track(native: NativeBidiStream, direction: Direction): WebTransportStream {
    const stream = new WebTransportStream(native, direction, (s) => this.#streams.delete(s));
    this.#streams.add(stream);
    return stream;
  }

  async #acceptLoop(): Promise<void> {
    for (;;) {
      let native: NativeBidiStream | undefined;
      try {
        native = await this.#session.acceptBidi();
      } catch {
        native = undefined;
      }
      if (native === undefined) return;
      if (this.#state !== "open" || this.#streams.size >= this.#maxStreams) {
        native.writable.abort().catch(() => {});
        native.readable.cancel().catch(() => {});
        continue;
      }
      const stream = this.#track(native, "inbound");
      try {
        if (this.#init.onIncomingStream === undefined) stream.reset();
        else this.#init.onIncomingStream(stream);
      } catch {
        stream.reset();
      }
    }
  }

  #ended(): void {
    if (this.#state === "closed") return;
    this.#state = "closed";
    const err = this.#closeError;
    for (const s of [...this.#streams]) {
      s.abort(new StreamResetError("the WebTransport session ended", { cause: err }));
    }
    this.#init.onClose?.(err);
  }
}
