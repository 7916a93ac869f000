/**
 * Deadlines and cancellation shared by every service (HARDENING.md rule 8: every handshake and
 * negotiation has a deadline; every timer is released when the operation settles).
 *
 * @module
 */

import { AbortError, TimeoutError } from "./errors.ts";

/** Largest delay setTimeout honours; larger delays fire at once (HARDENING.md rule 3). */
export const MAX_TIMER_DELAY_MS = 2 ** 31 - 1;

/** A signal that aborts at a deadline or when a parent signal aborts; `clear()` releases it. */
export interface DeadlineSignal {
  /** Aborts with a TimeoutError at the deadline, or with the parent's reason. */
  readonly signal: AbortSignal;
  /** Release the timer and the parent listener. Call it in `finally`. */
  clear(): void;
}

/**
 * Clamp a (possibly peer-supplied) delay into what setTimeout can honour.
 *
 * @example
 * ```ts
 * import { clampDelay } from "@p2p-edge/libp2p";
 * clampDelay(Number.MAX_VALUE); // 2147483647
 * ```
 */
export function clampDelay(ms: number): number {
  if (!Number.isFinite(ms)) return ms > 0 ? MAX_TIMER_DELAY_MS : 0;
  return Math.min(Math.max(0, ms), MAX_TIMER_DELAY_MS);
}

/**
 * A signal that aborts after `timeoutMs` (with a TimeoutError naming `what`) or when `parent`
 * aborts. A `timeoutMs` of 0 or Infinity means no deadline.
 *
 * @example
 * ```ts
 * import { deadlineSignal } from "@p2p-edge/libp2p";
 * const d = deadlineSignal(10_000, undefined, "upgrade");
 * try { /* use d.signal *\/ } finally { d.clear(); }
 * ```
 */
export function deadlineSignal(
  timeoutMs: number,
  parent?: AbortSignal,
  what = "operation",
): DeadlineSignal {
  const controller = new AbortController();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const onParentAbort = (): void => controller.abort(abortReason(parent!));
  if (parent?.aborted) {
    controller.abort(abortReason(parent));
  } else {
    parent?.addEventListener("abort", onParentAbort, { once: true });
    if (timeoutMs > 0 && Number.isFinite(timeoutMs)) {
      timer = setTimeout(() => {
        timer = undefined;
        controller.abort(new TimeoutError(`${what} timed out after ${timeoutMs} ms`));
      }, clampDelay(timeoutMs));
    }
  }
  return {
    signal: controller.signal,
    clear() {
      if (timer !== undefined) clearTimeout(timer);
      timer = undefined;
      parent?.removeEventListener("abort", onParentAbort);
    },
  };
}

/**
 * The error an aborted signal stands for: its reason when that is an Error, else an AbortError.
 *
 * @example
 * ```ts
 * import { abortReason } from "@p2p-edge/libp2p";
 * const c = new AbortController();
 * c.abort();
 * abortReason(c.signal) instanceof Error; // true
 * ```
 */
export function abortReason(signal: AbortSignal): Error {
  const reason = signal.reason;
  if (reason instanceof Error && reason.name !== "AbortError") return reason;
  return new AbortError(undefined, reason instanceof Error ? { cause: reason } : undefined);
}

/**
 * Reject with the signal's reason when it aborts before `promise` settles. The listener is
 * removed when either settles.
 *
 * @example
 * ```ts
 * import { raceSignal } from "@p2p-edge/libp2p";
 * await raceSignal(Promise.resolve(1), new AbortController().signal); // 1
 * ```
 */
export function raceSignal<T>(promise: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (signal === undefined) return promise;
  if (signal.aborted) {
    promise.catch(() => {});
    return Promise.reject(abortReason(signal));
  }
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(abortReason(signal));
    signal.addEventListener("abort", onAbort, { once: true });
    promise.then(
      (v) => {
        signal.removeEventListener("abort", onAbort);
        resolve(v);
      },
      (e) => {
        signal.removeEventListener("abort", onAbort);
        reject(e);
      },
    );
  });
}
