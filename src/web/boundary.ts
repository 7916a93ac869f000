/**
 * The one place where the composable web-stream surface meets the internal data path
 * (ARCHITECTURE.md, "A byte's path, socket to handler"): a web duplex becomes the connection object a security
 * protocol or a muxer takes, and what they return becomes a web duplex again. Each direction is
 * one conversion (web streams to a byte channel, a byte channel to web streams); when the
 * internal connection contract changes, only these functions change.
 *
 * @module
 */

import type { MuxedStream } from "../muxer.ts";
import {
  type ChannelConnection,
  channelReadable,
  channelWritable,
  streamConnection,
} from "../stream/channel.ts";
import type { Direction, Duplex } from "../stream/types.ts";
import type { ClosableWebDuplex, MuxedDuplex } from "./types.ts";

/** A web duplex, optionally with the `close`/`abort` of the resource under it. */
export type DuplexInput = Duplex & { close?(): Promise<void>; abort?(reason?: unknown): void };

/**
 * The connection object the internal layers take, over `duplex`: its web streams are adapted to
 * a byte channel once here. Closing it ends our direction (closes `duplex.writable`), then
 * calls `duplex.close()` when the duplex has one; aborting it aborts the streams and calls
 * `duplex.abort()` when it has one.
 */
export function connectionFromDuplex(duplex: DuplexInput): ChannelConnection {
  return streamConnection(duplex);
}

/**
 * The web duplex of a connection a security protocol returned: its byte channel is turned into
 * web streams once here.
 */
export function duplexFromConnection(conn: ChannelConnection): ClosableWebDuplex {
  const channel = conn.channel;
  return {
    readable: channelReadable(channel),
    writable: channelWritable(channel),
    close: () => conn.close(),
    abort: (reason?: unknown) => conn.abort(reason),
  };
}

/** A muxer's stream as a web duplex (its readable and writable are built once, here). */
export function duplexFromMuxedStream(stream: MuxedStream): MuxedDuplex {
  return new WebMuxedStream(stream);
}

/** What {@link duplexFromMuxedStream} builds. */
class WebMuxedStream implements MuxedDuplex {
  readonly #stream: MuxedStream;
  readonly readable: ReadableStream<Uint8Array>;
  readonly writable: WritableStream<Uint8Array>;

  constructor(stream: MuxedStream) {
    this.#stream = stream;
    this.readable = stream.readable;
    this.writable = stream.writable;
  }

  get id(): string {
    return this.#stream.id;
  }

  get direction(): Direction {
    return this.#stream.direction;
  }

  get closed(): Promise<void> {
    return this.#stream.closed;
  }

  close(): Promise<void> {
    return this.#stream.close();
  }

  closeRead(): void {
    this.#stream.closeRead();
  }

  reset(): void {
    this.#stream.reset();
  }

  abort(reason?: unknown): void {
    this.#stream.abort(reason);
  }
}
