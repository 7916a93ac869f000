/**
 * Native Noise primitives through the runtime's `node:crypto` module, picked by feature
 * detection (never by runtime name): Deno's node:crypto has a native ChaCha20-Poly1305; Bun's
 * has X25519 and SHA-256 but no ChaCha20-Poly1305, so there the cipher comes from WebAssembly
 * (crypto_wasm.ts) or, without WebAssembly, @noble.
 * Every primitive is probed once against the pure-JS implementation before it is used.
 *
 * @module
 */

import { concat, equals } from "../../src/bytes.ts";
import { isDeno } from "../../src/runtime.ts";
import { DH_LENGTH, TAG_LENGTH } from "./constants.ts";
import { isAllZero, nobleCrypto, type NoiseCrypto, type X25519KeyPair } from "./crypto.ts";
import { createWasmCrypto } from "./crypto_wasm.ts";
import { createHybridCrypto } from "./crypto_hybrid.ts";

/** The subset of `node:crypto` this adapter calls. */
export type NodeCryptoModule = typeof import("node:crypto");
type KeyObject = ReturnType<NodeCryptoModule["createPublicKey"]>;
type KeyInput =
  & Parameters<NodeCryptoModule["createPrivateKey"]>[0]
  & Parameters<NodeCryptoModule["createPublicKey"]>[0];
/** A key object and the DER it was made from (which ends with the raw 32-byte key). */
interface ImportedKey {
  readonly der: Uint8Array;
  readonly key: KeyObject;
}

/** Which primitives of a native provider are native (the rest fall back to @noble). */
export interface NativeFeatures {
  /** ChaCha20-Poly1305 via createCipheriv("chacha20-poly1305"). */
  readonly chacha20poly1305: boolean;
  /** X25519 via diffieHellman() over DER-imported keys. */
  readonly x25519: boolean;
  /** SHA-256 and HMAC-SHA-256 via createHash/createHmac. */
  readonly sha256: boolean;
}

// DER prefixes that wrap a raw 32-byte X25519 key (RFC 8410): PKCS#8 private, SPKI public.
const PKCS8_X25519_PREFIX = new Uint8Array([
  0x30,
  0x2e,
  0x02,
  0x01,
  0x00,
  0x30,
  0x05,
  0x06,
  0x03,
  0x2b,
  0x65,
  0x6e,
  0x04,
  0x22,
  0x04,
  0x20,
]);
const SPKI_X25519_PREFIX = new Uint8Array([
  0x30,
  0x2a,
  0x30,
  0x05,
  0x06,
  0x03,
  0x2b,
  0x65,
  0x6e,
  0x03,
  0x21,
  0x00,
]);
const CHACHA = "chacha20-poly1305";

/** A plain Uint8Array view of a Buffer (Buffers compare unequal to Uint8Arrays in tests). */
function view(buf: Uint8Array): Uint8Array {
  return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
}

function checkKey(bytes: Uint8Array, what: string): void {
  if (!(bytes instanceof Uint8Array) || bytes.byteLength !== DH_LENGTH) {
    throw new TypeError(`${what} must be a 32-byte Uint8Array`);
  }
}

// node:crypto's typings for AEAD options differ between @types/node versions; this is the
// shape we rely on.
interface AeadCipher {
  setAAD(ad: Uint8Array, options: { plaintextLength: number }): unknown;
  update(data: Uint8Array): Uint8Array;
  final(): Uint8Array;
  getAuthTag(): Uint8Array;
}
interface AeadDecipher {
  setAAD(ad: Uint8Array, options: { plaintextLength: number }): unknown;
  setAuthTag(tag: Uint8Array): unknown;
  update(data: Uint8Array): Uint8Array;
  final(): Uint8Array;
}
type CreateAead<T> = (
  algorithm: string,
  key: Uint8Array,
  iv: Uint8Array,
  options: { authTagLength: number },
) => T;

