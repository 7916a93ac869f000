/**
 * The pubsub collector of app/edge/collectors.ts: two nodes with floodsub over the memory
 * transport; peers, topics, RPC frames and validated messages move as a message is published.
 */

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { MetricsRegistry } from "../../src/metrics/mod.ts";
import { identify, type IdentifyService } from "../../protocols/identify/mod.ts";
import { floodsub, type FloodsubService } from "../../protocols/floodsub/mod.ts";
import type { Libp2pNode } from "../../src/node/node.ts";
import { collectServiceMetrics } from "../../app/edge/mod.ts";
import { stopAll, testNode, until } from "../helpers/nodes.ts";
import { parseExposition, sampleValue } from "./prom_parse.ts";

type S = { identify: IdentifyService; pubsub: FloodsubService };

function pubsubNode(): Promise<Libp2pNode<S>> {
  return testNode<S>({
    services: { identify: identify(), pubsub: floodsub({ heartbeatIntervalMs: 0 }) },
  });
}

describe("pubsub collector", () => {
  it("peers, topics, RPC frames and validations move as messages flow", async () => {
    const a = await pubsubNode();
    const b = await pubsubNode();
    const registry = new MetricsRegistry();
    const remove = collectServiceMetrics(registry, { pubsub: b.services.pubsub });
    try {
      const m0 = parseExposition(await registry.expose());
      assert.equal(sampleValue(m0, "libp2p_pubsub_peers"), 0);
      assert.equal(
        sampleValue(m0, "libp2p_pubsub_messages_validated_total", { result: "accept" }),
        0,
      );
      a.services.pubsub.subscribe("t");
      b.services.pubsub.subscribe("t");
      await a.dial(b.addrs()[0]);
      await until(() => a.services.pubsub.getSubscribers("t").length === 1, 10_000);
      await a.services.pubsub.publish("t", new TextEncoder().encode("hello"));
      await until(async () => {
        const m = parseExposition(await registry.expose());
        return sampleValue(m, "libp2p_pubsub_messages_validated_total", { result: "accept" }) === 1;
      }, 10_000);
      const m1 = parseExposition(await registry.expose());
      assert.equal(sampleValue(m1, "libp2p_pubsub_peers"), 1);
      assert.equal(sampleValue(m1, "libp2p_pubsub_topics"), 1);
      assert.ok((sampleValue(m1, "libp2p_pubsub_rpc_total", { dir: "inbound" }) ?? 0) >= 2);
      assert.ok((sampleValue(m1, "libp2p_pubsub_rpc_total", { dir: "outbound" }) ?? 0) >= 1);
      assert.equal(sampleValue(m1, "libp2p_pubsub_dropped_total"), 0);
    } finally {
      remove();
      await stopAll(a, b);
    }
  });
});
