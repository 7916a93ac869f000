/**
 * Wire codec of AutoNAT v2 (libp2p/specs `autonat/autonat-v2.md` §RPC messages): the
 * uvarint-framed `Message` of `/libp2p/autonat/2/dial-request` and the `DialBack` /
 * `DialBackResponse` of `/libp2p/autonat/2/dial-back`.
 *
 * ```proto
 * message Message { oneof msg { DialRequest dialRequest = 1; DialResponse dialResponse = 2;
 *   DialDataRequest dialDataRequest = 3; DialDataResponse dialDataResponse = 4; } }
 * message DialRequest { repeated bytes addrs = 1; fixed64 nonce = 2; }
 * message DialDataRequest { uint32 addrIdx = 1; uint64 numBytes = 2; }
 * enum DialStatus { UNUSED = 0; E_DIAL_ERROR = 100; E_DIAL_BACK_ERROR = 101; OK = 200; }
 * message DialResponse { enum ResponseStatus { E_INTERNAL_ERROR = 0; E_REQUEST_REJECTED = 100;
 *   E_DIAL_REFUSED = 101; OK = 200; } ResponseStatus status = 1; uint32 addrIdx = 2;
 *   DialStatus dialStatus = 3; }
 * message DialDataResponse { bytes data = 1; }
 * message DialBack { fixed64 nonce = 1; }
 * message DialBackResponse { enum DialBackStatus { OK = 0; } DialBackStatus status = 1; }
 * ```
 *
 * Limits: a frame is at most {@link MAX_V2_MESSAGE_BYTES} (go and js: 8 KiB), checked before the
 * body is buffered (HARDENING.md rule 1); addresses beyond {@link MAX_V2_ADDRS} are refused
 * (HARDENING.md rule 2). A message with no known oneof field is a DecodeError.
 *
 * @module
 */

import { DecodeError, LimitExceededError } from "../../src/errors.ts";
import { MAX_MULTIADDR_BYTES } from "../../src/multiaddr/codec.ts";
import { ProtobufReader, ProtobufWriter, WireType } from "../../src/protobuf.ts";
import { uvarintLength, writeUvarint } from "../../src/varint.ts";

/** The dial-request protocol id (spec §Protocol). */
export const DIAL_REQUEST_PROTOCOL = "/libp2p/autonat/2/dial-request";

/** The dial-back protocol id (spec §Protocol). */
export const DIAL_BACK_PROTOCOL = "/libp2p/autonat/2/dial-back";

/** Largest framed v2 message, bytes (go `maxMsgSize` and js `maxMessageSize`: 8 KiB). */
export const MAX_V2_MESSAGE_BYTES = 8192;

/** Most addresses in one DialRequest (go `maxPeerAddresses` 50; HARDENING.md rule 2). */
export const MAX_V2_ADDRS = 50;

/** Largest `data` of one DialDataResponse, bytes (spec: at most 4096). */
export const MAX_DIAL_DATA_CHUNK = 4096;

/** DialResponse status (spec §DialResponse). */
export const ResponseStatus = {
  E_INTERNAL_ERROR: 0,
  E_REQUEST_REJECTED: 100,
  E_DIAL_REFUSED: 101,
  OK: 200,
} as const;

/** DialStatus of the one address the server dialled (spec §DialResponse). */
export const DialStatus = {
  UNUSED: 0,
  E_DIAL_ERROR: 100,
  E_DIAL_BACK_ERROR: 101,
  OK: 200,
} as const;

/** One message on the dial-request stream. */
export type V2Message =
  | { type: "dialRequest"; addrs: Uint8Array[]; nonce: bigint }
  | { type: "dialResponse"; status: number; addrIdx: number; dialStatus: number }
  | { type: "dialDataRequest"; addrIdx: number; numBytes: bigint }
  | { type: "dialDataResponse"; data: Uint8Array };

/**
 * Encode a Message body (no length prefix).
 *
 * @example
 * ```ts
 * import { encodeV2Message } from "@p2p-edge/libp2p/protocols/autonat";
 * encodeV2Message({ type: "dialDataResponse", data: new Uint8Array(2) });
 * // Uint8Array [0x22, 4, 0x0a, 2, 0, 0]
 * ```
 */
