/**
 * Yamux wire constants and named limits.
 *
 * Wire values come from the Yamux specification (hashicorp/yamux spec.md, "Framing") and the
 * libp2p profile of it (libp2p/specs yamux/README.md).
 *
 * @module
 */

/** Protocol id negotiated by multistream-select (libp2p/specs yamux/README.md). */
export const YAMUX_PROTOCOL_ID = "/yamux/1.0.0";

/** The only protocol version (spec.md, "Version Field"). */
export const YAMUX_VERSION = 0;

/** Every frame starts with a 12-byte header (spec.md, "Framing"). */
export const HEADER_LENGTH = 12;

/** Frame types (spec.md, "Type Field"). */
export const FrameType = {
  /** Stream data; `length` bytes of payload follow. */
  Data: 0,
  /** Window credit for a stream; `length` is the delta, no payload. */
  WindowUpdate: 1,
  /** Keep-alive / RTT measurement on stream 0; `length` is an opaque value echoed back. */
  Ping: 2,
  /** Session termination on stream 0; `length` is a {@link GoAwayCode}. */
  GoAway: 3,
} as const;

/** One of the {@link FrameType} values. */
export type FrameType = typeof FrameType[keyof typeof FrameType];

/** Header flags, a bit set (spec.md, "Flag Field"). */
export const Flag = {
  /** Opens a stream (Data/WindowUpdate) or marks a ping request. */
  SYN: 1,
  /** Acknowledges a stream (Data/WindowUpdate) or marks a ping response. */
  ACK: 2,
  /** Half-closes the sender's direction of a stream. */
  FIN: 4,
  /** Resets a stream at once. */
  RST: 8,
} as const;

/** GoAway error codes (spec.md, "Go Away"); they travel on the wire. */
export const GoAwayCode = {
  /** Normal termination. */
  Normal: 0,
  /** The peer broke the protocol. */
  ProtocolError: 1,
  /** An internal error. */
  InternalError: 2,
} as const;

/** One of the {@link GoAwayCode} values. */
export type GoAwayCode = typeof GoAwayCode[keyof typeof GoAwayCode];

/** Every stream starts with this receive window on both sides (spec.md, "Flow Control"). */
export const INITIAL_STREAM_WINDOW = 256 * 1024;

/** Window sizes and credits are u32 on the wire: a window can never pass this. */
export const MAX_WINDOW = 0xffff_ffff;

/** Largest stream id (u32). */
export const MAX_STREAM_ID = 0xffff_ffff;

/**
 * Streams we may open that the remote has not acknowledged yet (libp2p/specs yamux/README.md,
 * "ACK backlog").
 */
export const DEFAULT_MAX_ACK_BACKLOG = 256;

/** Default cap on live streams in each direction. */
export const DEFAULT_MAX_STREAMS = 1024;

/** Default bound of receive-window auto-tuning per stream (as go-yamux and rust-yamux). */
export const DEFAULT_MAX_STREAM_WINDOW = 16 * 1024 * 1024;

/**
 * The least RTT window auto-tuning assumes, ms: a loopback or LAN round trip measures ~0 ms, and
 * twice the delivery rate x 5 ms still lets such streams reach the largest windows (a 1 GB/s
 * loopback stream targets 10 MB), while a WAN link's measured RTT decides there.
 */
export const MIN_TUNING_RTT_MS = 5;

/**
 * Window auto-tuning aims at this many times (consumption rate x RTT). Credit is returned in
 * steps of 1/{@link CREDIT_STEP} of the window, so a window-limited stream consumes about 7/8 of
 * its window per RTT and 2 grows it by 1.75x; a link-limited one settles near 2 x BDP: the bulk
 * sender can then queue at most about one RTT of data in the kernel, the outbox and the link's
 * queue together, ahead of the other streams' small frames (bench/RESULTS.md "WAN (issue 22)":
 * the first unbounded rule reached 32 x BDP, a queue of 300 ms; 4 x BDP still left 2-5 RTT).
 */
