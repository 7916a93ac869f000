/**
 * Peer-score parameters of gossipsub v1.1 (gossipsub-v1.1.md "Peer Scoring", "Overview of New
 * Parameters"): the per-topic weights and decays of P1-P4, the global P5-P7 parameters, the score
 * thresholds, their defaults, and validation that names the offending field.
 *
 * Every duration is in milliseconds. Field names follow js-libp2p's `@libp2p/gossipsub`
 * (`peer-score-params.ts`), in camelCase (`ipColocationFactorWeight` for js's
 * `IPColocationFactorWeight`).
 *
 * @module
 */

import { InvalidScoreParamsError } from "./score_errors.ts";
import { parseWhitelist } from "./score_ip.ts";

export { InvalidScoreParamsError };

/** Per-topic score parameters (gossipsub-v1.1.md "Overview of New Parameters", topic table). */
export interface TopicScoreParams {
  /** How much this topic's score counts in the total (>= 0). */
  topicWeight: number;
  /** P1 weight (>= 0; a small positive value). */
  timeInMeshWeight: number;
  /** P1: time in the mesh (ms) that earns one point. */
  timeInMeshQuantum: number;
  /** P1 cap, in quanta. */
  timeInMeshCap: number;
  /** P2 weight (>= 0). */
  firstMessageDeliveriesWeight: number;
  /** P2 decay factor per decay interval, in (0, 1). */
  firstMessageDeliveriesDecay: number;
  /** P2 counter cap, applied at increment. */
  firstMessageDeliveriesCap: number;
  /** P3 weight (<= 0). */
  meshMessageDeliveriesWeight: number;
  /** P3 decay factor per decay interval, in (0, 1). */
  meshMessageDeliveriesDecay: number;
  /** P3: deliveries below this count are a deficit, squared. */
  meshMessageDeliveriesThreshold: number;
  /** P3 counter cap, applied at increment. */
  meshMessageDeliveriesCap: number;
  /** P3 applies only after this long in the mesh (ms, >= 1 s). */
  meshMessageDeliveriesActivation: number;
  /** A duplicate within this long (ms) after the first delivery was validated is "near-first". */
  meshMessageDeliveriesWindow: number;
  /** P3b weight (<= 0). */
  meshFailurePenaltyWeight: number;
  /** P3b decay factor per decay interval, in (0, 1). */
  meshFailurePenaltyDecay: number;
  /** P4 weight (<= 0). */
  invalidMessageDeliveriesWeight: number;
  /** P4 decay factor per decay interval, in (0, 1). */
  invalidMessageDeliveriesDecay: number;
}

/** The global score parameters (gossipsub-v1.1.md "Overview of New Parameters"). */
export interface PeerScoreParams {
  /** Scored topics; a topic not listed here adds nothing to any score. */
  topics: Readonly<Record<string, TopicScoreParams>>;
  /** Cap on the positive sum of topic scores; 0 for no cap. */
  topicScoreCap: number;
  /** P5: the application's score of a peer (a non-finite result counts as 0). */
  appSpecificScore: (peer: string) => number;
  /** P5 weight. */
  appSpecificWeight: number;
  /** P6 weight (<= 0). */
  ipColocationFactorWeight: number;
  /** P6: peers per IP beyond this count are a surplus, squared (>= 1 when P6 is on). */
  ipColocationFactorThreshold: number;
  /** P6: IPs and CIDR ranges (`"10.0.0.0/8"`, `"2001:db8::/32"`) never counted. */
  ipColocationFactorWhitelist: readonly string[];
  /** P7 weight (<= 0). */
  behaviourPenaltyWeight: number;
  /** P7: penalty counts above this are an excess, squared (>= 0). */
  behaviourPenaltyThreshold: number;
  /** P7 decay factor per decay interval, in (0, 1). */
  behaviourPenaltyDecay: number;
  /** How often counters decay (ms, >= 1 s as go requires). */
  decayInterval: number;
  /** A decayed counter below this is zero, in (0, 1). */
  decayToZero: number;
  /** How long (ms) a disconnected peer's non-positive score is remembered; 0 to forget at once. */
  retainScore: number;
  /** Retained scores kept at most; beyond it the oldest is dropped (HARDENING.md rule 4). */
  maxRetainedPeers: number;
  /** Per-message delivery records kept at most; beyond it the oldest is dropped (rule 4). */
  maxDeliveryRecords: number;
  /** How long (ms) a delivery record lives (go's `TimeCacheDuration`, 120 s). */
  deliveryRecordTtl: number;
}

