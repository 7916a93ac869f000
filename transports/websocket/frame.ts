/**
 * The WebSocket frame codec (RFC 6455 section 5), sans-IO: {@link encodeFrame} builds one frame,
 * {@link FrameReader} turns received bytes into messages and control frames. No sockets here;
 * the client (client.ts) moves the bytes.
 *
 * What the reader enforces (HARDENING.md rule 1: every input is checked before it is trusted;
 * rule 2: every buffer a peer can grow is capped):
 * - RSV1-3 must be 0 (no extension was negotiated, section 5.2);
 * - known opcodes only; control frames (close, ping, pong) carry at most 125 bytes and are never
 *   fragmented (section 5.5);
 * - the mask bit as the role requires: a client rejects masked frames from the server, a server
 *   rejects unmasked ones (section 5.1);
 * - fragments continue a message only after a non-final data frame (section 5.4);
 * - a message (all its fragments) is at most `maxPayloadLength` bytes; a longer length field is
 *   refused as soon as the header is read, before anything is buffered;
 * - text messages are refused (libp2p carries bytes in binary messages only);
 * - a close frame carries nothing or a valid code (section 7.4) and a UTF-8 reason.
 * Violations throw a {@link WebSocketProtocolError} (carrying the close code to send back) or,
 * for the size cap, a LimitExceededError.
 *
 * @module
 */

import { LimitExceededError } from "../../src/errors.ts";
import { WebSocketProtocolError } from "./errors.ts";

/** Opcode of a continuation frame (RFC 6455 section 5.2). */
export const OPCODE_CONTINUATION = 0x0;
/** Opcode of a text frame. */
export const OPCODE_TEXT = 0x1;
/** Opcode of a binary frame. */
export const OPCODE_BINARY = 0x2;
/** Opcode of a close frame. */
export const OPCODE_CLOSE = 0x8;
/** Opcode of a ping frame. */
export const OPCODE_PING = 0x9;
/** Opcode of a pong frame. */
export const OPCODE_PONG = 0xa;

/** Largest payload of a control frame (RFC 6455 section 5.5). */
export const MAX_CONTROL_PAYLOAD = 125;
/** Largest close reason in bytes: a control payload less the two-byte code (section 5.5.1). */
export const MAX_CLOSE_REASON_BYTES = MAX_CONTROL_PAYLOAD - 2;
/** Largest frame header: 2 bytes, a 64-bit length and a 4-byte masking key (section 5.2). */
export const MAX_HEADER_BYTES = 14;

/** Close code: protocol error (RFC 6455 section 7.4.1). */
export const CLOSE_CODE_PROTOCOL_ERROR = 1002;
/** Close code: a data type the endpoint does not accept (a text message here). */
export const CLOSE_CODE_UNSUPPORTED_DATA = 1003;
/** Close code: inconsistent data (a close reason that is not UTF-8). */
export const CLOSE_CODE_INVALID_PAYLOAD = 1007;
/** Close code: a message too big to process. */
export const CLOSE_CODE_TOO_BIG = 1009;

/**
 * Encode one frame. With `mask` (4 bytes; a client passes a fresh one for every frame, section
 * 5.3) the payload is masked into the new frame; `payload` is never changed.
 *
 * @example
 * ```ts
 * import { encodeFrame, OPCODE_BINARY } from "./frame.ts";
 * encodeFrame(OPCODE_BINARY, new Uint8Array([1, 2])); // Uint8Array [0x82, 0x02, 1, 2]
 * ```
 */
