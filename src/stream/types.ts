/**
 * The byte-stream shapes every layer hands to the next (see ARCHITECTURE.md, "The types, by role").
 *
 * @module
 */

/** Which side opened a connection or stream. */
export type Direction = "inbound" | "outbound";

/**
 * A web duplex byte stream (`{ readable, writable }`): a WebSocket's streams, a WebRTC data
 * channel, a public Stream. Inside the node bytes move on byte channels instead
 * (src/stream/channel.ts); this is the shape of the web-streams edge.
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
