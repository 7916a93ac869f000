/**
 * mplex wire constants and limits (libp2p/specs mplex/README.md).
 *
 * @module
 */

/** Protocol id negotiated with multistream-select. */
export const MPLEX_PROTOCOL_ID = "/mplex/6.7.0";

/**
 * Message flags: the low three bits of the header varint ("Flag Values"). "Initiator" flags are
 * sent by the side that opened the stream, "Receiver" flags by the other side; the flag, not the
 * number, tells whose stream an id belongs to, so both sides may use the same number.
 *
 * @example
 * ```ts
 * import { MplexFlag } from "@p2p-edge/libp2p/protocols/mplex";
 * console.log(MplexFlag.NewStream); // 0
 * ```
 */
export const MplexFlag = {
  NewStream: 0,
  MessageReceiver: 1,
  MessageInitiator: 2,
  CloseReceiver: 3,
  CloseInitiator: 4,
  ResetReceiver: 5,
  ResetInitiator: 6,
} as const;

/** One of the values in {@link MplexFlag}. */
export type MplexFlagValue = (typeof MplexFlag)[keyof typeof MplexFlag];

/**
 * Largest data segment of one message, sent or accepted. The spec leaves it to agreement out of
 * band and names go-multiplex's 1 MiB ("Writing to a stream"); js-libp2p uses the same. A
 * longer length prefix closes the connection before any of the body is buffered.
 */
export const MAX_MESSAGE_SIZE = 1024 * 1024;

/**
 * Longest header or length varint accepted: 9 bytes (63 bits), the multiformats unsigned-varint
 * cap that go and js also apply. A longer varint closes the connection.
 */
export const MAX_VARINT_BYTES = 9;

/** Default cap on streams the remote has open with us at once; NewStream beyond it is reset. */
export const DEFAULT_MAX_INBOUND_STREAMS = 1024;

/** Default cap on streams we have open at once; newStream() beyond it rejects. */
export const DEFAULT_MAX_OUTBOUND_STREAMS = 1024;

/**
 * Default cap on unread bytes queued for one stream. mplex has no flow control (spec,
 * "Implementation notes"): data beyond it pauses the connection, and if the reader does not
 * make room within the slow-reader timeout the stream is reset. js-libp2p's mplex used the same
 * 4 MiB default (maxStreamBufferSize).
 */
export const DEFAULT_MAX_STREAM_BUFFER_SIZE = 4 * 1024 * 1024;

/**
 * Default time (ms) the connection's reader waits for a stream's reader to make room before it
 * resets that stream. While it waits, the whole connection is paused: the first remedy of the
 * spec ("Blocking the entire connection until the offending stream is read"), bounded in time
 * and then followed by the second ("Resetting the offending stream"), as go-multiplex does.
 * Pausing is what throttles a fast sender to its reader's pace instead of resetting at once.
 */
export const DEFAULT_SLOW_READER_TIMEOUT = 5_000;

/** Largest slowReaderTimeout option accepted (setTimeout's limit is 2^31-1 ms). */
export const MAX_SLOW_READER_TIMEOUT = 600_000;

/**
 * Default cap on unread bytes queued across all streams of one session. Data that would pass it
 * resets the stream it was sent on, so one connection's memory stays bounded whatever the
 * number of streams.
 */
export const DEFAULT_MAX_SESSION_BUFFER_SIZE = 64 * 1024 * 1024;

/**
 * Reset frames we owe the remote (refused or overflowing streams) that the connection has not
 * yet taken. A peer that provokes resets and never reads them is disconnected past this count,
 * so the reply queue stays bounded (HARDENING.md, "bounded reply queue").
 */
export const MAX_PENDING_RESETS = 4096;

/** Largest maxMessageSize option accepted (a sanity bound, 16 MiB). */
export const MAX_MESSAGE_SIZE_OPTION = 16 * 1024 * 1024;

/** Coalesced frames are written in batches of about this many bytes. */
export const WRITE_BATCH_BYTES = 256 * 1024;

/**
 * After this many milliseconds in which the connection's reader found data every time without
 * the event loop running a single timer, it waits for one. Real sockets yield on their own; an
 * in-memory pipe (memory transport, tests) can keep a busy session entirely in microtasks and
 * would otherwise starve timers (deadlines, keep-alives) for as long as the traffic lasts.
 */
export const STARVATION_YIELD_MS = 8;
