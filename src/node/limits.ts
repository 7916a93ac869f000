/**
 * Limited connections (circuit relay v2 "Limit", libp2p/specs relay/circuit-v2.md): a connection
 * whose duration or data volume a relay caps. Protocols run on one only when they opt in with
 * `runOnLimitedConnection` (js-libp2p's name; go: `network.WithAllowLimitedConn`); the core
 * closes the connection when its duration runs out. Counting bytes is the relay transport's job
 * (it sees the spliced bytes); the limit is carried here so that everyone can see it.
 *
 * @module
 */

import { clampDelay } from "../abort.ts";
import { Libp2pError } from "../errors.ts";

/**
 * The limits of a limited connection; an absent field is unlimited.
 *
 * @example
 * ```ts
 * import type { ConnectionLimits } from "@p2p-edge/libp2p";
 * const relayDefault: ConnectionLimits = { durationMs: 120_000, bytes: 128n * 1024n };
 * ```
 */
export interface ConnectionLimits {
  /** The connection is closed this long after it opened, ms. */
  readonly durationMs?: number;
  /** Bytes the relay forwards per direction before it resets the circuit. */
  readonly bytes?: bigint;
}

/**
 * A protocol was asked to run on a limited connection without opting in
 * (`newStream(p, { runOnLimitedConnection: true })`).
 *
 * @example
 * ```ts
 * import { LimitedConnectionError } from "@p2p-edge/libp2p";
 * const err = new LimitedConnectionError("/kad/1.0.0 cannot run on a limited connection");
 * console.log(err.name); // "LimitedConnectionError"
 * ```
 */
export class LimitedConnectionError extends Libp2pError {}

/**
 * Check `limits` (durationMs > 0 and finite, bytes >= 0); returns them, frozen.
 *
 * @example
 * ```ts
 * import { checkConnectionLimits } from "./limits.ts";
 * checkConnectionLimits({ durationMs: 1000 }).durationMs; // 1000
 * ```
 */
export function checkConnectionLimits(limits: ConnectionLimits): ConnectionLimits {
  const { durationMs, bytes } = limits;
  if (durationMs !== undefined && !(durationMs > 0 && Number.isFinite(durationMs))) {
    throw new RangeError("limits.durationMs must be a positive number");
  }
  if (bytes !== undefined && !(typeof bytes === "bigint" && bytes >= 0n)) {
    throw new RangeError("limits.bytes must be a bigint >= 0");
  }
  return Object.freeze({ durationMs, bytes });
}

/**
 * Run `onExpiry` once `limits.durationMs` has passed; the returned function cancels it. Nothing
 * is armed without a duration.
 *
 * @example
 * ```ts
 * import { armDurationLimit } from "./limits.ts";
 * const cancel = armDurationLimit({ durationMs: 50 }, () => console.log("expired"));
 * cancel();
 * ```
 */
export function armDurationLimit(
  limits: ConnectionLimits | undefined,
  onExpiry: (error: Error) => void,
): () => void {
  const ms = limits?.durationMs;
  if (ms === undefined) return () => {};
  const timer = setTimeout(() => {
    onExpiry(
      new LimitedConnectionError(`the limited connection's ${ms} ms duration ran out`),
    );
  }, clampDelay(ms));
  return () => clearTimeout(timer);
}
