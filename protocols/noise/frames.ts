/**
 * Noise transport framing as web `TransformStream`s (noise-libp2p spec, "Wire Format"): every
 * Noise message travels as a 2-byte big-endian length followed by at most 65,535 bytes. These
 * classes only frame and unframe; encryption happens in the Noise session (see `secure`).
 *
 * @module
 */

import { DecodeError } from "../../src/errors.ts";
import { FRAME_HEADER_LENGTH, MAX_FRAME } from "./constants.ts";
import { writeFrameHeader } from "./codec.ts";

/**
 * Frames Noise messages: each message written (at most 65,535 bytes, the spec's limit) comes out
 * as one chunk, its 2-byte big-endian length followed by its bytes. A longer message errors the
 * stream with RangeError before any of it is sent.
 *
 * @example
 * ```ts
 * import { NoiseFrameEncoder } from "@p2p-edge/libp2p/protocols/noise";
 * const framed = ReadableStream.from([new Uint8Array([7, 8, 9])])
 *   .pipeThrough(new NoiseFrameEncoder());
 * for await (const chunk of framed) console.log(chunk); // Uint8Array [0, 3, 7, 8, 9]
 * ```
 */
export class NoiseFrameEncoder extends TransformStream<Uint8Array, Uint8Array> {
  /** A framer; it has no options (the limit is the spec's). */
  constructor() {
    super({
      transform(message, controller) {
        if (!(message instanceof Uint8Array)) {
          throw new TypeError("NoiseFrameEncoder takes Uint8Array messages");
        }
        if (message.byteLength > MAX_FRAME) {
          throw new RangeError(`Noise frame of ${message.byteLength} bytes exceeds ${MAX_FRAME}`);
        }
        const out = new Uint8Array(FRAME_HEADER_LENGTH + message.byteLength);
        writeFrameHeader(out, 0, message.byteLength);
        out.set(message, FRAME_HEADER_LENGTH);
        controller.enqueue(out);
      },
    });
  }
}

/**
 * Splits a byte stream into Noise messages: writes are bytes in any chunking, reads are the
 * frames' bodies. A frame inside one chunk is handed on as a view of it; one spread over chunks
 * is copied into a buffer of its length (at most 65,535 bytes, bounded by the 2-byte header).
 * The stream errors with DecodeError when the input ends inside a frame.
 *
 * @example
 * ```ts
 * import { NoiseFrameDecoder } from "@p2p-edge/libp2p/protocols/noise";
 * const input = ReadableStream.from([new Uint8Array([0, 2, 1]), new Uint8Array([2, 0, 0])]);
 * for await (const body of input.pipeThrough(new NoiseFrameDecoder())) {
 *   console.log(body); // Uint8Array [1, 2], then Uint8Array []
 * }
 * ```
 */
export class NoiseFrameDecoder extends TransformStream<Uint8Array, Uint8Array> {
  /** A frame splitter; it has no options (the limit is the spec's). */
  constructor() {
    let header = -1; // first header byte when only it has arrived
    let body: Uint8Array | undefined;
    let filled = 0;
    super({
      transform(chunk, controller) {
        if (!(chunk instanceof Uint8Array)) {
          throw new TypeError("NoiseFrameDecoder takes Uint8Array chunks");
        }
        let at = 0;
        while (at < chunk.byteLength) {
          if (body !== undefined) {
            const take = Math.min(body.byteLength - filled, chunk.byteLength - at);
            body.set(chunk.subarray(at, at + take), filled);
            filled += take;
            at += take;
            if (filled === body.byteLength) {
              controller.enqueue(body);
              body = undefined;
            }
            continue;
          }
          let length: number;
          if (header >= 0) {
            length = (header << 8) | chunk[at];
            at += 1;
            header = -1;
          } else if (chunk.byteLength - at >= FRAME_HEADER_LENGTH) {
            length = (chunk[at] << 8) | chunk[at + 1];
            at += FRAME_HEADER_LENGTH;
          } else {
            header = chunk[at];
            return;
          }
          if (chunk.byteLength - at >= length) {
            controller.enqueue(chunk.subarray(at, at + length));
            at += length;
          } else {
            body = new Uint8Array(length);
            filled = 0;
          }
        }
      },
      flush() {
        if (body !== undefined || header >= 0) {
          throw new DecodeError("input ended inside a Noise frame");
        }
      },
    });
  }
}