/**
 * Build a provider over `mod` using the native primitives listed in `features` and @noble for
 * the others. Use {@link detectNativeFeatures} to learn what `mod` supports.
 *
 * @example
 * ```ts
 * import { createNodeCrypto, detectNativeFeatures } from "@p2p-edge/libp2p/protocols/noise";
 * const mod = await import("node:crypto");
 * const c = createNodeCrypto(mod, detectNativeFeatures(mod));
 * console.log(c.name);
 * ```
 */
export function createNodeCrypto(mod: NodeCryptoModule, features: NativeFeatures): NoiseCrypto {
  const createCipher = mod.createCipheriv as unknown as CreateAead<AeadCipher>;
  const createDecipher = mod.createDecipheriv as unknown as CreateAead<AeadDecipher>;
  // Key objects by the array they were made from. A Noise handshake uses its ephemeral private
  // key and the remote ephemeral key in two DH operations each, and the static private key in
  // every handshake: importing each only once halves the key imports of a handshake. (On Deno
  // 2.9.6 the native DH leaves ~3.5 KiB resident per connection, the allocator's fragmentation
  // from short-lived native objects; this cache's own share was within the measurement's noise.)
  // Keyed weakly by the array object, so an entry goes with its key; each entry keeps the DER it
  // was imported from, whose tail is the raw key, so a caller that reuses an array for another
  // key gets that key, not a stale one.
  const privateKeys = new WeakMap<Uint8Array, ImportedKey>();
  const publicKeys = new WeakMap<Uint8Array, ImportedKey>();
  const imported = (
    cache: WeakMap<Uint8Array, ImportedKey>,
    raw: Uint8Array,
    type: "pkcs8" | "spki",
  ): KeyObject => {
    const hit = cache.get(raw);
    if (hit !== undefined && equals(hit.der.subarray(hit.der.byteLength - DH_LENGTH), raw)) {
      return hit.key;
    }
    const der = concat([type === "pkcs8" ? PKCS8_X25519_PREFIX : SPKI_X25519_PREFIX, raw]);
    // The same DER options object for both calls; their typings differ only in `type`.
    const options = { key: der, format: "der", type } as unknown as KeyInput;
    const key = type === "pkcs8" ? mod.createPrivateKey(options) : mod.createPublicKey(options);
    cache.set(raw, { der, key });
    return key;
  };
  const privateKeyObject = (raw: Uint8Array): KeyObject => imported(privateKeys, raw, "pkcs8");
  const publicKeyObject = (raw: Uint8Array): KeyObject => imported(publicKeys, raw, "spki");
  const rawPublic = (key: ReturnType<NodeCryptoModule["createPublicKey"]>): Uint8Array => {
    const der = view(key.export({ format: "der", type: "spki" }));
    return der.slice(der.byteLength - DH_LENGTH);
  };
  const parts = [
    features.chacha20poly1305 ? "chacha" : undefined,
    features.x25519 ? "x25519" : undefined,
    features.sha256 ? "sha256" : undefined,
  ].filter((p) => p !== undefined);

  return {
    name: parts.length === 0 ? "noble" : `node:crypto(${parts.join(",")})+noble`,
    generateX25519KeyPair: features.x25519
      ? (): X25519KeyPair => {
        const { privateKey, publicKey } = mod.generateKeyPairSync("x25519");
        const pkcs8 = view(privateKey.export({ format: "der", type: "pkcs8" }));
        const raw = pkcs8.slice(pkcs8.byteLength - DH_LENGTH);
        privateKeys.set(raw, { der: pkcs8, key: privateKey });
        return { privateKey: raw, publicKey: rawPublic(publicKey) };
      }
      : nobleCrypto.generateX25519KeyPair,
    x25519PublicKey: features.x25519
      ? (privateKey: Uint8Array): Uint8Array => {
        checkKey(privateKey, "X25519 private key");
        return rawPublic(mod.createPublicKey(privateKeyObject(privateKey)));
      }
      : nobleCrypto.x25519PublicKey,
    x25519: features.x25519
      ? (privateKey: Uint8Array, publicKey: Uint8Array): Uint8Array => {
        checkKey(privateKey, "X25519 private key");
        checkKey(publicKey, "X25519 public key");
        // OpenSSL/BoringSSL refuse low-order points with an exception; normalise to RangeError.
        let shared: Uint8Array;
        try {
          shared = view(mod.diffieHellman({
            privateKey: privateKeyObject(privateKey),
            publicKey: publicKeyObject(publicKey),
          }));
        } catch (cause) {
          throw new RangeError("X25519 failed (low-order or invalid point)", { cause });
        }
        if (isAllZero(shared)) throw new RangeError("X25519 produced the all-zero shared secret");
        return shared;
      }
      : nobleCrypto.x25519,
    sha256: features.sha256
      ? (data: Uint8Array): Uint8Array => view(mod.createHash("sha256").update(data).digest())
      : nobleCrypto.sha256,
    hmacSha256: features.sha256
      ? (key: Uint8Array, data: Uint8Array): Uint8Array =>
        view(mod.createHmac("sha256", key).update(data).digest())
      : nobleCrypto.hmacSha256,
    encrypt: features.chacha20poly1305
      ? (key, nonce, ad, plaintext, output): Uint8Array => {
        const cipher = createCipher(CHACHA, key, nonce, { authTagLength: TAG_LENGTH });
        cipher.setAAD(ad, { plaintextLength: plaintext.byteLength });
        const body = cipher.update(plaintext);
        cipher.final();
        const tag = cipher.getAuthTag();
        const out = output ?? new Uint8Array(plaintext.byteLength + TAG_LENGTH);
        if (out.byteLength !== plaintext.byteLength + TAG_LENGTH) {
          throw new RangeError("output must be plaintext.length + 16 bytes");
        }
        out.set(body, 0);
        out.set(tag, body.byteLength);
        return out;
      }
      : nobleCrypto.encrypt,
    decrypt: features.chacha20poly1305
      ? (key, nonce, ad, ciphertext): Uint8Array | undefined => {
        if (ciphertext.byteLength < TAG_LENGTH) return undefined;
        const split = ciphertext.byteLength - TAG_LENGTH;
        try {
          const decipher = createDecipher(CHACHA, key, nonce, { authTagLength: TAG_LENGTH });
          decipher.setAAD(ad, { plaintextLength: split });
          decipher.setAuthTag(ciphertext.subarray(split));
          const plaintext = decipher.update(ciphertext.subarray(0, split));
          decipher.final(); // throws when the tag does not verify
          return view(plaintext);
        } catch {
          return undefined;
        }
      }
      : nobleCrypto.decrypt,
  };
}

