/**
 * The connection and stream objects users hold: a secured, multiplexed connection to one peer,
 * and protocol streams on it.
 *
 * @module
 */

import { deadlineSignal } from "./abort.ts";
import { ConnectionClosedError, LimitExceededError } from "./errors.ts";
import type { Multiaddr } from "./multiaddr/mod.ts";
import type { MuxedStream, MuxedStreamStatus, StreamMuxer } from "./muxer.ts";
import type { PeerId } from "./peer_id.ts";
import type { PublicKey } from "./keys/types.ts";
import type { AbortOptions, Direction, Duplex, Timeline } from "./stream/types.ts";
import {
  handle as handleProtocol,
  select as selectProtocol,
} from "../protocols/multistream/mod.ts";

/** Default deadline for negotiating a protocol on a new stream (HARDENING.md rule 8). */
export const DEFAULT_NEGOTIATION_TIMEOUT_MS = 10_000;

/**
 * A protocol stream: a muxed stream on which a protocol was negotiated.
 *
 * `readable`/`writable` carry the protocol's bytes. `close()` half-closes (we are done writing;
 * reading continues until the remote closes), `reset()` ends both directions at once.
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
  /** Bytes from the remote. */
  readonly readable: ReadableStream<Uint8Array>;
  /** Bytes to the remote; closing it half-closes the stream. */
  readonly writable: WritableStream<Uint8Array>;
  /** The negotiated protocol id. */
  readonly protocol: string;
  /** The connection this stream belongs to. */
  readonly connection: Connection;
  readonly #muxed: MuxedStream;

  /** Streams are created by Connection.newStream and by inbound dispatch. */
  constructor(muxed: MuxedStream, protocol: string, io: Duplex, connection: Connection) {
    this.#muxed = muxed;
    this.protocol = protocol;
    this.readable = io.readable;
    this.writable = io.writable;
    this.connection = connection;
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
  close(options?: AbortOptions): Promise<void> {
    return this.#muxed.close(options);
  }

  /** Stop reading; further incoming data is discarded. */
  closeRead(): void {
    this.#muxed.closeRead();
  }

  /** Reset both directions. */
  reset(): void {
    this.#muxed.reset();
  }

  /** Reset with a local reason. */
  abort(reason?: unknown): void {
    this.#muxed.abort(reason);
  }
}

/** A handler for inbound streams of one protocol. Errors it throws reset the stream. */
export type StreamHandler = (stream: Stream) => void | Promise<void>;

/** Options of a registered handler. */
export interface StreamHandlerOptions {
  /** At most this many inbound streams of the protocol per connection; more are reset. */
  maxInboundStreams?: number;
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
  onHandlerError?: (error: unknown, protocol: string) => void;
}

/** Options for {@link Connection.newStream}. */
export interface NewStreamOptions extends AbortOptions {
  /** Deadline for the negotiation, ms (default 10 s). */
  negotiationTimeoutMs?: number;
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
  readonly #onHandlerError: ((error: unknown, protocol: string) => void) | undefined;
  readonly #streams = new WeakMap<MuxedStream, Stream>();
  #status: "open" | "closing" | "closed" = "open";

  /** Connections are built by the upgrader. */
  constructor(init: ConnectionInit) {
    this.id = init.id;
    this.remotePeer = init.remotePeer;
    this.remotePublicKey = init.remotePublicKey;
    this.remoteAddr = init.remoteAddr;
    this.localAddr = init.localAddr;
    this.direction = init.direction;
    this.encryption = init.encryption;
    this.multiplexer = init.muxer.protocol;
    this.timeline = init.timeline;
    this.#muxer = init.muxer;
    this.#registry = init.registry;
    this.#negotiationTimeoutMs = init.negotiationTimeoutMs ?? DEFAULT_NEGOTIATION_TIMEOUT_MS;
    this.#onHandlerError = init.onHandlerError;
    this.closed = init.muxer.closed.then(() => {
      this.#status = "closed";
      this.timeline.close ??= Date.now();
    });
  }

  /** "open", "closing" or "closed". */
  get status(): "open" | "closing" | "closed" {
    return this.#status;
  }

  /** Protocol streams currently open on this connection. */
  get streams(): Stream[] {
    const out: Stream[] = [];
    for (const muxed of this.#muxer.streams) {
      const s = this.#streams.get(muxed);
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
    const muxed = await this.#muxer.newStream(options);
    try {
      const result = await selectProtocol(muxed, list, {
        signal: options?.signal,
        timeoutMs: options?.negotiationTimeoutMs ?? this.#negotiationTimeoutMs,
      });
      const stream = new Stream(muxed, result.protocol, result.stream, this);
      this.#streams.set(muxed, stream);
      return stream;
    } catch (err) {
      muxed.abort(err);
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
    this.#dispatch(muxed, registry).catch(() => {});
  }

  async #dispatch(muxed: MuxedStream, registry: StreamHandlerRegistry): Promise<void> {
    const deadline = deadlineSignal(this.#negotiationTimeoutMs, undefined, "protocol negotiation");
    let stream: Stream;
    try {
      const result = await handleProtocol(muxed, registry.protocols(), {
        signal: deadline.signal,
      });
      stream = new Stream(muxed, result.protocol, result.stream, this);
    } catch (err) {
      muxed.abort(err);
      return;
    } finally {
      deadline.clear();
    }
    const entry = registry.get(stream.protocol);
    if (entry === undefined) {
      muxed.reset();
      return;
    }
    const max = entry.options.maxInboundStreams;
    if (max !== undefined && this.#countInbound(stream.protocol) >= max) {
      muxed.abort(
        new LimitExceededError(
          `more than ${max} inbound ${stream.protocol} streams`,
          "maxInboundStreams",
        ),
      );
      return;
    }
    this.#streams.set(muxed, stream);
    try {
      await entry.handler(stream);
    } catch (err) {
      stream.abort(err);
      this.#onHandlerError?.(err, stream.protocol);
    }
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
  }

  /** Close at once; every stream is reset. */
  abort(reason?: unknown): void {
    if (this.#status === "open") this.#status = "closing";
    this.#muxer.abort(reason);
  }
}
