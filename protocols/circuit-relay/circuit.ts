/**
 * The relay's splice: once the target accepted STOP and the source got its OK, the two streams'
 * channels are joined byte for byte (libp2p/specs `relay/circuit-v2.md` §Hop Protocol). Chunks
 * are handed from one channel to the other as read, without copies; each direction waits for
 * the other side to drain before it reads more (backpressure). The circuit's limit is enforced
 * in both directions: at most `data` bytes per direction are forwarded, and at `duration` both
 * halves are reset; a reset or failure on one half resets the other. A clean end of one
 * direction is passed on as a half-close.
 *
 * @module
 */

import { clampDelay } from "../../src/abort.ts";
import { LimitedConnectionError } from "../../src/node/limits.ts";
import type { ByteChannel } from "../../src/stream/channel.ts";

/** How a circuit ended. */
export type CircuitEnd = "closed" | "data-limit" | "duration-limit" | "reset" | "aborted";

/** What a finished circuit reports. */
export interface CircuitResultInfo {
  /** How it ended. */
  end: CircuitEnd;
  /** Bytes forwarded from the source to the target. */
  sourceToTarget: bigint;
  /** Bytes forwarded from the target to the source. */
  targetToSource: bigint;
}

/** Options of {@link spliceCircuit}. */
export interface SpliceOptions {
  /** Bytes forwarded per direction before both halves are reset; absent: unlimited. */
  dataLimit?: bigint;
  /** Ms until both halves are reset; absent: unlimited. */
  durationMs?: number;
  /** Aborting resets both halves (the service stopped). */
  signal?: AbortSignal;
  /** Called with every chunk's size as it is forwarded (the service's byte counters). */
  onBytes?: (n: number) => void;
}

/**
 * Join `source` and `target` until both directions ended or a limit was hit.
 *
 * @example
 * ```ts
 * import { channelPair } from "../../src/stream/pair.ts";
 * import { spliceCircuit } from "./circuit.ts";
 * const [a, relayA] = channelPair();
 * const [relayB, b] = channelPair();
 * const done = spliceCircuit(relayA.channel, relayB.channel, { dataLimit: 1024n });
 * a.channel.write(new Uint8Array([1, 2, 3]));
 * console.log(await b.channel.read()); // Uint8Array [1, 2, 3]
 * await a.channel.closeWrite();
 * await b.channel.closeWrite();
 * (await done).end; // "closed"
 * ```
 */
export function spliceCircuit(
  source: ByteChannel,
  target: ByteChannel,
  options: SpliceOptions = {},
): Promise<CircuitResultInfo> {
  return new Splice(source, target, options).run();
}

class Splice {
  readonly #source: ByteChannel;
  readonly #target: ByteChannel;
  readonly #options: SpliceOptions;
  #end: CircuitEnd | undefined;
  #forward = 0n;
  #backward = 0n;

  constructor(source: ByteChannel, target: ByteChannel, options: SpliceOptions) {
    this.#source = source;
    this.#target = target;
    this.#options = options;
  }

  async run(): Promise<CircuitResultInfo> {
    const { durationMs, signal } = this.#options;
    let timer: ReturnType<typeof setTimeout> | undefined;
    if (durationMs !== undefined) {
      timer = setTimeout(() => {
        this.#fail(
          "duration-limit",
          new LimitedConnectionError(`relayed connection's ${durationMs} ms ran out`),
        );
      }, clampDelay(durationMs));
    }
    const onAbort = (): void => this.#fail("aborted", signal?.reason);
    if (signal?.aborted) onAbort();
    else signal?.addEventListener("abort", onAbort, { once: true });
    try {
      await Promise.all([
        this.#pump(this.#source, this.#target, true),
        this.#pump(this.#target, this.#source, false),
      ]);
    } finally {
      clearTimeout(timer);
      signal?.removeEventListener("abort", onAbort);
    }
    return {
      end: this.#end ?? "closed",
      sourceToTarget: this.#forward,
      targetToSource: this.#backward,
    };
  }

  /** Reset both halves once, remembering why. */
  #fail(end: CircuitEnd, reason: unknown): void {
    if (this.#end !== undefined) return;
    this.#end = end;
    this.#source.abort(reason);
    this.#target.abort(reason);
  }

  async #pump(from: ByteChannel, to: ByteChannel, forward: boolean): Promise<void> {
    const limit = this.#options.dataLimit;
    try {
      for (;;) {
        const chunk = await from.read();
        if (this.#end !== undefined) return;
        if (chunk === null) {
          await to.closeWrite();
          return;
        }
        const sent = forward ? this.#forward : this.#backward;
        let out = chunk;
        let over = false;
        if (limit !== undefined && sent + BigInt(chunk.byteLength) > limit) {
          out = chunk.subarray(0, Number(limit - sent));
          over = true;
        }
        if (out.byteLength > 0) {
          to.write(out);
          if (forward) this.#forward += BigInt(out.byteLength);
          else this.#backward += BigInt(out.byteLength);
          this.#options.onBytes?.(out.byteLength);
        }
        if (over) {
          // What fitted goes out first, then both halves are reset (go resets at the limit).
          await to.drained().catch(() => {});
          this.#fail(
            "data-limit",
            new LimitedConnectionError(`relayed connection passed its ${limit} byte limit`),
          );
          return;
        }
        await to.drained();
      }
    } catch (err) {
      this.#fail("reset", err);
    }
  }
}
