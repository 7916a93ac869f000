/**
 * Gossipsub interop over real loopback TCP with js-libp2p's `@libp2p/gossipsub` 17.1.1: a mixed
 * network (PUBSUB_INTEROP_NODES, default 20; half js in separate Deno processes, half ours on
 * the runtime running the test) in a sparse topology (a ring alternating js and ours, plus
 * chords), so every message passes through both implementations. Shown here:
 *
 * - every member publishes; every subscriber's application gets every message exactly once;
 * - gossip reaches a node outside the mesh: an extra node of ours with D = D_lo = D_hi = 0
 *   (it never keeps mesh peers), attached to two js members only, receives messages published
 *   elsewhere through IHAVE/IWANT from js;
 * - IDONTWANT: our node sends it for a large message to its js mesh peers, which record it
 *   (js's `idontwants` for our peer id; js skips recorded ids when forwarding);
 * - an invalid message is rejected and its sender's score falls, both ways: js rejects a
 *   message from our node (js's score of our node drops), ours rejects one from a js node.
 *
 * All peers share 127.0.0.1: both sides whitelist it for IP colocation (research §2.2).
 */

import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import process from "node:process";
import {
  gossipsub,
  type GossipsubOptions,
  type GossipsubService,
} from "../../protocols/gossipsub/mod.ts";
import type { PubsubService } from "../../protocols/floodsub/mod.ts";
import type { ServiceFactory } from "../../src/node/node.ts";
import { jsMember, type Member, ourMember, sparseEdges, waitFor } from "./pubsub_mixed.ts";
import type { PubsubJsPeer } from "./pubsub_js_process.ts";

const TOTAL = Math.max(4, Number(process.env.PUBSUB_INTEROP_NODES ?? "20"));
const TOPIC = "interop-gossipsub";

/** The interop topic scored for invalid messages only (like the js peers, pubsub_js_peer.ts). */
const TOPIC_SCORE = {
  topicWeight: 1,
  timeInMeshWeight: 0,
  firstMessageDeliveriesWeight: 0,
  meshMessageDeliveriesWeight: 0,
  meshFailurePenaltyWeight: 0,
  invalidMessageDeliveriesWeight: -10,
  invalidMessageDeliveriesDecay: 0.9,
};

function ours(extra: GossipsubOptions = {}): ServiceFactory<PubsubService> {
  return gossipsub({
    allowPublishToZeroTopicPeers: true,
    heartbeatIntervalMs: 500,
    idontwantMinDataSize: 64,
    scoreParams: {
      IPColocationFactorWhitelist: ["127.0.0.1"],
      topics: { [TOPIC]: TOPIC_SCORE },
    },
    ...extra,
  }) as unknown as ServiceFactory<PubsubService>;
}

