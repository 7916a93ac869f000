/**
 * Key interfaces shared by every key type (libp2p/specs peer-ids/peer-ids.md).
 *
 * @module
 */

/** The four key types of the libp2p key protobuf. */
export type KeyType = "RSA" | "Ed25519" | "secp256k1" | "ECDSA";

/** Wire numbers of {@link KeyType} in the `KeyType` protobuf enum. */
export const KEY_TYPE_CODES: Readonly<Record<KeyType, number>> = {
  RSA: 0,
  Ed25519: 1,
  secp256k1: 2,
  ECDSA: 3,
};

/**
 * A public key of any supported type.
 *
 * @example
 * ```ts
 * import { generateKeyPair } from "@p2p-edge/libp2p";
 * const key = await generateKeyPair("Ed25519");
 * const sig = await key.sign(new Uint8Array([1]));
 * await key.publicKey.verify(new Uint8Array([1]), sig); // true
 * ```
 */
export interface PublicKey {
  /** Key type. */
  readonly type: KeyType;
  /**
   * The type-specific key bytes carried in the protobuf `Data` field: Ed25519 32 raw bytes,
   * secp256k1 33-byte compressed point, ECDSA and RSA DER SubjectPublicKeyInfo (PKIX).
   */
  readonly raw: Uint8Array;
  /** Verify a signature made by the matching private key. Never throws for a bad signature. */
  verify(data: Uint8Array, signature: Uint8Array): Promise<boolean> | boolean;
  /** Same type and same bytes. */
  equals(other: PublicKey): boolean;
}

/**
 * A private key of any supported type.
 *
 * @example
 * ```ts
 * import { generateKeyPair } from "@p2p-edge/libp2p";
 * const key = await generateKeyPair("secp256k1");
 * console.log(key.type, key.publicKey.raw.length); // "secp256k1" 33
 * ```
 */
export interface PrivateKey {
  /** Key type. */
  readonly type: KeyType;
  /** The matching public key. */
  readonly publicKey: PublicKey;
  /**
   * The type-specific private key bytes carried in the protobuf `Data` field: Ed25519 64 bytes
   * (seed || public key), secp256k1 32 bytes, ECDSA DER (SEC1 ECPrivateKey as go-libp2p writes
   * it), RSA DER PKCS#1 RSAPrivateKey.
   */
  readonly raw: Uint8Array;
  /** Sign `data` (Ed25519 RFC 8032; secp256k1/ECDSA over SHA-256, DER; RSA PKCS#1 v1.5 SHA-256). */
  sign(data: Uint8Array): Promise<Uint8Array> | Uint8Array;
  /** Same type and same bytes. */
  equals(other: PrivateKey): boolean;
}
