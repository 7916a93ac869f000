/**
 * Bootstrap discovery: the round schedule (sans-IO), and nodes over the memory transport: the
 * list is reported, tagged and dialled; a /dnsaddr entry is resolved into its peers; a lost
 * bootstrap connection is dialled again; pruning closes untagged peers before bootstrap ones.
 */

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import {
  bootstrap,
  BootstrapSchedule,
  DEFAULT_BOOTSTRAP_TAG_NAME,
} from "../../protocols/bootstrap/mod.ts";
import type { DnsResolver } from "../../src/multiaddr/mod.ts";
import type { PeerId } from "../../src/peer_id.ts";
import { nextEvent, testNode, until } from "../helpers/nodes.ts";

describe("BootstrapSchedule (sans-IO)", () => {
  it("first round after the delay even at the target; later ones only below it", () => {
    const s = new BootstrapSchedule({ delayMs: 1000, intervalMs: 100, maxIntervalMs: 1000 });
    s.start(0);
    assert.equal(s.due(999, true), false);
    assert.equal(s.due(1000, false), true);
    s.roundStarted(1000);
    assert.equal(s.due(5000, true), false); // a round is running
    s.roundDone(true);
    assert.equal(s.due(1100, false), false); // at the target
    assert.equal(s.due(1099, true), false); // too soon
    assert.equal(s.due(1100, true), true);
  });

  it("rounds that connect nobody back off, doubling up to the cap; success resets", () => {
    const s = new BootstrapSchedule({ delayMs: 0, intervalMs: 100, maxIntervalMs: 500 });
    s.start(0);
    const gaps: number[] = [];
    let now = 0;
    for (let i = 0; i < 6; i++) {
      assert.ok(s.due(now, true));
      s.roundStarted(now);
      s.roundDone(false);
      gaps.push(s.nextAt() - now);
      now = s.nextAt();
    }
    assert.deepEqual(gaps, [200, 400, 500, 500, 500, 500]);
    s.roundStarted(now);
    s.roundDone(true);
    assert.equal(s.nextAt() - now, 100);
  });

  it("bad options and lists throw", () => {
    assert.throws(() => new BootstrapSchedule({ intervalMs: 0 }), RangeError);
    assert.throws(() => bootstrap({ list: [] }), TypeError);
    assert.throws(() => bootstrap({ list: ["/ip4/192.0.2.1/tcp/1"] }), /names no peer/);
  });
});

function zone(records: Record<string, string[]>): DnsResolver {
  return {
    resolveTxt: (name) =>
      records[name] === undefined
        ? Promise.reject(new Error(`NXDOMAIN ${name}`))
        : Promise.resolve(records[name].map((r) => [r])),
  };
}

describe("bootstrap() on nodes", () => {
  it("reports, tags and dials the list", async () => {
    const b = await testNode();
    const a = await testNode({
      peerDiscovery: [bootstrap({ list: [b.addrs()[0]], timeoutMs: 0 })],
      connectionManager: { minConnections: 0 }, // only bootstrap itself dials
    });
    try {
      const found = await nextEvent(a, "peer:discovery");
      assert.ok(found.id.equals(b.peerId));
      await until(() => a.getConnections(b.peerId).length > 0);
      const info = await a.peerStore.get(b.peerId);
      assert.equal(info?.tags.get(DEFAULT_BOOTSTRAP_TAG_NAME)?.value, 50);
      assert.ok((info?.addresses.length ?? 0) > 0);
    } finally {
      await a.stop();
      await b.stop();
    }
  });

  it("a /dnsaddr entry without /p2p is resolved into its peers", async () => {
    const b = await testNode();
    const c = await testNode();
    const dns = zone({
      "_dnsaddr.boot.test": [...b.addrs(), ...c.addrs()].map((m) => `dnsaddr=${m}`),
    });
    const found: PeerId[] = [];
    const a = await testNode({
      dns,
      peerDiscovery: [bootstrap({ list: ["/dnsaddr/boot.test"], timeoutMs: 0 })],
    });
    a.addEventListener("peer:discovery", (e) => found.push(e.detail.id));
    try {
      await until(() =>
        a.getConnections(b.peerId).length > 0 && a.getConnections(c.peerId).length > 0
      );
      assert.deepEqual(
        found.map(String).sort(),
        [b.peerId.toString(), c.peerId.toString()].sort(),
      );
    } finally {
      await a.stop();
      await b.stop();
      await c.stop();
    }
  });

  it("dials the list again when connections fall below the target", async () => {
    const b = await testNode();
    const a = await testNode({
      peerDiscovery: [bootstrap({ list: [b.addrs()[0]], timeoutMs: 0, intervalMs: 20 })],
      connectionManager: { minConnections: 0 },
    });
    try {
      // b must have registered the connection too: a counts it open once its side is upgraded,
      // and a hang-up from b before b's side is registered closes nothing (the test then waited
      // in vain under load: a still had its first connection open).
      await until(() =>
        a.getConnections(b.peerId).length > 0 && b.getConnections(a.peerId).length > 0
      );
      const first = a.getConnections(b.peerId)[0];
      await b.hangUp(a.peerId);
      // Below the target (at least 1): a new round dials b again. (The redial can come before
      // a poll sees zero connections, so the test waits for a connection other than the first.)
      await until(
        () => first.status !== "open" && a.getConnections(b.peerId).some((c) => c !== first),
        20_000, // the whole suite in parallel can hold the rounds' timers back for seconds
      );
    } finally {
      await a.stop();
      await b.stop();
    }
  });

  it("pruning closes untagged connections before the bootstrap peer's", async () => {
    const b = await testNode();
    const a = await testNode({
      peerDiscovery: [bootstrap({ list: [b.addrs()[0]], timeoutMs: 0 })],
      connectionManager: {
        minConnections: 0,
        highWatermark: 2,
        lowWatermark: 1,
        pruneGraceMs: 0,
      },
    });
    const others = [await testNode(), await testNode()];
    let bootstrapClosed = 0;
    a.addEventListener("connection:close", (e) => {
      if (e.detail.remotePeer.equals(b.peerId)) bootstrapClosed++;
    });
    try {
      await until(() => a.getConnections(b.peerId).length > 0);
      await others[0].dial(a.addrs()[0]);
      await others[1].dial(a.addrs()[0]).catch(() => {}); // may be pruned at once
      await until(() => a.getConnections().length <= 1);
      assert.equal(a.getConnections().length, 1);
      assert.ok(a.getConnections()[0].remotePeer.equals(b.peerId));
      assert.equal(bootstrapClosed, 0);
    } finally {
      for (const n of [a, b, ...others]) await n.stop();
    }
  });
});
