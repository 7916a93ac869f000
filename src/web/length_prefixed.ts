/**
 * Length-prefixed messages as web `TransformStream`s: each message is an unsigned varint byte
 * count followed by that many bytes (multiformats unsigned-varint; the framing of identify,
 * Kademlia, gossipsub, circuit relay and most libp2p protocols). The decoder turns a byte stream
 * in any chunking into whole messages; the encoder does the reverse.
 *
 * @module
 */

import { DecodeError, LimitExceededError } from "../errors.ts";
import { decodeUvarint, MAX_UVARINT_BYTES, uvarintLength, writeUvarint } from "../varint.ts";

/**
 * Default largest message, in bytes, that {@link LengthPrefixedDecoder} accepts and
 * {@link LengthPrefixedEncoder} sends: 4 MiB, as js-libp2p's it-length-prefixed. A protocol
 * should pass its own, smaller limit (HARDENING.md rule 1).
 */
export const DEFAULT_MAX_MESSAGE_LENGTH = 4 * 1024 * 1024;

/** Options of {@link LengthPrefixedDecoder} and {@link LengthPrefixedEncoder}. */
export interface LengthPrefixedOptions {
  /**
   * Largest message in bytes. The decoder checks the announced length against it before it
   * allocates anything and fails with LimitExceededError (HARDENING.md rule 1); the encoder
   * refuses to send a longer message. Default {@link DEFAULT_MAX_MESSAGE_LENGTH}.
   */
  maxLength?: number;
}

function checkMaxLength(options: LengthPrefixedOptions | undefined): number {
  const max = options?.maxLength ?? DEFAULT_MAX_MESSAGE_LENGTH;
  if (!Number.isSafeInteger(max) || max < 0) {
    throw new RangeError(`maxLength must be a non-negative integer, got ${max}`);
  }
  return max;
}

const EMPTY = new Uint8Array(0);

/**
 * Splits a byte stream into length-prefixed messages: writes are chunks of bytes as they
 * arrive (any split, several messages joined in one chunk), reads are whole messages, each
 * without its prefix (an empty message is an empty Uint8Array). The stream errors with
 * LimitExceededError when a prefix announces more than `maxLength`, with DecodeError on a
 * malformed prefix (non-minimal or longer than 9 bytes, HARDENING.md rule 2) and when the input
 * ends inside a message.
 *
 * A message that arrives within one chunk is handed on as a view of that chunk (no copy); one
 * spread over chunks is copied into a buffer of exactly its length, allocated once its prefix
 * has been checked.
 *
 * @example
 * ```ts
 * import { LengthPrefixedDecoder } from "@p2p-edge/libp2p/stream";
 * const input = ReadableStream.from([new Uint8Array([2, 104]), new Uint8Array([105, 0])]);
 * for await (const message of input.pipeThrough(new LengthPrefixedDecoder({ maxLength: 1024 }))) {
 *   console.log(message); // Uint8Array [104, 105], then Uint8Array []
 * }
 * ```
 */
export class LengthPrefixedDecoder extends TransformStream<Uint8Array, Uint8Array> {
  /** A decoder accepting messages up to `options.maxLength` bytes. */
  constructor(options?: LengthPrefixedOptions) {
    const state = new DecoderState(checkMaxLength(options));
    super({
      transform: (chunk, controller) => {
        if (!(chunk instanceof Uint8Array)) {
          throw new TypeError("LengthPrefixedDecoder takes Uint8Array chunks");
        }
        state.push(chunk, (message) => controller.enqueue(message));
      },
      flush: () => state.end(),
    });
  }
}

/** The decoder's progress through the input; one per stream. */
class DecoderState {
  readonly #max: number;
  /** Prefix bytes of the next message that arrived so far (a prefix split over chunks). */
  #prefix = new Uint8Array(MAX_UVARINT_BYTES);
  #prefixLength = 0;
  /** The message being filled, once its prefix was read and checked. */
  #message: Uint8Array | undefined;
  #filled = 0;

