/**
 * The byte-stream shapes every layer hands to the next (see ARCHITECTURE.md, "The layers").
 *
 * @module
 */

/** Which side opened a connection or stream. */
export type Direction = "inbound" | "outbound";

/**
 * A duplex byte stream: what a transport, a security session or a muxed stream exposes.
 *
 * @example
 * ```ts
 * import type { Duplex } from "@p2p-edge/libp2p";
 * function echo(d: Duplex): Promise<void> { return d.readable.pipeTo(d.writable); }
 * ```
 */
export interface Duplex {
  /** Bytes from the remote side. */
  readonly readable: ReadableStream<Uint8Array>;
  /** Bytes to the remote side. Closing it half-closes (where the layer supports that). */
  readonly writable: WritableStream<Uint8Array>;
  /**
   * Present where the layer can fill the caller's buffer (BYOB) without a chunk of its own in
   * between, as Yamux streams do: the next bytes go into `view`; resolves with their count, or
   * `null` at the end. It reads through `readable` (locks it); one call at a time.
   */
  readInto?(view: Uint8Array): Promise<number | null>;
}

/**
 * A duplex that can be torn down: the raw connection a transport produces, or a secured one.
 *
 * @example
 * ```ts
 * import type { ClosableDuplex } from "@p2p-edge/libp2p";
 * async function hangUp(c: ClosableDuplex): Promise<void> { await c.close(); }
 * ```
 */
export interface ClosableDuplex extends Duplex {
  /** Close gracefully: flush pending writes, then close the underlying resource. */
  close(): Promise<void>;
  /** Tear down at once; pending reads and writes reject with `reason`. Idempotent. */
  abort(reason?: unknown): void;
}

/** Times (ms since the epoch) at which a stream or connection changed state. */
export interface Timeline {
  /** When it opened. */
  open: number;
  /** When it finished upgrading (connections only). */
  upgraded?: number;
  /** When it was closed (both directions) or reset. */
  close?: number;
}

/** Options accepted by every async operation. */
export interface AbortOptions {
  /** Aborts the operation; it then rejects with an AbortError (or the signal's reason). */
  signal?: AbortSignal;
}