/** The score thresholds (gossipsub-v1.1.md "Score Thresholds"). */
export interface PeerScoreThresholds {
  /** Below it, no gossip to or from a peer (<= 0). */
  gossipThreshold: number;
  /** Below it, our own messages are not published to a peer (<= gossipThreshold). */
  publishThreshold: number;
  /** Below it, a peer's RPCs are ignored (<= publishThreshold). */
  graylistThreshold: number;
  /** PX is accepted only from peers at or above it (>= 0). */
  acceptPXThreshold: number;
  /** Opportunistic grafting runs when the median mesh score is below it (>= 0). */
  opportunisticGraftThreshold: number;
}

/**
 * Topic defaults. P2 and P4 follow js-libp2p (`peer-score-params.ts`). P1 earns a point per
 * second in the mesh (the spec's example quantum) up to an hour, weighted 0.01; js counts a point
 * per millisecond (quantum 1) with weight 1, which reaches its cap of 3,600 after 3.6 s.
 * P3 and P3b are off (weight 0): their threshold depends on the topic's message rate (spec, P3
 * "Value depends on expected message rate"), and js's default (20 per decay window) penalises
 * every mesh peer of a quiet topic. Turn them on per topic with a threshold that fits it.
 *
 * @example
 * ```ts
 * import { DEFAULT_TOPIC_SCORE_PARAMS } from "./score_params.ts";
 * const blocks = { ...DEFAULT_TOPIC_SCORE_PARAMS, topicWeight: 1 };
 * ```
 */
export const DEFAULT_TOPIC_SCORE_PARAMS: Readonly<TopicScoreParams> = Object.freeze({
  topicWeight: 0.5,
  timeInMeshWeight: 0.01,
  timeInMeshQuantum: 1_000,
  timeInMeshCap: 3_600,
  firstMessageDeliveriesWeight: 1,
  firstMessageDeliveriesDecay: 0.5,
  firstMessageDeliveriesCap: 2_000,
  meshMessageDeliveriesWeight: 0,
  meshMessageDeliveriesDecay: 0.5,
  meshMessageDeliveriesThreshold: 20,
  meshMessageDeliveriesCap: 100,
  meshMessageDeliveriesActivation: 5_000,
  meshMessageDeliveriesWindow: 10,
  meshFailurePenaltyWeight: 0,
  meshFailurePenaltyDecay: 0.5,
  invalidMessageDeliveriesWeight: -1,
  invalidMessageDeliveriesDecay: 0.3,
});

/**
 * Global defaults: js-libp2p's (`peer-score-params.ts`, research §2.2), since js scores by
 * default; the two caps are ours (HARDENING.md rule 4).
 *
 * @example
 * ```ts
 * import { DEFAULT_PEER_SCORE_PARAMS } from "./score_params.ts";
 * DEFAULT_PEER_SCORE_PARAMS.retainScore; // 3_600_000
 * ```
 */
export const DEFAULT_PEER_SCORE_PARAMS: Readonly<PeerScoreParams> = Object.freeze({
  topics: Object.freeze({}),
  topicScoreCap: 10,
  appSpecificScore: (): number => 0,
  appSpecificWeight: 10,
  ipColocationFactorWeight: -5,
  ipColocationFactorThreshold: 10,
  ipColocationFactorWhitelist: Object.freeze([]) as readonly string[],
  behaviourPenaltyWeight: -10,
  behaviourPenaltyThreshold: 0,
  behaviourPenaltyDecay: 0.2,
  decayInterval: 1_000,
  decayToZero: 0.1,
  retainScore: 3_600_000,
  /** Retained scores: sybil churn must not grow memory for an hour (HARDENING.md rule 4). */
  maxRetainedPeers: 10_000,
  /** About 800 messages/s for go's 120 s record lifetime (HARDENING.md rule 4). */
  maxDeliveryRecords: 100_000,
  deliveryRecordTtl: 120_000,
});

/**
 * Threshold defaults: js-libp2p's (`peer-score-thresholds.ts`, research §2.2).
 *
 * @example
 * ```ts
 * import { DEFAULT_PEER_SCORE_THRESHOLDS } from "./score_params.ts";
 * DEFAULT_PEER_SCORE_THRESHOLDS.graylistThreshold; // -80
 * ```
 */
