/**
 * Waiting on a promise under an abort signal, with clean-up of a result that arrives too late.
 *
 * @module
 */

import { abortReason } from "../../src/abort.ts";

/**
 * Raise when `signal` aborts while `promise` is pending; `onLate` cleans up a late result.
 *
 * @example
 * ```ts
 * const socket = await withSignal(openSocket(), signal, (late) => late.close());
 * ```
 */
export function withSignal<T>(
  promise: Promise<T>,
  signal: AbortSignal | undefined,
  onLate: (value: T) => void,
): Promise<T> {
  if (signal === undefined) return promise;
  if (signal.aborted) {
    promise.then(onLate, () => {});
    return Promise.reject(abortReason(signal));
  }
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => {
      promise.then(onLate, () => {});
      reject(abortReason(signal));
    };
    signal.addEventListener("abort", onAbort, { once: true });
    promise.then(
      (v) => {
        signal.removeEventListener("abort", onAbort);
        if (signal.aborted) onLate(v);
        else resolve(v);
      },
      (e) => {
        signal.removeEventListener("abort", onAbort);
        reject(e);
      },
    );
  });
}
