/**
 * The small part of HTTP/3 a WebTransport client needs, pure and synchronous: QUIC varints
 * (RFC 9000 §16), HTTP/3 frames and SETTINGS (RFC 9114 §7), an extended CONNECT request
 * (RFC 9220) encoded with QPACK static-table references and plain literals (RFC 9204 §4.5, no
 * dynamic table, no Huffman), the `:status` of the response, and the WebTransport stream header
 * (draft-ietf-webtrans-http3 §4).
 *
 * Decoders return `undefined` when they need more bytes and throw {@link DecodeError} for
 * malformed input.
 *
 * @module
 */

import { concat, utf8Encode } from "../../src/bytes.ts";
import { DecodeError, LimitExceededError } from "../../src/errors.ts";
import {
  H3_FRAME_HEADERS,
  H3_FRAME_SETTINGS,
  H3_SETTING_ENABLE_CONNECT_PROTOCOL,
  H3_SETTING_ENABLE_WEBTRANSPORT,
  H3_SETTING_H3_DATAGRAM,
  H3_SETTING_WEBTRANSPORT_MAX_SESSIONS,
  H3_STREAM_CONTROL,
  MAX_H3_FRAME_BYTES,
  MAX_H3_SETTINGS,
  WT_BIDI_SIGNAL,
} from "./constants.ts";

/** Largest QUIC varint value (2^62 - 1) is above 2^53: values above MAX_SAFE_INTEGER throw. */
const MAX_VARINT = Number.MAX_SAFE_INTEGER;

/**
 * Encode a QUIC variable-length integer (RFC 9000 §16), shortest form.
 *
 * @example
 * ```ts
 * import { encodeQuicVarint } from "@p2p-edge/libp2p/transports/webtransport";
 * encodeQuicVarint(0x41); // Uint8Array [0x40, 0x41]
 * ```
 */
export function encodeQuicVarint(value: number): Uint8Array {
  if (!Number.isSafeInteger(value) || value < 0) throw new RangeError("varint out of range");
  if (value < 0x40) return new Uint8Array([value]);
  if (value < 0x4000) return new Uint8Array([0x40 | (value >> 8), value & 0xff]);
  if (value < 0x40000000) {
    const out = new Uint8Array(4);
    new DataView(out.buffer).setUint32(0, value);
    out[0] |= 0x80;
    return out;
  }
  const out = new Uint8Array(8);
  new DataView(out.buffer).setBigUint64(0, BigInt(value));
  out[0] |= 0xc0;
  return out;
}

/**
 * Decode a QUIC varint at `offset`: `{ value, length }`, or `undefined` when truncated.
 *
 * @example
 * ```ts
 * import { decodeQuicVarint } from "@p2p-edge/libp2p/transports/webtransport";
 * decodeQuicVarint(new Uint8Array([0x40, 0x41]), 0); // { value: 65, length: 2 }
 * ```
 */
export function decodeQuicVarint(
  bytes: Uint8Array,
  offset: number,
): { value: number; length: number } | undefined {
  if (offset >= bytes.byteLength) return undefined;
  const length = 1 << (bytes[offset] >> 6);
  if (offset + length > bytes.byteLength) return undefined;
  let value = bytes[offset] & 0x3f;
  for (let i = 1; i < length; i++) value = value * 256 + bytes[offset + i];
  if (value > MAX_VARINT) throw new DecodeError("QUIC varint above 2^53");
  return { value, length };
}

/** One HTTP/3 frame. */
export interface H3Frame {
  /** Frame type. */
  readonly type: number;
  /** Frame payload (a view into the input). */
  readonly payload: Uint8Array;
  /** Bytes the whole frame took. */
  readonly length: number;
}

/**
 * Encode an HTTP/3 frame: type, length, payload (RFC 9114 §7.1).
 *
 * @example
 * ```ts
 * import { encodeH3Frame } from "@p2p-edge/libp2p/transports/webtransport";
 * encodeH3Frame(0x04, new Uint8Array(0)); // Uint8Array [4, 0]
 * ```
 */
export function encodeH3Frame(type: number, payload: Uint8Array): Uint8Array {
  return concat([encodeQuicVarint(type), encodeQuicVarint(payload.byteLength), payload]);
}