export const DEFAULT_PEER_SCORE_THRESHOLDS: Readonly<PeerScoreThresholds> = Object.freeze({
  gossipThreshold: -10,
  publishThreshold: -50,
  graylistThreshold: -80,
  acceptPXThreshold: 10,
  opportunisticGraftThreshold: 20,
});

/** Options of {@link createPeerScoreParams}: global overrides and partial topic parameters. */
export type PeerScoreParamsInit =
  & Partial<Omit<PeerScoreParams, "topics">>
  & { topics?: Readonly<Record<string, Partial<TopicScoreParams>>> };

/**
 * Fill in the defaults (each topic from {@link DEFAULT_TOPIC_SCORE_PARAMS}) and validate.
 *
 * @throws InvalidScoreParamsError naming the first field that breaks its constraint.
 * @example
 * ```ts
 * import { createPeerScoreParams } from "./score_params.ts";
 * const params = createPeerScoreParams({
 *   topics: { chat: { topicWeight: 1 } },
 *   ipColocationFactorWhitelist: ["10.0.0.0/8"],
 * });
 * params.topics.chat.invalidMessageDeliveriesWeight; // -1
 * ```
 */
export function createPeerScoreParams(init: PeerScoreParamsInit = {}): PeerScoreParams {
  const topics: Record<string, TopicScoreParams> = Object.create(null);
  for (const [topic, p] of Object.entries(init.topics ?? {})) {
    topics[topic] = { ...DEFAULT_TOPIC_SCORE_PARAMS, ...p };
  }
  const params: PeerScoreParams = { ...DEFAULT_PEER_SCORE_PARAMS, ...init, topics };
  validatePeerScoreParams(params);
  return params;
}

/**
 * Fill in the threshold defaults and validate.
 *
 * @throws InvalidScoreParamsError naming the first threshold out of order.
 * @example
 * ```ts
 * import { createPeerScoreThresholds } from "./score_params.ts";
 * createPeerScoreThresholds({ acceptPXThreshold: 100 }).gossipThreshold; // -10
 * ```
 */
export function createPeerScoreThresholds(
  init: Partial<PeerScoreThresholds> = {},
): PeerScoreThresholds {
  const t: PeerScoreThresholds = { ...DEFAULT_PEER_SCORE_THRESHOLDS, ...init };
  validatePeerScoreThresholds(t);
  return t;
}

function finite(field: string, v: number): void {
  if (typeof v !== "number" || !Number.isFinite(v)) {
    throw new InvalidScoreParamsError(field, "must be a finite number");
  }
}

function unitInterval(field: string, v: number): void {
  finite(field, v);
  if (v <= 0 || v >= 1) throw new InvalidScoreParamsError(field, "must be between 0 and 1");
}

function check(ok: boolean, field: string, constraint: string): void {
  if (!ok) throw new InvalidScoreParamsError(field, constraint);
}

/**
 * Check one topic's parameters (go-libp2p-pubsub `TopicScoreParams.validate`, the spec's
 * "Constraints" column). A weight of 0 turns its parameter off and skips the checks of its
 * other fields, except P4's decay, which go always checks.
 *
 * @param prefix names the topic in the error's `field` (`topics["x"].`).
 * @throws InvalidScoreParamsError naming the first bad field.
 * @example
 * ```ts
 * import { DEFAULT_TOPIC_SCORE_PARAMS, validateTopicScoreParams } from "./score_params.ts";
 * validateTopicScoreParams(DEFAULT_TOPIC_SCORE_PARAMS);
 * ```
 */
