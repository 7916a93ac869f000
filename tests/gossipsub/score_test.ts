/**
 * Gossipsub peer scoring (gossipsub-v1.1.md "Peer Scoring"): each of P1-P7 moves the score the
 * way the spec says on an injected clock, decay to zero, caps, retained scores, the colocation
 * whitelist, parameter validation, and bounded memory under a flood of unique message ids.
 */

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import type { PeerScoreApi } from "../../protocols/pubsub/types.ts";
import { PeerScore } from "../../protocols/gossipsub/score.ts";
import {
  createPeerScoreParams,
  createPeerScoreThresholds,
  DEFAULT_PEER_SCORE_PARAMS,
  DEFAULT_PEER_SCORE_THRESHOLDS,
  DEFAULT_TOPIC_SCORE_PARAMS,
  InvalidScoreParamsError,
  type PeerScoreParams,
  scoreParameterDecay,
  type TopicScoreParams,
  validatePeerScoreParams,
  validatePeerScoreThresholds,
} from "../../protocols/gossipsub/score_params.ts";
import { colocationKeys } from "../../protocols/gossipsub/score_ip.ts";
import { MAX_DELIVERY_PEERS } from "../../protocols/gossipsub/score_deliveries.ts";

const T = "topic";

/** Topic parameters with every weight 0 (each test turns on the one it measures). */
const SILENT_TOPIC: TopicScoreParams = {
  ...DEFAULT_TOPIC_SCORE_PARAMS,
  topicWeight: 1,
  timeInMeshWeight: 0,
  firstMessageDeliveriesWeight: 0,
  meshMessageDeliveriesWeight: 0,
  meshFailurePenaltyWeight: 0,
  invalidMessageDeliveriesWeight: 0,
};

/** A score with only the given topic and global parameters turned on. */
function scoreWith(
  topic: Partial<TopicScoreParams> = {},
  global: Partial<PeerScoreParams> = {},
): PeerScore {
  return new PeerScore(createPeerScoreParams({
    topicScoreCap: 0,
    appSpecificWeight: 0,
    ipColocationFactorWeight: 0,
    behaviourPenaltyWeight: 0,
    ...global,
    topics: { [T]: { ...SILENT_TOPIC, ...topic } },
  }));
}

describe("PeerScore contract", () => {
  it("conforms to the PeerScoreApi the router calls", () => {
    const api: PeerScoreApi = new PeerScore(createPeerScoreParams());
    assert.equal(api.score("nobody", 0), 0);
  });

  it("an unknown peer scores 0 and its events change nothing", () => {
    const s = scoreWith({ invalidMessageDeliveriesWeight: -1, firstMessageDeliveriesWeight: 1 });
    s.graft("x", T, 0);
    s.deliverMessage("x", "m", T, 0);
    s.rejectMessage("x", "m2", T, "reject", 0);
    s.addPenalty("x", 5, "test");
    assert.equal(s.score("x", 10_000), 0);
    assert.equal(s.stats().peers, 0);
  });
});

describe("P1 time in mesh", () => {
  it("counts whole quanta since the graft, up to the cap, and stops at prune", () => {
    const s = scoreWith({ timeInMeshWeight: 0.5, timeInMeshQuantum: 1_000, timeInMeshCap: 10 });
    s.addPeer("a", undefined, 0);
    assert.equal(s.score("a", 5_000), 0, "not in the mesh: no P1");
    s.graft("a", T, 1_000);
    assert.equal(s.score("a", 1_999), 0);
    assert.equal(s.score("a", 3_500), 1); // 2 quanta x 0.5
    assert.equal(s.score("a", 1_000 + 60_000), 5); // capped at 10 quanta
    s.prune("a", T, 70_000);
    assert.equal(s.score("a", 80_000), 0);
  });
});

