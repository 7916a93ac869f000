/**
 * The stream glue every muxer shares (yamux, mplex): one {@link MuxedStream} that is its own
 * {@link ByteChannel}. The muxer feeds it (payload, remote FIN, reset, send window, freed) and
 * the stream calls back into the muxer through a handful of protected methods (send data, FIN,
 * RST, read credit). close, closeRead, reset, abort, status, timeline, lastActivity and `closed`
 * are written here once; web streams are built from the channel only when someone asks for
 * `readable`/`writable` (ARCHITECTURE.md: no stream objects per substream on the data path).
 *
 * @module
 */

import { AbortError, StreamClosedError, StreamResetError } from "../errors.ts";
import type { MuxedStream, MuxedStreamStatus } from "../muxer.ts";
import { type ByteChannel, channelWritable, READ_END, RESOLVED } from "./channel.ts";
import { ChannelCopier } from "./read_into.ts";
import type { AbortOptions, Direction, Timeline } from "./types.ts";

/** A read waiting for payload. */
interface PendingRead {
  /** The caller's buffer (read(into)): payloads are copied into it, `filled` bytes so far. */
  readonly into: Uint8Array | undefined;
  filled: number;
  /** A microtask will resolve it with what it has by then. */
  settling: boolean;
  resolve(chunk: Uint8Array | null): void;
  reject(e: unknown): void;
}

/**
 * A muxed stream as a byte channel, for muxers to extend: a subclass implements
 * {@link BaseMuxedStream.sendData}, {@link BaseMuxedStream.sendClose},
 * {@link BaseMuxedStream.sendReset} and {@link BaseMuxedStream.readStopped}, and may override
 * the credit, backpressure and lending hooks; its muxer calls the `on*` methods.
 *
 * Reading: payloads go straight to a waiting read (into the caller's buffer for `read(into)`,
 * several payloads of one parsed chunk into the same buffer), otherwise into a queue the muxer's
 * flow control bounds (yamux: the receive window). Writing: `write()` hands the muxer as much as
 * it takes now (it copies), keeps the rest until the send window grows, and `drained()` waits
 * for that and for the muxer's own backpressure.
 *
 * @example
 * ```ts
 * import { BaseMuxedStream } from "@p2p-edge/libp2p/stream";
 * class LoopStream extends BaseMuxedStream {
 *   protected sendData(chunk: Uint8Array): number {
 *     this.onData(chunk.slice());
 *     return chunk.byteLength;
 *   }
 *   protected sendClose(): void { this.onFin(); }
 *   protected sendReset(): void {}
 *   protected readStopped(): void {}
 * }
 * const s = new LoopStream("1", "outbound");
 * s.write(new Uint8Array([1]));
 * console.log(await s.read()); // Uint8Array [1]
 * ```
 */
export abstract class BaseMuxedStream implements MuxedStream, ByteChannel {
  /** Stream id within its session. */
  readonly id: string;
  /** Who opened it. */
  readonly direction: Direction;
  /** Open and close times (ms since the epoch). */
  readonly timeline: Timeline;
  #status: MuxedStreamStatus = "open";
  #error: unknown;
  /** See {@link MuxedStream.lastActivity}: a plain field write per chunk, nothing more. */
  #active = performance.now();
  #freed: PromiseWithResolvers<void> | undefined;
  #isFreed = false;
  // --- read side
  #queue: Uint8Array[] | undefined;
  #read: PendingRead | undefined;
  #remoteFin = false;
  #readCancelled = false;
  #byobCounted = false;
  // --- write side
  #pending: Uint8Array[] | undefined;
  #drainWait: PromiseWithResolvers<void> | undefined;
  #writeClosed = false;
  #writeDone = false;
  #closing: Promise<void> | undefined;
  /** Rejected when the stream fails: ends waits on the muxer's backpressure. */
  #failure: PromiseWithResolvers<never> | undefined;
  // --- web-streams edge, built on first access
  #readable: ReadableStream<Uint8Array> | undefined;
  /** The readable's controller, and whether its reader waits for a payload. */
  #controller: ReadableStreamDefaultController<Uint8Array> | undefined;
  #pulling = false;
  #writable: WritableStream<Uint8Array> | undefined;
  #copier: ChannelCopier | undefined;

  /** A stream with this id, opened by us ("outbound") or the remote ("inbound"). */
  constructor(id: string, direction: Direction) {
    this.id = id;
    this.direction = direction;
    this.timeline = { open: Date.now() };
  }

  // --- what a muxer implements -------------------------------------------------------------------

