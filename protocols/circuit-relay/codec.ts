/**
 * Wire codec of circuit relay v2 (libp2p/specs `relay/circuit-v2.md` §Wire protocol): the HOP
 * and STOP messages, uvarint-framed, one or two per stream before the stream turns into the
 * relayed connection's raw bytes.
 *
 * ```proto
 * // proto2 in the spec; go sends it as proto2, js and rust as proto3 `optional`: same bytes.
 * message HopMessage {
 *   enum Type { RESERVE = 0; CONNECT = 1; STATUS = 2; }
 *   required Type type = 1; optional Peer peer = 2; optional Reservation reservation = 3;
 *   optional Limit limit = 4; optional Status status = 5;
 * }
 * message StopMessage {
 *   enum Type { CONNECT = 0; STATUS = 1; }
 *   required Type type = 1; optional Peer peer = 2; optional Limit limit = 3; optional Status status = 4;
 * }
 * message Peer { required bytes id = 1; repeated bytes addrs = 2; }
 * message Reservation { required uint64 expire = 1; repeated bytes addrs = 2; optional bytes voucher = 3; }
 * message Limit { optional uint32 duration = 1; optional uint64 data = 2; }
 * enum Status { UNUSED = 0; OK = 100; RESERVATION_REFUSED = 200; RESOURCE_LIMIT_EXCEEDED = 201;
 *   PERMISSION_DENIED = 202; CONNECTION_FAILED = 203; NO_RESERVATION = 204;
 *   MALFORMED_MESSAGE = 400; UNEXPECTED_MESSAGE = 401; }
 * ```
 *
 * Limits: a frame is at most {@link MAX_MESSAGE_BYTES} (go `maxMessageSize`, rust 4,096); the
 * declared length is checked before the body is buffered (HARDENING.md rule 1). A missing
 * required field or an unknown message type is a {@link DecodeError}; an unknown status code is
 * kept as a number (newer peers may add codes). Unknown fields are skipped. Addresses beyond
 * {@link MAX_ADDRS} and addresses longer than a multiaddr may be are dropped, not decoded. Ids,
 * addresses and vouchers are copied out of the input.
 *
 * The reader functions take a `ByteReader` (a {@link FrameSource}) over the stream's channel and never read past
 * the message: what the reader holds beyond it is the relayed connection's first bytes
 * (`reader.restChannel()` hands them back).
 *
 * @module
 */

import { DecodeError, LimitExceededError } from "../../src/errors.ts";
import { MAX_MULTIADDR_BYTES } from "../../src/multiaddr/codec.ts";
import { ProtobufReader, ProtobufWriter, WireType } from "../../src/protobuf.ts";
import { uvarintLength, writeUvarint } from "../../src/varint.ts";

/** The HOP protocol id: clients reserve and connect through a relay (spec §Hop Protocol). */
export const HOP_PROTOCOL = "/libp2p/circuit/relay/0.2.0/hop";

/** The STOP protocol id: a relay hands a circuit to its target (spec §Stop Protocol). */
export const STOP_PROTOCOL = "/libp2p/circuit/relay/0.2.0/stop";

/** Largest HOP or STOP message, bytes (go `maxMessageSize` 4096, rust 4096; research §3.1). */
export const MAX_MESSAGE_BYTES = 4096;

/**
 * Most addresses decoded per Peer or Reservation; more are skipped. 4,096 bytes bound the count
 * anyway (HARDENING.md rule 2: every repeated field has a named cap).
 */
export const MAX_ADDRS = 128;

/** Largest peer id accepted, bytes (an identity multihash of an RSA-4096 key is ~550). */
export const MAX_PEER_ID_BYTES = 1024;

/** HopMessage types (spec §Hop Protocol). */
export const HopType = { RESERVE: 0, CONNECT: 1, STATUS: 2 } as const;

/** One of the values of {@link HopType}. */
export type HopTypeValue = (typeof HopType)[keyof typeof HopType];

/** StopMessage types (spec §Stop Protocol). */
export const StopType = { CONNECT: 0, STATUS: 1 } as const;

/** One of the values of {@link StopType}. */
export type StopTypeValue = (typeof StopType)[keyof typeof StopType];

/** Status codes (spec §Status codes). */
export const Status = {
  UNUSED: 0,
  OK: 100,
  RESERVATION_REFUSED: 200,
  RESOURCE_LIMIT_EXCEEDED: 201,
  PERMISSION_DENIED: 202,
  CONNECTION_FAILED: 203,
  NO_RESERVATION: 204,
  MALFORMED_MESSAGE: 400,
  UNEXPECTED_MESSAGE: 401,
} as const;

/** One of the values of {@link Status}. */
export type StatusValue = (typeof Status)[keyof typeof Status];

