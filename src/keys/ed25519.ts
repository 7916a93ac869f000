/**
 * Ed25519 keys (libp2p/specs peer-ids/peer-ids.md "Ed25519"; signatures per RFC 8032 §5.1).
 *
 * Public `Data` is the 32-byte key; private `Data` is seed || public key (64 bytes), and the
 * legacy 96-byte form seed || public || public is accepted on decode when both copies match.
 *
 * Two interchangeable backends do the curve work: WebCrypto (`crypto.subtle` "Ed25519", native
 * in Deno and Bun) and @noble/curves (pure JS, synchronous). Both are tested against the RFC 8032
 * vectors. The default is picked per runtime from bench/keys_bench.ts measurements (see
 * {@link defaultEd25519Backend}); WebCrypto falls back to noble for good if the runtime turns out
 * not to support Ed25519.
 *
 * @module
 */

import { ed25519 } from "@noble/curves/ed25519.js";
import { compactCopy, equals as bytesEqual } from "../bytes.ts";
import { DecodeError } from "../errors.ts";
import {
  ED25519_LEGACY_PRIVATE_KEY_BYTES,
  ED25519_PRIVATE_KEY_BYTES,
  ED25519_PUBLIC_KEY_BYTES,
  ED25519_SIGNATURE_BYTES,
} from "./constants.ts";
import type { PrivateKey, PublicKey } from "./types.ts";

/** Name of an Ed25519 backend. */
export type Ed25519BackendName = "webcrypto" | "noble";

/** PKCS#8 header of an Ed25519 private key (RFC 8410 §7): the 32-byte seed follows. */
const PKCS8_ED25519_PREFIX = new Uint8Array([
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
  0x70,
  0x04,
  0x22,
  0x04,
  0x20,
]);

/**
 * The backend chosen for this runtime. Measured with bench/keys_bench.ts (numbers in the keys
 * report): WebCrypto is several times faster than noble for both sign and verify on Deno and on
 * Bun, so both use it; other runtimes use it when `crypto.subtle` exists.
 *
 * @example
 * ```ts
 * import { defaultEd25519Backend } from "./ed25519.ts";
 * console.log(defaultEd25519Backend()); // "webcrypto" on Deno and Bun
 * ```
 */
export function defaultEd25519Backend(): Ed25519BackendName {
  return typeof crypto !== "undefined" && typeof crypto.subtle?.importKey === "function"
    ? "webcrypto"
    : "noble";
}

let backend: Ed25519BackendName = defaultEd25519Backend();

/**
 * Force a backend (tests and benchmarks); "auto" restores the runtime default.
 *
 * @example
 * ```ts
 * import { setEd25519Backend } from "./ed25519.ts";
 * setEd25519Backend("noble");
 * setEd25519Backend("auto");
 * ```
 */
export function setEd25519Backend(name: Ed25519BackendName | "auto"): void {
  backend = name === "auto" ? defaultEd25519Backend() : name;
}

/**
 * The backend in use.
 *
 * @example
 * ```ts
 * import { ed25519Backend } from "./ed25519.ts";
 * ed25519Backend(); // "webcrypto" | "noble"
 * ```
 */
export function ed25519Backend(): Ed25519BackendName {
  return backend;
}

function isNotSupported(err: unknown): boolean {
  return err instanceof Error && err.name === "NotSupportedError";
}

/**
 * Import a 32-byte public key into WebCrypto.
 *
 * @example
 * ```ts
 * import { webCryptoEd25519PublicKey } from "./ed25519.ts";
 * await webCryptoEd25519PublicKey(new Uint8Array(32).fill(1)).catch(() => undefined);
 * ```
 */
export function webCryptoEd25519PublicKey(raw: Uint8Array): Promise<CryptoKey> {
  return crypto.subtle.importKey("raw", raw as BufferSource, { name: "Ed25519" }, false, [
    "verify",
  ]);
}

/**
 * Import a 32-byte seed into WebCrypto (as PKCS#8, RFC 8410).
 *
 * @example
 * ```ts
 * import { webCryptoEd25519PrivateKey } from "./ed25519.ts";
 * await webCryptoEd25519PrivateKey(new Uint8Array(32));
 * ```
 */
