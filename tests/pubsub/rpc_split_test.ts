/**
 * splitRpc: every part encodes within the limit (go 1 MiB, rust 64 KiB) unless one item alone is
 * larger; nothing is lost, duplicated or reordered; long id lists are cut across parts.
 */

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { toHex } from "../../src/bytes.ts";
import { encodeRpc } from "../../protocols/pubsub/rpc_codec.ts";
import { splitRpc } from "../../protocols/pubsub/rpc_split.ts";
import type { ControlMessage, Rpc } from "../../protocols/pubsub/types.ts";

const control = (c: Partial<ControlMessage>): ControlMessage => ({
  ihave: [],
  iwant: [],
  graft: [],
  prune: [],
  idontwant: [],
  ...c,
});

/** Everything an RPC carries, flattened in order (id lists flattened across entries). */
function flatten(parts: Rpc[]): Record<string, string[]> {
  const out: Record<string, string[]> = {
    subscriptions: [],
    messages: [],
    ihave: [],
    iwant: [],
    graft: [],
    prune: [],
    idontwant: [],
  };
  for (const r of parts) {
    for (const s of r.subscriptions) out.subscriptions.push(`${s.subscribe}:${s.topic}`);
    for (const m of r.messages) {
      out.messages.push(`${m.topic}:${toHex(m.data ?? new Uint8Array())}`);
    }
    const c = r.control;
    if (c === undefined) continue;
    for (const e of c.ihave) {
      for (const id of e.messageIds) out.ihave.push(`${e.topic}:${toHex(id)}`);
    }
    for (const e of c.iwant) for (const id of e.messageIds) out.iwant.push(toHex(id));
    for (const e of c.graft) out.graft.push(e.topic);
    for (const e of c.prune) out.prune.push(`${e.topic}:${e.peers.length}:${e.backoff}`);
    for (const e of c.idontwant) for (const id of e.messageIds) out.idontwant.push(toHex(id));
  }
  return out;
}

/** Items in a part, counting each id of an id list as one. */
function items(r: Rpc): number {
  const c = r.control ?? control({});
  let n = r.subscriptions.length + r.messages.length + c.graft.length + c.prune.length;
  for (const e of [...c.ihave, ...c.iwant, ...c.idontwant]) n += Math.max(1, e.messageIds.length);
  return n;
}

function checkSplit(rpc: Rpc, max: number): Rpc[] {
  const parts = splitRpc(rpc, max);
  assert.deepEqual(flatten(parts), flatten([rpc]));
  for (const part of parts) {
    const size = encodeRpc(part).length;
    if (size > max) assert.equal(items(part), 1, `part of ${size} > ${max} bytes holds one item`);
  }
  return parts;
}

describe("splitRpc", () => {
  it("leaves a small RPC whole", () => {
    const rpc: Rpc = {
      subscriptions: [{ subscribe: true, topic: "a" }],
      messages: [{ topic: "a", data: new Uint8Array(10) }],
      control: control({ graft: [{ topic: "a" }] }),
    };
    assert.deepEqual(splitRpc(rpc), [rpc]);
    const empty: Rpc = { subscriptions: [], messages: [] };
    assert.deepEqual(splitRpc(empty), [empty]);
  });

  it("packs messages greedily: ten 1000-byte messages in 2500-byte RPCs make five", () => {
    const rpc: Rpc = {
      subscriptions: [],
      messages: Array.from(
        { length: 10 },
        (_, i) => ({ topic: "t", data: new Uint8Array(1000).fill(i) }),
      ),
    };
    assert.equal(checkSplit(rpc, 2500).length, 5);
  });

  it("cuts a 5,000-id IHAVE into parts under rust's 64 KiB", () => {
    const ids = Array.from({ length: 5000 }, (_, i) => new Uint8Array(46).fill(i % 251));
    const rpc: Rpc = {
      subscriptions: [],
      messages: [],
      control: control({ ihave: [{ topic: "t", messageIds: ids }] }),
    };
    const parts = checkSplit(rpc, 65_536);
    assert.equal(parts.length, 4); // 5,000 x 48 bytes = 240,000 bytes
    for (const p of parts) assert.ok(encodeRpc(p).length <= 65_536);
  });

  it("a message larger than the limit travels alone", () => {
    const rpc: Rpc = {
      subscriptions: [{ subscribe: true, topic: "t" }],
      messages: [{ topic: "t", data: new Uint8Array(5000) }, {
        topic: "t",
        data: new Uint8Array(1),
      }],
    };
    const parts = checkSplit(rpc, 1000);
    assert.equal(parts.length, 3);
    assert.equal(parts[1].messages[0].data?.length, 5000);
  });

  it("property: within the limit, nothing lost, duplicated or reordered", () => {
    const topic = fc.string({ minLength: 1, maxLength: 30, unit: "grapheme" });
    const ids = fc.array(fc.uint8Array({ maxLength: 60 }), { maxLength: 40 });
    const rpc: fc.Arbitrary<Rpc> = fc.record({
      subscriptions: fc.array(fc.record({ subscribe: fc.boolean(), topic }), { maxLength: 10 }),
      messages: fc.array(
        fc.record({
          topic,
          data: fc.uint8Array({ maxLength: 400 }),
          from: fc.uint8Array({ maxLength: 40 }),
        }),
        { maxLength: 10 },
      ),
      control: fc.record({
        ihave: fc.array(fc.record({ topic, messageIds: ids }), { maxLength: 4 }),
        iwant: fc.array(fc.record({ messageIds: ids }), { maxLength: 4 }),
        graft: fc.array(fc.record({ topic }), { maxLength: 4 }),
        prune: fc.array(
          fc.record({
            topic,
            peers: fc.array(fc.record({ peerId: fc.uint8Array({ maxLength: 40 }) }), {
              maxLength: 3,
            }),
            backoff: fc.nat({ max: 1_000_000 }),
          }),
          { maxLength: 4 },
        ),
        idontwant: fc.array(fc.record({ messageIds: ids }), { maxLength: 4 }),
      }),
    }, { requiredKeys: ["subscriptions", "messages"] });
    fc.assert(
      fc.property(rpc, fc.integer({ min: 64, max: 3000 }), (r, max) => void checkSplit(r, max)),
      {
        numRuns: 500,
      },
    );
  });
});
