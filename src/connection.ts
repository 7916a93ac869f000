/**
 * The connection and stream objects users hold: a secured, multiplexed connection to one peer,
 * and protocol streams on it.
 *
 * @module
 */

import { deadlineSignal } from "./abort.ts";
import type { ConnectionScope, StreamScope } from "./node/resource_manager.ts";
import { DEFAULT_STREAM_IDLE_TIMEOUT_MS, StreamIdleWatch } from "./node/stream_guard.ts";
import { ConnectionClosedError, LimitExceededError } from "./errors.ts";
import {
  armDurationLimit,
  checkConnectionLimits,
  type ConnectionLimits,
  LimitedConnectionError,
} from "./node/limits.ts";
import { CODE_P2P_CIRCUIT, type Multiaddr } from "./multiaddr/mod.ts";
import type { MuxedStream, MuxedStreamStatus, StreamMuxer } from "./muxer.ts";
import type { PeerId } from "./peer_id.ts";
import type { PublicKey } from "./keys/types.ts";
import type { AbortOptions, Direction, Duplex, Timeline } from "./stream/types.ts";
import { ChannelCopier } from "./stream/read_into.ts";
import { type ByteChannel, channelReadable, channelWritable } from "./stream/channel.ts";
import { handleChannel, selectChannel } from "./multistream/mod.ts";

/** Default deadline for negotiating a protocol on a new stream (HARDENING.md rule 8). */
export const DEFAULT_NEGOTIATION_TIMEOUT_MS = 10_000;

/** Reads a Stream's channel for {@link streamChannelOf}; set by the Stream class (no public member). */
let channelOfStream: (stream: Stream) => ByteChannel;

/**
 * A protocol stream: a muxed stream on which a protocol was negotiated.
 *
 * `readable`/`writable` carry the protocol's bytes. They are web streams built on first access
 * from the stream's byte channel (the muxed stream's, with any bytes read ahead during the
 * negotiation replayed first), so a handler gets them fresh and undisturbed: `new
 * Response(stream.readable)`, `pipeThrough`, `pipeTo` and `fetch` bodies work. The connection
 * enforces the inactivity deadline from the muxed stream's `lastActivity`. `close()` half-closes
 * (we are done writing; reading continues until the remote closes), `reset()` ends both
 * directions at once.
 *
 * @example
 * ```ts
 * import type { Stream } from "@p2p-edge/libp2p";
 * async function send(stream: Stream, bytes: Uint8Array): Promise<void> {
 *   const writer = stream.writable.getWriter();
 *   await writer.write(bytes);
 *   await writer.close(); // half-close
 * }
 * ```
 */
export class Stream implements Duplex {
  /** The negotiated protocol id. */
  readonly protocol: string;
  /** The connection this stream belongs to. */
  readonly connection: Connection;
  readonly #muxed: MuxedStream;
  /** The protocol's bytes: the muxed stream's channel after negotiation. */
  readonly #channel: ByteChannel;
  readonly #onReset: (() => void) | undefined;
  #readable: ReadableStream<Uint8Array> | undefined;
  #writable: WritableStream<Uint8Array> | undefined;
  #copier: ChannelCopier | undefined;

  /** Gives {@link streamChannelOf} the channel without a public member. */
  static {
    channelOfStream = (stream) => {
      if (stream.#readable !== undefined || stream.#writable !== undefined || stream.#copier) {
        throw new TypeError("this stream's web streams are in use: its channel cannot be taken");
      }
      return stream.#channel;
    };
  }

  /**
   * Streams are created by Connection.newStream and by inbound dispatch. `channel` is the
   * negotiated channel; `onReset` runs when the stream is reset or aborted locally (the
   * connection releases its accounting then).
   */
  constructor(
    muxed: MuxedStream,
    protocol: string,
    channel: ByteChannel,
    connection: Connection,
    onReset?: () => void,
  ) {
    this.#muxed = muxed;
    this.protocol = protocol;
    this.#channel = channel;
    this.connection = connection;
    this.#onReset = onReset;
  }

