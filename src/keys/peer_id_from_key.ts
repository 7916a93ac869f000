/**
 * Peer ids from keys (libp2p/specs peer-ids/peer-ids.md §Peer Ids): the multihash of the
 * protobuf-encoded public key, identity when that encoding is at most 42 bytes, sha2-256
 * otherwise. Synchronous (SHA-256 from @noble/hashes).
 *
 * @module
 */

import { sha256 } from "@noble/hashes/sha2.js";
import { createMultihash, IDENTITY_CODE, SHA2_256_CODE } from "../multiformats/multihash.ts";
import { MAX_INLINE_KEY_LENGTH, PeerId } from "../peer_id.ts";
import { publicKeyToProtobuf } from "./protobuf.ts";
import type { PrivateKey, PublicKey } from "./types.ts";

/**
 * The peer id of a public key.
 *
 * @example
 * ```ts
 * import { generateKeyPair, peerIdFromPublicKey } from "@p2p-edge/libp2p";
 * const key = await generateKeyPair("Ed25519");
 * peerIdFromPublicKey(key.publicKey).toString(); // "12D3KooW..."
 * ```
 */
export function peerIdFromPublicKey(key: PublicKey): PeerId {
  const encoded = publicKeyToProtobuf(key);
  const multihash = encoded.byteLength <= MAX_INLINE_KEY_LENGTH
    ? createMultihash(IDENTITY_CODE, encoded)
    : createMultihash(SHA2_256_CODE, sha256(encoded));
  return new PeerId(multihash, key);
}

/**
 * The peer id of a private key's public key.
 *
 * @example
 * ```ts
 * import { generateKeyPair, peerIdFromPrivateKey } from "@p2p-edge/libp2p";
 * const key = await generateKeyPair("secp256k1");
 * peerIdFromPrivateKey(key).toString(); // "16Uiu2..."
 * ```
 */
export function peerIdFromPrivateKey(key: PrivateKey): PeerId {
  return peerIdFromPublicKey(key.publicKey);
}
