/**
 * Every Noise crypto provider this runtime offers, so that each test runs once per path.
 *
 * @module
 */

import { nobleCrypto, type NoiseCrypto } from "../../protocols/noise/crypto.ts";
import {
  createNodeCrypto,
  detectNativeFeatures,
  importNodeCrypto,
} from "../../protocols/noise/crypto_native.ts";
import { createWasmCrypto } from "../../protocols/noise/crypto_wasm.ts";

/**
 * noble, node:crypto with whatever primitives it has natively here, and the WebAssembly
 * ChaCha20-Poly1305 (over noble) whenever WebAssembly is available.
 */
export async function cryptoProviders(): Promise<NoiseCrypto[]> {
  const out: NoiseCrypto[] = [nobleCrypto];
  const mod = await importNodeCrypto();
  if (mod !== undefined) {
    const features = detectNativeFeatures(mod);
    if (features.chacha20poly1305 || features.x25519 || features.sha256) {
      out.push(createNodeCrypto(mod, features));
    }
  }
  const wasm = createWasmCrypto(nobleCrypto);
  if (wasm !== undefined) out.push(wasm);
  return out;
}
