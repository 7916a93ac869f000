/**
 * Pubsub RPC codec: hand-built vectors from the rpc.proto field numbers (libp2p/specs
 * pubsub/README.md, gossipsub-v1.0/1.1/1.2 control messages), framing, unknown fields
 * (partial-message extension, v1.3 extensions) skipped, malformed input, and every decode limit
 * (HARDENING.md rule 1). Interop with js-libp2p and fuzzing: codec_interop_test.ts.
 */

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { fromHex, toHex } from "../../src/bytes.ts";
import { DecodeError, LimitExceededError } from "../../src/errors.ts";
import { ProtobufWriter } from "../../src/protobuf.ts";
import { encodeUvarint } from "../../src/varint.ts";
import {
  decodeRpc,
  encodeMessage,
  encodeRpc,
  encodeRpcFrame,
} from "../../protocols/pubsub/rpc_codec.ts";
import {
  DEFAULT_RPC_LIMITS,
  MAX_IDONTWANT_IDS,
  MAX_PRUNE_PEERS,
  MAX_RPC_FRAME_BYTES,
  type RpcLimits,
} from "../../protocols/pubsub/rpc_limits.ts";
import type { ControlMessage, Rpc } from "../../protocols/pubsub/types.ts";
import { bytes, emptyControl, full, norm } from "./codec_fixtures.ts";