/**
 * Probe `mod` for each primitive, checking its output against @noble on fixed inputs, so a
 * missing or broken native primitive is never used.
 *
 * @example
 * ```ts
 * import { detectNativeFeatures } from "@p2p-edge/libp2p/protocols/noise";
 * const f = detectNativeFeatures(await import("node:crypto"));
 * console.log(f.chacha20poly1305); // true on Deno, false on Bun
 * ```
 */
export function detectNativeFeatures(mod: NodeCryptoModule): NativeFeatures {
  const all = { chacha20poly1305: true, x25519: true, sha256: true };
  const key = new Uint8Array(32).map((_, i) => i + 1);
  const nonce = new Uint8Array(12).map((_, i) => i * 7);
  const ad = new Uint8Array([1, 2, 3]);
  const data = new Uint8Array(100).map((_, i) => i * 3);
  const probe = (fn: () => boolean): boolean => {
    try {
      return fn();
    } catch {
      return false;
    }
  };
  const native = createNodeCrypto(mod, all);
  const chacha20poly1305 = probe(() => {
    const sealed = native.encrypt(key, nonce, ad, data);
    const opened = native.decrypt(key, nonce, ad, sealed);
    return equals(sealed, nobleCrypto.encrypt(key, nonce, ad, data)) && opened !== undefined &&
      equals(opened, data);
  });
  const x25519 = probe(() => {
    const other = nobleCrypto.x25519PublicKey(data.slice(0, 32));
    return equals(native.x25519PublicKey(key), nobleCrypto.x25519PublicKey(key)) &&
      equals(native.x25519(key, other), nobleCrypto.x25519(key, other)) &&
      native.generateX25519KeyPair().publicKey.byteLength === DH_LENGTH;
  });
  const sha256 = probe(() =>
    equals(native.sha256(data), nobleCrypto.sha256(data)) &&
    equals(native.hmacSha256(key, data), nobleCrypto.hmacSha256(key, data))
  );
  return { chacha20poly1305, x25519, sha256 };
}