/** A peer in a HOP or STOP message: who to connect to, or who is connecting. */
export interface RelayPeer {
  /** Binary peer id (multihash bytes). */
  id: Uint8Array;
  /** Binary multiaddrs (may be empty). */
  addrs: Uint8Array[];
}

/** A reservation granted by a relay (spec §Reservation). */
export interface Reservation {
  /** Expiry, UNIX seconds (UTC). */
  expire: bigint;
  /** The relay's addresses for the reserving peer to advertise (binary multiaddrs). */
  addrs: Uint8Array[];
  /** The reservation voucher: a signed envelope (see voucher.ts), encoded. */
  voucher?: Uint8Array;
}

/** The limit of a relayed connection (spec §Limits); absent or 0 means unlimited. */
export interface Limit {
  /** Seconds the relay keeps the circuit open. */
  duration?: number;
  /** Bytes the relay forwards per direction. */
  data?: bigint;
}

/** A message on the HOP protocol. */
export interface HopMessage {
  /** What the message is. */
  type: HopTypeValue;
  /** CONNECT: the target. */
  peer?: RelayPeer;
  /** STATUS answering RESERVE: the reservation. */
  reservation?: Reservation;
  /** STATUS: the limit of reservations' circuits or of this circuit. */
  limit?: Limit;
  /** STATUS: the outcome (a {@link Status} value, or an unknown code from a newer peer). */
  status?: number;
}

/** A message on the STOP protocol. */
export interface StopMessage {
  /** What the message is. */
  type: StopTypeValue;
  /** CONNECT: the source of the circuit. */
  peer?: RelayPeer;
  /** CONNECT: the circuit's limit. */
  limit?: Limit;
  /** STATUS: the outcome. */
  status?: number;
}

/**
 * Where framed messages are read from: a `ByteReader` (src/stream) over the stream's channel,
 * which keeps what it read beyond the message for the relayed connection.
 *
 * @example
 * ```ts
 * import type { FrameSource } from "@p2p-edge/libp2p/protocols/circuit-relay";
 * const once: FrameSource = {
 *   readLengthPrefixed: () => Promise.resolve(new Uint8Array([8, 0])),
 * };
 * ```
 */
export interface FrameSource {
  /** Read `uvarint(length) ‖ body`; a length over `maxLength` throws before the body is read. */
  readLengthPrefixed(maxLength: number): Promise<Uint8Array>;
}

const MAX_U32 = 0xffff_ffff;
const MAX_U64 = 0xffff_ffff_ffff_ffffn;

/**
 * The name of a status code, for messages and logs.
 *
 * @example
 * ```ts
 * import { Status, statusName } from "@p2p-edge/libp2p/protocols/circuit-relay";
 * statusName(Status.NO_RESERVATION); // "NO_RESERVATION"
 * statusName(999); // "999"
 * ```
 */
export function statusName(status: number | undefined): string {
  if (status === undefined) return "no status";
  for (const [name, value] of Object.entries(Status)) if (value === status) return name;
  return String(status);
}

/**
 * Encode a HopMessage body (no length prefix). Fields are written in field-number order, and
 * only those present, as go, js and rust do.
 *
 * @example
 * ```ts
 * import { encodeHopMessage, HopType } from "@p2p-edge/libp2p/protocols/circuit-relay";
 * encodeHopMessage({ type: HopType.RESERVE }); // Uint8Array [0x08, 0x00]
 * ```
 */
export function encodeHopMessage(message: HopMessage): Uint8Array {
  const w = new ProtobufWriter().uint(1, message.type);
  if (message.peer !== undefined) w.message(2, encodePeer(message.peer));
  if (message.reservation !== undefined) w.message(3, encodeReservation(message.reservation));
  if (message.limit !== undefined) w.message(4, encodeLimit(message.limit));
  if (message.status !== undefined) w.uint(5, message.status);
  return w.finish();
}

/**
 * Encode a StopMessage body (no length prefix).
 *
 * @example
 * ```ts
 * import { encodeStopMessage, Status, StopType } from "@p2p-edge/libp2p/protocols/circuit-relay";
 * encodeStopMessage({ type: StopType.STATUS, status: Status.OK }); // Uint8Array [8, 1, 32, 100]
 * ```
 */
export function encodeStopMessage(message: StopMessage): Uint8Array {
  const w = new ProtobufWriter().uint(1, message.type);
  if (message.peer !== undefined) w.message(2, encodePeer(message.peer));
  if (message.limit !== undefined) w.message(3, encodeLimit(message.limit));
  if (message.status !== undefined) w.uint(4, message.status);
  return w.finish();
}

function encodePeer(peer: RelayPeer): Uint8Array {
  const w = new ProtobufWriter().bytes(1, peer.id);
  for (const a of peer.addrs) w.bytes(2, a);
  return w.finish();
}

