/**
 * Cross-check of our peer score against js-libp2p's (`@libp2p/gossipsub/score`, from
 * node_modules): the same seeded event sequence drives both, and every peer's score must agree
 * at each decay tick. js reads `Date.now()`, so the test replaces it with the shared clock.
 *
 * Where the two differ by design the sequence stays clear of it: js counts a point of P1 per
 * fraction of a quantum and refreshes mesh time and P3 activation only when it decays (scores are
 * compared right after a decay, with grafts and prunes on the tick); js gives a reconnecting
 * retained peer a fresh score (go and we resume the retained one), so departed peers never
 * return here; and we do not count loopback IPs, so the peers use documentation addresses.
 */

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import {
  createPeerScoreParams as jsCreatePeerScoreParams,
  PeerScore as JsPeerScore,
} from "@libp2p/gossipsub/score";
import { PeerScore } from "../../protocols/gossipsub/score.ts";
import {
  createPeerScoreParams,
  type TopicScoreParams,
} from "../../protocols/gossipsub/score_params.ts";

/** A small deterministic generator (mulberry32). */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const TOPIC_A: TopicScoreParams = {
  topicWeight: 0.7,
  timeInMeshWeight: 0.1,
  timeInMeshQuantum: 1_000,
  timeInMeshCap: 20,
  firstMessageDeliveriesWeight: 0.8,
  firstMessageDeliveriesDecay: 0.9,
  firstMessageDeliveriesCap: 15,
  meshMessageDeliveriesWeight: -0.3,
  meshMessageDeliveriesDecay: 0.8,
  meshMessageDeliveriesThreshold: 4,
  meshMessageDeliveriesCap: 12,
  meshMessageDeliveriesActivation: 3_000,
  meshMessageDeliveriesWindow: 20,
  meshFailurePenaltyWeight: -0.5,
  meshFailurePenaltyDecay: 0.7,
  invalidMessageDeliveriesWeight: -2,
  invalidMessageDeliveriesDecay: 0.6,
};
const TOPIC_B: TopicScoreParams = {
  ...TOPIC_A,
  topicWeight: 0.3,
  timeInMeshCap: 5,
  meshMessageDeliveriesThreshold: 2,
  meshMessageDeliveriesActivation: 2_000,
  invalidMessageDeliveriesWeight: -5,
};
const TOPICS = ["a", "b", "unscored"];

describe("peer score against js-libp2p", () => {
  for (const seed of [1, 2, 3, 4]) {
    it(`agrees with @libp2p/gossipsub on seeded event sequence ${seed}`, () => {
      const realNow = Date.now;
      let clock = 1_000_000;
      Date.now = () => clock;
      try {
        run(seed, () => clock, (t) => (clock = t));
      } finally {
        Date.now = realNow;
      }
    });
  }
});

