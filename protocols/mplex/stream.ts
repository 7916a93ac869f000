/**
 * One mplex substream as web streams. Its readable is fed directly by the session through its
 * controller, with a byte-counting strategy whose high-water mark is maxStreamBufferSize; the
 * session learns what the application read from pull() and resets a stream whose unread bytes
 * would pass the limit (mplex has no window: spec, "Implementation notes", remedy 2).
 *
 * @module
 */

import { AbortError, StreamClosedError, StreamResetError } from "../../src/errors.ts";
import type { MuxedStream, MuxedStreamStatus } from "../../src/muxer.ts";
import type { AbortOptions, Direction, Timeline } from "../../src/stream/types.ts";
import { label, type MplexSession, type MplexStreamState } from "./session.ts";

const noop = (): void => {};

/**
 * A stream of an mplex session. Created by the muxer (newStream, or for each remote NewStream);
 * see {@link MuxedStream} for the semantics.
 *
 * @example
 * ```ts
 * import { mplex } from "@p2p-edge/libp2p/protocols/mplex";
 * import { channelPair } from "@p2p-edge/libp2p/stream";
 * const [a] = channelPair();
 * const muxer = mplex().createStreamMuxer(a, { direction: "outbound" });
 * const stream = await muxer.newStream(); // an MplexStream
 * console.log(stream.id); // "i1" (the dialer numbers its streams 1, 3, 5, ...)
 * ```
 */
export class MplexStream implements MuxedStream {
  /** "i<n>" for a stream we opened, "r<n>" for one the remote opened (js-libp2p's naming). */
  readonly id: string;
  /** Who opened it. */
  readonly direction: Direction;
  /** When it opened and closed. */
  readonly timeline: Timeline;
  /** Bytes from the remote. */
  readonly readable: ReadableStream<Uint8Array>;
  /** Bytes to the remote; closing it half-closes the stream. */
  readonly writable: WritableStream<Uint8Array>;
  #session: MplexSession;
  #st: MplexStreamState;
  #hwm: number;
  #rc!: ReadableStreamDefaultController<Uint8Array>;
  #wc!: WritableStreamDefaultController;
  #readEnded = false;
  #writeEnded = false;
  #closeWhenDrained = false;
  #error: unknown;
  /** Rejects the one sink operation waiting for the connection (sink calls are sequential). */
  #abortWait: ((error: unknown) => void) | undefined;
  #inflight: Promise<void> | undefined;
  /** See {@link MuxedStream.lastActivity}: a plain field write per chunk, nothing more. */
  #active = performance.now();
  #freed = Promise.withResolvers<void>();

