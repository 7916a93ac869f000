/**
 * multistream-select 1.0 (libp2p/specs connections/README.md "Protocol Negotiation"): the public
 * path of the negotiation the core runs on every connection and stream. The implementation lives
 * in the core (`src/multistream/`), because the upgrader and every connection use it; this module
 * is its public surface.
 *
 * @example
 * ```ts
 * import { duplexPair } from "@p2p-edge/libp2p/stream";
 * import { handle, select } from "@p2p-edge/libp2p/protocols/multistream";
 * const [a, b] = duplexPair();
 * const [dialer, listener] = await Promise.all([
 *   select(a, ["/echo/1.0.0"]),
 *   handle(b, ["/echo/1.0.0"]),
 * ]);
 * console.log(dialer.protocol, listener.protocol); // "/echo/1.0.0" "/echo/1.0.0"
 * ```
 *
 * @module
 */

export * from "../../src/multistream/mod.ts";
