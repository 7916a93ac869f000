/**
 * The DHT's periodic upkeep through an injected scheduler (no sleeps, no real intervals): the
 * refresh job fills a table that knew one peer, the reprovide job puts back provider records
 * that were swept from the network, and stop() cancels every job.
 */

import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import type { Libp2pNode } from "../../src/node/node.ts";
import { identify, type IdentifyService } from "../../protocols/identify/service.ts";
import type { KadDHTOptions, UpkeepScheduler } from "../../protocols/kad-dht/mod.ts";
import { type KadDHT, kadDHTWithInternals as kadDHT } from "../../protocols/kad-dht/operations.ts";
import { stopAll, testNode, until } from "../helpers/nodes.ts";

type S = { identify: IdentifyService; dht: KadDHT };

const REFRESH_MS = 1_000;
const REPROVIDE_MS = 2_000;
const SWEEP_MS = 3_000;
const HOUR = 3_600_000;

/** A scheduler the test fires by hand: one job per period. */
class ManualScheduler implements UpkeepScheduler {
  readonly jobs = new Map<number, () => void>();
  every(periodMs: number, run: () => void): () => void {
    assert.ok(!this.jobs.has(periodMs), `two jobs every ${periodMs} ms`);
    this.jobs.set(periodMs, run);
    return () => this.jobs.delete(periodMs);
  }
  fire(periodMs: number): void {
    const job = this.jobs.get(periodMs);
    assert.ok(job !== undefined, `no job every ${periodMs} ms`);
    job();
  }
}

function dhtNode(options: KadDHTOptions): Promise<Libp2pNode<S>> {
  return testNode<S>({
    services: {
      identify: identify(),
      dht: kadDHT({
        allowPrivateAddresses: true,
        clientMode: false,
        refreshIntervalMs: 0,
        reprovideIntervalMs: 0,
        sweepIntervalMs: 0,
        ...options,
      }),
    },
  });
}

describe("kad-dht upkeep on an injected scheduler", () => {
  let network: Libp2pNode<S>[] = [];
  before(async () => {
    network = [await dhtNode({})];
    const boot = network[0].addrs()[0].toString();
    for (let i = 1; i < 8; i++) {
      const node = await dhtNode({ bootstrapPeers: [boot] });
      await node.services.dht.bootstrap();
      network.push(node);
    }
    for (const node of network) await node.services.dht.refresh();
  });
  after(() => stopAll(...network));

  it("the refresh job fills a table that knew one peer", async () => {
    const scheduler = new ManualScheduler();
    const node = await dhtNode({ scheduler, refreshIntervalMs: REFRESH_MS });
    try {
      await node.dial(network[0].addrs()[0]);
      await until(() => node.services.dht.table.size === 1);
      // The one request so far is the admission check of that peer; no lookup runs until the
      // job fires (no real interval is armed).
      const sentBefore = node.services.dht.stats().sent;
      assert.equal(node.services.dht.table.size, 1);
      scheduler.fire(REFRESH_MS);
      await until(() => node.services.dht.table.size >= network.length - 1, 20_000);
      assert.ok(node.services.dht.stats().sent > sentBefore);
    } finally {
      await node.stop();
    }
  });

  it("the reprovide job puts back provider records swept from the network", async () => {
    const scheduler = new ManualScheduler();
    const provider = await dhtNode({
      scheduler,
      reprovideIntervalMs: REPROVIDE_MS,
      bootstrapPeers: [network[0].addrs()[0].toString()],
    });
    const all = [...network, provider];
    const cid = "QmYwAPJzv5CZsnA625s3Xf2nemtYgPpHdWEz79ojWnPbdG";
    const seeker = network[network.length - 1].services.dht;
    const found = async (): Promise<string[]> => {
      const out: string[] = [];
      for await (const p of seeker.findProviders(cid, { limit: 1 })) out.push(p.id.toString());
      return out;
    };
    try {
      await provider.services.dht.bootstrap();
      assert.ok(await provider.services.dht.provide(cid) > 0);
      assert.deepEqual(await found(), [provider.peerId.toString()]);

      // Every record in the network (the provider's own too) expires: 49 h on, past 48 h.
      for (const n of all) await n.services.dht.providers.sweep(Date.now() + 49 * HOUR);
      assert.deepEqual(await found(), []);

      scheduler.fire(REPROVIDE_MS);
      await until(async () => (await found()).length === 1, 20_000);
      assert.deepEqual(await found(), [provider.peerId.toString()]);
    } finally {
      await provider.stop();
    }
  });

  it("stop() cancels every upkeep job", async () => {
    const scheduler = new ManualScheduler();
    const node = await dhtNode({
      scheduler,
      refreshIntervalMs: REFRESH_MS,
      reprovideIntervalMs: REPROVIDE_MS,
      sweepIntervalMs: SWEEP_MS,
    });
    assert.deepEqual([...scheduler.jobs.keys()].sort(), [REFRESH_MS, REPROVIDE_MS, SWEEP_MS]);
    await node.stop();
    assert.equal(scheduler.jobs.size, 0);
  });
});
