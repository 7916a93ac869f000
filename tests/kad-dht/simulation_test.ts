/**
 * A 1,000-node Kademlia network simulated in-process on a virtual clock (tests/kad-dht/
 * simulation.ts): the routing table and the lookup machine under load, without and with 20% of
 * the nodes gone. The assertions are correctness properties of the simulation (success rates),
 * not timings; the numbers are printed for the report. Set KAD_SIM_NODES / KAD_SIM_LOOKUPS for a
 * larger run, KAD_SIM_ALPHA / KAD_SIM_PATHS / KAD_SIM_BETA / KAD_SIM_SEED for other parameters.
 */

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { Network } from "./simulation.ts";

function env(name: string): string | undefined {
  return (globalThis as { process?: { env: Record<string, string | undefined> } }).process?.env[
    name
  ];
}

const NODES = Number(env("KAD_SIM_NODES") ?? 1000);
const LOOKUPS = Number(env("KAD_SIM_LOOKUPS") ?? 300);
const ALPHA = Number(env("KAD_SIM_ALPHA") ?? 10);
const PATHS = Number(env("KAD_SIM_PATHS") ?? 1);
const BETA = env("KAD_SIM_BETA") === undefined ? undefined : Number(env("KAD_SIM_BETA"));

describe("kad-dht simulation", () => {
  const net = new Network({
    nodes: NODES,
    lookups: LOOKUPS,
    seed: Number(env("KAD_SIM_SEED") ?? 17),
    alpha: ALPHA,
    disjointPaths: PATHS,
    resiliency: BETA,
  });
  net.bootstrap();

  it(`${NODES} nodes, no churn: every lookup finds its target`, () => {
    const sizes = net.nodes.map((n) => n.table.size).sort((a, b) => a - b);
    const r = net.measure(LOOKUPS);
    console.log(
      `kad sim ${NODES} nodes, no churn: table size p50 ${sizes[sizes.length >> 1]}`,
      JSON.stringify(r),
    );
    assert.equal(r.successRate, 1);
  });

  it(`${NODES} nodes, 20% gone: at least 99% of lookups find their target`, () => {
    net.churn(0.2);
    const r = net.measure(LOOKUPS);
    console.log(`kad sim ${NODES} nodes, 20% churn:`, JSON.stringify(r));
    assert.ok(r.successRate >= 0.99, `success ${r.successRate}`);
  });
});
