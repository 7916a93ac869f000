/**
 * Gossipsub router parameters and score thresholds, with the defaults deployed by go, rust and
 * js (libp2p/specs `pubsub/gossipsub/gossipsub-v1.0.md` "Parameters", `-v1.1.md` "Overview of New
 * Parameters", `-v1.2.md` "Parameters"; go-libp2p-pubsub `gossipsub.go` where the spec leaves a
 * value open). Every limit on remote input cites HARDENING.md rule 4.
 *
 * @module
 */

import {
  DEFAULT_PEER_SCORE_THRESHOLDS,
  type PeerScoreThresholds,
  validatePeerScoreThresholds,
} from "./score_params.ts";
import { DEFAULT_SEEN_MAX_ENTRIES, DEFAULT_SEEN_TTL_MS } from "../pubsub/mod.ts";

/** The router's overlay parameters. All durations are in milliseconds. */
export interface GossipsubParams {
  /** Target mesh degree (v1.0 "Parameters": D = 6). */
  D: number;
  /** Low watermark: below it the heartbeat grafts (v1.0: D_lo = 4; go and rust 5, used here). */
  Dlo: number;
  /** High watermark: above it the heartbeat prunes (v1.0: D_hi = 12). */
  Dhi: number;
  /** Peers kept by score when pruning for oversubscription (v1.1: 4 or 5 for D = 6). */
  Dscore: number;
  /** Outbound peers kept in the mesh (v1.1 "Outbound Mesh Quotas": 2, < D_lo, <= D/2). */
  Dout: number;
  /** Minimum number of peers gossip goes to (v1.0: D_lazy = 6). */
  Dlazy: number;
  /** Heartbeat period (v1.0: 1 s). The service calls `heartbeat` on this period. */
  heartbeatIntervalMs: number;
  /** A fanout topic we have not published to for this long is forgotten (v1.0: 60 s). */
  fanoutTtlMs: number;
  /** Heartbeat windows the message cache keeps (v1.0: mcache_len = 5). */
  mcacheLength: number;
  /** Windows gossiped in IHAVE (v1.0: mcache_gossip = 3). */
  mcacheGossip: number;
  /** Most messages held in the message cache; new ones are not cached beyond it (HARDENING.md rule 4). */
  mcacheMaxEntries: number;
  /** How long a message id stays in the seen cache (go and js `seenTTL` 120 s; rust 60 s). */
  seenTtlMs: number;
  /** Most ids the seen cache holds (pubsub's SeenCache default; HARDENING.md rule 4). */
  seenMaxEntries: number;
  /** Backoff after a PRUNE (v1.1 "PRUNE Backoff and Peer Exchange": 1 minute). */
  pruneBackoffMs: number;
  /** Backoff when we leave a topic (v1.1 "Overview of New Parameters": 10 s). */
  unsubscribeBackoffMs: number;
  /**
   * Largest backoff a remote PRUNE may impose; larger values are clamped (HARDENING.md rule 3:
   * js and go multiply a peer-supplied u64 by 1000 unchecked, research §2.4).
   */
  maxPruneBackoffMs: number;
  /** A re-GRAFT this soon after a PRUNE costs a second P7 penalty (go GraftFloodThreshold 10 s). */
  graftFloodThresholdMs: number;
  /** Fraction of eligible non-mesh peers gossip goes to (v1.1 "Adaptive Gossip": 0.25). */
  gossipFactor: number;
  /** Ids accepted in IHAVEs per peer per heartbeat (go MaxIHaveLength 5000; v1.1 "Spam Protection"). */
  maxIHaveLength: number;
  /** IHAVE messages handled per peer per heartbeat (go MaxIHaveMessages 10; v1.1 "Spam Protection"). */
  maxIHaveMessages: number;
  /** Times a message is served to one peer through IWANT (go GossipRetransmission 3). */
  gossipRetransmission: number;
  /** How long an IWANT promise has before the advertiser is penalised (go IWantFollowupTime 3 s). */
  iwantFollowupTimeMs: number;
  /** Messages of at least this many data bytes trigger IDONTWANT (v1.2 leaves it open; go 1024). */
  idontwantMessageThreshold: number;
  /** IDONTWANT control messages handled per peer per heartbeat (go MaxIDontWantMessages 1000). */
  maxIDontWantMessages: number;
  /** Ids taken from one RPC's IDONTWANTs (go MaxIDontWantLength 10); the rest are ignored. */
  maxIDontWantLength: number;
  /** Heartbeats a received IDONTWANT is honoured (go IDontWantMessageTTL 3). */
  idontwantTtlHeartbeats: number;
  /** Opportunistic grafting runs every this many heartbeats (v1.1: every minute; go 60). */
  opportunisticGraftTicks: number;
  /** Peers grafted opportunistically (v1.1 "Opportunistic Grafting": 2). */
  opportunisticGraftPeers: number;
  /** Our own messages go to every topic peer above the publish threshold (v1.1: on). */
  floodPublish: boolean;
  /** Emit peer exchange in PRUNEs (v1.1 PX; off by default in go, rust and js, research §2.2). */
  doPX: boolean;
  /** Peers offered in one PRUNE, and most accepted from one (v1.1 "> D_hi"; go PrunePeers 16). */
  prunePeers: number;
  /** Topics remembered per remote peer; further subscriptions are ignored (HARDENING.md rule 4). */
  maxTopicsPerPeer: number;
  /** Distinct remote topics tracked in total; new unknown topics beyond it are ignored (rule 4). */
  maxTopics: number;
  /** Subscription changes handled from one RPC (js decode limit 5000; HARDENING.md rule 4). */
  maxSubscriptionsPerRpc: number;
  /** (topic, peer) backoff entries kept in total; none are added beyond it (HARDENING.md rule 4). */
  maxBackoffEntries: number;
}

