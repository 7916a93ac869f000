/**
 * ping errors.
 *
 * @module
 */

import { ProtocolError } from "../../src/errors.ts";

/**
 * The remote answered a ping with bytes other than the ones we sent.
 *
 * @example
 * ```ts
 * import { PingMismatchError } from "@p2p-edge/libp2p/protocols/ping";
 * console.log(new PingMismatchError("echo differs").name); // "PingMismatchError"
 * ```
 */
export class PingMismatchError extends ProtocolError {}
