/**
 * The sans-IO lookup machine: alpha bound, termination when the k closest answered, timeouts
 * driven by the `now` passed in, late answers, cancel, query timeout, disjoint paths, the
 * candidate cap under a flood of peers, and self exclusion.
 */

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { toHex } from "../../src/bytes.ts";
import { compareDistance, kadId } from "../../protocols/kad-dht/keyspace.ts";
import {
  MAX_QUERY_CANDIDATES_PER_PATH,
  Query,
  type QueryPeer,
} from "../../protocols/kad-dht/query.ts";

function peer(i: number): QueryPeer {
  return { peerId: new Uint8Array([0x00, 0x04, (i >> 16) & 0xff, (i >> 8) & 0xff, i & 0xff]) };
}

const TARGET = kadId(new Uint8Array([42]));

/** Peers 0..n-1 sorted by distance to TARGET. */
function sortedPeers(n: number): QueryPeer[] {
  return Array.from({ length: n }, (_, i) => peer(i)).sort((a, b) =>
    compareDistance(kadId(a.peerId), kadId(b.peerId), TARGET)
  );
}

const hex = (p: QueryPeer): string => toHex(p.peerId);

describe("kad-dht query", () => {
  it("keeps at most alpha in flight and stops once the k closest answered", () => {
    const all = sortedPeers(100);
    // Seeds are the 30 farthest; every peer answers with the 5 peers just closer than itself.
    const rank = new Map(all.map((p, i) => [hex(p), i]));
    const q = new Query({ target: TARGET, seeds: all.slice(70), now: 0, k: 5, alpha: 3 });
    let now = 0;
    const inflight = q.poll(now);
    while (!q.finished) {
      assert.ok(q.inflight <= 3 && inflight.length <= 3);
      const req = inflight.shift()!;
      now += 10;
      const r = rank.get(hex(req.peer))!;
      q.onResponse(req.peer.peerId, all.slice(Math.max(0, r - 5), r), now);
      inflight.push(...q.poll(now));
    }
    assert.equal(q.state, "done");
    assert.deepEqual(q.result().map(hex), all.slice(0, 5).map(hex));
    assert.ok(q.stats.messages < 100, `messages ${q.stats.messages}`);
    assert.equal(q.stats.responses, q.stats.messages);
    assert.ok(q.stats.hops > 1);
  });

  it("times out silent peers from the now passed in and moves on", () => {
    const all = sortedPeers(4);
    const q = new Query({
      target: TARGET,
      seeds: all,
      now: 0,
      k: 2,
      alpha: 2,
      peerTimeoutMs: 1000,
    });
    const first = q.poll(0);
    assert.deepEqual(first.map((r) => hex(r.peer)), all.slice(0, 2).map(hex));
    assert.equal(first[0].deadline, 1000);
    assert.equal(q.nextDeadline(), 1000);
    assert.deepEqual(q.poll(999), []); // nothing expired yet
    q.onResponse(all[1].peerId, [], 500);
    const next = q.poll(1000); // all[0] expires; all[2] is asked
    assert.equal(q.stats.timeouts, 1);
    assert.deepEqual(next.map((r) => hex(r.peer)), [hex(all[2])]);
    q.onFailure(all[2].peerId, 1100);
    const last = q.poll(1100);
    assert.deepEqual(last.map((r) => hex(r.peer)), [hex(all[3])]);
    // A late answer from the timed-out peer is accepted while the query runs.
    q.onResponse(all[0].peerId, [], 1200);
    assert.equal(q.state, "done");
    assert.deepEqual(q.result().map(hex), [hex(all[0]), hex(all[1])]);
    assert.equal(q.stats.failures, 2);
  });

  it("with resiliency β it stops once the β closest answered, abandoning the rest", () => {
    const all = sortedPeers(10);
    const q = new Query({ target: TARGET, seeds: all, now: 0, k: 10, alpha: 10, resiliency: 3 });
    assert.equal(q.poll(0).length, 10);
    q.onResponse(all[1].peerId, [], 1);
    q.onResponse(all[0].peerId, [], 2);
    q.onFailure(all[2].peerId, 3); // failed peers do not count: all[3] must answer
    assert.equal(q.state, "running");
    q.onResponse(all[3].peerId, [], 4);
    assert.equal(q.state, "done");
    assert.deepEqual(q.result().map(hex), [all[0], all[1], all[3]].map(hex));
    assert.equal(q.inflight, 0);
  });

  it("finishes when every peer failed, with an empty result", () => {
    const q = new Query({ target: TARGET, seeds: sortedPeers(3), now: 0, peerTimeoutMs: 10 });
    assert.equal(q.poll(0).length, 3);
    q.poll(10);
    assert.equal(q.state, "done");
    assert.deepEqual(q.result(), []);
    assert.equal(new Query({ target: TARGET, seeds: [], now: 0 }).state, "done");
  });

  it("cancel() returns the requests in flight and stops everything", () => {
    const q = new Query({ target: TARGET, seeds: sortedPeers(5), now: 0, alpha: 2 });
    assert.equal(q.poll(0).length, 2);
    assert.equal(q.cancel(1).length, 2);
    assert.equal(q.state, "cancelled");
    assert.deepEqual(q.poll(2), []);
    assert.equal(q.nextDeadline(), undefined);
    assert.deepEqual(q.onResponse(peer(0).peerId, [peer(1)], 3).learned, []);
  });

  it("stops with state timeout when the whole-query deadline passes", () => {
    const q = new Query({ target: TARGET, seeds: sortedPeers(5), now: 0, queryTimeoutMs: 50 });
    q.poll(0);
    assert.equal(q.nextDeadline(), 50);
    q.poll(50);
    assert.equal(q.state, "timeout");
  });

  it("disjoint paths never share a peer", () => {
    const all = sortedPeers(300);
    const q = new Query({
      target: TARGET,
      seeds: all.slice(200, 230),
      now: 0,
      k: 5,
      alpha: 2,
      disjointPaths: 3,
    });
    const pathOf = new Map<string, number>();
    const rand = (() => {
      let s = 7;
      return () => (s = (s * 48271) % 2147483647) / 2147483647;
    })();
    const pending = q.poll(0);
    while (!q.finished && pending.length > 0) {
      const req = pending.shift()!;
      assert.ok(!pathOf.has(hex(req.peer)), "a peer was queried twice");
      pathOf.set(hex(req.peer), req.path);
      // Every peer answers with 8 random peers.
      const closer = Array.from({ length: 8 }, () => all[Math.floor(rand() * all.length)]);
      q.onResponse(req.peer.peerId, closer, 1);
      pending.push(...q.poll(1));
    }
    assert.equal(q.state, "done");
    assert.equal(new Set(pathOf.values()).size, 3);
  });

  it("bounds the candidates a flood of listed peers can add, and never queries itself", () => {
    const self = peer(999_999);
    const q = new Query({ target: TARGET, seeds: [peer(0), self], now: 0, selfId: self.peerId });
    const [req] = q.poll(0);
    assert.equal(hex(req.peer), hex(peer(0)));
    const flood = Array.from({ length: 5000 }, (_, i) => peer(i + 1));
    flood.push(self);
    const out = q.onResponse(req.peer.peerId, flood, 1);
    assert.ok(out.learned.length <= 5000);
    // At most the cap is queried in the rest of the lookup.
    let asked = 0;
    for (let r = q.poll(1); r.length > 0 && !q.finished; r = q.poll(2)) {
      for (const x of r) {
        assert.notEqual(hex(x.peer), hex(self));
        asked++;
        q.onResponse(x.peer.peerId, [], 2);
      }
    }
    assert.ok(asked <= MAX_QUERY_CANDIDATES_PER_PATH);
    assert.equal(q.state, "done");
    // The result is the 20 closest of everything learned.
    const expect = [peer(0), ...flood.slice(0, 5000)].sort((a, b) =>
      compareDistance(kadId(a.peerId), kadId(b.peerId), TARGET)
    ).slice(0, 20).map(hex);
    assert.deepEqual(q.result().map(hex), expect);
  });
});
