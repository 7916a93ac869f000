/**
 * BYOB reads over any byte stream: {@link ChannelCopier} lends the caller's buffers to a byte
 * channel (a muxed stream fills them in place), {@link ChunkCopier} copies a web stream's chunks
 * into them; both keep the unread tail of a chunk for the next call.
 *
 * @module
 */

import type { ByteChannel } from "./channel.ts";

/**
 * Reads of `readable` into caller buffers (it takes a reader on `readable` at once). Layers that
 * can fill a buffer directly offer `Duplex.readInto` and use this for what is already queued.
 *
 * @example
 * ```ts
 * import { ChunkCopier } from "@p2p-edge/libp2p/stream";
 * const readable = new ReadableStream<Uint8Array>({
 *   start(c) {
 *     c.enqueue(new Uint8Array([1, 2, 3]));
 *     c.close();
 *   },
 * });
 * const copier = new ChunkCopier(readable);
 * const buf = new Uint8Array(2);
 * console.log(await copier.read(buf)); // 2 (buf: [1, 2])
 * console.log(copier.holding); // true: [3] waits for the next read
 * console.log(await copier.read(buf)); // 1 (buf: [3, 2])
 * console.log(await copier.read(buf)); // null
 * ```
 */
export class ChunkCopier {
  readonly #reader: ReadableStreamDefaultReader<Uint8Array>;
  #leftover: Uint8Array | undefined;
  #busy = false;

  /** Takes a reader on `readable` (throws TypeError if it is locked). */
  constructor(readable: ReadableStream<Uint8Array>) {
    this.#reader = readable.getReader();
  }

  /** The unread tail of a chunk is held: the next read takes it without waiting. */
  get holding(): boolean {
    return this.#leftover !== undefined;
  }

  /** A read waits for the stream. */
  get busy(): boolean {
    return this.#busy;
  }

  /** Drop the held tail (the stream failed or stopped being read). */
  discard(): void {
    this.#leftover = undefined;
  }

  /** The next bytes into `view`: their count, or `null` at the end. One read at a time. */
  async read(view: Uint8Array): Promise<number | null> {
    if (!(view instanceof Uint8Array) || view.byteLength === 0) {
      throw new TypeError("readInto needs a non-empty Uint8Array");
    }
    if (this.#busy) throw new TypeError("one readInto at a time");
    if (this.#leftover !== undefined) return this.#copy(this.#leftover, view);
    this.#busy = true;
    try {
      for (;;) {
        const { value, done } = await this.#reader.read();
        if (done) return null;
        if (value.byteLength > 0) return this.#copy(value, view);
      }
    } finally {
      this.#busy = false;
    }
  }

  #copy(chunk: Uint8Array, view: Uint8Array): number {
    const n = Math.min(chunk.byteLength, view.byteLength);
    view.set(n === chunk.byteLength ? chunk : chunk.subarray(0, n));
    this.#leftover = n < chunk.byteLength ? chunk.subarray(n) : undefined;
    return n;
  }
}

/**
 * {@link ChunkCopier.read} of a new copier over `readable`, as a function.
 *
 * @example
 * ```ts
 * import { readIntoFrom } from "@p2p-edge/libp2p/stream";
 * const readable = new ReadableStream<Uint8Array>({
 *   start(c) {
 *     c.enqueue(new Uint8Array([1, 2, 3]));
 *     c.close();
 *   },
 * });
 * const readInto = readIntoFrom(readable);
 * const buf = new Uint8Array(2);
 * console.log(await readInto(buf)); // 2 (buf: [1, 2])
 * console.log(await readInto(buf)); // 1 (buf: [3, 2])
 * console.log(await readInto(buf)); // null
 * ```
 */
export function readIntoFrom(
  readable: ReadableStream<Uint8Array>,
): (view: Uint8Array) => Promise<number | null> {
  const copier = new ChunkCopier(readable);
  return (view) => copier.read(view);
}

/**
 * BYOB reads over a {@link ByteChannel}: each read lends the caller's `view` to the channel
 * (`read(view)`); a channel that filled it costs no copy, any other chunk is copied in and its
 * tail held for the next read. One read at a time.
 *
 * @example
 * ```ts
 * import { ChannelCopier, channelPair } from "@p2p-edge/libp2p/stream";
 * const [a, b] = channelPair();
 * a.channel.write(new Uint8Array([1, 2, 3]));
 * const copier = new ChannelCopier(b.channel);
 * const buf = new Uint8Array(2);
 * console.log(await copier.read(buf), buf); // 2 Uint8Array [1, 2]
 * ```
 */
export class ChannelCopier {
  readonly #channel: ByteChannel;
  #leftover: Uint8Array | undefined;
  #busy = false;

  /** BYOB reads of `channel`. */
  constructor(channel: ByteChannel) {
    this.#channel = channel;
  }

  /** The next bytes into `view`: their count, or `null` at the end. One read at a time. */
  async read(view: Uint8Array): Promise<number | null> {
    if (!(view instanceof Uint8Array) || view.byteLength === 0) {
      throw new TypeError("readInto needs a non-empty Uint8Array");
    }
    if (this.#busy) throw new TypeError("one readInto at a time");
    const leftover = this.#leftover;
    if (leftover !== undefined) return this.#copy(leftover, view);
    this.#busy = true;
    try {
      for (;;) {
        const chunk = await this.#channel.read(view);
        if (chunk === null) return null;
        if (chunk.byteLength === 0) continue;
        // Filled in place: the bytes are already where the caller wants them.
        if (chunk.buffer === view.buffer && chunk.byteOffset === view.byteOffset) {
          return chunk.byteLength;
        }
        return this.#copy(chunk, view);
      }
    } finally {
      this.#busy = false;
    }
  }

  #copy(chunk: Uint8Array, view: Uint8Array): number {
    const n = Math.min(chunk.byteLength, view.byteLength);
    view.set(n === chunk.byteLength ? chunk : chunk.subarray(0, n));
    this.#leftover = n < chunk.byteLength ? chunk.subarray(n) : undefined;
    return n;
  }
}