export function validateTopicScoreParams(p: TopicScoreParams, prefix = ""): void {
  const f = (name: keyof TopicScoreParams): string => prefix + name;
  for (const key of Object.keys(DEFAULT_TOPIC_SCORE_PARAMS) as (keyof TopicScoreParams)[]) {
    finite(f(key), p[key]);
  }
  check(p.topicWeight >= 0, f("topicWeight"), "must be >= 0");
  // P1
  check(p.timeInMeshWeight >= 0, f("timeInMeshWeight"), "must be >= 0 (0 turns P1 off)");
  if (p.timeInMeshWeight !== 0) {
    check(p.timeInMeshQuantum > 0, f("timeInMeshQuantum"), "must be > 0");
    check(p.timeInMeshCap > 0, f("timeInMeshCap"), "must be > 0");
  }
  // P2
  check(p.firstMessageDeliveriesWeight >= 0, f("firstMessageDeliveriesWeight"), "must be >= 0");
  if (p.firstMessageDeliveriesWeight !== 0) {
    unitInterval(f("firstMessageDeliveriesDecay"), p.firstMessageDeliveriesDecay);
    check(p.firstMessageDeliveriesCap > 0, f("firstMessageDeliveriesCap"), "must be > 0");
  }
  // P3
  check(p.meshMessageDeliveriesWeight <= 0, f("meshMessageDeliveriesWeight"), "must be <= 0");
  if (p.meshMessageDeliveriesWeight !== 0) {
    unitInterval(f("meshMessageDeliveriesDecay"), p.meshMessageDeliveriesDecay);
    check(p.meshMessageDeliveriesCap > 0, f("meshMessageDeliveriesCap"), "must be > 0");
    check(
      p.meshMessageDeliveriesThreshold > 0,
      f("meshMessageDeliveriesThreshold"),
      "must be > 0",
    );
    check(
      p.meshMessageDeliveriesCap >= p.meshMessageDeliveriesThreshold,
      f("meshMessageDeliveriesCap"),
      "must be >= meshMessageDeliveriesThreshold",
    );
    check(
      p.meshMessageDeliveriesActivation >= 1_000,
      f("meshMessageDeliveriesActivation"),
      "must be at least 1 s",
    );
  }
  check(p.meshMessageDeliveriesWindow >= 0, f("meshMessageDeliveriesWindow"), "must be >= 0");
  // P3b
  check(p.meshFailurePenaltyWeight <= 0, f("meshFailurePenaltyWeight"), "must be <= 0");
  if (p.meshFailurePenaltyWeight !== 0) {
    unitInterval(f("meshFailurePenaltyDecay"), p.meshFailurePenaltyDecay);
  }
  // P4
  check(p.invalidMessageDeliveriesWeight <= 0, f("invalidMessageDeliveriesWeight"), "must be <= 0");
  unitInterval(f("invalidMessageDeliveriesDecay"), p.invalidMessageDeliveriesDecay);
}

/**
 * Check the global parameters and every topic's (go-libp2p-pubsub `PeerScoreParams.validate`).
 *
 * @throws InvalidScoreParamsError naming the first bad field.
 * @example
 * ```ts
 * import { DEFAULT_PEER_SCORE_PARAMS, validatePeerScoreParams } from "./score_params.ts";
 * validatePeerScoreParams(DEFAULT_PEER_SCORE_PARAMS);
 * ```
 */
export function validatePeerScoreParams(p: PeerScoreParams): void {
  if (p.topics === null || typeof p.topics !== "object") {
    throw new InvalidScoreParamsError("topics", "must be an object of topic parameters");
  }
  for (const [topic, tp] of Object.entries(p.topics)) {
    validateTopicScoreParams(tp, `topics[${JSON.stringify(topic)}].`);
  }
  for (
    const key of [
      "topicScoreCap",
      "appSpecificWeight",
      "ipColocationFactorWeight",
      "ipColocationFactorThreshold",
      "behaviourPenaltyWeight",
      "behaviourPenaltyThreshold",
      "behaviourPenaltyDecay",
      "decayInterval",
      "decayToZero",
      "retainScore",
      "maxRetainedPeers",
      "maxDeliveryRecords",
      "deliveryRecordTtl",
    ] as const
  ) finite(key, p[key]);
  check(p.topicScoreCap >= 0, "topicScoreCap", "must be >= 0 (0 for no cap)");
  check(typeof p.appSpecificScore === "function", "appSpecificScore", "must be a function");
  // P6
  check(p.ipColocationFactorWeight <= 0, "ipColocationFactorWeight", "must be <= 0");
  if (p.ipColocationFactorWeight !== 0) {
    check(p.ipColocationFactorThreshold >= 1, "ipColocationFactorThreshold", "must be >= 1");
  }
  check(
    Array.isArray(p.ipColocationFactorWhitelist),
    "ipColocationFactorWhitelist",
    "must be an array of IPs or CIDR ranges",
  );
  parseWhitelist(p.ipColocationFactorWhitelist);
  // P7
  check(p.behaviourPenaltyWeight <= 0, "behaviourPenaltyWeight", "must be <= 0");
  if (p.behaviourPenaltyWeight !== 0) {
    unitInterval("behaviourPenaltyDecay", p.behaviourPenaltyDecay);
  }
  check(p.behaviourPenaltyThreshold >= 0, "behaviourPenaltyThreshold", "must be >= 0");
  // decay and retention
  check(p.decayInterval >= 1_000, "decayInterval", "must be at least 1 s");
  unitInterval("decayToZero", p.decayToZero);
  check(p.retainScore >= 0, "retainScore", "must be >= 0");
  check(
    Number.isInteger(p.maxRetainedPeers) && p.maxRetainedPeers >= 0,
    "maxRetainedPeers",
    "must be an integer >= 0",
  );
  check(
    Number.isInteger(p.maxDeliveryRecords) && p.maxDeliveryRecords >= 1,
    "maxDeliveryRecords",
    "must be an integer >= 1",
  );
  check(p.deliveryRecordTtl > 0, "deliveryRecordTtl", "must be > 0");
}