export function encodeV2Message(message: V2Message): Uint8Array {
  const inner = new ProtobufWriter();
  let field: number;
  switch (message.type) {
    case "dialRequest":
      if (message.addrs.length > MAX_V2_ADDRS) {
        throw new LimitExceededError(
          `DialRequest of ${message.addrs.length} addresses`,
          "MAX_V2_ADDRS",
        );
      }
      for (const a of message.addrs) inner.bytes(1, a);
      inner.fixed64(2, message.nonce);
      field = 1;
      break;
    case "dialResponse":
      if (message.status !== 0) inner.uint(1, message.status);
      if (message.addrIdx !== 0) inner.uint(2, message.addrIdx);
      if (message.dialStatus !== 0) inner.uint(3, message.dialStatus);
      field = 2;
      break;
    case "dialDataRequest":
      if (message.addrIdx !== 0) inner.uint(1, message.addrIdx);
      if (message.numBytes !== 0n) inner.uint(2, message.numBytes);
      field = 3;
      break;
    case "dialDataResponse":
      if (message.data.byteLength > 0) inner.bytes(1, message.data);
      field = 4;
      break;
  }
  return new ProtobufWriter().message(field, inner).finish();
}

/**
 * Decode a Message body. Throws DecodeError for malformed bytes or no known message.
 *
 * @example
 * ```ts
 * import { decodeV2Message, encodeV2Message } from "@p2p-edge/libp2p/protocols/autonat";
 * const m = decodeV2Message(encodeV2Message({ type: "dialDataRequest", addrIdx: 1, numBytes: 30000n }));
 * m.type; // "dialDataRequest"
 * ```
 */
export function decodeV2Message(bytes: Uint8Array): V2Message {
  const r = new ProtobufReader(bytes);
  let found: V2Message | undefined;
  for (let tag = r.readTag(); tag !== undefined; tag = r.readTag()) {
    if (tag.field >= 1 && tag.field <= 4) {
      r.expect(tag, WireType.LENGTH_DELIMITED);
      const body = r.readBytes();
      // A oneof: the last one on the wire wins (protobuf rule).
      found = decodeInner(tag.field, body);
    } else {
      r.skip(tag.wireType);
    }
  }
  if (found === undefined) throw new DecodeError("AutoNAT v2 message carries no known message");
  return found;
}

function decodeInner(field: number, bytes: Uint8Array): V2Message {
  const r = new ProtobufReader(bytes);
  if (field === 1) {
    const addrs: Uint8Array[] = [];
    let nonce = 0n;
    for (let tag = r.readTag(); tag !== undefined; tag = r.readTag()) {
      if (tag.field === 1) {
        r.expect(tag, WireType.LENGTH_DELIMITED);
        const a = r.readBytes();
        if (addrs.length >= MAX_V2_ADDRS) {
          throw new LimitExceededError(
            `DialRequest with more than ${MAX_V2_ADDRS} addresses`,
            "MAX_V2_ADDRS",
          );
        }
        if (a.byteLength > MAX_MULTIADDR_BYTES) {
          throw new DecodeError("DialRequest address too long");
        }
        addrs.push(a.slice());
      } else if (tag.field === 2) {
        r.expect(tag, WireType.FIXED64);
        nonce = r.readFixed64();
      } else r.skip(tag.wireType);
    }
    return { type: "dialRequest", addrs, nonce };
  }
  if (field === 2) {
    let status = 0, addrIdx = 0, dialStatus = 0;
    for (let tag = r.readTag(); tag !== undefined; tag = r.readTag()) {
      if (tag.field >= 1 && tag.field <= 3) {
        r.expect(tag, WireType.VARINT);
        const v = r.readUint();
        if (tag.field === 1) status = v;
        else if (tag.field === 2) addrIdx = v;
        else dialStatus = v;
      } else r.skip(tag.wireType);
    }
    return { type: "dialResponse", status, addrIdx, dialStatus };
  }
  if (field === 3) {
    let addrIdx = 0, numBytes = 0n;
    for (let tag = r.readTag(); tag !== undefined; tag = r.readTag()) {
      if (tag.field === 1) {
        r.expect(tag, WireType.VARINT);
        addrIdx = r.readUint();
      } else if (tag.field === 2) {
        r.expect(tag, WireType.VARINT);
        numBytes = r.readUint64();
      } else r.skip(tag.wireType);
    }
    return { type: "dialDataRequest", addrIdx, numBytes };
  }
  let data: Uint8Array = new Uint8Array(0);
  for (let tag = r.readTag(); tag !== undefined; tag = r.readTag()) {
    if (tag.field === 1) {
      r.expect(tag, WireType.LENGTH_DELIMITED);
      data = r.readBytes();
      if (data.byteLength > MAX_DIAL_DATA_CHUNK) {
        throw new LimitExceededError(
          `dial data chunk of ${data.byteLength} bytes`,
          "MAX_DIAL_DATA_CHUNK",
        );
      }
    } else r.skip(tag.wireType);
  }
  return { type: "dialDataResponse", data };
}

