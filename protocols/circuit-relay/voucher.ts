/**
 * The reservation voucher (libp2p/specs `relay/circuit-v2.md` §Reservation Vouchers): the relay
 * signs "peer X holds a reservation with relay R until T" in a signed envelope (RFC 0002), domain
 * `libp2p-relay-rsvp`, payload type multicodec 0x0302:
 *
 * ```proto
 * message Voucher { required bytes relay = 1; required bytes peer = 2; required uint64 expiration = 3; }
 * ```
 *
 * The spec leaves the voucher advisory (nobody enforces it today), so opening one checks the
 * envelope's signature, the domain and that the signer is the relay named inside (HARDENING.md
 * rule 6), and hands back the fields; what to do with them is the caller's.
 *
 * @module
 */

import { equals as bytesEqual } from "../../src/bytes.ts";
import { DecodeError, InvalidSignatureError } from "../../src/errors.ts";
import { peerIdFromPublicKey } from "../../src/keys/mod.ts";
import type { PrivateKey } from "../../src/keys/types.ts";
import { type PeerId, peerIdFromBytes } from "../../src/peer_id.ts";
import { ProtobufReader, ProtobufWriter, WireType } from "../../src/protobuf.ts";
import { SignedEnvelope } from "../../src/record/envelope.ts";
import type { AbortOptions } from "../../src/stream/types.ts";

/** Signature domain of reservation vouchers (spec §Reservation Vouchers). */
export const VOUCHER_DOMAIN = "libp2p-relay-rsvp";

/** Envelope payload type of reservation vouchers: multicodec 0x0302 as a uvarint. */
export const VOUCHER_PAYLOAD_TYPE: Uint8Array = Uint8Array.of(0x03, 0x02);

/** The fields of a voucher. */
export interface VoucherInit {
  /** The relay that granted the reservation (the signer). */
  relay: PeerId;
  /** The peer holding the reservation. */
  peer: PeerId;
  /** Expiry, UNIX seconds. */
  expiration: bigint;
}

/**
 * A reservation voucher. It has the shape of a signed-envelope record (domain, payload type,
 * `encode`); {@link sealVoucher} signs it.
 *
 * @example
 * ```ts
 * import { generateKeyPair, peerIdFromPrivateKey } from "@p2p-edge/libp2p";
 * import { ReservationVoucher } from "@p2p-edge/libp2p/protocols/circuit-relay";
 * const relay = peerIdFromPrivateKey(await generateKeyPair("Ed25519"));
 * const peer = peerIdFromPrivateKey(await generateKeyPair("Ed25519"));
 * const v = new ReservationVoucher({ relay, peer, expiration: 1_700_000_000n });
 * ReservationVoucher.decode(v.encode()).expiration; // 1700000000n
 * ```
 */
export class ReservationVoucher {
  /** The relay that granted the reservation. */
  readonly relay: PeerId;
  /** The peer holding the reservation. */
  readonly peer: PeerId;
  /** Expiry, UNIX seconds. */
  readonly expiration: bigint;

  /** A voucher with these fields. */
  constructor(init: VoucherInit) {
    this.relay = init.relay;
    this.peer = init.peer;
    this.expiration = init.expiration;
  }

  /** {@link VOUCHER_DOMAIN}. */
  get domain(): string {
    return VOUCHER_DOMAIN;
  }

  /** {@link VOUCHER_PAYLOAD_TYPE}. */
  get payloadType(): Uint8Array {
    return VOUCHER_PAYLOAD_TYPE;
  }

  /** The canonical payload: fields in number order, all present. */
  encode(): Uint8Array {
    return new ProtobufWriter()
      .bytes(1, this.relay.toBytes())
      .bytes(2, this.peer.toBytes())
      .uint(3, this.expiration)
      .finish();
  }

