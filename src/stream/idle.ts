/**
 * An inactivity deadline for a stream (HARDENING.md rule 8: "every stream has an inactivity
 * deadline"): a signal that aborts when `touch()` was not called for `timeoutMs`. One timer per
 * period, not one per chunk: `touch()` only records the time.
 *
 * @module
 */

import { abortReason, clampDelay } from "../abort.ts";
import { TimeoutError } from "../errors.ts";

/** An inactivity deadline; call `touch()` on progress and `clear()` when done. */
export interface IdleTimer {
  /** Aborts with a TimeoutError after `timeoutMs` without progress, or with the parent's reason. */
  readonly signal: AbortSignal;
  /** Record progress: the deadline moves to `timeoutMs` from now. */
  touch(): void;
  /** Release the timer and the parent listener. Call it in `finally`. */
  clear(): void;
}

/**
 * Start an inactivity deadline of `timeoutMs` (0 or Infinity: none), also aborted by `parent`.
 *
 * @example
 * ```ts
 * import { idleTimer } from "@p2p-edge/libp2p/stream";
 * const idle = idleTimer(10_000, undefined, "echo stream");
 * try {
 *   idle.touch(); // after each chunk
 * } finally {
 *   idle.clear();
 * }
 * ```
 */
export function idleTimer(
  timeoutMs: number,
  parent?: AbortSignal,
  what = "stream",
  now: () => number = Date.now,
): IdleTimer {
  const controller = new AbortController();
  let last = now();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const onParentAbort = (): void => {
    if (timer !== undefined) clearTimeout(timer);
    timer = undefined;
    controller.abort(abortReason(parent!));
  };
  const check = (): void => {
    const idle = now() - last;
    if (idle >= timeoutMs) {
      timer = undefined;
      parent?.removeEventListener("abort", onParentAbort);
      controller.abort(new TimeoutError(`${what} idle for more than ${timeoutMs} ms`));
      return;
    }
    timer = setTimeout(check, clampDelay(timeoutMs - idle));
  };
  if (parent?.aborted) controller.abort(abortReason(parent));
  else {
    parent?.addEventListener("abort", onParentAbort, { once: true });
    if (timeoutMs > 0 && Number.isFinite(timeoutMs)) {
      timer = setTimeout(check, clampDelay(timeoutMs));
    }
  }
  return {
    signal: controller.signal,
    touch() {
      last = now();
    },
    clear() {
      if (timer !== undefined) clearTimeout(timer);
      timer = undefined;
      parent?.removeEventListener("abort", onParentAbort);
    },
  };
}
