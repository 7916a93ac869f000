/**
 * A Yamux stream as a pair of web streams backed directly by the session's state
 * (ARCHITECTURE.md): the session enqueues received payload views into `readable`'s controller,
 * and `writable`'s sink frames each chunk into the session's outbox within the send window.
 *
 * @module
 */

import { AbortError, StreamClosedError, StreamResetError } from "../../src/errors.ts";
import type { MuxedStream, MuxedStreamStatus } from "../../src/muxer.ts";
import type { AbortOptions, Direction, Timeline } from "../../src/stream/types.ts";
import type { YamuxSession } from "./session.ts";

/** What a stream needs from the muxer that owns it. */
export interface StreamHost {
  /** The session state machine. */
  readonly session: YamuxSession;
  /** The clock the session runs on. */
  now(): number;
  /** A promise while the outbox is above its high-water mark (connection backpressure). */
  outboxBackpressure(): Promise<void> | undefined;
  /** The stream is done: the session forgot it (both sides closed, or reset). */
  streamFreed(stream: YamuxStream): void;
}

/**
 * One Yamux stream. Created by the muxer; applications get it from `newStream()` or
 * `onIncomingStream`.
 *
 * @example
 * ```ts
 * import { yamux } from "@p2p-edge/libp2p/protocols/yamux";
 * import { duplexPair } from "@p2p-edge/libp2p/stream";
 * const [a, b] = duplexPair();
 * const client = yamux().createStreamMuxer(a, { direction: "outbound" });
 * yamux().createStreamMuxer(b, { direction: "inbound", onIncomingStream: (s) => s.reset() });
 * const stream = await client.newStream();
 * console.log(stream.id); // "1"
 * ```
 */
export class YamuxStream implements MuxedStream {
  /** Stream id as text. */
  readonly id: string;
  /** Who opened it. */
  readonly direction: Direction;
  /** Open and close times (ms since the epoch). */
  readonly timeline: Timeline;
  /** Bytes from the remote; ends on the remote's FIN, errors on reset. */
  readonly readable: ReadableStream<Uint8Array>;
  /** Bytes to the remote; close() sends FIN. */
  readonly writable: WritableStream<Uint8Array>;
  readonly #num: number;
  readonly #host: StreamHost;
  readonly #hwm: number;
  #rc!: ReadableStreamDefaultController<Uint8Array>;
  #wc!: WritableStreamDefaultController;
  /** Bytes enqueued into `readable` not yet reported to the session as consumed. */
  #unreported = 0;
  #readDone = false;
  #writeDone = false;
  #status: MuxedStreamStatus = "open";
  #error: unknown;
  #writing: Promise<void> | undefined;
  #windowWait: { resolve: () => void; reject: (e: unknown) => void } | undefined;
  /** See {@link MuxedStream.lastActivity}: a plain field write per chunk, nothing more. */
  #active = performance.now();
  #freed = Promise.withResolvers<void>();

  /** Created by the muxer only. `hwm` is the largest receive window this stream can have. */
  constructor(
    num: number,
    direction: Direction,
    host: StreamHost,
    hwm: number,
  ) {
    this.#num = num;
    this.id = String(num);
    this.direction = direction;
    this.timeline = { open: Date.now() };
    this.#host = host;
    this.#hwm = hwm;
    // The queue can never legitimately exceed the receive window, which never exceeds `hwm`, so
    // pull() runs after every read and reports consumption (which sends window updates).
    this.readable = new ReadableStream<Uint8Array>({
      start: (c) => {
        this.#rc = c;
      },
      pull: (c) => this.#pull(c),
      cancel: () => this.#readCancelled(),
    }, { highWaterMark: hwm, size: (chunk) => chunk.byteLength });
    this.writable = new WritableStream<Uint8Array>({
      start: (c) => {
        this.#wc = c;
      },
      write: (chunk) => this.#sinkWrite(chunk),
      close: () => this.#sinkClose(),
      abort: (reason) => this.#resetWith(reason ?? new StreamResetError("stream aborted")),
    });
  }

  /** "open", "closing", "closed" or "reset". */
  get status(): MuxedStreamStatus {
    return this.#status;
  }

  /** When data last moved (enqueued, read, or a write accepted), `performance.now()` ms. */
  get lastActivity(): number {
    return this.#active;
  }

  /** Resolves once the session freed the stream. */
  get closed(): Promise<void> {
    return this.#freed.promise;
  }

