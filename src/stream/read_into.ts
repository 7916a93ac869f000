/**
 * BYOB reads over any byte stream: {@link readIntoFrom} copies the stream's chunks into the
 * caller's buffers, keeping the unread tail of a chunk for the next call.
 *
 * @module
 */

/**
 * Reads of `readable` into caller buffers (it takes a reader on `readable` at once). Layers that
 * can fill a buffer directly offer `Duplex.readInto` instead; this is the fallback for the rest.
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
  const reader = readable.getReader();
  let leftover: Uint8Array | undefined;
  let busy = false;
  const copy = (chunk: Uint8Array, view: Uint8Array): number => {
    const n = Math.min(chunk.byteLength, view.byteLength);
    view.set(n === chunk.byteLength ? chunk : chunk.subarray(0, n));
    leftover = n < chunk.byteLength ? chunk.subarray(n) : undefined;
    return n;
  };
  return async (view: Uint8Array): Promise<number | null> => {
    if (!(view instanceof Uint8Array) || view.byteLength === 0) {
      throw new TypeError("readInto needs a non-empty Uint8Array");
    }
    if (busy) throw new TypeError("one readInto at a time");
    if (leftover !== undefined) return copy(leftover, view);
    busy = true;
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return null;
        if (value.byteLength > 0) return copy(value, view);
      }
    } finally {
      busy = false;
    }
  };
}
