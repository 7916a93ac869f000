/**
 * Noise framing (libp2p/specs noise/README.md, "Wire Format"): every handshake and transport
 * message travels as a 2-byte big-endian length followed by that many bytes (at most 65535,
 * the 16-byte tag included). Pure and synchronous.
 *
 * @module
 */

import { FRAME_HEADER_LENGTH, MAX_FRAME, MAX_PLAINTEXT, TAG_LENGTH } from "./constants.ts";

/**
 * Prefix `body` with its 2-byte big-endian length. Throws RangeError above 65535 bytes.
 *
 * @example
 * ```ts
 * import { encodeFrame } from "@p2p-edge/libp2p/protocols/noise";
 * encodeFrame(new Uint8Array([7])); // Uint8Array [0, 1, 7]
 * ```
 */
export function encodeFrame(body: Uint8Array): Uint8Array {
  if (body.byteLength > MAX_FRAME) {
    throw new RangeError(`Noise frame of ${body.byteLength} bytes exceeds ${MAX_FRAME}`);
  }
  const out = new Uint8Array(FRAME_HEADER_LENGTH + body.byteLength);
  writeFrameHeader(out, 0, body.byteLength);
  out.set(body, FRAME_HEADER_LENGTH);
  return out;
}

/**
 * Write a frame length at `offset` (big-endian u16).
 *
 * @example
 * ```ts
 * import { writeFrameHeader } from "@p2p-edge/libp2p/protocols/noise";
 * const out = new Uint8Array(2);
 * writeFrameHeader(out, 0, 300); // out = [1, 44]
 * ```
 */
export function writeFrameHeader(out: Uint8Array, offset: number, length: number): void {
  if (!Number.isInteger(length) || length < 0 || length > MAX_FRAME) {
    throw new RangeError(`invalid Noise frame length ${length}`);
  }
  out[offset] = length >>> 8;
  out[offset + 1] = length & 0xff;
}

/**
 * Read a frame length at `offset`, or `undefined` when fewer than 2 bytes are there.
 *
 * @example
 * ```ts
 * import { decodeFrameLength } from "@p2p-edge/libp2p/protocols/noise";
 * decodeFrameLength(new Uint8Array([1, 44]), 0); // 300
 * ```
 */
export function decodeFrameLength(bytes: Uint8Array, offset: number): number | undefined {
  if (bytes.byteLength - offset < FRAME_HEADER_LENGTH) return undefined;
  return (bytes[offset] << 8) | bytes[offset + 1];
}

/**
 * How many transport frames `plaintextLength` bytes need, and their total size on the wire.
 *
 * @example
 * ```ts
 * import { framedSize } from "@p2p-edge/libp2p/protocols/noise";
 * framedSize(100_000); // { frames: 2, bytes: 100_036 }
 * ```
 */
export function framedSize(plaintextLength: number): { frames: number; bytes: number } {
  const frames = Math.ceil(plaintextLength / MAX_PLAINTEXT);
  return { frames, bytes: plaintextLength + frames * (FRAME_HEADER_LENGTH + TAG_LENGTH) };
}
