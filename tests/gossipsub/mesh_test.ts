/**
 * Gossipsub router mesh maintenance: join, heartbeat balancing (D_lo/D_hi, D_score, D_out),
 * GRAFT/PRUNE handling, backoff (including an absurd remote backoff), PX, direct peers.
 */

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { ctl, Harness, sub, V10, V11, V12 } from "./helpers.ts";

const T = "topic";

describe("gossipsub mesh", () => {
  it("sends our subscriptions to a new peer (hello)", () => {
    const h = new Harness();
    h.router.subscribe("a", 0);
    h.router.subscribe("b", 0);
    h.router.addPeer("x", V12, { direction: "outbound" }, 0);
    const rpcs = h.to("x");
    assert.equal(rpcs.length, 1);
    assert.deepEqual(rpcs[0].subscriptions.map((s) => s.topic).sort(), ["a", "b"]);
  });

  it("subscribing grafts D of the topic's peers", () => {
    const h = new Harness();
    const peers = h.addPeers(20, T);
    h.clear();
    h.router.subscribe(T, 0);
    const mesh = h.router.getMeshPeers(T);
    assert.equal(mesh.length, 6);
    for (const p of mesh) assert.deepEqual(h.grafts(p), [T]);
    // every peer heard about the subscription
    for (const p of peers) assert.ok(h.to(p).some((r) => r.subscriptions.length === 1));
  });

  it("the heartbeat tops up an undersubscribed mesh to D", () => {
    const h = new Harness();
    h.router.subscribe(T, 0);
    h.addPeers(3, T);
    assert.equal(h.router.getMeshPeers(T).length, 0);
    h.router.heartbeat(1000);
    assert.equal(h.router.getMeshPeers(T).length, 3);
    h.addPeers(10, T, 1000, { prefix: "q" });
    h.router.heartbeat(2000);
    assert.equal(h.router.getMeshPeers(T).length, 6);
  });

  it("GRAFTs are accepted up to D_hi; beyond it only outbound peers; the heartbeat prunes to D", () => {
    const h = new Harness({ withScore: true });
    h.router.subscribe(T, 0);
    const inbound = h.addPeers(14, T, 0, { prefix: "in", direction: "inbound" });
    const outbound = h.addPeers(2, T, 0, { prefix: "out", direction: "outbound" });
    for (const p of [...inbound, ...outbound]) {
      h.router.handleRpc(p, ctl({ graft: [{ topic: T }] }), 0);
    }
    // Subscribing happened before peers existed: the mesh is only grafted peers.
    const mesh = h.router.getMeshPeers(T);
    assert.equal(mesh.filter((p) => p.startsWith("in")).length, 12);
    assert.equal(mesh.filter((p) => p.startsWith("out")).length, 2, "outbound accepted above D_hi");
    assert.equal(h.prunes("in12").length, 1, "inbound GRAFT above D_hi is pruned");
    // Give the inbound peers distinct scores: the 4 best must survive the trim.
    inbound.forEach((p, i) => h.score!.scores.set(p, i));
    h.router.heartbeat(1000);
    const after = h.router.getMeshPeers(T);
    assert.equal(after.length, 6);
    for (const best of ["in11", "in10", "in9", "in8"]) assert.ok(after.includes(best), best);
    assert.ok(after.filter((p) => p.startsWith("out")).length >= 2, "D_out outbound kept");
    const pruned = inbound.filter((p) => !after.includes(p) && h.prunes(p).length > 0);
    assert.ok(pruned.length >= 6);
  });

  it("the heartbeat adds outbound peers when the mesh has too few", () => {
    const h = new Harness();
    h.router.subscribe(T, 0);
    const inbound = h.addPeers(6, T, 0, { prefix: "in", direction: "inbound" });
    for (const p of inbound) h.router.handleRpc(p, ctl({ graft: [{ topic: T }] }), 0);
    h.addPeers(4, T, 0, { prefix: "out", direction: "outbound" });
    h.router.heartbeat(1000);
    const mesh = h.router.getMeshPeers(T);
    assert.equal(mesh.filter((p) => p.startsWith("out")).length, 2);
  });

  it("drops negative-score mesh peers and never grafts them", () => {
    const h = new Harness({ withScore: true });
    const peers = h.addPeers(8, T);
    h.score!.scores.set("p0", -1);
    h.score!.scores.set("p1", -1);
    h.router.subscribe(T, 0);
    assert.ok(!h.router.getMeshPeers(T).includes("p0"));
    h.score!.scores.set(h.router.getMeshPeers(T)[0], -5);
    h.router.heartbeat(1000);
    const mesh = h.router.getMeshPeers(T);
    for (const p of mesh) assert.ok(h.score!.score(p) >= 0);
    assert.equal(mesh.length, 5, "5 >= D_lo: no top-up, and p0/p1 stay out");
    assert.ok(!mesh.includes("p0") && !mesh.includes("p1"));
    assert.equal(peers.length, 8);
  });

  it("ignores GRAFT for a topic we are not in (no PRUNE reply)", () => {
    const h = new Harness();
    h.addPeers(1, "other");
    h.clear();
    h.router.handleRpc("p0", ctl({ graft: [{ topic: "other" }] }), 0);
    assert.equal(h.sent.length, 0);
  });

  it("GRAFT during backoff: P7 penalty (twice within the flood threshold) and a PRUNE", () => {
    const h = new Harness({ withScore: true });
    h.router.subscribe(T, 0);
    h.addPeers(1, T);
    h.router.heartbeat(1000);
    assert.deepEqual(h.router.getMeshPeers(T), ["p0"]);
    h.router.handleRpc("p0", ctl({ prune: [{ topic: T, peers: [], backoff: 60 }] }), 1000);
    assert.deepEqual(h.router.getMeshPeers(T), []);
    h.clear();
    h.router.handleRpc("p0", ctl({ graft: [{ topic: T }] }), 2000);
    assert.equal(h.score!.penaltyOf("p0"), 2, "within 10 s: backoff + flood penalty");
    assert.equal(h.prunes("p0").length, 1);
    assert.deepEqual(h.router.getMeshPeers(T), []);
    h.router.handleRpc("p0", ctl({ graft: [{ topic: T }] }), 30_000);
    assert.equal(h.score!.penaltyOf("p0"), 3, "after the flood threshold: one penalty");
    // Heartbeats during the backoff do not regraft p0.
    h.router.heartbeat(40_000);
    assert.deepEqual(h.router.getMeshPeers(T), []);
  });

  it("clamps an absurd PRUNE backoff (HARDENING.md rule 3)", () => {
    for (const backoff of [2 ** 53, 1e300, Number.MAX_VALUE, Infinity]) {
      const h = new Harness();
      h.router.subscribe(T, 0);
      h.addPeers(1, T);
      h.router.heartbeat(1000);
      h.router.handleRpc("p0", ctl({ prune: [{ topic: T, peers: [], backoff }] }), 1000);
      const max = h.router.params.maxPruneBackoffMs;
      const end = h.router.state.backoff.get(T)!.get("p0")!;
      assert.ok(end <= 1000 + max, `backoff ${backoff} clamped`);
      assert.ok(Number.isFinite(end));
      h.router.heartbeat(1000 + max + 2000);
      assert.deepEqual(h.router.getMeshPeers(T), ["p0"], "regrafted after the clamped backoff");
    }
  });

  it("obeys a PRUNE's backoff, or the default when it carries none", () => {
    const h = new Harness();
    h.router.subscribe(T, 0);
    h.addPeers(1, T);
    h.router.heartbeat(1000);
    h.router.handleRpc("p0", ctl({ prune: [{ topic: T, peers: [] }] }), 1000);
    h.router.heartbeat(50_000);
    assert.deepEqual(h.router.getMeshPeers(T), [], "default 60 s backoff");
    h.router.heartbeat(63_000);
    assert.deepEqual(h.router.getMeshPeers(T), ["p0"]);
  });

  it("unsubscribing PRUNEs the mesh with the unsubscribe backoff", () => {
    const h = new Harness();
    h.addPeers(3, T);
    h.router.subscribe(T, 0);
    h.clear();
    h.router.unsubscribe(T, 0);
    for (const p of ["p0", "p1", "p2"]) assert.deepEqual(h.prunes(p).map((x) => x.backoff), [10]);
    assert.deepEqual(h.router.getTopics(), []);
  });

  it("a /meshsub/1.0.0 peer gets a PRUNE without backoff or PX", () => {
    const h = new Harness({
      params: { doPX: true },
      peerInfo: (p) => ({ peerId: new TextEncoder().encode(p) }),
    });
    h.addPeers(1, T, 0, { protocol: V10, prefix: "old" });
    h.addPeers(3, T, 0, { protocol: V11, prefix: "new" });
    h.router.subscribe(T, 0);
    h.clear();
    h.router.unsubscribe(T, 0);
    assert.deepEqual(h.prunes("old0"), [{ topic: T, peers: [] }]);
    assert.ok(h.prunes("new0")[0].peers.length > 0, "PX to a v1.1 peer");
  });

  it("PX is emitted only when enabled", () => {
    const h = new Harness({ peerInfo: (p) => ({ peerId: new TextEncoder().encode(p) }) });
    h.addPeers(3, T, 0, { protocol: V11 });
    h.router.subscribe(T, 0);
    h.clear();
    h.router.unsubscribe(T, 0);
    for (const p of ["p0", "p1", "p2"]) assert.equal(h.prunes(p)[0].peers.length, 0);
  });

  it("PX is accepted only from peers at or above acceptPXThreshold, capped at prunePeers", () => {
    const got: string[] = [];
    const h = new Harness({
      withScore: true,
      onPeerExchange: (from, _t, peers) => got.push(`${from}:${peers.length}`),
    });
    h.router.subscribe(T, 0);
    h.addPeers(2, T, 0, { protocol: V11 });
    h.score!.scores.set("p0", 5);
    h.score!.scores.set("p1", 50);
    h.router.heartbeat(1000); // scores are read once per heartbeat
    const px = Array.from({ length: 100 }, (_, i) => ({ peerId: new Uint8Array([i]) }));
    h.router.handleRpc("p0", ctl({ prune: [{ topic: T, peers: px, backoff: 60 }] }), 1000);
    h.router.handleRpc("p1", ctl({ prune: [{ topic: T, peers: px, backoff: 60 }] }), 1000);
    assert.deepEqual(got, ["p1:16"]);
  });

  it("direct peers are never meshed; their GRAFT draws a PRUNE; they always get messages", () => {
    const h = new Harness({ directPeers: ["d"] });
    h.router.addPeer("d", V12, { direction: "outbound" }, 0);
    h.router.handleRpc("d", sub(T), 0);
    h.router.subscribe(T, 0);
    h.router.heartbeat(1000);
    assert.deepEqual(h.router.getMeshPeers(T), []);
    h.router.handleRpc("d", ctl({ graft: [{ topic: T }] }), 1000);
    assert.deepEqual(h.router.getMeshPeers(T), []);
    assert.equal(h.prunes("d").length, 1);
  });

  it("removePeer forgets the peer's topics and mesh slots", () => {
    const h = new Harness();
    h.addPeers(3, T);
    h.router.subscribe(T, 0);
    h.router.removePeer("p0", 0);
    assert.ok(!h.router.getMeshPeers(T).includes("p0"));
    assert.ok(!h.router.getSubscribers(T).includes("p0"));
    assert.ok(!h.router.getPeers().includes("p0"));
  });

  it("opportunistic grafting: every 60 heartbeats, 2 peers above a low median mesh score", () => {
    const h = new Harness({ withScore: true });
    h.router.subscribe(T, 0);
    const peers = h.addPeers(6, T, 0, { prefix: "m" });
    h.router.heartbeat(1000);
    assert.equal(h.router.getMeshPeers(T).length, 6);
    for (const p of peers) h.score!.scores.set(p, 1); // median 1 < opportunisticGraftThreshold 20
    h.addPeers(4, T, 1000, { prefix: "good" });
    for (let i = 0; i < 4; i++) h.score!.scores.set(`good${i}`, 50);
    for (let tick = 2; tick < 60; tick++) h.router.heartbeat(tick * 1000);
    assert.equal(h.router.getMeshPeers(T).filter((p) => p.startsWith("good")).length, 0);
    h.router.heartbeat(60_000); // the 60th heartbeat
    assert.equal(h.router.getMeshPeers(T).filter((p) => p.startsWith("good")).length, 2);
  });

  it("no PX towards a negative-score peer", () => {
    const h = new Harness({
      withScore: true,
      params: { doPX: true },
      peerInfo: (p) => ({ peerId: new TextEncoder().encode(p) }),
    });
    h.addPeers(4, T, 0, { protocol: V11 });
    h.router.subscribe(T, 0);
    h.score!.scores.set("p0", -1);
    h.router.state.clearScoreCache(); // as a heartbeat would, without its mesh upkeep
    h.clear();
    h.router.unsubscribe(T, 0);
    assert.deepEqual(h.prunes("p0").map((x) => x.peers.length), [0]);
    assert.ok(h.prunes("p1")[0].peers.length > 0);
    for (const p of ["p1", "p2", "p3"]) {
      const offered = h.prunes(p)[0].peers.map((x) => new TextDecoder().decode(x.peerId));
      assert.ok(!offered.includes("p0"), "negative peers are not offered");
    }
  });
});
