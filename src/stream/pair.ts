/**
 * In-memory connected duplex pairs, for the memory transport and for tests.
 *
 * @module
 */

import type { ClosableDuplex } from "./types.ts";

/**
 * Two connected duplexes: bytes written to one's `writable` come out of the other's `readable`.
 * Closing a writable ends the other side's readable (half-close); `abort` errors both directions
 * on both ends. Chunks are passed by reference (no copy), as a socket would after its write.
 *
 * @example
 * ```ts
 * import { duplexPair } from "@p2p-edge/libp2p/stream";
 * const [a, b] = duplexPair();
 * const w = a.writable.getWriter();
 * await w.write(new Uint8Array([1]));
 * const { value } = await b.readable.getReader().read(); // Uint8Array [1]
 * ```
 */
export function duplexPair(
  options: { highWaterMark?: number } = {},
): [ClosableDuplex, ClosableDuplex] {
  const hwm = options.highWaterMark ?? 64 * 1024;
  const strategy = { highWaterMark: hwm, size: (c: Uint8Array) => c.byteLength };
  const ab = new TransformStream<Uint8Array, Uint8Array>(undefined, strategy, strategy);
  const ba = new TransformStream<Uint8Array, Uint8Array>(undefined, strategy, strategy);
  const make = (
    incoming: TransformStream<Uint8Array, Uint8Array>,
    outgoing: TransformStream<Uint8Array, Uint8Array>,
  ): ClosableDuplex => {
    const end: ClosableDuplex = {
      readable: incoming.readable,
      writable: outgoing.writable,
      async close() {
        await outgoing.writable.close().catch(() => {});
      },
      abort(reason?: unknown) {
        const err = reason ?? new Error("connection aborted");
        outgoing.writable.abort(err).catch(() => {});
        incoming.writable.abort(err).catch(() => {});
        outgoing.readable.cancel(err).catch(() => {});
        incoming.readable.cancel(err).catch(() => {});
      },
    };
    return end;
  };
  return [make(ba, ab), make(ab, ba)];
}
