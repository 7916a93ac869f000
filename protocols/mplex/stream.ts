/**
 * One mplex substream: the shared muxed-stream glue (src/stream/muxed_stream.ts) wired to the
 * session. Payloads wait in the glue's queue until read; the session learns what the
 * application read (`consumed`) and resets a stream whose unread bytes would pass
 * maxStreamBufferSize (mplex has no window: spec, "Implementation notes", remedy 2). Writes are
 * cut into messages of at most maxMessageSize and handed to the session's frame writer, which
 * keeps them until written: `drained()` waits for that.
 *
 * @module
 */

import { StreamResetError } from "../../src/errors.ts";
import { BaseMuxedStream } from "../../src/stream/muxed_stream.ts";
import { label, type MplexSession, type MplexStreamState } from "./session.ts";

const noop = (): void => {};

/**
 * A stream of an mplex session. Created by the muxer (newStream, or for each remote NewStream);
 * see MuxedStream for the semantics.
 *
 * @example
 * ```ts
 * import { mplex } from "@p2p-edge/libp2p/protocols/mplex";
 * import { channelPair } from "@p2p-edge/libp2p/stream";
 * const [a] = channelPair();
 * const muxer = mplex().createStreamMuxer(a, { direction: "outbound" });
 * const stream = await muxer.newStream(); // an MplexStream
 * console.log(stream.id); // "i1" (the dialer numbers its streams 1, 3, 5, ...)
 * ```
 */
export class MplexStream extends BaseMuxedStream {
  readonly #session: MplexSession;
  readonly #st: MplexStreamState;
  /** The frame writer's promise for our last message: settled once it left. */
  #sent: Promise<void> | undefined;

  /** Created by the muxer only. */
  constructor(session: MplexSession, st: MplexStreamState) {
    super(label(st), st.initiator ? "outbound" : "inbound");
    this.#session = session;
    this.#st = st;
  }

  /** Frame `chunk` into the session (it copies what it takes). */
  protected sendData(chunk: Uint8Array): number {
    const max = this.#session.limits.maxMessageSize;
    for (let offset = 0; offset < chunk.byteLength; offset += max) {
      const piece = chunk.byteLength <= max ? chunk : chunk.subarray(offset, offset + max);
      this.#track(this.#session.write(this.#st, piece));
    }
    return chunk.byteLength;
  }

  /** Queue our FIN. */
  protected sendClose(): void {
    const sent = this.#session.closeWrite(this.#st);
    if (sent !== undefined) this.#track(sent);
  }

  /** Queue a reset. */
  protected sendReset(): void {
    this.#session.reset(this.#st);
  }

  /** Tell the session we read no more. */
  protected readStopped(): void {
    this.#session.closeRead(this.#st);
  }

  /** Credit read bytes back to the session. */
  protected override consumed(n: number): void {
    this.#session.consumed(this.#st, n);
  }

  /** The frame writer keeps our chunks until they are written. */
  override get copiesWrites(): boolean {
    return false;
  }

  /** The session's outbound backpressure. */
  protected override backpressure(): Promise<void> | undefined {
    const sent = this.#sent;
    if (sent === undefined) return undefined;
    return sent.catch((err) => {
      throw new StreamResetError("mplex connection failed", { cause: err });
    });
  }

  #track(sent: Promise<void>): void {
    sent.catch(noop);
    const p: Promise<void> = sent.finally(() => {
      if (this.#sent === p) this.#sent = undefined;
    });
    p.catch(noop);
    this.#sent = p;
  }

  /** @internal The remote closed its side. */
  onRemoteClose(): void {
    this.onFin();
  }

  /** @internal The session freed the stream. */
  onFree(): void {
    this.onFreed();
  }
}