  /** Half-close (FIN) once the write in progress finished; later writes reject. Idempotent. */
  async close(options: AbortOptions = {}): Promise<void> {
    options.signal?.throwIfAborted();
    // Let writes already handed to the sink finish first.
    while (this.#writing !== undefined) {
      await this.#writing.catch(() => {});
      await Promise.resolve();
      if (options.signal?.aborted) throw options.signal.reason ?? new AbortError();
    }
    if (this.#writeDone || this.#error !== undefined) return;
    this.#finishWrite();
    // The stream is errored (not closed) so that a later write rejects with StreamClosedError.
    this.#wc.error(new StreamClosedError(`yamux stream ${this.id} is closed for writing`));
  }

  /** Stop reading: buffered data is dropped, further data discarded (window credited back). */
  closeRead(): void {
    if (this.#readDone) return;
    if (this.readable.locked) {
      this.#readDone = true;
      this.#rc.error(new StreamClosedError(`yamux stream ${this.id} is closed for reading`));
      this.#host.session.closeRead(this.#num, this.#host.now());
      this.#updateStatus();
    } else {
      this.readable.cancel().catch(() => {});
    }
  }

  /** Reset the stream: RST to the remote, both directions fail with StreamResetError. */
  reset(): void {
    this.#resetWith(new StreamResetError(`yamux stream ${this.id} reset locally`));
  }

  /** Reset with a local reason that readers and writers see; the remote sees RST. */
  abort(reason?: unknown): void {
    this.#resetWith(reason ?? new StreamResetError(`yamux stream ${this.id} aborted`));
  }

  // --- called by the muxer (session events) -----------------------------------------------------

  /** @internal Payload from the remote. */
  onData(data: Uint8Array): void {
    if (this.#readDone) {
      this.#host.session.consume(this.#num, data.byteLength, this.#host.now());
      return;
    }
    this.#active = performance.now();
    this.#unreported += data.byteLength;
    this.#rc.enqueue(data);
  }

  /** @internal The remote half-closed. */
  onFin(): void {
    if (!this.#readDone) {
      this.#readDone = true;
      this.#rc.close();
    }
    this.#updateStatus();
  }

  /** @internal The send window grew. */
  onSendWindow(): void {
    const w = this.#windowWait;
    if (w !== undefined) {
      this.#windowWait = undefined;
      w.resolve();
    }
  }

  /** @internal The remote reset the stream, or the connection died. */
  onReset(error: Error): void {
    this.#fail(error);
  }

  /** @internal The session forgot the stream (both sides closed, or reset). */
  onFreed(): void {
    this.timeline.close ??= Date.now();
    if (this.#status !== "reset") this.#status = "closed";
    this.#host.streamFreed(this);
    this.#freed.resolve();
  }

  // --- readable -----------------------------------------------------------------------------------

  #pull(c: ReadableStreamDefaultController<Uint8Array>): void {
    if (this.#readDone || this.#unreported === 0) return;
    this.#active = performance.now();
    const queued = this.#hwm - (c.desiredSize ?? this.#hwm);
    const consumed = this.#unreported - queued;
    if (consumed > 0) {
      this.#unreported = queued;
      this.#host.session.consume(this.#num, consumed, this.#host.now());
    }
  }

  #readCancelled(): void {
    if (this.#readDone) return;
    this.#readDone = true;
    this.#host.session.closeRead(this.#num, this.#host.now());
    this.#updateStatus();
  }

  // --- writable -----------------------------------------------------------------------------------

  #sinkWrite(chunk: Uint8Array): Promise<void> | undefined {
    if (!(chunk instanceof Uint8Array)) {
      throw new TypeError("yamux streams carry Uint8Array chunks");
    }
    if (this.#error !== undefined) throw this.#error;
    this.#active = performance.now();
    const session = this.#host.session;
    const n = session.write(this.#num, chunk);
    if (n < chunk.byteLength) {
      const p = this.#writeRest(chunk, n);
      this.#writing = p;
      return p;
    }
    const drain = this.#host.outboxBackpressure();
    if (drain !== undefined) {
      this.#writing = drain;
      drain.then(() => {
        if (this.#writing === drain) this.#writing = undefined;
      });
    }
    return drain;
  }

  async #writeRest(chunk: Uint8Array, done: number): Promise<void> {
    try {
      while (done < chunk.byteLength) {
        await new Promise<void>((resolve, reject) => {
          this.#windowWait = { resolve, reject };
        });
        if (this.#error !== undefined) throw this.#error;
        done += this.#host.session.write(this.#num, chunk.subarray(done));
        this.#active = performance.now();
      }
      await this.#host.outboxBackpressure();
    } finally {
      this.#writing = undefined;
    }
  }

  #sinkClose(): void {
    if (this.#error !== undefined) throw this.#error;
    this.#finishWrite();
  }

  #finishWrite(): void {
    if (this.#writeDone) return;
    this.#writeDone = true;
    this.#host.session.closeWrite(this.#num);
    this.#updateStatus();
  }

  // --- shared ---------------------------------------------------------------------------------------

  #resetWith(reason: unknown): void {
    if (this.#error !== undefined || this.#status === "closed") return;
    this.#host.session.resetStream(this.#num);
    this.#fail(reason);
  }

  #fail(error: unknown): void {
    if (this.#error !== undefined) return;
    this.#error = error;
    this.#status = "reset";
    this.timeline.close ??= Date.now();
    if (!this.#readDone) {
      this.#readDone = true;
      this.#rc.error(error);
    }
    if (!this.#writeDone) {
      this.#writeDone = true;
      this.#wc.error(error);
    }
    const w = this.#windowWait;
    if (w !== undefined) {
      this.#windowWait = undefined;
      w.reject(error);
    }
  }

  #updateStatus(): void {
    if (this.#status === "open" && (this.#readDone || this.#writeDone)) this.#status = "closing";
  }
}