export function webCryptoEd25519PrivateKey(seed: Uint8Array): Promise<CryptoKey> {
  const pkcs8 = new Uint8Array(PKCS8_ED25519_PREFIX.byteLength + 32);
  pkcs8.set(PKCS8_ED25519_PREFIX);
  pkcs8.set(seed, PKCS8_ED25519_PREFIX.byteLength);
  return crypto.subtle.importKey("pkcs8", pkcs8, { name: "Ed25519" }, false, ["sign"]);
}

/**
 * Sign with noble (synchronous).
 *
 * @example
 * ```ts
 * import { nobleEd25519Sign } from "./ed25519.ts";
 * nobleEd25519Sign(new Uint8Array(32), new Uint8Array([1])).length; // 64
 * ```
 */
export function nobleEd25519Sign(seed: Uint8Array, data: Uint8Array): Uint8Array {
  return ed25519.sign(data, seed);
}

/**
 * Verify with noble using the strict RFC 8032 rules (not ZIP-215), which is what go's
 * crypto/ed25519 and the WebCrypto implementations apply. Never throws.
 *
 * @example
 * ```ts
 * import { nobleEd25519Verify } from "./ed25519.ts";
 * nobleEd25519Verify(new Uint8Array(32), new Uint8Array(0), new Uint8Array(64)); // false
 * ```
 */
export function nobleEd25519Verify(
  publicKey: Uint8Array,
  data: Uint8Array,
  signature: Uint8Array,
): boolean {
  if (signature.byteLength !== ED25519_SIGNATURE_BYTES) return false;
  if (publicKey.byteLength !== ED25519_PUBLIC_KEY_BYTES) return false;
  try {
    return ed25519.verify(signature, data, publicKey, { zip215: false });
  } catch {
    return false;
  }
}

/**
 * Derive the public key of a 32-byte seed (noble, synchronous).
 *
 * @example
 * ```ts
 * import { ed25519PublicKeyFromSeed } from "./ed25519.ts";
 * ed25519PublicKeyFromSeed(new Uint8Array(32)).length; // 32
 * ```
 */
export function ed25519PublicKeyFromSeed(seed: Uint8Array): Uint8Array {
  return ed25519.getPublicKey(seed);
}

/**
 * An Ed25519 public key.
 *
 * @example
 * ```ts
 * import { Ed25519PublicKey } from "./ed25519.ts";
 * const key = new Ed25519PublicKey(new Uint8Array(32));
 * console.log(key.type); // "Ed25519"
 * ```
 */
export class Ed25519PublicKey implements PublicKey {
  /** Always "Ed25519". */
  readonly type = "Ed25519" as const;
  /** The 32-byte key. */
  readonly raw: Uint8Array;
  /** Verifications so far (WebCrypto path): the import is kept from the third on. */
  #verifies = 0;
  /** The imported key, once this key has verified often enough to be worth keeping. */
  #imported: Promise<CryptoKey> | undefined;

  /** Wrap 32 key bytes (copied). Throws DecodeError on a wrong length. */
  constructor(raw: Uint8Array) {
    if (raw.byteLength !== ED25519_PUBLIC_KEY_BYTES) {
      throw new DecodeError(`Ed25519 public key must be 32 bytes, got ${raw.byteLength}`);
    }
    this.raw = compactCopy(raw);
  }

  /** RFC 8032 verification; false (never an exception) for anything that does not verify. */
  verify(data: Uint8Array, signature: Uint8Array): Promise<boolean> | boolean {
    if (signature.byteLength !== ED25519_SIGNATURE_BYTES) return false;
    if (backend === "noble") return nobleEd25519Verify(this.raw, data, signature);
    return this.#verifyWebCrypto(data, signature);
  }