/**
 * Decode one HTTP/3 frame at `offset`, or `undefined` when more bytes are needed. Frames whose
 * declared length passes `maxBytes` throw LimitExceededError before anything is buffered.
 *
 * @example
 * ```ts
 * import { decodeH3Frame } from "@p2p-edge/libp2p/transports/webtransport";
 * decodeH3Frame(new Uint8Array([4, 0]), 0)?.type; // 4
 * ```
 */
export function decodeH3Frame(
  bytes: Uint8Array,
  offset: number,
  maxBytes: number = MAX_H3_FRAME_BYTES,
): H3Frame | undefined {
  const type = decodeQuicVarint(bytes, offset);
  if (type === undefined) return undefined;
  const len = decodeQuicVarint(bytes, offset + type.length);
  if (len === undefined) return undefined;
  if (len.value > maxBytes) {
    throw new LimitExceededError(
      `HTTP/3 frame of ${len.value} bytes is above ${maxBytes}`,
      "MAX_H3_FRAME_BYTES",
    );
  }
  const start = offset + type.length + len.length;
  if (start + len.value > bytes.byteLength) return undefined;
  return {
    type: type.value,
    payload: bytes.subarray(start, start + len.value),
    length: start + len.value - offset,
  };
}

/**
 * The client's control stream opening: stream type 0x00 and a SETTINGS frame announcing
 * datagrams and WebTransport (both the draft-02 flag Chrome sends and the later max-sessions).
 *
 * @example
 * ```ts
 * import { encodeClientControlStream } from "@p2p-edge/libp2p/transports/webtransport";
 * encodeClientControlStream()[0]; // 0 (control stream)
 * ```
 */
export function encodeClientControlStream(): Uint8Array {
  const pairs: [number, number][] = [
    [H3_SETTING_ENABLE_CONNECT_PROTOCOL, 1],
    [H3_SETTING_H3_DATAGRAM, 1],
    [H3_SETTING_ENABLE_WEBTRANSPORT, 1],
    [H3_SETTING_WEBTRANSPORT_MAX_SESSIONS, 1],
  ];
  const payload = concat(pairs.flatMap(([k, v]) => [encodeQuicVarint(k), encodeQuicVarint(v)]));
  return concat([encodeQuicVarint(H3_STREAM_CONTROL), encodeH3Frame(H3_FRAME_SETTINGS, payload)]);
}

/**
 * Decode a SETTINGS payload into identifier -> value. Duplicates and more than
 * {@link MAX_H3_SETTINGS} pairs throw.
 *
 * @example
 * ```ts
 * import { decodeSettings } from "@p2p-edge/libp2p/transports/webtransport";
 * decodeSettings(new Uint8Array([0x33, 0x01])).get(0x33); // 1
 * ```
 */
export function decodeSettings(payload: Uint8Array): Map<number, number> {
  const out = new Map<number, number>();
  let offset = 0;
  while (offset < payload.byteLength) {
    const id = decodeQuicVarint(payload, offset);
    if (id === undefined) throw new DecodeError("SETTINGS truncated");
    const value = decodeQuicVarint(payload, offset + id.length);
    if (value === undefined) throw new DecodeError("SETTINGS truncated");
    offset += id.length + value.length;
    if (out.has(id.value)) throw new DecodeError(`duplicate setting 0x${id.value.toString(16)}`);
    if (out.size >= MAX_H3_SETTINGS) {
      throw new LimitExceededError("too many SETTINGS", "MAX_H3_SETTINGS");
    }
    out.set(id.value, value.value);
  }
  return out;
}

/**
 * Whether peer SETTINGS allow WebTransport: datagrams on, and either the draft-02 flag or a
 * positive session limit.
 *
 * @example
 * ```ts
 * import { settingsSupportWebTransport } from "@p2p-edge/libp2p/transports/webtransport";
 * settingsSupportWebTransport(new Map([[0x33, 1], [0x2b603742, 1]])); // true
 * ```
 */