describe("P2 first message deliveries", () => {
  it("adds one per first delivery, capped at increment, and decays", () => {
    const s = scoreWith({
      firstMessageDeliveriesWeight: 2,
      firstMessageDeliveriesCap: 3,
      firstMessageDeliveriesDecay: 0.5,
    });
    s.addPeer("a", undefined, 0);
    s.refresh(0);
    for (let i = 0; i < 2; i++) {
      s.validateMessage(`m${i}`, 0);
      s.deliverMessage("a", `m${i}`, T, 0);
    }
    assert.equal(s.score("a", 0), 4);
    for (let i = 2; i < 6; i++) s.deliverMessage("a", `m${i}`, T, 0);
    assert.equal(s.score("a", 0), 6, "capped at 3 deliveries");
    s.refresh(1_000);
    assert.equal(s.score("a", 1_000), 3, "one decay interval halves the counter");
  });

  it("a second verdict or a delivery in an unscored topic changes nothing", () => {
    const s = scoreWith({ firstMessageDeliveriesWeight: 1 });
    s.addPeer("a", undefined, 0);
    s.deliverMessage("a", "m", "other-topic", 0);
    assert.equal(s.score("a", 0), 0);
    s.deliverMessage("a", "m2", T, 0);
    s.rejectMessage("a", "m2", T, "reject", 0); // already valid: ignored
    assert.equal(s.score("a", 0), 1);
  });
});

describe("P3 mesh message deliveries", () => {
  const p3 = {
    meshMessageDeliveriesWeight: -1,
    meshMessageDeliveriesThreshold: 4,
    meshMessageDeliveriesCap: 6,
    meshMessageDeliveriesActivation: 1_000,
    meshMessageDeliveriesWindow: 10,
    meshMessageDeliveriesDecay: 0.5,
  };

  it("applies the squared deficit only after the activation time", () => {
    const s = scoreWith(p3);
    s.addPeer("a", undefined, 0);
    s.graft("a", T, 0);
    assert.equal(s.score("a", 1_000), 0, "not active until activation has passed");
    assert.equal(s.score("a", 1_001), -16);
    s.deliverMessage("a", "m1", T, 1_001);
    s.deliverMessage("a", "m2", T, 1_001);
    assert.equal(s.score("a", 1_001), -4); // (4 - 2)²
    for (let i = 3; i < 9; i++) s.deliverMessage("a", `m${i}`, T, 1_001);
    assert.equal(s.score("a", 1_001), 0, "at or above the threshold: no penalty");
  });

  it("caps the counter at increment, so decay brings the deficit back", () => {
    const s = scoreWith(p3);
    s.addPeer("a", undefined, 0);
    s.graft("a", T, 0);
    s.refresh(0);
    for (let i = 0; i < 20; i++) s.deliverMessage("a", `m${i}`, T, 0);
    s.refresh(1_000); // 6 (the cap, not 20) -> 3
    assert.equal(s.score("a", 1_500), -1); // (4 - 3)²
  });

  it("credits near-first copies: during validation, and within the window after it", () => {
    const s = scoreWith(p3);
    for (const p of ["first", "early", "near", "late", "outside"]) s.addPeer(p, undefined, 0);
    for (const p of ["first", "early", "near", "late"]) s.graft(p, T, 0);
    s.validateMessage("m", 5_000);
    s.duplicateMessage("early", "m", T, 5_001); // while validating
    s.duplicateMessage("early", "m", T, 5_002); // the same peer again: counted once
    s.duplicateMessage("outside", "m", T, 5_002); // not in the mesh: no P3
    s.deliverMessage("first", "m", T, 5_003); // validated at 5_003
    s.duplicateMessage("near", "m", T, 5_013); // exactly the 10 ms window
    s.duplicateMessage("late", "m", T, 5_014); // past the window
    assert.equal(s.score("first", 5_014), -9);
    assert.equal(s.score("early", 5_014), -9);
    assert.equal(s.score("near", 5_014), -9);
    assert.equal(s.score("late", 5_014), -16);
    assert.equal(s.score("outside", 5_014), 0);
  });

  it("gives no credit beyond the per-message peer cap", () => {
    const s = scoreWith(p3);
    const peers = Array.from({ length: MAX_DELIVERY_PEERS + 1 }, (_, i) => `p${i}`);
    for (const p of peers) {
      s.addPeer(p, undefined, 0);
      s.graft(p, T, 0);
    }
    s.validateMessage("m", 2_000);
    for (const p of peers) s.duplicateMessage(p, "m", T, 2_000);
    s.deliverMessage("first", "m", T, 2_000);
    assert.equal(s.score(peers[0], 2_000), -9);
    assert.equal(s.score(peers[MAX_DELIVERY_PEERS], 2_000), -16);
  });
});

