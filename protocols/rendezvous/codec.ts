/**
 * The rendezvous Message (libp2p/specs rendezvous/README.md "Protobuf"), proto2:
 *
 * ```protobuf
 * message Message {
 *   optional MessageType type = 1;
 *   optional Register register = 2;          // { ns = 1; signedPeerRecord = 2; ttl = 3 (s) }
 *   optional RegisterResponse registerResponse = 3; // { status = 1; statusText = 2; ttl = 3 }
 *   optional Unregister unregister = 4;      // { ns = 1; id = 2 (deprecated, ignored) }
 *   optional Discover discover = 5;          // { ns = 1; limit = 2; cookie = 3 }
 *   optional DiscoverResponse discoverResponse = 6; // { registrations = 1; cookie = 2;
 *                                            //   status = 3; statusText = 4 }
 * }
 * ```
 *
 * Frames are uvarint length-prefixed. The type and the statuses are always written (proto2
 * presence: rust-libp2p refuses a response without a status). Decoding is bounded: the frame
 * size is checked on the prefix by the reader, a DISCOVER_RESPONSE holds at most
 * {@link MAX_DISCOVER_LIMIT} registrations, a cookie at most {@link MAX_COOKIE_BYTES}
 * (HARDENING.md rules 1 and 4). Namespaces are strict UTF-8; their length is the store's check
 * (E_INVALID_NAMESPACE), not the codec's.
 *
 * @module
 */

import { DecodeError, LimitExceededError } from "../../src/errors.ts";
import { type FieldTag, ProtobufReader, ProtobufWriter, WireType } from "../../src/protobuf.ts";
import { encodeUvarint } from "../../src/varint.ts";
import {
  MAX_COOKIE_BYTES,
  MAX_DISCOVER_LIMIT,
  MessageType,
  type MessageTypeValue,
} from "./constants.ts";

/** Message.Register: a registration, sent by a client and returned by DISCOVER. */
export interface Register {
  /** The namespace. */
  ns: string;
  /** The registering peer's signed peer record (an envelope, RFC 0003). */
  signedPeerRecord: Uint8Array;
  /** Lifetime, seconds; absent means the default (2 h). */
  ttl?: bigint;
}

/** Message.RegisterResponse. */
export interface RegisterResponse {
  /** ResponseStatus code. */
  status: number;
  /** The server's words. */
  statusText?: string;
  /** The TTL granted, seconds. */
  ttl?: bigint;
}

/** Message.Unregister. */
export interface Unregister {
  /** The namespace to leave. */
  ns: string;
}

/** Message.Discover. */
export interface Discover {
  /** The namespace; absent or empty asks for every namespace. */
  ns?: string;
  /** Most registrations wanted. */
  limit?: bigint;
  /** A cookie from an earlier response: only newer registrations. */
  cookie?: Uint8Array;
}

/** Message.DiscoverResponse. */
export interface DiscoverResponse {
  /** The registrations. */
  registrations: Register[];
  /** Pass it to the next DISCOVER for what is new since. */
  cookie?: Uint8Array;
  /** ResponseStatus code. */
  status: number;
  /** The server's words. */
  statusText?: string;
}

/** A decoded Message: `type` and the body of that type (other bodies are ignored). */
export interface RendezvousMessage {
  /** One of MessageType. */
  type: MessageTypeValue;
  /** With REGISTER. */
  register?: Register;
  /** With REGISTER_RESPONSE. */
  registerResponse?: RegisterResponse;
  /** With UNREGISTER. */
  unregister?: Unregister;
  /** With DISCOVER. */
  discover?: Discover;
  /** With DISCOVER_RESPONSE. */
  discoverResponse?: DiscoverResponse;
}

function writeRegister(r: Register): ProtobufWriter {
  const w = new ProtobufWriter().string(1, r.ns).bytes(2, r.signedPeerRecord);
  if (r.ttl !== undefined) w.uint(3, r.ttl);
  return w;
}

/**
 * Encode a Message body (no length prefix).
 *
 * @example
 * ```ts
 * import { encodeMessage, MessageType } from "@p2p-edge/libp2p/protocols/rendezvous";
 * encodeMessage({ type: MessageType.UNREGISTER, unregister: { ns: "a" } });
 * // Uint8Array [8, 2, 34, 3, 10, 1, 97]
 * ```
 */
