/**
 * Rendezvous constants (libp2p/specs rendezvous/README.md), each limit named with its source.
 * rust-libp2p's caps (its GHSA-cqfx-gf56-8x59 and GHSA-v5hw-cv9c-rpg7 fixes) are the floor:
 * every cap here is at least as strict as rust's.
 *
 * @module
 */

/** The protocol id (README.md "The Protocol"). */
export const RENDEZVOUS_PROTOCOL_ID = "/rendezvous/1.0.0";

/** TTL of a REGISTER that names none, seconds (README.md "Registration Lifetime": 2 h). */
export const DEFAULT_TTL = 2 * 60 * 60;

/** Shortest TTL a server accepts by default, seconds (README.md recommendations: 2 h; rust). */
export const MIN_TTL = 2 * 60 * 60;

/** Longest TTL a server accepts by default, seconds (README.md recommendations: 72 h; rust). */
export const MAX_TTL = 72 * 60 * 60;

/** Longest namespace, UTF-8 bytes (README.md recommendations: 255; rust `MAX_NAMESPACE`). */
export const MAX_NAMESPACE_BYTES = 255;

/**
 * Registrations one peer may hold at once, over all namespaces (rust `MAX_REGISTRATION_PEER`:
 * 32, stricter than the spec's recommended 1,000; HARDENING.md rule 4). A re-REGISTER in a
 * namespace where the peer is registered replaces and does not count twice.
 */
export const MAX_REGISTRATIONS_PER_PEER = 32;

/** Registrations a server holds in total (rust: 10,000; HARDENING.md rule 4). Then E_UNAVAILABLE. */
export const MAX_REGISTRATIONS = 10_000;

/** Registrations returned by one DISCOVER (README.md recommendations: 1,000). */
export const MAX_DISCOVER_LIMIT = 1_000;

/**
 * Largest signed peer record a server stores, bytes. An ed25519 record with 40 addresses is
 * about 2 KiB; the cap bounds the store at {@link MAX_REGISTRATIONS} x 8 KiB (HARDENING.md
 * rules 1 and 4). Larger records get E_INVALID_SIGNED_PEER_RECORD.
 */
export const MAX_SIGNED_RECORD_BYTES = 8 * 1024;

/**
 * Largest request a server reads, bytes: a REGISTER holds at most one record of
 * {@link MAX_SIGNED_RECORD_BYTES}, a namespace and a cookie; checked on the length prefix
 * before the body is buffered (HARDENING.md rule 1).
 */
export const MAX_REQUEST_BYTES = 16 * 1024;

/**
 * Largest message a client reads (a DISCOVER_RESPONSE), bytes (rust: 1 MiB). A server fills a
 * response only up to this size and pages the rest through the cookie.
 */
export const MAX_MESSAGE_BYTES = 1024 * 1024;

/** Requests a server answers on one stream before closing it (HARDENING.md rule 7). */
export const MAX_REQUESTS_PER_STREAM = 64;

/**
 * Requests (REGISTER, DISCOVER) one peer may send at once before the rate applies: registering
 * in every namespace it may hold ({@link MAX_REGISTRATIONS_PER_PEER}) and discovering as many
 * (HARDENING.md rule 7). Over budget: E_UNAVAILABLE.
 */
export const DEFAULT_REQUEST_BURST = 64;

/** Requests one peer regains per second (HARDENING.md rule 7). */
export const DEFAULT_REQUESTS_PER_SECOND = 8;

/** Peers whose request budget is tracked at once (HARDENING.md rule 4). */
export const MAX_RATE_LIMITED_PEERS = 10_000;

/** Inbound rendezvous streams per connection (HARDENING.md rule 7). */
export const MAX_INBOUND_STREAMS = 4;

/** Deadline of one client exchange and inactivity deadline of a served stream, ms (rule 8). */
export const DEFAULT_TIMEOUT_MS = 10_000;

/**
 * How long a client waits for the point to close the stream after an UNREGISTER (which has no
 * answer), ms: the close says it was applied; a point that does not close costs at most this.
 */
export const UNREGISTER_CLOSE_WAIT_MS = 2_000;

/** Longest cookie we accept, bytes: 8 bytes plus the namespace (ours and rust-libp2p's). */
export const MAX_COOKIE_BYTES: number = 8 + MAX_NAMESPACE_BYTES;

/** Message.MessageType (README.md "Protobuf"). */
export const MessageType = {
  /** A client registers itself in a namespace. */
  REGISTER: 0,
  /** The server's answer to REGISTER. */
  REGISTER_RESPONSE: 1,
  /** A client removes its registration (no answer). */
  UNREGISTER: 2,
  /** A client asks for registrations. */
  DISCOVER: 3,
  /** The server's answer to DISCOVER. */
  DISCOVER_RESPONSE: 4,
} as const;

/** One of {@link MessageType}. */
export type MessageTypeValue = (typeof MessageType)[keyof typeof MessageType];

/** Message.ResponseStatus (README.md "Protobuf"). */
export const ResponseStatus = {
  /** Success. */
  OK: 0,
  /** Empty, too long or not UTF-8. */
  E_INVALID_NAMESPACE: 100,
  /** Missing, malformed, badly signed or too large record. */
  E_INVALID_SIGNED_PEER_RECORD: 101,
  /** TTL outside the server's range. */
  E_INVALID_TTL: 102,
  /** A cookie this server did not issue for this query. */
  E_INVALID_COOKIE: 103,
  /** The record is not the sender's. */
  E_NOT_AUTHORIZED: 200,
  /** The server failed. */
  E_INTERNAL_ERROR: 300,
  /** The server is full or not serving. */
  E_UNAVAILABLE: 400,
} as const;

/** One of {@link ResponseStatus}. */
export type ResponseStatusValue = (typeof ResponseStatus)[keyof typeof ResponseStatus];