  /** Bytes from the remote: a fresh web stream over the stream's channel, built on first use. */
  get readable(): ReadableStream<Uint8Array> {
    // Nothing between the muxed stream and us (no read-ahead, no select to verify): its own
    // readable, which the muxer feeds directly.
    return this.#readable ??= this.#channel === this.#muxed.channel
      ? this.#muxed.readable
      : channelReadable(this.#channel);
  }

  /** Bytes to the remote; closing it half-closes the stream. Built on first use. */
  get writable(): WritableStream<Uint8Array> {
    return this.#writable ??= channelWritable(this.#channel);
  }

  /**
   * Read the next bytes into `view`, the caller's buffer: resolves with how many were written to
   * its start, or `null` at the end of the stream. The buffer is lent to the stream's channel:
   * on Yamux the payload is copied straight from the connection into `view`, so a receiver that
   * reuses one buffer allocates nothing per chunk (the fastest way to take in bulk data). Do not
   * mix with `readable`; one call at a time.
   *
   * @example
   * ```ts
   * import type { Stream } from "@p2p-edge/libp2p";
   * async function drain(stream: Stream): Promise<number> {
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
    if (this.#copier === undefined) {
      if (this.#readable?.locked) {
        return Promise.reject(new TypeError("readInto: the stream's readable is being read"));
      }
      // From now on readInto is the stream's reader: lock `readable` so nobody reads around it.
      this.readable.getReader();
      this.#copier = new ChannelCopier(this.#channel);
    }
    return this.#copier.read(view);
  }

  /** Stream id within its connection. */
  get id(): string {
    return this.#muxed.id;
  }

  /** "outbound" when we opened it. */
  get direction(): Direction {
    return this.#muxed.direction;
  }

  /** The remote peer. */
  get remotePeer(): PeerId {
    return this.connection.remotePeer;
  }

  /** When it opened and closed. */
  get timeline(): Timeline {
    return this.#muxed.timeline;
  }

  /** "open", "closing", "closed" or "reset". */
  get status(): MuxedStreamStatus {
    return this.#muxed.status;
  }

  /** Half-close: flush and signal end of our writes. */
  async close(options?: AbortOptions): Promise<void> {
    // Through our writable when nobody holds it, so that queued writes go out first.
    const writable = this.#writable;
    if (writable !== undefined && !writable.locked) {
      options?.signal?.throwIfAborted();
      await writable.close().catch(() => {});
    }
    return this.#muxed.close(options);
  }

  /** Stop reading; further incoming data is discarded. */
  closeRead(): void {
    const readable = this.#readable;
    if (readable !== undefined && !readable.locked) readable.cancel().catch(() => {});
    else this.#channel.cancelRead();
  }

  /** Reset both directions. */
  reset(): void {
    this.#muxed.reset();
    this.#onReset?.();
  }

  /** Reset with a local reason. */
  abort(reason?: unknown): void {
    this.#muxed.abort(reason);
    this.#onReset?.();
  }
}

/**
 * The byte channel of a Stream, for layers inside the node that build on a stream's bytes (a
 * transport that makes a connection from a stream of another connection: circuit relay). Take
 * it before anything touched `readable`, `writable` or `readInto` (TypeError otherwise); from
 * then on read and write only the channel. Not part of the public API (ARCHITECTURE.md, "The
 * types, by role"): users hold web streams.
 *
 * @example
 * ```ts
 * import { streamChannelOf, type Stream } from "./connection.ts";
 * declare const stream: Stream;
 * const channel = streamChannelOf(stream);
 * channel.write(new Uint8Array([1]));
 * ```
 */
export function streamChannelOf(stream: Stream): ByteChannel {
  return channelOfStream(stream);
}

/** A handler for inbound streams of one protocol. Errors it throws reset the stream. */
export type StreamHandler = (stream: Stream) => void | Promise<void>;

/** Options of a registered handler. */
export interface StreamHandlerOptions {
  /** At most this many inbound streams of the protocol per connection; more are reset. */
  maxInboundStreams?: number;
  /**
   * Inactivity deadline of each stream of the protocol, ms: a stream without reads or writes
   * this long is reset with a TimeoutError. 0 disables it (long-lived idle streams). Default:
   * the node's `streamIdleTimeoutMs` (60 s).
   */
  idleTimeoutMs?: number;
  /**
   * Serve this protocol on limited connections (relayed, see {@link Connection.limits}) too.
   * Default false: on a limited connection the protocol is not offered ("na").
   */
  runOnLimitedConnection?: boolean;
}

/** Where a connection finds the handlers for inbound streams (the node's registrar). */
export interface StreamHandlerRegistry {
  /** Protocol ids that have a handler, for negotiation and `ls`. */
  protocols(): string[];
  /** The handler of a protocol, if any. */
  get(protocol: string): { handler: StreamHandler; options: StreamHandlerOptions } | undefined;
}

/** Everything a Connection is built from (the upgrader fills it in). */
export interface ConnectionInit {
  /** Connection id, unique within the node. */
  id: string;
  /** The authenticated remote peer. */
  remotePeer: PeerId;
  /** Its public key. */
  remotePublicKey: PublicKey;
  /** Remote transport address. */
  remoteAddr: Multiaddr;
  /** Local transport address, when known. */
  localAddr?: Multiaddr;
  /** Who dialled. */
  direction: Direction;
  /** Security protocol id, e.g. "/noise". */
  encryption: string;
  /** The muxer session (the connection owns it). */
  muxer: StreamMuxer;
  /** Timeline (open, upgraded). */
  timeline: Timeline;
  /** Handlers for inbound streams; without one every inbound stream is reset. */
  registry?: StreamHandlerRegistry;
  /** Deadline for protocol negotiation on a stream, ms. */
  negotiationTimeoutMs?: number;
  /** Called with errors a handler throws (the stream is reset either way). */
  onHandlerError?: (error: unknown, protocol: string, peer: PeerId) => void;
  /** Resource accounting of the connection's streams; closed with the connection. */
  resources?: ConnectionScope;
  /** Default inactivity deadline of protocol streams, ms (0: none). Default 60 s. */
  streamIdleTimeoutMs?: number;
  /** Limits of a limited (relayed) connection; see {@link Connection.limits}. */
  limits?: ConnectionLimits;
}

/** Options for {@link Connection.newStream}. */
export interface NewStreamOptions extends AbortOptions {
  /** Deadline for the negotiation, ms (default 10 s). */
  negotiationTimeoutMs?: number;
  /** Inactivity deadline of the stream, ms (0: none). Default: the connection's (60 s). */
  idleTimeoutMs?: number;
  /**
   * Open the stream even when the connection is limited. Default false: newStream on a limited
   * connection throws {@link LimitedConnectionError}.
   */
  runOnLimitedConnection?: boolean;
}

/**
 * A secured, multiplexed connection to one peer.
 *
 * @example
 * ```ts
 * import type { Connection } from "@p2p-edge/libp2p";
 * async function ping(conn: Connection): Promise<void> {
 *   const stream = await conn.newStream("/ipfs/ping/1.0.0");
 *   stream.reset();
 * }
 * ```
 */
export class Connection {
  /** Connection id. */
  readonly id: string;
  /** The authenticated remote peer. */
  readonly remotePeer: PeerId;
  /** Its public key. */
  readonly remotePublicKey: PublicKey;
  /** Remote transport address (without `/p2p/`). */
  readonly remoteAddr: Multiaddr;
  /** Local transport address, when known. */
  readonly localAddr: Multiaddr | undefined;
  /** Who dialled. */
  readonly direction: Direction;
  /** Security protocol id. */
  readonly encryption: string;
  /** Muxer protocol id. */
  readonly multiplexer: string;
  /** When it opened, finished upgrading and closed. */
  readonly timeline: Timeline;
  /** Settles when the connection has closed. */
  readonly closed: Promise<void>;
  readonly #muxer: StreamMuxer;
  readonly #registry: StreamHandlerRegistry | undefined;
  readonly #negotiationTimeoutMs: number;
  readonly #onHandlerError: ((error: unknown, protocol: string, peer: PeerId) => void) | undefined;
  // Made with the first protocol stream, so a connection that never opens one holds no table.
  #streams: WeakMap<MuxedStream, Stream> | undefined;
  readonly #resources: ConnectionScope | undefined;
  readonly #idleTimeoutMs: number;
  /**
   * One timer for every stream's inactivity deadline (HARDENING.md rule 8); made with the first
   * guarded stream.
   */
  #idle: StreamIdleWatch | undefined;
  #status: "open" | "closing" | "closed" = "open";
  #limits: ConnectionLimits | undefined;
  /** Carried by a relay (`/p2p-circuit` in the remote address). */
  readonly #relayed: boolean;
  #cancelDuration: () => void = noop;

