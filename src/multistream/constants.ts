/**
 * multistream-select 1.0 constants and limits.
 *
 * Spec: multiformats/multistream-select README ("Protocol", "Listing") and libp2p/specs
 * connections/README.md ("Protocol Negotiation"). Limits follow what go- and js-libp2p enforce.
 *
 * @module
 */

/**
 * The multistream-select header line, sent first by both sides (without its trailing newline).
 *
 * @example
 * ```ts
 * import { PROTOCOL_ID } from "@p2p-edge/libp2p/protocols/multistream";
 * console.log(PROTOCOL_ID); // "/multistream/1.0.0"
 * ```
 */
export const PROTOCOL_ID = "/multistream/1.0.0";

/**
 * Largest length prefix accepted for one message, counting the trailing `\n` (so protocol ids of
 * at most 1023 UTF-8 bytes). go-multistream rejects larger messages; js-libp2p's
 * `MAX_PROTOCOL_LENGTH` applies to the same length-prefixed body. A prefix above it is rejected
 * before any of the body is buffered (HARDENING.md rule 1).
 *
 * @example
 * ```ts
 * import { MAX_PROTOCOL_LENGTH } from "@p2p-edge/libp2p/protocols/multistream";
 * console.log(MAX_PROTOCOL_LENGTH); // 1024
 * ```
 */
export const MAX_PROTOCOL_LENGTH = 1024;

/**
 * How many proposals (and `ls` requests) a listener answers with `na` (or a listing) before it
 * gives up on the stream. The spec sets no cap; a peer that streams endless unsupported
 * proposals would otherwise hold the stream until the deadline (HARDENING.md, multistream rows).
 * Real dialers propose a handful of protocols at most.
 *
 * @example
 * ```ts
 * import { MAX_NEGOTIATION_ATTEMPTS } from "@p2p-edge/libp2p/protocols/multistream";
 * console.log(MAX_NEGOTIATION_ATTEMPTS); // 32
 * ```
 */
export const MAX_NEGOTIATION_ATTEMPTS = 32;

/**
 * Default deadline for one negotiation, in milliseconds (HARDENING.md rule 8).
 *
 * @example
 * ```ts
 * import { DEFAULT_NEGOTIATION_TIMEOUT_MS } from "@p2p-edge/libp2p/protocols/multistream";
 * console.log(DEFAULT_NEGOTIATION_TIMEOUT_MS); // 10000
 * ```
 */
export const DEFAULT_NEGOTIATION_TIMEOUT_MS = 10_000;

/**
 * Largest `ls` response a dialer reads. An `ls` response carries many protocol ids in one message,
 * so it may exceed {@link MAX_PROTOCOL_LENGTH}; rust-libp2p caps its messages at 2^14 - 1 bytes
 * (a 2-byte length prefix) and this takes the same bound.
 *
 * @example
 * ```ts
 * import { MAX_LS_RESPONSE_LENGTH } from "@p2p-edge/libp2p/protocols/multistream";
 * console.log(MAX_LS_RESPONSE_LENGTH); // 16383
 * ```
 */
export const MAX_LS_RESPONSE_LENGTH = 16_383;

/**
 * Most protocol ids accepted in one `ls` response (rust-libp2p's cap).
 *
 * @example
 * ```ts
 * import { MAX_LS_PROTOCOLS } from "@p2p-edge/libp2p/protocols/multistream";
 * console.log(MAX_LS_PROTOCOLS); // 1000
 * ```
 */
export const MAX_LS_PROTOCOLS = 1000;

/**
 * The "not available" answer to a proposal (`03 6e 61 0a` on the wire).
 *
 * @example
 * ```ts
 * import { NA } from "@p2p-edge/libp2p/protocols/multistream";
 * console.log(NA); // "na"
 * ```
 */
export const NA = "na";

/**
 * The request for the listener's protocol list (`03 6c 73 0a` on the wire).
 *
 * @example
 * ```ts
 * import { LS } from "@p2p-edge/libp2p/protocols/multistream";
 * console.log(LS); // "ls"
 * ```
 */
export const LS = "ls";
