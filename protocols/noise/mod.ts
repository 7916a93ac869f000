/**
 * noise-libp2p: the `/noise` connection encrypter (Noise_XX_25519_ChaChaPoly_SHA256 with the
 * libp2p handshake payload and early muxer negotiation), plus its building blocks: the sans-IO
 * XX state machine, the crypto providers, the payload codec and the transport streams.
 *
 * @example
 * ```ts
 * import { generateKeyPair } from "@p2p-edge/libp2p/keys";
 * import { noise } from "@p2p-edge/libp2p/protocols/noise";
 * const encrypter = noise({ privateKey: await generateKeyPair("Ed25519") });
 * console.log(encrypter.protocol); // "/noise"
 * ```
 *
 * @module
 */

export { noise, NoiseEncrypter, type NoiseInit, selectEarlyMuxer } from "./service.ts";
export { NoiseChannel } from "./secure_channel.ts";
export * from "./constants.ts";
export { hkdf2, isAllZero, nobleCrypto, type NoiseCrypto, type X25519KeyPair } from "./crypto.ts";
export {
  createNodeCrypto,
  defaultNoiseCrypto,
  detectNativeFeatures,
  importNodeCrypto,
  type NativeFeatures,
  type NodeCryptoModule,
} from "./crypto_native.ts";
export { createHybridCrypto, SMALL_MESSAGE_CIPHER_MAX } from "./crypto_hybrid.ts";
export {
  createWasmAead,
  createWasmCrypto,
  WASM_AEAD_MAX_INPUT,
  type WasmAead,
} from "./crypto_wasm.ts";
export {
  CipherState,
  type HandshakeResult,
  SymmetricState,
  type XXHandshakeOptions,
  XXHandshakeState,
} from "./handshake.ts";
export {
  decodeHandshakePayload,
  encodeHandshakePayload,
  type NoiseExtensions,
  type NoiseHandshakePayload,
} from "./payload.ts";
export {
  createHandshakePayload,
  staticKeySignedData,
  type VerifiedIdentity,
  verifyHandshakePayload,
} from "./identity.ts";
export { decodeFrameLength, encodeFrame, framedSize, writeFrameHeader } from "./codec.ts";
export {
  createDecryptStream,
  createEncryptStream,
  MAX_BATCH_FRAMES,
  NoiseDecryptor,
  NoiseEncryptor,
  type NoiseStreamOptions,
} from "./transport.ts";
