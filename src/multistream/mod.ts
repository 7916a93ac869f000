/**
 * multistream-select 1.0 (`/multistream/1.0.0`): protocol negotiation on connections and
 * streams. {@link select} is the dialer side (with optimistic "lazy" select for a single
 * protocol), {@link handle} the listener side; the codec and sans-IO state machines are exported
 * for other transports and for tests.
 *
 * @example
 * ```ts
 * import { duplexPair } from "@p2p-edge/libp2p/stream";
 * import { handle, select } from "@p2p-edge/libp2p/protocols/multistream";
 * const [a, b] = duplexPair();
 * const [dialed, handled] = await Promise.all([
 *   select(a, ["/ipfs/ping/1.0.0"]),
 *   handle(b, ["/ipfs/ping/1.0.0"]),
 * ]);
 * ```
 *
 * @module
 */

export * from "./constants.ts";
export * from "./errors.ts";
export * from "./codec.ts";
export * from "./negotiation.ts";
export * from "./service.ts";
