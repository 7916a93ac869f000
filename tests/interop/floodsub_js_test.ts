/**
 * Floodsub interop over real loopback TCP with js-libp2p's `@libp2p/floodsub` 11.0.28: a mixed
 * network (PUBSUB_INTEROP_NODES, default 20; half js in separate Deno processes, half ours on
 * the runtime running the test) in a sparse topology (a ring alternating js and ours, plus
 * chords), so every message passes through both implementations. Every member publishes one
 * message; every subscriber's application receives every other member's message exactly once.
 */

import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import process from "node:process";
import { floodsub } from "../../protocols/floodsub/mod.ts";
import { jsMember, type Member, ourMember, sparseEdges, waitFor } from "./pubsub_mixed.ts";

const TOTAL = Math.max(4, Number(process.env.PUBSUB_INTEROP_NODES ?? "20"));
const TOPIC = "interop-floodsub";

describe(`floodsub interop with js-libp2p over TCP (${TOTAL} nodes, half js)`, () => {
  const members: Member[] = [];
  const edges = sparseEdges(TOTAL);

  before(async () => {
    const started = await Promise.all(
      Array.from(
        { length: TOTAL },
        (_, i) =>
          i % 2 === 0
            ? ourMember(i, floodsub({ allowPublishToZeroTopicPeers: true }))
            : jsMember(i, "floodsub"),
      ),
    );
    members.push(...started);
    for (const m of members) await m.subscribe(TOPIC);
    for (const [a, b] of edges) await members[a].dial(members[b].addr);
    const degree = (i: number): number => edges.filter(([a, b]) => a === i || b === i).length;
    await waitFor(
      async () => {
        for (const m of members) {
          if ((await m.subscribers(TOPIC)).length < degree(m.index)) return false;
          if ((await m.writable()).length < degree(m.index)) return false;
        }
        return true;
      },
      60_000,
      "every member sees its neighbours' subscriptions",
    );
  });
  after(async () => {
    await Promise.all(members.map((m) => m.stop().catch(() => {})));
  });

  it("every member's message reaches every other member exactly once", async () => {
    // js's publish says how many peers it handed the message to: when a js member's message is
    // missing everywhere, this tells js deciding not to send (0) from a send that was lost.
    const sentTo = new Map<number, number | undefined>();
    for (const m of members) sentTo.set(m.index, await m.publish(TOPIC, `m-${m.index}-${m.kind}`));
    const expected = (self: Member): string[] =>
      members.filter((o) => o !== self).map((o) => `m-${o.index}-${o.kind}`);
    await waitFor(
      () => members.every((m) => expected(m).every((x) => m.received().includes(x))),
      60_000,
      "every message delivered everywhere",
    ).catch((err) => {
      const missing = members.map((m) =>
        `${m.kind} ${m.index} misses ${expected(m).filter((x) => !m.received().includes(x))}` +
        (m.kind === "js" ? ` (its publish went to ${sentTo.get(m.index)} peers)` : "")
      );
      throw new Error(`${err.message}\n${missing.join("\n")}`);
    });
    // Room for a wrong duplicate to arrive before counting.
    await new Promise((r) => setTimeout(r, 1000));
    for (const m of members) {
      const got = m.received().filter((x) => x.startsWith("m-"));
      assert.equal(got.length, TOTAL - 1, `${m.kind} ${m.index} got ${got.length}`);
      assert.equal(new Set(got).size, TOTAL - 1, `${m.kind} ${m.index}: duplicates`);
      assert.ok(!got.includes(`m-${m.index}-${m.kind}`), "own message not delivered back");
    }
  });
});
