/**
 * Gossipsub router gossip: IHAVE emission (D_lazy, gossip factor, gossip threshold), IHAVE/IWANT
 * caps and promise tracking (broken promise => P7), IWANT retransmission cap, IDONTWANT both ways.
 */

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { messageIdKey } from "../../protocols/pubsub/types.ts";
import { ctl, Harness, idOf, msg, V11, V12 } from "./helpers.ts";

const T = "topic";

/** A router subscribed to T with `n` peers and a mesh formed; returns the non-mesh peers. */
function setup(h: Harness, n: number): { mesh: string[]; others: string[] } {
  h.router.subscribe(T, 0);
  const peers = h.addPeers(n, T);
  h.router.heartbeat(1000);
  const mesh = h.router.getMeshPeers(T);
  return { mesh, others: peers.filter((p) => !mesh.includes(p)) };
}

function ihaveIds(h: Harness, peer: string): number {
  return h.to(peer).flatMap((r) => r.control?.ihave ?? []).reduce(
    (a, i) => a + i.messageIds.length,
    0,
  );
}

function iwantIds(h: Harness, peer: string): Uint8Array[] {
  return h.to(peer).flatMap((r) => r.control?.iwant ?? []).flatMap((i) => i.messageIds);
}

describe("gossipsub gossip", () => {
  it("emits IHAVE to max(D_lazy, factor x eligible) non-mesh peers above the gossip threshold", () => {
    const h = new Harness({ withScore: true });
    const { mesh, others } = setup(h, 50);
    h.score!.scores.set(others[0], -20); // below gossipThreshold -10
    const m = msg(T);
    h.router.publish(m, idOf(m), 1000);
    h.clear();
    h.router.heartbeat(2000);
    const got = others.filter((p) => ihaveIds(h, p) > 0);
    // 43 eligible non-mesh peers: max(6, floor(43 * 0.25)) = 10
    assert.equal(got.length, 10);
    assert.ok(!got.includes(others[0]));
    for (const p of mesh) assert.equal(ihaveIds(h, p), 0);
  });

  it("gossips a message for mcache_gossip heartbeats, then stops", () => {
    const h = new Harness();
    const { others } = setup(h, 8);
    const m = msg(T);
    h.router.publish(m, idOf(m), 1000);
    let rounds = 0;
    for (let t = 2000; t < 10_000; t += 1000) {
      h.clear();
      h.router.heartbeat(t);
      if (others.some((p) => ihaveIds(h, p) > 0)) rounds++;
    }
    assert.equal(rounds, 3);
  });

  it("answers IHAVE with IWANT for unseen ids and penalises a broken promise", () => {
    const h = new Harness({ withScore: true });
    const { others } = setup(h, 10);
    const peer = others[0];
    const m = msg(T);
    h.clear();
    h.router.handleRpc(peer, ctl({ ihave: [{ topic: T, messageIds: [idOf(m)] }] }), 1000);
    assert.deepEqual(iwantIds(h, peer), [idOf(m)]);
    h.router.heartbeat(2000);
    assert.equal(h.score!.penaltyOf(peer), 0, "not yet expired");
    h.router.heartbeat(4500);
    assert.equal(h.score!.penaltyOf(peer), 1, "broken promise after 3 s");
    h.router.heartbeat(5500);
    assert.equal(h.score!.penaltyOf(peer), 1, "penalised once");
  });

  it("a kept promise costs nothing", () => {
    const h = new Harness({ withScore: true });
    const { others } = setup(h, 10);
    const peer = others[0];
    const m = msg(T);
    h.router.handleRpc(peer, ctl({ ihave: [{ topic: T, messageIds: [idOf(m)] }] }), 1000);
    const got = h.router.handleRpc(peer, { subscriptions: [], messages: [m] }, 1500);
    assert.equal(got.length, 1);
    h.router.heartbeat(5000);
    assert.equal(h.score!.penaltyOf(peer), 0);
  });

  it("does not ask for ids already seen, nor for topics we are not in", () => {
    const h = new Harness();
    const { others } = setup(h, 10);
    const m = msg(T);
    h.router.publish(m, idOf(m), 1000);
    h.clear();
    h.router.handleRpc(others[0], ctl({ ihave: [{ topic: T, messageIds: [idOf(m)] }] }), 1000);
    h.router.handleRpc(
      others[0],
      ctl({ ihave: [{ topic: "nope", messageIds: [idOf(msg("nope"))] }] }),
      1000,
    );
    assert.equal(iwantIds(h, others[0]).length, 0);
  });

  it("caps IHAVE handling per heartbeat: 10 messages and 5,000 ids per peer", () => {
    const h = new Harness();
    const { others } = setup(h, 10);
    const peer = others[0];
    h.clear();
    for (let i = 0; i < 12; i++) {
      h.router.handleRpc(peer, ctl({ ihave: [{ topic: T, messageIds: [idOf(msg(T))] }] }), 1000);
    }
    assert.equal(iwantIds(h, peer).length, 10, "11th and 12th IHAVE ignored");
    h.router.heartbeat(2000);
    h.clear();
    const ids = Array.from({ length: 8000 }, () => idOf(msg(T)));
    h.router.handleRpc(peer, ctl({ ihave: [{ topic: T, messageIds: ids }] }), 2000);
    h.router.handleRpc(peer, ctl({ ihave: [{ topic: T, messageIds: [idOf(msg(T))] }] }), 2000);
    assert.equal(iwantIds(h, peer).length, 5000);
  });

  it("ignores IHAVE from peers below the gossip threshold", () => {
    const h = new Harness({ withScore: true });
    const { others } = setup(h, 10);
    h.score!.scores.set(others[0], -11);
    h.router.heartbeat(2000); // scores are read once per heartbeat
    h.clear();
    h.router.handleRpc(others[0], ctl({ ihave: [{ topic: T, messageIds: [idOf(msg(T))] }] }), 2000);
    assert.equal(h.sent.length, 0);
  });

  it("serves an IWANT at most 3 times per peer", () => {
    const h = new Harness();
    const { others } = setup(h, 10);
    const m = msg(T);
    h.router.publish(m, idOf(m), 1000);
    h.clear();
    for (let i = 0; i < 5; i++) {
      h.router.handleRpc(others[0], ctl({ iwant: [{ messageIds: [idOf(m)] }] }), 1000);
    }
    assert.equal(h.messagesTo(others[0]).length, 3);
    h.router.handleRpc(others[1], ctl({ iwant: [{ messageIds: [idOf(m)] }] }), 1000);
    assert.equal(h.messagesTo(others[1]).length, 1, "the cap is per peer");
  });

  it("forgets messages after mcache_len heartbeats", () => {
    const h = new Harness();
    const { others } = setup(h, 10);
    const m = msg(T);
    h.router.publish(m, idOf(m), 1000);
    for (let t = 2000; t <= 6000; t += 1000) h.router.heartbeat(t);
    h.clear();
    h.router.handleRpc(others[0], ctl({ iwant: [{ messageIds: [idOf(m)] }] }), 6000);
    assert.equal(h.messagesTo(others[0]).length, 0);
  });

  it("sends IDONTWANT for a large first-seen message to v1.2 mesh peers only, before validation", () => {
    const h = new Harness();
    h.router.subscribe(T, 0);
    h.addPeers(3, T, 0, { protocol: V12, prefix: "new" });
    h.addPeers(3, T, 0, { protocol: V11, prefix: "old" });
    h.router.heartbeat(1000);
    const m = msg(T, 2000);
    h.clear();
    h.router.handleRpc("new0", { subscriptions: [], messages: [m] }, 1000);
    for (const p of ["new1", "new2"]) {
      const ids = h.to(p).flatMap((r) => r.control?.idontwant ?? []).flatMap((d) => d.messageIds);
      assert.deepEqual(ids, [idOf(m)], p);
    }
    for (const p of ["new0", "old0", "old1", "old2"]) {
      assert.equal(h.to(p).flatMap((r) => r.control?.idontwant ?? []).length, 0, p);
    }
    h.clear();
    h.router.handleRpc("new0", { subscriptions: [], messages: [msg(T, 100)] }, 1000);
    assert.equal(h.sent.length, 0, "no IDONTWANT below the threshold");
  });

  it("honours a received IDONTWANT when forwarding and serving IWANT", () => {
    const h = new Harness();
    h.router.subscribe(T, 0);
    h.addPeers(4, T, 0, { protocol: V12 });
    h.router.heartbeat(1000);
    const m = msg(T);
    h.router.handleRpc("p1", ctl({ idontwant: [{ messageIds: [idOf(m)] }] }), 1000);
    const [incoming] = h.router.handleRpc("p0", { subscriptions: [], messages: [m] }, 1000);
    h.clear();
    h.router.reportValidation(incoming, "accept", 1000);
    assert.equal(h.messagesTo("p1").length, 0, "skipped after IDONTWANT");
    assert.equal(h.messagesTo("p2").length, 1);
    assert.equal(h.messagesTo("p0").length, 0, "not back to the source");
    h.router.handleRpc("p1", ctl({ iwant: [{ messageIds: [idOf(m)] }] }), 1000);
    assert.equal(h.messagesTo("p1").length, 0);
    // The entry expires after 3 heartbeats.
    for (let t = 2000; t <= 4000; t += 1000) h.router.heartbeat(t);
    assert.equal(h.router.state.peers.get("p1")!.dontSend.size, 0);
  });

  it("bounds IDONTWANT: 10 ids per RPC, 1,000 messages per heartbeat", () => {
    const h = new Harness();
    h.router.subscribe(T, 0);
    h.addPeers(1, T, 0, { protocol: V12 });
    const ids = Array.from({ length: 100 }, () => idOf(msg(T)));
    h.router.handleRpc("p0", ctl({ idontwant: [{ messageIds: ids }] }), 0);
    const p = h.router.state.peers.get("p0")!;
    assert.equal(p.dontSend.size, 10);
    for (let i = 0; i < 2000; i++) {
      h.router.handleRpc("p0", ctl({ idontwant: [{ messageIds: [idOf(msg(T))] }] }), 0);
    }
    assert.ok(p.dontSend.size <= 10 + 1000, `${p.dontSend.size}`);
    assert.ok(!p.dontSend.has(messageIdKey(idOf(msg(T)))));
  });
});
