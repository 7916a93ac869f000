/**
 * A stream muxer over any web duplex: the composable form of the muxer layer, for stacks
 * assembled by hand (a WebSocket's streams, a WebRTC data channel, a secured connection).
 *
 * @module
 */

import type { StreamMuxer, StreamMuxerFactory } from "../muxer.ts";
import type { AbortOptions, Direction } from "../stream/types.ts";
import { connectionFromDuplex, duplexFromMuxedStream, type DuplexInput } from "./boundary.ts";
import type { MuxedDuplex } from "./types.ts";

/** Options of {@link muxDuplex}. */
export interface MuxDuplexOptions {
  /** "outbound" on the side that dialled the connection (yamux: it uses odd stream ids). */
  direction: Direction;
  /**
   * Called with each stream the remote opens. Without it, inbound streams are reset at once.
   * A stream the callback neither reads nor closes stays open: close or reset it.
   */
  onIncomingStream?: (stream: MuxedDuplex) => void;
  /** Called once when the session ends; `error` is set when it ended abnormally. */
  onClose?: (error?: Error) => void;
}

/**
 * A muxer session over a web duplex: what {@link muxDuplex} returns.
 *
 * @example
 * ```ts
 * import type { DuplexMuxer } from "@p2p-edge/libp2p/stream";
 * async function hello(mux: DuplexMuxer): Promise<void> {
 *   const stream = await mux.newStream();
 *   await stream.writable.getWriter().write(new TextEncoder().encode("hi"));
 * }
 * ```
 */
export interface DuplexMuxer {
  /** The muxer's protocol id, e.g. "/yamux/1.0.0". */
  readonly protocol: string;
  /** Open a stream. Rejects once the session is closing or at its stream limit. */
  newStream(options?: AbortOptions): Promise<MuxedDuplex>;
  /** Close gracefully: no new streams, open ones finish, then the duplex is closed. */
  close(options?: AbortOptions): Promise<void>;
  /** Tear the session down at once: every stream is reset, the duplex aborted. */
  abort(reason?: unknown): void;
  /** Settles when the session has ended. */
  readonly closed: Promise<void>;
}

/**
 * Run a stream muxer (e.g. `yamux()`, `mplex()`) over `duplex`, whose bytes it owns from now on.
 * The muxer's protocol must already be agreed (e.g. with multistream-select's `select`/`handle`).
 *
 * @example
 * ```ts
 * import { muxDuplex, webDuplexPair } from "@p2p-edge/libp2p/stream";
 * import { yamux } from "@p2p-edge/libp2p/protocols/yamux";
 * const [a, b] = webDuplexPair();
 * const client = muxDuplex(a, yamux(), { direction: "outbound" });
 * muxDuplex(b, yamux(), {
 *   direction: "inbound",
 *   onIncomingStream: (stream) => stream.readable.pipeTo(stream.writable), // echo
 * });
 * const stream = await client.newStream();
 * ```
 */
export function muxDuplex(
  duplex: DuplexInput,
  factory: StreamMuxerFactory,
  options: MuxDuplexOptions,
): DuplexMuxer {
  if (options?.direction !== "outbound" && options?.direction !== "inbound") {
    throw new TypeError('muxDuplex: direction must be "outbound" or "inbound"');
  }
  const onIncoming = options.onIncomingStream;
  const session: StreamMuxer = factory.createStreamMuxer(connectionFromDuplex(duplex), {
    direction: options.direction,
    onIncomingStream: (stream) => {
      if (onIncoming === undefined) {
        stream.reset();
        return;
      }
      try {
        onIncoming(duplexFromMuxedStream(stream));
      } catch (err) {
        stream.abort(err);
      }
    },
    onClose: options.onClose,
  });
  return {
    protocol: session.protocol,
    newStream: async (o?: AbortOptions) => duplexFromMuxedStream(await session.newStream(o)),
    close: (o?: AbortOptions) => session.close(o),
    abort: (reason?: unknown) => session.abort(reason),
    closed: session.closed,
  };
}