  /** Queue `chunk` as data frames (copied); return how many bytes were taken now (window). */
  protected abstract sendData(chunk: Uint8Array): number;
  /** Queue our FIN. */
  protected abstract sendClose(): void;
  /** Queue a reset; the muxer forgets the stream. */
  protected abstract sendReset(): void;
  /** We read no more: the muxer drops further payload (and credits what was buffered). */
  protected abstract readStopped(): void;
  /** `n` payload bytes were handed to the reader (yamux: window credit). */
  protected consumed(_n: number): void {}
  /** A promise while the muxer's outbound queue is above its high-water mark. */
  protected backpressure(): Promise<void> | undefined {
    return undefined;
  }
  /** A reader started (+1) or stopped (-1) reading into its own buffers. */
  protected byobReaders(_delta: 1 | -1): void {}
  /** The stream was freed (the muxer drops its entry). */
  protected streamFreed(): void {}
  /**
   * A reader waits and nothing is queued: a muxer that pulls its payloads (WebTransport reads
   * its native stream) fetches the next one now; a muxer that pushes ignores this.
   */
  protected wantData(): void {}
  /** Both directions ended cleanly (our FIN sent, the remote's received or reading cancelled). */
  protected bothEnded(): void {}

  // --- MuxedStream --------------------------------------------------------------------------------

  /** The stream's bytes: the stream itself. */
  get channel(): ByteChannel {
    return this;
  }

  /** "open", "closing" (one direction done), "closed" (both) or "reset". */
  get status(): MuxedStreamStatus {
    return this.#status;
  }

  /** When data last moved (received, read, or a write taken), `performance.now()` ms. */
  get lastActivity(): number {
    return this.#active;
  }

  /** Resolves once the muxer freed the stream. */
  get closed(): Promise<void> {
    if (this.#isFreed) return RESOLVED;
    return (this.#freed ??= Promise.withResolvers<void>()).promise;
  }

  /**
   * Bytes from the remote, as a web stream (built on first access). It is fed directly: a
   * payload that arrives while the stream's reader waits is enqueued at once (no promise of the
   * channel in between), queued payloads are handed out by `pull`.
   */
  get readable(): ReadableStream<Uint8Array> {
    return this.#readable ??= new ReadableStream<Uint8Array>({
      start: (controller) => {
        this.#controller = controller;
      },
      pull: (controller) => this.#pull(controller),
      cancel: (reason) => this.cancelRead(reason),
    }, { highWaterMark: 0 });
  }

