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

import { ConnectionClosedError, StreamResetError } from "../../src/errors.ts";
import type { MuxedStream, StreamMuxer, StreamMuxerInit } from "../../src/muxer.ts";
import type { AbortOptions, Direction } from "../../src/stream/types.ts";
import { BaseMuxedStream } from "../../src/stream/muxed_stream.ts";

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

/**
 * One native bidirectional stream as a muxed stream: the shared glue
 * (src/stream/muxed_stream.ts) over the native web streams. Reads pull one native chunk per
 * waiting read (the native stream's flow control stays in charge); writes go to the native
 * writer, which keeps each chunk until written (`drained()` waits for that).
 */
class WebTransportStream extends BaseMuxedStream {
  readonly #reader: ReadableStreamDefaultReader<Uint8Array>;
  readonly #writer: WritableStreamDefaultWriter<Uint8Array>;
  readonly #onFree: (s: WebTransportStream) => void;
  #reading = false;
  #sent: Promise<void> | undefined;

  constructor(
    native: NativeBidiStream,
    direction: Direction,
    onFree: (s: WebTransportStream) => void,
  ) {
    super(`${direction === "outbound" ? "o" : "i"}${++streamCounter}`, direction);
    this.#onFree = onFree;
    this.#reader = native.readable.getReader();
    this.#writer = native.writable.getWriter();
    // The native writer's closed promise also reports a remote STOP_SENDING.
    this.#writer.closed.catch(() => {});
    if (native.prefix !== undefined && native.prefix.byteLength > 0) this.onData(native.prefix);
  }

  /** One native read for the waiting reader. */
  protected override wantData(): void {
    if (this.#reading) return;
    this.#reading = true;
    this.#reader.read().then(({ value, done }) => {
      this.#reading = false;
      if (done) this.onFin();
      else if (value.byteLength > 0) this.onData(value);
      else this.wantData();
    }, (cause) => {
      this.#reading = false;
      this.#failed(new StreamResetError("stream reset by the remote", { cause }));
    });
  }

  /** Hand `chunk` to the native writer (it keeps it until written). */
  protected sendData(chunk: Uint8Array): number {
    const sent = this.#writer.write(chunk);
    sent.catch((cause) =>
      this.#failed(new StreamResetError("stream reset while writing", { cause }))
    );
    this.#sent = sent;
    return chunk.byteLength;
  }

  /** FIN. */
  protected sendClose(): void {
    this.#writer.close().catch(() => {});
  }

  /** RESET_STREAM and STOP_SENDING (browsers); Deno's raw streams can only FIN. */
  protected sendReset(): void {
    const reason = new StreamResetError("stream reset locally");
    this.#writer.abort(reason).catch(() => {});
    this.#reader.cancel(reason).catch(() => {});
  }

  /** STOP_SENDING: the remote's writes fail from now on. */
  protected readStopped(): void {
    this.#reader.cancel().catch(() => {});
  }

  /** The native writer keeps chunks until written. */
  override get copiesWrites(): boolean {
    return false;
  }

  /** The last native write, until it settled. */
  protected override backpressure(): Promise<void> | undefined {
    const sent = this.#sent;
    if (sent === undefined) return undefined;
    return sent.then(() => {
      if (this.#sent === sent) this.#sent = undefined;
    });
  }

  /** Both directions ended: the stream is done. */
  protected override bothEnded(): void {
    this.#free();
  }

  /** Reset locally: the native stream is torn down and the stream freed. */
  override abort(reason?: unknown): void {
    super.abort(reason);
    this.#free();
  }

  #failed(error: Error): void {
    if (this.status === "reset" || this.status === "closed") return;
    this.#reader.cancel(error).catch(() => {});
    this.#writer.abort(error).catch(() => {});
    this.onReset(error);
    this.#free();
  }

  #free(): void {
    if (this.status !== "reset" && this.status !== "closing") return;
    this.onFreed();
  }

  /** @internal The glue's freed notification: the muxer drops the stream. */
  protected override streamFreed(): void {
    this.#onFree(this);
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
