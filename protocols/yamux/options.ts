/**
 * Yamux options: each field documented with its default, validated once by
 * {@link resolveYamuxOptions}.
 *
 * @module
 */

import {
  DEFAULT_AUTOTUNE_POOL,
  DEFAULT_GO_AWAY_TIMEOUT_MS,
  DEFAULT_KEEP_ALIVE_INTERVAL_MS,
  DEFAULT_MAX_ACK_BACKLOG,
  DEFAULT_MAX_MESSAGE_SIZE,
  DEFAULT_MAX_PENDING_PING_REPLIES,
  DEFAULT_MAX_STREAM_WINDOW,
  DEFAULT_MAX_STREAMS,
  DEFAULT_PING_TIMEOUT_MS,
  INITIAL_STREAM_WINDOW,
  MAX_TIMER_DELAY_MS,
  MAX_WINDOW,
} from "./constants.ts";

/**
 * Options of a Yamux muxer. All are optional.
 *
 * @example
 * ```ts
 * import { yamux } from "@p2p-edge/libp2p/protocols/yamux";
 * const factory = yamux({ maxStreams: 256, keepAliveIntervalMs: 0 });
 * ```
 */
export interface YamuxOptions {
  /**
   * Most live streams per direction. A remote SYN beyond it is answered with RST (the session
   * stays up); our own newStream() beyond it rejects with LimitExceededError. Default 1024.
   */
  maxStreams?: number;
  /**
   * Receive window each stream starts with. At least 256 KiB (the protocol's initial window;
   * anything above is granted with the SYN/ACK frame), at most `maxStreamWindow`. Default 256 KiB.
   */
  initialStreamWindow?: number;
  /** Upper bound of a stream's receive window under auto-tuning. Default 16 MiB. */
  maxStreamWindow?: number;
  /**
   * Upper bound of the sum of receive windows advertised across all streams of a session, i.e.
   * the most unread data a peer can make us buffer. A stream whose initial window does not fit
   * is refused (remote SYN: RST; newStream(): LimitExceededError). Auto-tuning only grows
   * windows out of what is left after reserving `initialStreamWindow` for `maxStreams` streams
   * (as rust-yamux does), so a few fast streams never starve new ones. Default
   * `maxStreams × initialStreamWindow + 64 MiB` (320 MiB at the defaults); lower it (and
   * maxStreams) on nodes with many connections.
   */
  perConnectionBudget?: number;
  /** Interval of keep-alive pings in ms; 0 disables keep-alive. Default 30 000. */
  keepAliveIntervalMs?: number;
  /** A keep-alive ping unanswered this long (ms) fails the session. Default 15 000. */
  pingTimeoutMs?: number;
  /**
   * Most streams we opened that the remote has not acknowledged yet (libp2p yamux spec, "ACK
   * backlog"). newStream() beyond it waits for an acknowledgement (abortable with its signal).
   * Default 256.
   */
  maxAckBacklog?: number;
  /**
   * Largest payload of one outgoing Data frame; writes are split, and writes of one stream
   * queued together are joined up to it. At most the initial window. Default 256 KiB.
   */
  maxMessageSize?: number;
  /**
   * Ping replies that may wait for the connection to accept them; pings beyond it are not
   * answered until the queue drains, so an unread ping flood cannot grow memory. Default 16.
   */
  maxPendingPingReplies?: number;
  /** How long close() waits for open streams before resetting them (ms). Default 10 000. */
  goAwayTimeoutMs?: number;
}

/** {@link YamuxOptions} with every default applied. */
export type ResolvedYamuxOptions = Readonly<Required<YamuxOptions>>;

/**
 * Apply defaults and validate; bad values throw RangeError/TypeError.
 *
 * @example
 * ```ts
 * import { resolveYamuxOptions } from "@p2p-edge/libp2p/protocols/yamux";
 * resolveYamuxOptions({}).initialStreamWindow; // 262144
 * ```
 */
export function resolveYamuxOptions(options: YamuxOptions = {}): ResolvedYamuxOptions {
  if (typeof options !== "object" || options === null) {
    throw new TypeError("yamux options must be an object");
  }
  const maxStreams = int(options.maxStreams, DEFAULT_MAX_STREAMS, 1, 0x7fff_ffff, "maxStreams");
  const maxStreamWindow = int(
    options.maxStreamWindow,
    DEFAULT_MAX_STREAM_WINDOW,
    INITIAL_STREAM_WINDOW,
    MAX_WINDOW,
    "maxStreamWindow",
  );
  const initialStreamWindow = int(
    options.initialStreamWindow,
    INITIAL_STREAM_WINDOW,
    INITIAL_STREAM_WINDOW,
    maxStreamWindow,
    "initialStreamWindow",
  );
  const perConnectionBudget = int(
    options.perConnectionBudget,
    maxStreams * initialStreamWindow + DEFAULT_AUTOTUNE_POOL,
    initialStreamWindow,
    Number.MAX_SAFE_INTEGER,
    "perConnectionBudget",
  );
  const keepAliveIntervalMs = int(
    options.keepAliveIntervalMs,
    DEFAULT_KEEP_ALIVE_INTERVAL_MS,
    0,
    MAX_TIMER_DELAY_MS,
    "keepAliveIntervalMs",
  );
  const pingTimeoutMs = int(
    options.pingTimeoutMs,
    DEFAULT_PING_TIMEOUT_MS,
    1,
    MAX_TIMER_DELAY_MS,
    "pingTimeoutMs",
  );
  const maxAckBacklog = int(
    options.maxAckBacklog,
    DEFAULT_MAX_ACK_BACKLOG,
    1,
    0x7fff_ffff,
    "maxAckBacklog",
  );
  const maxMessageSize = int(
    options.maxMessageSize,
    DEFAULT_MAX_MESSAGE_SIZE,
    1,
    INITIAL_STREAM_WINDOW,
    "maxMessageSize",
  );
  const maxPendingPingReplies = int(
    options.maxPendingPingReplies,
    DEFAULT_MAX_PENDING_PING_REPLIES,
    0,
    65_536,
    "maxPendingPingReplies",
  );
  const goAwayTimeoutMs = int(
    options.goAwayTimeoutMs,
    DEFAULT_GO_AWAY_TIMEOUT_MS,
    0,
    MAX_TIMER_DELAY_MS,
    "goAwayTimeoutMs",
  );
  return Object.freeze({
    maxStreams,
    initialStreamWindow,
    maxStreamWindow,
    perConnectionBudget,
    keepAliveIntervalMs,
    pingTimeoutMs,
    maxAckBacklog,
    maxMessageSize,
    maxPendingPingReplies,
    goAwayTimeoutMs,
  });
}

function int(
  value: number | undefined,
  fallback: number,
  min: number,
  max: number,
  name: string,
): number {
  if (value === undefined) return fallback;
  if (typeof value !== "number" || !Number.isInteger(value)) {
    throw new TypeError(`yamux option ${name} must be an integer, got ${String(value)}`);
  }
  if (value < min || value > max) {
    throw new RangeError(`yamux option ${name} must be in [${min}, ${max}], got ${value}`);
  }
  return value;
}