/**
 * Encode DialBack{nonce} (no length prefix).
 *
 * @example
 * ```ts
 * import { encodeDialBack } from "@p2p-edge/libp2p/protocols/autonat";
 * encodeDialBack(1n).byteLength; // 9
 * ```
 */
export function encodeDialBack(nonce: bigint): Uint8Array {
  return new ProtobufWriter().fixed64(1, nonce).finish();
}

/**
 * Decode DialBack: its nonce (0 when absent).
 *
 * @example
 * ```ts
 * import { decodeDialBack, encodeDialBack } from "@p2p-edge/libp2p/protocols/autonat";
 * decodeDialBack(encodeDialBack(42n)); // 42n
 * ```
 */
export function decodeDialBack(bytes: Uint8Array): bigint {
  const r = new ProtobufReader(bytes);
  let nonce = 0n;
  for (let tag = r.readTag(); tag !== undefined; tag = r.readTag()) {
    if (tag.field === 1) {
      r.expect(tag, WireType.FIXED64);
      nonce = r.readFixed64();
    } else r.skip(tag.wireType);
  }
  return nonce;
}

/**
 * Encode DialBackResponse{status} (OK is 0, the default: an empty body).
 *
 * @example
 * ```ts
 * import { encodeDialBackResponse } from "@p2p-edge/libp2p/protocols/autonat";
 * encodeDialBackResponse(0).byteLength; // 0
 * ```
 */
export function encodeDialBackResponse(status: number): Uint8Array {
  const w = new ProtobufWriter();
  if (status !== 0) w.uint(1, status);
  return w.finish();
}

/**
 * Decode DialBackResponse: its status (0 = OK).
 *
 * @example
 * ```ts
 * import { decodeDialBackResponse } from "@p2p-edge/libp2p/protocols/autonat";
 * decodeDialBackResponse(new Uint8Array(0)); // 0
 * ```
 */
export function decodeDialBackResponse(bytes: Uint8Array): number {
  const r = new ProtobufReader(bytes);
  let status = 0;
  for (let tag = r.readTag(); tag !== undefined; tag = r.readTag()) {
    if (tag.field === 1) {
      r.expect(tag, WireType.VARINT);
      status = r.readUint();
    } else r.skip(tag.wireType);
  }
  return status;
}

/**
 * Prefix a body with its uvarint length. Throws LimitExceededError beyond `max` bytes.
 *
 * @example
 * ```ts
 * import { frame } from "@p2p-edge/libp2p/protocols/autonat";
 * frame(new Uint8Array([1, 2])); // Uint8Array [2, 1, 2]
 * ```
 */
export function frame(body: Uint8Array, max: number = MAX_V2_MESSAGE_BYTES): Uint8Array {
  if (body.byteLength > max) {
    throw new LimitExceededError(
      `AutoNAT message of ${body.byteLength} bytes exceeds ${max}`,
      "MAX_MESSAGE_BYTES",
    );
  }
  const out = new Uint8Array(uvarintLength(body.byteLength) + body.byteLength);
  out.set(body, writeUvarint(body.byteLength, out, 0));
  return out;
}