export const TUNING_FACTOR = 2;

/**
 * The factor of a period in which a stream's arrivals paused for {@link STALL_GAP} x RTT or
 * more. A lost segment holds everything behind it in the kernel until its retransmission comes,
 * a round trip or more later (longer when the loss is at the tail of what the window allowed,
 * which only a timeout repairs); with a window near 2 x BDP the sender then idles, the measured
 * rate falls, and the rule above stops growing the window: the WAN bench measured 14 Mbit/s at
 * 200 ms and 1% loss where raw TCP got 80-88. Aiming at 4 x rate x RTT in such periods lets the
 * window outgrow the pauses (growth continues while a window's cycle stays under 3.5 RTT).
 */
export const LOSS_TUNING_FACTOR = 4;

/**
 * A pause in a stream's arrivals of at least this share of the RTT marks its tuning period as
 * stalled ({@link LOSS_TUNING_FACTOR}): a retransmission takes about one RTT, while a busy event
 * loop rarely pauses that long.
 */
export const STALL_GAP = 0.75;

/**
 * Pings a session sends back to back when it starts (each once the previous one is answered):
 * window auto-tuning uses the least RTT seen, and the first ping's round trip often includes the
 * other side finishing its handshake (the WAN bench measured 37 ms on a 20 ms link), which would
 * let a bulk stream's window settle near 4 x BDP instead of 2 x. Two more 12-byte frames each way.
 */
export const STARTUP_RTT_SAMPLES = 3;

/**
 * A WindowUpdate goes out once 1/CREDIT_STEP of the receive window was consumed (hashicorp/yamux
 * spec.md leaves the moment to the receiver; go-yamux and js-libp2p wait for half). Smaller steps
 * let the sender run with a window only a little above the BDP: with half-window steps a link is
 * full only from 2 x BDP, with eighths from 8/7 x BDP. The cost is four times the WindowUpdates
 * (12 bytes per 1/8 of a window).
 */
export const CREDIT_STEP = 8;

/**
 * Default room for receive-window auto-tuning on top of every stream's initial window: the
 * default per-connection budget is `maxStreams × initialStreamWindow` plus this.
 */
export const DEFAULT_AUTOTUNE_POOL = 64 * 1024 * 1024;

/** Default keep-alive ping interval. */
export const DEFAULT_KEEP_ALIVE_INTERVAL_MS = 30_000;

/** Default time a keep-alive ping may go unanswered before the session fails. */
export const DEFAULT_PING_TIMEOUT_MS = 15_000;

/**
 * Default largest payload of one outgoing Data frame; larger writes are split, and consecutive
 * writes of a stream queued together are joined up to it. 256 KiB, the initial window (the
 * largest frame a fresh stream may receive), rather than go-yamux's 64 KiB: a js-libp2p
 * receiver answers every Data frame with a WindowUpdate, and its downloads from us ran at
 * 0.65-0.86x of js-js with 64 KiB frames (bench/RESULTS.md, "mixed pairs"). rust-yamux refuses
 * frames above 1 MiB.
 */
export const DEFAULT_MAX_MESSAGE_SIZE = 256 * 1024;

/** Default number of ping replies that may wait for the connection to accept them. */
export const DEFAULT_MAX_PENDING_PING_REPLIES = 16;

/** Default time close() waits for open streams before resetting them. */
export const DEFAULT_GO_AWAY_TIMEOUT_MS = 10_000;

/**
 * Bytes of encoded frames the session may hold for the connection before stream writes wait
 * for it to drain (connection-level backpressure).
 */
export const OUTBOX_HIGH_WATER_MARK = 1024 * 1024;

/** Largest timer delay setTimeout honours (larger delays fire at once). */
export const MAX_TIMER_DELAY_MS = 0x7fff_ffff;