function encodeReservation(r: Reservation): Uint8Array {
  if (r.expire < 0n || r.expire > MAX_U64) throw new RangeError("reservation expire out of range");
  const w = new ProtobufWriter().uint(1, r.expire);
  for (const a of r.addrs) w.bytes(2, a);
  if (r.voucher !== undefined) w.bytes(3, r.voucher);
  return w.finish();
}

function encodeLimit(limit: Limit): Uint8Array {
  const w = new ProtobufWriter();
  if (limit.duration !== undefined) {
    if (!Number.isInteger(limit.duration) || limit.duration < 0 || limit.duration > MAX_U32) {
      throw new RangeError("limit duration must be a uint32");
    }
    w.uint(1, limit.duration);
  }
  if (limit.data !== undefined) {
    if (limit.data < 0n || limit.data > MAX_U64) {
      throw new RangeError("limit data must be a uint64");
    }
    w.uint(2, limit.data);
  }
  return w.finish();
}

/**
 * Decode a HopMessage body. Throws DecodeError for malformed protobuf, a missing `type` or an
 * unknown one, and a peer or reservation missing its required field.
 *
 * @example
 * ```ts
 * import { decodeHopMessage } from "@p2p-edge/libp2p/protocols/circuit-relay";
 * decodeHopMessage(new Uint8Array([0x08, 0x00])).type; // 0 (RESERVE)
 * ```
 */
export function decodeHopMessage(bytes: Uint8Array): HopMessage {
  const r = new ProtobufReader(bytes);
  let type: number | undefined;
  const out: Partial<HopMessage> = {};
  for (let tag = r.readTag(); tag !== undefined; tag = r.readTag()) {
    switch (tag.field) {
      case 1:
        r.expect(tag, WireType.VARINT);
        type = r.readUint();
        break;
      case 2:
        r.expect(tag, WireType.LENGTH_DELIMITED);
        out.peer = decodePeer(r.readBytes());
        break;
      case 3:
        r.expect(tag, WireType.LENGTH_DELIMITED);
        out.reservation = decodeReservation(r.readBytes());
        break;
      case 4:
        r.expect(tag, WireType.LENGTH_DELIMITED);
        out.limit = decodeLimit(r.readBytes());
        break;
      case 5:
        r.expect(tag, WireType.VARINT);
        out.status = r.readUint();
        break;
      default:
        r.skip(tag.wireType);
    }
  }
  if (type === undefined) throw new DecodeError("HopMessage without a type");
  if (type !== HopType.RESERVE && type !== HopType.CONNECT && type !== HopType.STATUS) {
    throw new DecodeError(`unknown HopMessage type ${type}`);
  }
  return { type, ...out };
}

/**
 * Decode a StopMessage body. Throws DecodeError like {@link decodeHopMessage}.
 *
 * @example
 * ```ts
 * import { decodeStopMessage } from "@p2p-edge/libp2p/protocols/circuit-relay";
 * decodeStopMessage(new Uint8Array([8, 1, 32, 100])).status; // 100 (OK)
 * ```
 */
export function decodeStopMessage(bytes: Uint8Array): StopMessage {
  const r = new ProtobufReader(bytes);
  let type: number | undefined;
  const out: Partial<StopMessage> = {};
  for (let tag = r.readTag(); tag !== undefined; tag = r.readTag()) {
    switch (tag.field) {
      case 1:
        r.expect(tag, WireType.VARINT);
        type = r.readUint();
        break;
      case 2:
        r.expect(tag, WireType.LENGTH_DELIMITED);
        out.peer = decodePeer(r.readBytes());
        break;
      case 3:
        r.expect(tag, WireType.LENGTH_DELIMITED);
        out.limit = decodeLimit(r.readBytes());
        break;
      case 4:
        r.expect(tag, WireType.VARINT);
        out.status = r.readUint();
        break;
      default:
        r.skip(tag.wireType);
    }
  }
  if (type === undefined) throw new DecodeError("StopMessage without a type");
  if (type !== StopType.CONNECT && type !== StopType.STATUS) {
    throw new DecodeError(`unknown StopMessage type ${type}`);
  }
  return { type, ...out };
}

function decodePeer(bytes: Uint8Array): RelayPeer {
  const r = new ProtobufReader(bytes);
  let id: Uint8Array | undefined;
  const addrs: Uint8Array[] = [];
  for (let tag = r.readTag(); tag !== undefined; tag = r.readTag()) {
    if (tag.field === 1) {
      r.expect(tag, WireType.LENGTH_DELIMITED);
      const value = r.readBytes();
      if (value.byteLength > MAX_PEER_ID_BYTES) {
        throw new DecodeError(`peer id of ${value.byteLength} bytes`);
      }
      id = value.slice();
    } else if (tag.field === 2) {
      r.expect(tag, WireType.LENGTH_DELIMITED);
      const value = r.readBytes();
      if (addrs.length < MAX_ADDRS && value.byteLength <= MAX_MULTIADDR_BYTES) {
        addrs.push(value.slice());
      }
    } else {
      r.skip(tag.wireType);
    }
  }
  if (id === undefined || id.byteLength === 0) throw new DecodeError("Peer without an id");
  return { id, addrs };
}

