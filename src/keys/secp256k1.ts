/**
 * secp256k1 keys (libp2p/specs peer-ids/peer-ids.md "Secp256k1"), on @noble/curves (WebCrypto
 * has no secp256k1).
 *
 * Public `Data` is the 33-byte compressed point; the 65-byte uncompressed form is accepted on
 * decode (go-libp2p parses with decred's ParsePubKey, which takes it), as is the hybrid form
 * (0x06/0x07), and both are re-encoded compressed.
 * Private `Data` is the 32-byte scalar. Signatures: ECDSA over SHA-256(message), DER-encoded;
 * signing is deterministic (RFC 6979) with low S, so it reproduces go-libp2p's signatures byte for
 * byte. Verification accepts high S too, as go-libp2p (decred) does.
 *
 * @module
 */

import { secp256k1 } from "@noble/curves/secp256k1.js";
import { sha256 } from "@noble/hashes/sha2.js";
import { equals as bytesEqual } from "../bytes.ts";
import { DecodeError } from "../errors.ts";
import {
  SECP256K1_PRIVATE_KEY_BYTES,
  SECP256K1_PUBLIC_KEY_BYTES,
  SECP256K1_UNCOMPRESSED_PUBLIC_KEY_BYTES,
} from "./constants.ts";
import { ecdsaSignatureFromDer, ecdsaSignatureToDer } from "./der.ts";
import type { PrivateKey, PublicKey } from "./types.ts";

/**
 * A secp256k1 public key.
 *
 * @example
 * ```ts
 * import { generateSecp256k1 } from "./secp256k1.ts";
 * const key = generateSecp256k1();
 * key.publicKey.verify(new Uint8Array([1]), key.sign(new Uint8Array([1]))); // true
 * ```
 */
export class Secp256k1PublicKey implements PublicKey {
  /** Always "secp256k1". */
  readonly type = "secp256k1" as const;
  /** The 33-byte compressed point. */
  readonly raw: Uint8Array;

  /** Decode a compressed (33), uncompressed or hybrid (65) point; throws DecodeError if invalid. */
  constructor(data: Uint8Array) {
    if (
      data.byteLength !== SECP256K1_PUBLIC_KEY_BYTES &&
      data.byteLength !== SECP256K1_UNCOMPRESSED_PUBLIC_KEY_BYTES
    ) {
      throw new DecodeError(`secp256k1 public key must be 33 or 65 bytes, got ${data.byteLength}`);
    }
    // 0x02/0x03 compressed, 0x04 uncompressed, or 0x06/0x07 hybrid (ANSI X9.62 §4.3.6: the
    // uncompressed point with the parity of Y in the prefix), which decred's ParsePubKey, and so
    // go-libp2p, also accepts. A hybrid prefix must agree with Y's parity.
    const prefix = data[0];
    if (
      data.byteLength === SECP256K1_PUBLIC_KEY_BYTES ? prefix !== 2 && prefix !== 3 : prefix !== 4
    ) {
      const hybrid = data.byteLength === SECP256K1_UNCOMPRESSED_PUBLIC_KEY_BYTES &&
        (prefix === 6 || prefix === 7) && (prefix & 1) === (data[64] & 1);
      if (!hybrid) {
        throw new DecodeError(
          `secp256k1 public key has an invalid prefix 0x${prefix.toString(16)}`,
        );
      }
      data = data.slice();
      data[0] = 4;
    }
    try {
      // fromBytes checks the point is on the curve (and decompression has a root).
      this.raw = secp256k1.Point.fromBytes(data).toBytes(true);
    } catch (cause) {
      throw new DecodeError("secp256k1 public key is not a point on the curve", { cause });
    }
  }

  /** Verify a DER signature over SHA-256(data). Never throws. */
  verify(data: Uint8Array, signature: Uint8Array): boolean {
    const compact = ecdsaSignatureFromDer(signature, 32);
    if (compact === undefined) return false;
    try {
      return secp256k1.verify(compact, sha256(data), this.raw, {
        prehash: false,
        lowS: false,
        format: "compact",
      });
    } catch {
      return false;
    }
  }

  /** Same type and bytes. */
  equals(other: PublicKey): boolean {
    return other?.type === this.type && bytesEqual(this.raw, other.raw);
  }
}

/**
 * A secp256k1 private key.
 *
 * @example
 * ```ts
 * import { generateSecp256k1 } from "./secp256k1.ts";
 * generateSecp256k1().raw.length; // 32
 * ```
 */
export class Secp256k1PrivateKey implements PrivateKey {
  /** Always "secp256k1". */
  readonly type = "secp256k1" as const;
  /** The 32-byte scalar. */
  readonly raw: Uint8Array;
  /** The matching public key. */
  readonly publicKey: Secp256k1PublicKey;

  /** Decode a 32-byte scalar in [1, n-1]; throws DecodeError otherwise. */
  constructor(data: Uint8Array) {
    if (data.byteLength !== SECP256K1_PRIVATE_KEY_BYTES) {
      throw new DecodeError(`secp256k1 private key must be 32 bytes, got ${data.byteLength}`);
    }
    if (!secp256k1.utils.isValidSecretKey(data)) {
      throw new DecodeError("secp256k1 private key is out of range");
    }
    this.raw = data.slice();
    this.publicKey = new Secp256k1PublicKey(secp256k1.getPublicKey(this.raw, true));
  }

  /** DER ECDSA signature over SHA-256(data), RFC 6979 nonce, low S. */
  sign(data: Uint8Array): Uint8Array {
    const compact = secp256k1.sign(sha256(data), this.raw, {
      prehash: false,
      lowS: true,
      format: "compact",
    });
    return ecdsaSignatureToDer(compact);
  }

  /** Same type and bytes. */
  equals(other: PrivateKey): boolean {
    return other?.type === this.type && bytesEqual(this.raw, other.raw);
  }
}

/**
 * A new random secp256k1 key.
 *
 * @example
 * ```ts
 * import { generateSecp256k1 } from "./secp256k1.ts";
 * generateSecp256k1().publicKey.raw.length; // 33
 * ```
 */
export function generateSecp256k1(): Secp256k1PrivateKey {
  return new Secp256k1PrivateKey(secp256k1.utils.randomSecretKey());
}