describe("pubsub RPC codec: vectors", () => {
  it("encodes SubOpts, Message and every control kind with the rpc.proto field numbers", () => {
    assert.equal(
      toHex(encodeRpc({ subscriptions: [{ subscribe: true, topic: "a" }], messages: [] })),
      "0a050801120161", // RPC.1 { SubOpts.1 = 1, SubOpts.2 = "a" }
    );
    assert.equal(
      toHex(encodeRpc({ subscriptions: [{ subscribe: false, topic: "a" }], messages: [] })),
      "0a050800120161", // subscribe=false is written (proto2 presence, as go and js do)
    );
    assert.equal(
      toHex(encodeMessage({
        from: bytes(1),
        data: bytes(2),
        seqno: bytes(3),
        topic: "t",
        signature: bytes(5),
        key: bytes(6),
      })),
      "0a0101" + "120102" + "1a0103" + "220174" + "2a0105" + "320106",
    );
    assert.equal(
      toHex(encodeMessage({ from: bytes(1), topic: "t", signature: bytes(5), key: bytes(6) }, {
        forSigning: true,
      })),
      "0a0101220174",
    );
    const control = (c: Partial<ControlMessage>): string =>
      toHex(encodeRpc({ subscriptions: [], messages: [], control: { ...emptyControl(), ...c } }));
    // ControlMessage.1 ihave { topicID=1 "a", messageIDs=2 [0x01ff] }
    assert.equal(
      control({ ihave: [{ topic: "a", messageIds: [bytes(1, 0xff)] }] }),
      "1a09" + "0a07" + "0a0161" + "120201ff",
    );
    assert.equal(control({ iwant: [{ messageIds: [bytes(9)] }] }), "1a05" + "1203" + "0a0109");
    assert.equal(control({ graft: [{ topic: "g" }] }), "1a05" + "1a03" + "0a0167");
    // prune { topicID=1 "p", peers=2 { peerID=1, signedPeerRecord=2 }, backoff=3 u64 300 }
    assert.equal(
      control({
        prune: [{
          topic: "p",
          peers: [{ peerId: bytes(4), signedPeerRecord: bytes(5) }],
          backoff: 300,
        }],
      }),
      "1a10" + "220e" + "0a0170" + "1206" + "0a0104" + "120105" + "18ac02",
    );
    assert.equal(control({ idontwant: [{ messageIds: [bytes(8)] }] }), "1a05" + "2a03" + "0a0108");
    assert.equal(control({}), "1a00"); // an empty control is still written when present
  });

  it("frames an RPC as uvarint(length) ‖ RPC in one buffer", () => {
    const rpc = full();
    const body = encodeRpc(rpc);
    assert.equal(toHex(encodeRpcFrame(rpc)), toHex(encodeUvarint(body.length)) + toHex(body));
    const big: Rpc = { subscriptions: [], messages: [{ topic: "t", data: new Uint8Array(300) }] };
    assert.equal(toHex(encodeRpcFrame(big).subarray(0, 3)), "b50212"); // 309 = b5 02, then RPC field 2
  });

  it("round-trips a full RPC", () => {
    const rpc = full();
    assert.deepEqual(norm(decodeRpc(encodeRpc(rpc))), norm(rpc));
    assert.deepEqual(decodeRpc(new Uint8Array(0)), { subscriptions: [], messages: [] });
  });

  it("decodes message ids as bytes, invalid UTF-8 included (go emits it)", () => {
    const rpc = decodeRpc(fromHex("1a06" + "1204" + "0a02ff80"));
    assert.deepEqual(norm(rpc.control?.iwant), [{ messageIds: ["ff80"] }]);
  });

  it("skips unknown fields of every wire type, the partial-message extension included", () => {
    const sub = new ProtobufWriter().bool(1, true).string(2, "x").bool(3, true).bool(4, true)
      .finish();
    const msg = new ProtobufWriter().bytes(2, bytes(1)).string(4, "x").uint(7, 5)
      .fixed64(8, 1n).finish();
    const control = new ProtobufWriter()
      .message(3, new ProtobufWriter().string(1, "g").uint(9, 1))
      .message(6, new ProtobufWriter().bool(10, true)) // v1.3 ControlExtensions
      .finish();
    const w = new ProtobufWriter()
      .message(1, sub)
      .message(2, msg)
      .message(3, control)
      .message(10, new ProtobufWriter().bytes(1, bytes(1, 2, 3))) // RPC.partial (go)
      .uint(6492434, 1) // testExtension
      .fixed64(15, 7n);
    const wire = w.finish();
    const fixed32 = new Uint8Array([...wire, 0x7d, 1, 2, 3, 4]); // field 15, wire type 5
    const rpc = decodeRpc(fixed32);
    assert.deepEqual(norm(rpc), {
      subscriptions: [{ subscribe: true, topic: "x" }],
      messages: [{ topic: "x", data: "01" }],
      control: { ihave: [], iwant: [], graft: [{ topic: "g" }], prune: [], idontwant: [] },
    });
  });

  it("drops SubOpts without a topic; a Message without a topic gets an empty one", () => {
    const rpc = decodeRpc(fromHex("0a020801" + "1203120101"));
    assert.deepEqual(norm(rpc), { subscriptions: [], messages: [{ topic: "", data: "01" }] });
  });

  it("merges repeated control fields, as protobuf requires", () => {
    const a = encodeRpc({
      subscriptions: [],
      messages: [],
      control: { ...emptyControl(), graft: [{ topic: "a" }] },
    });
    const b = encodeRpc({
      subscriptions: [],
      messages: [],
      control: { ...emptyControl(), graft: [{ topic: "b" }] },
    });
    const rpc = decodeRpc(new Uint8Array([...a, ...b]));
    assert.deepEqual(rpc.control?.graft, [{ topic: "a" }, { topic: "b" }]);
  });

  it("saturates an absurd PRUNE backoff at 2^53-1 instead of losing it (the router clamps)", () => {
    const prune = new ProtobufWriter().string(1, "p").uint(3, 2n ** 64n - 1n).finish();
    const wire = new ProtobufWriter().message(3, new ProtobufWriter().message(4, prune)).finish();
    assert.equal(decodeRpc(wire).control?.prune[0].backoff, Number.MAX_SAFE_INTEGER);
    assert.throws(
      () =>
        encodeRpc({
          subscriptions: [],
          messages: [],
          control: { ...emptyControl(), prune: [{ topic: "p", peers: [], backoff: -1 }] },
        }),
      RangeError,
    );
  });

  it("malformed bytes are DecodeErrors", () => {
    for (
      const hex of [
        "0a", // truncated key / length
        "0a05", // length past the end
        "0a0308", // SubOpts truncated inside
        "0a031202c3", // topic: truncated UTF-8 inside the length
        "0a041202c328", // topic: invalid UTF-8
        "0b", // wire type 3 (group)
        "00", // field 0
        "1a02" + "2202", // prune runs past the end
      ]
    ) {
      assert.throws(() => decodeRpc(fromHex(hex)), DecodeError, hex);
    }
  });
});

