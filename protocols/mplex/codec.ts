/**
 * mplex message codec (libp2p/specs mplex/README.md, "Message format"): pure and synchronous.
 *
 * ```
 * | header                    | length  | data           |
 * | uvarint (id << 3 | flag)  | uvarint | 'length' bytes |
 * ```
 *
 * @module
 */

import { DecodeError } from "../../src/errors.ts";
import { decodeUvarint, uvarintLength, writeUvarint } from "../../src/varint.ts";
import { MAX_MESSAGE_SIZE, MAX_VARINT_BYTES, type MplexFlagValue } from "./constants.ts";
import { MplexProtocolError } from "./errors.ts";

/** A decoded message header. */
export interface MplexHeader {
  /** Stream number (the header shifted right by three bits). */
  id: number;
  /** Message flag (the low three bits). */
  flag: MplexFlagValue;
  /** Length of the data segment that follows. */
  length: number;
  /** Bytes the two varints occupied. */
  headerLength: number;
}

/** A decoded message: its header and a zero-copy view of its data. */
export interface MplexMessage {
  /** Stream number. */
  id: number;
  /** Message flag. */
  flag: MplexFlagValue;
  /** The data segment (a view into the input). */
  data: Uint8Array;
}

/** Result of {@link decodeMessage}: the message and how many bytes it used. */
export interface DecodedMplexMessage {
  /** The message. */
  message: MplexMessage;
  /** Bytes consumed from the input. */
  length: number;
}

// The spec defines both varints as protobuf varints, which do not demand the minimal encoding;
// no implementation writes a padded one, but reading them is harmless since the length is capped.
const VARINT_OPTIONS = { minimal: false, maxBytes: MAX_VARINT_BYTES } as const;

/**
 * Decode a message header (both varints) at `offset`. Returns `undefined` when more bytes are
 * needed. Throws MplexProtocolError for a varint longer than 9 bytes, an unknown flag, or a
 * length above `maxMessageSize`, before any of the data segment is needed.
 *
 * @example
 * ```ts
 * import { decodeHeader } from "@p2p-edge/libp2p/protocols/mplex";
 * decodeHeader(new Uint8Array([0x0a, 0x03])); // { id: 1, flag: 2, length: 3, headerLength: 2 }
 * decodeHeader(new Uint8Array([0x0a])); // undefined: the length is missing
 * ```
 */
export function decodeHeader(
  bytes: Uint8Array,
  offset = 0,
  maxMessageSize: number = MAX_MESSAGE_SIZE,
): MplexHeader | undefined {
  const h = wrap(() => decodeUvarint(bytes, offset, VARINT_OPTIONS));
  if (h === undefined) return undefined;
  const flag = h.value % 8;
  if (flag === 7) throw new MplexProtocolError("mplex header has the unknown flag 7");
  const l = wrap(() => decodeUvarint(bytes, offset + h.length, VARINT_OPTIONS));
  if (l === undefined) return undefined;
  if (l.value > maxMessageSize) {
    throw new MplexProtocolError(
      `mplex message of ${l.value} bytes exceeds the limit of ${maxMessageSize} bytes`,
    );
  }
  return {
    id: Math.floor(h.value / 8),
    flag: flag as MplexFlagValue,
    length: l.value,
    headerLength: h.length + l.length,
  };
}

/**
 * Decode one whole message at `offset`. Returns `undefined` when more bytes are needed; throws
 * MplexProtocolError for malformed input (see {@link decodeHeader}). The data is a view into
 * `bytes`, not a copy.
 *
 * @example
 * ```ts
 * import { decodeMessage } from "@p2p-edge/libp2p/protocols/mplex";
 * const r = decodeMessage(new Uint8Array([0x0a, 0x02, 0x68, 0x69]));
 * // r.message: { id: 1, flag: 2, data: Uint8Array [0x68, 0x69] }; r.length: 4
 * ```
 */
export function decodeMessage(
  bytes: Uint8Array,
  offset = 0,
  maxMessageSize: number = MAX_MESSAGE_SIZE,
): DecodedMplexMessage | undefined {
  const header = decodeHeader(bytes, offset, maxMessageSize);
  if (header === undefined) return undefined;
  const start = offset + header.headerLength;
  const end = start + header.length;
  if (end > bytes.byteLength) return undefined;
  return {
    message: { id: header.id, flag: header.flag, data: bytes.subarray(start, end) },
    length: header.headerLength + header.length,
  };
}

/**
 * Bytes the encoding of a message with `dataLength` bytes of data takes.
 *
 * @example
 * ```ts
 * import { encodedLength } from "@p2p-edge/libp2p/protocols/mplex";
 * encodedLength(1, 2, 3); // 5
 * ```
 */
export function encodedLength(id: number, flag: MplexFlagValue, dataLength: number): number {
  return uvarintLength(headerValue(id, flag)) + uvarintLength(dataLength) + dataLength;
}

/**
 * Write one message into `target` at `offset`; returns the offset after it. `target` must have
 * room for {@link encodedLength} bytes.
 *
 * @example
 * ```ts
 * import { encodeMessageInto, encodedLength } from "@p2p-edge/libp2p/protocols/mplex";
 * const data = new Uint8Array([0x68, 0x69]);
 * const out = new Uint8Array(encodedLength(1, 2, data.byteLength));
 * encodeMessageInto(out, 0, 1, 2, data); // 4; out is [0x0a, 0x02, 0x68, 0x69]
 * ```
 */
export function encodeMessageInto(
  target: Uint8Array,
  offset: number,
  id: number,
  flag: MplexFlagValue,
  data?: Uint8Array,
): number {
  offset = writeUvarint(headerValue(id, flag), target, offset);
  const length = data?.byteLength ?? 0;
  offset = writeUvarint(length, target, offset);
  if (data !== undefined && length > 0) {
    target.set(data, offset);
    offset += length;
  }
  return offset;
}

/**
 * Encode one message into a new array.
 *
 * @example
 * ```ts
 * import { encodeMessage, MplexFlag } from "@p2p-edge/libp2p/protocols/mplex";
 * encodeMessage(0, MplexFlag.CloseInitiator); // Uint8Array [0x04, 0x00]
 * ```
 */
export function encodeMessage(id: number, flag: MplexFlagValue, data?: Uint8Array): Uint8Array {
  const out = new Uint8Array(encodedLength(id, flag, data?.byteLength ?? 0));
  encodeMessageInto(out, 0, id, flag, data);
  return out;
}

function headerValue(id: number, flag: MplexFlagValue): number {
  if (!Number.isSafeInteger(id) || id < 0 || id > Number.MAX_SAFE_INTEGER / 8 - 1) {
    throw new RangeError(`mplex stream id must be a non-negative integer below 2^50, got ${id}`);
  }
  if (!Number.isInteger(flag) || flag < 0 || flag > 6) {
    throw new RangeError(`mplex flag must be 0..6, got ${flag}`);
  }
  return id * 8 + flag;
}

function wrap<T>(f: () => T): T {
  try {
    return f();
  } catch (cause) {
    if (cause instanceof DecodeError) {
      throw new MplexProtocolError(`malformed mplex header: ${cause.message}`, { cause });
    }
    throw cause;
  }
}
