/**
 * A 1,000-node gossipsub network simulated in-process on a virtual clock (tests/gossipsub/
 * simulation.ts), honest (with and without the peer score) and under five attacks with the real
 * PeerScore (protocols/gossipsub/score.ts). The assertions are correctness properties
 * (honest delivery >= 99%, state bounded), not timings; the measured numbers are printed for the
 * report. GS_SIM_NODES / GS_SIM_MESSAGES / GS_SIM_SEED change the run.
 */

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { type Attack, GossipSim, type GossipSimOptions, simPeerScore } from "./simulation.ts";

function env(name: string): string | undefined {
  return (globalThis as { process?: { env: Record<string, string | undefined> } }).process?.env[
    name
  ];
}

const NODES = Number(env("GS_SIM_NODES") ?? 1000);
const MESSAGES = Number(env("GS_SIM_MESSAGES") ?? 20);
/** A run takes about a minute on a busy 2-core machine (more under Bun): above the default. */
const LONG = { timeout: 900_000 };
const SEED = Number(env("GS_SIM_SEED") ?? 18);

function run(attack: Attack, attackerFraction: number, extra: Partial<GossipSimOptions> = {}) {
  const sim = new GossipSim({
    nodes: NODES,
    seed: SEED,
    messages: MESSAGES,
    attack,
    attackerFraction,
    scoreFactory: simPeerScore,
    ...extra,
  });
  const r = sim.run();
  console.log(`gossipsub sim ${attack}:`, JSON.stringify(r));
  return r;
}

describe("gossipsub simulation", () => {
  it(`${NODES} honest nodes without scoring (the null score): delivery >= 99%`, LONG, () => {
    const r = run("none", 0, { scoreFactory: undefined });
    assert.ok(r.deliveryRate >= 0.99, `delivery ${r.deliveryRate}`);
  });

  it(`${NODES} honest nodes with the peer score: delivery >= 99%`, LONG, () => {
    const r = run("none", 0);
    assert.ok(r.deliveryRate >= 0.99, `delivery ${r.deliveryRate}`);
  });

  it("20% sybils that never forward: honest delivery >= 99%", LONG, () => {
    const r = run("sybil-silent", 0.2);
    assert.ok(r.deliveryRate >= 0.99, `delivery ${r.deliveryRate}`);
  });

  it(
    "10% of nodes spam invalid messages: honest delivery >= 99%, no invalid message delivered",
    LONG,
    () => {
      const r = run("invalid-spam", 0.1);
      assert.ok(r.deliveryRate >= 0.99, `delivery ${r.deliveryRate}`);
      assert.equal(r.invalidDelivered, 0);
    },
  );

  it("2% of nodes flood IHAVEs with bogus ids: honest delivery >= 99%", LONG, () => {
    const r = run("ihave-flood", 0.02);
    assert.ok(r.deliveryRate >= 0.99, `delivery ${r.deliveryRate}`);
  });

  it(
    "10% of nodes GRAFT every heartbeat (during backoff) and never forward: honest delivery >= 99%",
    LONG,
    () => {
      const r = run("graft-backoff", 0.1);
      assert.ok(r.deliveryRate >= 0.99, `delivery ${r.deliveryRate}`);
    },
  );

  it(
    "0.5% of nodes subscribe to 100,000 topics each: delivery >= 99%, topic tables bounded",
    LONG,
    () => {
      const r = run("sub-flood", 0.005);
      assert.ok(r.deliveryRate >= 0.99, `delivery ${r.deliveryRate}`);
      assert.ok(r.maxTopicsTracked <= 10_000, `topics ${r.maxTopicsTracked}`);
    },
  );
});