describe(`gossipsub interop with js-libp2p over TCP (${TOTAL} nodes, half js)`, () => {
  const members: Member[] = [];
  const edges = sparseEdges(TOTAL);
  let outsider: Member & { node: { services: { pubsub: PubsubService } } };

  before(async () => {
    const started = await Promise.all(
      Array.from(
        { length: TOTAL },
        (_, i) => i % 2 === 0 ? ourMember(i, ours()) : jsMember(i, "gossipsub"),
      ),
    );
    members.push(...started);
    outsider = await ourMember(TOTAL, ours({ D: 0, Dlo: 0, Dhi: 0, Dscore: 0, Dout: 0 }));
    for (const m of [...members, outsider]) await m.subscribe(TOPIC);
    for (const [a, b] of edges) await members[a].dial(members[b].addr);
    await outsider.dial(members[1].addr);
    await outsider.dial(members[TOTAL - 1].addr);
    const degree = (i: number): number => edges.filter(([a, b]) => a === i || b === i).length;
    await waitFor(
      async () => {
        for (const m of members) {
          if ((await m.subscribers(TOPIC)).length < degree(m.index)) return false;
          if ((await m.writable()).length < degree(m.index)) return false;
          if ((await m.mesh(TOPIC)).length === 0) return false;
        }
        return true;
      },
      60_000,
      "every member sees its neighbours' subscriptions and has a mesh",
    );
    // A couple of heartbeats for the meshes to settle (js: 1 s heartbeat).
    await new Promise((r) => setTimeout(r, 2500));
  });
  after(async () => {
    await Promise.all([...members, outsider].map((m) => m?.stop().catch(() => {})));
  });

  it("every member's message reaches every other member exactly once", async () => {
    for (const m of members) await m.publish(TOPIC, `m-${m.index}-${m.kind}`);
    const expected = (self: Member): string[] =>
      members.filter((o) => o !== self).map((o) => `m-${o.index}-${o.kind}`);
    await waitFor(
      () => members.every((m) => expected(m).every((x) => m.received().includes(x))),
      60_000,
      "every message delivered everywhere",
    );
    await new Promise((r) => setTimeout(r, 1500));
    for (const m of members) {
      const got = m.received().filter((x) => x.startsWith("m-"));
      assert.equal(got.length, TOTAL - 1, `${m.kind} ${m.index} got ${got.length}`);
      assert.equal(new Set(got).size, TOTAL - 1, `${m.kind} ${m.index}: duplicates`);
    }
  });

  it("gossip (IHAVE/IWANT from js) reaches our node outside the mesh", async () => {
    const pubsub = outsider.node.services.pubsub;
    assert.equal(pubsub.getMeshPeers(TOPIC).length, 0, "the outsider keeps no mesh peers");
    // Nor do its js neighbours keep it in theirs (it PRUNEs their GRAFTs), so they do not
    // forward to it: what it gets comes through IHAVE/IWANT.
    const neighbours = [members[1], members[TOTAL - 1]];
    for (const n of neighbours) {
      assert.ok(!(await n.mesh(TOPIC)).includes(outsider.peerId), `js ${n.index}'s mesh`);
    }
    // Published by members that are not the outsider's neighbours: only gossip brings them.
    const far = members.filter((m) => m.index !== 1 && m.index !== TOTAL - 1).slice(0, 4);
    for (const m of far) await m.publish(TOPIC, `g-${m.index}`);
    await waitFor(
      () => far.every((m) => outsider.received().includes(`g-${m.index}`)),
      30_000,
      "gossiped messages reach the outsider",
    );
    assert.equal(pubsub.getMeshPeers(TOPIC).length, 0, "still outside the mesh");
    for (const n of neighbours) {
      assert.ok(!(await n.mesh(TOPIC)).includes(outsider.peerId), `js ${n.index}'s mesh`);
    }
  });

  it("IDONTWANT: our node sends it for a large message and js records it", async () => {
    const our = members[2] as Member & { node: { peerId: { toString(): string } } };
    const jsNeighbours = [members[1], members[3]] as (Member & { js: PubsubJsPeer })[];
    // A large message from far away: our node forwards it, and first tells its other mesh
    // peers not to send it (v1.2).
    const source = members[Math.floor(TOTAL / 2)];
    await source.publish(TOPIC, "big-" + "~".repeat(2048));
    let recorded = 0;
    await waitFor(
      async () => {
        recorded = 0;
        for (const j of jsNeighbours) {
          recorded += Number(await j.js.call("idontwants", { peer: our.peerId }));
        }
        return recorded > 0;
      },
      15_000,
      "a js mesh peer recorded our IDONTWANT",
    );
    assert.ok(recorded > 0);
  });

  it("IDONTWANT: js sends it for a large message and our router records it", async () => {
    // Our router skips the recorded ids when forwarding to that peer (router.ts, gossip.ts).
    const source = members[Math.floor(TOTAL / 2) + 1]; // a js member
    assert.equal(source.kind, "js");
    await source.publish(TOPIC, "big-js-" + "~".repeat(2048));
    const ourMembers = members.filter((m) => m.kind === "ours") as (Member & {
      node: { services: { pubsub: GossipsubService } };
    })[];
    const jsIds = new Set(members.filter((m) => m.kind === "js").map((m) => m.peerId));
    await waitFor(
      () =>
        ourMembers.some((m) => {
          for (const [id, p] of m.node.services.pubsub.router.state.peers) {
            if (jsIds.has(id) && p.dontSend.size > 0) return true;
          }
          return false;
        }),
      15_000,
      "one of our routers recorded a js IDONTWANT",
    );
  });

  it("an invalid message is rejected and its sender's score falls (js judging ours)", async () => {
    const judge = members[1] as Member & { js: PubsubJsPeer };
    const sender = members[2];
    await judge.js.call("validator", { topic: TOPIC, reject: "bad-" });
    const before = Number(await judge.js.call("score", { peer: sender.peerId }));
    await sender.publish(TOPIC, "bad-from-ours");
    await waitFor(
      async () => {
        return Number(await judge.js.call("score", { peer: sender.peerId })) < before;
      },
      15_000,
      "js's score of our sender falls",
    );
  });

  it("an invalid message is rejected and its sender's score falls (ours judging js)", async () => {
    const judge = members[2] as Member & { node: { services: { pubsub: GossipsubService } } };
    const sender = members[3];
    const pubsub = judge.node.services.pubsub;
    pubsub.topicValidators.set(
      TOPIC,
      (_peer, msg) => new TextDecoder().decode(msg.data).startsWith("evil-") ? "reject" : "accept",
    );
    const before = pubsub.getScore(sender.peerId);
    await sender.publish(TOPIC, "evil-from-js");
    await waitFor(() => pubsub.getScore(sender.peerId) < before, 15_000, "our score of js falls");
    assert.ok(pubsub.stats().validated.reject >= 1);
  });
});