  /** The readable's reader waits: hand it the next payload, or wait for one (`onData`). */
  #pull(controller: ReadableStreamDefaultController<Uint8Array>): void {
    this.#active = performance.now();
    const queue = this.#queue;
    if (queue !== undefined && queue.length > 0) {
      const chunk = queue.shift()!;
      this.consumed(chunk.byteLength);
      controller.enqueue(chunk);
    } else if (this.#error !== undefined) controller.error(this.#error);
    else if (this.#remoteFin || this.#readCancelled) controller.close();
    else {
      this.#pulling = true;
      this.wantData();
    }
  }

  /** Bytes to the remote, as a web stream over the channel; closing it half-closes. */
  get writable(): WritableStream<Uint8Array> {
    return this.#writable ??= channelWritable(this);
  }

  /**
   * Read the next bytes into `view` (BYOB): their count, or `null` at the end. Payloads that
   * arrive while it waits are copied straight into `view`. One call at a time.
   */
  readInto(view: Uint8Array): Promise<number | null> {
    if (this.#readable?.locked) {
      return Promise.reject(new TypeError(`stream ${this.id}: its readable is being read`));
    }
    return (this.#copier ??= new ChannelCopier(this)).read(view);
  }

  /** Half-close (FIN) once what was written left; later writes fail. Idempotent. */
  async close(options: AbortOptions = {}): Promise<void> {
    const signal = options.signal;
    signal?.throwIfAborted();
    const writable = this.#writable;
    if (writable?.locked) {
      // A writer holds it: writes queued before its start (a microtask after it was built)
      // reach the channel in that microtask; let them go first.
      await undefined;
    }
    // Through our writable when it exists and nobody holds it, so that its queue goes out first.
    const closing = writable !== undefined && !writable.locked
      ? writable.close()
      : this.closeWrite();
    if (this.#error !== undefined) {
      closing.catch(() => {});
      return;
    }
    if (signal === undefined) return await closing.catch(this.#ignoreIfFailed);
    await new Promise<void>((resolve, reject) => {
      const onAbort = (): void => reject(signal.reason ?? new AbortError());
      signal.addEventListener("abort", onAbort, { once: true });
      closing.catch(this.#ignoreIfFailed).then(resolve, reject).finally(() =>
        signal.removeEventListener("abort", onAbort)
      );
    });
  }

  /** After a reset, closing has nothing left to do. */
  readonly #ignoreIfFailed = (err: unknown): void => {
    if (this.#error === undefined) throw err;
  };

  /** Stop reading: buffered data is dropped and further data discarded. */
  closeRead(): void {
    this.cancelRead();
  }

  /** Reset the stream: RST to the remote, both directions fail with StreamResetError. */
  reset(): void {
    this.abort(new StreamResetError(`stream ${this.id} reset locally`));
  }

  /** Reset with a local reason that readers and writers see; the remote sees RST. */
  abort(reason?: unknown): void {
    if (this.#error !== undefined || this.#status === "closed") return;
    this.sendReset();
    this.onReset(reason ?? new StreamResetError(`stream ${this.id} aborted`));
  }

  // --- ByteChannel ----------------------------------------------------------------------------------

  /** The next payload (into `into` when given), or `null` after the remote's FIN. */
  read(into?: Uint8Array): Promise<Uint8Array | null> {
    if (this.#read !== undefined) {
      return Promise.reject(new TypeError(`stream ${this.id}: one read at a time`));
    }
    this.#active = performance.now();
    const queue = this.#queue;
    if (queue !== undefined && queue.length > 0) {
      const chunk = queue.shift()!;
      this.consumed(chunk.byteLength);
      return Promise.resolve(chunk);
    }
    if (this.#error !== undefined) return Promise.reject(this.#error);
    if (this.#remoteFin || this.#readCancelled) return READ_END;
    if (into !== undefined && !this.#byobCounted) {
      this.#byobCounted = true;
      this.byobReaders(1);
    }
    const waiting = new Promise<Uint8Array | null>((resolve, reject) => {
      this.#read = { into, filled: 0, settling: false, resolve, reject };
    });
    this.wantData();
    return waiting;
  }

  /** Hand `chunk` to the muxer (it copies); what the window does not take waits. */
  write(chunk: Uint8Array): void {
    if (!(chunk instanceof Uint8Array)) {
      throw new TypeError("muxed streams carry Uint8Array chunks");
    }
    if (this.#error !== undefined) throw this.#error;
    if (this.#writeClosed) throw new StreamClosedError(`stream ${this.id} is closed for writing`);
    this.#active = performance.now();
    if (chunk.byteLength === 0) return;
    if (this.#pending === undefined) {
      const n = this.sendData(chunk);
      if (n >= chunk.byteLength) return;
      chunk = chunk.subarray(n);
      this.#pending = [];
    }
    this.#pending.push(chunk);
  }

  /** The muxer copies what it takes: a writer may reuse its chunk once drained. */
  get copiesWrites(): boolean {
    return true;
  }

  /** Resolves once every write was taken by the muxer and its queue is below its mark. */
  drained(): Promise<void> {
    if (this.#error !== undefined) return Promise.reject(this.#error);
    if (this.#pending === undefined) return this.#backpressureOrFailure();
    const wait = this.#drainWait ??= Promise.withResolvers<void>();
    return wait.promise.then(() => this.#backpressureOrFailure());
  }

  /** The muxer's backpressure, cut short when the stream fails meanwhile. */
  #backpressureOrFailure(): Promise<void> {
    const bp = this.backpressure();
    if (bp === undefined) return RESOLVED;
    if (this.#failure === undefined) {
      this.#failure = Promise.withResolvers<never>();
      this.#failure.promise.catch(() => {});
    }
    return Promise.race([bp, this.#failure.promise]);
  }

  /** Flush what was written, then send FIN. Idempotent. */
  closeWrite(): Promise<void> {
    if (this.#closing !== undefined) return this.#closing;
    if (this.#error !== undefined) return Promise.reject(this.#error);
    this.#writeClosed = true;
    if (this.#pending === undefined) {
      this.#finishWrite();
      this.#closing = RESOLVED;
    } else {
      this.#closing = this.drained().then(() => this.#finishWrite());
    }
    return this.#closing;
  }

  /** We read no more: a pending read resolves `null`, what arrives later is dropped. */
  cancelRead(_reason?: unknown): void {
    if (this.#readCancelled || this.#error !== undefined) return;
    this.#readCancelled = true;
    let dropped = 0;
    for (const c of this.#queue ?? []) dropped += c.byteLength;
    this.#queue = undefined;
    if (dropped > 0) this.consumed(dropped);
    this.#endRead(null);
    this.readStopped();
    this.#updateStatus();
  }

  // --- called by the muxer ------------------------------------------------------------------------

  /**
   * @internal Payload from the remote. `lent`: `data` views a buffer the muxer reuses for its
   * next read, so what is kept is copied.
   */
  onData(data: Uint8Array, lent = false): void {
    if (this.#readCancelled || this.#remoteFin || this.#error !== undefined) {
      this.consumed(data.byteLength);
      return;
    }
    this.#active = performance.now();
    if (this.#pulling) {
      this.#pulling = false;
      this.consumed(data.byteLength);
      this.#controller!.enqueue(lent ? data.slice() : data);
      return;
    }
    const r = this.#read;
    if (r !== undefined) {
      const into = r.into;
      if (into === undefined) {
        this.#read = undefined;
        this.consumed(data.byteLength);
        r.resolve(lent ? data.slice() : data);
        return;
      }
      // A read into the caller's buffer waits only with an empty queue: this payload is next.
      const n = Math.min(data.byteLength, into.byteLength - r.filled);
      into.set(n === data.byteLength ? data : data.subarray(0, n), r.filled);
      r.filled += n;
      this.consumed(n);
      if (r.filled === into.byteLength) this.#settle(r);
      else if (!r.settling) {
        r.settling = true;
        queueMicrotask(() => this.#settle(r));
      }
      if (n === data.byteLength) return;
      data = data.subarray(n);
    }
    (this.#queue ??= []).push(lent ? data.slice() : data);
  }

  /** @internal The remote half-closed. */
  onFin(): void {
    if (!this.#remoteFin) {
      this.#remoteFin = true;
      // A waiting read has an empty queue behind it: the stream ends there.
      this.#endRead(null);
    }
    this.#updateStatus();
  }

  /** @internal The send window grew: write what waits. */
  onSendWindow(): void {
    const pending = this.#pending;
    if (pending === undefined || this.#error !== undefined) return;
    while (pending.length > 0) {
      const chunk = pending[0];
      let n: number;
      try {
        n = this.sendData(chunk);
      } catch (err) {
        this.onReset(err);
        return;
      }
      if (n > 0) this.#active = performance.now();
      if (n < chunk.byteLength) {
        pending[0] = chunk.subarray(n);
        return;
      }
      pending.shift();
    }
    this.#pending = undefined;
    const wait = this.#drainWait;
    this.#drainWait = undefined;
    wait?.resolve();
  }

  /** @internal The remote reset the stream, the session ended, or we aborted it. */
  onReset(error: unknown): void {
    if (this.#error !== undefined) return;
    this.#error = error;
    this.#status = "reset";
    this.timeline.close ??= Date.now();
    this.#queue = undefined;
    this.#pending = undefined;
    this.#writeClosed = true;
    this.#endRead(error);
    const wait = this.#drainWait;
    this.#drainWait = undefined;
    if (wait !== undefined) {
      wait.promise.catch(() => {});
      wait.reject(error);
    }
    this.#failure?.reject(error);
  }

  /** @internal The muxer forgot the stream (both sides closed, or reset). */
  onFreed(): void {
    if (this.#isFreed) return;
    this.#isFreed = true;
    this.timeline.close ??= Date.now();
    if (this.#status !== "reset") this.#status = "closed";
    this.#endByob();
    this.streamFreed();
    this.#freed?.resolve();
  }

  // --- internals ------------------------------------------------------------------------------------

  #settle(r: PendingRead): void {
    if (this.#read !== r) return;
    this.#read = undefined;
    r.resolve(r.into!.subarray(0, r.filled));
  }

  /** End a waiting read with `null` (or what it filled) or `error`; stop lending. */
  #endRead(error: unknown): void {
    const controller = this.#controller;
    // The readable ends now unless payloads still wait in our queue (pull closes it after them).
    if (controller !== undefined && (error !== null || !(this.#queue?.length))) {
      this.#pulling = false;
      try {
        if (error !== null) controller.error(error);
        else controller.close();
      } catch {
        // Already closed or errored.
      }
    }
    const r = this.#read;
    if (r !== undefined) {
      this.#read = undefined;
      if (error !== null) r.reject(error);
      else r.resolve(r.filled > 0 ? r.into!.subarray(0, r.filled) : null);
    }
    this.#endByob();
  }

  #endByob(): void {
    if (!this.#byobCounted) return;
    this.#byobCounted = false;
    this.byobReaders(-1);
  }

  #finishWrite(): void {
    if (this.#writeDone || this.#error !== undefined) return;
    this.#writeDone = true;
    this.sendClose();
    this.#updateStatus();
  }

  #updateStatus(): void {
    if (
      this.#status === "open" &&
      (this.#remoteFin || this.#readCancelled || this.#writeDone)
    ) {
      this.#status = "closing";
    }
    if (
      this.#status === "closing" && this.#writeDone && (this.#remoteFin || this.#readCancelled)
    ) {
      this.bothEnded();
    }
  }
}
