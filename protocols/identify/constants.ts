/**
 * identify and identify/push protocol ids and limits (libp2p/specs identify/README.md, with the
 * limits go-, rust- and js-libp2p actually apply; see shared PROTOCOLS.md "identify").
 *
 * @module
 */

/** Protocol id of identify ("The protocol works by opening a stream ... `/ipfs/id/1.0.0`"). */
export const IDENTIFY_PROTOCOL_ID = "/ipfs/id/1.0.0";

/** Protocol id of identify/push (libp2p/specs identify "identify/push"). */
export const IDENTIFY_PUSH_PROTOCOL_ID = "/ipfs/id/push/1.0.0";

/** protocolVersion we send by default (identify "protocolVersion": `ipfs/0.1.0`). */
export const DEFAULT_PROTOCOL_VERSION = "ipfs/0.1.0";

/**
 * Largest identify message body (after the varint length prefix) we accept: go-libp2p's 8 KiB
 * (`signedIDSize`), which js-libp2p copies. A longer prefix resets the stream before the body
 * is buffered.
 */
export const MAX_IDENTIFY_MESSAGE_BYTES = 8 * 1024;

/**
 * Largest identify message body we write: rust-libp2p reads at most 4 KiB, so a bigger message
 * would be cut off there. Our message is trimmed (listen addresses and protocols dropped from
 * the end) to fit.
 */
export const MAX_IDENTIFY_WRITE_BYTES = 4 * 1024;

/**
 * Most length-prefixed messages read from one identify or push stream. go-libp2p splits a big
 * message in two (the signed record alone in the second) and js-libp2p reads up to 10 and
 * merges them (libp2p/specs PR 709); we read as many, then stop.
 */
export const MAX_IDENTIFY_MESSAGES = 10;

/** Most listen addresses kept from one identify exchange; extra ones are ignored. */
export const MAX_LISTEN_ADDRS = 128;

/** Most protocols kept from one identify exchange; extra ones are ignored. */
export const MAX_PROTOCOLS = 256;

/**
 * Longest protocol id kept (multistream-select's 1024-byte message, less the newline); longer
 * entries are ignored, they could never be negotiated.
 */
export const MAX_PROTOCOL_ID_BYTES = 1023;

/** Longest agentVersion/protocolVersion kept (longer ones are truncated). */
export const MAX_VERSION_LENGTH = 256;

/** Most distinct observed addresses remembered (the oldest is forgotten beyond it). */
export const MAX_OBSERVED_ADDRS = 32;

/** Default deadline of one identify exchange (read or write), ms; js-libp2p uses the same. */
export const DEFAULT_IDENTIFY_TIMEOUT_MS = 5_000;

/** Default cap of inbound identify (and, separately, push) streams per connection. */
export const DEFAULT_IDENTIFY_MAX_INBOUND_STREAMS = 2;

/** Most pushes in flight at once (go-libp2p's and js-libp2p's 32). */
export const MAX_PUSH_CONCURRENCY = 32;

/** Default delay that gathers several changes of our protocols/addresses into one push, ms. */
export const DEFAULT_PUSH_DEBOUNCE_MS = 1_000;

/** Most bytes read from the remote after our identify reply, before the stream is reset. */
export const MAX_TRAILING_BYTES = 1024;
