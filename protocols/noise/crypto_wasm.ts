/**
 * ChaCha20-Poly1305 (RFC 8439 §2.8) in WebAssembly for runtimes whose `node:crypto` has no native
 * ChaCha20-Poly1305 (Bun, browsers): on 64 KiB frames about 505 MB/s seal and 465 MB/s open on
 * Bun (2.3-2.5x the pure-JS @noble cipher), on 1 KiB frames 3.4x (bench/noise_cipher_bench.ts,
 * one core). The wasm cipher is the cost: the copy in and the copy out per frame (one `set`, one
 * `set` or `slice`) run at 10-35 GB/s. Only the AEAD comes from wasm; X25519, SHA-256 and HMAC come
 * from a base provider. The module (wasm/chacha_poly.wat, 128-bit SIMD) is compiled and
 * instantiated synchronously, and a provider is only handed out after it matched @noble on
 * fixed inputs, so a runtime without WebAssembly or SIMD falls back cleanly.
 *
 * @module
 */

import { equals } from "../../src/bytes.ts";
import { isBun } from "../../src/runtime.ts";
import { KEY_LENGTH, NONCE_LENGTH, TAG_LENGTH } from "./constants.ts";
import { nobleCrypto, type NoiseCrypto } from "./crypto.ts";
import { CHACHA_POLY_WASM_BASE64 } from "./wasm/chacha_poly_wasm.ts";

/**
 * Largest AD + message (bytes) handled in wasm memory; larger inputs (never produced by Noise,
 * whose frames are at most 65535 bytes) go to @noble so linear memory stays bounded.
 */
export const WASM_AEAD_MAX_INPUT = 1 << 20;

// Memory layout shared with wasm/chacha_poly.wat.
const KEY_OFFSET = 0;
const NONCE_OFFSET = 32;
const TAG_IN_OFFSET = 48;
const TAG_OUT_OFFSET = 64;
const AD_OFFSET = 512;
/** The cipher XORs 256-byte steps: up to 255 bytes past the padded message are scratch. */
const STEP_SLACK = 256;
const PAGE = 65536;

interface AeadExports {
  readonly memory: WebAssembly.Memory;
  use_rows(on: number): void;
  seal(ad: number, adLength: number, data: number, length: number): void;
  open(ad: number, adLength: number, data: number, length: number): number;
}

/**
 * The ChaCha20 kernel of the wasm module: `"columns"` computes four blocks side by side (one per
 * vector lane; fastest on V8), `"rows"` two blocks of four row vectors (fastest on Bun's
 * JavaScriptCore). Both produce the same bytes.
 */
export type WasmChachaKernel = "columns" | "rows";

/** Options of {@link createWasmAead}. */
export interface WasmAeadOptions {
  /** ChaCha20 kernel; default `"rows"` on Bun, `"columns"` elsewhere. */
  kernel?: WasmChachaKernel;
}

/** A ChaCha20-Poly1305 AEAD: the encrypt/decrypt half of {@link NoiseCrypto}, same rules. */
export type WasmAead = Pick<NoiseCrypto, "encrypt" | "decrypt">;

function decodeBase64(text: string): Uint8Array<ArrayBuffer> {
  const binary = atob(text);
  const out = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) out[i] = binary.charCodeAt(i);
  return out;
}

const pad16 = (n: number): number => (n + 15) & ~15;

function checkKeyNonce(key: Uint8Array, nonce: Uint8Array): void {
  if (!(key instanceof Uint8Array) || key.byteLength !== KEY_LENGTH) {
    throw new TypeError("ChaCha20-Poly1305 key must be a 32-byte Uint8Array");
  }
  if (!(nonce instanceof Uint8Array) || nonce.byteLength !== NONCE_LENGTH) {
    throw new TypeError("ChaCha20-Poly1305 nonce must be a 12-byte Uint8Array");
  }
}

/**
 * Instantiate the wasm AEAD (one instance, one linear memory of two pages that grows on demand up
 * to {@link WASM_AEAD_MAX_INPUT}). `undefined` when WebAssembly (or its SIMD) is unavailable.
 * Not checked against @noble: {@link createWasmCrypto} does that.
 *
 * @example
 * ```ts
 * import { createWasmAead } from "@p2p-edge/libp2p/protocols/noise";
 * const aead = createWasmAead();
 * const sealed = aead?.encrypt(new Uint8Array(32), new Uint8Array(12), new Uint8Array(0), new Uint8Array(5));
 * console.log(sealed?.length); // 21
 * ```
 */