export function encodeMessage(m: RendezvousMessage): Uint8Array {
  const w = new ProtobufWriter().uint(1, m.type);
  if (m.register !== undefined) w.message(2, writeRegister(m.register));
  if (m.registerResponse !== undefined) {
    const r = m.registerResponse;
    const b = new ProtobufWriter().uint(1, r.status);
    if (r.statusText !== undefined) b.string(2, r.statusText);
    if (r.ttl !== undefined) b.uint(3, r.ttl);
    w.message(3, b);
  }
  if (m.unregister !== undefined) w.message(4, new ProtobufWriter().string(1, m.unregister.ns));
  if (m.discover !== undefined) {
    const d = m.discover;
    const b = new ProtobufWriter();
    if (d.ns !== undefined) b.string(1, d.ns);
    if (d.limit !== undefined) b.uint(2, d.limit);
    if (d.cookie !== undefined) b.bytes(3, d.cookie);
    w.message(5, b);
  }
  if (m.discoverResponse !== undefined) {
    const d = m.discoverResponse;
    const b = new ProtobufWriter();
    for (const r of d.registrations) b.message(1, writeRegister(r));
    if (d.cookie !== undefined) b.bytes(2, d.cookie);
    b.uint(3, d.status);
    if (d.statusText !== undefined) b.string(4, d.statusText);
    w.message(6, b);
  }
  return w.finish();
}

/**
 * Encode a Message with its uvarint length prefix, ready to write on a stream.
 *
 * @example
 * ```ts
 * import { encodeFrame, MessageType } from "@p2p-edge/libp2p/protocols/rendezvous";
 * encodeFrame({ type: MessageType.DISCOVER, discover: {} })[0]; // 4 (the body's length)
 * ```
 */
export function encodeFrame(m: RendezvousMessage): Uint8Array {
  const body = encodeMessage(m);
  const prefix = encodeUvarint(body.byteLength);
  const out = new Uint8Array(prefix.byteLength + body.byteLength);
  out.set(prefix, 0);
  out.set(body, prefix.byteLength);
  return out;
}

function readSub(r: ProtobufReader, tag: FieldTag): ProtobufReader {
  r.expect(tag, WireType.LENGTH_DELIMITED);
  return new ProtobufReader(r.readBytes());
}

function readVarint64(r: ProtobufReader, tag: FieldTag): bigint {
  r.expect(tag, WireType.VARINT);
  return r.readUint64();
}

function readStatus(r: ProtobufReader, tag: FieldTag): number {
  // A status that does not fit a number is not one of ours: keep it out of range.
  const v = readVarint64(r, tag);
  return v > 0xffff_ffffn ? -1 : Number(v);
}

function decodeRegister(r: ProtobufReader): Register {
  let ns: string | undefined;
  let signedPeerRecord: Uint8Array | undefined;
  let ttl: bigint | undefined;
  for (let tag = r.readTag(); tag !== undefined; tag = r.readTag()) {
    if (tag.field === 1) {
      r.expect(tag, WireType.LENGTH_DELIMITED);
      ns = r.readString();
    } else if (tag.field === 2) {
      r.expect(tag, WireType.LENGTH_DELIMITED);
      signedPeerRecord = r.readBytes().slice();
    } else if (tag.field === 3) ttl = readVarint64(r, tag);
    else r.skip(tag.wireType);
  }
  return { ns: ns ?? "", signedPeerRecord: signedPeerRecord ?? new Uint8Array(0), ttl };
}

function decodeRegisterResponse(r: ProtobufReader): RegisterResponse {
  let status: number | undefined;
  let statusText: string | undefined;
  let ttl: bigint | undefined;
  for (let tag = r.readTag(); tag !== undefined; tag = r.readTag()) {
    if (tag.field === 1) status = readStatus(r, tag);
    else if (tag.field === 2) {
      r.expect(tag, WireType.LENGTH_DELIMITED);
      statusText = r.readString();
    } else if (tag.field === 3) ttl = readVarint64(r, tag);
    else r.skip(tag.wireType);
  }
  if (status === undefined) throw new DecodeError("RegisterResponse without a status");
  return { status, statusText, ttl };
}

function decodeUnregister(r: ProtobufReader): Unregister {
  let ns = "";
  for (let tag = r.readTag(); tag !== undefined; tag = r.readTag()) {
    if (tag.field === 1) {
      r.expect(tag, WireType.LENGTH_DELIMITED);
      ns = r.readString();
    } else r.skip(tag.wireType); // field 2 (id) is deprecated: the sender is the peer
  }
  return { ns };
}

