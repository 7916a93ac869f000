/**
 * multistream-select 1.0 (libp2p/specs connections/README.md "Protocol Negotiation"): the public
 * path of the negotiation the core runs on every connection and stream. The implementation lives
 * in the core (`src/multistream/`), because the upgrader and every connection use it; this module
 * is its public surface.
 *
 * @example
 * ```ts
 * import { handle, select } from "@p2p-edge/libp2p/protocols/multistream";
 * import { webDuplexPair } from "@p2p-edge/libp2p/stream";
 * const [a, b] = webDuplexPair(); // any web duplex works: a WebSocket's, a data channel's
 * const [dialer, listener] = await Promise.all([
 *   select(a, ["/echo/1.0.0"]),
 *   handle(b, ["/echo/1.0.0"]),
 * ]);
 * console.log(dialer.protocol, listener.protocol); // "/echo/1.0.0" "/echo/1.0.0"
 * ```
 *
 * @module
 */

export {
  handle,
  type HandleOptions,
  ls,
  type LsOptions,
  select,
  type SelectOptions,
} from "../../src/multistream/service.ts";
export { PROTOCOL_ID } from "../../src/multistream/constants.ts";
export {
  MultistreamError,
  type MultistreamErrorReason,
  ProtocolNotSupportedError,
} from "../../src/multistream/errors.ts";