describe("P3b mesh failure penalty", () => {
  const p3b = {
    meshMessageDeliveriesWeight: -1,
    meshMessageDeliveriesThreshold: 4,
    meshMessageDeliveriesCap: 4,
    meshMessageDeliveriesActivation: 1_000,
    meshFailurePenaltyWeight: -2,
    meshFailurePenaltyDecay: 0.5,
  };

  it("makes an active deficit sticky at prune, and decays it", () => {
    const s = scoreWith(p3b);
    s.addPeer("a", undefined, 0);
    s.graft("a", T, 0);
    s.refresh(0);
    s.deliverMessage("a", "m", T, 0);
    s.prune("a", T, 2_000); // deficit 3 -> P3b 9
    assert.equal(s.score("a", 2_000), -18, "P3 is gone with the mesh, P3b stays");
    s.refresh(2_000);
    assert.equal(s.score("a", 2_000), -4.5, "two intervals: P3b 9 x 0.25, weight -2");
  });

  it("adds nothing when pruned before activation or without a deficit", () => {
    const s = scoreWith(p3b);
    s.addPeer("a", undefined, 0);
    s.addPeer("b", undefined, 0);
    s.graft("a", T, 0);
    s.prune("a", T, 500);
    s.graft("b", T, 0);
    for (let i = 0; i < 4; i++) s.deliverMessage("b", `m${i}`, T, 0);
    s.prune("b", T, 5_000);
    assert.equal(s.score("a", 5_000), 0);
    assert.equal(s.score("b", 5_000), 0);
  });
});

describe("P4 invalid messages", () => {
  const p4 = { invalidMessageDeliveriesWeight: -1, invalidMessageDeliveriesDecay: 0.5 };

  it("squares the invalid count and penalises copies delivered before and after", () => {
    const s = scoreWith(p4);
    for (const p of ["a", "b", "c", "d"]) s.addPeer(p, undefined, 0);
    s.validateMessage("m", 0);
    s.duplicateMessage("b", "m", T, 1); // during validation
    s.rejectMessage("a", "m", T, "reject", 2);
    s.duplicateMessage("c", "m", T, 3); // after the verdict
    s.duplicateMessage("c", "m", T, 4); // each copy of an invalid message counts
    assert.equal(s.score("a", 5), -1);
    assert.equal(s.score("b", 5), -1);
    assert.equal(s.score("c", 5), -4);
    assert.equal(s.score("d", 5), 0);
    for (let i = 0; i < 2; i++) s.rejectMessage("a", `x${i}`, T, "reject", 5);
    assert.equal(s.score("a", 5), -9, "3 invalid messages: -(3²)");
  });

  it("ignore penalises no one, and neither do later copies", () => {
    const s = scoreWith(p4);
    for (const p of ["a", "b", "c"]) s.addPeer(p, undefined, 0);
    s.validateMessage("m", 0);
    s.duplicateMessage("b", "m", T, 0);
    s.rejectMessage("a", "m", T, "ignore", 0);
    s.duplicateMessage("c", "m", T, 0);
    for (const p of ["a", "b", "c"]) assert.equal(s.score(p, 0), 0);
  });

  it("duplicate-invalid penalises the sender alone, without a delivery record", () => {
    const s = scoreWith(p4);
    s.addPeer("a", undefined, 0);
    s.addPeer("b", undefined, 0);
    s.rejectMessage("a", "bad-sig", T, "duplicate-invalid", 0);
    assert.equal(s.score("a", 0), -1);
    assert.equal(s.stats().deliveryRecords, 0);
    s.validateMessage("m", 0);
    s.duplicateMessage("b", "m", T, 0);
    s.deliverMessage("a", "m", T, 0);
    s.rejectMessage("b", "m", T, "duplicate-invalid", 0);
    assert.equal(s.score("b", 0), -1);
  });
});

describe("P5 application-specific score", () => {
  it("weights the application's value and treats a non-finite value as 0", () => {
    const values = new Map<string, number>([["good", 3], ["bad", -2], ["weird", NaN]]);
    const s = scoreWith({}, { appSpecificWeight: 10, appSpecificScore: (p) => values.get(p)! });
    for (const p of values.keys()) s.addPeer(p, undefined, 0);
    assert.equal(s.score("good", 0), 30);
    assert.equal(s.score("bad", 0), -20);
    assert.equal(s.score("weird", 0), 0);
  });
});