  /** Connections are built by the upgrader. */
  constructor(init: ConnectionInit) {
    this.id = init.id;
    this.remotePeer = init.remotePeer;
    this.remotePublicKey = init.remotePublicKey;
    this.remoteAddr = init.remoteAddr;
    this.#relayed = init.remoteAddr.protoCodes().includes(CODE_P2P_CIRCUIT);
    this.localAddr = init.localAddr;
    this.direction = init.direction;
    this.encryption = init.encryption;
    this.multiplexer = init.muxer.protocol;
    this.timeline = init.timeline;
    this.#muxer = init.muxer;
    this.#registry = init.registry;
    this.#negotiationTimeoutMs = init.negotiationTimeoutMs ?? DEFAULT_NEGOTIATION_TIMEOUT_MS;
    this.#onHandlerError = init.onHandlerError;
    this.#resources = init.resources;
    this.#idleTimeoutMs = init.streamIdleTimeoutMs ?? DEFAULT_STREAM_IDLE_TIMEOUT_MS;
    if (!(this.#idleTimeoutMs >= 0)) throw new RangeError("streamIdleTimeoutMs must be >= 0");
    if (init.limits !== undefined) this.applyLimits(init.limits);
    this.closed = init.muxer.closed.then(() => {
      this.#status = "closed";
      this.#cancelDuration();
      this.timeline.close ??= Date.now();
      // The deadline timer and every accounted resource go with the connection.
      this.#closeIdleWatch();
      this.#resources?.close();
    });
  }

  /**
   * The limits of a limited connection (a relayed one: circuit relay v2 caps its duration and
   * bytes), `undefined` on an unlimited one. Protocols run on a limited connection only when
   * they opt in (`runOnLimitedConnection`); the connection is aborted when `durationMs` passed.
   */
  get limits(): ConnectionLimits | undefined {
    return this.#limits;
  }

  /** Whether {@link limits} apply (js-libp2p's `limited`). */
  get limited(): boolean {
    return this.#limits !== undefined;
  }

  /**
   * @internal Mark the connection limited (the node does, for raw connections that carry
   * limits); the duration counts from `timeline.open`. Once only.
   */
  applyLimits(limits: ConnectionLimits): void {
    if (this.#limits !== undefined) throw new TypeError("the connection is limited already");
    const checked = checkConnectionLimits(limits);
    this.#limits = checked;
    if (checked.durationMs === undefined || this.#status === "closed") return;
    const left = checked.durationMs - (Date.now() - this.timeline.open);
    this.#cancelDuration = armDurationLimit({ durationMs: Math.max(1, left) }, (err) => {
      this.abort(err);
    });
  }

  /**
   * Streams under an inactivity deadline that have not ended yet (for leak checks); they share
   * one timer, armed only while this is above 0.
   */
  get guardedStreams(): number {
    return this.#idle?.size ?? 0;
  }

  /**
   * Build the user-facing Stream over the negotiated `channel` (no extra layer): under an
   * inactivity deadline unless `idleMs` is 0, with its resource scope released when the muxer
   * frees it, when it is reset, or when the connection closes.
   */
  #wrap(
    muxed: MuxedStream,
    protocol: string,
    channel: ByteChannel,
    idleMs: number,
    scope: StreamScope | undefined,
  ): Stream {
    let released = false;
    const release = (): void => {
      if (released) return;
      released = true;
      scope?.release();
      const idle = this.#idle;
      if (idle === undefined) return;
      idle.delete(muxed);
      // An empty watch has no timer armed: it goes until the next guarded stream.
      if (idle.size === 0 && idle !== CLOSED_IDLE_WATCH) this.#idle = undefined;
    };
    if (idleMs > 0 && this.#status !== "closed") {
      this.#idleWatch().add(muxed, idleMs, `${protocol} stream`, (err) => {
        muxed.abort(err);
        release();
      });
    }
    // Freed by the muxer (both sides closed, or reset): release now, not at the next sweep.
    muxed.closed.then(release);
    const stream = new Stream(muxed, protocol, channel, this, release);
    (this.#streams ??= new WeakMap()).set(muxed, stream);
    return stream;
  }