describe("pubsub RPC codec: limits (HARDENING.md rule 1)", () => {
  const expectLimit = (wire: Uint8Array, limits: RpcLimits, name: string) =>
    assert.throws(
      () => decodeRpc(wire, limits),
      (e: unknown) => e instanceof LimitExceededError && e.limit === name,
      name,
    );

  it("has the js-libp2p defaults (research §2.4)", () => {
    assert.equal(MAX_RPC_FRAME_BYTES, 4 * 1024 * 1024);
    assert.equal(DEFAULT_RPC_LIMITS.maxSubscriptions, 5000);
    assert.equal(DEFAULT_RPC_LIMITS.maxMessages, 5000);
    assert.equal(DEFAULT_RPC_LIMITS.maxIHaveIds, 5000);
    assert.equal(MAX_IDONTWANT_IDS, 512);
    assert.equal(MAX_PRUNE_PEERS, 16);
  });

  it("rejects an oversized frame before reading it", () => {
    expectLimit(new Uint8Array(101), { maxFrameBytes: 100 }, "maxFrameBytes");
    expectLimit(new Uint8Array(MAX_RPC_FRAME_BYTES + 1), {}, "maxFrameBytes");
    // 20 unknown fixed32 fields (key 0x7d): exactly at the limit, decoded.
    assert.deepEqual(
      decodeRpc(new Uint8Array(100).fill(0x7d), { maxFrameBytes: 100 }).messages,
      [],
    );
  });

  it("rejects counts over every limit, and accepts exactly the limit", () => {
    const rpc = (n: number, make: (i: number) => Partial<Rpc & ControlMessage>): Rpc => {
      const out: Rpc = { subscriptions: [], messages: [], control: emptyControl() };
      for (let i = 0; i < n; i++) {
        const part = make(i);
        out.subscriptions.push(...(part.subscriptions ?? []));
        out.messages.push(...(part.messages ?? []));
        for (const k of ["ihave", "iwant", "graft", "prune", "idontwant"] as const) {
          // deno-lint-ignore no-explicit-any
          (out.control![k] as any[]).push(...(part[k] ?? []));
        }
      }
      return out;
    };
    const id = bytes(1, 2, 3);
    const cases: [RpcLimits, string, (n: number) => Rpc][] = [
      [
        { maxSubscriptions: 3 },
        "maxSubscriptions",
        (n) => rpc(n, (i) => ({ subscriptions: [{ subscribe: true, topic: `t${i}` }] })),
      ],
      [{ maxMessages: 3 }, "maxMessages", (n) => rpc(n, () => ({ messages: [{ topic: "t" }] }))],
      [
        { maxControlEntries: 3 },
        "maxControlEntries",
        (n) => rpc(n, () => ({ ihave: [{ topic: "t", messageIds: [] }] })),
      ],
      [
        { maxControlEntries: 3 },
        "maxControlEntries",
        (n) => rpc(n, () => ({ iwant: [{ messageIds: [] }] })),
      ],
      [
        { maxControlEntries: 3 },
        "maxControlEntries",
        (n) => rpc(n, () => ({ graft: [{ topic: "t" }] })),
      ],
      [
        { maxControlEntries: 3 },
        "maxControlEntries",
        (n) => rpc(n, () => ({ prune: [{ topic: "t", peers: [] }] })),
      ],
      [
        { maxControlEntries: 3 },
        "maxControlEntries",
        (n) => rpc(n, () => ({ idontwant: [{ messageIds: [] }] })),
      ],
      [
        { maxIHaveIds: 3 },
        "maxIHaveIds",
        (n) => rpc(1, () => ({ ihave: [{ topic: "t", messageIds: Array(n).fill(id) }] })),
      ],
      [
        { maxIWantIds: 3 },
        "maxIWantIds",
        (n) => rpc(1, () => ({ iwant: [{ messageIds: Array(n).fill(id) }] })),
      ],
      [
        { maxIDontWantIds: 3 },
        "maxIDontWantIds",
        (n) => rpc(1, () => ({ idontwant: [{ messageIds: Array(n).fill(id) }] })),
      ],
      [
        { maxMessageIdsPerRpc: 3 },
        "maxMessageIdsPerRpc",
        (n) =>
          rpc(
            n,
            (
              i,
            ) => (i % 2
              ? { iwant: [{ messageIds: [id] }] }
              : { idontwant: [{ messageIds: [id] }] }),
          ),
      ],
      [
        { maxPrunePeers: 3 },
        "maxPrunePeers",
        (n) => rpc(1, () => ({ prune: [{ topic: "t", peers: Array(n).fill({ peerId: id }) }] })),
      ],
    ];
    for (const [limits, name, make] of cases) {
      decodeRpc(encodeRpc(make(3)), limits); // at the limit: fine
      expectLimit(encodeRpc(make(4)), limits, name);
    }
    // Repeated control fields share one cap.
    const one = encodeRpc({
      subscriptions: [],
      messages: [],
      control: { ...emptyControl(), graft: [{ topic: "a" }, { topic: "b" }] },
    });
    expectLimit(new Uint8Array([...one, ...one]), { maxControlEntries: 3 }, "maxControlEntries");
  });

  it("rejects a long topic (anywhere) and a long message id before decoding them", () => {
    const long = "x".repeat(11);
    for (
      const r of [
        { subscriptions: [{ subscribe: true, topic: long }], messages: [] },
        { subscriptions: [], messages: [{ topic: long }] },
        {
          subscriptions: [],
          messages: [],
          control: { ...emptyControl(), graft: [{ topic: long }] },
        },
        {
          subscriptions: [],
          messages: [],
          control: { ...emptyControl(), prune: [{ topic: long, peers: [] }] },
        },
        {
          subscriptions: [],
          messages: [],
          control: { ...emptyControl(), ihave: [{ topic: long, messageIds: [] }] },
        },
      ] satisfies Rpc[]
    ) {
      expectLimit(encodeRpc(r), { maxTopicBytes: 10 }, "maxTopicBytes");
      decodeRpc(encodeRpc(r), { maxTopicBytes: 11 });
    }
    const wire = encodeRpc({
      subscriptions: [],
      messages: [],
      control: { ...emptyControl(), iwant: [{ messageIds: [new Uint8Array(11)] }] },
    });
    expectLimit(wire, { maxMessageIdBytes: 10 }, "maxMessageIdBytes");
  });

  it("keeps small message fields without the frame; ids are views", () => {
    const wire = encodeRpc({
      ...full(),
      messages: [{ topic: "t", data: bytes(1, 2), from: bytes(3) }],
    });
    const rpc = decodeRpc(wire);
    assert.notEqual(rpc.messages[0].data!.buffer, wire.buffer);
    assert.equal(rpc.control!.ihave[0].messageIds[0].buffer, wire.buffer);
    const big = encodeRpc({
      subscriptions: [],
      messages: [{ topic: "t", data: new Uint8Array(1000) }],
    });
    assert.equal(decodeRpc(big).messages[0].data!.buffer, big.buffer); // most of the frame: a view
  });
});
