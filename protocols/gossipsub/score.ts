/**
 * Gossipsub v1.1 peer scoring (gossipsub-v1.1.md "Peer Scoring", "The Score Function"):
 *
 * ```
 * Score(p) = TopicCap(Σ tᵢ·(w₁P₁ + w₂P₂ + w₃P₃ + w₃bP₃b + w₄P₄)) + w₅P₅ + w₆P₆ + w₇P₇
 * ```
 *
 * A sans-IO machine: every event carries `now` (ms) and nothing reads a clock or sets a timer.
 * `refresh(now)` decays the counters once per elapsed decay interval ("Parameter Decay") and
 * expires retained scores and delivery records. Behaviour follows go-libp2p-pubsub `score.go`
 * where the spec is silent; the differences are noted where they occur.
 *
 * @module
 */

import {
  type PeerScoreParams,
  type TopicScoreParams,
  validatePeerScoreParams,
} from "./score_params.ts";
import { IpColocation } from "./score_ip.ts";
import { decay, meshDeficit, topicScore, type TopicStats } from "./score_topic.ts";
import { addDeliverer, DeliveryRecords, hasDeliverer } from "./score_deliveries.ts";

/** One peer's state: connected, or retained until `expires`. */
interface PeerStats {
  connected: boolean;
  /** When a retained score is forgotten. */
  expires: number;
  /** Scored topics only (bounded by the configured topics). */
  readonly topics: Map<string, TopicStats>;
  /** The P6 colocation keys the peer is counted under. */
  ipKeys: string[];
  /** P7 counter. */
  behaviourPenalty: number;
  /** While retained: its entry in the leave queue (0 while connected). */
  leaveSeq: number;
}

/** A retained peer in the leave queue; stale once the peer returned or was forgotten. */
interface LeaveEntry {
  readonly peer: string;
  readonly seq: number;
}

/** Counts of what the score holds (for tests, metrics and memory checks). */
export interface PeerScoreStats {
  /** Connected peers tracked. */
  peers: number;
  /** Disconnected peers whose score is retained. */
  retained: number;
  /** Message delivery records. */
  deliveryRecords: number;
  /** IP colocation keys with peers. */
  ipKeys: number;
}

/**
 * The peer score of gossipsub v1.1: the pubsub protocol's `PeerScoreApi`, which the router calls.
 * (It conforms structurally, checked by tests/gossipsub/score_test.ts; an `implements` clause
 * waits for protocols/pubsub/mod.ts, since a protocol imports another only through its mod.ts.)
 *
 * Events for a peer that was never added (or whose retained score expired) change nothing,
 * and its score is 0. Counters of topics without parameters are never created.
 *
 * @example
 * ```ts
 * import { PeerScore } from "./score.ts";
 * import { createPeerScoreParams } from "./score_params.ts";
 * const score = new PeerScore(createPeerScoreParams({ topics: { chat: {} } }));
 * score.addPeer("peer-a", "192.0.2.1", 0);
 * score.validateMessage("id-1", 0);
 * score.rejectMessage("peer-a", "id-1", "chat", "reject", 0);
 * score.score("peer-a", 0); // -0.5: P4 = 1² with weight -1, topic weight 0.5
 * ```
 */
export class PeerScore {
  readonly #params: PeerScoreParams;
  readonly #topicParams: Map<string, TopicScoreParams>;
  readonly #peers = new Map<string, PeerStats>();
  /**
   * Retained peers in the order they left, from `#leaveHead` on (eviction and expiry take the
   * front; HARDENING.md rule 4). An array, not a Set's order: V8 keeps deleted entries as holes
   * that `values().next()` walks over, making front removal quadratic.
   */
  #leaveQueue: LeaveEntry[] = [];
  #leaveHead = 0;
  #leaveSeq = 0;
  #retainedCount = 0;
  readonly #colocation: IpColocation;
  readonly #deliveries: DeliveryRecords;
  /** The start of the current decay interval; set by the first `refresh`. */
  #lastDecay: number | undefined;

