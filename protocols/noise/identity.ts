/**
 * Static key authentication (libp2p/specs noise/README.md, "Static Key Authentication"): the
 * libp2p identity key signs "noise-libp2p-static-key:" || the X25519 static public key; the
 * receiver decodes the identity key, checks that signature against the static key the Noise
 * handshake delivered and derives the peer id.
 *
 * @module
 */

import { utf8Encode } from "../../src/bytes.ts";
import { HandshakeError, InvalidSignatureError } from "../../src/errors.ts";
import type { PeerId } from "../../src/peer_id.ts";
import {
  peerIdFromPublicKey,
  type PrivateKey,
  type PublicKey,
  publicKeyFromProtobuf,
  publicKeyToProtobuf,
} from "../../src/keys/mod.ts";
import { STATIC_KEY_SIGNATURE_PREFIX } from "./constants.ts";
import { decodeHandshakePayload, encodeHandshakePayload, type NoiseExtensions } from "./payload.ts";

const PREFIX = utf8Encode(STATIC_KEY_SIGNATURE_PREFIX);

/**
 * The bytes the identity key signs: "noise-libp2p-static-key:" || static public key.
 *
 * @example
 * ```ts
 * import { staticKeySignedData } from "@p2p-edge/libp2p/protocols/noise";
 * staticKeySignedData(new Uint8Array(32)).length; // 24 + 32
 * ```
 */
export function staticKeySignedData(staticPublicKey: Uint8Array): Uint8Array {
  const out = new Uint8Array(PREFIX.byteLength + staticPublicKey.byteLength);
  out.set(PREFIX);
  out.set(staticPublicKey, PREFIX.byteLength);
  return out;
}

/** What a verified handshake payload proves. */
export interface VerifiedIdentity {
  /** The remote identity key. */
  publicKey: PublicKey;
  /** Its peer id. */
  peerId: PeerId;
  /** The remote's extensions (empty lists when it sent none). */
  extensions: NoiseExtensions;
}

/**
 * Sign our static key and encode our handshake payload.
 *
 * @example
 * ```ts
 * import { generateKeyPair } from "@p2p-edge/libp2p";
 * import { createHandshakePayload } from "@p2p-edge/libp2p/protocols/noise";
 * const key = await generateKeyPair("Ed25519");
 * const payload = await createHandshakePayload(key, new Uint8Array(32), undefined);
 * ```
 */
export async function createHandshakePayload(
  privateKey: PrivateKey,
  staticPublicKey: Uint8Array,
  extensions: NoiseExtensions | undefined,
  signature?: Uint8Array,
): Promise<Uint8Array> {
  const identitySig = signature ?? await privateKey.sign(staticKeySignedData(staticPublicKey));
  return encodeHandshakePayload({
    identityKey: publicKeyToProtobuf(privateKey.publicKey),
    identitySig,
    extensions,
  });
}

/**
 * Decode a received payload, decode its identity key (size limits and key type are checked
 * before any signature math), verify the static key signature and derive the peer id. Every
 * failure is a HandshakeError with the original error as `cause`.
 *
 * @example
 * ```ts
 * import { verifyHandshakePayload } from "@p2p-edge/libp2p/protocols/noise";
 * declare const payload: Uint8Array, remoteStatic: Uint8Array;
 * const { peerId } = await verifyHandshakePayload(payload, remoteStatic);
 * ```
 */
export async function verifyHandshakePayload(
  payloadBytes: Uint8Array,
  remoteStaticKey: Uint8Array,
): Promise<VerifiedIdentity> {
  let publicKey: PublicKey;
  let identitySig: Uint8Array;
  let extensions: NoiseExtensions;
  try {
    const payload = decodeHandshakePayload(payloadBytes);
    identitySig = payload.identitySig;
    extensions = payload.extensions ?? { webtransportCerthashes: [], streamMuxers: [] };
    publicKey = publicKeyFromProtobuf(payload.identityKey);
  } catch (cause) {
    throw new HandshakeError(`invalid Noise handshake payload: ${(cause as Error).message}`, {
      cause,
    });
  }
  let valid: boolean;
  try {
    valid = await publicKey.verify(staticKeySignedData(remoteStaticKey), identitySig);
  } catch {
    // PublicKey.verify must not throw for bad signatures; treat a throw the same way.
    valid = false;
  }
  if (!valid) {
    throw new HandshakeError("Noise static key signature does not verify", {
      cause: new InvalidSignatureError(`bad identity_sig from a ${publicKey.type} key`),
    });
  }
  let peerId: PeerId;
  try {
    peerId = peerIdFromPublicKey(publicKey);
  } catch (cause) {
    throw new HandshakeError("cannot derive a peer id from the identity key", { cause });
  }
  return { publicKey, peerId, extensions };
}