function run(seed: number, now: () => number, setNow: (t: number) => void): void {
  const random = prng(seed);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)];
  const app = (peer: string): number => (peer.length % 3) - 1;
  const global = {
    topicScoreCap: 6,
    appSpecificWeight: 0.5,
    ipColocationFactorWeight: -1.5,
    ipColocationFactorThreshold: 2,
    behaviourPenaltyWeight: -1,
    behaviourPenaltyThreshold: 1,
    behaviourPenaltyDecay: 0.5,
    decayInterval: 1_000,
    decayToZero: 0.01,
    retainScore: 8_000,
  };
  const ours = new PeerScore(createPeerScoreParams({
    ...global,
    appSpecificScore: app,
    topics: { a: TOPIC_A, b: TOPIC_B },
  }));
  const js = new JsPeerScore(
    jsCreatePeerScoreParams({
      ...global,
      appSpecificScore: app,
      IPColocationFactorWeight: global.ipColocationFactorWeight,
      IPColocationFactorThreshold: global.ipColocationFactorThreshold,
      IPColocationFactorWhitelist: new Set(),
      topics: { a: TOPIC_A, b: TOPIC_B },
    }),
    null,
    // A silent logger (js only logs from the score on unexpected events).
    {
      forComponent: () => Object.assign(() => {}, { enabled: false, error() {}, trace() {} }),
    } as never,
    { scoreCacheValidityMs: 0 },
  ) as unknown as JsScore;

  const connected: string[] = [];
  const known: string[] = [];
  let nextPeer = 0;
  const join = (): void => {
    const peer = `peer-${nextPeer++}`;
    const ip = `192.0.2.${1 + Math.floor(random() * 3)}`;
    ours.addPeer(peer, ip, now());
    js.addPeer(peer);
    js.addIP(peer, ip);
    connected.push(peer);
    known.push(peer);
  };
  for (let i = 0; i < 8; i++) join();

  let messages = 0;
  let compared = 0;
  let positive = 0;
  let negative = 0;
  ours.refresh(now()); // starts our decay clock; js decays on every refresh from here on
  const start = now();
  for (let tick = 1; tick <= 40; tick++) {
    setNow(start + tick * 1_000);
    ours.refresh(now());
    js.refreshScores();
    for (const peer of known) {
      const expected = js.score(peer);
      const actual = ours.score(peer, now());
      assert.ok(
        Math.abs(expected - actual) < 1e-9,
        `seed ${seed} tick ${tick} ${peer}: js ${expected}, ours ${actual}`,
      );
      compared++;
      if (actual > 0.5) positive++;
      if (actual < -0.5) negative++;
    }
    // Mesh changes and churn on the tick.
    for (let i = 0; i < 3; i++) {
      const r = random();
      const peer = pick(connected);
      const topic = pick(TOPICS);
      if (r < 0.45) {
        ours.graft(peer, topic, now());
        js.graft(peer, topic);
      } else if (r < 0.75) {
        ours.prune(peer, topic, now());
        js.prune(peer, topic);
      } else if (r < 0.85 && connected.length > 4) {
        connected.splice(connected.indexOf(peer), 1);
        ours.removePeer(peer, now());
        js.removePeer(peer);
      } else if (r < 0.95) {
        join();
      }
    }
    // Message traffic within the second.
    for (let i = 0; i < 12; i++) {
      setNow(now() + Math.floor(random() * 40));
      const id = `msg-${messages++}`;
      const topic = pick(TOPICS);
      const first = pick(connected);
      ours.validateMessage(id, now());
      js.validateMessage(id);
      const copies = Math.floor(random() * 4);
      const early = Math.floor(random() * (copies + 1));
      const send = (n: number): void => {
        for (let c = 0; c < n; c++) {
          const peer = pick(connected);
          ours.duplicateMessage(peer, id, topic, now());
          js.duplicateMessage(peer, id, topic);
          setNow(now() + Math.floor(random() * 15));
        }
      };
      send(early);
      const verdict = random();
      if (verdict < 0.7) {
        ours.deliverMessage(first, id, topic, now());
        js.deliverMessage(first, id, topic);
      } else if (verdict < 0.9) {
        ours.rejectMessage(first, id, topic, "reject", now());
        js.rejectMessage(first, id, topic, "reject");
      } else {
        ours.rejectMessage(first, id, topic, "ignore", now());
        js.rejectMessage(first, id, topic, "ignore");
      }
      send(copies - early);
      if (random() < 0.1) {
        const peer = pick(connected);
        const count = 1 + Math.floor(random() * 2);
        ours.addPenalty(peer, count, "test");
        js.addPenalty(peer, count, "test");
      }
    }
  }
  assert.ok(compared > 300, `compared ${compared} scores`);
  // The sequence must move scores both ways, not compare zeros.
  assert.ok(positive > 20 && negative > 20, `positive ${positive}, negative ${negative}`);
}

/** The part of js-libp2p's PeerScore this test drives. */
interface JsScore {
  addPeer(id: string): void;
  addIP(id: string, ip: string): void;
  removePeer(id: string): void;
  graft(id: string, topic: string): void;
  prune(id: string, topic: string): void;
  validateMessage(id: string): void;
  deliverMessage(from: string, id: string, topic: string): void;
  rejectMessage(from: string, id: string, topic: string, reason: string): void;
  duplicateMessage(from: string, id: string, topic: string): void;
  addPenalty(id: string, penalty: number, label: string): void;
  refreshScores(): void;
  score(id: string): number;
}