/**
 * The score thresholds of gossipsub v1.1 ("Score Thresholds"): the type of score_params.ts.
 *
 * @example
 * ```ts
 * const t: GossipsubThresholds = { ...DEFAULT_SCORE_THRESHOLDS, acceptPXThreshold: 100 };
 * ```
 */
export type GossipsubThresholds = PeerScoreThresholds;

/**
 * The defaults (go-libp2p-pubsub `gossipsub.go` l.52-82 unless the field says otherwise).
 *
 * @example
 * ```ts
 * const params = { ...DEFAULT_GOSSIPSUB_PARAMS, doPX: true };
 * ```
 */
export const DEFAULT_GOSSIPSUB_PARAMS: Readonly<GossipsubParams> = Object.freeze({
  D: 6,
  Dlo: 5,
  Dhi: 12,
  Dscore: 4,
  Dout: 2,
  Dlazy: 6,
  heartbeatIntervalMs: 1_000,
  fanoutTtlMs: 60_000,
  mcacheLength: 5,
  mcacheGossip: 3,
  mcacheMaxEntries: 100_000,
  seenTtlMs: DEFAULT_SEEN_TTL_MS,
  seenMaxEntries: DEFAULT_SEEN_MAX_ENTRIES,
  pruneBackoffMs: 60_000,
  unsubscribeBackoffMs: 10_000,
  maxPruneBackoffMs: 3_600_000,
  graftFloodThresholdMs: 10_000,
  gossipFactor: 0.25,
  maxIHaveLength: 5_000,
  maxIHaveMessages: 10,
  gossipRetransmission: 3,
  iwantFollowupTimeMs: 3_000,
  idontwantMessageThreshold: 1_024,
  maxIDontWantMessages: 1_000,
  maxIDontWantLength: 10,
  idontwantTtlHeartbeats: 3,
  opportunisticGraftTicks: 60,
  opportunisticGraftPeers: 2,
  floodPublish: true,
  doPX: false,
  prunePeers: 16,
  maxTopicsPerPeer: 1_000,
  maxTopics: 10_000,
  maxSubscriptionsPerRpc: 5_000,
  maxBackoffEntries: 100_000,
});

