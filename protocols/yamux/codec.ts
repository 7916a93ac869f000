/**
 * Pure encode/decode of Yamux frame headers (hashicorp/yamux spec.md, "Framing"):
 *
 * ```
 * version u8 | type u8 | flags u16 BE | stream id u32 BE | length u32 BE
 * ```
 *
 * @module
 */

import { FrameType, HEADER_LENGTH, YAMUX_VERSION } from "./constants.ts";
import { YamuxProtocolError } from "./errors.ts";

/**
 * A decoded frame header. For Data `length` is the payload size, for WindowUpdate the credit
 * delta, for Ping the opaque value, for GoAway the error code.
 */
export interface FrameHeader {
  /** Frame type, one of {@link FrameType}. */
  type: FrameType;
  /** Bit set of {@link Flag} values. */
  flags: number;
  /** Stream id; 0 addresses the session. */
  streamId: number;
  /** Meaning depends on `type` (see above). */
  length: number;
}

/**
 * Write a 12-byte header into `out` at `offset` (no allocation).
 *
 * @example
 * ```ts
 * import { encodeHeaderInto, FrameType, Flag } from "@p2p-edge/libp2p/protocols/yamux";
 * const out = new Uint8Array(12);
 * encodeHeaderInto(out, 0, FrameType.WindowUpdate, Flag.SYN, 1, 0);
 * ```
 */
export function encodeHeaderInto(
  out: Uint8Array,
  offset: number,
  type: number,
  flags: number,
  streamId: number,
  length: number,
): void {
  out[offset] = YAMUX_VERSION;
  out[offset + 1] = type;
  out[offset + 2] = flags >>> 8;
  out[offset + 3] = flags & 0xff;
  out[offset + 4] = streamId >>> 24;
  out[offset + 5] = (streamId >>> 16) & 0xff;
  out[offset + 6] = (streamId >>> 8) & 0xff;
  out[offset + 7] = streamId & 0xff;
  out[offset + 8] = length >>> 24;
  out[offset + 9] = (length >>> 16) & 0xff;
  out[offset + 10] = (length >>> 8) & 0xff;
  out[offset + 11] = length & 0xff;
}

/**
 * Encode a header into a new 12-byte array. Fields are range-checked (u16 flags, u32 id/length).
 *
 * @example
 * ```ts
 * import { encodeHeader, FrameType, Flag } from "@p2p-edge/libp2p/protocols/yamux";
 * encodeHeader({ type: FrameType.Ping, flags: Flag.SYN, streamId: 0, length: 7 });
 * // Uint8Array [0, 2, 0, 1, 0, 0, 0, 0, 0, 0, 0, 7]
 * ```
 */
export function encodeHeader(header: FrameHeader): Uint8Array {
  const { type, flags, streamId, length } = header;
  if (!Number.isInteger(type) || type < 0 || type > FrameType.GoAway) {
    throw new RangeError(`unknown yamux frame type ${type}`);
  }
  checkUint(flags, 0xffff, "flags");
  checkUint(streamId, 0xffff_ffff, "streamId");
  checkUint(length, 0xffff_ffff, "length");
  const out = new Uint8Array(HEADER_LENGTH);
  encodeHeaderInto(out, 0, type, flags, streamId, length);
  return out;
}

/**
 * Decode the header at `offset`. Returns `undefined` when fewer than 12 bytes are available;
 * throws {@link YamuxProtocolError} for a version other than 0 or an unknown type.
 *
 * @example
 * ```ts
 * import { decodeHeader } from "@p2p-edge/libp2p/protocols/yamux";
 * decodeHeader(new Uint8Array([0, 2, 0, 2, 0, 0, 0, 0, 0, 0, 0, 7]));
 * // { type: 2, flags: 2, streamId: 0, length: 7 }
 * ```
 */
export function decodeHeader(bytes: Uint8Array, offset = 0): FrameHeader | undefined {
  if (bytes.byteLength - offset < HEADER_LENGTH) return undefined;
  const version = bytes[offset];
  if (version !== YAMUX_VERSION) {
    throw new YamuxProtocolError(`unsupported yamux version ${version}`);
  }
  const type = bytes[offset + 1];
  if (type > FrameType.GoAway) throw new YamuxProtocolError(`unknown yamux frame type ${type}`);
  return {
    type: type as FrameType,
    flags: (bytes[offset + 2] << 8) | bytes[offset + 3],
    streamId: readU32(bytes, offset + 4),
    length: readU32(bytes, offset + 8),
  };
}

/** Read a big-endian u32 without sign problems. */
function readU32(b: Uint8Array, o: number): number {
  return ((b[o] << 24) | (b[o + 1] << 16) | (b[o + 2] << 8) | b[o + 3]) >>> 0;
}

function checkUint(value: number, max: number, name: string): void {
  if (!Number.isInteger(value) || value < 0 || value > max) {
    throw new RangeError(`yamux header ${name} out of range: ${value}`);
  }
}