function readCookie(r: ProtobufReader, tag: FieldTag): Uint8Array {
  r.expect(tag, WireType.LENGTH_DELIMITED);
  const cookie = r.readBytes();
  if (cookie.byteLength > MAX_COOKIE_BYTES) {
    throw new LimitExceededError("rendezvous cookie too long", "MAX_COOKIE_BYTES");
  }
  return cookie.slice();
}

function decodeDiscover(r: ProtobufReader): Discover {
  const d: Discover = {};
  for (let tag = r.readTag(); tag !== undefined; tag = r.readTag()) {
    if (tag.field === 1) {
      r.expect(tag, WireType.LENGTH_DELIMITED);
      d.ns = r.readString();
    } else if (tag.field === 2) d.limit = readVarint64(r, tag);
    else if (tag.field === 3) d.cookie = readCookie(r, tag);
    else r.skip(tag.wireType);
  }
  return d;
}

function decodeDiscoverResponse(r: ProtobufReader): DiscoverResponse {
  const registrations: Register[] = [];
  let cookie: Uint8Array | undefined;
  let status: number | undefined;
  let statusText: string | undefined;
  for (let tag = r.readTag(); tag !== undefined; tag = r.readTag()) {
    if (tag.field === 1) {
      if (registrations.length >= MAX_DISCOVER_LIMIT) {
        throw new LimitExceededError(
          `more than ${MAX_DISCOVER_LIMIT} registrations in a DISCOVER_RESPONSE`,
          "MAX_DISCOVER_LIMIT",
        );
      }
      registrations.push(decodeRegister(readSub(r, tag)));
    } else if (tag.field === 2) cookie = readCookie(r, tag);
    else if (tag.field === 3) status = readStatus(r, tag);
    else if (tag.field === 4) {
      r.expect(tag, WireType.LENGTH_DELIMITED);
      statusText = r.readString();
    } else r.skip(tag.wireType);
  }
  // rust-libp2p always writes the status; a response without one is taken as OK only when it
  // carries something (go-style encoders leave proto3 zero values out).
  return { registrations, cookie, status: status ?? 0, statusText };
}

/**
 * Decode a Message body. Throws DecodeError for malformed protobuf, an unknown or missing
 * type, a missing body for the type or invalid UTF-8, and LimitExceededError past the caps.
 *
 * @example
 * ```ts
 * import { decodeMessage } from "@p2p-edge/libp2p/protocols/rendezvous";
 * decodeMessage(new Uint8Array([8, 2, 34, 3, 10, 1, 97])).unregister?.ns; // "a"
 * ```
 */
export function decodeMessage(bytes: Uint8Array): RendezvousMessage {
  const r = new ProtobufReader(bytes);
  let type: number | undefined;
  const m: Partial<RendezvousMessage> = {};
  for (let tag = r.readTag(); tag !== undefined; tag = r.readTag()) {
    switch (tag.field) {
      case 1:
        {
          const v = readVarint64(r, tag);
          type = v <= BigInt(MessageType.DISCOVER_RESPONSE) ? Number(v) : -1;
        }
        break;
      case 2:
        m.register = decodeRegister(readSub(r, tag));
        break;
      case 3:
        m.registerResponse = decodeRegisterResponse(readSub(r, tag));
        break;
      case 4:
        m.unregister = decodeUnregister(readSub(r, tag));
        break;
      case 5:
        m.discover = decodeDiscover(readSub(r, tag));
        break;
      case 6:
        m.discoverResponse = decodeDiscoverResponse(readSub(r, tag));
        break;
      default:
        r.skip(tag.wireType);
    }
  }
  if (type === undefined || type < 0) {
    throw new DecodeError("rendezvous message without a known type");
  }
  const t = type as MessageTypeValue;
  // A DISCOVER may be empty (every namespace, no limit); every other type needs its body.
  if (t === MessageType.DISCOVER) m.discover ??= {};
  const body = {
    [MessageType.REGISTER]: m.register,
    [MessageType.REGISTER_RESPONSE]: m.registerResponse,
    [MessageType.UNREGISTER]: m.unregister,
    [MessageType.DISCOVER]: m.discover,
    [MessageType.DISCOVER_RESPONSE]: m.discoverResponse,
  }[t];
  if (body === undefined) throw new DecodeError(`rendezvous message of type ${t} without its body`);
  return { ...m, type: t };
}
