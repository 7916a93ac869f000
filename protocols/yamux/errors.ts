/**
 * Yamux-specific errors.
 *
 * @module
 */

import { ProtocolError } from "../../src/errors.ts";
import { GoAwayCode } from "./constants.ts";

/**
 * The remote peer broke the Yamux protocol. The session answers with GoAway(`code`) and closes.
 *
 * @example
 * ```ts
 * import { YamuxProtocolError } from "@p2p-edge/libp2p/protocols/yamux";
 * const err = new YamuxProtocolError("data on stream 0");
 * console.log(err.code); // 1 (GoAway protocol error)
 * ```
 */
export class YamuxProtocolError extends ProtocolError {
  /** The GoAway code sent to the peer (travels on the wire). */
  readonly code: GoAwayCode;
  /** Create an error; `code` defaults to the GoAway protocol-error code. */
  constructor(
    message: string,
    code: GoAwayCode = GoAwayCode.ProtocolError,
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.code = code;
  }
}
