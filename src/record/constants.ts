/**
 * Wire constants and limits for signed envelopes (libp2p/specs RFC/0002-signed-envelopes.md)
 * and peer records (RFC/0003-routing-records.md), with the values go- and js-libp2p deploy.
 *
 * @module
 */

/**
 * Domain separation string of peer records (go `core/peer.PeerRecordEnvelopeDomain`, js
 * `@libp2p/peer-record`). RFC 0003 still says `libp2p-routing-state`; the deployed value is this.
 */
export const PEER_RECORD_DOMAIN = "libp2p-peer-record";

/**
 * Payload type of peer records: the two bytes 0x03 0x01, i.e. multicodec `libp2p-peer-record`
 * (0x0301) written big-endian, NOT its varint (which would be 0x81 0x06). This is what go
 * (`PeerRecordEnvelopePayloadType = []byte{0x03, 0x01}`) and js put in the envelope.
 */
export const PEER_RECORD_PAYLOAD_TYPE: Uint8Array = Uint8Array.of(0x03, 0x01);

/**
 * Domain rust-libp2p (`libp2p-core` peer_record.rs) signs its peer records with, following the
 * text of RFC 0003. Accepted when opening a peer record (read generously), never written.
 */
export const LEGACY_ROUTING_STATE_DOMAIN = "libp2p-routing-state";

/** Payload type rust-libp2p pairs with {@link LEGACY_ROUTING_STATE_DOMAIN} (UTF-8 text). */
export const LEGACY_ROUTING_STATE_PAYLOAD_TYPE: Uint8Array = new TextEncoder().encode(
  "/libp2p/routing-state-record",
);

/**
 * Largest encoded envelope accepted (64 KiB). An envelope carries a public key (RSA-8192 is
 * about 1.1 KiB), a signature (at most 1 KiB) and a payload; a peer record with 128 typical
 * addresses stays under 8 KiB, go's whole identify message limit. Checked before decoding.
 */
export const MAX_ENVELOPE_BYTES = 64 * 1024;

/**
 * Most addresses accepted in one peer record. Counted while decoding, before each address is
 * parsed; more is a LimitExceededError. Honest nodes announce a handful (go and js cap their
 * own listen addresses far below this).
 */
export const MAX_PEER_RECORD_ADDRESSES = 128;
