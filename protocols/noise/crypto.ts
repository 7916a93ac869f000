/**
 * The cryptographic primitives of `Noise_XX_25519_ChaChaPoly_SHA256` (Noise §12: 25519,
 * ChaChaPoly, SHA256) behind one small synchronous interface, with a pure-JS implementation
 * (@noble) that runs everywhere. Faster native implementations live in crypto_native.ts and are
 * picked by feature detection; every implementation passes the same vectors.
 *
 * @module
 */

import { chacha20poly1305 } from "@noble/ciphers/chacha.js";
import { x25519 } from "@noble/curves/ed25519.js";
import { hmac } from "@noble/hashes/hmac.js";
import { sha256 } from "@noble/hashes/sha2.js";
import { randomBytes } from "../../src/bytes.ts";
import { DH_LENGTH, TAG_LENGTH } from "./constants.ts";

/** An X25519 key pair (raw 32-byte keys, RFC 7748 §5 encoding). */
export interface X25519KeyPair {
  /** 32-byte public key. */
  readonly publicKey: Uint8Array;
  /** 32-byte private key (scalar before clamping). */
  readonly privateKey: Uint8Array;
}

/**
 * The primitives Noise needs. Every method is synchronous so that the handshake state machine
 * stays sans-IO and synchronous.
 *
 * @example
 * ```ts
 * import { nobleCrypto } from "@p2p-edge/libp2p/protocols/noise";
 * const kp = nobleCrypto.generateX25519KeyPair();
 * console.log(kp.publicKey.length); // 32
 * ```
 */
export interface NoiseCrypto {
  /** Short description of the implementation, e.g. "noble" or "node:crypto". */
  readonly name: string;
  /** A fresh random key pair (Noise GENERATE_KEYPAIR). */
  generateX25519KeyPair(): X25519KeyPair;
  /** The public key of a 32-byte private key. */
  x25519PublicKey(privateKey: Uint8Array): Uint8Array;
  /**
   * Noise DH(): X25519 of our private key and their public key. Throws on an all-zero result
   * (a low-order remote point); callers turn that into a HandshakeError.
   */
  x25519(privateKey: Uint8Array, publicKey: Uint8Array): Uint8Array;
  /** SHA-256. */
  sha256(data: Uint8Array): Uint8Array;
  /** HMAC-SHA-256. */
  hmacSha256(key: Uint8Array, data: Uint8Array): Uint8Array;
  /**
   * ChaCha20-Poly1305 (RFC 8439) seal: returns ciphertext || 16-byte tag. When `output` is
   * given it must be exactly `plaintext.length + 16` bytes long; it may overlap `plaintext` at
   * the same offset (in-place encryption).
   */
  encrypt(
    key: Uint8Array,
    nonce: Uint8Array,
    ad: Uint8Array,
    plaintext: Uint8Array,
    output?: Uint8Array,
  ): Uint8Array;
  /** ChaCha20-Poly1305 open: the plaintext, or `undefined` when authentication fails. */
  decrypt(
    key: Uint8Array,
    nonce: Uint8Array,
    ad: Uint8Array,
    ciphertext: Uint8Array,
  ): Uint8Array | undefined;
}

const ONE = new Uint8Array([1]);

/**
 * Noise §4.3 HKDF with two outputs: temp = HMAC(ck, ikm); out1 = HMAC(temp, 0x01);
 * out2 = HMAC(temp, out1 || 0x02).
 *
 * @example
 * ```ts
 * import { hkdf2, nobleCrypto } from "@p2p-edge/libp2p/protocols/noise";
 * const [ck, k] = hkdf2(nobleCrypto, new Uint8Array(32), new Uint8Array(32));
 * ```
 */
export function hkdf2(
  c: NoiseCrypto,
  chainingKey: Uint8Array,
  inputKeyMaterial: Uint8Array,
): [Uint8Array, Uint8Array] {
  const temp = c.hmacSha256(chainingKey, inputKeyMaterial);
  const out1 = c.hmacSha256(temp, ONE);
  const in2 = new Uint8Array(out1.byteLength + 1);
  in2.set(out1);
  in2[out1.byteLength] = 2;
  const out2 = c.hmacSha256(temp, in2);
  temp.fill(0);
  return [out1, out2];
}

/**
 * True when every byte is zero (constant time over the length): the X25519 output for a
 * low-order point, which Noise §12.1 allows rejecting and which we reject.
 *
 * @example
 * ```ts
 * import { isAllZero } from "@p2p-edge/libp2p/protocols/noise";
 * isAllZero(new Uint8Array(32)); // true
 * ```
 */
export function isAllZero(bytes: Uint8Array): boolean {
  let acc = 0;
  for (let i = 0; i < bytes.byteLength; i++) acc |= bytes[i];
  return acc === 0;
}

function checkKey(bytes: Uint8Array, what: string): void {
  if (!(bytes instanceof Uint8Array) || bytes.byteLength !== DH_LENGTH) {
    throw new TypeError(`${what} must be a 32-byte Uint8Array`);
  }
}

/**
 * Pure-JS implementation over @noble/ciphers, @noble/curves and @noble/hashes.
 *
 * @example
 * ```ts
 * import { nobleCrypto } from "@p2p-edge/libp2p/protocols/noise";
 * const digest = nobleCrypto.sha256(new Uint8Array([1, 2, 3]));
 * ```
 */
export const nobleCrypto: NoiseCrypto = {
  name: "noble",
  generateX25519KeyPair(): X25519KeyPair {
    const privateKey = randomBytes(DH_LENGTH);
    return { privateKey, publicKey: x25519.getPublicKey(privateKey) };
  },
  x25519PublicKey(privateKey: Uint8Array): Uint8Array {
    checkKey(privateKey, "X25519 private key");
    return x25519.getPublicKey(privateKey);
  },
  x25519(privateKey: Uint8Array, publicKey: Uint8Array): Uint8Array {
    checkKey(privateKey, "X25519 private key");
    checkKey(publicKey, "X25519 public key");
    // noble rejects the low-order inputs before the ladder; both that and the all-zero check
    // become RangeError so every provider reports a low-order point the same way.
    let shared: Uint8Array;
    try {
      shared = x25519.scalarMult(privateKey, publicKey);
    } catch (cause) {
      throw new RangeError("X25519 failed (low-order or invalid point)", { cause });
    }
    if (isAllZero(shared)) throw new RangeError("X25519 produced the all-zero shared secret");
    return shared;
  },
  sha256(data: Uint8Array): Uint8Array {
    return sha256(data);
  },
  hmacSha256(key: Uint8Array, data: Uint8Array): Uint8Array {
    return hmac(sha256, key, data);
  },
  encrypt(
    key: Uint8Array,
    nonce: Uint8Array,
    ad: Uint8Array,
    plaintext: Uint8Array,
    output?: Uint8Array,
  ): Uint8Array {
    return chacha20poly1305(key, nonce, ad).encrypt(plaintext, output);
  },
  decrypt(
    key: Uint8Array,
    nonce: Uint8Array,
    ad: Uint8Array,
    ciphertext: Uint8Array,
  ): Uint8Array | undefined {
    if (ciphertext.byteLength < TAG_LENGTH) return undefined;
    try {
      return chacha20poly1305(key, nonce, ad).decrypt(ciphertext);
    } catch {
      return undefined;
    }
  },
};
