/**
 * Wires a {@link YamuxSession} to a connection's byte channel: one reader loop feeding every
 * received chunk to the session, one writer that takes everything the session queued (all frames
 * produced in the same tick, already coalesced), writes it and waits until the connection drained
 * it, and the keep-alive timer. The only Yamux file touching streams and timers.
 *
 * @module
 */

import { AbortError, ConnectionClosedError, StreamResetError } from "../../src/errors.ts";
import type {
  MuxedStream,
  StreamMuxer,
  StreamMuxerFactory,
  StreamMuxerInit,
} from "../../src/muxer.ts";
import type { ByteChannel, ChannelConnection } from "../../src/stream/channel.ts";
import { Deadline, type DeadlineTarget, sharedTimerQueue } from "../../src/stream/timer_queue.ts";
import type { AbortOptions } from "../../src/stream/types.ts";
import { GoAwayCode, OUTBOX_HIGH_WATER_MARK, YAMUX_PROTOCOL_ID } from "./constants.ts";
import { type ResolvedYamuxOptions, resolveYamuxOptions, type YamuxOptions } from "./options.ts";
import { type SessionEvents, YamuxSession } from "./session.ts";
import { type StreamHost, YamuxStream } from "./stream.ts";

/**
 * The buffer lent to the channel per read while a stream reads into its own buffers: the TCP
 * read size (transports/tcp READ_CHUNK_SIZE), one Data frame of the default maxMessageSize and
 * its header fit.
 */
const LENT_READ_SIZE = 64 * 1024;

/**
 * Create a Yamux muxer factory (`/yamux/1.0.0`). Options are validated here, once.
 *
 * @example
 * ```ts
 * import { yamux } from "@p2p-edge/libp2p/protocols/yamux";
 * import { channelPair } from "@p2p-edge/libp2p/stream";
 * const [a, b] = channelPair();
 * const factory = yamux({ keepAliveIntervalMs: 10_000 });
 * const client = factory.createStreamMuxer(a, { direction: "outbound" });
 * const server = factory.createStreamMuxer(b, {
 *   direction: "inbound",
 *   onIncomingStream: (s) => void s.readable.pipeTo(s.writable), // echo
 * });
 * const stream = await client.newStream();
 * const w = stream.writable.getWriter();
 * await w.write(new TextEncoder().encode("hi"));
 * await w.close();
 * ```
 */
export function yamux(options: YamuxOptions = {}): StreamMuxerFactory {
  const opts = resolveYamuxOptions(options);
  return {
    protocol: YAMUX_PROTOCOL_ID,
    createStreamMuxer(conn: ChannelConnection, init: StreamMuxerInit): StreamMuxer {
      return new YamuxMuxer(conn, init, opts);
    },
  };
}

/**
 * A Yamux session over one connection. Create it with {@link yamux}.
 *
 * @example
 * ```ts
 * import { yamux } from "@p2p-edge/libp2p/protocols/yamux";
 * import { channelPair } from "@p2p-edge/libp2p/stream";
 * const [a] = channelPair();
 * const muxer = yamux().createStreamMuxer(a, { direction: "outbound" });
 * muxer.abort();
 * await muxer.closed;
 * ```
 */
export class YamuxMuxer implements StreamMuxer, StreamHost, SessionEvents, DeadlineTarget {
  /** "/yamux/1.0.0". */
  readonly protocol: string = YAMUX_PROTOCOL_ID;
  /** Settles when the session has ended. */
  readonly closed: Promise<void>;
  /** The state machine (exposed for the stream objects). */
  readonly session: YamuxSession;
  readonly #init: StreamMuxerInit;
  readonly #opts: ResolvedYamuxOptions;
  // Made with the first stream and dropped with the last: an idle session holds no empty map.
  #streams: Map<number, YamuxStream> | undefined;
  /** The connection's bytes (its own channel for TCP/Noise: no stream layer below the muxer). */
  readonly #channel: ByteChannel;
  /** The connection the channel belongs to (aborted with the session). */
  readonly #conn: ChannelConnection;
  /** Written blocks go back to the outbox after `drained()` (the channel copies its writes). */
  readonly #recycle: boolean;
  #state: "open" | "closing" | "closed" = "open";
  /** The write pump runs (it starts on output and ends when the outbox is empty). */
  #writing = false;
  #drainWaiters: (() => void)[] = [];
  // Made when a stream open first waits for the ACK backlog (rare), so idle sessions hold no set.
  #backlogWaiters: Set<{ resolve: () => void; reject: (e: unknown) => void }> | undefined;
  #streamsGone: (() => void) | undefined;
  /** The session's next timeout (keep-alive ping or its deadline), in the shared queue. */
  readonly #deadline: Deadline = new Deadline(sharedTimerQueue, this);
  #resolveClosed!: () => void;
  /**
   * Streams whose reader fills its own buffers (YamuxStream.readInto). While there is one,
   * the session lends `#lent` to the channel for each read and the streams copy payloads out
   * (into the waiting buffer, or a copy for the queue) before the next read reuses it: a bulk
   * receiver then allocates nothing per read. Without one, reads are allocated by the channel
   * and payloads handed on as views (no copy), and an idle session holds no buffer.
   */
  #byobReaders = 0;
  #lent: Uint8Array | undefined;
  /** The chunk being parsed is `#lent` (payload views must be copied before they are kept). */
  #parsingLent = false;

