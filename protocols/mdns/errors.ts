/**
 * mDNS errors.
 *
 * @module
 */

import { Libp2pError } from "../../src/errors.ts";

/**
 * This runtime cannot join the mDNS multicast group (no UDP sockets, as in browsers, or the
 * socket or group membership failed). Raised by the mDNS service's `start()` (or dispatched as its
 * `error` event with `{ optional: true }`).
 *
 * @example
 * ```ts
 * import { MdnsUnavailableError } from "@p2p-edge/libp2p/protocols/mdns";
 * console.log(new MdnsUnavailableError("no UDP in browsers").name); // "MdnsUnavailableError"
 * ```
 */
export class MdnsUnavailableError extends Libp2pError {}