function decodeReservation(bytes: Uint8Array): Reservation {
  const r = new ProtobufReader(bytes);
  let expire: bigint | undefined;
  let voucher: Uint8Array | undefined;
  const addrs: Uint8Array[] = [];
  for (let tag = r.readTag(); tag !== undefined; tag = r.readTag()) {
    if (tag.field === 1) {
      r.expect(tag, WireType.VARINT);
      expire = r.readUint64();
    } else if (tag.field === 2) {
      r.expect(tag, WireType.LENGTH_DELIMITED);
      const value = r.readBytes();
      if (addrs.length < MAX_ADDRS && value.byteLength <= MAX_MULTIADDR_BYTES) {
        addrs.push(value.slice());
      }
    } else if (tag.field === 3) {
      r.expect(tag, WireType.LENGTH_DELIMITED);
      voucher = r.readBytes().slice();
    } else {
      r.skip(tag.wireType);
    }
  }
  // go sends expire always (proto2 required); js's proto3 schema leaves out 0. A reservation
  // without expiry is meaningless either way.
  if (expire === undefined) throw new DecodeError("Reservation without expire");
  return voucher === undefined ? { expire, addrs } : { expire, addrs, voucher };
}

function decodeLimit(bytes: Uint8Array): Limit {
  const r = new ProtobufReader(bytes);
  const out: Limit = {};
  for (let tag = r.readTag(); tag !== undefined; tag = r.readTag()) {
    if (tag.field === 1) {
      r.expect(tag, WireType.VARINT);
      // uint32 on the wire; a larger varint is truncated as protobuf does for uint32.
      out.duration = Number(r.readUint64() & 0xffff_ffffn);
    } else if (tag.field === 2) {
      r.expect(tag, WireType.VARINT);
      out.data = r.readUint64();
    } else {
      r.skip(tag.wireType);
    }
  }
  return out;
}

/**
 * Frame a message body: `uvarint(length) ‖ body`. Throws LimitExceededError over
 * {@link MAX_MESSAGE_BYTES} (we never send what a peer must refuse).
 *
 * @example
 * ```ts
 * import { encodeFrame, encodeHopMessage, HopType } from "@p2p-edge/libp2p/protocols/circuit-relay";
 * encodeFrame(encodeHopMessage({ type: HopType.RESERVE })); // Uint8Array [2, 8, 0]
 * ```
 */
export function encodeFrame(body: Uint8Array): Uint8Array {
  if (body.byteLength > MAX_MESSAGE_BYTES) {
    throw new LimitExceededError(
      `relay message of ${body.byteLength} bytes exceeds ${MAX_MESSAGE_BYTES}`,
      "MAX_MESSAGE_BYTES",
    );
  }
  const out = new Uint8Array(uvarintLength(body.byteLength) + body.byteLength);
  const n = writeUvarint(body.byteLength, out, 0);
  out.set(body, n);
  return out;
}

/**
 * Read one framed HopMessage. The length prefix is checked against {@link MAX_MESSAGE_BYTES}
 * before the body is buffered (LimitExceededError); a stream ending early throws
 * UnexpectedEOFError (a DecodeError); a malformed body throws DecodeError.
 *
 * @example
 * ```ts
 * import { ByteReader } from "@p2p-edge/libp2p/stream";
 * import { readHopMessage } from "@p2p-edge/libp2p/protocols/circuit-relay";
 * const reader = new ByteReader(new Blob([new Uint8Array([2, 8, 0])]).stream());
 * (await readHopMessage(reader)).type; // 0 (RESERVE)
 * ```
 */
export async function readHopMessage(reader: FrameSource): Promise<HopMessage> {
  return decodeHopMessage(await reader.readLengthPrefixed(MAX_MESSAGE_BYTES));
}

/**
 * Read one framed StopMessage (see {@link readHopMessage}).
 *
 * @example
 * ```ts
 * import { ByteReader } from "@p2p-edge/libp2p/stream";
 * import { readStopMessage } from "@p2p-edge/libp2p/protocols/circuit-relay";
 * const reader = new ByteReader(new Blob([new Uint8Array([4, 8, 1, 32, 100])]).stream());
 * (await readStopMessage(reader)).status; // 100 (OK)
 * ```
 */
export async function readStopMessage(reader: FrameSource): Promise<StopMessage> {
  return decodeStopMessage(await reader.readLengthPrefixed(MAX_MESSAGE_BYTES));
}