  /** Use {@link yamux}. */
  constructor(conn: ChannelConnection, init: StreamMuxerInit, opts: ResolvedYamuxOptions) {
    this.#init = init;
    this.#opts = opts;
    this.closed = new Promise((resolve) => (this.#resolveClosed = resolve));
    this.#conn = conn;
    this.#channel = conn.channel;
    this.#recycle = this.#channel.copiesWrites === true;
    this.session = new YamuxSession(
      init.direction === "outbound",
      opts,
      this,
      this.now(),
      init.memory,
    );
    this.#schedule();
    this.#read();
  }

  /** Streams not yet freed. */
  get streams(): readonly MuxedStream[] {
    return this.#streams === undefined ? [] : [...this.#streams.values()];
  }

  /** Open an outbound stream; waits while the ACK backlog is full. */
  async newStream(options: AbortOptions = {}): Promise<MuxedStream> {
    const signal = options.signal;
    for (;;) {
      if (signal?.aborted) throw signal.reason ?? new AbortError();
      this.#checkOpen();
      if (!this.session.ackBacklogFull) break;
      await this.#waitBacklog(signal);
    }
    const id = this.session.openStream(this.now());
    const stream = new YamuxStream(id, "outbound", this, this.#opts.maxStreamWindow);
    (this.#streams ??= new Map()).set(id, stream);
    return stream;
  }

  /** GoAway(0), wait for streams (until `signal` or goAwayTimeoutMs), then close the connection. */
  async close(options: AbortOptions = {}): Promise<void> {
    if (this.#state !== "open") return this.closed;
    this.#state = "closing";
    this.session.goAway(GoAwayCode.Normal);
    this.#rejectBacklog(() => new ConnectionClosedError("yamux session is closing"));
    if (this.#streams !== undefined) {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const onAbort = (): void => this.#streamsGone?.();
      await new Promise<void>((resolve) => {
        this.#streamsGone = resolve;
        timer = setTimeout(resolve, this.#opts.goAwayTimeoutMs);
        options.signal?.addEventListener("abort", onAbort, { once: true });
        if (options.signal?.aborted) resolve();
      });
      clearTimeout(timer);
      options.signal?.removeEventListener("abort", onAbort);
      this.#streamsGone = undefined;
    }
    if ((this.#state as string) === "closed") return this.closed;
    // Remaining streams are reset (RST), then the connection closes after a flush.
    for (const s of this.streams) s.reset();
    await this.#finish(undefined, "graceful");
  }

  /** Tear everything down at once. */
  abort(reason?: unknown): void {
    const err = reason instanceof Error
      ? reason
      : new ConnectionClosedError("yamux session aborted", { cause: reason });
    void this.#finish(err, "abort", reason);
  }

  /** @internal The session clock. */
  now(): number {
    return performance.now();
  }

  /** @internal Stream writes wait on this while the outbox is above its high-water mark. */
  outboxBackpressure(): Promise<void> | undefined {
    if (this.session.outbox.size <= OUTBOX_HIGH_WATER_MARK || this.#state === "closed") {
      return undefined;
    }
    return new Promise((resolve) => this.#drainWaiters.push(resolve));
  }

  // --- session events ----------------------------------------------------------------------------
  // The muxer is the session's SessionEvents: methods on the prototype instead of an object of
  // eleven closures per connection. Called by the session only.

  /** @internal Session event: the outbox has data; start the write pump unless it runs. */
  onOutput(): void {
    if (this.#writing || this.#state === "closed") return;
    this.#writing = true;
    // One microtask later, so that the frames queued in this tick leave in one write (and the
    // session's first ping, queued while it is being constructed, finds `session` set).
    queueMicrotask(() => void this.#writeLoop());
  }

  /** @internal Session event: the remote opened stream `id`. */
  onStreamOpened(id: number): void {
    this.#incoming(id);
  }

  /** @internal Session event: payload for stream `id`. */
  onStreamData(id: number, data: Uint8Array): void {
    this.#streams?.get(id)?.onData(data, this.#parsingLent);
  }

  /** @internal A stream's reader started (+1) or stopped (-1) filling its own buffers. */
  byobReaders(delta: 1 | -1): void {
    this.#byobReaders += delta;
    if (this.#byobReaders === 0) this.#lent = undefined;
  }

  /** @internal Session event: the remote half-closed stream `id`. */
  onStreamFin(id: number): void {
    this.#streams?.get(id)?.onFin();
  }

  /** @internal Session event: the remote reset stream `id`. */
  onStreamReset(id: number): void {
    this.#streams?.get(id)?.onReset(new StreamResetError(`yamux stream ${id} reset by remote`));
  }

  /** @internal Session event: the send window of stream `id` grew. */
  onSendWindow(id: number): void {
    this.#streams?.get(id)?.onSendWindow();
  }

  /** @internal Session event: stream `id` left the session. */
  onStreamFreed(id: number): void {
    this.#streams?.get(id)?.onFreed();
  }

  /** @internal Session event: the ACK backlog shrank. */
  onAckBacklog(): void {
    const first = this.#backlogWaiters?.values().next();
    if (first !== undefined && !first.done) {
      this.#backlogWaiters!.delete(first.value);
      first.value.resolve();
    }
  }

  /** @internal Session event: the remote is going away. */
  onGoAway(): void {
    this.#rejectBacklog(() => new ConnectionClosedError("remote yamux session is going away"));
  }

  /** @internal Session event: the session failed. */
  onError(error: Error): void {
    void this.#finish(error, "graceful");
  }

  /** @internal See {@link StreamHost.streamFreed}. */
  streamFreed(s: YamuxStream): void {
    const streams = this.#streams;
    if (streams === undefined) return;
    const id = Number(s.id);
    if (streams.get(id) === s) streams.delete(id);
    if (streams.size > 0) return;
    this.#streams = undefined;
    this.#streamsGone?.();
  }

  #incoming(id: number): void {
    const stream = new YamuxStream(id, "inbound", this, this.#opts.maxStreamWindow);
    (this.#streams ??= new Map()).set(id, stream);
    const handler = this.#init.onIncomingStream;
    if (handler === undefined) {
      stream.reset();
      return;
    }
    try {
      handler(stream);
    } catch {
      stream.reset();
    }
  }

  // --- I/O ------------------------------------------------------------------------------------------

  /**
   * Read the next chunk. Each read is continued by handlers made once per session rather than
   * by an async loop, so an idle connection holds no suspended generator here.
   */
  #read(): void {
    let next: Promise<Uint8Array | null>;
    try {
      next = this.#byobReaders > 0
        ? this.#channel.read(this.#lent ??= new Uint8Array(LENT_READ_SIZE))
        : this.#channel.read();
    } catch (err) {
      this.#readFailed(err);
      return;
    }
    next.then(this.#onChunk, this.#readFailed);
  }

  readonly #onChunk = (chunk: Uint8Array | null): void => {
    if (chunk === null) {
      this.#readEnded(undefined);
      return;
    }
    try {
      // After the session ended input is ignored until the reader is cancelled.
      this.#parsingLent = chunk.buffer === this.#lent?.buffer;
      this.session.receive(chunk, this.now());
    } catch (err) {
      this.#readFailed(err);
      return;
    } finally {
      this.#parsingLent = false;
    }
    this.#read();
  };

  readonly #readFailed = (err: unknown): void => {
    this.#readEnded(
      err instanceof Error ? err : new ConnectionClosedError("read failed", { cause: err }),
    );
  };

  #readEnded(failure: Error | undefined): void {
    let error = failure;
    if (this.#state === "closed") return;
    // The connection ended under us: streams still open fail with a reset-class error.
    if (error === undefined && this.#streams !== undefined) {
      error = new ConnectionClosedError(
        `connection closed with ${this.#streams.size} yamux streams open`,
      );
    }
    void this.#finish(error, error === undefined ? "graceful" : "abort");
  }

  /**
   * Write what the outbox holds, batch after batch, until it is empty. Started on demand, so an
   * idle connection has no suspended write loop (a generator and a promise per connection).
   */
  async #writeLoop(): Promise<void> {
    const channel = this.#channel;
    const outbox = this.session.outbox;
    try {
      while (outbox.size > 0 && this.#state !== "closed") {
        const blocks = outbox.take();
        this.#releaseDrainWaiters();
        if (blocks === undefined) continue;
        for (const b of blocks) channel.write(b);
        // What streams queue meanwhile goes out as the next batch, coalesced.
        await channel.drained();
        if (this.#recycle) outbox.recycle(blocks);
      }
      this.#writing = false;
    } catch (err) {
      if (this.#state !== "closed") {
        void this.#finish(
          new ConnectionClosedError("connection write failed", { cause: err }),
          "abort",
        );
      }
    }
  }

  #releaseDrainWaiters(): void {
    if (this.#drainWaiters.length === 0) return;
    const waiters = this.#drainWaiters;
    this.#drainWaiters = [];
    for (const resolve of waiters) resolve();
  }

  #schedule(): void {
    const at = this.session.nextTimeout();
    if (at === undefined || this.#state === "closed") return;
    this.#deadline.set(at);
  }

  /** @internal The session's timeout came (see {@link DeadlineTarget}). */
  onDeadline(): void {
    this.session.tick(this.now());
    this.#schedule();
  }

  #checkOpen(): void {
    if (this.#state !== "open") throw new ConnectionClosedError("yamux session is closed");
    if (this.session.remoteGoAway !== undefined) {
      throw new ConnectionClosedError("remote yamux session is going away");
    }
  }

  #waitBacklog(signal: AbortSignal | undefined): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const onAbort = (): void => {
        this.#backlogWaiters?.delete(waiter);
        reject(signal?.reason ?? new AbortError());
      };
      const waiter = {
        resolve: () => {
          signal?.removeEventListener("abort", onAbort);
          resolve();
        },
        reject: (e: unknown) => {
          signal?.removeEventListener("abort", onAbort);
          reject(e);
        },
      };
      (this.#backlogWaiters ??= new Set()).add(waiter);
      signal?.addEventListener("abort", onAbort, { once: true });
    });
  }

  /** Reject every backlog waiter; `error` is only built when someone waits (stack traces cost). */
  #rejectBacklog(error: () => Error): void {
    if (this.#backlogWaiters === undefined || this.#backlogWaiters.size === 0) return;
    const waiters = [...this.#backlogWaiters];
    this.#backlogWaiters = undefined;
    const err = error();
    for (const w of waiters) w.reject(err);
  }

  /**
   * End the session once. "graceful" flushes what is queued (e.g. a GoAway) and closes the
   * writable; "abort" aborts the connection. Streams still open fail with StreamResetError.
   */
  async #finish(
    error: Error | undefined,
    how: "graceful" | "abort",
    reason?: unknown,
  ): Promise<void> {
    if (this.#state === "closed") return;
    this.#state = "closed";
    this.#deadline.clear();
    if (this.#streams !== undefined) {
      const streamError = new StreamResetError("yamux session ended", { cause: error });
      for (const s of [...this.#streams.values()]) {
        s.onReset(streamError);
        s.onFreed();
      }
      this.#streams = undefined;
    }
    this.#rejectBacklog(() => new ConnectionClosedError("yamux session ended", { cause: error }));
    this.#releaseDrainWaiters();
    const pending = this.session.outbox.take();
    this.session.destroy(error ?? new ConnectionClosedError("yamux session closed"));
    if (how === "abort") this.#abortConnection(reason ?? error);
    else await this.#closeConnection(pending, error);
    this.#resolveClosed();
    try {
      this.#init.onClose?.(error);
    } catch {
      // A faulty callback must not break teardown.
    }
  }

  async #closeConnection(
    pending: Uint8Array[] | undefined,
    error: Error | undefined,
  ): Promise<void> {
    // Flush the rest (GoAway included) and close our side (bounded by goAwayTimeoutMs, then the
    // connection is aborted). There is nothing left to read: every stream has ended.
    const channel = this.#channel;
    let closed: Promise<"closed" | "failed">;
    try {
      if (pending !== undefined) { for (const b of pending) channel.write(b); }
      closed = channel.closeWrite().then(() => "closed" as const, () => "failed" as const);
    } catch {
      closed = Promise.resolve("failed");
    }
    let timer: ReturnType<typeof setTimeout> | undefined;
    const deadline = new Promise<"timeout">((resolve) => {
      timer = setTimeout(() => resolve("timeout"), this.#opts.goAwayTimeoutMs);
    });
    const outcome = await Promise.race([closed, deadline]);
    clearTimeout(timer);
    if (outcome === "timeout") this.#abortConnection(error);
    else this.#channel.cancelRead();
  }

  #abortConnection(reason: unknown): void {
    const err = reason ?? new ConnectionClosedError("yamux session aborted");
    try {
      // The channel's abort reaches every layer below it; the connection's closes its resource.
      this.#channel.abort(err);
      this.#conn.abort(err);
    } catch {
      // A faulty abort must not break teardown.
    }
  }
}
