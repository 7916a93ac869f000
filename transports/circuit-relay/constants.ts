/**
 * Named limits and timings of the circuit relay v2 client (libp2p/specs relay/circuit-v2.md).
 *
 * @module
 */

import { HOP_PROTOCOL, STOP_PROTOCOL } from "../../protocols/circuit-relay/mod.ts";

/** The HOP protocol: reserve a slot on a relay, or ask it to connect us to a peer. */
export const RELAY_HOP_PROTOCOL: string = HOP_PROTOCOL;

/** The STOP protocol: a relay hands us a circuit from a peer that dialled us through it. */
export const RELAY_STOP_PROTOCOL: string = STOP_PROTOCOL;

/** Deadline of one HOP exchange (RESERVE or CONNECT), ms: go's and js's 30 s (rule 8). */
export const HOP_TIMEOUT_MS = 30_000;

/** Deadline of one STOP exchange, ms (rule 8). */
export const STOP_TIMEOUT_MS = 30_000;

/**
 * A reservation is renewed when this fraction of its remaining lifetime has passed (rust renews
 * at 3/4; go and js renew minutes before expiry, which a short TTL would miss).
 */
export const RENEW_FRACTION = 0.75;

/** Shortest delay before a renewal, ms: a relay's tiny TTL must not make us spin. */
export const MIN_RENEW_DELAY_MS = 1_000;

/**
 * First retry delay after a failed reservation, ms; each further failure doubles it up to
 * {@link MAX_BACKOFF_MS}. Retries go on for as long as we listen (js-libp2p #3601 gives up).
 */
export const MIN_BACKOFF_MS = 1_000;

/** Longest retry delay, ms: a relay that comes back is reserved on within this time. */
export const MAX_BACKOFF_MS = 30_000;

/**
 * Consecutive failures after which a relay found by discovery (`/p2p-circuit`) is given up and
 * another candidate tried; a relay named in a listen address is retried forever.
 */
export const DISCOVERED_RELAY_MAX_FAILURES = 3;

/** Default number of relays a `/p2p-circuit` listener reserves on (go's desiredRelays: 2). */
export const DEFAULT_DISCOVER_RELAYS = 2;

/** Most relay candidates remembered from topology notifications (HARDENING.md rule 4). */
export const MAX_RELAY_CANDIDATES = 64;

/** Most relay addresses taken from one reservation and announced (HARDENING.md rule 4). */
export const MAX_RESERVATION_ADDRS = 32;

/** Most relayed connections accepted at once per relay connection (STOP streams). */
export const MAX_INBOUND_STOP_STREAMS = 64;

/** Protection tag that keeps the connection to a relay we hold a reservation with. */
export const RELAY_PROTECT_TAG = "circuit-relay-reservation";
