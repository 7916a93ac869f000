/**
 * echo (`/echo/1.0.0`): every byte read is written back until EOF. A test and demo protocol,
 * served only when added to a node's services; bounded per stream in bytes and idle time.
 *
 * @example
 * ```ts
 * import { createNode } from "@p2p-edge/libp2p";
 * import { echo } from "@p2p-edge/libp2p/protocols/echo";
 * import { memory } from "@p2p-edge/libp2p/transports/memory";
 * import { noise } from "@p2p-edge/libp2p/protocols/noise";
 * import { yamux } from "@p2p-edge/libp2p/protocols/yamux";
 * const node = await createNode({
 *   transports: [memory()],
 *   connectionEncrypters: [noise()],
 *   streamMuxers: [yamux()],
 *   services: { echo: echo({ maxBytes: 1024 * 1024 }) },
 * });
 * await node.stop();
 * ```
 *
 * @module
 */

export { echo, type EchoOptions, type EchoService } from "./service.ts";
export { ECHO_PROTOCOL_ID } from "./constants.ts";
