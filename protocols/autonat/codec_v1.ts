/**
 * Wire codec of AutoNAT v1 (libp2p/specs `autonat/autonat-v1.md` §Protocol): one uvarint-framed
 * `Message` each way on `/libp2p/autonat/1.0.0`.
 *
 * ```proto
 * message Message { enum MessageType { DIAL = 0; DIAL_RESPONSE = 1; }
 *   enum ResponseStatus { OK = 0; E_DIAL_ERROR = 100; E_DIAL_REFUSED = 101; E_BAD_REQUEST = 200;
 *     E_INTERNAL_ERROR = 300; }
 *   message PeerInfo { optional bytes id = 1; repeated bytes addrs = 2; }
 *   message Dial { optional PeerInfo peer = 1; }
 *   message DialResponse { optional ResponseStatus status = 1; optional string statusText = 2;
 *     optional bytes addr = 3; }
 *   optional MessageType type = 1; optional Dial dial = 2; optional DialResponse dialResponse = 3; }
 * ```
 *
 * Limits: a frame is at most {@link MAX_V1_MESSAGE_BYTES} (go `maxMsgSize` 4096), checked before the
 * body is buffered (HARDENING.md rule 1); more than {@link MAX_V1_ADDRS} addresses is a
 * LimitExceededError (HARDENING.md rule 2); the status text is cut at 256 characters.
 *
 * @module
 */

import { DecodeError, LimitExceededError } from "../../src/errors.ts";
import { MAX_MULTIADDR_BYTES } from "../../src/multiaddr/codec.ts";
import { ProtobufReader, ProtobufWriter, WireType } from "../../src/protobuf.ts";

/** The AutoNAT v1 protocol id. */
export const V1_PROTOCOL = "/libp2p/autonat/1.0.0";

/** Largest framed v1 message, bytes (go `maxMsgSize` 4096). */
export const MAX_V1_MESSAGE_BYTES = 4096;

/** Most addresses decoded from a DIAL (go `maxPeerAddresses` 16 is applied by the server). */
export const MAX_V1_ADDRS = 64;

/** v1 message types. */
export const V1Type = { DIAL: 0, DIAL_RESPONSE: 1 } as const;

/** v1 response status codes. */
export const V1Status = {
  OK: 0,
  E_DIAL_ERROR: 100,
  E_DIAL_REFUSED: 101,
  E_BAD_REQUEST: 200,
  E_INTERNAL_ERROR: 300,
} as const;

/** One v1 message (DIAL carries `peer`, DIAL_RESPONSE carries `response`). */
export interface V1Message {
  /** {@link V1Type} value. */
  type: number;
  /** DIAL: who to dial back, at which addresses (binary multiaddrs). */
  peer?: { id?: Uint8Array; addrs: Uint8Array[] };
  /** DIAL_RESPONSE: the outcome. */
  response?: { status: number; statusText?: string; addr?: Uint8Array };
}

/**
 * Encode a v1 Message body (no length prefix).
 *
 * @example
 * ```ts
 * import { encodeV1Message, V1Status, V1Type } from "@p2p-edge/libp2p/protocols/autonat";
 * encodeV1Message({ type: V1Type.DIAL_RESPONSE, response: { status: V1Status.OK } });
 * ```
 */
export function encodeV1Message(message: V1Message): Uint8Array {
  const w = new ProtobufWriter().uint(1, message.type);
  if (message.peer !== undefined) {
    const info = new ProtobufWriter();
    if (message.peer.id !== undefined) info.bytes(1, message.peer.id);
    for (const a of message.peer.addrs) info.bytes(2, a);
    w.message(2, new ProtobufWriter().message(1, info));
  }
  if (message.response !== undefined) {
    const r = new ProtobufWriter().uint(1, message.response.status);
    if (message.response.statusText !== undefined) r.string(2, message.response.statusText);
    if (message.response.addr !== undefined) r.bytes(3, message.response.addr);
    w.message(3, r);
  }
  return w.finish();
}

/**
 * Decode a v1 Message body. Throws DecodeError for malformed bytes.
 *
 * @example
 * ```ts
 * import { decodeV1Message, encodeV1Message, V1Type } from "@p2p-edge/libp2p/protocols/autonat";
 * decodeV1Message(encodeV1Message({ type: V1Type.DIAL, peer: { addrs: [] } })).type; // 0
 * ```
 */
export function decodeV1Message(bytes: Uint8Array): V1Message {
  const r = new ProtobufReader(bytes);
  const out: V1Message = { type: -1 };
  for (let tag = r.readTag(); tag !== undefined; tag = r.readTag()) {
    if (tag.field === 1) {
      r.expect(tag, WireType.VARINT);
      out.type = r.readUint();
    } else if (tag.field === 2) {
      r.expect(tag, WireType.LENGTH_DELIMITED);
      const dial = new ProtobufReader(r.readBytes());
      for (let t = dial.readTag(); t !== undefined; t = dial.readTag()) {
        if (t.field !== 1) {
          dial.skip(t.wireType);
          continue;
        }
        dial.expect(t, WireType.LENGTH_DELIMITED);
        out.peer = decodePeerInfo(dial.readBytes());
      }
      out.peer ??= { addrs: [] };
    } else if (tag.field === 3) {
      r.expect(tag, WireType.LENGTH_DELIMITED);
      const d = new ProtobufReader(r.readBytes());
      const response: NonNullable<V1Message["response"]> = { status: 0 };
      for (let t = d.readTag(); t !== undefined; t = d.readTag()) {
        if (t.field === 1) {
          d.expect(t, WireType.VARINT);
          response.status = d.readUint();
        } else if (t.field === 2) {
          d.expect(t, WireType.LENGTH_DELIMITED);
          response.statusText = d.readString().slice(0, 256);
        } else if (t.field === 3) {
          d.expect(t, WireType.LENGTH_DELIMITED);
          response.addr = d.readBytes().slice();
        } else d.skip(t.wireType);
      }
      out.response = response;
    } else r.skip(tag.wireType);
  }
  if (out.type !== V1Type.DIAL && out.type !== V1Type.DIAL_RESPONSE) {
    throw new DecodeError(`AutoNAT v1 message of unknown type ${out.type}`);
  }
  return out;
}

function decodePeerInfo(bytes: Uint8Array): { id?: Uint8Array; addrs: Uint8Array[] } {
  const r = new ProtobufReader(bytes);
  const info: { id?: Uint8Array; addrs: Uint8Array[] } = { addrs: [] };
  for (let tag = r.readTag(); tag !== undefined; tag = r.readTag()) {
    if (tag.field === 1) {
      r.expect(tag, WireType.LENGTH_DELIMITED);
      info.id = r.readBytes().slice();
    } else if (tag.field === 2) {
      r.expect(tag, WireType.LENGTH_DELIMITED);
      const a = r.readBytes();
      if (info.addrs.length >= MAX_V1_ADDRS) {
        throw new LimitExceededError(
          `DIAL with more than ${MAX_V1_ADDRS} addresses`,
          "MAX_V1_ADDRS",
        );
      }
      if (a.byteLength > MAX_MULTIADDR_BYTES) throw new DecodeError("DIAL address too long");
      info.addrs.push(a.slice());
    } else r.skip(tag.wireType);
  }
  return info;
}
