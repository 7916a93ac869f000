/**
 * The composable web-stream surface: each libp2p layer usable on its own over any web duplex
 * (`{ readable, writable }`: a WebSocket's streams, a WebRTC data channel, a stream of another
 * connection), for applications that assemble their own stack. This module has the framing
 * codecs for length-prefixed messages and the muxer over a duplex; `secure` and the Noise frame
 * codecs are in `@p2p-edge/libp2p/protocols/noise`, `select`/`handle` in
 * `@p2p-edge/libp2p/protocols/multistream`. The node uses faster internal paths; these are
 * for hand-built stacks and protocol authors.
 *
 * @example
 * ```ts
 * import { LengthPrefixedDecoder, LengthPrefixedEncoder } from "@p2p-edge/libp2p/stream";
 * const messages = ReadableStream.from([new Uint8Array([1, 2]), new Uint8Array([3])])
 *   .pipeThrough(new LengthPrefixedEncoder())
 *   .pipeThrough(new LengthPrefixedDecoder({ maxLength: 1024 }));
 * for await (const m of messages) console.log(m); // Uint8Array [1, 2], then Uint8Array [3]
 * ```
 *
 * @module
 */

export type { AbortOptions, Direction, Duplex } from "../stream/types.ts";
export type { ClosableWebDuplex, MuxedDuplex } from "./types.ts";
export {
  DEFAULT_MAX_MESSAGE_LENGTH,
  LengthPrefixedDecoder,
  LengthPrefixedEncoder,
  type LengthPrefixedOptions,
} from "./length_prefixed.ts";
export { type DuplexMuxer, muxDuplex, type MuxDuplexOptions } from "./muxer.ts";
export type { DuplexInput } from "./boundary.ts";
export { webDuplexPair, type WebDuplexPairOptions } from "./pair.ts";
