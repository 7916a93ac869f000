/**
 * The single writer of an mplex connection: frames queued in the same tick are encoded into one
 * buffer and written with one call (ARCHITECTURE.md, "Conventions": small frames written in one
 * tick are coalesced into one write). While the connection is full (`desiredSize <= 0`) frames wait and
 * coalesce further; a frame's promise settles once the connection has taken it, which is what
 * makes a stream's write wait for the connection (backpressure).
 *
 * @module
 */

import type { ByteChannel } from "../../src/stream/channel.ts";
import { encodedLength, encodeMessageInto } from "./codec.ts";
import { type MplexFlagValue, WRITE_BATCH_BYTES } from "./constants.ts";

interface Frame {
  id: number;
  flag: MplexFlagValue;
  data: Uint8Array | undefined;
  length: number;
}

const noop = (): void => {};

/** Marks `p` handled (callers that await it still see the rejection). */
function handled<T>(p: Promise<T>): Promise<T> {
  p.catch(noop);
  return p;
}

/**
 * Coalescing frame writer over a connection's writable.
 *
 * @example
 * ```ts
 * import { FrameWriter, MplexFlag } from "@p2p-edge/libp2p/protocols/mplex";
 * import { channelPair } from "@p2p-edge/libp2p/stream";
 * const [a, b] = channelPair();
 * const w = new FrameWriter(a.channel);
 * w.push(0, MplexFlag.NewStream);
 * await w.push(0, MplexFlag.CloseInitiator);
 * console.log(await b.channel.read()); // Uint8Array [0, 0, 4, 0]
 * ```
 */
export class FrameWriter {
  #channel: ByteChannel;
  #onError: (error: unknown) => void;
  #queue: Frame[] = [];
  #pending: PromiseWithResolvers<void> | undefined;
  #run: Promise<void> | undefined;
  #error: unknown;
  #failed = false;

  /** Write to `writer`; `onError` is called once if a write fails. */
  constructor(
    channel: ByteChannel,
    onError: (error: unknown) => void = noop,
  ) {
    this.#channel = channel;
    this.#onError = onError;
  }

  /** Frames queued and not yet handed to the connection. */
  get queued(): number {
    return this.#queue.length;
  }

  /**
   * Queue one frame. The promise resolves once the connection took it and rejects if the
   * connection failed; it is pre-handled, so ignoring it never raises an unhandled rejection.
   */
  push(id: number, flag: MplexFlagValue, data?: Uint8Array): Promise<void> {
    if (this.#failed) return handled(Promise.reject(this.#error));
    this.#queue.push({ id, flag, data, length: encodedLength(id, flag, data?.byteLength ?? 0) });
    this.#pending ??= Promise.withResolvers<void>();
    const p = this.#pending.promise;
    if (this.#run === undefined) this.#run = this.#loop();
    return handled(p);
  }

  /** Settles when every queued frame was handed to the connection. */
  async flush(): Promise<void> {
    while (this.#run !== undefined) await this.#run;
    if (this.#failed) throw this.#error;
  }

  /** Flush, then close the connection's writable. */
  async close(): Promise<void> {
    await this.flush();
    await this.#channel.closeWrite();
  }

  /** Fail every queued frame with `reason` and abort the connection's writable. */
  abort(reason: unknown): void {
    this.#fail(reason);
    this.#channel.abort(reason);
  }

  async #loop(): Promise<void> {
    // Let every frame produced in this tick join the first batch.
    await Promise.resolve();
    try {
      while (this.#queue.length > 0 && !this.#failed) {
        // What was written before must have left the channel (backpressure).
        await this.#channel.drained();
        if (this.#failed) break;
        const frames = this.#queue;
        const done = this.#pending;
        this.#queue = [];
        this.#pending = undefined;
        this.#writeFrames(frames);
        done?.resolve();
      }
    } catch (err) {
      this.#fail(err);
    } finally {
      this.#run = undefined;
    }
  }

  #writeFrames(frames: Frame[]): void {
    let i = 0;
    while (i < frames.length) {
      let end = i;
      let total = 0;
      while (
        end < frames.length && (end === i || total + frames[end].length <= WRITE_BATCH_BYTES)
      ) {
        total += frames[end].length;
        end++;
      }
      const buf = new Uint8Array(total);
      let offset = 0;
      for (let k = i; k < end; k++) {
        const f = frames[k];
        offset = encodeMessageInto(buf, offset, f.id, f.flag, f.data);
      }
      this.#channel.write(buf);
      i = end;
    }
  }

  #fail(error: unknown): void {
    if (this.#failed) return;
    this.#failed = true;
    this.#error = error;
    this.#queue = [];
    const p = this.#pending;
    this.#pending = undefined;
    p?.reject(error);
    this.#onError(error);
  }
}
