/**
 * Unsigned varints (LEB128) as used by multiformats and protobuf.
 *
 * The multiformats unsigned-varint spec (github.com/multiformats/unsigned-varint) requires the
 * minimal encoding and caps practical use at 9 bytes (63 bits); decoders here reject anything
 * else with a DecodeError. Values are JavaScript numbers checked against
 * Number.MAX_SAFE_INTEGER; use {@link decodeUvarintBigInt} for full 64-bit values.
 *
 * @module
 */

import { DecodeError } from "./errors.ts";

/** Longest varint the multiformats spec allows (9 bytes = 63 bits). */
export const MAX_UVARINT_BYTES = 9;
/** Longest varint protobuf allows (10 bytes = 64 bits). */
export const MAX_PROTOBUF_VARINT_BYTES = 10;

/** Result of decoding a varint: its value and how many bytes it used. */
export interface DecodedUvarint {
  /** The decoded value. */
  value: number;
  /** Number of bytes the encoding occupied. */
  length: number;
}

/** Options for {@link decodeUvarint}. */
export interface DecodeUvarintOptions {
  /** Reject non-minimal encodings (a trailing 0x00 group). Default true (multiformats rule). */
  minimal?: boolean;
  /** Maximum encoded length in bytes. Default {@link MAX_UVARINT_BYTES}. */
  maxBytes?: number;
}

/**
 * Number of bytes the varint encoding of `value` takes.
 *
 * @example
 * ```ts
 * import { uvarintLength } from "@p2p-edge/libp2p/varint";
 * uvarintLength(300); // 2
 * ```
 */
export function uvarintLength(value: number): number {
  checkEncodable(value);
  let n = 1;
  while (value >= 0x80) {
    value = Math.floor(value / 128);
    n++;
  }
  return n;
}

/**
 * Write the varint encoding of `value` into `target` at `offset`; returns the offset after it.
 *
 * @example
 * ```ts
 * import { writeUvarint } from "@p2p-edge/libp2p/varint";
 * const buf = new Uint8Array(2);
 * writeUvarint(300, buf, 0); // 2; buf is [0xac, 0x02]
 * ```
 */
export function writeUvarint(value: number, target: Uint8Array, offset: number): number {
  checkEncodable(value);
  while (value >= 0x80) {
    target[offset++] = (value & 0x7f) | 0x80;
    value = Math.floor(value / 128);
  }
  target[offset++] = value;
  return offset;
}

/**
 * Encode `value` as a new varint byte array.
 *
 * @example
 * ```ts
 * import { encodeUvarint } from "@p2p-edge/libp2p/varint";
 * encodeUvarint(300); // Uint8Array [0xac, 0x02]
 * ```
 */
export function encodeUvarint(value: number): Uint8Array {
  const out = new Uint8Array(uvarintLength(value));
  writeUvarint(value, out, 0);
  return out;
}

/**
 * Decode a varint at `offset`. Returns `undefined` when the bytes end before the varint does
 * ("need more bytes"); throws DecodeError when the encoding is too long, not minimal (unless
 * `minimal: false`), or above Number.MAX_SAFE_INTEGER.
 *
 * @example
 * ```ts
 * import { decodeUvarint } from "@p2p-edge/libp2p/varint";
 * decodeUvarint(new Uint8Array([0xac, 0x02])); // { value: 300, length: 2 }
 * decodeUvarint(new Uint8Array([0xac])); // undefined: incomplete
 * ```
 */
export function decodeUvarint(
  bytes: Uint8Array,
  offset = 0,
  options?: DecodeUvarintOptions,
): DecodedUvarint | undefined {
  const maxBytes = options?.maxBytes ?? MAX_UVARINT_BYTES;
  // Fast path: one byte.
  if (offset < bytes.byteLength && bytes[offset] < 0x80) {
    return { value: bytes[offset], length: 1 };
  }
  let value = 0;
  let scale = 1;
  for (let i = 0; i < maxBytes; i++) {
    const at = offset + i;
    if (at >= bytes.byteLength) return undefined;
    const b = bytes[at];
    value += (b & 0x7f) * scale;
    if (b < 0x80) {
      if (b === 0 && i > 0 && options?.minimal !== false) {
        throw new DecodeError("varint is not minimally encoded");
      }
      if (value > Number.MAX_SAFE_INTEGER) {
        throw new DecodeError("varint exceeds Number.MAX_SAFE_INTEGER");
      }
      return { value, length: i + 1 };
    }
    scale *= 128;
  }
  throw new DecodeError(`varint longer than ${maxBytes} bytes`);
}

/**
 * Decode a varint of up to 64 bits as a bigint (for u64 wire fields). Same contract as
 * {@link decodeUvarint}; protobuf's 10-byte limit applies by default.
 *
 * @example
 * ```ts
 * import { decodeUvarintBigInt } from "@p2p-edge/libp2p/varint";
 * decodeUvarintBigInt(new Uint8Array([0x01])); // { value: 1n, length: 1 }
 * ```
 */
export function decodeUvarintBigInt(
  bytes: Uint8Array,
  offset = 0,
  options?: DecodeUvarintOptions,
): { value: bigint; length: number } | undefined {
  const maxBytes = options?.maxBytes ?? MAX_PROTOBUF_VARINT_BYTES;
  let value = 0n;
  for (let i = 0; i < maxBytes; i++) {
    const at = offset + i;
    if (at >= bytes.byteLength) return undefined;
    const b = bytes[at];
    value |= BigInt(b & 0x7f) << BigInt(7 * i);
    if (b < 0x80) {
      if (b === 0 && i > 0 && options?.minimal !== false) {
        throw new DecodeError("varint is not minimally encoded");
      }
      if (value > 0xffff_ffff_ffff_ffffn) throw new DecodeError("varint exceeds 64 bits");
      return { value, length: i + 1 };
    }
  }
  throw new DecodeError(`varint longer than ${maxBytes} bytes`);
}

/**
 * Encode a bigint of up to 64 bits as a varint.
 *
 * @example
 * ```ts
 * import { encodeUvarintBigInt } from "@p2p-edge/libp2p/varint";
 * encodeUvarintBigInt(300n); // Uint8Array [0xac, 0x02]
 * ```
 */
export function encodeUvarintBigInt(value: bigint): Uint8Array {
  if (value < 0n || value > 0xffff_ffff_ffff_ffffn) {
    throw new RangeError("varint value must be an unsigned 64-bit integer");
  }
  const out: number[] = [];
  while (value >= 0x80n) {
    out.push(Number(value & 0x7fn) | 0x80);
    value >>= 7n;
  }
  out.push(Number(value));
  return Uint8Array.from(out);
}

function checkEncodable(value: number): void {
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new RangeError(`varint value must be a non-negative safe integer, got ${value}`);
  }
}
