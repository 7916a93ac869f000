/**
 * One peer's counters in one scored topic, and the per-topic part of the score function
 * (gossipsub-v1.1.md "The Score Function", "Topic Parameter Calculation and Decay").
 *
 * @module
 */

import type { TopicScoreParams } from "./score_params.ts";

/** One peer's counters in one scored topic. */
export interface TopicStats {
  /** Whether the peer is in our mesh of the topic. */
  inMesh: boolean;
  /** When the peer was last grafted (valid while `inMesh`). */
  graftTime: number;
  /** P2 counter. */
  firstMessageDeliveries: number;
  /** P3 counter. */
  meshMessageDeliveries: number;
  /** P3b counter. */
  meshFailurePenalty: number;
  /** P4 counter. */
  invalidMessageDeliveries: number;
}

/**
 * The P3 deficit: threshold minus deliveries, once the peer has been in the mesh longer than
 * the activation time; 0 otherwise.
 *
 * @example
 * ```ts
 * import { meshDeficit } from "./score_topic.ts";
 * import { DEFAULT_TOPIC_SCORE_PARAMS } from "./score_params.ts";
 * const stats = {
 *   inMesh: true,
 *   graftTime: 0,
 *   firstMessageDeliveries: 2,
 *   meshMessageDeliveries: 0,
 *   meshFailurePenalty: 0,
 *   invalidMessageDeliveries: 0,
 * };
 * meshDeficit(stats, DEFAULT_TOPIC_SCORE_PARAMS, 10_000); // 20 (threshold 20, none delivered)
 * ```
 */
export function meshDeficit(ts: TopicStats, tp: TopicScoreParams, now: number): number {
  if (!ts.inMesh || now - ts.graftTime <= tp.meshMessageDeliveriesActivation) return 0;
  const deficit = tp.meshMessageDeliveriesThreshold - ts.meshMessageDeliveries;
  return deficit > 0 ? deficit : 0;
}

/**
 * One topic's weighted contribution: tᵢ·(w₁P₁ + w₂P₂ + w₃P₃ + w₃bP₃b + w₄P₄).
 *
 * @example
 * ```ts
 * import { topicScore } from "./score_topic.ts";
 * import { DEFAULT_TOPIC_SCORE_PARAMS } from "./score_params.ts";
 * const stats = {
 *   inMesh: true,
 *   graftTime: 0,
 *   firstMessageDeliveries: 2,
 *   meshMessageDeliveries: 0,
 *   meshFailurePenalty: 0,
 *   invalidMessageDeliveries: 0,
 * };
 * topicScore(stats, DEFAULT_TOPIC_SCORE_PARAMS, 10_000); // (10 s x 0.01 + 2 x 1) x 0.5 = 1.05
 * ```
 */
export function topicScore(ts: TopicStats, tp: TopicScoreParams, now: number): number {
  let s = 0;
  if (ts.inMesh && tp.timeInMeshWeight !== 0) {
    // P1: whole quanta in the mesh (the spec's integer division of durations), capped.
    const p1 = Math.min(Math.floor((now - ts.graftTime) / tp.timeInMeshQuantum), tp.timeInMeshCap);
    if (p1 > 0) s += p1 * tp.timeInMeshWeight;
  }
  // A weight of 0 turns its parameter off; its decay is then unchecked, so skip the counter
  // rather than risk 0 times a runaway value.
  if (tp.firstMessageDeliveriesWeight !== 0) {
    s += Math.min(ts.firstMessageDeliveries, tp.firstMessageDeliveriesCap) *
      tp.firstMessageDeliveriesWeight;
  }
  if (tp.meshMessageDeliveriesWeight !== 0) {
    const deficit = meshDeficit(ts, tp, now);
    s += deficit * deficit * tp.meshMessageDeliveriesWeight;
  }
  if (tp.meshFailurePenaltyWeight !== 0) s += ts.meshFailurePenalty * tp.meshFailurePenaltyWeight;
  if (tp.invalidMessageDeliveriesWeight !== 0) {
    s += ts.invalidMessageDeliveries * ts.invalidMessageDeliveries *
      tp.invalidMessageDeliveriesWeight;
  }
  return s * tp.topicWeight;
}

/**
 * `value · factor^intervals`, or 0 once below `zero` (the spec's DecayToZero).
 *
 * @example
 * ```ts
 * import { decay } from "./score_topic.ts";
 * decay(8, 0.5, 3, 0.1); // 1
 * decay(0.15, 0.5, 1, 0.1); // 0
 * ```
 */
export function decay(value: number, factor: number, intervals: number, zero: number): number {
  if (value === 0) return 0;
  const next = intervals === 1 ? value * factor : value * Math.pow(factor, intervals);
  return next < zero ? 0 : next;
}
