/**
 * Stream helpers: the duplex shapes, a handshake byte reader, in-memory pairs.
 *
 * @example
 * ```ts
 * import { duplexPair } from "@p2p-edge/libp2p/stream";
 * const [a, b] = duplexPair();
 * ```
 *
 * @module
 */

export * from "./types.ts";
export * from "./byte_reader.ts";
export * from "./pair.ts";
export * from "./handshake.ts";
export * from "./idle.ts";
export * from "./channel.ts";
export * from "./timer_queue.ts";
export * from "./read_into.ts";
export * from "./muxed_stream.ts";
