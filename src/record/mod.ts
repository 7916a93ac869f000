/**
 * Signed envelopes (RFC 0002) and peer records (RFC 0003).
 *
 * @example
 * ```ts
 * import { generateKeyPair, peerIdFromPrivateKey } from "@p2p-edge/libp2p";
 * import { multiaddr } from "@p2p-edge/libp2p/multiaddr";
 * import { openPeerRecord, sealPeerRecord } from "@p2p-edge/libp2p";
 * const key = await generateKeyPair("Ed25519");
 * const envelope = await sealPeerRecord(key, [multiaddr("/ip4/192.0.2.1/tcp/4001")]);
 * const { record } = await openPeerRecord(envelope.encode(), peerIdFromPrivateKey(key));
 * record.seq; // a bigint
 * ```
 *
 * @module
 */

export {
  LEGACY_ROUTING_STATE_DOMAIN,
  LEGACY_ROUTING_STATE_PAYLOAD_TYPE,
  MAX_ENVELOPE_BYTES,
  MAX_PEER_RECORD_ADDRESSES,
  PEER_RECORD_DOMAIN,
  PEER_RECORD_PAYLOAD_TYPE,
} from "./constants.ts";
export {
  type EnvelopeRecord,
  envelopeSigningBytes,
  type OpenEnvelopeOptions,
  SignedEnvelope,
  type SignedEnvelopeInit,
} from "./envelope.ts";
export {
  nextPeerRecordSeq,
  type OpenedPeerRecord,
  openPeerRecord,
  PeerRecord,
  type PeerRecordInit,
  sealPeerRecord,
  type SealPeerRecordOptions,
} from "./peer_record.ts";