/**
 * Load `node:crypto` when the runtime has it (Deno, Bun, Node >= 20.16); `undefined` in
 * browsers. Found by feature detection through `process.getBuiltinModule` rather than an
 * `import("node:crypto")`, so no `node:` specifier reaches a browser bundle (bundlers either
 * reject that scheme or leave an import that fails at run time).
 *
 * @example
 * ```ts
 * import { importNodeCrypto } from "@p2p-edge/libp2p/protocols/noise";
 * const mod = await importNodeCrypto();
 * console.log(mod !== undefined);
 * ```
 */
export function importNodeCrypto(): Promise<NodeCryptoModule | undefined> {
  const proc = (globalThis as {
    process?: { getBuiltinModule?: (name: string) => unknown };
  }).process;
  let mod: unknown;
  try {
    mod = typeof proc?.getBuiltinModule === "function"
      ? proc.getBuiltinModule("node:crypto")
      : undefined;
  } catch {
    mod = undefined;
  }
  const usable = typeof mod === "object" && mod !== null &&
    typeof (mod as { createHash?: unknown }).createHash === "function";
  return Promise.resolve(usable ? mod as NodeCryptoModule : undefined);
}

let defaultProvider: Promise<NoiseCrypto> | undefined;

/**
 * The fastest provider this runtime offers (measured in bench/noise_cipher_bench.ts), found by
 * feature detection with every candidate probed against @noble first:
 * - every primitive node:crypto has natively (Deno: ChaCha20-Poly1305 about 5-8x, X25519 about
 *   6x faster than @noble; Bun: X25519 about 4x, SHA-256 4-7x, no ChaCha20-Poly1305), except
 *   SHA-256 on Deno, which is no faster than @noble there and costs memory per connection;
 * - where node:crypto has ChaCha20-Poly1305 (Deno), the WebAssembly one from crypto_wasm.ts
 *   still takes messages under 4 KiB, where native's fixed cost per message dominates
 *   (crypto_hybrid.ts);
 * - where node:crypto has no ChaCha20-Poly1305 (Bun, browsers), the WebAssembly one when
 *   WebAssembly is there and it matches @noble;
 * - @noble for the rest.
 * Resolved once and cached.
 *
 * @example
 * ```ts
 * import { defaultNoiseCrypto } from "@p2p-edge/libp2p/protocols/noise";
 * console.log((await defaultNoiseCrypto()).name);
 * ```
 */
export function defaultNoiseCrypto(): Promise<NoiseCrypto> {
  defaultProvider ??= (async () => {
    const mod = await importNodeCrypto();
    const detected = mod === undefined ? undefined : detectNativeFeatures(mod);
    // Deno's node:crypto hashes a handshake-sized input no faster than @noble (3.6 µs each for
    // SHA-256 of 96 bytes, 6.3 µs for HMAC, measured on Deno 2.9.6), and each call makes native
    // objects whose short-lived allocations stay behind as resident memory: a server with 1,000
    // idle Noise connections held ~3 KiB more per connection with it. Bun's is 4-7x faster than
    // @noble, so it stays there.
    const features = detected !== undefined && isDeno() ? { ...detected, sha256: false } : detected;
    const anyNative = features !== undefined &&
      (features.chacha20poly1305 || features.x25519 || features.sha256);
    const base = mod !== undefined && features !== undefined && anyNative
      ? createNodeCrypto(mod, features)
      : nobleCrypto;
    const wasm = createWasmCrypto(base);
    if (features?.chacha20poly1305) {
      return wasm === undefined ? base : createHybridCrypto(base, wasm);
    }
    return wasm ?? base;
  })();
  return defaultProvider;
}
