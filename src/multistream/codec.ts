/**
 * multistream-select wire codec: pure and synchronous.
 *
 * Every message is `uvarint(n) || text || "\n"` where n counts the text's UTF-8 bytes plus the
 * newline (multistream-select README, "Protocol", notes 1 and 2). An `ls` response is one such
 * message whose payload is a sequence of length-prefixed lines followed by a final `\n` — what
 * js-libp2p and rust-libp2p send (go-libp2p's older listeners omit the final `\n`; both forms are
 * accepted when decoding).
 *
 * Decoders return `undefined` when more bytes are needed and throw a MultistreamError subclass for
 * malformed input.
 *
 * @module
 */

import { concat, utf8Decode, utf8Encode } from "../bytes.ts";
import { DecodeError } from "../errors.ts";
import { decodeUvarint, uvarintLength, writeUvarint } from "../varint.ts";
import { MAX_LS_PROTOCOLS, MAX_LS_RESPONSE_LENGTH, MAX_PROTOCOL_LENGTH } from "./constants.ts";
import {
  InvalidLengthError,
  InvalidListError,
  InvalidUtf8Error,
  MessageTooLongError,
  MissingNewlineError,
} from "./errors.ts";

const NEWLINE = 0x0a;

/** One decoded frame: its payload (including the trailing `\n`) and the bytes it occupied. */
export interface DecodedFrame {
  /** The payload after the length prefix, trailing `\n` included. */
  payload: Uint8Array;
  /** Bytes consumed from the input: prefix plus payload. */
  length: number;
}

/** One decoded text message and the bytes it occupied. */
export interface DecodedMessage {
  /** The message text without its trailing `\n`. */
  text: string;
  /** Bytes consumed from the input: prefix plus payload. */
  length: number;
}

function frame(payload: Uint8Array, maxLength: number): Uint8Array {
  if (payload.byteLength > maxLength) {
    throw new RangeError(
      `multistream message of ${payload.byteLength} bytes exceeds the limit of ${maxLength}`,
    );
  }
  const out = new Uint8Array(uvarintLength(payload.byteLength) + payload.byteLength);
  out.set(payload, writeUvarint(payload.byteLength, out, 0));
  return out;
}

function textPayload(text: string): Uint8Array {
  return utf8Encode(text + "\n");
}

/**
 * Encode one message: the length prefix, the text and its `\n`. Throws RangeError when the text
 * is longer than {@link MAX_PROTOCOL_LENGTH} - 1 UTF-8 bytes.
 *
 * @example
 * ```ts
 * import { encodeMessage } from "@p2p-edge/libp2p/protocols/multistream";
 * encodeMessage("na"); // Uint8Array [0x03, 0x6e, 0x61, 0x0a]
 * ```
 */
export function encodeMessage(text: string): Uint8Array {
  return frame(textPayload(text), MAX_PROTOCOL_LENGTH);
}

/**
 * Encode several messages back to back into one buffer (one write on the wire).
 *
 * @example
 * ```ts
 * import { encodeMessages, PROTOCOL_ID } from "@p2p-edge/libp2p/protocols/multistream";
 * const hello = encodeMessages([PROTOCOL_ID, "/ipfs/ping/1.0.0"]);
 * ```
 */
export function encodeMessages(texts: readonly string[]): Uint8Array {
  const parts = texts.map(encodeMessage);
  return concat(parts);
}

/**
 * Decode the frame at `offset`: a uvarint length and that many payload bytes. Returns `undefined`
 * when the input ends first. A prefix above `maxLength` throws MessageTooLongError as soon as the
 * prefix itself is complete (or as soon as it has more bytes than `maxLength` can need), so a
 * caller never buffers an oversized body.
 *
 * @example
 * ```ts
 * import { decodeFrame } from "@p2p-edge/libp2p/protocols/multistream";
 * decodeFrame(new Uint8Array([3, 0x6e, 0x61, 0x0a])); // { payload: [0x6e, 0x61, 0x0a], length: 4 }
 * ```
 */
export function decodeFrame(
  bytes: Uint8Array,
  offset = 0,
  maxLength: number = MAX_PROTOCOL_LENGTH,
): DecodedFrame | undefined {
  let prefix;
  try {
    prefix = decodeUvarint(bytes, offset);
  } catch (err) {
    if (err instanceof DecodeError) {
      throw new InvalidLengthError(`invalid multistream length prefix: ${err.message}`, {
        cause: err,
      });
    }
    throw err;
  }
  if (prefix === undefined) {
    // Every byte so far had its continuation bit set: once there are more of them than the
    // largest allowed length needs, the value is already above the limit.
    if (bytes.byteLength - offset >= uvarintLength(maxLength)) {
      throw new MessageTooLongError(`multistream length prefix exceeds the limit of ${maxLength}`);
    }
    return undefined;
  }
  if (prefix.value > maxLength) {
    throw new MessageTooLongError(
      `multistream length prefix ${prefix.value} exceeds the limit of ${maxLength}`,
    );
  }
  const start = offset + prefix.length;
  const end = start + prefix.value;
  if (end > bytes.byteLength) return undefined;
  return { payload: bytes.subarray(start, end), length: end - offset };
}

