/**
 * ping (`/ipfs/ping/1.0.0`): libp2p/specs ping/ping.md. 32 random bytes, echoed, repeated
 * until the dialer closes.
 *
 * @example
 * ```ts
 * import { createNode } from "@p2p-edge/libp2p";
 * import { ping } from "@p2p-edge/libp2p/protocols/ping";
 * import { memory } from "@p2p-edge/libp2p/transports/memory";
 * import { noise } from "@p2p-edge/libp2p/protocols/noise";
 * import { yamux } from "@p2p-edge/libp2p/protocols/yamux";
 * const node = await createNode({
 *   transports: [memory()],
 *   connectionEncrypters: [noise()],
 *   streamMuxers: [yamux()],
 *   services: { ping: ping({ timeoutMs: 5_000 }) },
 * });
 * await node.stop();
 * ```
 *
 * @module
 */

export { ping, type PingOptions, type PingService } from "./service.ts";
export { PingMismatchError } from "./errors.ts";
export { PING_PROTOCOL_ID } from "./constants.ts";
