/**
 * The HOP and STOP messages the client sends and reads (libp2p/specs relay/circuit-v2.md,
 * "Protobuf"): encode what we send, decode what a relay answers, with repeated fields capped
 * while decoding (HARDENING.md rule 4).
 *
 * @module
 */

import { DecodeError } from "../../src/errors.ts";
import {
  checkRepeatedCount,
  ProtobufReader,
  ProtobufWriter,
  WireType,
} from "../../src/protobuf.ts";
import { MAX_RESERVATION_ADDRS } from "./constants.ts";

/** HopMessage.Type. */
export const HopType = { RESERVE: 0, CONNECT: 1, STATUS: 2 } as const;
/** StopMessage.Type. */
export const StopType = { CONNECT: 0, STATUS: 1 } as const;

/** Status codes (spec "Status"). */
export const RelayStatus = {
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

/** `Peer{id=1, addrs=2}`. */
export interface WirePeer {
  id: Uint8Array;
  addrs: Uint8Array[];
}

/** `Limit{duration=1 (s), data=2 (bytes per direction)}`; 0 or absent is unlimited. */
export interface WireLimit {
  duration?: number;
  data?: bigint;
}

/** `Reservation{expire=1 (UNIX s), addrs=2, voucher=3}`. */
export interface WireReservation {
  expire?: bigint;
  addrs: Uint8Array[];
  voucher?: Uint8Array;
}

/** A HopMessage. */
export interface HopMessage {
  type?: number;
  peer?: WirePeer;
  reservation?: WireReservation;
  limit?: WireLimit;
  status?: number;
}

/** A StopMessage. */
export interface StopMessage {
  type?: number;
  peer?: WirePeer;
  limit?: WireLimit;
  status?: number;
}

function encodePeer(peer: WirePeer): ProtobufWriter {
  const w = new ProtobufWriter().bytes(1, peer.id);
  for (const a of peer.addrs) w.bytes(2, a);
  return w;
}

function encodeLimit(limit: WireLimit): ProtobufWriter {
  const w = new ProtobufWriter();
  if (limit.duration !== undefined) w.uint(1, limit.duration);
  if (limit.data !== undefined) w.uint(2, limit.data);
  return w;
}

/**
 * Encode a HopMessage (the client sends RESERVE and CONNECT).
 *
 * @example
 * ```ts
 * import { encodeHopMessage, HopType } from "./messages.ts";
 * encodeHopMessage({ type: HopType.RESERVE }); // Uint8Array [8, 0]
 * ```
 */
export function encodeHopMessage(m: HopMessage): Uint8Array {
  const w = new ProtobufWriter();
  if (m.type !== undefined) w.uint(1, m.type);
  if (m.peer !== undefined) w.message(2, encodePeer(m.peer));
  if (m.limit !== undefined) w.message(4, encodeLimit(m.limit));
  if (m.status !== undefined) w.uint(5, m.status);
  return w.finish();
}

/**
 * Encode a StopMessage (the client answers STATUS).
 *
 * @example
 * ```ts
 * import { encodeStopMessage, RelayStatus, StopType } from "./messages.ts";
 * encodeStopMessage({ type: StopType.STATUS, status: RelayStatus.OK });
 * ```
 */
export function encodeStopMessage(m: StopMessage): Uint8Array {
  const w = new ProtobufWriter();
  if (m.type !== undefined) w.uint(1, m.type);
  if (m.peer !== undefined) w.message(2, encodePeer(m.peer));
  if (m.limit !== undefined) w.message(3, encodeLimit(m.limit));
  if (m.status !== undefined) w.uint(4, m.status);
  return w.finish();
}

function decodePeer(bytes: Uint8Array): WirePeer {
  const r = new ProtobufReader(bytes);
  const peer: WirePeer = { id: new Uint8Array(0), addrs: [] };
  for (let tag = r.readTag(); tag !== undefined; tag = r.readTag()) {
    if (tag.field === 1 && tag.wireType === WireType.LENGTH_DELIMITED) peer.id = r.readBytes();
    else if (tag.field === 2 && tag.wireType === WireType.LENGTH_DELIMITED) {
      checkRepeatedCount("Peer.addrs", peer.addrs.length + 1, MAX_RESERVATION_ADDRS);
      peer.addrs.push(r.readBytes());
    } else r.skip(tag.wireType);
  }
  return peer;
}

function decodeLimit(bytes: Uint8Array): WireLimit {
  const r = new ProtobufReader(bytes);
  const limit: WireLimit = {};
  for (let tag = r.readTag(); tag !== undefined; tag = r.readTag()) {
    if (tag.field === 1 && tag.wireType === WireType.VARINT) {
      // uint32 on the wire: anything wider is malformed (HARDENING.md rule 2).
      const v = r.readUint64();
      if (v > 0xffff_ffffn) throw new DecodeError("Limit.duration above uint32");
      limit.duration = Number(v);
    } else if (tag.field === 2 && tag.wireType === WireType.VARINT) limit.data = r.readUint64();
    else r.skip(tag.wireType);
  }
  return limit;
}

function decodeReservation(bytes: Uint8Array): WireReservation {
  const r = new ProtobufReader(bytes);
  const res: WireReservation = { addrs: [] };
  for (let tag = r.readTag(); tag !== undefined; tag = r.readTag()) {
    if (tag.field === 1 && tag.wireType === WireType.VARINT) res.expire = r.readUint64();
    else if (tag.field === 2 && tag.wireType === WireType.LENGTH_DELIMITED) {
      // Beyond the cap the rest are dropped rather than the reservation refused.
      const a = r.readBytes();
      if (res.addrs.length < MAX_RESERVATION_ADDRS) res.addrs.push(a);
    } else if (tag.field === 3 && tag.wireType === WireType.LENGTH_DELIMITED) {
      res.voucher = r.readBytes();
    } else r.skip(tag.wireType);
  }
  return res;
}

/**
 * Decode a HopMessage (a relay's STATUS answer); throws DecodeError when malformed.
 *
 * @example
 * ```ts
 * import { decodeHopMessage } from "./messages.ts";
 * decodeHopMessage(new Uint8Array([8, 2, 40, 100])); // { type: 2, status: 100 }
 * ```
 */
export function decodeHopMessage(bytes: Uint8Array): HopMessage {
  const r = new ProtobufReader(bytes);
  const m: HopMessage = {};
  for (let tag = r.readTag(); tag !== undefined; tag = r.readTag()) {
    if (tag.field === 1 && tag.wireType === WireType.VARINT) m.type = r.readUint();
    else if (tag.field === 2 && tag.wireType === WireType.LENGTH_DELIMITED) {
      m.peer = decodePeer(r.readBytes());
    } else if (tag.field === 3 && tag.wireType === WireType.LENGTH_DELIMITED) {
      m.reservation = decodeReservation(r.readBytes());
    } else if (tag.field === 4 && tag.wireType === WireType.LENGTH_DELIMITED) {
      m.limit = decodeLimit(r.readBytes());
    } else if (tag.field === 5 && tag.wireType === WireType.VARINT) m.status = r.readUint();
    else r.skip(tag.wireType);
  }
  return m;
}

/**
 * Decode a StopMessage (a relay's CONNECT); throws DecodeError when malformed.
 *
 * @example
 * ```ts
 * import { decodeStopMessage } from "./messages.ts";
 * decodeStopMessage(new Uint8Array([8, 1, 32, 100])); // { type: 1, status: 100 }
 * ```
 */
export function decodeStopMessage(bytes: Uint8Array): StopMessage {
  const r = new ProtobufReader(bytes);
  const m: StopMessage = {};
  for (let tag = r.readTag(); tag !== undefined; tag = r.readTag()) {
    if (tag.field === 1 && tag.wireType === WireType.VARINT) m.type = r.readUint();
    else if (tag.field === 2 && tag.wireType === WireType.LENGTH_DELIMITED) {
      m.peer = decodePeer(r.readBytes());
    } else if (tag.field === 3 && tag.wireType === WireType.LENGTH_DELIMITED) {
      m.limit = decodeLimit(r.readBytes());
    } else if (tag.field === 4 && tag.wireType === WireType.VARINT) m.status = r.readUint();
    else r.skip(tag.wireType);
  }
  return m;
}