  #idleWatch(): StreamIdleWatch {
    if (this.#idle !== undefined) return this.#idle;
    const resources = this.#resources;
    // Each scan also releases the accounting of streams that ended without a `closed` event.
    this.#idle = new StreamIdleWatch(
      resources === undefined ? {} : { onScan: () => resources.sweep() },
    );
    return this.#idle;
  }

  /** Stop every deadline; streams wrapped later get none (the shared watch is closed). */
  #closeIdleWatch(): void {
    this.#idle?.close();
    this.#idle = CLOSED_IDLE_WATCH;
  }

  /** "open", "closing" or "closed". */
  get status(): "open" | "closing" | "closed" {
    return this.#status;
  }

  /** Protocol streams currently open on this connection. */
  get streams(): Stream[] {
    const out: Stream[] = [];
    for (const muxed of this.#muxer.streams) {
      const s = this.#streams?.get(muxed);
      if (s !== undefined) out.push(s);
    }
    return out;
  }

  /**
   * Open a stream and negotiate one of `protocols` (in preference order). With a single
   * protocol the negotiation is optimistic: the first write goes out without a round trip.
   */
  async newStream(protocols: string | readonly string[], options?: NewStreamOptions): Promise<
    Stream
  > {
    const list = typeof protocols === "string" ? [protocols] : protocols;
    if (list.length === 0) throw new TypeError("newStream needs at least one protocol");
    if (this.#status !== "open") throw new ConnectionClosedError("connection is closed");
    if (this.#limits !== undefined && options?.runOnLimitedConnection !== true) {
      throw new LimitedConnectionError(
        `cannot open ${list.join(", ")} on a limited connection without runOnLimitedConnection`,
      );
    }
    const ref: { muxed?: MuxedStream } = {};
    // Refused by a stream limit: LimitExceededError before anything is sent.
    const scope = this.#resources?.openStream(() => ref.muxed !== undefined && ended(ref.muxed));
    let muxed: MuxedStream;
    try {
      muxed = ref.muxed = await this.#muxer.newStream(options);
    } catch (err) {
      scope?.release();
      throw err;
    }
    try {
      const result = await selectChannel(muxed.channel, list, {
        signal: options?.signal,
        timeoutMs: options?.negotiationTimeoutMs ?? this.#negotiationTimeoutMs,
        // A relay's splice hands proposal, data and FIN to the other side in one chunk, which
        // js-libp2p mishandles (multistream/service.ts LazySelectChannel.closeWrite).
        holdFinUntilAnswer: this.#relayed,
      });
      scope?.setProtocol(result.protocol);
      return this.#wrap(
        muxed,
        result.protocol,
        result.channel,
        options?.idleTimeoutMs ?? this.#idleTimeoutMs,
        scope,
      );
    } catch (err) {
      muxed.abort(err);
      scope?.release();
      throw err;
    }
  }

  /** @internal The muxer calls this for each inbound stream. */
  handleInbound(muxed: MuxedStream): void {
    const registry = this.#registry;
    if (registry === undefined || this.#status !== "open") {
      muxed.reset();
      return;
    }
    let scope: StreamScope | undefined;
    try {
      scope = this.#resources?.openStream(() => ended(muxed));
    } catch (err) {
      // Over a connection, peer or node stream limit: reset before negotiating anything.
      muxed.abort(err);
      return;
    }
    this.#dispatch(muxed, registry, scope).catch(() => {});
  }

  async #dispatch(
    muxed: MuxedStream,
    registry: StreamHandlerRegistry,
    scope: StreamScope | undefined,
  ): Promise<void> {
    const deadline = deadlineSignal(this.#negotiationTimeoutMs, undefined, "protocol negotiation");
    let result: { protocol: string; channel: ByteChannel };
    try {
      result = await handleChannel(muxed.channel, this.#offered(registry), {
        signal: deadline.signal,
      });
    } catch (err) {
      muxed.abort(err);
      scope?.release();
      return;
    } finally {
      deadline.clear();
    }
    const protocol = result.protocol;
    const entry = registry.get(protocol);
    const max = entry?.options.maxInboundStreams;
    let refusal: unknown;
    if (entry === undefined) {
      refusal = new LimitExceededError(`no handler for ${protocol}`, "handler");
    } else if (this.#limits !== undefined && entry.options.runOnLimitedConnection !== true) {
      refusal = new LimitedConnectionError(`${protocol} does not run on limited connections`);
    } else if (max !== undefined && this.#countInbound(protocol) >= max) {
      refusal = new LimitExceededError(
        `more than ${max} inbound ${protocol} streams`,
        "maxInboundStreams",
      );
    } else {
      try {
        scope?.setProtocol(protocol);
      } catch (err) {
        refusal = err;
      }
    }
    if (entry === undefined || refusal !== undefined) {
      muxed.abort(refusal);
      scope?.release();
      return;
    }
    const stream = this.#wrap(
      muxed,
      protocol,
      result.channel,
      entry.options.idleTimeoutMs ?? this.#idleTimeoutMs,
      scope,
    );
    try {
      await entry.handler(stream);
    } catch (err) {
      stream.abort(err);
      try {
        this.#onHandlerError?.(err, stream.protocol, this.remotePeer);
      } catch {
        // A faulty listener must not break dispatch.
      }
    }
  }

  /** Protocols offered to an inbound stream: on a limited connection, the opted-in ones. */
  #offered(registry: StreamHandlerRegistry): string[] {
    const all = registry.protocols();
    if (this.#limits === undefined) return all;
    return all.filter((p) => registry.get(p)?.options.runOnLimitedConnection === true);
  }

  #countInbound(protocol: string): number {
    let n = 0;
    for (const s of this.streams) {
      if (s.direction === "inbound" && s.protocol === protocol) n++;
    }
    return n;
  }

  /** Close gracefully: stop new streams, let open ones finish (until `signal`), then close. */
  async close(options?: AbortOptions): Promise<void> {
    if (this.#status === "open") this.#status = "closing";
    await this.#muxer.close(options);
    await this.closed;
    this.#closeIdleWatch();
  }

  /** Close at once; every stream is reset. */
  abort(reason?: unknown): void {
    if (this.#status === "open") this.#status = "closing";
    this.#cancelDuration();
    this.#muxer.abort(reason);
    // The streams are reset: their deadlines go now, not when the muxer reports closure.
    this.#closeIdleWatch();
  }
}

// What a closed connection's deadlines go to: adding to a closed watch does nothing.
const CLOSED_IDLE_WATCH = new StreamIdleWatch();
CLOSED_IDLE_WATCH.close();

function noop(): void {}

function ended(muxed: MuxedStream): boolean {
  return muxed.status === "closed" || muxed.status === "reset";
}
