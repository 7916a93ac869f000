/**
 * The error of invalid peer-score parameters (gossipsub-v1.1.md "Overview of New Parameters").
 *
 * @module
 */

/**
 * A score parameter broke a constraint of gossipsub-v1.1.md (or go-libp2p-pubsub's
 * `validate()`). `field` names it, with its topic for a topic parameter
 * (`topics["blocks"].meshMessageDeliveriesDecay`). A RangeError, as bad arguments are
 * (ARCHITECTURE.md "Conventions").
 *
 * @example
 * ```ts
 * import { validatePeerScoreThresholds } from "./score_params.ts";
 * import { InvalidScoreParamsError } from "./score_errors.ts";
 * try {
 *   validatePeerScoreThresholds({
 *     gossipThreshold: 1, publishThreshold: -1, graylistThreshold: -2,
 *     acceptPXThreshold: 0, opportunisticGraftThreshold: 0,
 *   });
 * } catch (e) {
 *   if (e instanceof InvalidScoreParamsError) console.log(e.field); // "gossipThreshold"
 * }
 * ```
 */
export class InvalidScoreParamsError extends RangeError {
  /** The parameter that broke its constraint. */
  readonly field: string;
  /** Create an error naming the field and the constraint. */
  constructor(field: string, constraint: string) {
    super(`invalid score parameter ${field}: ${constraint}`);
    this.name = "InvalidScoreParamsError";
    this.field = field;
  }
}
