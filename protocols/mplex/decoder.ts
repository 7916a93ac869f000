/**
 * The mplex message decoder, sans-IO: bytes from the connection in, messages out, with its state
 * (a header split across chunks, the rest of a data segment) kept between chunks. Data segments
 * come out as views of the chunk, in pieces when a segment spans chunks (no reassembly copy).
 *
 * @module
 */

import { decodeHeader, type MplexMessage } from "./codec.ts";
import { MAX_VARINT_BYTES, MplexFlag, type MplexFlagValue } from "./constants.ts";

const EMPTY = new Uint8Array(0);

/**
 * What the decoder's owner does after one message: go on, stop here to resume later from the
 * returned offset ("pause": the owner cannot take more now), or stop for good ("stop").
 */
export type DecodeStep = "next" | "pause" | "stop";

/**
 * Decodes mplex messages from a connection's chunks (spec: message = header varint (id << 3 |
 * flag), length varint, data). Control messages act on their header; their body (a stream name,
 * or data a Close or Reset should not carry) is skipped.
 *
 * @example
 * ```ts
 * import { MplexDecoder } from "./decoder.ts";
 * const decoder = new MplexDecoder(1 << 20);
 * decoder.push(new Uint8Array([0x08, 0x00, 0x0a, 0x02, 7]), 0, (m) => {
 *   console.log(m.id, m.flag, m.data); // 1 0 ..., then 1 2 Uint8Array [7] (a first piece)
 *   return "next";
 * });
 * ```
 */
export class MplexDecoder {
  readonly #maxMessageSize: number;
  /** The start of a header that the last chunk cut. */
  #partial: Uint8Array | undefined;
  #bodyId = 0;
  #bodyFlag: MplexFlagValue = MplexFlag.NewStream;
  #bodyLeft = 0;

  /** Messages above `maxMessageSize` are a protocol error (before their data is read). */
  constructor(maxMessageSize: number) {
    this.#maxMessageSize = maxMessageSize;
  }

  /**
   * Decode `chunk` from `off`, handing each message (or data piece) to `onMessage`. Returns the
   * offset to resume from after `onMessage` answered "pause", otherwise -1 (the chunk is used
   * up, or `onMessage` answered "stop"). Throws MplexProtocolError for a malformed header.
   */
  push(chunk: Uint8Array, off: number, onMessage: (message: MplexMessage) => DecodeStep): number {
    const len = chunk.byteLength;
    while (off < len) {
      if (this.#bodyLeft > 0) {
        const n = Math.min(len - off, this.#bodyLeft);
        this.#bodyLeft -= n;
        const flag = this.#bodyFlag;
        off += n;
        if (flag === MplexFlag.MessageInitiator || flag === MplexFlag.MessageReceiver) {
          const step = onMessage({ id: this.#bodyId, flag, data: chunk.subarray(off - n, off) });
          if (step === "pause") return off;
          if (step === "stop") return -1;
        }
        continue;
      }
      let header;
      const partial = this.#partial;
      if (partial !== undefined) {
        const take = Math.min(len - off, 2 * MAX_VARINT_BYTES - partial.byteLength);
        const joined = new Uint8Array(partial.byteLength + take);
        joined.set(partial);
        joined.set(chunk.subarray(off, off + take), partial.byteLength);
        header = decodeHeader(joined, 0, this.#maxMessageSize);
        if (header === undefined) {
          this.#partial = joined;
          return -1;
        }
        this.#partial = undefined;
        off += header.headerLength - partial.byteLength;
      } else {
        header = decodeHeader(chunk, off, this.#maxMessageSize);
        if (header === undefined) {
          this.#partial = chunk.slice(off);
          return -1;
        }
        off += header.headerLength;
      }
      this.#bodyId = header.id;
      this.#bodyFlag = header.flag;
      this.#bodyLeft = header.length;
      if (
        header.flag !== MplexFlag.MessageInitiator && header.flag !== MplexFlag.MessageReceiver
      ) {
        const step = onMessage({ id: header.id, flag: header.flag, data: EMPTY });
        if (step === "stop") return -1;
      }
    }
    return -1;
  }
}