describe("P6 IP colocation", () => {
  const p6 = { ipColocationFactorWeight: -1, ipColocationFactorThreshold: 2 };

  it("squares the surplus of peers on one IP, and shrinks when they leave", () => {
    const s = scoreWith({}, p6);
    s.addPeer("a", "192.0.2.1", 0);
    s.addPeer("b", "192.0.2.1", 0);
    assert.equal(s.score("a", 0), 0, "at the threshold: no penalty");
    s.addPeer("c", "192.0.2.1", 0);
    s.addPeer("d", "192.0.2.1", 0);
    s.addPeer("other", "192.0.2.2", 0);
    assert.equal(s.score("a", 0), -4); // (4 - 2)²
    assert.equal(s.score("other", 0), 0);
    s.removePeer("d", 0); // score -4 is retained, and still counts on the IP (as go does)
    assert.equal(s.score("a", 0), -4);
    s.refresh(0);
    s.refresh(DEFAULT_PEER_SCORE_PARAMS.retainScore + 1);
    assert.equal(s.score("a", DEFAULT_PEER_SCORE_PARAMS.retainScore + 1), -1);
  });

  it("adding a connected peer again moves it to its new IP", () => {
    const s = scoreWith({}, p6);
    for (const p of ["a", "b", "c"]) s.addPeer(p, "192.0.2.1", 0);
    assert.equal(s.score("a", 0), -1);
    s.addPeer("c", "192.0.2.2", 0);
    assert.equal(s.score("a", 0), 0);
    assert.equal(s.stats().ipKeys, 2);
    s.addPeer("c", undefined, 0);
    assert.equal(s.stats().ipKeys, 1);
  });

  it("counts IPv6 peers under the address and its /64; loopback not at all", () => {
    assert.deepEqual(colocationKeys("2001:db8:1:2:aaaa::1"), [
      "2001:db8:1:2:aaaa::1",
      "2001:db8:1:2::/64",
    ]);
    assert.deepEqual(colocationKeys("::ffff:192.0.2.7"), ["192.0.2.7"]);
    assert.deepEqual(colocationKeys("127.0.0.9"), []);
    assert.deepEqual(colocationKeys("::1"), []);
    assert.deepEqual(colocationKeys("not an ip"), []);
    const s = scoreWith({}, p6);
    for (let i = 1; i <= 3; i++) s.addPeer(`v6-${i}`, `2001:db8:1:2::${i}`, 0);
    for (let i = 1; i <= 5; i++) s.addPeer(`lo-${i}`, "127.0.0.1", 0);
    assert.equal(s.score("v6-1", 0), -1, "3 peers in one /64");
    assert.equal(s.score("lo-1", 0), 0);
  });

  it("never counts whitelisted IPs and CIDR ranges", () => {
    const s = scoreWith({}, {
      ...p6,
      ipColocationFactorWhitelist: ["192.0.2.1", "10.0.0.0/8", "2001:db8::/32"],
    });
    for (let i = 0; i < 5; i++) {
      s.addPeer(`exact-${i}`, "192.0.2.1", 0);
      s.addPeer(`cidr-${i}`, `10.9.8.${i}`, 0);
      s.addPeer(`cidr6-${i}`, "2001:db8::5", 0);
      s.addPeer(`plain-${i}`, "192.0.2.99", 0);
    }
    assert.equal(s.score("exact-0", 0), 0);
    assert.equal(s.score("cidr-0", 0), 0);
    assert.equal(s.score("cidr6-0", 0), 0);
    assert.equal(s.score("plain-0", 0), -9, "outside the whitelist: (5 - 2)²");
  });

  it("rejects a whitelist entry that is not an IP or CIDR, naming it", () => {
    for (const bad of ["example.com", "10.0.0.0/33", "::/129", "10.0.0.0/x"]) {
      assert.throws(
        () => createPeerScoreParams({ ...p6, ipColocationFactorWhitelist: ["10.0.0.1", bad] }),
        (e: unknown) =>
          e instanceof InvalidScoreParamsError && e.field === "ipColocationFactorWhitelist[1]",
      );
    }
  });
});