export function encodeFrame(
  opcode: number,
  payload: Uint8Array,
  mask?: Uint8Array,
  fin = true,
): Uint8Array {
  const length = payload.byteLength;
  const lengthBytes = length < 126 ? 0 : length < 0x10000 ? 2 : 8;
  const headerBytes = 2 + lengthBytes + (mask !== undefined ? 4 : 0);
  // Masked: the payload starts 4-aligned in the buffer, so that it is masked a word at a time.
  const pad = mask !== undefined ? (4 - (headerBytes & 3)) & 3 : 0;
  const frame = new Uint8Array(pad + headerBytes + length).subarray(pad);
  frame[0] = (fin ? 0x80 : 0) | (opcode & 0x0f);
  const maskBit = mask !== undefined ? 0x80 : 0;
  if (lengthBytes === 0) frame[1] = maskBit | length;
  else if (lengthBytes === 2) {
    frame[1] = maskBit | 126;
    frame[2] = length >>> 8;
    frame[3] = length & 0xff;
  } else {
    frame[1] = maskBit | 127;
    const view = new DataView(frame.buffer, frame.byteOffset);
    view.setUint32(2, Math.floor(length / 0x100000000));
    view.setUint32(6, length >>> 0);
  }
  if (mask === undefined) {
    frame.set(payload, headerBytes);
    return frame;
  }
  if (mask.byteLength !== 4) throw new RangeError("a masking key has 4 bytes");
  frame.set(mask, headerBytes - 4);
  frame.set(payload, headerBytes);
  maskInPlace(frame.subarray(headerBytes), mask);
  return frame;
}

/**
 * XOR `data` with the repeated 4-byte `mask` (RFC 6455 section 5.3), a 32-bit word at a time when
 * `data` starts 4-aligned in its buffer (a byte at a time otherwise and for the tail).
 */
function maskInPlace(data: Uint8Array, mask: Uint8Array): void {
  let i = 0;
  if ((data.byteOffset & 3) === 0 && data.byteLength >= 16) {
    // The mask read through the same kind of view as the data: right on either endianness.
    const word = new Uint32Array(Uint8Array.from(mask).buffer)[0];
    const words = new Uint32Array(data.buffer, data.byteOffset, data.byteLength >>> 2);
    for (let w = 0; w < words.length; w++) words[w] ^= word;
    i = words.length << 2;
  }
  for (; i < data.byteLength; i++) data[i] ^= mask[i & 3];
}

/**
 * The payload of a close frame: the code (2 bytes, big-endian) and the reason, cut to
 * {@link MAX_CLOSE_REASON_BYTES} UTF-8 bytes at a character boundary. Code 1005 ("no status")
 * is never sent: it gives an empty payload.
 *
 * @example
 * ```ts
 * import { closePayload } from "./frame.ts";
 * closePayload(1000, ""); // Uint8Array [0x03, 0xe8]
 * ```
 */
export function closePayload(code: number, reason: string): Uint8Array {
  if (code === 1005) return new Uint8Array(0);
  let text = new TextEncoder().encode(reason);
  if (text.byteLength > MAX_CLOSE_REASON_BYTES) {
    let end = MAX_CLOSE_REASON_BYTES;
    while (end > 0 && (text[end] & 0xc0) === 0x80) end--; // not inside a character
    text = text.subarray(0, end);
  }
  const out = new Uint8Array(2 + text.byteLength);
  out[0] = code >>> 8;
  out[1] = code & 0xff;
  out.set(text, 2);
  return out;
}

/** What {@link FrameReader.next} returns: a whole data message or one control frame. */
export type FrameEvent =
  | { readonly kind: "message"; readonly data: Uint8Array }
  | { readonly kind: "ping"; readonly data: Uint8Array }
  | { readonly kind: "pong"; readonly data: Uint8Array }
  | { readonly kind: "close"; readonly code: number; readonly reason: string };

/** Options of a {@link FrameReader}. */
export interface FrameReaderOptions {
  /** Largest message (all fragments together), bytes. */
  readonly maxPayloadLength: number;
  /** True on a server (frames from a client are masked); false on a client. */
  readonly masked: boolean;
}

/** Whether a received close code may appear on the wire (RFC 6455 section 7.4). */
function isValidCloseCode(code: number): boolean {
  if (code >= 3000 && code <= 4999) return true;
  return code >= 1000 && code <= 1014 && code !== 1004 && code !== 1005 && code !== 1006;
}

const FATAL_UTF8 = new TextDecoder("utf-8", { fatal: true });

function protocolError(message: string, code = CLOSE_CODE_PROTOCOL_ERROR): WebSocketProtocolError {
  return new WebSocketProtocolError(message, code);
}

/**
 * Incremental frame decoder: `push` received bytes, then call `next` until it returns undefined
 * (more bytes needed). Fragmented messages are reassembled; payloads are unmasked. After it threw,
 * the reader is failed for good and throws the same error again.
 *
 * @example
 * ```ts
 * import { FrameReader } from "./frame.ts";
 * const reader = new FrameReader({ maxPayloadLength: 1 << 20, masked: false });
 * reader.push(new Uint8Array([0x82, 0x02, 7, 8]));
 * reader.next(); // { kind: "message", data: Uint8Array [7, 8] }
 * ```
 */
