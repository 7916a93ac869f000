/**
 * Gossipsub router publishing and forwarding: flood publish (publish threshold), fanout, the
 * validation outcomes, duplicates, graylisting, floodsub peers, and the subscription caps.
 */

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { ctl, FLOOD, Harness, idOf, msg, sub } from "./helpers.ts";

const T = "topic";

describe("gossipsub publish and forward", () => {
  it("flood-publishes our message to every topic peer at or above the publish threshold", () => {
    const h = new Harness({ withScore: true });
    h.router.subscribe(T, 0);
    const peers = h.addPeers(20, T);
    h.score!.scores.set("p3", -60);
    h.router.heartbeat(1000);
    h.clear();
    const m = msg(T);
    const n = h.router.publish(m, idOf(m), 1000);
    assert.equal(n, 19);
    for (const p of peers) assert.equal(h.messagesTo(p).length, p === "p3" ? 0 : 1, p);
  });

  it("without flood publish: mesh when subscribed, fanout of D otherwise, expiring after the TTL", () => {
    const h = new Harness({ params: { floodPublish: false } });
    h.addPeers(20, T);
    h.addPeers(20, "other", 0, { prefix: "o" });
    h.router.subscribe(T, 0);
    const m = msg(T);
    assert.equal(h.router.publish(m, idOf(m), 0), 6);
    const f = msg("other");
    assert.equal(h.router.publish(f, idOf(f), 0), 6);
    assert.equal(h.router.state.fanout.get("other")!.size, 6);
    h.router.heartbeat(30_000);
    assert.ok(h.router.state.fanout.has("other"));
    h.router.heartbeat(61_000);
    assert.ok(!h.router.state.fanout.has("other"), "fanout expired");
  });

  it("forwards accepted messages to the mesh, and delivers them", () => {
    const h = new Harness({ withScore: true });
    h.router.subscribe(T, 0);
    h.addPeers(10, T);
    h.router.heartbeat(1000);
    const mesh = h.router.getMeshPeers(T);
    const m = msg(T);
    const src = mesh[0];
    const got = h.router.handleRpc(src, { subscriptions: [], messages: [m] }, 1000);
    assert.equal(got.length, 1);
    assert.equal(h.delivered.length, 0, "nothing delivered before validation");
    h.clear();
    h.router.reportValidation(got[0], "accept", 1000);
    assert.equal(h.delivered.length, 1);
    for (const p of mesh) assert.equal(h.messagesTo(p).length, p === src ? 0 : 1);
    assert.ok(h.score!.calls.includes(`deliver ${src}`));
  });

  it("rejected and ignored messages are scored, not forwarded, not delivered", () => {
    const h = new Harness({ withScore: true });
    h.router.subscribe(T, 0);
    h.addPeers(10, T);
    h.router.heartbeat(1000);
    for (const result of ["reject", "ignore"] as const) {
      const [incoming] = h.router.handleRpc("p0", { subscriptions: [], messages: [msg(T)] }, 1000);
      h.clear();
      h.router.reportValidation(incoming, result, 1000);
      assert.equal(h.sent.length, 0);
      assert.ok(h.score!.calls.includes(`reject p0 ${result}`));
    }
    assert.equal(h.delivered.length, 0);
  });

  it("a duplicate is scored and not returned again; a message for a topic we are not in is dropped", () => {
    const h = new Harness({ withScore: true });
    h.router.subscribe(T, 0);
    h.addPeers(3, T);
    const m = msg(T);
    assert.equal(h.router.handleRpc("p0", { subscriptions: [], messages: [m] }, 0).length, 1);
    assert.equal(h.router.handleRpc("p1", { subscriptions: [], messages: [m] }, 0).length, 0);
    assert.ok(h.score!.calls.includes("duplicate p1"));
    assert.equal(
      h.router.handleRpc("p1", { subscriptions: [], messages: [msg("x")] }, 0).length,
      0,
    );
  });

  it("ignores every RPC from a graylisted peer", () => {
    const h = new Harness({ withScore: true });
    h.router.subscribe(T, 0);
    h.addPeers(2, T);
    h.score!.scores.set("p0", -81);
    h.router.heartbeat(1000); // scores are read once per heartbeat
    h.clear();
    const got = h.router.handleRpc("p0", {
      subscriptions: [{ topic: "new", subscribe: true }],
      messages: [msg(T)],
      control: { ihave: [], iwant: [], graft: [{ topic: T }], prune: [], idontwant: [] },
    }, 1000);
    assert.equal(got.length, 0);
    assert.deepEqual(h.router.getSubscribers("new"), []);
    assert.equal(h.sent.length, 0);
  });

  it("floods to /floodsub/1.0.0 peers and never meshes them", () => {
    const h = new Harness();
    h.router.subscribe(T, 0);
    h.addPeers(3, T, 0, { protocol: FLOOD, prefix: "f" });
    h.addPeers(8, T);
    h.router.heartbeat(1000);
    for (const p of h.router.getMeshPeers(T)) assert.ok(p.startsWith("p"));
    const [incoming] = h.router.handleRpc("p0", { subscriptions: [], messages: [msg(T)] }, 1000);
    h.clear();
    h.router.reportValidation(incoming, "accept", 1000);
    for (const f of ["f0", "f1", "f2"]) assert.equal(h.messagesTo(f).length, 1);
    // control from a floodsub peer is ignored
    h.clear();
    h.router.handleRpc("f0", ctl({ graft: [{ topic: T }] }), 1000);
    assert.equal(h.sent.length, 0);
  });

  it("a peer subscribing to 100,000 topics stays bounded (HARDENING.md rule 4)", () => {
    const h = new Harness();
    h.router.addPeer("flood", "/meshsub/1.2.0", { direction: "inbound" }, 0);
    for (let r = 0; r < 20; r++) {
      const topics = Array.from({ length: 5000 }, (_, i) => `t${r * 5000 + i}`);
      h.router.handleRpc("flood", sub(...topics), 0);
    }
    const p = h.router.state.peers.get("flood")!;
    assert.equal(p.topics.size, h.router.params.maxTopicsPerPeer);
    // One RPC with 100,000 subscriptions: only maxSubscriptionsPerRpc are looked at.
    h.router.addPeer("flood2", "/meshsub/1.2.0", { direction: "inbound" }, 0);
    const many = Array.from({ length: 100_000 }, (_, i) => `u${i}`);
    h.router.handleRpc("flood2", sub(...many), 0);
    assert.ok(h.router.state.topics.size <= h.router.params.maxTopics);
    // Many peers each at their cap: total topics stay under maxTopics.
    for (let i = 0; i < 20; i++) {
      const id = `s${i}`;
      h.router.addPeer(id, "/meshsub/1.2.0", { direction: "inbound" }, 0);
      h.router.handleRpc(id, sub(...Array.from({ length: 1000 }, (_, j) => `${id}-${j}`)), 0);
    }
    assert.ok(h.router.state.topics.size <= h.router.params.maxTopics);
    // Our own topic is still tracked when the table is full.
    h.router.subscribe("mine", 0);
    h.router.handleRpc(
      "s0",
      { subscriptions: [{ topic: "s0-0", subscribe: false }], messages: [] },
      0,
    );
    h.router.handleRpc("s0", sub("mine"), 0);
    assert.deepEqual(h.router.getSubscribers("mine"), ["s0"]);
    h.router.removePeer("flood", 0);
    h.router.removePeer("flood2", 0);
    for (let i = 0; i < 20; i++) h.router.removePeer(`s${i}`, 0);
    assert.equal(h.router.state.topics.size, 0, "shrinks when peers leave");
  });

  it("unsubscribe from a peer removes it from the mesh", () => {
    const h = new Harness();
    h.addPeers(3, T);
    h.router.subscribe(T, 0);
    h.router.handleRpc("p0", { subscriptions: [{ topic: T, subscribe: false }], messages: [] }, 0);
    assert.ok(!h.router.getMeshPeers(T).includes("p0"));
    assert.ok(!h.router.getSubscribers(T).includes("p0"));
  });
});
