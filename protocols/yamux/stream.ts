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
import { ChunkCopier } from "../../src/stream/read_into.ts";
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
  /** A stream's reader started (+1) or stopped (-1) reading into its own buffers. */
  byobReaders(delta: 1 | -1): void;
}

/** A readInto() waiting for payload (YamuxStream #byob). */
interface ByobRead {
  readonly view: Uint8Array;
  filled: number;
  /** A microtask will resolve it with what it has by then. */
  settling: boolean;
  resolve(n: number | null): void;
  reject(e: unknown): void;
}

/**
 * One Yamux stream. Created by the muxer; applications get it from `newStream()` or
 * `onIncomingStream`.
 *
 * @example
 * ```ts
 * import { yamux } from "@p2p-edge/libp2p/protocols/yamux";
 * import { channelPair } from "@p2p-edge/libp2p/stream";
 * const [a, b] = channelPair();
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
  /** readInto() of what `readable` already queued (its reader, made by the first call). */
  #queue: ChunkCopier | undefined;
  /**
   * readInto() waiting for data with an empty queue: the session's payloads go into `view`,
   * `filled` bytes so far. It resolves when `view` is full or, at the latest, once the chunk
   * being parsed is done (a microtask): a read of the connection often ends one frame and starts
   * the next, and both halves then land in the same view.
   */
  #byob: ByobRead | undefined;
  /** Counted in the host's byobReaders. */
  #byobCounted = false;

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

  /**
   * Read the next bytes into `view`, the caller's buffer (BYOB): resolves with how many were
   * written to its start, or `null` at the end of the stream. Payloads that arrive while it
   * waits are copied straight into `view`, and the session reads the connection into one
   * reused buffer while any stream reads this way, so a bulk receiver that reuses its buffer
   * allocates nothing per chunk. Takes a reader on `readable` (locked from the first call on);
   * one call at a time.
   *
   * @example
   * ```ts
   * import type { YamuxStream } from "@p2p-edge/libp2p/protocols/yamux";
   * async function count(stream: YamuxStream): Promise<number> {
   *   const buf = new Uint8Array(64 * 1024);
   *   let total = 0;
   *   for (let n = await stream.readInto(buf); n !== null; n = await stream.readInto(buf)) {
   *     total += n;
   *   }
   *   return total;
   * }
   * ```
   */
  readInto(view: Uint8Array): Promise<number | null> {
    if (!(view instanceof Uint8Array) || view.byteLength === 0) {
      return Promise.reject(new TypeError("readInto needs a non-empty Uint8Array"));
    }
    if (this.#byob !== undefined || this.#queue?.busy) {
      return Promise.reject(new TypeError(`yamux stream ${this.id}: one readInto at a time`));
    }
    let queue = this.#queue;
    if (queue === undefined) {
      try {
        queue = this.#queue = new ChunkCopier(this.readable);
      } catch (err) {
        return Promise.reject(err);
      }
      if (!this.#readDone) {
        this.#byobCounted = true;
        this.#host.byobReaders(1);
      }
    }
    this.#active = performance.now();
    // A held tail, queued chunks, the end and errors come through the reader (its pull reports
    // consumption); with nothing queued on a live stream the next payload goes straight to `view`.
    if (queue.holding || this.#readDone || this.#queued() > 0) return queue.read(view);
    return new Promise((resolve, reject) => {
      this.#byob = { view, filled: 0, settling: false, resolve, reject };
    });
  }

  /** Resolve the waiting readInto() with what it got. */
  #settleByob(w: ByobRead): void {
    if (this.#byob !== w) return;
    this.#byob = undefined;
    w.resolve(w.filled);
  }

  /** Bytes in `readable`'s queue. */
  #queued(): number {
    return this.#hwm - (this.#rc.desiredSize ?? this.#hwm);
  }

  /** A waiting readInto() ends (`null` or `error`); the host stops lending for this stream. */
  #endByob(error?: unknown): void {
    const w = this.#byob;
    if (w !== undefined) {
      this.#byob = undefined;
      if (error !== undefined) w.reject(error);
      else w.resolve(w.filled > 0 ? w.filled : null);
    }
    if (this.#byobCounted) {
      this.#byobCounted = false;
      this.#host.byobReaders(-1);
    }
  }

  /** Stop reading: buffered data is dropped, further data discarded (window credited back). */
  closeRead(): void {
    if (this.#readDone) return;
    if (this.readable.locked) {
      this.#readDone = true;
      const err = new StreamClosedError(`yamux stream ${this.id} is closed for reading`);
      this.#rc.error(err);
      this.#queue?.discard();
      this.#endByob(err);
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

  /**
   * @internal Payload from the remote. `lent`: `data` views the session's lent read buffer,
   * which the next read reuses, so what is kept is copied.
   */
  onData(data: Uint8Array, lent = false): void {
    if (this.#readDone) {
      this.#host.session.consume(this.#num, data.byteLength, this.#host.now());
      return;
    }
    this.#active = performance.now();
    const w = this.#byob;
    if (w !== undefined) {
      // readInto() waits only with an empty queue, so this payload is next in order.
      const n = Math.min(data.byteLength, w.view.byteLength - w.filled);
      w.view.set(n === data.byteLength ? data : data.subarray(0, n), w.filled);
      w.filled += n;
      this.#host.session.consume(this.#num, n, this.#host.now());
      if (w.filled === w.view.byteLength) this.#settleByob(w);
      else if (!w.settling) {
        w.settling = true;
        queueMicrotask(() => this.#settleByob(w));
      }
      if (n === data.byteLength) return;
      data = data.subarray(n);
    }
    this.#unreported += data.byteLength;
    this.#rc.enqueue(lent ? data.slice() : data);
  }

  /** @internal The remote half-closed. */
  onFin(): void {
    if (!this.#readDone) {
      this.#readDone = true;
      this.#rc.close();
      // A waiting readInto() has an empty queue behind it: the stream ends there.
      this.#endByob();
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
    this.#endByob();
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
      this.#queue?.discard();
      this.#endByob(error);
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