describe("P7 behaviour penalty", () => {
  it("squares the excess over the threshold and decays to zero", () => {
    const s = scoreWith({}, {
      behaviourPenaltyWeight: -1,
      behaviourPenaltyThreshold: 1,
      behaviourPenaltyDecay: 0.5,
      decayToZero: 0.1,
    });
    s.addPeer("a", undefined, 0);
    s.refresh(0);
    s.addPenalty("a", 1, "broken-promise");
    assert.equal(s.score("a", 0), 0, "at the threshold: nothing");
    s.addPenalty("a", 2, "graft-backoff");
    assert.equal(s.score("a", 0), -4); // (3 - 1)²
    s.addPenalty("a", -5, "nonsense");
    s.addPenalty("a", NaN, "nonsense");
    assert.equal(s.score("a", 0), -4, "non-positive or non-finite counts are ignored");
    s.refresh(1_000); // 1.5
    assert.equal(s.score("a", 1_000), -0.25);
    s.refresh(5_000); // 1.5 x 0.5^4 = 0.09375 < 0.1 -> 0
    assert.equal(s.score("a", 5_000), 0);
    s.addPenalty("a", 2, "again");
    assert.equal(s.score("a", 5_000), -1, "decayed to exactly zero, not a remainder");
  });
});

describe("weights and caps", () => {
  it("mixes topics by weight and caps only the positive topic sum", () => {
    const s = new PeerScore(createPeerScoreParams({
      topicScoreCap: 5,
      appSpecificWeight: 1,
      appSpecificScore: () => 2,
      ipColocationFactorWeight: 0,
      behaviourPenaltyWeight: 0,
      topics: {
        a: { ...SILENT_TOPIC, topicWeight: 0.5, firstMessageDeliveriesWeight: 1 },
        b: { ...SILENT_TOPIC, topicWeight: 2, firstMessageDeliveriesWeight: 1 },
        c: { ...SILENT_TOPIC, topicWeight: 1, invalidMessageDeliveriesWeight: -1 },
      },
    }));
    s.addPeer("p", undefined, 0);
    s.deliverMessage("p", "m1", "a", 0);
    s.deliverMessage("p", "m2", "a", 0);
    assert.equal(s.score("p", 0), 1 + 2); // 2 x 0.5, plus P5
    s.deliverMessage("p", "m3", "b", 0);
    s.deliverMessage("p", "m4", "b", 0);
    s.deliverMessage("p", "m5", "b", 0);
    assert.equal(s.score("p", 0), 5 + 2, "topics 1 + 6 capped at 5; P5 is outside the cap");
    for (let i = 0; i < 3; i++) s.rejectMessage("p", `x${i}`, "c", "reject", 0);
    assert.equal(s.score("p", 0), 1 + 6 - 9 + 2, "a negative topic sum is not capped");
  });
});

describe("decay", () => {
  it("decays once per whole interval, catching up on late refreshes, down to zero", () => {
    const params = {
      firstMessageDeliveriesWeight: 1,
      firstMessageDeliveriesDecay: 0.5,
      firstMessageDeliveriesCap: 100,
    };
    const stepwise = scoreWith(params, { decayToZero: 0.1 });
    const late = scoreWith(params, { decayToZero: 0.1 });
    for (const s of [stepwise, late]) {
      s.addPeer("a", undefined, 0);
      s.refresh(0); // starts the decay clock
      for (let i = 0; i < 8; i++) s.deliverMessage("a", `m${i}`, T, 0);
    }
    stepwise.refresh(999);
    assert.equal(stepwise.score("a", 999), 8, "no whole interval yet");
    for (let t = 1_000; t <= 3_000; t += 1_000) stepwise.refresh(t);
    late.refresh(3_500);
    assert.equal(stepwise.score("a", 3_000), 1);
    assert.equal(late.score("a", 3_500), 1, "three intervals at once equal three steps");
    late.refresh(4_000); // the interval boundary stays at 4_000, not 4_500
    assert.equal(late.score("a", 4_000), 0.5);
    late.refresh(5_000); // 0.25
    late.refresh(6_000); // 0.125
    late.refresh(7_000); // 0.0625 < 0.1 -> 0
    assert.equal(late.score("a", 7_000), 0);
  });

  it("scoreParameterDecay reaches decayToZero in the given number of intervals", () => {
    const d = scoreParameterDecay(10_000); // go's base: 1 s intervals, 0.01 to zero
    assert.ok(Math.abs(Math.pow(d, 10) - 0.01) < 1e-12);
    assert.ok(Math.abs(scoreParameterDecay(3_600_000) - 0.998721) < 1e-6);
    const e = scoreParameterDecay(60_000, { decayInterval: 12_000, decayToZero: 0.01 });
    assert.ok(Math.abs(Math.pow(e, 5) - 0.01) < 1e-12);
    assert.throws(() => scoreParameterDecay(999), InvalidScoreParamsError);
    assert.throws(
      () => scoreParameterDecay(10_000, { decayToZero: 1 }),
      (err: unknown) => err instanceof InvalidScoreParamsError && err.field === "decayToZero",
    );
  });
});