  async #verifyWebCrypto(data: Uint8Array, signature: Uint8Array): Promise<boolean> {
    try {
      // A remote peer's key verifies once or twice per connection (Noise, its peer record),
      // and a kept CryptoKey would stay for the connection's life (a CryptoKey, its key data
      // and algorithm objects, native state outside the heap): those import per call. A key
      // that verifies again and again (a pubsub author's, through the author cache in
      // protocols/pubsub/signing.ts) keeps its import from the third verification on; the
      // import was measured at more than half of each verification's cost (207 µs with it,
      // 86 µs without, bench/RESULTS.md "Gossipsub vs js-libp2p").
      this.#verifies++;
      let key: Promise<CryptoKey>;
      if (this.#imported !== undefined) key = this.#imported;
      else {
        key = webCryptoEd25519PublicKey(this.raw);
        if (this.#verifies >= 3) this.#imported = key;
      }
      return await crypto.subtle.verify(
        "Ed25519",
        await key,
        signature as BufferSource,
        data as BufferSource,
      );
    } catch (err) {
      this.#imported = undefined;
      if (isNotSupported(err)) {
        backend = "noble";
        return nobleEd25519Verify(this.raw, data, signature);
      }
      return false;
    }
  }

  /** Same type and bytes. */
  equals(other: PublicKey): boolean {
    return other?.type === this.type && bytesEqual(this.raw, other.raw);
  }
}

/**
 * An Ed25519 private key.
 *
 * @example
 * ```ts
 * import { Ed25519PrivateKey } from "./ed25519.ts";
 * const key = Ed25519PrivateKey.fromSeed(crypto.getRandomValues(new Uint8Array(32)));
 * await key.sign(new Uint8Array([1]));
 * ```
 */
export class Ed25519PrivateKey implements PrivateKey {
  /** Always "Ed25519". */
  readonly type = "Ed25519" as const;
  /** The matching public key. */
  readonly publicKey: Ed25519PublicKey;
  /** seed || public key (64 bytes). */
  readonly raw: Uint8Array;
  #cryptoKey: Promise<CryptoKey> | undefined;

  /**
   * Decode private `Data`: 64 bytes (seed || public) or legacy 96 (seed || public || public).
   * The public half must be the one the seed derives. Throws DecodeError.
   */
  constructor(data: Uint8Array) {
    if (
      data.byteLength !== ED25519_PRIVATE_KEY_BYTES &&
      data.byteLength !== ED25519_LEGACY_PRIVATE_KEY_BYTES
    ) {
      throw new DecodeError(`Ed25519 private key must be 64 bytes, got ${data.byteLength}`);
    }
    if (
      data.byteLength === ED25519_LEGACY_PRIVATE_KEY_BYTES &&
      !bytesEqual(data.subarray(32, 64), data.subarray(64, 96))
    ) {
      throw new DecodeError("legacy 96-byte Ed25519 private key has two different public keys");
    }
    const seed = data.subarray(0, 32);
    const derived = ed25519PublicKeyFromSeed(seed);
    if (!bytesEqual(derived, data.subarray(32, 64))) {
      throw new DecodeError("Ed25519 private key: public half does not match the seed");
    }
    this.raw = data.slice(0, ED25519_PRIVATE_KEY_BYTES);
    this.publicKey = new Ed25519PublicKey(derived);
  }

  /** Build a key from a 32-byte seed (RFC 8032 private key). */
  static fromSeed(seed: Uint8Array): Ed25519PrivateKey {
    if (seed.byteLength !== 32) throw new RangeError("Ed25519 seed must be 32 bytes");
    const data = new Uint8Array(ED25519_PRIVATE_KEY_BYTES);
    data.set(seed);
    data.set(ed25519PublicKeyFromSeed(seed), 32);
    return new Ed25519PrivateKey(data);
  }

  /** RFC 8032 signature (64 bytes). Synchronous on the noble backend. */
  sign(data: Uint8Array): Promise<Uint8Array> | Uint8Array {
    if (backend === "noble") return nobleEd25519Sign(this.raw.subarray(0, 32), data);
    return this.#signWebCrypto(data);
  }

  async #signWebCrypto(data: Uint8Array): Promise<Uint8Array> {
    try {
      this.#cryptoKey ??= webCryptoEd25519PrivateKey(this.raw.subarray(0, 32));
      const key = await this.#cryptoKey;
      return new Uint8Array(await crypto.subtle.sign("Ed25519", key, data as BufferSource));
    } catch (err) {
      this.#cryptoKey = undefined;
      if (isNotSupported(err)) {
        backend = "noble";
        return nobleEd25519Sign(this.raw.subarray(0, 32), data);
      }
      throw err;
    }
  }

  /** Same type and bytes. */
  equals(other: PrivateKey): boolean {
    return other?.type === this.type && bytesEqual(this.raw, other.raw);
  }
}

/**
 * A new random Ed25519 key.
 *
 * @example
 * ```ts
 * import { generateEd25519 } from "./ed25519.ts";
 * generateEd25519().publicKey.raw.length; // 32
 * ```
 */
export function generateEd25519(): Ed25519PrivateKey {
  return Ed25519PrivateKey.fromSeed(crypto.getRandomValues(new Uint8Array(32)));
}
