/**
 * A pull reader over a ReadableStream of byte chunks that can read exact lengths and
 * varint-prefixed messages, then hand the unread rest back as a ReadableStream.
 *
 * Used during negotiation and handshakes (multistream-select, Noise, plaintext), where
 * messages are small and chunk boundaries arbitrary. After the handshake {@link ByteReader.rest}
 * returns the original stream untouched when nothing is buffered, so the data path carries no
 * extra layer.
 *
 * @module
 */

import { concat } from "../bytes.ts";
import { DecodeError, LimitExceededError } from "../errors.ts";
import { decodeUvarint } from "../varint.ts";
import { type ByteChannel, prefixChannel } from "./channel.ts";

/** Thrown when the stream ends before a complete value could be read. */
export class UnexpectedEOFError extends DecodeError {}

/**
 * Reads exact byte counts from a stream.
 *
 * @example
 * ```ts
 * import { ByteReader } from "@p2p-edge/libp2p/stream";
 * const source = new ReadableStream<Uint8Array>({
 *   start(c) { c.enqueue(new Uint8Array([2, 7, 8, 9])); c.close(); },
 * });
 * const reader = new ByteReader(source);
 * await reader.readLengthPrefixed(16); // Uint8Array [7, 8]
 * const rest = reader.rest(); // yields [9]
 * ```
 */
export class ByteReader {
  #stream: ReadableStream<Uint8Array> | undefined;
  #reader: ReadableStreamDefaultReader<Uint8Array> | undefined;
  #channel: ByteChannel | undefined;
  #chunks: Uint8Array[] = [];
  #buffered = 0;
  #ended = false;

  /**
   * Read from `source`: a stream (locked until {@link ByteReader.rest}) or a {@link ByteChannel}
   * (handed back with the unread bytes by {@link ByteReader.restChannel}).
   */
  constructor(source: ReadableStream<Uint8Array> | ByteChannel) {
    if (source instanceof ReadableStream) {
      this.#stream = source;
      this.#reader = source.getReader();
    } else {
      this.#channel = source;
    }
  }

  /** Bytes currently buffered (read from the stream but not yet consumed). */
  get buffered(): number {
    return this.#buffered;
  }

  /** True once the source ended and every buffered byte was consumed. */
  get done(): boolean {
    return this.#ended && this.#buffered === 0;
  }

  /** Pull one more chunk from the source; returns false at end of stream. */
  async #pull(): Promise<boolean> {
    if (this.#ended) return false;
    let value: Uint8Array | null;
    if (this.#reader !== undefined) {
      const next = await this.#reader.read();
      value = next.done ? null : next.value;
    } else if (this.#channel !== undefined) {
      value = await this.#channel.read();
    } else {
      return false;
    }
    if (value === null) {
      this.#ended = true;
      return false;
    }
    if (value.byteLength > 0) {
      this.#chunks.push(value);
      this.#buffered += value.byteLength;
    }
    return true;
  }

  /** Flatten the first chunks so that at least `n` bytes are contiguous in `#chunks[0]`. */
  #front(n: number): Uint8Array {
    if (this.#chunks[0].byteLength < n) {
      const merged = concat(this.#chunks, this.#buffered);
      this.#chunks = [merged];
    }
    return this.#chunks[0];
  }

