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

export {
  DEFAULT_MAX_INBOUND_STREAMS,
  DEFAULT_MAX_OUTBOUND_STREAMS,
  DEFAULT_MAX_SESSION_BUFFER_SIZE,
  DEFAULT_MAX_STREAM_BUFFER_SIZE,
  MAX_MESSAGE_SIZE,
  MAX_PENDING_RESETS,
  MAX_VARINT_BYTES,
  MPLEX_PROTOCOL_ID,
  MplexFlag,
  type MplexFlagValue,
} from "./constants.ts";
export {
  type DecodedMplexMessage,
  decodeHeader,
  decodeMessage,
  encodedLength,
  encodeMessage,
  encodeMessageInto,
  type MplexHeader,
  type MplexMessage,
} from "./codec.ts";
export { MplexProtocolError } from "./errors.ts";
export {
  DEFAULT_MPLEX_LIMITS,
  type MplexLimits,
  MplexSession,
  type MplexSessionEvent,
  type MplexSessionHooks,
  type MplexStreamState,
} from "./session.ts";
export { FrameWriter } from "./writer.ts";
export { MplexStream } from "./stream.ts";
export { mplex, mplexLimits, MplexMuxer, type MplexOptions } from "./service.ts";
