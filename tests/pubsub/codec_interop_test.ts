/**
 * Pubsub RPC codec against js-libp2p's protons codecs (@libp2p/gossipsub 17.1.1 and
 * @libp2p/floodsub 11.0.28, dev dependencies): ours encodes, js decodes, and the reverse, byte
 * for byte. Fuzzed with fast-check: decode throws nothing but DecodeError / LimitExceededError
 * and never returns more than a limit allows.
 */

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { RPC as JsRPC } from "../../node_modules/@libp2p/gossipsub/dist/src/message/rpc.js";
import { RPC as JsFloodRPC } from "../../node_modules/@libp2p/floodsub/dist/src/message/rpc.js";
import { toHex, utf8Encode } from "../../src/bytes.ts";
import { DecodeError, LimitExceededError } from "../../src/errors.ts";
import { decodeRpc, encodeMessage, encodeRpc } from "../../protocols/pubsub/rpc_codec.ts";
import type { RpcLimits } from "../../protocols/pubsub/rpc_limits.ts";
import type { Rpc } from "../../protocols/pubsub/types.ts";
import {
  bytes,
  emptyControl,
  full,
  messageArb,
  norm,
  rpcArb,
  toJs,
  topic,
} from "./codec_fixtures.ts";

describe("pubsub RPC codec: js-libp2p interop", () => {
  it("the full RPC: ours encodes byte for byte as js; each decodes the other's", () => {
    const rpc = full();
    const ours = encodeRpc(rpc);
    const js = JsRPC.encode(toJs(rpc));
    assert.equal(toHex(ours), toHex(js));
    assert.deepEqual(norm(JsRPC.decode(ours)), norm(toJs(rpc)));
    assert.deepEqual(norm(decodeRpc(js)), norm(rpc));
  });

  it("property: byte-equal with @libp2p/gossipsub's codec, both directions", () => {
    fc.assert(
      fc.property(rpcArb, (rpc) => {
        const ours = encodeRpc(rpc);
        const js = JsRPC.encode(toJs(rpc));
        assert.equal(toHex(ours), toHex(js));
        assert.deepEqual(norm(JsRPC.decode(ours)), norm(toJs(rpc)));
        assert.deepEqual(norm(decodeRpc(js)), norm(rpc));
      }),
      { numRuns: 300 },
    );
  });

  it("property: floodsub RPCs (no control) are byte-equal with @libp2p/floodsub's codec", () => {
    const flood = fc.record({
      subscriptions: fc.array(fc.record({ subscribe: fc.boolean(), topic }), { maxLength: 4 }),
      messages: fc.array(messageArb, { maxLength: 4 }),
    });
    fc.assert(
      fc.property(flood, (rpc) => {
        // floodsub's rpc.proto names field 3 `sequenceNumber` and, like go, writes an empty topic.
        const js = toJs(rpc);
        for (const m of js.messages) {
          m.sequenceNumber = m.seqno;
          delete m.seqno;
        }
        const ours = encodeRpc(rpc);
        assert.equal(toHex(ours), toHex(JsFloodRPC.encode(js)));
        assert.deepEqual(norm(JsFloodRPC.decode(ours)), norm(js));
        assert.deepEqual(norm(decodeRpc(JsFloodRPC.encode(js))), norm(rpc));
      }),
      { numRuns: 200 },
    );
  });

  it("the one proto2 presence difference: js omits an empty Message topic, we write it (as go)", () => {
    const m = { topic: "", data: bytes(1) };
    assert.equal(toHex(encodeMessage(m)), "1201012200");
    assert.equal(toHex(JsRPC.Message.encode(m)), "120101");
    assert.deepEqual(norm(decodeRpc(JsRPC.encode({ subscriptions: [], messages: [m] })).messages), [
      { topic: "", data: "01" },
    ]);
  });
});

describe("pubsub RPC codec: fuzz", () => {
  const typed = (e: unknown): boolean =>
    e instanceof DecodeError || e instanceof LimitExceededError;
  const small: RpcLimits = {
    maxSubscriptions: 2,
    maxMessages: 2,
    maxControlEntries: 2,
    maxIHaveIds: 2,
    maxIWantIds: 2,
    maxIDontWantIds: 2,
    maxMessageIdsPerRpc: 3,
    maxMessageIdBytes: 8,
    maxPrunePeers: 2,
    maxTopicBytes: 8,
  };
  const within = (rpc: Rpc): void => {
    assert.ok(rpc.subscriptions.length <= 2 && rpc.messages.length <= 2);
    let ids = 0;
    const c = rpc.control ?? emptyControl();
    for (const k of ["ihave", "iwant", "graft", "prune", "idontwant"] as const) {
      assert.ok(c[k].length <= 2);
    }
    for (const e of [...c.ihave, ...c.iwant, ...c.idontwant]) {
      assert.ok(e.messageIds.length <= 2);
      for (const id of e.messageIds) assert.ok(id.byteLength <= 8);
      ids += e.messageIds.length;
    }
    assert.ok(ids <= 3);
    for (const p of c.prune) assert.ok(p.peers.length <= 2);
    for (const t of [...rpc.subscriptions, ...rpc.messages, ...c.ihave, ...c.graft, ...c.prune]) {
      assert.ok(utf8Encode(t.topic).byteLength <= 8);
    }
  };
  const decodeChecked = (wire: Uint8Array, limits?: RpcLimits): void => {
    try {
      const rpc = decodeRpc(wire, limits);
      if (limits === small) within(rpc);
    } catch (e) {
      if (!typed(e)) throw e;
    }
  };

  it("random bytes: only typed errors, results within the limits", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 256 }), (wire) => {
        decodeChecked(wire);
        decodeChecked(wire, small);
      }),
      { numRuns: 2000 },
    );
  });

  it("mutated valid RPCs: only typed errors, results within the limits", () => {
    fc.assert(
      fc.property(
        rpcArb,
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 4 }),
        fc.nat(),
        (rpc, flips, cut) => {
          const wire = encodeRpc(rpc);
          for (const [at, value] of flips) if (wire.length > 0) wire[at % wire.length] = value;
          decodeChecked(wire);
          decodeChecked(wire, small);
          decodeChecked(wire.subarray(0, wire.length === 0 ? 0 : cut % wire.length), small);
        },
      ),
      { numRuns: 1000 },
    );
  });
});