describe("retained scores", () => {
  const params = {
    invalidMessageDeliveriesWeight: -1,
    invalidMessageDeliveriesDecay: 0.5,
    firstMessageDeliveriesWeight: 1,
  };

  it("keeps a non-positive score across a reconnect, without decay while away", () => {
    const s = scoreWith(params, { retainScore: 60_000 });
    s.addPeer("bad", "192.0.2.1", 0);
    s.refresh(0);
    for (let i = 0; i < 3; i++) s.rejectMessage("bad", `x${i}`, T, "reject", 0);
    s.removePeer("bad", 0);
    assert.deepEqual(s.stats(), { peers: 0, retained: 1, deliveryRecords: 3, ipKeys: 1 });
    for (let t = 1_000; t <= 30_000; t += 1_000) s.refresh(t);
    assert.equal(s.score("bad", 30_000), -9, "retained scores do not decay");
    s.addPeer("bad", "192.0.2.1", 30_000);
    assert.equal(s.score("bad", 30_000), -9, "a reconnect does not reset the score");
    s.refresh(31_000);
    assert.equal(s.score("bad", 31_000), -2.25, "decay resumes once connected");
  });

  it("forgets a retained score after retainScore, and a positive score at once", () => {
    const s = scoreWith(params, { retainScore: 60_000 });
    s.addPeer("bad", undefined, 0);
    s.addPeer("good", undefined, 0);
    s.rejectMessage("bad", "x", T, "reject", 0);
    s.deliverMessage("good", "m", T, 0);
    s.removePeer("bad", 0);
    s.removePeer("good", 0);
    assert.equal(s.score("good", 0), 0);
    assert.equal(s.stats().retained, 1);
    s.refresh(60_000);
    assert.equal(s.score("bad", 60_000), -1);
    s.refresh(60_001);
    assert.equal(s.score("bad", 60_001), 0);
    assert.deepEqual(s.stats(), { peers: 0, retained: 0, deliveryRecords: 2, ipKeys: 0 });
    s.refresh(60_000 + DEFAULT_PEER_SCORE_PARAMS.deliveryRecordTtl);
    assert.equal(s.stats().deliveryRecords, 0, "delivery records expire too");
  });

  it("drops P2 and takes the P3b penalty of an active deficit when retaining", () => {
    const s = scoreWith({
      ...params,
      meshMessageDeliveriesWeight: -1,
      meshMessageDeliveriesThreshold: 2,
      meshMessageDeliveriesCap: 2,
      meshMessageDeliveriesActivation: 1_000,
      meshFailurePenaltyWeight: -1,
    });
    s.addPeer("a", undefined, 0);
    s.graft("a", T, 0);
    s.deliverMessage("a", "m", T, 0); // P2 1, P3 counter 1
    s.rejectMessage("a", "x1", T, "reject", 0);
    s.rejectMessage("a", "x2", T, "reject", 0); // P4 -4
    assert.equal(s.score("a", 2_000), 1 - 1 - 4);
    s.removePeer("a", 2_000);
    assert.equal(s.score("a", 2_000), -1 - 4, "P2 dropped, deficit 1 -> P3b 1, P4 kept");
  });

  it("a peer that leaves and returns many times is retained once, from its last leave", () => {
    const s = scoreWith(params, { retainScore: 10_000, maxRetainedPeers: 2 });
    s.addPeer("steady", undefined, 0);
    s.rejectMessage("steady", "s", T, "reject", 0);
    s.removePeer("steady", 0);
    s.addPeer("flappy", undefined, 0);
    s.rejectMessage("flappy", "f", T, "reject", 0);
    for (let t = 1; t <= 5_000; t++) {
      s.removePeer("flappy", t);
      s.removePeer("flappy", t); // a second remove is a no-op
      if (t < 5_000) s.addPeer("flappy", undefined, t);
    }
    assert.equal(s.stats().retained, 2, "stale leave entries do not count");
    s.refresh(10_001); // "steady" expires (left at 0), "flappy" (left at 5_000) stays
    assert.equal(s.score("steady", 10_001), 0);
    assert.equal(s.score("flappy", 10_001), -1);
    s.refresh(15_001);
    assert.deepEqual(s.stats(), { peers: 0, retained: 0, deliveryRecords: 2, ipKeys: 0 });
  });

  it("keeps at most maxRetainedPeers, forgetting the earliest to leave", () => {
    const s = scoreWith(params, { maxRetainedPeers: 3 });
    for (let i = 0; i < 5; i++) {
      s.addPeer(`p${i}`, "192.0.2.1", 0);
      s.rejectMessage(`p${i}`, `x${i}`, T, "reject", 0);
    }
    for (let i = 0; i < 5; i++) s.removePeer(`p${i}`, i);
    assert.equal(s.stats().retained, 3);
    assert.equal(s.score("p0", 10), 0);
    assert.equal(s.score("p1", 10), 0);
    assert.equal(s.score("p4", 10), -1);
  });
});

