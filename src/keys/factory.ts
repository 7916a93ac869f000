/**
 * Building keys from their type-specific bytes, and generating new ones.
 *
 * @module
 */

import { DecodeError, Libp2pError, UnsupportedKeyTypeError } from "../errors.ts";
import { DEFAULT_RSA_BITS } from "./constants.ts";
import { EcdsaPrivateKey, EcdsaPublicKey, generateEcdsa } from "./ecdsa.ts";
import { Ed25519PrivateKey, Ed25519PublicKey, generateEd25519 } from "./ed25519.ts";
import { generateRsa, RsaPrivateKey, RsaPublicKey } from "./rsa.ts";
import { generateSecp256k1, Secp256k1PrivateKey, Secp256k1PublicKey } from "./secp256k1.ts";
import { KEY_TYPE_CODES, type KeyType, type PrivateKey, type PublicKey } from "./types.ts";

/**
 * The key type of a protobuf `KeyType` wire number; UnsupportedKeyTypeError when unknown.
 *
 * @example
 * ```ts
 * import { keyTypeFromCode } from "@p2p-edge/libp2p";
 * keyTypeFromCode(1); // "Ed25519"
 * ```
 */
export function keyTypeFromCode(code: number): KeyType {
  switch (code) {
    case KEY_TYPE_CODES.RSA:
      return "RSA";
    case KEY_TYPE_CODES.Ed25519:
      return "Ed25519";
    case KEY_TYPE_CODES.secp256k1:
      return "secp256k1";
    case KEY_TYPE_CODES.ECDSA:
      return "ECDSA";
  }
  throw new UnsupportedKeyTypeError(`unsupported key type ${code}`);
}

/** Run a decoder; anything that is not already a library error becomes a DecodeError. */
function guard<T>(what: string, decode: () => T): T {
  try {
    return decode();
  } catch (cause) {
    if (cause instanceof Libp2pError) throw cause;
    throw new DecodeError(`invalid ${what}`, { cause });
  }
}

/**
 * A public key from its type and protobuf `Data` bytes (Ed25519: 32 bytes; secp256k1: 33 or 65;
 * ECDSA and RSA: DER SubjectPublicKeyInfo). Synchronous. Throws DecodeError,
 * UnsupportedKeyTypeError, or LimitExceededError (RSA size).
 *
 * @example
 * ```ts
 * import { publicKeyFromRaw } from "@p2p-edge/libp2p";
 * const key = publicKeyFromRaw("Ed25519", new Uint8Array(32));
 * key.type; // "Ed25519"
 * ```
 */
export function publicKeyFromRaw(type: KeyType, data: Uint8Array): PublicKey {
  return guard(`${type} public key`, () => {
    switch (type) {
      case "Ed25519":
        return new Ed25519PublicKey(data);
      case "secp256k1":
        return new Secp256k1PublicKey(data);
      case "ECDSA":
        return new EcdsaPublicKey(data);
      case "RSA":
        return new RsaPublicKey(data);
    }
    throw new UnsupportedKeyTypeError(`unsupported key type ${String(type)}`);
  });
}

/**
 * A private key from its type and protobuf `Data` bytes (Ed25519: seed || public; secp256k1:
 * 32 bytes; ECDSA: DER SEC1 ECPrivateKey; RSA: DER PKCS#1). Synchronous: the WebCrypto import
 * that ECDSA and RSA signing need happens on the first `sign`. Throws DecodeError,
 * UnsupportedKeyTypeError, or LimitExceededError (RSA size).
 *
 * @example
 * ```ts
 * import { generateKeyPair, privateKeyFromRaw } from "@p2p-edge/libp2p";
 * const key = await generateKeyPair("secp256k1");
 * privateKeyFromRaw("secp256k1", key.raw).equals(key); // true
 * ```
 */
export function privateKeyFromRaw(type: KeyType, data: Uint8Array): PrivateKey {
  return guard(`${type} private key`, () => {
    switch (type) {
      case "Ed25519":
        return new Ed25519PrivateKey(data);
      case "secp256k1":
        return new Secp256k1PrivateKey(data);
      case "ECDSA":
        return new EcdsaPrivateKey(data);
      case "RSA":
        return new RsaPrivateKey(data);
    }
    throw new UnsupportedKeyTypeError(`unsupported key type ${String(type)}`);
  });
}

/**
 * Generate a new key pair. `bits` is the RSA modulus size (default 2048, allowed 2048..8192,
 * RangeError otherwise); for ECDSA it may only be 256 (P-256); other types ignore it.
 * An unknown type is UnsupportedKeyTypeError.
 *
 * @example
 * ```ts
 * import { generateKeyPair } from "@p2p-edge/libp2p";
 * const key = await generateKeyPair("Ed25519");
 * key.publicKey.raw.length; // 32
 * ```
 */
export async function generateKeyPair(
  type: "Ed25519" | "secp256k1" | "ECDSA" | "RSA",
  bits?: number,
): Promise<PrivateKey> {
  switch (type) {
    case "Ed25519":
      return generateEd25519();
    case "secp256k1":
      return generateSecp256k1();
    case "ECDSA":
      if (bits !== undefined && bits !== 256) {
        throw new RangeError(`only P-256 ECDSA keys are supported, got ${bits} bits`);
      }
      return await generateEcdsa();
    case "RSA":
      return await generateRsa(bits ?? DEFAULT_RSA_BITS);
  }
  throw new UnsupportedKeyTypeError(`unsupported key type ${String(type)}`);
}

/**
 * Deterministically build an Ed25519 key from a 32-byte seed (the RFC 8032 private key).
 * Other types are UnsupportedKeyTypeError; a seed of another length is RangeError.
 *
 * @example
 * ```ts
 * import { generateKeyPairFromSeed } from "@p2p-edge/libp2p";
 * const key = generateKeyPairFromSeed("Ed25519", new Uint8Array(32));
 * key.publicKey.raw.length; // 32
 * ```
 */
export function generateKeyPairFromSeed(type: "Ed25519", seed: Uint8Array): PrivateKey {
  if (type !== "Ed25519") {
    throw new UnsupportedKeyTypeError(`seeded generation is only defined for Ed25519`);
  }
  return Ed25519PrivateKey.fromSeed(seed);
}
