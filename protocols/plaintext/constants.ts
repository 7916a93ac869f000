/**
 * Plaintext constants and limits (libp2p/specs plaintext/README.md).
 *
 * @module
 */

import { MAX_KEY_PROTOBUF_BYTES } from "../../src/keys/mod.ts";

/** Protocol id negotiated with multistream-select ("Protocol Id and Version History"). */
export const PLAINTEXT_PROTOCOL_ID = "/plaintext/2.0.0";

/**
 * Largest Exchange message accepted: the largest public key protobuf this library decodes
 * (MAX_KEY_PROTOBUF_BYTES, which holds an 8192-bit RSA key) plus room for the id (a multihash of
 * at most 2 + 42 bytes) and the field tags. A longer length prefix fails the handshake before
 * anything beyond the prefix is buffered.
 */
export const MAX_EXCHANGE_BYTES: number = MAX_KEY_PROTOBUF_BYTES + 128;

/**
 * Default deadline of the whole exchange in ms. The spec says a timeout MUST terminate the
 * connection ("Exchange") without naming a value; 10 s is this library's upgrade deadline
 * (HARDENING.md rule 8).
 */
export const DEFAULT_HANDSHAKE_TIMEOUT_MS = 10_000;
