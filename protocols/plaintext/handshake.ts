/**
 * The plaintext exchange as pure functions: build our message, check the remote's ("Exchange":
 * the id must be the peer id derived from the key; a dialler also checks it is the peer it
 * dialled). No I/O, no clock: service.ts moves the bytes.
 *
 * @module
 */

import { equals } from "../../src/bytes.ts";
import { DecodeError, HandshakeError, PeerIdMismatchError } from "../../src/errors.ts";
import {
  type PeerId,
  peerIdFromPublicKey,
  type PrivateKey,
  type PublicKey,
  publicKeyFromProtobuf,
  publicKeyToProtobuf,
} from "../../src/keys/mod.ts";
import { decodeExchange, encodeExchange } from "./codec.ts";

/** The remote identity a valid Exchange proves (as far as plaintext proves anything). */
export interface RemoteIdentity {
  /** The remote's peer id. */
  peerId: PeerId;
  /** The remote's public key. */
  publicKey: PublicKey;
}

/**
 * Our Exchange message for `privateKey`.
 *
 * @example
 * ```ts
 * import { generateKeyPair } from "@p2p-edge/libp2p";
 * import { createExchange } from "@p2p-edge/libp2p/protocols/plaintext";
 * const bytes = createExchange(await generateKeyPair("Ed25519")); // 78 bytes
 * ```
 */
export function createExchange(privateKey: PrivateKey): Uint8Array {
  const publicKey = privateKey.publicKey;
  return encodeExchange({
    id: peerIdFromPublicKey(publicKey).toBytes(),
    pubkey: publicKeyToProtobuf(publicKey),
  });
}

/**
 * Check a received Exchange. Throws HandshakeError when it is malformed, lacks a field, or its
 * id is not the key's peer id; PeerIdMismatchError when `expected` is set and differs.
 *
 * @example
 * ```ts
 * import { generateKeyPair } from "@p2p-edge/libp2p";
 * import { createExchange, verifyExchange } from "@p2p-edge/libp2p/protocols/plaintext";
 * const remote = verifyExchange(createExchange(await generateKeyPair("Ed25519")));
 * remote.peerId.toString(); // "12D3KooW..."
 * ```
 */
export function verifyExchange(bytes: Uint8Array, expected?: PeerId): RemoteIdentity {
  let peerId: PeerId;
  let publicKey: PublicKey;
  try {
    const exchange = decodeExchange(bytes);
    if (exchange.id === undefined) throw new DecodeError("Exchange has no id");
    if (exchange.pubkey === undefined) throw new DecodeError("Exchange has no pubkey");
    publicKey = publicKeyFromProtobuf(exchange.pubkey);
    peerId = peerIdFromPublicKey(publicKey);
    if (!equals(peerId.toBytes(), exchange.id)) {
      throw new HandshakeError("plaintext Exchange: the id is not the peer id of the pubkey");
    }
  } catch (cause) {
    if (cause instanceof HandshakeError) throw cause;
    const message = cause instanceof Error ? cause.message : String(cause);
    throw new HandshakeError(`invalid plaintext Exchange: ${message}`, { cause });
  }
  if (expected !== undefined && !expected.equals(peerId)) {
    throw new PeerIdMismatchError(
      `dialled ${expected.toString()} but the remote presented ${peerId.toString()}`,
    );
  }
  return { peerId, publicKey };
}
