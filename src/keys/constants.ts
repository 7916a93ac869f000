/**
 * Limits and constants of the key encodings (libp2p/specs peer-ids/peer-ids.md, go-libp2p
 * core/crypto).
 *
 * @module
 */

/**
 * Largest `Data` field accepted in a key protobuf. An 8192-bit RSA PKCS#1 private key is about
 * 4.7 KiB; anything above this is refused with LimitExceededError before it is parsed.
 */
export const MAX_KEY_DATA_BYTES = 8192;

/** Largest whole key protobuf accepted (the Data limit plus the two field headers). */
export const MAX_KEY_PROTOBUF_BYTES: number = MAX_KEY_DATA_BYTES + 16;

/** Smallest RSA modulus accepted, in bits (go-libp2p `MinRsaKeyBits`). */
export const MIN_RSA_BITS = 2048;

/** Largest RSA modulus accepted, in bits (go-libp2p `maxRsaKeyBits`). */
export const MAX_RSA_BITS = 8192;

/** RSA modulus size used by generateKeyPair("RSA") when none is given. */
export const DEFAULT_RSA_BITS = 2048;

/** Ed25519 public key length (RFC 8032). */
export const ED25519_PUBLIC_KEY_BYTES = 32;
/** Ed25519 private key `Data` length: seed || public key. */
export const ED25519_PRIVATE_KEY_BYTES = 64;
/** Legacy Ed25519 private key `Data` length: seed || public key || public key. */
export const ED25519_LEGACY_PRIVATE_KEY_BYTES = 96;
/** Ed25519 signature length. */
export const ED25519_SIGNATURE_BYTES = 64;

/** secp256k1 compressed public key length. */
export const SECP256K1_PUBLIC_KEY_BYTES = 33;
/** secp256k1 uncompressed public key length (accepted on decode, like go-libp2p). */
export const SECP256K1_UNCOMPRESSED_PUBLIC_KEY_BYTES = 65;
/** secp256k1 private key length. */
export const SECP256K1_PRIVATE_KEY_BYTES = 32;

/** P-256 field/scalar size in bytes. */
export const P256_BYTES = 32;

/** Contents of OID 1.2.840.113549.1.1.1 rsaEncryption. */
export const OID_RSA_ENCRYPTION: Uint8Array = new Uint8Array([
  0x2a,
  0x86,
  0x48,
  0x86,
  0xf7,
  0x0d,
  0x01,
  0x01,
  0x01,
]);
/** Contents of OID 1.2.840.10045.2.1 id-ecPublicKey. */
export const OID_EC_PUBLIC_KEY: Uint8Array = new Uint8Array([
  0x2a,
  0x86,
  0x48,
  0xce,
  0x3d,
  0x02,
  0x01,
]);
/** Contents of OID 1.2.840.10045.3.1.7 prime256v1 (P-256). */
export const OID_P256: Uint8Array = new Uint8Array([
  0x2a,
  0x86,
  0x48,
  0xce,
  0x3d,
  0x03,
  0x01,
  0x07,
]);