  /**
   * Score peers with `params`.
   *
   * @param params complete parameters (see `createPeerScoreParams`); validated here.
   * @throws InvalidScoreParamsError naming the first bad field.
   */
  constructor(params: PeerScoreParams) {
    validatePeerScoreParams(params);
    this.#params = params;
    this.#topicParams = new Map(Object.entries(params.topics));
    this.#colocation = new IpColocation(params.ipColocationFactorWhitelist);
    this.#deliveries = new DeliveryRecords({
      maxRecords: params.maxDeliveryRecords,
      ttl: params.deliveryRecordTtl,
    });
  }

  /** The parameters in force. */
  get params(): Readonly<PeerScoreParams> {
    return this.#params;
  }

  /** A peer connected (or reconnected, resuming a retained score). */
  addPeer(peer: string, ip: string | undefined, _now: number): void {
    let stats = this.#peers.get(peer);
    if (stats === undefined) {
      stats = {
        connected: true,
        expires: 0,
        topics: new Map(),
        ipKeys: [],
        behaviourPenalty: 0,
        leaveSeq: 0,
      };
      this.#peers.set(peer, stats);
    } else if (!stats.connected) {
      this.#retainedCount--;
    }
    stats.leaveSeq = 0;
    stats.connected = true;
    stats.expires = 0;
    this.#colocation.remove(peer, stats.ipKeys);
    stats.ipKeys = this.#colocation.add(peer, ip);
  }

  /**
   * A peer disconnected. Like go, only a non-positive score is retained (for `retainScore` ms):
   * a peer cannot shed a penalty by reconnecting, while a positive score has nothing to protect.
   * A retained score keeps its colocation count, drops P2, takes the P3b penalty of any active
   * mesh deficit, and does not decay until the peer returns.
   */
  removePeer(peer: string, now: number): void {
    const stats = this.#peers.get(peer);
    if (stats === undefined || !stats.connected) return;
    if (
      this.#params.retainScore === 0 || this.#params.maxRetainedPeers === 0 ||
      this.score(peer, now) > 0
    ) {
      this.#forget(peer, stats);
      return;
    }
    for (const [topic, ts] of stats.topics) {
      ts.firstMessageDeliveries = 0;
      if (ts.inMesh) this.#applyMeshFailure(ts, this.#topicParams.get(topic)!, now);
      ts.inMesh = false;
    }
    // Full: the peer that left first is forgotten first (HARDENING.md rule 4).
    if (this.#retainedCount >= this.#params.maxRetainedPeers) this.#expireRetained(Infinity, 1);
    stats.connected = false;
    stats.expires = now + this.#params.retainScore;
    stats.leaveSeq = ++this.#leaveSeq;
    this.#leaveQueue.push({ peer, seq: stats.leaveSeq });
    this.#retainedCount++;
    this.#compactLeaveQueue();
  }

  /** We grafted `peer` into the mesh of `topic` (or accepted its GRAFT): P1 starts counting. */
  graft(peer: string, topic: string, now: number): void {
    const ts = this.#topicStats(peer, topic);
    if (ts === undefined) return;
    ts.inMesh = true;
    ts.graftTime = now;
  }

  /** `peer` left the mesh of `topic`: an active P3 deficit becomes sticky P3b. */
  prune(peer: string, topic: string, now: number): void {
    const ts = this.#topicStats(peer, topic);
    if (ts === undefined || !ts.inMesh) return;
    this.#applyMeshFailure(ts, this.#topicParams.get(topic)!, now);
    ts.inMesh = false;
  }

  /** A first-seen message entered validation: its delivery record starts now. */
  validateMessage(idKey: string, now: number): void {
    this.#deliveries.ensure(idKey, now);
  }

  /**
   * `peer` delivered the first copy of a message that validated: P2, and P3 when in the mesh.
   * Peers whose copies arrived during validation get their near-first P3 credit now.
   */
  deliverMessage(peer: string, idKey: string, topic: string, now: number): void {
    this.#markFirstDelivery(peer, topic);
    const record = this.#deliveries.ensure(idKey, now);
    if (record.status !== "unknown") return; // a second verdict for one message changes nothing
    record.status = "valid";
    record.validated = now;
    for (const other of record.peers ?? []) {
      if (other !== peer) this.#markMeshDelivery(other, topic);
    }
  }

  /**
   * A message failed validation.
   * - `reject`: P4 for `peer` and for every peer that delivered a copy while it was validated;
   *   later copies are penalised as they come (see {@link duplicateMessage}).
   * - `ignore`: no penalty for anyone (gossipsub-v1.1.md "Extended Validators").
   * - `duplicate-invalid`: a copy that is invalid on its face (bad or missing signature, our own
   *   id...) or known to be invalid: P4 for `peer` alone, without a delivery record (go's
   *   handling of signature rejections). Do not also report that copy through
   *   {@link duplicateMessage}, or it counts twice.
   */
  rejectMessage(
    peer: string,
    idKey: string,
    topic: string,
    reason: "reject" | "ignore" | "duplicate-invalid",
    now: number,
  ): void {
    if (reason === "duplicate-invalid") {
      this.#markInvalidDelivery(peer, topic);
      return;
    }
    const record = this.#deliveries.ensure(idKey, now);
    if (record.status !== "unknown") return;
    if (reason === "ignore") {
      record.status = "ignored";
      record.peers = undefined;
      return;
    }
    record.status = "invalid";
    // As go, js and rust: the sender, then every recorded copy (the sender's own second copy too).
    this.#markInvalidDelivery(peer, topic);
    for (const other of record.peers ?? []) this.#markInvalidDelivery(other, topic);
    record.peers = undefined;
  }

  /**
   * `peer` sent a copy of a message we already saw. While the first copy is validated it is
   * recorded; once valid it earns P3 if it came within `meshMessageDeliveriesWindow` of the
   * validation (a near-first delivery); once invalid it earns P4; once ignored, nothing. Each
   * peer counts once per message.
   */
  duplicateMessage(peer: string, idKey: string, topic: string, now: number): void {
    const record = this.#deliveries.ensure(idKey, now);
    if (hasDeliverer(record, peer)) return;
    switch (record.status) {
      case "unknown":
        addDeliverer(record, peer);
        return;
      case "valid": {
        if (!addDeliverer(record, peer)) return;
        const tp = this.#topicParams.get(topic);
        if (tp !== undefined && now - record.validated <= tp.meshMessageDeliveriesWindow) {
          this.#markMeshDelivery(peer, topic);
        }
        return;
      }
      case "invalid":
        this.#markInvalidDelivery(peer, topic);
        return;
      case "ignored":
        return;
    }
  }

  /** P7: the router saw misbehaviour (a broken IWANT promise, GRAFT during backoff, ...). */
  addPenalty(peer: string, count: number, _reason: string): void {
    const stats = this.#peers.get(peer);
    if (stats === undefined || !Number.isFinite(count) || count <= 0) return;
    stats.behaviourPenalty += count;
  }

  /** The score of `peer` at `now` (0 for a peer we do not track). */
  score(peer: string, now: number): number {
    const stats = this.#peers.get(peer);
    if (stats === undefined) return 0;
    const p = this.#params;
    let score = 0;
    for (const [topic, ts] of stats.topics) {
      score += topicScore(ts, this.#topicParams.get(topic)!, now);
    }
    if (p.topicScoreCap > 0 && score > p.topicScoreCap) score = p.topicScoreCap;
    // P5: a callback that returns garbage counts as 0.
    if (p.appSpecificWeight !== 0) {
      const p5 = p.appSpecificScore(peer);
      if (Number.isFinite(p5)) score += p5 * p.appSpecificWeight;
    }
    // P6: the squared surplus of peers sharing each of its IP keys.
    if (p.ipColocationFactorWeight !== 0) {
      for (const key of stats.ipKeys) {
        const surplus = this.#colocation.peersOn(key) - p.ipColocationFactorThreshold;
        if (surplus > 0) score += surplus * surplus * p.ipColocationFactorWeight;
      }
    }
    // P7: the squared excess of the behaviour penalty over its threshold.
    if (p.behaviourPenaltyWeight !== 0) {
      const excess = stats.behaviourPenalty - p.behaviourPenaltyThreshold;
      if (excess > 0) score += excess * excess * p.behaviourPenaltyWeight;
    }
    return score;
  }

  /**
   * Decay the counters of connected peers once per whole decay interval elapsed since the
   * last decay (several intervals at once if refresh was late), forget expired retained scores
   * and delivery records. The first call only starts the decay clock.
   */
  refresh(now: number): void {
    const p = this.#params;
    this.#expireRetained(now, Infinity);
    this.#deliveries.expire(now);
    if (this.#lastDecay === undefined || now < this.#lastDecay) {
      this.#lastDecay = now;
      return;
    }
    const intervals = Math.floor((now - this.#lastDecay) / p.decayInterval);
    if (intervals < 1) return;
    this.#lastDecay += intervals * p.decayInterval;
    const zero = p.decayToZero;
    for (const stats of this.#peers.values()) {
      // A retained score does not decay: leaving and waiting must not clean it.
      if (!stats.connected) continue;
      for (const [topic, ts] of stats.topics) {
        const tp = this.#topicParams.get(topic)!;
        ts.firstMessageDeliveries = decay(
          ts.firstMessageDeliveries,
          tp.firstMessageDeliveriesDecay,
          intervals,
          zero,
        );
        ts.meshMessageDeliveries = decay(
          ts.meshMessageDeliveries,
          tp.meshMessageDeliveriesDecay,
          intervals,
          zero,
        );
        ts.meshFailurePenalty = decay(
          ts.meshFailurePenalty,
          tp.meshFailurePenaltyDecay,
          intervals,
          zero,
        );
        ts.invalidMessageDeliveries = decay(
          ts.invalidMessageDeliveries,
          tp.invalidMessageDeliveriesDecay,
          intervals,
          zero,
        );
      }
      stats.behaviourPenalty = decay(
        stats.behaviourPenalty,
        p.behaviourPenaltyDecay,
        intervals,
        zero,
      );
    }
  }

  /** What the score holds now. */
  stats(): PeerScoreStats {
    return {
      peers: this.#peers.size - this.#retainedCount,
      retained: this.#retainedCount,
      deliveryRecords: this.#deliveries.size,
      ipKeys: this.#colocation.size,
    };
  }

  #forget(peer: string, stats: PeerStats): void {
    if (!stats.connected) this.#retainedCount--;
    this.#colocation.remove(peer, stats.ipKeys);
    this.#peers.delete(peer);
  }

  /**
   * Forget retained peers from the front of the leave queue whose expiry is before `now`
   * (go forgets once now is after the expiry), at most `limit` of them. Leave order is expiry
   * order, since every retained score lives `retainScore` ms.
   */
  #expireRetained(now: number, limit: number): void {
    const queue = this.#leaveQueue;
    while (limit > 0 && this.#leaveHead < queue.length) {
      const entry = queue[this.#leaveHead];
      const stats = this.#peers.get(entry.peer);
      if (stats !== undefined && !stats.connected && stats.leaveSeq === entry.seq) {
        if (stats.expires >= now) break;
        this.#forget(entry.peer, stats);
        limit--;
      }
      this.#leaveHead++;
    }
    this.#compactLeaveQueue();
  }

  /** Drop the consumed front and stale entries once they outnumber the live ones. */
  #compactLeaveQueue(): void {
    const length = this.#leaveQueue.length;
    const frontHeavy = this.#leaveHead >= 1_024 && this.#leaveHead * 2 >= length;
    const stale = length - this.#leaveHead >= 2 * this.#retainedCount + 1_024;
    if (!frontHeavy && !stale) return;
    this.#leaveQueue = this.#leaveQueue.slice(this.#leaveHead).filter((e) => {
      const stats = this.#peers.get(e.peer);
      return stats !== undefined && !stats.connected && stats.leaveSeq === e.seq;
    });
    this.#leaveHead = 0;
  }

  /** The peer's counters in `topic`, created on first use; undefined if untracked or unscored. */
  #topicStats(peer: string, topic: string): TopicStats | undefined {
    const stats = this.#peers.get(peer);
    if (stats === undefined) return undefined;
    let ts = stats.topics.get(topic);
    if (ts === undefined) {
      if (!this.#topicParams.has(topic)) return undefined;
      ts = {
        inMesh: false,
        graftTime: 0,
        firstMessageDeliveries: 0,
        meshMessageDeliveries: 0,
        meshFailurePenalty: 0,
        invalidMessageDeliveries: 0,
      };
      stats.topics.set(topic, ts);
    }
    return ts;
  }

  /** P3b: add the squared P3 deficit, when P3 is active (spec "P₃ and P₃b"). */
  #applyMeshFailure(ts: TopicStats, tp: TopicScoreParams, now: number): void {
    const deficit = meshDeficit(ts, tp, now);
    if (deficit > 0) ts.meshFailurePenalty += deficit * deficit;
  }

  #markFirstDelivery(peer: string, topic: string): void {
    const ts = this.#topicStats(peer, topic);
    if (ts === undefined) return;
    const tp = this.#topicParams.get(topic)!;
    ts.firstMessageDeliveries = Math.min(
      ts.firstMessageDeliveries + 1,
      tp.firstMessageDeliveriesCap,
    );
    if (ts.inMesh) {
      ts.meshMessageDeliveries = Math.min(
        ts.meshMessageDeliveries + 1,
        tp.meshMessageDeliveriesCap,
      );
    }
  }

  #markMeshDelivery(peer: string, topic: string): void {
    const ts = this.#topicStats(peer, topic);
    if (ts === undefined || !ts.inMesh) return;
    const tp = this.#topicParams.get(topic)!;
    ts.meshMessageDeliveries = Math.min(ts.meshMessageDeliveries + 1, tp.meshMessageDeliveriesCap);
  }

  #markInvalidDelivery(peer: string, topic: string): void {
    const ts = this.#topicStats(peer, topic);
    if (ts !== undefined) ts.invalidMessageDeliveries += 1;
  }
}
