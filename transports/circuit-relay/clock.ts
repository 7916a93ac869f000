/**
 * The clock and timers of the relay client, injected so that renewals and backoff are tested on
 * a virtual clock without sleeps (ARCHITECTURE.md "Conventions").
 *
 * @module
 */

import { clampDelay } from "../../src/abort.ts";

/**
 * Time and one-shot timers.
 *
 * @example
 * ```ts
 * import type { RelayClock } from "@p2p-edge/libp2p/transports/circuit-relay";
 * const clock: RelayClock = {
 *   now: () => Date.now(),
 *   setTimer: (fn, ms) => setTimeout(fn, ms),
 *   clearTimer: (h) => clearTimeout(h as number),
 * };
 * ```
 */
export interface RelayClock {
  /** Milliseconds since the UNIX epoch (reservation expiries are UNIX seconds). */
  now(): number;
  /** Run `fn` once after `ms`; returns a handle for {@link RelayClock.clearTimer}. */
  setTimer(fn: () => void, ms: number): unknown;
  /** Cancel a timer; a handle already fired or cleared is ignored. */
  clearTimer(handle: unknown): void;
}

/**
 * The real clock: `Date.now()` and `setTimeout`, with delays clamped to what `setTimeout`
 * honours (HARDENING.md rule 3: a relay's far-off expiry must not fire at once).
 *
 * @example
 * ```ts
 * import { systemClock } from "@p2p-edge/libp2p/transports/circuit-relay";
 * const h = systemClock.setTimer(() => console.log("later"), 10);
 * systemClock.clearTimer(h);
 * ```
 */
export const systemClock: RelayClock = Object.freeze({
  now: (): number => Date.now(),
  setTimer: (fn: () => void, ms: number): unknown => setTimeout(fn, clampDelay(ms)),
  clearTimer: (handle: unknown): void => clearTimeout(handle as ReturnType<typeof setTimeout>),
});