export function settingsSupportWebTransport(settings: ReadonlyMap<number, number>): boolean {
  if (settings.get(H3_SETTING_H3_DATAGRAM) !== 1) return false;
  return settings.get(H3_SETTING_ENABLE_WEBTRANSPORT) === 1 ||
    (settings.get(H3_SETTING_WEBTRANSPORT_MAX_SESSIONS) ?? 0) > 0;
}

/** QPACK prefixed integer (RFC 7541 §5.1 as used by RFC 9204 §4.1.1). */
function qpackInt(first: number, prefixBits: number, value: number): Uint8Array {
  const max = (1 << prefixBits) - 1;
  if (value < max) return new Uint8Array([first | value]);
  const out = [first | max];
  let rest = value - max;
  while (rest >= 128) {
    out.push((rest % 128) | 0x80);
    rest = Math.floor(rest / 128);
  }
  out.push(rest);
  return new Uint8Array(out);
}

function readQpackInt(
  bytes: Uint8Array,
  offset: number,
  prefixBits: number,
): { value: number; next: number } {
  if (offset >= bytes.byteLength) throw new DecodeError("QPACK integer truncated");
  const max = (1 << prefixBits) - 1;
  let value = bytes[offset] & max;
  let next = offset + 1;
  if (value < max) return { value, next };
  let shift = 0;
  for (;;) {
    if (next >= bytes.byteLength) throw new DecodeError("QPACK integer truncated");
    if (shift > 28) throw new DecodeError("QPACK integer too large");
    const b = bytes[next++];
    value += (b & 0x7f) * 2 ** shift;
    shift += 7;
    if ((b & 0x80) === 0) return { value, next };
  }
}

function literalString(text: string, first: number, prefixBits: number): Uint8Array {
  const bytes = utf8Encode(text);
  return concat([qpackInt(first, prefixBits, bytes.byteLength), bytes]);
}

// RFC 9204 Appendix A static table indexes used here.
const STATIC_AUTHORITY = 0;
const STATIC_PATH = 1;
const STATIC_METHOD_CONNECT = 15;
const STATIC_SCHEME_HTTPS = 23;
/** Static entries whose name is `:status`, with their values. */
const STATIC_STATUS = new Map<number, number>([
  [24, 103],
  [25, 200],
  [26, 304],
  [27, 404],
  [28, 503],
  [63, 100],
  [64, 204],
  [65, 206],
  [66, 302],
  [67, 400],
  [68, 403],
  [69, 421],
  [70, 425],
  [71, 500],
]);

/**
 * The HEADERS frame of an extended CONNECT for WebTransport (RFC 9220 §3, draft-ietf-webtrans-
 * http3 §3.2): `:method CONNECT`, `:protocol webtransport`, `:scheme https`, `:authority`,
 * `:path`, plus the draft-02 header older servers (webtransport-go) require.
 *
 * @example
 * ```ts
 * import { encodeConnectRequest } from "@p2p-edge/libp2p/transports/webtransport";
 * const frame = encodeConnectRequest("127.0.0.1:4433", "/.well-known/libp2p-webtransport?type=noise");
 * frame[0]; // 1 (HEADERS)
 * ```
 */
export function encodeConnectRequest(authority: string, path: string): Uint8Array {
  const fields = concat([
    new Uint8Array([0x00, 0x00]), // Required Insert Count 0, Base 0 (no dynamic table)
    qpackInt(0xc0, 6, STATIC_METHOD_CONNECT), // indexed field line, static
    qpackInt(0xc0, 6, STATIC_SCHEME_HTTPS),
    qpackInt(0x50, 4, STATIC_AUTHORITY), // literal with static name reference
    literalString(authority, 0x00, 7),
    qpackInt(0x50, 4, STATIC_PATH),
    literalString(path, 0x00, 7),
    literalString(":protocol", 0x20, 3), // literal with literal name
    literalString("webtransport", 0x00, 7),
    literalString("sec-webtransport-http3-draft02", 0x20, 3),
    literalString("1", 0x00, 7),
  ]);
  return encodeH3Frame(H3_FRAME_HEADERS, fields);
}

