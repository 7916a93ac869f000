/**
 * Turning a received identify message into what the peer store keeps: checks that bind the
 * message to the connection's peer (HARDENING rule 6), signed peer record verification and its
 * sequence number rule (RFC 0003), and the caps. No streams, no timers: only the signature
 * check is asynchronous.
 *
 * @module
 */

import { PeerIdMismatchError } from "../../src/errors.ts";
import { peerIdFromPublicKey, publicKeyFromProtobuf } from "../../src/keys/mod.ts";
import type { PublicKey } from "../../src/keys/types.ts";
import { CODE_P2P, Multiaddr } from "../../src/multiaddr/mod.ts";
import type { PeerUpdate } from "../../src/node/peer_store.ts";
import type { PeerId } from "../../src/peer_id.ts";
import { openPeerRecord } from "../../src/record/mod.ts";
import type { IdentifyMessage } from "./codec.ts";
import { MAX_VERSION_LENGTH } from "./constants.ts";

/** What a peer told us about itself, checked. */
export interface IdentifyResult {
  /** The peer (the connection's remote peer). */
  peerId: PeerId;
  /** Its public key, when sent (it matched the peer id). */
  publicKey?: PublicKey;
  /** Listen addresses it sent (valid ones, without a trailing `/p2p/<its id>`). */
  listenAddrs: Multiaddr[];
  /** Protocols it supports. */
  protocols: string[];
  /** How it sees our side of the connection. */
  observedAddr?: Multiaddr;
  /** identify protocolVersion (clipped to {@link MAX_VERSION_LENGTH}). */
  protocolVersion?: string;
  /** identify agentVersion (clipped to {@link MAX_VERSION_LENGTH}). */
  agentVersion?: string;
  /** The signed peer record it sent, verified; `accepted` is false when its seq was not newer. */
  signedPeerRecord?: { seq: bigint; addresses: Multiaddr[]; accepted: boolean };
}

/** A checked message and the peer store update it implies. */
export interface ConsumedIdentify {
  /** What the peer said. */
  result: IdentifyResult;
  /** Fields to patch into the peer store (addresses replace the stored ones when present). */
  update: PeerUpdate;
}

/**
 * Check `message` received from `remotePeer` and derive the peer store update.
 *
 * - publicKey must decode and derive `remotePeer`, else PeerIdMismatchError (or the key
 *   decoder's DecodeError / UnsupportedKeyTypeError);
 * - signedPeerRecord must be signed by `remotePeer` and name it (openPeerRecord: else
 *   PeerIdMismatchError / InvalidSignatureError / DecodeError). One whose seq is not above
 *   `storedSeq` is ignored (`accepted: false`) and its addresses are not used;
 * - addresses: an accepted record's replace the stored ones from records and identify
 *   (`addressSource: "peer-record"`); without a record, the listen addresses replace those
 *   from identify (`"identify"`), unless a certified record was stored before (those are
 *   kept); an empty list changes nothing (a push may carry partial information);
 * - protocols: set when the message lists any (an empty list is "no information").
 *
 * @example
 * ```ts
 * import { consumeIdentify } from "@p2p-edge/libp2p/protocols/identify";
 * import { generateKeyPair, peerIdFromPrivateKey } from "@p2p-edge/libp2p";
 * const peer = peerIdFromPrivateKey(await generateKeyPair("Ed25519"));
 * const { update } = await consumeIdentify({ listenAddrs: [], protocols: ["/x"] }, peer);
 * update.protocols; // ["/x"]
 * ```
 */
export async function consumeIdentify(
  message: IdentifyMessage,
  remotePeer: PeerId,
  storedSeq?: bigint,
): Promise<ConsumedIdentify> {
  let publicKey: PublicKey | undefined;
  if (message.publicKey !== undefined) {
    publicKey = publicKeyFromProtobuf(message.publicKey);
    // The key the connection already proved: keep that one object (one key per peer in memory).
    if (remotePeer.publicKey?.equals(publicKey) === true) publicKey = remotePeer.publicKey;
    else {
      const derived = peerIdFromPublicKey(publicKey);
      if (!derived.equals(remotePeer)) {
        throw new PeerIdMismatchError(
          `identify public key is of ${derived.toString()}, the connection is to ${remotePeer.toString()}`,
        );
      }
    }
  }
  const listenAddrs = cleanAddrs(message.listenAddrs.map(parseAddr), remotePeer);
  const observedAddr = message.observedAddr === undefined
    ? undefined
    : parseAddr(message.observedAddr);

  let signedPeerRecord: IdentifyResult["signedPeerRecord"];
  if (message.signedPeerRecord !== undefined) {
    const { record } = await openPeerRecord(message.signedPeerRecord, remotePeer);
    const accepted = storedSeq === undefined || record.seq > storedSeq;
    signedPeerRecord = {
      seq: record.seq,
      addresses: cleanAddrs(record.addresses, remotePeer),
      accepted,
    };
  }

  const update: PeerUpdate = {};
  if (publicKey !== undefined) update.publicKey = publicKey;
  if (message.protocols.length > 0) update.protocols = message.protocols;
  const agentVersion = clip(message.agentVersion);
  const protocolVersion = clip(message.protocolVersion);
  if (agentVersion !== undefined) update.agentVersion = agentVersion;
  if (protocolVersion !== undefined) update.protocolVersion = protocolVersion;
  if (signedPeerRecord !== undefined) {
    if (signedPeerRecord.accepted) {
      update.peerRecordSeq = signedPeerRecord.seq;
      update.addresses = signedPeerRecord.addresses;
      update.addressSource = "peer-record";
    }
  } else if (storedSeq === undefined && listenAddrs.length > 0) {
    update.addresses = listenAddrs;
    update.addressSource = "identify";
  }

  return {
    result: {
      peerId: remotePeer,
      publicKey,
      listenAddrs,
      protocols: message.protocols,
      observedAddr,
      protocolVersion,
      agentVersion,
      signedPeerRecord,
    },
    update,
  };
}

function parseAddr(bytes: Uint8Array): Multiaddr | undefined {
  if (bytes.byteLength === 0) return undefined;
  try {
    return Multiaddr.fromBytes(bytes);
  } catch {
    return undefined; // one malformed address does not spoil the rest
  }
}

/**
 * Drop invalid addresses; strip a trailing `/p2p/<peer>`; drop addresses that end in another
 * peer's id (they are not this peer's).
 */
function cleanAddrs(addrs: readonly (Multiaddr | undefined)[], peer: PeerId): Multiaddr[] {
  const out: Multiaddr[] = [];
  const id = peer.toString();
  for (const a of addrs) {
    if (a === undefined) continue;
    const codes = a.protoCodes();
    if (codes[codes.length - 1] === CODE_P2P) {
      if (a.getPeerId() !== id) continue;
      const bare = a.decapsulateCode(CODE_P2P);
      if (bare.bytes.byteLength > 0) out.push(bare);
      continue;
    }
    out.push(a);
  }
  return out;
}

function clip(text: string | undefined): string | undefined {
  return text === undefined ? undefined : text.slice(0, MAX_VERSION_LENGTH);
}