  /** @internal Built by the muxer. */
  constructor(session: MplexSession, st: MplexStreamState) {
    this.#session = session;
    this.#st = st;
    this.id = label(st);
    this.direction = st.initiator ? "outbound" : "inbound";
    this.timeline = { open: Date.now() };
    this.#hwm = session.limits.maxStreamBufferSize;
    this.readable = new ReadableStream<Uint8Array>({
      start: (c) => {
        this.#rc = c;
      },
      pull: () => this.#onPull(),
      cancel: () => {
        this.#readEnded = true;
        this.#session.closeRead(this.#st);
      },
    }, { highWaterMark: this.#hwm, size: (c) => c.byteLength });
    this.writable = new WritableStream<Uint8Array>({
      start: (c) => {
        this.#wc = c;
      },
      write: (chunk) => {
        const p = this.#write(chunk);
        this.#inflight = p.then(noop, noop);
        return p;
      },
      close: () => this.#closeWrite(),
      abort: (reason) => {
        this.#writeEnded = true;
        this.abort(reason);
      },
    });
  }

  /** "open", "closing" (one direction done), "closed" (both) or "reset". */
  get status(): MuxedStreamStatus {
    const st = this.#st;
    if (st.reset) return "reset";
    if (st.freed) return "closed";
    if (st.localClosed || st.remoteClosed || st.readClosed) return "closing";
    return "open";
  }

  /** When data last moved (enqueued, read, or a write accepted), `performance.now()` ms. */
  get lastActivity(): number {
    return this.#active;
  }

  /** Resolves once the session freed the stream. */
  get closed(): Promise<void> {
    return this.#freed.promise;
  }

  /** Half-close (sends Close) after queued writes were sent. Idempotent. */
  async close(options?: AbortOptions): Promise<void> {
    const signal = options?.signal;
    signal?.throwIfAborted();
    if (this.#st.localClosed || this.#st.reset) return;
    const closing = this.#closeFromOutside();
    if (signal === undefined) {
      await closing.catch((err) => this.#afterCloseError(err));
      return;
    }
    const aborted = Promise.withResolvers<never>();
    const onAbort = (): void => {
      const err = signal.reason ?? new AbortError();
      this.abort(err);
      aborted.reject(err);
    };
    signal.addEventListener("abort", onAbort, { once: true });
    try {
      await Promise.race([closing.catch((err) => this.#afterCloseError(err)), aborted.promise]);
    } finally {
      signal.removeEventListener("abort", onAbort);
    }
  }

  /** Stop reading; further data from the remote is dropped (mplex has no wire message for it). */
  closeRead(): void {
    if (this.#readEnded) {
      this.#session.closeRead(this.#st);
      return;
    }
    if (!this.readable.locked) {
      // Cancelling drops what is queued and calls our cancel() above.
      this.readable.cancel().catch(noop);
      return;
    }
    // A locked queue cannot be emptied without erroring the reader: let it end after what is
    // already queued.
    this.#readEnded = true;
    this.#session.closeRead(this.#st);
    this.#rc.close();
  }

  /** Reset: sends Reset; reads and writes reject with StreamResetError. Idempotent. */
  reset(): void {
    this.abort(new StreamResetError(`mplex stream ${this.id} was reset locally`));
  }

  /** Reset with a local reason: local readers and writers see `reason`, the remote a reset. */
  abort(reason?: unknown): void {
    if (this.#st.reset) return;
    this.#session.reset(this.#st);
    this.onReset(reason ?? new StreamResetError(`mplex stream ${this.id} was aborted`));
  }

  /** @internal The session accepted `data` for this stream. */
  onData(data: Uint8Array): void {
    if (this.#readEnded) return;
    this.#active = performance.now();
    this.#rc.enqueue(data);
  }

  /** @internal The remote closed its write side. */
  onRemoteClose(): void {
    if (this.#readEnded) return;
    if (this.#queued() === 0) this.#endRead();
    else this.#closeWhenDrained = true; // pull() closes once the reader took the rest
  }

  /** @internal The stream was reset (by the remote, by us, or with the connection). */
  onReset(error: unknown): void {
    if (this.#error !== undefined) return;
    this.#error = error;
    this.timeline.close ??= Date.now();
    this.#abortWait?.(error);
    if (!this.#readEnded) {
      this.#readEnded = true;
      this.#rc.error(error);
    }
    if (!this.#writeEnded) {
      this.#writeEnded = true;
      this.#wc.error(error);
    }
  }

  /** @internal The session freed the stream. */
  onFree(): void {
    this.timeline.close ??= Date.now();
    this.#freed.resolve();
  }

  #queued(): number {
    const ds = this.#rc.desiredSize;
    return ds === null ? 0 : this.#hwm - ds;
  }

  #onPull(): void {
    if (this.#readEnded) return;
    this.#active = performance.now();
    const queued = this.#queued();
    const read = this.#st.buffered - queued;
    if (read > 0) this.#session.consumed(this.#st, read);
    if (this.#closeWhenDrained && queued === 0) this.#endRead();
  }

  #endRead(): void {
    this.#readEnded = true;
    this.#session.consumed(this.#st, this.#st.buffered);
    this.#rc.close();
  }

  async #write(chunk: Uint8Array): Promise<void> {
    if (!(chunk instanceof Uint8Array)) {
      throw new TypeError("mplex streams carry Uint8Array chunks");
    }
    const max = this.#session.limits.maxMessageSize;
    for (let offset = 0; offset < chunk.byteLength; offset += max) {
      const piece = chunk.byteLength <= max ? chunk : chunk.subarray(offset, offset + max);
      // Throws StreamResetError / StreamClosedError when the stream can no longer be written.
      this.#active = performance.now();
      await this.#wait(this.#session.write(this.#st, piece));
    }
  }

  /**
   * Wait for the connection to take a frame, or for this stream to fail (whichever is first);
   * a per-call waiter, so long-lived streams accumulate no promise reactions.
   */
  async #wait(sent: Promise<void>): Promise<void> {
    try {
      await new Promise<void>((resolve, reject) => {
        this.#abortWait = reject;
        sent.then(resolve, reject);
      });
    } catch (err) {
      throw this.#error ?? new StreamResetError("mplex connection failed", { cause: err });
    } finally {
      this.#abortWait = undefined;
    }
  }

  async #closeWrite(): Promise<void> {
    this.#writeEnded = true;
    if (this.#error !== undefined) throw this.#error;
    const sent = this.#session.closeWrite(this.#st);
    if (sent !== undefined) await this.#wait(sent);
  }

  /**
   * close(): flush what was written, send Close, then error the writable with
   * StreamClosedError so later writes say why they fail. When the application holds a writer,
   * only the write in flight can be waited for; chunks it queued behind that are rejected.
   */
  async #closeFromOutside(): Promise<void> {
    if (!this.writable.locked) {
      const w = this.writable.getWriter();
      try {
        await w.write(new Uint8Array(0)); // sink writes run in order: this waits for the queue
      } finally {
        w.releaseLock();
      }
    } else if (this.#inflight !== undefined) await this.#inflight;
    if (this.#writeEnded) return;
    await this.#closeWrite();
    this.#wc.error(new StreamClosedError(`mplex stream ${this.id} is closed for writing`));
  }

  #afterCloseError(err: unknown): void {
    // Closing a stream that was reset meanwhile is not an error of close() itself.
    if (this.#st.reset || this.#st.localClosed) return;
    throw err;
  }
}