  /**
   * Decode a payload. Throws DecodeError for malformed protobuf, a missing field or an invalid
   * peer id.
   */
  static decode(bytes: Uint8Array): ReservationVoucher {
    const r = new ProtobufReader(bytes);
    let relay: Uint8Array | undefined;
    let peer: Uint8Array | undefined;
    let expiration: bigint | undefined;
    for (let tag = r.readTag(); tag !== undefined; tag = r.readTag()) {
      if (tag.field === 1 || tag.field === 2) {
        r.expect(tag, WireType.LENGTH_DELIMITED);
        if (tag.field === 1) relay = r.readBytes();
        else peer = r.readBytes();
      } else if (tag.field === 3) {
        r.expect(tag, WireType.VARINT);
        expiration = r.readUint64();
      } else {
        r.skip(tag.wireType);
      }
    }
    if (relay === undefined || peer === undefined || expiration === undefined) {
      throw new DecodeError("reservation voucher without relay, peer or expiration");
    }
    try {
      return new ReservationVoucher({
        relay: peerIdFromBytes(relay.slice()),
        peer: peerIdFromBytes(peer.slice()),
        expiration,
      });
    } catch (cause) {
      throw new DecodeError("reservation voucher with an invalid peer id", { cause });
    }
  }
}

/**
 * Sign a voucher with the relay's key; resolves with the encoded envelope (the bytes of
 * `Reservation.voucher`). Throws TypeError when the key is not `init.relay`'s.
 *
 * @example
 * ```ts
 * import { generateKeyPair, peerIdFromPrivateKey } from "@p2p-edge/libp2p";
 * import { sealVoucher } from "@p2p-edge/libp2p/protocols/circuit-relay";
 * const key = await generateKeyPair("Ed25519");
 * const peer = peerIdFromPrivateKey(await generateKeyPair("Ed25519"));
 * const voucher = await sealVoucher(key, { relay: peerIdFromPrivateKey(key), peer, expiration: 1n });
 * voucher.byteLength > 0; // true
 * ```
 */
export async function sealVoucher(
  relayKey: PrivateKey,
  init: VoucherInit,
  options?: AbortOptions,
): Promise<Uint8Array> {
  if (!peerIdFromPublicKey(relayKey.publicKey).equals(init.relay)) {
    throw new TypeError("a voucher is signed by the relay it names");
  }
  const envelope = await SignedEnvelope.seal(relayKey, new ReservationVoucher(init), options);
  return envelope.encode();
}

/**
 * Open a voucher received in a reservation: decode the envelope, check the payload type, verify
 * the signature for {@link VOUCHER_DOMAIN}, decode the payload and check the signer is the relay
 * it names. With `expected`, also check the relay and the peer. Throws DecodeError (malformed,
 * wrong payload type), InvalidSignatureError (bad signature, signer is not the named relay, or
 * not the expected relay or peer).
 *
 * @example
 * ```ts
 * import { generateKeyPair, peerIdFromPrivateKey } from "@p2p-edge/libp2p";
 * import { openVoucher, sealVoucher } from "@p2p-edge/libp2p/protocols/circuit-relay";
 * const key = await generateKeyPair("Ed25519");
 * const relay = peerIdFromPrivateKey(key);
 * const peer = peerIdFromPrivateKey(await generateKeyPair("Ed25519"));
 * const sealed = await sealVoucher(key, { relay, peer, expiration: 1_700_000_000n });
 * (await openVoucher(sealed, { relay, peer })).expiration; // 1700000000n
 * ```
 */
export async function openVoucher(
  bytes: Uint8Array,
  expected?: { relay?: PeerId; peer?: PeerId } & AbortOptions,
): Promise<ReservationVoucher> {
  const envelope = await SignedEnvelope.open(bytes, VOUCHER_DOMAIN, {
    payloadType: VOUCHER_PAYLOAD_TYPE,
    signal: expected?.signal,
  });
  if (!bytesEqual(envelope.payloadType, VOUCHER_PAYLOAD_TYPE)) {
    throw new DecodeError("envelope is not a reservation voucher");
  }
  const voucher = ReservationVoucher.decode(envelope.payload);
  if (!peerIdFromPublicKey(envelope.publicKey).equals(voucher.relay)) {
    throw new InvalidSignatureError("voucher signed by a key other than its relay's");
  }
  if (expected?.relay !== undefined && !expected.relay.equals(voucher.relay)) {
    throw new InvalidSignatureError("voucher of another relay");
  }
  if (expected?.peer !== undefined && !expected.peer.equals(voucher.peer)) {
    throw new InvalidSignatureError("voucher for another peer");
  }
  return voucher;
}
