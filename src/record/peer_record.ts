/**
 * Peer records (libp2p/specs RFC/0003-routing-records.md): a peer's listen addresses with a
 * sequence number, signed by the peer in an envelope (RFC 0002).
 *
 * Wire format: `PeerRecord{peer_id=1 bytes, seq=2 uint64, addresses=3 repeated
 * AddressInfo{multiaddr=1 bytes}}`, proto3 (zero `seq` and empty fields are left out), the same
 * bytes go and js produce.
 *
 * @module
 */

import { equals as bytesEqual } from "../bytes.ts";
import { DecodeError, InvalidSignatureError, PeerIdMismatchError } from "../errors.ts";
import { peerIdFromPublicKey } from "../keys/mod.ts";
import type { PrivateKey } from "../keys/types.ts";
import { type Multiaddr, multiaddr } from "../multiaddr/mod.ts";
import { type PeerId, peerIdFromBytes } from "../peer_id.ts";
import { checkRepeatedCount, ProtobufReader, ProtobufWriter, WireType } from "../protobuf.ts";
import type { AbortOptions } from "../stream/types.ts";
import {
  LEGACY_ROUTING_STATE_DOMAIN,
  LEGACY_ROUTING_STATE_PAYLOAD_TYPE,
  MAX_PEER_RECORD_ADDRESSES,
  PEER_RECORD_DOMAIN,
  PEER_RECORD_PAYLOAD_TYPE,
} from "./constants.ts";
import { type EnvelopeRecord, type OpenEnvelopeOptions, SignedEnvelope } from "./envelope.ts";

/** Fields of a {@link PeerRecord}. */
export interface PeerRecordInit {
  /** The peer the addresses belong to. */
  peerId: PeerId;
  /** Sequence number; a newer record of the same peer has a higher one. */
  seq: bigint;
  /** Listen addresses (default none). */
  addresses?: readonly Multiaddr[];
}

const MAX_U64 = 0xffff_ffff_ffff_ffffn;

/**
 * A peer record. It is an {@link EnvelopeRecord}, so `SignedEnvelope.seal(key, record)` signs it
 * (or use {@link sealPeerRecord}, which also fills in the peer id and sequence number).
 *
 * @example
 * ```ts
 * import { generateKeyPair, peerIdFromPrivateKey } from "@p2p-edge/libp2p";
 * import { multiaddr } from "@p2p-edge/libp2p/multiaddr";
 * import { PeerRecord } from "@p2p-edge/libp2p";
 * const key = await generateKeyPair("Ed25519");
 * const record = new PeerRecord({
 *   peerId: peerIdFromPrivateKey(key),
 *   seq: 1n,
 *   addresses: [multiaddr("/ip4/192.0.2.1/tcp/4001")],
 * });
 * PeerRecord.decode(record.encode()).equals(record); // true
 * ```
 */
export class PeerRecord implements EnvelopeRecord {
  /** The peer the addresses belong to. */
  readonly peerId: PeerId;
  /** Sequence number (u64). */
  readonly seq: bigint;
  /** The addresses that parsed (see {@link PeerRecord.ignoredAddresses}). */
  readonly addresses: readonly Multiaddr[];
  /**
   * How many address entries of a decoded record were left out because they did not parse
   * (unknown protocol, malformed): like go-libp2p, one such entry does not void the record.
   */
  readonly ignoredAddresses: number;
  /** Always {@link PEER_RECORD_DOMAIN}. */
  readonly domain: string = PEER_RECORD_DOMAIN;
  /** Always {@link PEER_RECORD_PAYLOAD_TYPE}. */
  readonly payloadType: Uint8Array = PEER_RECORD_PAYLOAD_TYPE;

  /**
   * Throws RangeError for a `seq` outside u64 or more than MAX_PEER_RECORD_ADDRESSES addresses.
   * `ignoredAddresses` is set by {@link PeerRecord.decode}; leave it out otherwise.
   */
  constructor(init: PeerRecordInit, ignoredAddresses = 0) {
    if (typeof init.seq !== "bigint" || init.seq < 0n || init.seq > MAX_U64) {
      throw new RangeError("peer record seq must be a bigint in 0..2^64-1");
    }
    const addresses = init.addresses ?? [];
    if (addresses.length > MAX_PEER_RECORD_ADDRESSES) {
      throw new RangeError(`a peer record holds at most ${MAX_PEER_RECORD_ADDRESSES} addresses`);
    }
    this.peerId = init.peerId;
    this.seq = init.seq;
    this.addresses = Object.freeze([...addresses]);
    this.ignoredAddresses = ignoredAddresses;
  }

