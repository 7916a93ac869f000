/**
 * The types of the composable web-stream surface.
 *
 * @module
 */

import type { Direction, Duplex } from "../stream/types.ts";

/**
 * A web duplex that can also be closed gracefully or torn down: what `secure` returns.
 *
 * @example
 * ```ts
 * import type { ClosableWebDuplex } from "@p2p-edge/libp2p/stream";
 * async function hello(conn: ClosableWebDuplex): Promise<void> {
 *   const writer = conn.writable.getWriter();
 *   await writer.write(new TextEncoder().encode("hello"));
 *   writer.releaseLock();
 *   await conn.close();
 * }
 * ```
 */
export interface ClosableWebDuplex extends Duplex {
  /** Flush what was written, end our direction, then close the resource underneath. */
  close(): Promise<void>;
  /** Tear both directions down at once; pending reads and writes fail with `reason`. */
  abort(reason?: unknown): void;
}

/**
 * One stream of a muxer, as a web duplex: `readable` ends when the remote closed its side,
 * closing `writable` (or {@link MuxedDuplex.close}) half-closes ours.
 *
 * @example
 * ```ts
 * import type { MuxedDuplex } from "@p2p-edge/libp2p/stream";
 * async function echo(stream: MuxedDuplex): Promise<void> {
 *   await stream.readable.pipeTo(stream.writable);
 * }
 * ```
 */
export interface MuxedDuplex extends Duplex {
  /** Stream id within its session. */
  readonly id: string;
  /** "outbound" when we opened it. */
  readonly direction: Direction;
  /** Resolves once the muxer freed the stream (both sides closed, or reset). */
  readonly closed: Promise<void>;
  /** Half-close our side (FIN) once pending writes are flushed. */
  close(): Promise<void>;
  /** Read no more: buffered and further data are dropped. */
  closeRead(): void;
  /** Reset the stream (both directions end at once). */
  reset(): void;
  /** Reset with a local reason that readers and writers see. */
  abort(reason?: unknown): void;
}