export class FrameReader {
  readonly #max: number;
  readonly #masked: boolean;
  /** Received bytes not consumed yet: `#chunks[0]` from `#offset` on, then the rest. */
  #chunks: Uint8Array[] = [];
  #offset = 0;
  #buffered = 0;
  /** Fragments of the message under way (after a data frame without FIN). */
  #fragments: Uint8Array[] | undefined;
  #fragmentBytes = 0;
  #failure: Error | undefined;
  readonly #header = new Uint8Array(MAX_HEADER_BYTES);

  /** A reader for one connection. */
  constructor(options: FrameReaderOptions) {
    this.#max = options.maxPayloadLength;
    this.#masked = options.masked;
  }

  /** Bytes received and not consumed yet. */
  get buffered(): number {
    return this.#buffered;
  }

  /** Add received bytes (kept by reference until consumed: the caller must not reuse them). */
  push(chunk: Uint8Array): void {
    if (chunk.byteLength === 0) return;
    this.#chunks.push(chunk);
    this.#buffered += chunk.byteLength;
  }

  /** The next message or control frame, or undefined until more bytes arrive. Throws on bad input. */
  next(): FrameEvent | undefined {
    if (this.#failure !== undefined) throw this.#failure;
    try {
      for (;;) {
        const event = this.#nextFrame();
        if (event !== "continue") return event;
      }
    } catch (error) {
      this.#failure = error as Error;
      this.#chunks = [];
      this.#buffered = 0;
      this.#fragments = undefined;
      throw error;
    }
  }

  /** One frame: its event, "continue" for a non-final fragment, undefined when incomplete. */
  #nextFrame(): FrameEvent | "continue" | undefined {
    if (this.#buffered < 2) return undefined;
    const head = this.#peek(Math.min(MAX_HEADER_BYTES, this.#buffered));
    const b0 = head[0];
    const b1 = head[1];
    const fin = (b0 & 0x80) !== 0;
    const opcode = b0 & 0x0f;
    if ((b0 & 0x70) !== 0) throw protocolError("websocket frame with RSV bits set");
    const isControl = (opcode & 0x08) !== 0;
    if (
      opcode !== OPCODE_CONTINUATION && opcode !== OPCODE_TEXT && opcode !== OPCODE_BINARY &&
      opcode !== OPCODE_CLOSE && opcode !== OPCODE_PING && opcode !== OPCODE_PONG
    ) {
      throw protocolError(`websocket frame with unknown opcode ${opcode}`);
    }
    const masked = (b1 & 0x80) !== 0;
    if (masked !== this.#masked) {
      throw protocolError(
        masked
          ? "masked websocket frame from the server"
          : "unmasked websocket frame from a client",
      );
    }
    if (isControl && !fin) throw protocolError("fragmented websocket control frame");
    const len7 = b1 & 0x7f;
    const lengthBytes = len7 === 126 ? 2 : len7 === 127 ? 8 : 0;
    if (isControl && len7 > MAX_CONTROL_PAYLOAD) {
      throw protocolError(`websocket control frame longer than ${MAX_CONTROL_PAYLOAD} bytes`);
    }
    const headerBytes = 2 + lengthBytes + (masked ? 4 : 0);
    if (head.byteLength < 2 + lengthBytes) return undefined;
    let length = len7;
    if (lengthBytes === 2) length = (head[2] << 8) | head[3];
    else if (lengthBytes === 8) {
      const high = ((head[2] << 24) | (head[3] << 16) | (head[4] << 8) | head[5]) >>> 0;
      const low = ((head[6] << 24) | (head[7] << 16) | (head[8] << 8) | head[9]) >>> 0;
      if (high >= 0x80000000) throw protocolError("websocket frame length with its top bit set");
      length = high * 0x100000000 + low;
    }
    // Data frames: the message so far plus this frame within the cap, checked before buffering.
    if (!isControl) this.#checkOrder(opcode, length);
    if (head.byteLength < headerBytes) return undefined;
    if (this.#buffered < headerBytes + length) return undefined;
    const mask = masked ? head.slice(headerBytes - 4, headerBytes) : undefined;
    this.#skip(headerBytes);
    const payload = this.#take(length, mask !== undefined);
    if (mask !== undefined) maskInPlace(payload, mask);
    if (isControl) return this.#control(opcode, payload);
    if (!fin) {
      (this.#fragments ??= []).push(payload);
      this.#fragmentBytes += length;
      return "continue";
    }
    if (this.#fragments === undefined) return { kind: "message", data: payload };
    const parts = this.#fragments;
    parts.push(payload);
    const data = new Uint8Array(this.#fragmentBytes + length);
    let at = 0;
    for (const part of parts) {
      data.set(part, at);
      at += part.byteLength;
    }
    this.#fragments = undefined;
    this.#fragmentBytes = 0;
    return { kind: "message", data };
  }

  /** A data frame's opcode fits the message state, and the message stays within the cap. */
  #checkOrder(opcode: number, length: number): void {
    if (opcode === OPCODE_TEXT) {
      throw protocolError(
        "websocket text message (libp2p uses binary)",
        CLOSE_CODE_UNSUPPORTED_DATA,
      );
    }
    if (opcode === OPCODE_CONTINUATION && this.#fragments === undefined) {
      throw protocolError("websocket continuation frame without a message under way");
    }
    if (opcode === OPCODE_BINARY && this.#fragments !== undefined) {
      throw protocolError("websocket data frame inside a fragmented message");
    }
    const total = (opcode === OPCODE_CONTINUATION ? this.#fragmentBytes : 0) + length;
    if (total > this.#max) {
      throw new LimitExceededError(
        `websocket message of ${total} bytes or more exceeds maxPayloadLength ${this.#max}`,
        "maxPayloadLength",
      );
    }
  }

  #control(opcode: number, payload: Uint8Array): FrameEvent {
    if (opcode === OPCODE_PING) return { kind: "ping", data: payload };
    if (opcode === OPCODE_PONG) return { kind: "pong", data: payload };
    if (payload.byteLength === 0) return { kind: "close", code: 1005, reason: "" };
    if (payload.byteLength === 1) throw protocolError("websocket close frame of one byte");
    const code = (payload[0] << 8) | payload[1];
    if (!isValidCloseCode(code)) throw protocolError(`websocket close code ${code} is not valid`);
    let reason: string;
    try {
      reason = FATAL_UTF8.decode(payload.subarray(2));
    } catch {
      throw protocolError("websocket close reason is not UTF-8", CLOSE_CODE_INVALID_PAYLOAD);
    }
    return { kind: "close", code, reason };
  }

  /** The first `n` buffered bytes (n <= MAX_HEADER_BYTES), copied when they span chunks. */
  #peek(n: number): Uint8Array {
    const first = this.#chunks[0];
    if (first.byteLength - this.#offset >= n) return first.subarray(this.#offset, this.#offset + n);
    const out = this.#header.subarray(0, n);
    let at = 0;
    let offset = this.#offset;
    for (const chunk of this.#chunks) {
      const piece = chunk.subarray(offset, offset + n - at);
      out.set(piece, at);
      at += piece.byteLength;
      offset = 0;
      if (at === n) break;
    }
    return out;
  }

  #skip(n: number): void {
    this.#buffered -= n;
    while (n > 0) {
      const left = this.#chunks[0].byteLength - this.#offset;
      if (n < left) {
        this.#offset += n;
        return;
      }
      n -= left;
      this.#chunks.shift();
      this.#offset = 0;
    }
  }

  /** Consume `n` bytes: a view when they sit in one chunk (and `copy` is false), else a copy. */
  #take(n: number, copy: boolean): Uint8Array {
    const first = this.#chunks[0];
    if (n === 0) return new Uint8Array(0);
    if (!copy && first.byteLength - this.#offset >= n) {
      const view = first.subarray(this.#offset, this.#offset + n);
      this.#skip(n);
      return view;
    }
    const out = new Uint8Array(n);
    let at = 0;
    while (at < n) {
      const chunk = this.#chunks[0];
      const piece = chunk.subarray(this.#offset, this.#offset + n - at);
      out.set(piece, at);
      at += piece.byteLength;
      this.#skip(piece.byteLength);
    }
    return out;
  }
}