describe("parameter validation", () => {
  const topicCases: [Partial<TopicScoreParams>, string][] = [
    [{ topicWeight: -1 }, "topicWeight"],
    [{ timeInMeshWeight: -0.1 }, "timeInMeshWeight"],
    [{ timeInMeshWeight: 1, timeInMeshQuantum: 0 }, "timeInMeshQuantum"],
    [{ timeInMeshWeight: 1, timeInMeshCap: 0 }, "timeInMeshCap"],
    [{ firstMessageDeliveriesWeight: -1 }, "firstMessageDeliveriesWeight"],
    [{ firstMessageDeliveriesDecay: 1 }, "firstMessageDeliveriesDecay"],
    [{ firstMessageDeliveriesCap: 0 }, "firstMessageDeliveriesCap"],
    [{ meshMessageDeliveriesWeight: 1 }, "meshMessageDeliveriesWeight"],
    [
      { meshMessageDeliveriesWeight: -1, meshMessageDeliveriesDecay: 0 },
      "meshMessageDeliveriesDecay",
    ],
    [
      { meshMessageDeliveriesWeight: -1, meshMessageDeliveriesThreshold: 0 },
      "meshMessageDeliveriesThreshold",
    ],
    [
      {
        meshMessageDeliveriesWeight: -1,
        meshMessageDeliveriesCap: 10,
        meshMessageDeliveriesThreshold: 20,
      },
      "meshMessageDeliveriesCap",
    ],
    [
      { meshMessageDeliveriesWeight: -1, meshMessageDeliveriesActivation: 999 },
      "meshMessageDeliveriesActivation",
    ],
    [{ meshMessageDeliveriesWindow: -1 }, "meshMessageDeliveriesWindow"],
    [{ meshFailurePenaltyWeight: 1 }, "meshFailurePenaltyWeight"],
    [{ meshFailurePenaltyWeight: -1, meshFailurePenaltyDecay: 2 }, "meshFailurePenaltyDecay"],
    [{ invalidMessageDeliveriesWeight: 1 }, "invalidMessageDeliveriesWeight"],
    [{ invalidMessageDeliveriesDecay: 0 }, "invalidMessageDeliveriesDecay"],
    [{ topicWeight: NaN }, "topicWeight"],
    [{ timeInMeshCap: Infinity }, "timeInMeshCap"],
  ];
  for (const [bad, field] of topicCases) {
    it(`names topics["t"].${field} for ${JSON.stringify(bad)}`, () => {
      assert.throws(
        () => createPeerScoreParams({ topics: { t: bad } }),
        (e: unknown) =>
          e instanceof InvalidScoreParamsError && e instanceof RangeError &&
          e.field === `topics["t"].${field}` && e.message.includes(field),
      );
    });
  }

  const globalCases: [Partial<PeerScoreParams>, string][] = [
    [{ topicScoreCap: -1 }, "topicScoreCap"],
    [{ appSpecificScore: undefined as unknown as () => number }, "appSpecificScore"],
    [{ ipColocationFactorWeight: 1 }, "ipColocationFactorWeight"],
    [{ ipColocationFactorThreshold: 0.5 }, "ipColocationFactorThreshold"],
    [{ behaviourPenaltyWeight: 1 }, "behaviourPenaltyWeight"],
    [{ behaviourPenaltyDecay: 1 }, "behaviourPenaltyDecay"],
    [{ behaviourPenaltyThreshold: -1 }, "behaviourPenaltyThreshold"],
    [{ decayInterval: 500 }, "decayInterval"],
    [{ decayToZero: 0 }, "decayToZero"],
    [{ retainScore: -1 }, "retainScore"],
    [{ maxRetainedPeers: 1.5 }, "maxRetainedPeers"],
    [{ maxDeliveryRecords: 0 }, "maxDeliveryRecords"],
    [{ deliveryRecordTtl: 0 }, "deliveryRecordTtl"],
    [{ appSpecificWeight: NaN }, "appSpecificWeight"],
  ];
  for (const [bad, field] of globalCases) {
    it(`names ${field} for ${JSON.stringify(bad)}`, () => {
      assert.throws(
        () => validatePeerScoreParams({ ...DEFAULT_PEER_SCORE_PARAMS, ...bad }),
        (e: unknown) => e instanceof InvalidScoreParamsError && e.field === field,
      );
    });
  }

  it("accepts the defaults, and 0 weights turn a parameter's other checks off", () => {
    validatePeerScoreParams(DEFAULT_PEER_SCORE_PARAMS);
    validatePeerScoreThresholds(DEFAULT_PEER_SCORE_THRESHOLDS);
    createPeerScoreParams({
      ipColocationFactorWeight: 0,
      ipColocationFactorThreshold: 0,
      behaviourPenaltyWeight: 0,
      behaviourPenaltyDecay: 5,
      topics: { t: { ...SILENT_TOPIC, timeInMeshQuantum: 0, meshMessageDeliveriesDecay: 0 } },
    });
    assert.throws(() => new PeerScore({ ...DEFAULT_PEER_SCORE_PARAMS, decayInterval: 10 }), {
      name: "InvalidScoreParamsError",
    });
  });

  const thresholdCases: [Record<string, number>, string][] = [
    [{ gossipThreshold: 1 }, "gossipThreshold"],
    [{ publishThreshold: -5 }, "publishThreshold"], // above gossip (-10)
    [{ graylistThreshold: -20 }, "graylistThreshold"], // above publish (-50)
    [{ acceptPXThreshold: -1 }, "acceptPXThreshold"],
    [{ opportunisticGraftThreshold: -1 }, "opportunisticGraftThreshold"],
    [{ gossipThreshold: NaN }, "gossipThreshold"],
  ];
  for (const [bad, field] of thresholdCases) {
    it(`thresholds: names ${field} for ${JSON.stringify(bad)}`, () => {
      assert.throws(
        () => createPeerScoreThresholds(bad),
        (e: unknown) => e instanceof InvalidScoreParamsError && e.field === field,
      );
    });
  }
});

