/**
 * The contract between a stream multiplexer (yamux, mplex) and the rest of the node.
 *
 * A muxer takes one secured connection's byte channel and turns it into many
 * {@link MuxedStream}s. Each stream is a byte channel backed directly by the session's state
 * (the shared glue in src/stream/muxed_stream.ts): payloads go to a waiting read or a queue the
 * receive window bounds; writes are framed into the session's outbox within the send window.
 * `readable`/`writable` are web streams built from the channel on first access.
 *
 * @module
 */

import type { ByteChannel, ChannelConnection } from "./stream/channel.ts";
import type { AbortOptions, Direction, Duplex, Timeline } from "./stream/types.ts";

/**
 * One multiplexed stream.
 *
 * Semantics every muxer implements (checked by tests/conformance/muxer_suite.ts):
 * - `writable.close()` or `close()` half-closes: sends FIN; reading goes on until the remote
 *   closes too. Writing after that rejects with StreamClosedError.
 * - `readable` ends (done) when the remote half-closes.
 * - A remote reset errors `readable` and `writable` with StreamResetError; pending reads reject.
 * - `reset()` / `abort(reason)` send a reset and error both sides locally.
 * - The stream is freed when both directions are closed or it was reset; `closed` resolves then.
 * - `lastActivity` is a plain field the muxer updates (no timer, no promise) when data is
 *   enqueued to or read from `readable` and when a write is accepted or makes progress; the
 *   connection scans it to enforce the per-stream inactivity deadline (HARDENING.md rule 8)
 *   without wrapping the stream (ARCHITECTURE.md: no transform chains per substream).
 *
 * @example
 * ```ts
 * import type { MuxedStream } from "@p2p-edge/libp2p";
 * async function sendAll(s: MuxedStream, data: Uint8Array): Promise<void> {
 *   const w = s.writable.getWriter();
 *   await w.write(data);
 *   await w.close(); // half-close
 * }
 * ```
 */
export interface MuxedStream extends Duplex {
  /**
   * The stream's bytes as a byte channel: what the connection negotiates and reads on (the
   * internal data path). `readable`/`writable` are web streams over it, built on first access;
   * use one or the other.
   */
  readonly channel: ByteChannel;
  /** Stream id, unique within its session (as text, e.g. "3" or "r5"). */
  readonly id: string;
  /** Whether we opened it ("outbound") or the remote did ("inbound"). */
  readonly direction: Direction;
  /** When it opened and closed. */
  readonly timeline: Timeline;
  /** "open", "closing" (one direction closed), "closed" (both) or "reset". */
  readonly status: MuxedStreamStatus;
  /**
   * When data last moved on the stream, ms on the `performance.now()` clock: set at creation,
   * when data is enqueued to or read from `readable`, and when a write is accepted or makes
   * progress.
   */
  readonly lastActivity: number;
  /** Resolves (never rejects) once the muxer freed the stream: both sides closed, or reset. */
  readonly closed: Promise<void>;
  /** Half-close the write side (FIN) after pending writes flushed. Idempotent. */
  close(options?: AbortOptions): Promise<void>;
  /** Stop reading: buffered data is dropped and further data from the remote is discarded. */
  closeRead(): void;
  /** Reset the stream (RST): both directions end at once with StreamResetError. Idempotent. */
  reset(): void;
  /** Reset with a local reason: readers/writers see `reason`, the remote sees a reset. */
  abort(reason?: unknown): void;
}

/** Lifecycle of a {@link MuxedStream}. */
export type MuxedStreamStatus = "open" | "closing" | "closed" | "reset";

/**
 * Memory a muxer reserves for what it promises to buffer (yamux: every receive-window byte it
 * advertises), so that one budget bounds all connections of a node (HARDENING.md rule 4: a
 * remote must not grow memory past the box by opening connections and filling windows).
 *
 * @example
 * ```ts
 * import type { MuxerMemory } from "@p2p-edge/libp2p";
 * let used = 0;
 * const memory: MuxerMemory = {
 *   reserve: (n) => used + n <= 1 << 20 ? (used += n, true) : false,
 *   release: (n) => void (used -= n),
 * };
 * ```
 */
export interface MuxerMemory {
  /** Reserve `bytes`; false when a limit (connection, peer or node) would be passed. */
  reserve(bytes: number): boolean;
  /** Give back `bytes` reserved earlier. */
  release(bytes: number): void;
}

/** What a muxer session needs to know when it is created. */
export interface StreamMuxerInit {
  /** "outbound" when we dialled the connection (yamux: we use odd stream ids). */
  direction: Direction;
  /** Called for each stream the remote opens. Throwing or not handling it must not leak it. */
  onIncomingStream?: (stream: MuxedStream) => void;
  /** Called once when the session ends; `error` is set when it ended abnormally. */
  onClose?: (error?: Error) => void;
  /**
   * Where to reserve the memory the session promises to buffer. A stream (or window growth)
   * that cannot be reserved is refused. Without it only the muxer's own per-connection limits
   * apply.
   */
  memory?: MuxerMemory;
}

/**
 * One multiplexed session over a connection.
 *
 * @example
 * ```ts
 * import type { StreamMuxer } from "@p2p-edge/libp2p";
 * async function openOne(m: StreamMuxer): Promise<void> {
 *   const s = await m.newStream();
 *   await s.close();
 * }
 * ```
 */
export interface StreamMuxer {
  /** Protocol id of this muxer, e.g. "/yamux/1.0.0". */
  readonly protocol: string;
  /** Streams currently open (not yet freed). */
  readonly streams: readonly MuxedStream[];
  /** Open a new outbound stream. Rejects once the session is closing or at the stream limit. */
  newStream(options?: AbortOptions): Promise<MuxedStream>;
  /**
   * Close gracefully: refuse new streams (yamux GoAway(0)), wait for open streams to finish
   * (until `signal` aborts, then reset them), then close the underlying connection.
   */
  close(options?: AbortOptions): Promise<void>;
  /** Tear the session down at once: every stream is reset, the connection aborted. */
  abort(reason?: unknown): void;
  /** Settles when the session has ended (resolves even when it ended by abort). */
  readonly closed: Promise<void>;
}

/**
 * Creates muxer sessions; one instance is shared by all connections of a node.
 *
 * @example
 * ```ts
 * import type { StreamMuxerFactory } from "@p2p-edge/libp2p";
 * function names(fs: StreamMuxerFactory[]): string[] { return fs.map((f) => f.protocol); }
 * ```
 */
export interface StreamMuxerFactory {
  /** Protocol id, e.g. "/yamux/1.0.0". */
  readonly protocol: string;
  /**
   * Start a session over `conn` (its channel: the secured connection's, or what follows the
   * muxer's negotiation). The session owns `conn` from now on.
   */
  createStreamMuxer(conn: ChannelConnection, init: StreamMuxerInit): StreamMuxer;
}
