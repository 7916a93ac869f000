/**
 * The per-stream inactivity deadline of protocol streams (HARDENING.md rule 8: "every stream
 * has an inactivity deadline"), and end-of-stream detection for resource release.
 *
 * The stream's readable and writable are wrapped by thin pass-through streams (no transform
 * queue: the readable pulls one chunk per read with high-water mark 0, the writable forwards each
 * write and resolves when the muxer accepted it), which record activity and notice when both
 * directions have ended. Errors pass through unchanged (a reset still rejects with
 * StreamResetError). One timer per stream, re-armed once per period, not per chunk.
 *
 * @module
 */

import { type IdleTimer, idleTimer } from "../stream/idle.ts";
import type { Duplex } from "../stream/types.ts";

/** Default inactivity deadline of a protocol stream, ms. */
export const DEFAULT_STREAM_IDLE_TIMEOUT_MS = 60_000;

/** A guarded stream: the wrapped duplex and a way to stop guarding. */
export interface StreamGuard {
  /** The wrapped duplex to hand to the application. */
  readonly io: Duplex;
  /** Whether both directions have ended (read to EOF/error/cancel, write closed/aborted). */
  readonly ended: boolean;
  /** Stop the timer (idempotent); `onEnd` is not called. */
  clear(): void;
}

/** Callbacks of {@link guardStream}. */
export interface StreamGuardInit {
  /** Inactivity deadline, ms; 0 or Infinity: none (the stream is still wrapped for `onEnd`). */
  timeoutMs: number;
  /** Called once when the stream was idle for `timeoutMs`; the caller resets the stream. */
  onIdle(error: Error): void;
  /** Called once when both directions have ended, or after `onIdle`. */
  onEnd(): void;
  /**
   * Called when reading fails. The guard holds the muxed stream's writer, so whoever failed
   * the read (e.g. an optimistic multistream-select that got `na`) cannot abort the stream's
   * write side itself: the owner resets the stream here.
   */
  onReadError?(error: unknown): void;
  /** Label for the TimeoutError message. */
  what?: string;
}

/**
 * Wrap `io` with an inactivity deadline and end detection.
 *
 * @example
 * ```ts
 * import { guardStream } from "@p2p-edge/libp2p";
 * import { duplexPair } from "@p2p-edge/libp2p/stream";
 * const [a] = duplexPair();
 * const guard = guardStream(a, { timeoutMs: 60_000, onIdle: () => {}, onEnd: () => {} });
 * guard.clear();
 * ```
 */
export function guardStream(io: Duplex, init: StreamGuardInit): StreamGuard {
  let readEnded = false;
  let writeEnded = false;
  let finished = false;
  const idle: IdleTimer = idleTimer(init.timeoutMs, undefined, init.what ?? "stream");
  const finish = (): void => {
    if (finished) return;
    finished = true;
    idle.signal.removeEventListener("abort", onIdle);
    idle.clear();
    init.onEnd();
  };
  const onIdle = (): void => {
    if (finished) return;
    init.onIdle(idle.signal.reason as Error);
    finish();
  };
  idle.signal.addEventListener("abort", onIdle, { once: true });
  const readEnd = (): void => {
    readEnded = true;
    if (writeEnded) finish();
  };
  const writeEnd = (): void => {
    writeEnded = true;
    if (readEnded) finish();
  };

  const reader = io.readable.getReader();
  const readable = new ReadableStream<Uint8Array>({
    async pull(controller) {
      let result: ReadableStreamReadResult<Uint8Array>;
      try {
        result = await reader.read();
      } catch (err) {
        readEnd();
        init.onReadError?.(err);
        throw err;
      }
      idle.touch();
      if (result.done) {
        controller.close();
        readEnd();
      } else {
        controller.enqueue(result.value);
      }
    },
    cancel(reason) {
      readEnd();
      return reader.cancel(reason);
    },
  }, { highWaterMark: 0 });

  const writer = io.writable.getWriter();
  // The muxed writable may error on its own (reset); observe it so the rejection is handled.
  writer.closed.catch(() => {});
  const writable = new WritableStream<Uint8Array>({
    async write(chunk) {
      idle.touch();
      try {
        await writer.write(chunk);
      } catch (err) {
        writeEnd();
        throw err;
      }
      idle.touch();
    },
    async close() {
      try {
        await writer.close();
      } finally {
        writeEnd();
      }
    },
    abort(reason) {
      writeEnd();
      return writer.abort(reason);
    },
  }, { highWaterMark: 1 });

  return {
    io: { readable, writable },
    get ended(): boolean {
      return readEnded && writeEnded;
    },
    clear() {
      finished = true;
      idle.signal.removeEventListener("abort", onIdle);
      idle.clear();
    },
  };
}
