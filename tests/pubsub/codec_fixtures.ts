/**
 * Shared fixtures of the pubsub codec tests: a full RPC, js-libp2p field-name mapping, a
 * comparable plain form, and fast-check arbitraries of valid RPCs.
 */

import fc from "fast-check";
import { toHex, utf8Encode } from "../../src/bytes.ts";
import type { ControlMessage, PubsubMessage, Rpc } from "../../protocols/pubsub/types.ts";

export const bytes = (...b: number[]): Uint8Array => new Uint8Array(b);
export const emptyControl = (): ControlMessage => ({
  ihave: [],
  iwant: [],
  graft: [],
  prune: [],
  idontwant: [],
});

export function full(): Rpc {
  return {
    subscriptions: [{ subscribe: true, topic: "a" }, { subscribe: false, topic: "bé" }],
    messages: [{
      from: bytes(0, 36, 8, 1),
      data: utf8Encode("hello"),
      seqno: bytes(0, 0, 0, 0, 0, 0, 0, 7),
      topic: "a",
      signature: bytes(9, 9),
      key: bytes(8, 8),
    }, { topic: "t", data: new Uint8Array(0) }],
    control: {
      ihave: [{ topic: "a", messageIds: [bytes(1, 2), bytes(0xff, 0xfe)] }],
      iwant: [{ messageIds: [bytes(3)] }],
      graft: [{ topic: "g" }],
      prune: [{
        topic: "p",
        peers: [{ peerId: bytes(0, 1, 2) }, { peerId: bytes(4), signedPeerRecord: bytes(5, 6) }],
        backoff: 60,
      }, { topic: "q", peers: [] }],
      idontwant: [{ messageIds: [bytes(7, 7)] }],
    },
  };
}

// --- mapping to js's field names ------------------------------------------------------------

// deno-lint-ignore no-explicit-any
export type Js = any;

export function toJs(rpc: Rpc): Js {
  const out: Js = {
    subscriptions: rpc.subscriptions.map((s) => ({ subscribe: s.subscribe, topic: s.topic })),
    messages: rpc.messages.map((m) => ({ ...m })),
  };
  if (rpc.control !== undefined) {
    const c = rpc.control;
    out.control = {
      ihave: c.ihave.map((e) => ({ topicID: e.topic, messageIDs: e.messageIds })),
      iwant: c.iwant.map((e) => ({ messageIDs: e.messageIds })),
      graft: c.graft.map((e) => ({ topicID: e.topic })),
      prune: c.prune.map((e) => ({
        topicID: e.topic,
        peers: e.peers.map((p) =>
          p.signedPeerRecord === undefined
            ? { peerID: p.peerId }
            : { peerID: p.peerId, signedPeerRecord: p.signedPeerRecord }
        ),
        ...(e.backoff === undefined ? {} : { backoff: e.backoff }),
      })),
      idontwant: c.idontwant.map((e) => ({ messageIDs: e.messageIds })),
    };
  }
  return out;
}

/** Plain, comparable form: Uint8Arrays as hex, undefined fields dropped. */
export function norm(value: unknown): unknown {
  if (value instanceof Uint8Array) return toHex(value);
  if (Array.isArray(value)) return value.map(norm);
  if (value !== null && typeof value === "object") {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) if (v !== undefined) out[k] = norm(v);
    return out;
  }
  return value;
}

// --- arbitraries ------------------------------------------------------------------------------

const bin = (max: number) => fc.uint8Array({ maxLength: max });
export const topic = fc.string({ minLength: 1, maxLength: 20, unit: "grapheme" });
export const messageArb: fc.Arbitrary<PubsubMessage> = fc.record({
  from: bin(40),
  data: bin(64),
  seqno: fc.uint8Array({ minLength: 8, maxLength: 8 }),
  topic,
  signature: bin(64),
  key: bin(40),
}, { requiredKeys: ["topic"] });
const ids = fc.array(bin(48), { maxLength: 5 });
export const controlArb: fc.Arbitrary<ControlMessage> = fc.record({
  ihave: fc.array(fc.record({ topic, messageIds: ids }), { maxLength: 3 }),
  iwant: fc.array(fc.record({ messageIds: ids }), { maxLength: 3 }),
  graft: fc.array(fc.record({ topic }), { maxLength: 3 }),
  prune: fc.array(
    fc.record({
      topic,
      peers: fc.array(
        fc.record({ peerId: bin(40), signedPeerRecord: bin(80) }, {
          requiredKeys: ["peerId"],
        }),
        { maxLength: 3 },
      ),
      backoff: fc.nat({ max: 2 ** 40 }),
    }, { requiredKeys: ["topic", "peers"] }),
    { maxLength: 3 },
  ),
  idontwant: fc.array(fc.record({ messageIds: ids }), { maxLength: 3 }),
});
export const rpcArb: fc.Arbitrary<Rpc> = fc.record({
  subscriptions: fc.array(fc.record({ subscribe: fc.boolean(), topic }), { maxLength: 4 }),
  messages: fc.array(messageArb, { maxLength: 4 }),
  control: controlArb,
}, { requiredKeys: ["subscriptions", "messages"] });
