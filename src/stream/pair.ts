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
  // Abort goes through each TransformStream's controller: error() fails both of its sides even
  // while a reader or writer holds the lock (stream.abort()/cancel() would reject on a locked
  // stream and leave the other end hanging).
  const pipe = (): {
    stream: TransformStream<Uint8Array, Uint8Array>;
    error(reason: unknown): void;
  } => {
    let controller!: TransformStreamDefaultController<Uint8Array>;
    const stream = new TransformStream<Uint8Array, Uint8Array>(
      {
        start(c) {
          controller = c;
        },
      },
      strategy,
      strategy,
    );
    return { stream, error: (reason) => controller.error(reason) };
  };
  const ab = pipe();
  const ba = pipe();
  const make = (incoming: ReturnType<typeof pipe>, outgoing: ReturnType<typeof pipe>) => {
    const end: ClosableDuplex = {
      readable: incoming.stream.readable,
      writable: outgoing.stream.writable,
      async close() {
        await outgoing.stream.writable.close().catch(() => {});
      },
      abort(reason?: unknown) {
        const err = reason ?? new Error("connection aborted");
        outgoing.error(err);
        incoming.error(err);
      },
    };
    return end;
  };
  return [make(ba, ab), make(ab, ba)];
}
