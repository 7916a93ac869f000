/**
 * mplex errors.
 *
 * @module
 */

import { ProtocolError } from "../../src/errors.ts";

/**
 * The remote broke the mplex wire protocol (malformed varint, unknown flag, message above the
 * size limit, NewStream for an id in use). The session closes with this error.
 *
 * @example
 * ```ts
 * import { MplexProtocolError } from "@p2p-edge/libp2p/protocols/mplex";
 * console.log(new MplexProtocolError("unknown flag 7") instanceof Error); // true
 * ```
 */
export class MplexProtocolError extends ProtocolError {}
