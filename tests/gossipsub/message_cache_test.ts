/**
 * The gossipsub message cache and the router's caches under a flood of unique messages
 * (HARDENING.md gossipsub row: mcache and seen cache bounded).
 */

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { MessageCache } from "../../protocols/gossipsub/message_cache.ts";
import { Harness, idOf, msg } from "./helpers.ts";

describe("gossipsub message cache", () => {
  it("keeps mcache_len windows, gossips mcache_gossip of them, caps IWANT retransmissions", () => {
    const mc = new MessageCache({ length: 3, gossip: 2, maxRetransmission: 2, maxEntries: 100 });
    const ids: Uint8Array[] = [];
    for (let w = 0; w < 3; w++) {
      const m = msg("t");
      ids.push(idOf(m));
      assert.ok(mc.put(`k${w}`, idOf(m), m));
      assert.ok(!mc.put(`k${w}`, idOf(m), m), "no duplicate entry");
      mc.shift();
    }
    // Windows now: [], k2, k1 (k0 dropped after 3 shifts).
    assert.ok(!mc.has("k0"));
    assert.deepEqual(mc.gossipIds("t"), [ids[2]]);
    assert.ok(mc.getForPeer("k1", "a") !== undefined);
    assert.ok(mc.getForPeer("k1", "a") !== undefined);
    assert.equal(mc.getForPeer("k1", "a"), undefined, "third IWANT from the same peer refused");
    assert.ok(mc.getForPeer("k1", "b") !== undefined);
    assert.deepEqual(mc.gossipIds("other"), []);
  });

  it("refuses entries beyond maxEntries", () => {
    const mc = new MessageCache({ length: 5, gossip: 3, maxRetransmission: 3, maxEntries: 10 });
    for (let i = 0; i < 50; i++) mc.put(`k${i}`, new Uint8Array([i]), msg("t"));
    assert.equal(mc.size, 10);
    mc.shift();
    mc.shift();
    mc.shift();
    mc.shift();
    mc.shift();
    assert.equal(mc.size, 0);
  });

  it("a flood of unique accepted messages leaves mcache and seen cache bounded", () => {
    const h = new Harness({ params: { mcacheMaxEntries: 1_000, seenMaxEntries: 2_000 } });
    h.router.subscribe("t", 0);
    h.addPeers(3, "t");
    for (let i = 0; i < 20_000; i++) {
      const [incoming] = h.router.handleRpc("p0", { subscriptions: [], messages: [msg("t")] }, i);
      h.router.reportValidation(incoming, "accept", i);
      if (i % 1000 === 999) h.router.heartbeat(i);
    }
    const s = h.router.state;
    assert.ok(s.mcache.size <= 1_000, `mcache ${s.mcache.size}`);
    assert.ok(s.seen.size <= 2_000, `seen ${s.seen.size}`);
    assert.equal(h.delivered.length, 20_000, "every message still delivered and forwarded");
  });
});