  constructor(max: number) {
    this.#max = max;
  }

  push(chunk: Uint8Array, emit: (message: Uint8Array) => void): void {
    let at = 0;
    while (at < chunk.byteLength) {
      if (this.#message !== undefined) {
        const take = Math.min(this.#message.byteLength - this.#filled, chunk.byteLength - at);
        this.#message.set(chunk.subarray(at, at + take), this.#filled);
        this.#filled += take;
        at += take;
        if (this.#filled === this.#message.byteLength) {
          emit(this.#message);
          this.#message = undefined;
        }
        continue;
      }
      // Read a prefix: straight from the chunk when no part of it is pending.
      let length: number;
      if (this.#prefixLength === 0) {
        const decoded = decodeUvarint(chunk, at);
        if (decoded === undefined) {
          this.#keepPrefix(chunk.subarray(at));
          return;
        }
        length = decoded.value;
        at += decoded.length;
      } else {
        const need = Math.min(MAX_UVARINT_BYTES - this.#prefixLength, chunk.byteLength - at);
        const before = this.#prefixLength;
        this.#keepPrefix(chunk.subarray(at, at + need));
        const decoded = decodeUvarint(this.#prefix.subarray(0, this.#prefixLength));
        if (decoded === undefined) {
          if (this.#prefixLength >= MAX_UVARINT_BYTES) {
            throw new DecodeError(`length prefix longer than ${MAX_UVARINT_BYTES} bytes`);
          }
          return;
        }
        length = decoded.value;
        at += decoded.length - before;
        this.#prefixLength = 0;
      }
      if (length > this.#max) {
        throw new LimitExceededError(
          `message of ${length} bytes exceeds ${this.#max}`,
          "maxLength",
        );
      }
      if (length === 0) {
        emit(EMPTY.slice());
      } else if (chunk.byteLength - at >= length) {
        emit(chunk.subarray(at, at + length));
        at += length;
      } else {
        this.#message = new Uint8Array(length);
        this.#filled = 0;
      }
    }
  }

  #keepPrefix(bytes: Uint8Array): void {
    if (this.#prefixLength + bytes.byteLength > MAX_UVARINT_BYTES) {
      throw new DecodeError(`length prefix longer than ${MAX_UVARINT_BYTES} bytes`);
    }
    this.#prefix.set(bytes, this.#prefixLength);
    this.#prefixLength += bytes.byteLength;
  }

  end(): void {
    if (this.#message !== undefined || this.#prefixLength > 0) {
      throw new DecodeError("input ended inside a length-prefixed message");
    }
  }
}

/**
 * Frames messages for the wire: each message written comes out as its unsigned-varint length
 * followed by its bytes, in one chunk. A message longer than `maxLength` errors the stream with
 * LimitExceededError before anything of it is sent.
 *
 * @example
 * ```ts
 * import { LengthPrefixedEncoder } from "@p2p-edge/libp2p/stream";
 * const framed = ReadableStream.from([new TextEncoder().encode("hi")])
 *   .pipeThrough(new LengthPrefixedEncoder());
 * for await (const chunk of framed) console.log(chunk); // Uint8Array [2, 104, 105]
 * ```
 */
export class LengthPrefixedEncoder extends TransformStream<Uint8Array, Uint8Array> {
  /** An encoder sending messages up to `options.maxLength` bytes. */
  constructor(options?: LengthPrefixedOptions) {
    const max = checkMaxLength(options);
    super({
      transform(message, controller) {
        if (!(message instanceof Uint8Array)) {
          throw new TypeError("LengthPrefixedEncoder takes Uint8Array messages");
        }
        if (message.byteLength > max) {
          throw new LimitExceededError(
            `message of ${message.byteLength} bytes exceeds ${max}`,
            "maxLength",
          );
        }
        const prefix = uvarintLength(message.byteLength);
        const out = new Uint8Array(prefix + message.byteLength);
        writeUvarint(message.byteLength, out, 0);
        out.set(message, prefix);
        controller.enqueue(out);
      },
    });
  }
}