/**
 * Turn a message payload (trailing `\n` included) into its text. Throws MissingNewlineError when
 * the payload is empty or does not end in `\n`, InvalidUtf8Error when it is not UTF-8.
 *
 * @example
 * ```ts
 * import { decodeMessagePayload } from "@p2p-edge/libp2p/protocols/multistream";
 * decodeMessagePayload(new Uint8Array([0x6e, 0x61, 0x0a])); // "na"
 * ```
 */
export function decodeMessagePayload(payload: Uint8Array): string {
  if (payload.byteLength === 0 || payload[payload.byteLength - 1] !== NEWLINE) {
    throw new MissingNewlineError("multistream message does not end with a newline");
  }
  try {
    return utf8Decode(payload.subarray(0, payload.byteLength - 1));
  } catch (err) {
    throw new InvalidUtf8Error("multistream message is not valid UTF-8", { cause: err });
  }
}

/**
 * Decode one text message at `offset`: `undefined` when more bytes are needed, else its text
 * (without the `\n`) and the bytes it occupied. Throws MessageTooLongError, InvalidLengthError,
 * MissingNewlineError or InvalidUtf8Error for malformed input.
 *
 * @example
 * ```ts
 * import { decodeMessage } from "@p2p-edge/libp2p/protocols/multistream";
 * decodeMessage(new Uint8Array([3, 0x6e, 0x61, 0x0a])); // { text: "na", length: 4 }
 * decodeMessage(new Uint8Array([3, 0x6e])); // undefined
 * ```
 */
export function decodeMessage(bytes: Uint8Array, offset = 0): DecodedMessage | undefined {
  const decoded = decodeFrame(bytes, offset, MAX_PROTOCOL_LENGTH);
  if (decoded === undefined) return undefined;
  return { text: decodeMessagePayload(decoded.payload), length: decoded.length };
}

/**
 * Encode the answer to `ls`: one message whose payload is each protocol as a length-prefixed line,
 * then a final `\n` (the js-libp2p / rust-libp2p layout).
 *
 * @example
 * ```ts
 * import { encodeLsResponse } from "@p2p-edge/libp2p/protocols/multistream";
 * encodeLsResponse(["/a"]); // [5, 3, 0x2f, 0x61, 0x0a, 0x0a]
 * ```
 */
export function encodeLsResponse(protocols: readonly string[]): Uint8Array {
  const lines = protocols.map((p) => frame(textPayload(p), MAX_PROTOCOL_LENGTH));
  lines.push(new Uint8Array([NEWLINE]));
  return frame(concat(lines), Number.MAX_SAFE_INTEGER);
}

/**
 * Decode the payload of an `ls` response (as returned by {@link decodeFrame} with
 * {@link MAX_LS_RESPONSE_LENGTH}) into protocol ids. Accepts the payload with or without the final
 * `\n`; throws InvalidListError for anything malformed or above {@link MAX_LS_PROTOCOLS} entries.
 *
 * @example
 * ```ts
 * import { decodeLsResponse } from "@p2p-edge/libp2p/protocols/multistream";
 * decodeLsResponse(new Uint8Array([3, 0x2f, 0x61, 0x0a, 0x0a])); // ["/a"]
 * ```
 */
export function decodeLsResponse(payload: Uint8Array): string[] {
  if (payload.byteLength > MAX_LS_RESPONSE_LENGTH) {
    throw new InvalidListError(`ls response exceeds ${MAX_LS_RESPONSE_LENGTH} bytes`);
  }
  const out: string[] = [];
  let offset = 0;
  while (offset < payload.byteLength) {
    if (offset === payload.byteLength - 1 && payload[offset] === NEWLINE) break;
    if (out.length === MAX_LS_PROTOCOLS) {
      throw new InvalidListError(`ls response lists more than ${MAX_LS_PROTOCOLS} protocols`);
    }
    let line;
    try {
      line = decodeMessage(payload, offset);
    } catch (err) {
      throw new InvalidListError(`malformed ls entry: ${(err as Error).message}`, { cause: err });
    }
    if (line === undefined) throw new InvalidListError("ls response ends inside an entry");
    out.push(line.text);
    offset += line.length;
  }
  return out;
}
