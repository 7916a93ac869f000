/**
 * DCUtR constants (libp2p/specs relay/DCUtR.md), each limit named with its source.
 *
 * @module
 */

/** The protocol id (DCUtR.md "Protocol"). */
export const DCUTR_PROTOCOL_ID = "/libp2p/dcutr";

/**
 * Largest HolePunch frame we read, bytes: go-libp2p and rust-libp2p use 4 KiB; the size is
 * checked on the length prefix, before anything is buffered (HARDENING.md rule 1).
 */
export const MAX_DCUTR_MESSAGE_BYTES = 4096;

/**
 * Observed addresses kept from one HolePunch message; the rest are skipped while decoding, so a
 * message listing thousands of addresses costs no dial and no allocation (HARDENING.md rule 4).
 * go-libp2p keeps its own list to a handful of addresses; 16 leaves room for ip4, ip6 and DNS forms.
 */
export const MAX_OBS_ADDRS = 16;

/** Hole-punch attempts by the initiator before it gives up (DCUtR.md: "up to three"). */
export const MAX_ATTEMPTS = 3;

/** Deadline for the other side's answer (CONNECT, or SYNC), ms (go-libp2p: 1 min stream timeout; a reply is expected within one RTT, so 10 s is ample). */
export const DEFAULT_EXCHANGE_TIMEOUT_MS = 10_000;

/** Deadline for one direct dial, ms (go-libp2p `dialTimeout`: 10 s). */
export const DEFAULT_DIAL_TIMEOUT_MS = 10_000;

/** Pause before the initiator's next attempt, ms; multiplied by the attempt number. */
export const DEFAULT_RETRY_BACKOFF_MS = 1_000;

/** How long the initiator waits for identify to report the other side's addresses, ms. */
export const DEFAULT_IDENTIFY_WAIT_MS = 5_000;

/** Inbound DCUtR streams per connection: one exchange at a time (rust-libp2p, CVE-2022-23486 fix). */
export const MAX_INBOUND_STREAMS = 1;

/** Dials attempted per hole-punch round, at most (one per address). */
export const MAX_DIAL_ADDRS = 8;
