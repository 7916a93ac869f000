/**
 * Yamux 1.0 stream multiplexer (`/yamux/1.0.0`): hashicorp/yamux spec.md as profiled by
 * libp2p/specs yamux/README.md.
 *
 * @example
 * ```ts
 * import { yamux } from "@p2p-edge/libp2p/protocols/yamux";
 * import { channelPair } from "@p2p-edge/libp2p/stream";
 * const [a, b] = channelPair();
 * const client = yamux().createStreamMuxer(a, { direction: "outbound" });
 * const server = yamux().createStreamMuxer(b, {
 *   direction: "inbound",
 *   onIncomingStream: (s) => void s.readable.pipeTo(s.writable),
 * });
 * const s = await client.newStream();
 * ```
 *
 * @module
 */

export { yamux } from "./service.ts";
export type { YamuxOptions } from "./options.ts";
export { YamuxProtocolError } from "./errors.ts";
export { GoAwayCode, YAMUX_PROTOCOL_ID } from "./constants.ts";
