/**
 * noise-libp2p: the `/noise` connection encrypter (Noise_XX_25519_ChaChaPoly_SHA256 with the
 * libp2p handshake payload and early muxer negotiation). `noise()` goes into a node's
 * `connectionEncrypters`; `secure()` runs the same handshake over any web duplex, and
 * `NoiseFrameEncoder`/`NoiseFrameDecoder` are the spec's framing as TransformStreams, for stacks
 * assembled by hand.
 *
 * @example
 * ```ts
 * import { createNode } from "@p2p-edge/libp2p";
 * import { noise } from "@p2p-edge/libp2p/protocols/noise";
 * import { yamux } from "@p2p-edge/libp2p/protocols/yamux";
 * import { memory } from "@p2p-edge/libp2p/transports/memory";
 * const node = await createNode({
 *   transports: [memory()],
 *   connectionEncrypters: [noise()],
 *   streamMuxers: [yamux()],
 * });
 * await node.stop();
 * ```
 *
 * @module
 */

export { noise, type NoiseOptions } from "./service.ts";
export { NOISE_PROTOCOL_ID } from "./constants.ts";
export { secure, type SecureInit, type SecureResult } from "./secure.ts";
export { NoiseFrameDecoder, NoiseFrameEncoder } from "./frames.ts";
export type { NoiseCrypto, X25519KeyPair } from "./crypto.ts";
