/**
 * An in-memory pair of connected web duplexes, for tests and examples of the composable surface.
 *
 * @module
 */

import type { Duplex } from "../stream/types.ts";

/** Options of {@link webDuplexPair}. */
export interface WebDuplexPairOptions {
  /**
   * Chunks each direction buffers before a write waits for the reader (default 16). Like a
   * socket's buffer, this lets both ends write before either reads, as handshakes do; with 0,
   * two ends that both write first would wait for each other forever.
   */
  highWaterMark?: number;
}

/**
 * Two web duplexes connected to each other: what one writes, the other reads. Closing one's
 * `writable` ends the other's `readable`.
 *
 * @example
 * ```ts
 * import { webDuplexPair } from "@p2p-edge/libp2p/stream";
 * const [a, b] = webDuplexPair();
 * const writer = a.writable.getWriter();
 * await writer.write(new Uint8Array([1, 2, 3]));
 * await writer.close();
 * console.log(new Uint8Array(await new Response(b.readable).arrayBuffer())); // [1, 2, 3]
 * ```
 */
export function webDuplexPair(options: WebDuplexPairOptions = {}): [Duplex, Duplex] {
  const hwm = options.highWaterMark ?? 16;
  if (!(hwm >= 0)) throw new RangeError(`highWaterMark must be >= 0, got ${hwm}`);
  // Both queues buffer: a TransformStream's write settles only once its chunk moved to the
  // readable side's queue, which with the default (0) waits for a read.
  const pipe = () =>
    new TransformStream<Uint8Array, Uint8Array>({}, { highWaterMark: hwm }, {
      highWaterMark: hwm,
    });
  const ab = pipe();
  const ba = pipe();
  return [
    { readable: ba.readable, writable: ab.writable },
    { readable: ab.readable, writable: ba.writable },
  ];
}