function skipString(bytes: Uint8Array, offset: number, prefixBits: number): {
  value: Uint8Array;
  huffman: boolean;
  next: number;
} {
  const huffman = (bytes[offset] & (1 << prefixBits)) !== 0;
  const len = readQpackInt(bytes, offset, prefixBits);
  if (len.next + len.value > bytes.byteLength) throw new DecodeError("QPACK string truncated");
  return {
    value: bytes.subarray(len.next, len.next + len.value),
    huffman,
    next: len.next + len.value,
  };
}

/**
 * The `:status` of a response HEADERS payload (a QPACK field section). Only static-table
 * references and literals are accepted: a dynamic-table reference throws (we announce a zero
 * table capacity, so a server must not use one). A Huffman-coded `:status` literal throws too.
 *
 * @example
 * ```ts
 * import { decodeResponseStatus } from "@p2p-edge/libp2p/transports/webtransport";
 * decodeResponseStatus(new Uint8Array([0x00, 0x00, 0xd9])); // 200
 * ```
 */
export function decodeResponseStatus(fieldSection: Uint8Array): number {
  const ric = readQpackInt(fieldSection, 0, 8);
  if (ric.value !== 0) throw new DecodeError("response uses the QPACK dynamic table");
  let offset = readQpackInt(fieldSection, ric.next, 7).next; // delta base: unused without table
  let status: number | undefined;
  while (offset < fieldSection.byteLength) {
    const b = fieldSection[offset];
    if (b & 0x80) {
      // Indexed field line: 1 T index(6)
      if ((b & 0x40) === 0) throw new DecodeError("response uses the QPACK dynamic table");
      const index = readQpackInt(fieldSection, offset, 6);
      const value = STATIC_STATUS.get(index.value);
      if (value !== undefined) status = value;
      offset = index.next;
    } else if (b & 0x40) {
      // Literal with name reference: 01 N T index(4), then the value
      if ((b & 0x10) === 0) throw new DecodeError("response uses the QPACK dynamic table");
      const index = readQpackInt(fieldSection, offset, 4);
      const value = skipString(fieldSection, index.next, 7);
      if (STATIC_STATUS.has(index.value)) {
        if (value.huffman) throw new DecodeError("Huffman-coded :status is not supported");
        status = Number(new TextDecoder().decode(value.value));
      }
      offset = value.next;
    } else if (b & 0x20) {
      // Literal with literal name: 001 N H len(3), name, then the value
      const nameField = skipString(fieldSection, offset, 3);
      offset = skipString(fieldSection, nameField.next, 7).next;
    } else {
      throw new DecodeError("response uses the QPACK dynamic table (post-base)");
    }
  }
  if (status === undefined || !Number.isInteger(status)) {
    throw new DecodeError("response has no :status");
  }
  return status;
}

/**
 * The header that starts a WebTransport bidirectional stream: signal 0x41 and session id.
 *
 * @example
 * ```ts
 * import { encodeBidiStreamHeader } from "@p2p-edge/libp2p/transports/webtransport";
 * encodeBidiStreamHeader(0); // Uint8Array [0x40, 0x41, 0x00]
 * ```
 */
export function encodeBidiStreamHeader(sessionId: number): Uint8Array {
  return concat([encodeQuicVarint(WT_BIDI_SIGNAL), encodeQuicVarint(sessionId)]);
}

/**
 * Decode a WebTransport bidirectional stream header: `{ sessionId, length }`, or `undefined`
 * when more bytes are needed. Another signal value throws.
 *
 * @example
 * ```ts
 * import { decodeBidiStreamHeader } from "@p2p-edge/libp2p/transports/webtransport";
 * decodeBidiStreamHeader(new Uint8Array([0x40, 0x41, 0x04])); // { sessionId: 4, length: 3 }
 * ```
 */
export function decodeBidiStreamHeader(
  bytes: Uint8Array,
): { sessionId: number; length: number } | undefined {
  const signal = decodeQuicVarint(bytes, 0);
  if (signal === undefined) return undefined;
  if (signal.value !== WT_BIDI_SIGNAL) {
    throw new DecodeError(`not a WebTransport stream (signal 0x${signal.value.toString(16)})`);
  }
  const id = decodeQuicVarint(bytes, signal.length);
  if (id === undefined) return undefined;
  return { sessionId: id.value, length: signal.length + id.length };
}
