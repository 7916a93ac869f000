/**
 * A Yamux stream: the shared muxed-stream glue (src/stream/muxed_stream.ts) wired to the
 * session's state. Payloads go to a waiting read (into the reader's buffer for BYOB reads) or a
 * queue the receive window bounds; reads credit the window back; writes are framed into the
 * session's outbox within the send window.
 *
 * @module
 */

import { BaseMuxedStream } from "../../src/stream/muxed_stream.ts";
import type { Direction } from "../../src/stream/types.ts";
import type { YamuxSession } from "./session.ts";

/** What a stream needs from the muxer that owns it. */
export interface StreamHost {
  /** The session state machine. */
  readonly session: YamuxSession;
  /** The clock the session runs on. */
  now(): number;
  /** A promise while the outbox is above its high-water mark (connection backpressure). */
  outboxBackpressure(): Promise<void> | undefined;
  /** The stream is done: the session forgot it (both sides closed, or reset). */
  streamFreed(stream: YamuxStream): void;
  /** A stream's reader started (+1) or stopped (-1) reading into its own buffers. */
  byobReaders(delta: 1 | -1): void;
}

/**
 * One Yamux stream. Created by the muxer; applications get it from `newStream()` or
 * `onIncomingStream`.
 *
 * @example
 * ```ts
 * import { yamux } from "@p2p-edge/libp2p/protocols/yamux";
 * import { channelPair } from "@p2p-edge/libp2p/stream";
 * const [a, b] = channelPair();
 * const client = yamux().createStreamMuxer(a, { direction: "outbound" });
 * yamux().createStreamMuxer(b, { direction: "inbound", onIncomingStream: (s) => s.reset() });
 * const stream = await client.newStream();
 * console.log(stream.id); // "1"
 * ```
 */
export class YamuxStream extends BaseMuxedStream {
  readonly #num: number;
  readonly #host: StreamHost;

  /** Created by the muxer only. `_hwm` (the largest receive window) is bounded by the session. */
  constructor(num: number, direction: Direction, host: StreamHost, _hwm?: number) {
    super(String(num), direction);
    this.#num = num;
    this.#host = host;
  }

  /** Frame `chunk` into the session (it copies what it takes). */
  protected sendData(chunk: Uint8Array): number {
    return this.#host.session.write(this.#num, chunk);
  }

  /** Queue our FIN. */
  protected sendClose(): void {
    this.#host.session.closeWrite(this.#num);
  }

  /** Queue a reset. */
  protected sendReset(): void {
    this.#host.session.resetStream(this.#num);
  }

  /** Tell the session we read no more. */
  protected readStopped(): void {
    this.#host.session.closeRead(this.#num, this.#host.now());
  }

  /** Credit read bytes back to the session. */
  protected override consumed(n: number): void {
    if (n > 0) this.#host.session.consume(this.#num, n, this.#host.now());
  }

  /** The session's outbound backpressure. */
  protected override backpressure(): Promise<void> | undefined {
    return this.#host.outboxBackpressure();
  }

  /** Count readers that lend their buffers. */
  protected override byobReaders(delta: 1 | -1): void {
    this.#host.byobReaders(delta);
  }

  /** The muxer drops its entry. */
  protected override streamFreed(): void {
    this.#host.streamFreed(this);
  }
}
