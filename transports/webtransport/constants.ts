/**
 * Constants of the WebTransport transport: the libp2p endpoint (libp2p/specs
 * webtransport/README.md), certificate lifetimes (W3C WebTransport `serverCertificateHashes`),
 * and the HTTP/3 + WebTransport wire values our own HTTP/3 client uses (RFC 9114, RFC 9204,
 * RFC 9220, draft-ietf-webtrans-http3).
 *
 * @module
 */

/** The well-known path of a libp2p WebTransport endpoint (spec "WebTransport HTTP endpoint"). */
export const WEBTRANSPORT_PATH = "/.well-known/libp2p-webtransport";
/** The query that selects the Noise handshake (spec: `type=noise`). */
export const WEBTRANSPORT_QUERY = "?type=noise";
/** ALPN of HTTP/3 (RFC 9114 §3.1). */
export const ALPN_H3 = "h3";

/** One day in ms. */
export const DAY_MS = 86_400_000;
/** Longest certificate validity browsers accept with serverCertificateHashes: 14 days. */
export const MAX_CERT_VALIDITY_MS = 14 * DAY_MS;
/** Default validity of our certificates (the maximum, like go-libp2p). */
export const DEFAULT_CERT_VALIDITY_MS: number = MAX_CERT_VALIDITY_MS;
/**
 * Start certificates this much before "now" so clients whose clock is behind accept them, and
 * let consecutive certificates overlap by as much (go-libp2p uses one hour too).
 */
export const DEFAULT_CLOCK_SKEW_MS = 3_600_000;
/**
 * Advertise the next certificate this long before the current one expires (spec: prepare the
 * next one after 10 of 14 days).
 */
export const DEFAULT_ADVERTISE_NEXT_MS = 4 * DAY_MS;

/** Most certhashes accepted in one dialled address (real addresses carry one or two). */
export const MAX_DIAL_CERTHASHES = 8;
/** Most certhashes accepted in the server's Noise extension. */
export const MAX_REMOTE_CERTHASHES = 16;

/** Default deadline of the QUIC + HTTP/3 CONNECT part of a dial, ms. */
export const DEFAULT_DIAL_TIMEOUT_MS = 10_000;
/** Default most concurrent incoming bidirectional streams per session (QUIC flow control). */
export const DEFAULT_MAX_INCOMING_STREAMS = 256;
/** Default QUIC idle timeout, ms; a keep-alive is sent at a third of it. */
export const DEFAULT_IDLE_TIMEOUT_MS = 30_000;

// --- HTTP/3 (RFC 9114) ---
/** Unidirectional stream type of the control stream (RFC 9114 §6.2.1). */
export const H3_STREAM_CONTROL = 0x00;
/** Frame type HEADERS (RFC 9114 §7.2.2). */
export const H3_FRAME_HEADERS = 0x01;
/** Frame type SETTINGS (RFC 9114 §7.2.4). */
export const H3_FRAME_SETTINGS = 0x04;
/** SETTINGS_ENABLE_CONNECT_PROTOCOL (RFC 9220 §3). */
export const H3_SETTING_ENABLE_CONNECT_PROTOCOL = 0x08;
/** SETTINGS_H3_DATAGRAM (RFC 9297 §2.1.1). */
export const H3_SETTING_H3_DATAGRAM = 0x33;
/** SETTINGS_ENABLE_WEBTRANSPORT (draft-ietf-webtrans-http3-02, what Chrome speaks). */
export const H3_SETTING_ENABLE_WEBTRANSPORT = 0x2b603742;
/** SETTINGS_WEBTRANSPORT_MAX_SESSIONS (draft-ietf-webtrans-http3-07 and later). */
export const H3_SETTING_WEBTRANSPORT_MAX_SESSIONS = 0xc671706a;
/** Signal value that opens a WebTransport bidirectional stream (draft-ietf-webtrans-http3 §4.2). */
export const WT_BIDI_SIGNAL = 0x41;
/** Unidirectional stream type of WebTransport streams (draft-ietf-webtrans-http3 §4.1). */
export const WT_UNI_STREAM_TYPE = 0x54;
/** Largest HTTP/3 frame we accept on the CONNECT and control streams. */
export const MAX_H3_FRAME_BYTES = 16 * 1024;
/** Most SETTINGS pairs accepted. */
export const MAX_H3_SETTINGS = 64;
