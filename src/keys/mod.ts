/**
 * Keys and peer-id derivation (libp2p/specs peer-ids/peer-ids.md): Ed25519, secp256k1,
 * ECDSA P-256 and RSA, their protobuf encoding, signing and verification.
 *
 * Importing this module (or src/keys/protobuf.ts) registers the decoder that lets
 * {@link PeerId} expose keys inlined in identity-multihash peer ids.
 *
 * @example
 * ```ts
 * import { generateKeyPair, peerIdFromPublicKey, publicKeyFromProtobuf, publicKeyToProtobuf }
 *   from "@p2p-edge/libp2p";
 * const key = await generateKeyPair("Ed25519");
 * const bytes = publicKeyToProtobuf(key.publicKey);
 * publicKeyFromProtobuf(bytes).equals(key.publicKey); // true
 * peerIdFromPublicKey(key.publicKey).toString(); // "12D3KooW..."
 * ```
 *
 * @module
 */

export type { KeyType, PrivateKey, PublicKey } from "./types.ts";
export { KEY_TYPE_CODES } from "./types.ts";
export {
  DEFAULT_RSA_BITS,
  MAX_KEY_DATA_BYTES,
  MAX_KEY_PROTOBUF_BYTES,
  MAX_RSA_BITS,
  MIN_RSA_BITS,
} from "./constants.ts";
export {
  generateKeyPair,
  generateKeyPairFromSeed,
  keyTypeFromCode,
  privateKeyFromRaw,
  publicKeyFromRaw,
} from "./factory.ts";
export {
  privateKeyFromProtobuf,
  privateKeyToProtobuf,
  publicKeyFromProtobuf,
  publicKeyToProtobuf,
} from "./protobuf.ts";
export { peerIdFromPrivateKey, peerIdFromPublicKey } from "./peer_id_from_key.ts";
export { PeerId, peerIdFromBytes, peerIdFromString } from "../peer_id.ts";
// Types that PeerId exposes, so that this module is a complete documentation entry point.
export type { Multihash } from "../multiformats/multihash.ts";
export type { CID } from "../multiformats/cid.ts";
export type { MultibaseCodec } from "../multiformats/multibase.ts";
export { Ed25519PrivateKey, Ed25519PublicKey } from "./ed25519.ts";
export { Secp256k1PrivateKey, Secp256k1PublicKey } from "./secp256k1.ts";
export { EcdsaPrivateKey, EcdsaPublicKey } from "./ecdsa.ts";
export { RsaPrivateKey, RsaPublicKey } from "./rsa.ts";
