/**
 * Errors of the WebTransport transport.
 *
 * @module
 */

import { Libp2pError } from "../../src/errors.ts";

/**
 * This runtime has no WebTransport (Bun; Deno without `--unstable-net`).
 *
 * @example
 * ```ts
 * import { WebTransportUnavailableError } from "@p2p-edge/libp2p/transports/webtransport";
 * const err = new WebTransportUnavailableError("WebTransport is not available on this runtime");
 * console.log(err instanceof Error); // true
 * ```
 */
export class WebTransportUnavailableError extends Libp2pError {}