  /** The protobuf encoding (the envelope payload). */
  encode(): Uint8Array {
    const w = new ProtobufWriter().bytes(1, this.peerId.toBytes());
    if (this.seq !== 0n) w.uint(2, this.seq);
    for (const address of this.addresses) {
      const info = new ProtobufWriter();
      if (address.bytes.byteLength > 0) info.bytes(1, address.bytes);
      w.message(3, info);
    }
    return w.finish();
  }

  /**
   * Decode a record payload. Throws DecodeError (malformed, no peer id, a field repeated that
   * may not be) or LimitExceededError (more than MAX_PEER_RECORD_ADDRESSES addresses, counted
   * before each is parsed). Addresses that do not parse are skipped and counted.
   */
  static decode(bytes: Uint8Array): PeerRecord {
    const reader = new ProtobufReader(bytes);
    let peerIdBytes: Uint8Array | undefined;
    let seq: bigint | undefined;
    let count = 0;
    let ignored = 0;
    const addresses: Multiaddr[] = [];
    for (let tag = reader.readTag(); tag !== undefined; tag = reader.readTag()) {
      switch (tag.field) {
        case 1:
          reader.expect(tag, WireType.LENGTH_DELIMITED);
          if (peerIdBytes !== undefined) throw new DecodeError("peer record repeats peer_id");
          peerIdBytes = reader.readBytes();
          break;
        case 2:
          reader.expect(tag, WireType.VARINT);
          if (seq !== undefined) throw new DecodeError("peer record repeats seq");
          seq = reader.readUint64();
          break;
        case 3: {
          reader.expect(tag, WireType.LENGTH_DELIMITED);
          checkRepeatedCount("MAX_PEER_RECORD_ADDRESSES", ++count, MAX_PEER_RECORD_ADDRESSES);
          const address = decodeAddressInfo(reader.readBytes());
          if (address === undefined) ignored++;
          else addresses.push(address);
          break;
        }
        default:
          reader.skip(tag.wireType);
      }
    }
    if (peerIdBytes === undefined || peerIdBytes.byteLength === 0) {
      throw new DecodeError("peer record has no peer id");
    }
    let peerId: PeerId;
    try {
      peerId = peerIdFromBytes(peerIdBytes);
    } catch (cause) {
      if (cause instanceof DecodeError) throw cause;
      throw new DecodeError("peer record has an invalid peer id", { cause });
    }
    return new PeerRecord({ peerId, seq: seq ?? 0n, addresses }, ignored);
  }

  /** Same peer, sequence number and addresses (in order). */
  equals(other: PeerRecord): boolean {
    return this.peerId.equals(other.peerId) && this.seq === other.seq &&
      this.addresses.length === other.addresses.length &&
      this.addresses.every((a, i) => bytesEqual(a.bytes, other.addresses[i].bytes));
  }
}

/** AddressInfo{multiaddr=1}: the parsed address, or undefined when it does not parse. */
function decodeAddressInfo(bytes: Uint8Array): Multiaddr | undefined {
  const reader = new ProtobufReader(bytes);
  let raw: Uint8Array | undefined;
  for (let tag = reader.readTag(); tag !== undefined; tag = reader.readTag()) {
    if (tag.field === 1) {
      reader.expect(tag, WireType.LENGTH_DELIMITED);
      raw = reader.readBytes();
    } else reader.skip(tag.wireType);
  }
  if (raw === undefined || raw.byteLength === 0) return undefined;
  try {
    return multiaddr(raw);
  } catch {
    return undefined;
  }
}

/** A verified peer record and the envelope it came in (keep the envelope to pass it on). */
export interface OpenedPeerRecord {
  /** The verified envelope, as received. */
  envelope: SignedEnvelope;
  /** The decoded record; its peer id is the envelope signer's. */
  record: PeerRecord;
}

/** Options of {@link sealPeerRecord}. */
export interface SealPeerRecordOptions extends AbortOptions {
  /** Sequence number. Default: {@link nextPeerRecordSeq}. */
  seq?: bigint;
}

let lastSeq = 0n;

