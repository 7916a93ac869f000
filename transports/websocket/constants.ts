/**
 * Limits, defaults and close codes of the WebSocket transport (libp2p/specs has no WebSocket
 * document: the wire behaviour is what go-, rust- and js-libp2p do — binary messages carry the
 * raw byte stream, Noise and a muxer run inside, message boundaries carry no meaning).
 *
 * @module
 */

/** Multiaddr code of `/ws`. */
export const CODE_WS = 477;
/** Multiaddr code of `/wss` (the older spelling of `/tls/ws`). */
export const CODE_WSS = 478;
/** Multiaddr code of `/tls`. */
export const CODE_TLS = 448;
/** Multiaddr code of `/sni`. */
export const CODE_SNI = 449;
/** Multiaddr code of `/http-path`. */
export const CODE_HTTP_PATH = 481;
/** Multiaddr code of `/p2p`. */
export const CODE_P2P = 421;

/**
 * Largest message accepted from a peer (default of `maxPayloadLength`). go, rust and js send at
 * most one Noise frame (65,537 bytes) per message; 4 MiB leaves room for peers that coalesce.
 */
export const DEFAULT_MAX_PAYLOAD_LENGTH = 4 * 1024 * 1024;
/** Smallest allowed `maxPayloadLength`. */
export const MIN_MAX_PAYLOAD_LENGTH = 1024;
/** Largest allowed `maxPayloadLength` (Deno's own WebSocket message limit is 64 MiB). */
export const MAX_MAX_PAYLOAD_LENGTH = 64 * 1024 * 1024;

/**
 * Outgoing chunks are split into messages of at most this many bytes (or `maxPayloadLength`,
 * if smaller), so a large write never trips a peer's message-size limit (Bun's default is 16 MiB,
 * ours 4 MiB). Splitting is invisible: the transport is a byte stream.
 */
export const MAX_SEND_MESSAGE_BYTES = 256 * 1024;

/**
 * Hard cap on received bytes queued for an application that does not read (default of
 * `maxBufferedIncoming`). A standard WebSocket cannot be paused — it keeps delivering messages
 * whether or not anyone reads — so instead of growing without bound the connection is closed
 * with {@link CLOSE_CODE_INCOMING_OVERFLOW} and reads fail with a LimitExceededError.
 */
export const DEFAULT_MAX_BUFFERED_INCOMING = 16 * 1024 * 1024;

/**
 * Writes wait while the socket's send buffer (`bufferedAmount`) holds more than this many bytes
 * (default of `bufferedAmountHighWaterMark`).
 */
export const DEFAULT_BUFFERED_AMOUNT_HIGH_WATER_MARK = 1024 * 1024;

/**
 * Bun server sockets: bytes Bun queues for a socket before `send()` drops messages (default of
 * `backpressureLimit`, Bun's own default). Writes wait at the high-water mark, long before this.
 */
export const DEFAULT_BACKPRESSURE_LIMIT = 16 * 1024 * 1024;

/**
 * How often a waiting write re-checks `bufferedAmount` (ms). The standard WebSocket has no
 * "buffered amount low" event, so a short timer polls; Bun server sockets also wake on `drain`.
 */
export const BUFFERED_AMOUNT_POLL_MS = 10;

/** Default deadline for opening a WebSocket (TCP + TLS + HTTP upgrade), ms. */
export const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;

/**
 * Default bound on a graceful close (draining the send buffer, then the closing handshake), ms.
 * A peer that stops reading cannot make `close()` wait forever (HARDENING.md, faults).
 */
export const DEFAULT_CLOSE_TIMEOUT_MS = 5_000;

/**
 * Default idle timeout of listener sockets, ms. Deno and Bun ping idle sockets and close those
 * whose peer stays silent this long; a healthy idle connection answers the pings and stays.
 */
export const DEFAULT_IDLE_TIMEOUT_MS = 120_000;
/** Largest idle timeout Bun accepts (960 s). */
export const MAX_IDLE_TIMEOUT_MS = 960_000;

/** Default HTTP path the listener upgrades on (go and js dial `ws://host:port` = path `/`). */
export const DEFAULT_PATH = "/";

/** Normal closure (RFC 6455 section 7.4.1). */
export const CLOSE_CODE_NORMAL = 1000;
/** The endpoint is going away (RFC 6455 section 7.4.1), e.g. a server shutting down. */
export const CLOSE_CODE_GOING_AWAY = 1001;
/** A Close frame without a status code (RFC 6455 section 7.4.1, never sent on the wire). */
export const CLOSE_CODE_NO_STATUS = 1005;
/** The connection dropped without a Close frame (RFC 6455 section 7.4.1, never sent). */
export const CLOSE_CODE_ABNORMAL = 1006;
/**
 * Application close codes (RFC 6455 section 7.4.2: 4000-4999 are private). The standard
 * WebSocket API only lets an application send 1000 or 3000-4999, so aborts and limit violations
 * use these.
 */
export const CLOSE_CODE_ABORTED = 4000;
/** Closed because the application did not read and {@link DEFAULT_MAX_BUFFERED_INCOMING} was hit. */
export const CLOSE_CODE_INCOMING_OVERFLOW = 4001;
/** Closed because a message exceeded `maxPayloadLength`. */
export const CLOSE_CODE_MESSAGE_TOO_BIG = 4002;
/** Closed because a write was dropped by the runtime (Bun `backpressureLimit`). */
export const CLOSE_CODE_SEND_DROPPED = 4003;
