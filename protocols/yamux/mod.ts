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

export { yamux, YamuxMuxer } from "./service.ts";
export { YamuxStream } from "./stream.ts";
export type { StreamHost } from "./stream.ts";
export { YamuxSession } from "./session.ts";
export type { SessionEvents, StreamState } from "./session.ts";
export { Outbox } from "./outbox.ts";
export type { OutboxListener } from "./outbox.ts";
export { resolveYamuxOptions } from "./options.ts";
export type { ResolvedYamuxOptions, YamuxOptions } from "./options.ts";
export { decodeHeader, encodeHeader, encodeHeaderInto } from "./codec.ts";
export type { FrameHeader } from "./codec.ts";
export { YamuxProtocolError } from "./errors.ts";
export {
  Flag,
  FrameType,
  GoAwayCode,
  HEADER_LENGTH,
  INITIAL_STREAM_WINDOW,
  YAMUX_PROTOCOL_ID,
} from "./constants.ts";