/**
 * A sequence number for a new record of this process: Unix time in nanoseconds (what go uses,
 * so a key moved from a go node keeps increasing), strictly increasing between calls.
 *
 * @example
 * ```ts
 * import { nextPeerRecordSeq } from "@p2p-edge/libp2p";
 * nextPeerRecordSeq() < nextPeerRecordSeq(); // true
 * ```
 */
export function nextPeerRecordSeq(): bigint {
  const now = BigInt(Date.now()) * 1_000_000n;
  lastSeq = now > lastSeq ? now : lastSeq + 1n;
  return lastSeq;
}

/**
 * Build a peer record of `privateKey`'s peer with `addresses` and sign it.
 *
 * @example
 * ```ts
 * import { generateKeyPair } from "@p2p-edge/libp2p";
 * import { multiaddr } from "@p2p-edge/libp2p/multiaddr";
 * import { openPeerRecord, sealPeerRecord } from "@p2p-edge/libp2p";
 * const key = await generateKeyPair("Ed25519");
 * const envelope = await sealPeerRecord(key, [multiaddr("/ip4/192.0.2.1/tcp/4001")]);
 * const { record } = await openPeerRecord(envelope.encode());
 * record.addresses[0].toString(); // "/ip4/192.0.2.1/tcp/4001"
 * ```
 */
export async function sealPeerRecord(
  privateKey: PrivateKey,
  addresses: readonly Multiaddr[],
  options?: SealPeerRecordOptions,
): Promise<SignedEnvelope> {
  const record = new PeerRecord({
    peerId: peerIdFromPublicKey(privateKey.publicKey),
    seq: options?.seq ?? nextPeerRecordSeq(),
    addresses,
  });
  return await SignedEnvelope.seal(privateKey, record, options);
}

/**
 * Open a signed peer record received from a peer, binding it to its signer (HARDENING rule 6,
 * RFC 0003 §Certification / Verification):
 *
 * 1. decode the envelope (size cap, structure) and pick the domain from the payload type:
 *    go/js `libp2p-peer-record` + 0x0301, or rust's `libp2p-routing-state` +
 *    `/libp2p/routing-state-record`; any other type is a DecodeError;
 * 2. when `expectedPeer` is given, the signer's peer id (derived from the envelope key) must be
 *    it, else PeerIdMismatchError (checked before any signature work);
 * 3. verify the signature, else InvalidSignatureError;
 * 4. decode the record; its peer_id must be the signer's, else InvalidSignatureError (a valid
 *    signature that does not vouch for the peer the record names).
 *
 * @example
 * ```ts
 * import { generateKeyPair, peerIdFromPrivateKey } from "@p2p-edge/libp2p";
 * import { openPeerRecord, sealPeerRecord } from "@p2p-edge/libp2p";
 * const key = await generateKeyPair("Ed25519");
 * const bytes = (await sealPeerRecord(key, [])).encode();
 * const { record } = await openPeerRecord(bytes, peerIdFromPrivateKey(key));
 * ```
 */
export async function openPeerRecord(
  bytes: Uint8Array,
  expectedPeer?: PeerId,
  options?: Omit<OpenEnvelopeOptions, "payloadType">,
): Promise<OpenedPeerRecord> {
  const envelope = SignedEnvelope.decode(bytes, options);
  let domain: string;
  if (bytesEqual(envelope.payloadType, PEER_RECORD_PAYLOAD_TYPE)) domain = PEER_RECORD_DOMAIN;
  else if (bytesEqual(envelope.payloadType, LEGACY_ROUTING_STATE_PAYLOAD_TYPE)) {
    domain = LEGACY_ROUTING_STATE_DOMAIN;
  } else throw new DecodeError("envelope does not hold a peer record (payload type)");
  const signer = peerIdFromPublicKey(envelope.publicKey);
  if (expectedPeer !== undefined && !signer.equals(expectedPeer)) {
    throw new PeerIdMismatchError(
      `peer record signed by ${signer.toString()}, expected ${expectedPeer.toString()}`,
    );
  }
  options?.signal?.throwIfAborted();
  if (!(await envelope.verify(domain))) {
    throw new InvalidSignatureError("peer record envelope signature is not valid");
  }
  const record = PeerRecord.decode(envelope.payload);
  if (!record.peerId.equals(signer)) {
    throw new InvalidSignatureError(
      `peer record names ${record.peerId.toString()} but is signed by ${signer.toString()}`,
    );
  }
  return { envelope, record };
}