  #consume(n: number): Uint8Array {
    const front = this.#front(n);
    const out = front.subarray(0, n);
    if (front.byteLength === n) this.#chunks.shift();
    else this.#chunks[0] = front.subarray(n);
    this.#buffered -= n;
    return out;
  }

  /** Read exactly `n` bytes; rejects with UnexpectedEOFError if the stream ends first. */
  async readExactly(n: number): Promise<Uint8Array> {
    // A zero-length read (e.g. an empty length-prefixed message) must not touch #chunks, which
    // may be empty.
    if (n === 0) return new Uint8Array(0);
    while (this.#buffered < n) {
      if (!(await this.#pull())) {
        throw new UnexpectedEOFError(`stream ended after ${this.#buffered} of ${n} bytes`);
      }
    }
    return this.#consume(n);
  }

  /**
   * Read whatever is available next (at least one byte), or `undefined` at end of stream.
   */
  async readChunk(): Promise<Uint8Array | undefined> {
    while (this.#buffered === 0) {
      if (!(await this.#pull())) return undefined;
    }
    const first = this.#chunks.shift()!;
    this.#buffered -= first.byteLength;
    return first;
  }

  /**
   * True when every byte was consumed and the source has ended (pulling once more if nothing is
   * buffered): a clean end between messages, told apart without an exception.
   */
  async atEnd(): Promise<boolean> {
    while (this.#buffered === 0) {
      if (!(await this.#pull())) return true;
    }
    return false;
  }

  /** Read a minimal unsigned varint (at most 9 bytes). */
  async readUvarint(): Promise<number> {
    for (;;) {
      if (this.#buffered > 0) {
        const front = this.#front(Math.min(this.#buffered, 9));
        const r = decodeUvarint(front, 0);
        if (r !== undefined) {
          this.#consume(r.length);
          return r.value;
        }
      }
      if (!(await this.#pull())) throw new UnexpectedEOFError("stream ended inside a varint");
    }
  }

  /**
   * Read a uvarint length prefix and then that many bytes. A length above `maxLength` throws
   * LimitExceededError before anything beyond the prefix is buffered.
   */
  async readLengthPrefixed(maxLength: number): Promise<Uint8Array> {
    const length = await this.readUvarint();
    if (length > maxLength) {
      throw new LimitExceededError(
        `length prefix ${length} exceeds the limit of ${maxLength} bytes`,
        "maxLength",
      );
    }
    return await this.readExactly(length);
  }

  /** Read a 2-byte big-endian length prefix and then that many bytes (Noise framing). */
  async readUint16Prefixed(): Promise<Uint8Array> {
    const prefix = await this.readExactly(2);
    return await this.readExactly((prefix[0] << 8) | prefix[1]);
  }

  /** Buffered bytes that have not been consumed, removed from the reader. */
  takeBuffered(): Uint8Array[] {
    const out = this.#chunks;
    this.#chunks = [];
    this.#buffered = 0;
    return out;
  }

  /**
   * Release the source and return a stream of everything not yet read: the source itself if
   * nothing is buffered, otherwise a stream that yields the buffered bytes first.
   */
  rest(): ReadableStream<Uint8Array> {
    const reader = this.#reader;
    if (reader === undefined || this.#stream === undefined) {
      throw new TypeError("ByteReader.rest() was already called, or the source is a channel");
    }
    this.#reader = undefined;
    const leftover = this.takeBuffered();
    if (this.#ended) {
      reader.releaseLock();
      return new ReadableStream({
        start(controller) {
          for (const c of leftover) controller.enqueue(c);
          controller.close();
        },
      });
    }
    if (leftover.length === 0) {
      reader.releaseLock();
      return this.#stream;
    }
    return new ReadableStream<Uint8Array>({
      pull: async (controller) => {
        const next = leftover.shift();
        if (next !== undefined) {
          controller.enqueue(next);
          return;
        }
        try {
          const { value, done } = await reader.read();
          if (done) controller.close();
          else controller.enqueue(value);
        } catch (err) {
          controller.error(err);
        }
      },
      cancel: (reason) => reader.cancel(reason),
    }, { highWaterMark: 0 });
  }

  /**
   * Hand back a channel source with everything not yet read: the channel itself if nothing is
   * buffered, otherwise one that replays the buffered bytes first ({@link prefixChannel}).
   */
  restChannel(): ByteChannel {
    const channel = this.#channel;
    if (channel === undefined) {
      throw new TypeError("ByteReader.restChannel() was already called, or the source is a stream");
    }
    this.#channel = undefined;
    return prefixChannel(channel, this.takeBuffered());
  }

  /** Cancel the source (on handshake failure). */
  async cancel(reason?: unknown): Promise<void> {
    const reader = this.#reader;
    const channel = this.#channel;
    this.#reader = undefined;
    this.#channel = undefined;
    this.#chunks = [];
    this.#buffered = 0;
    channel?.cancelRead(reason);
    if (reader !== undefined) await reader.cancel(reason).catch(() => {});
  }
}