/**
 * Check the thresholds' signs and order (gossipsub-v1.1.md "Score Thresholds";
 * go-libp2p-pubsub `PeerScoreThresholds.validate`): graylist <= publish <= gossip <= 0,
 * acceptPX >= 0, opportunisticGraft >= 0.
 *
 * @throws InvalidScoreParamsError naming the first threshold out of order.
 * @example
 * ```ts
 * import { DEFAULT_PEER_SCORE_THRESHOLDS, validatePeerScoreThresholds } from "./score_params.ts";
 * validatePeerScoreThresholds(DEFAULT_PEER_SCORE_THRESHOLDS);
 * ```
 */
export function validatePeerScoreThresholds(t: PeerScoreThresholds): void {
  for (
    const key of [
      "gossipThreshold",
      "publishThreshold",
      "graylistThreshold",
      "acceptPXThreshold",
      "opportunisticGraftThreshold",
    ] as const
  ) finite(key, t[key]);
  check(t.gossipThreshold <= 0, "gossipThreshold", "must be <= 0");
  check(
    t.publishThreshold <= 0 && t.publishThreshold <= t.gossipThreshold,
    "publishThreshold",
    "must be <= 0 and <= gossipThreshold",
  );
  check(
    t.graylistThreshold <= 0 && t.graylistThreshold <= t.publishThreshold,
    "graylistThreshold",
    "must be <= 0 and <= publishThreshold",
  );
  check(t.acceptPXThreshold >= 0, "acceptPXThreshold", "must be >= 0");
  check(t.opportunisticGraftThreshold >= 0, "opportunisticGraftThreshold", "must be >= 0");
}

/**
 * The decay factor that takes a counter of 1 down to `decayToZero` in `decayMs` (go-libp2p-pubsub
 * `ScoreParameterDecay` / `ScoreParameterDecayWithBase`): `decayToZero ^ (1 / ticks)` with
 * `ticks = floor(decayMs / decayInterval)`. The base defaults to go's (and js's helper's):
 * 1 s intervals and 0.01 to zero. With a larger `decayToZero` in force (our default params use
 * js's 0.1) a counter reaches zero sooner, so "zero within `decayMs`" still holds.
 *
 * @throws InvalidScoreParamsError when `decayMs` is shorter than one decay interval.
 * @example
 * ```ts
 * import { scoreParameterDecay } from "./score_params.ts";
 * // P7 should forget a penalty within an hour:
 * const decay = scoreParameterDecay(3_600_000); // about 0.99872 (0.01 ^ (1 / 3600))
 * ```
 */
export function scoreParameterDecay(
  decayMs: number,
  base: { decayInterval?: number; decayToZero?: number } = {},
): number {
  const interval = base.decayInterval ?? DECAY_BASE_INTERVAL;
  const toZero = base.decayToZero ?? DECAY_BASE_TO_ZERO;
  finite("decayMs", decayMs);
  finite("decayInterval", interval);
  check(interval > 0, "decayInterval", "must be > 0");
  unitInterval("decayToZero", toZero);
  const ticks = Math.floor(decayMs / interval);
  check(ticks >= 1, "decayMs", "must be at least one decay interval");
  return Math.pow(toZero, 1 / ticks);
}

/** go-libp2p-pubsub `DefaultDecayInterval` (1 s). */
const DECAY_BASE_INTERVAL = 1_000;
/** go-libp2p-pubsub `DefaultDecayToZero` (0.01). */
const DECAY_BASE_TO_ZERO = 0.01;