describe("memory", () => {
  it("delivery records stay bounded under a flood of unique message ids", () => {
    const max = 5_000;
    const s = scoreWith({ invalidMessageDeliveriesWeight: -1 }, { maxDeliveryRecords: max });
    s.addPeer("spammer", "192.0.2.1", 0);
    s.addPeer("echo", "192.0.2.2", 0);
    s.refresh(0);
    let peak = 0;
    for (let i = 0; i < 200_000; i++) {
      const now = Math.floor(i / 100); // 100 unique ids per ms
      const id = `flood-${i}`;
      s.validateMessage(id, now);
      s.duplicateMessage("echo", id, T, now);
      if (i % 2 === 0) s.rejectMessage("spammer", id, T, "ignore", now);
      if (i % 1_000 === 0) s.refresh(now);
      peak = Math.max(peak, s.stats().deliveryRecords);
    }
    assert.equal(peak, max);
    s.refresh(2_000 + DEFAULT_PEER_SCORE_PARAMS.deliveryRecordTtl);
    assert.equal(s.stats().deliveryRecords, 0);
  });

  it("peers, retained scores and IP keys return to zero after churn", () => {
    const s = scoreWith({ invalidMessageDeliveriesWeight: -1 }, {
      ipColocationFactorWeight: -1,
      ipColocationFactorThreshold: 1,
      maxRetainedPeers: 100,
      retainScore: 1_000,
    });
    for (let i = 0; i < 10_000; i++) {
      s.addPeer(`sybil-${i}`, `2001:db8:${i % 7}::${i}`, i);
      s.graft(`sybil-${i}`, T, i);
      if (i % 3 === 0) s.rejectMessage(`sybil-${i}`, `x${i}`, T, "reject", i);
      s.removePeer(`sybil-${i}`, i);
      assert.ok(s.stats().retained <= 100);
    }
    s.refresh(20_000);
    assert.deepEqual(s.stats(), { peers: 0, retained: 0, deliveryRecords: 3_334, ipKeys: 0 });
  });
});