export function createWasmAead(options: WasmAeadOptions = {}): WasmAead | undefined {
  let exports: AeadExports;
  try {
    if (typeof WebAssembly !== "object") return undefined;
    const module = new WebAssembly.Module(decodeBase64(CHACHA_POLY_WASM_BASE64));
    exports = new WebAssembly.Instance(module, {}).exports as unknown as AeadExports;
  } catch {
    return undefined; // no WebAssembly, no SIMD, or a CSP forbidding wasm compilation
  }
  const { memory } = exports;
  exports.use_rows((options.kernel ?? (isBun() ? "rows" : "columns")) === "rows" ? 1 : 0);
  // One long-lived view of linear memory: it only changes when `reserve` grows the memory, so
  // a frame costs no `memory.buffer` lookups and no new views (the only copies are the input
  // in and the result out).
  let heap = new Uint8Array(memory.buffer);

  /** Make room for AD and message; false when they exceed the bound (caller uses @noble). */
  const reserve = (adLength: number, length: number): boolean => {
    if (adLength + length > WASM_AEAD_MAX_INPUT) return false;
    const needed = AD_OFFSET + pad16(adLength) + pad16(length) + STEP_SLACK;
    if (needed > heap.byteLength) {
      memory.grow(Math.ceil((needed - heap.byteLength) / PAGE));
      heap = new Uint8Array(memory.buffer);
    }
    return true;
  };
  const load = (key: Uint8Array, nonce: Uint8Array, ad: Uint8Array): number => {
    heap.set(key, KEY_OFFSET);
    heap.set(nonce, NONCE_OFFSET);
    if (ad.byteLength > 0) heap.set(ad, AD_OFFSET);
    return AD_OFFSET + pad16(ad.byteLength);
  };

  return {
    encrypt(key, nonce, ad, plaintext, output): Uint8Array {
      checkKeyNonce(key, nonce);
      const length = plaintext.byteLength;
      if (output !== undefined && output.byteLength !== length + TAG_LENGTH) {
        throw new RangeError("output must be plaintext.length + 16 bytes");
      }
      if (!reserve(ad.byteLength, length)) {
        return nobleCrypto.encrypt(key, nonce, ad, plaintext, output);
      }
      const data = load(key, nonce, ad);
      heap.set(plaintext, data);
      exports.seal(AD_OFFSET, ad.byteLength, data, length);
      heap.fill(0, KEY_OFFSET, KEY_OFFSET + KEY_LENGTH); // best effort: no key left behind
      // Tag behind the ciphertext (scratch space there), then one copy out.
      heap.copyWithin(data + length, TAG_OUT_OFFSET, TAG_OUT_OFFSET + TAG_LENGTH);
      const sealed = heap.subarray(data, data + length + TAG_LENGTH);
      if (output === undefined) return sealed.slice();
      output.set(sealed, 0);
      return output;
    },
    decrypt(key, nonce, ad, ciphertext): Uint8Array | undefined {
      checkKeyNonce(key, nonce);
      if (ciphertext.byteLength < TAG_LENGTH) return undefined;
      const length = ciphertext.byteLength - TAG_LENGTH;
      if (!reserve(ad.byteLength, length)) return nobleCrypto.decrypt(key, nonce, ad, ciphertext);
      const data = load(key, nonce, ad);
      heap.set(ciphertext, data); // one copy in; the tag then moves to its slot
      heap.copyWithin(TAG_IN_OFFSET, data + length, data + length + TAG_LENGTH);
      // The wasm side compares tags in constant time and decrypts only after a match.
      const ok = exports.open(AD_OFFSET, ad.byteLength, data, length);
      heap.fill(0, KEY_OFFSET, KEY_OFFSET + KEY_LENGTH);
      return ok === 1 ? heap.slice(data, data + length) : undefined;
    },
  };
}

/** True when `aead` agrees with @noble on fixed inputs (seal, open, and a rejected forgery). */
function selfCheck(aead: WasmAead): boolean {
  try {
    const key = new Uint8Array(32).map((_, i) => i * 11 + 3);
    const nonce = new Uint8Array(12).map((_, i) => i * 5 + 1);
    for (const [adLength, length] of [[0, 0], [3, 1], [32, 100], [7, 300], [0, 1100]]) {
      const ad = new Uint8Array(adLength).map((_, i) => i ^ 0x5a);
      const data = new Uint8Array(length).map((_, i) => i * 7);
      const sealed = aead.encrypt(key, nonce, ad, data);
      if (!equals(sealed, nobleCrypto.encrypt(key, nonce, ad, data))) return false;
      const opened = aead.decrypt(key, nonce, ad, sealed);
      if (opened === undefined || !equals(opened, data)) return false;
      sealed[sealed.byteLength - 1] ^= 1;
      if (aead.decrypt(key, nonce, ad, sealed) !== undefined) return false;
    }
    return true;
  } catch {
    return false;
  }
}

/**
 * A provider with the wasm ChaCha20-Poly1305 and every other primitive from `base` (default
 * @noble), or `undefined` when WebAssembly is unavailable or the module disagrees with @noble.
 *
 * @example
 * ```ts
 * import { createWasmCrypto } from "@p2p-edge/libp2p/protocols/noise";
 * const c = createWasmCrypto();
 * console.log(c?.name); // "wasm(chacha)+noble"
 * ```
 */
export function createWasmCrypto(base: NoiseCrypto = nobleCrypto): NoiseCrypto | undefined {
  const aead = createWasmAead();
  if (aead === undefined || !selfCheck(aead)) return undefined;
  return {
    name: `wasm(chacha)+${base.name}`,
    generateX25519KeyPair: base.generateX25519KeyPair,
    x25519PublicKey: base.x25519PublicKey,
    x25519: base.x25519,
    sha256: base.sha256,
    hmacSha256: base.hmacSha256,
    encrypt: aead.encrypt,
    decrypt: aead.decrypt,
  };
}
