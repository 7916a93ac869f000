/**
 * A provider that picks the ChaCha20-Poly1305 implementation by message size. On Deno, native
 * node:crypto pays a fixed cost per message (a cipher object and four calls into the runtime,
 * about 2-3 µs) that dominates small messages, while our WebAssembly cipher has almost none but
 * runs at half the native speed on 64 KiB frames. Measured on Deno 2.9.6 (bench/
 * noise_cipher_bench.ts, "seal/open by size"): at 44 bytes (a yamux header plus a ping) WASM is
 * 3-4x faster; they break even near 4 KiB; at 64 KiB native is 2x faster. Every message of a
 * Noise session is an independent AEAD call (key, nonce, ad), so mixing the two is safe as long
 * as both produce identical bytes, which each provider proves against @noble before use.
 *
 * @module
 */

import type { NoiseCrypto } from "./crypto.ts";

/**
 * Messages shorter than this many bytes (plaintext when sealing, ciphertext when opening) go to
 * the small-message provider. The measured break-even on Deno is 4-8 KiB; 4 KiB keeps every
 * latency-bound message (handshakes, pings, small writes) on the fast path.
 */
export const SMALL_MESSAGE_CIPHER_MAX = 4096;

/**
 * `large` for everything except ChaCha20-Poly1305 on messages under `threshold` bytes, which go
 * to `small`.
 *
 * @example
 * ```ts
 * import { createHybridCrypto, createWasmCrypto, nobleCrypto } from "@p2p-edge/libp2p/protocols/noise";
 * const c = createHybridCrypto(nobleCrypto, createWasmCrypto() ?? nobleCrypto);
 * console.log(c.name); // "noble, chacha < 4096 B: wasm(chacha)+noble"
 * ```
 */
export function createHybridCrypto(
  large: NoiseCrypto,
  small: NoiseCrypto,
  threshold: number = SMALL_MESSAGE_CIPHER_MAX,
): NoiseCrypto {
  if (!Number.isSafeInteger(threshold) || threshold < 0) {
    throw new RangeError(`threshold must be a non-negative integer, got ${threshold}`);
  }
  return {
    name: `${large.name}, chacha < ${threshold} B: ${small.name}`,
    generateX25519KeyPair: large.generateX25519KeyPair,
    x25519PublicKey: large.x25519PublicKey,
    x25519: large.x25519,
    sha256: large.sha256,
    hmacSha256: large.hmacSha256,
    encrypt: (key, nonce, ad, plaintext, output) =>
      (plaintext.byteLength < threshold ? small : large).encrypt(key, nonce, ad, plaintext, output),
    decrypt: (key, nonce, ad, ciphertext) =>
      (ciphertext.byteLength < threshold ? small : large).decrypt(key, nonce, ad, ciphertext),
  };
}
