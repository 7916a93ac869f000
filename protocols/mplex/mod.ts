/**
 * mplex `/mplex/6.7.0` (libp2p/specs mplex/README.md): a stream multiplexer without flow
 * control, deprecated in favour of yamux but still deployed. {@link mplex} returns a
 * StreamMuxerFactory for the upgrader; the codec and the sans-IO session are exported for tests
 * and tools.
 *
 * @example
 * ```ts
 * import { mplex } from "@p2p-edge/libp2p/protocols/mplex";
 * import { channelPair } from "@p2p-edge/libp2p/stream";
 * const [a, b] = channelPair();
 * mplex().createStreamMuxer(b, {
 *   direction: "inbound",
 *   onIncomingStream: (s) => void s.readable.pipeTo(s.writable),
 * });
 * const client = mplex().createStreamMuxer(a, { direction: "outbound" });
 * const stream = await client.newStream();
 * ```
 *
 * @module
 */

export { mplex, type MplexOptions } from "./service.ts";
export { MplexProtocolError } from "./errors.ts";
export { MPLEX_PROTOCOL_ID } from "./constants.ts";