/**
 * Thresholds used when a peer score is configured (js-libp2p `peer-score-thresholds.ts`,
 * research §2.2): score_params.ts's defaults.
 *
 * @example
 * ```ts
 * DEFAULT_SCORE_THRESHOLDS.graylistThreshold; // -80
 * ```
 */
export const DEFAULT_SCORE_THRESHOLDS: Readonly<GossipsubThresholds> =
  DEFAULT_PEER_SCORE_THRESHOLDS;

/**
 * Thresholds without scoring: every score is 0 and no threshold excludes a score of 0 (go's
 * behaviour with scoring off, where the thresholds stay zero). PX is then accepted from anyone,
 * which is only reached when `doPX`-emitting peers exist; the service decides whether to dial.
 *
 * @example
 * ```ts
 * NO_SCORE_THRESHOLDS.gossipThreshold; // 0
 * ```
 */
export const NO_SCORE_THRESHOLDS: Readonly<GossipsubThresholds> = Object.freeze({
  gossipThreshold: 0,
  publishThreshold: 0,
  graylistThreshold: 0,
  acceptPXThreshold: 0,
  opportunisticGraftThreshold: 0,
});

/**
 * Fill in defaults and check the constraints the specs place between parameters.
 *
 * @throws RangeError when a constraint of gossipsub-v1.1.md is violated (D_out < D_lo and
 *   D_out <= D/2 unless the mesh is off, thresholds ordered graylist < publish <= gossip <= 0).
 * @example
 * ```ts
 * const p = resolveParams({ D: 8, Dlo: 6, Dhi: 12 });
 * p.Dlazy; // 6
 * ```
 */
export function resolveParams(overrides: Partial<GossipsubParams> = {}): GossipsubParams {
  const p: GossipsubParams = { ...DEFAULT_GOSSIPSUB_PARAMS, ...overrides };
  const ints: (keyof GossipsubParams)[] = [
    "D",
    "Dlo",
    "Dhi",
    "Dscore",
    "Dout",
    "Dlazy",
    "mcacheLength",
    "mcacheGossip",
  ];
  for (const k of ints) {
    const v = p[k] as number;
    if (!Number.isInteger(v) || v < 0) {
      throw new RangeError(`gossipsub: ${k} must be an integer >= 0`);
    }
  }
  const meshOff = p.D === 0 && p.Dlo === 0 && p.Dhi === 0;
  if (!meshOff) {
    if (!(p.Dlo <= p.D && p.D <= p.Dhi)) throw new RangeError("gossipsub: need D_lo <= D <= D_hi");
    if (p.Dout >= p.Dlo || p.Dout > p.D / 2) {
      throw new RangeError("gossipsub: D_out must be < D_lo and <= D/2 (gossipsub-v1.1.md)");
    }
  }
  if (p.mcacheGossip > p.mcacheLength || p.mcacheLength < 1) {
    throw new RangeError("gossipsub: need 1 <= mcacheLength and mcacheGossip <= mcacheLength");
  }
  if (!(p.gossipFactor >= 0 && p.gossipFactor <= 1)) {
    throw new RangeError("gossipsub: gossipFactor must be in [0, 1]");
  }
  return p;
}

/**
 * Check the ordering gossipsub-v1.1.md "Score Thresholds" requires (score_params.ts's check).
 *
 * @throws RangeError (InvalidScoreParamsError) when the thresholds are out of order.
 * @example
 * ```ts
 * checkThresholds(DEFAULT_SCORE_THRESHOLDS);
 * ```
 */
export function checkThresholds(t: GossipsubThresholds): void {
  validatePeerScoreThresholds(t);
}
