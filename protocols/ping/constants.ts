/**
 * ping constants (libp2p/specs ping/ping.md).
 *
 * @module
 */

/** Protocol id (ping.md "Protocol"). */
export const PING_PROTOCOL_ID = "/ipfs/ping/1.0.0";

/** Bytes of one ping: "the dialing peer sends 32 bytes of random binary data" (ping.md). */
export const PING_LENGTH = 32;

/**
 * Inbound ping streams accepted per connection: "the receiving peer MUST NOT accept more than
 * two streams per peer" (ping.md).
 */
export const DEFAULT_PING_MAX_INBOUND_STREAMS = 2;

/** Default deadline of one ping (client) and inactivity deadline of a ping stream (server), ms. */
export const DEFAULT_PING_TIMEOUT_MS = 10_000;
