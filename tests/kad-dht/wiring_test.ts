/**
 * The sans-IO pieces wired together the way the network service will: 60 in-process nodes whose
 * requests and answers go through encodeFrame / FrameDecoder / decodeMessage, answered by
 * handleRequest, driven by the Query machine. Covers find-peer, provide then find-providers,
 * and put then get of a `/pk` record (with validation on both sides).
 */

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { concat, equals, toHex, utf8Encode } from "../../src/bytes.ts";
import { generateKeyPair, peerIdFromPublicKey, publicKeyToProtobuf } from "../../src/keys/mod.ts";
import {
  decodeMessage,
  encodeFrame,
  FrameDecoder,
  type KadMessage,
  type KadPeer,
  MessageType,
} from "../../protocols/kad-dht/codec.ts";
import { type HandlerContext, handleRequest } from "../../protocols/kad-dht/handlers.ts";
import { kadId } from "../../protocols/kad-dht/keyspace.ts";
import { MemoryProviderStore } from "../../protocols/kad-dht/providers.ts";
import { Query } from "../../protocols/kad-dht/query.ts";
import { DEFAULT_VALIDATORS, validateRecord } from "../../protocols/kad-dht/records.ts";
import { RoutingTable } from "../../protocols/kad-dht/routing_table.ts";
import { MemoryValueStore } from "../../protocols/kad-dht/values.ts";
import { prng } from "./simulation.ts";

interface WiredNode {
  id: Uint8Array;
  addr: Uint8Array;
  ctx: HandlerContext;
}

const rand = prng(5);
const nodes: WiredNode[] = [];
const byId = new Map<string, WiredNode>();
for (let i = 0; i < 60; i++) {
  const id = new Uint8Array(34);
  id[0] = 0x12;
  id[1] = 0x20;
  for (let b = 2; b < 34; b++) id[b] = Math.floor(rand() * 256);
  const addr = new Uint8Array([4, 11 + i, 7, 0, 1, 6, 0x0f, 0xa1]);
  nodes.push({
    id,
    addr,
    ctx: {
      selfId: id,
      selfAddrs: () => [addr],
      addrsOf: (p) => {
        const n = byId.get(toHex(p));
        return n === undefined ? [] : [n.addr];
      },
      table: new RoutingTable({ selfId: id, kBucketSize: 8 }),
      providers: new MemoryProviderStore(),
      values: new MemoryValueStore(),
      validators: DEFAULT_VALIDATORS,
      k: 8,
    },
  });
  byId.set(toHex(id), nodes[i]);
}
// Each node knows a random third of the others.
for (const n of nodes) {
  for (const m of nodes) if (m !== n && rand() < 0.33) n.ctx.table.add(m.id, [m.addr], 0);
}

/** Send `msg` from `from` to `to` over framed bytes; return the decoded answer. */
async function rpc(
  from: WiredNode,
  to: WiredNode,
  msg: KadMessage,
): Promise<KadMessage | undefined> {
  const inbound = new FrameDecoder();
  inbound.push(encodeFrame(msg));
  const request = decodeMessage(inbound.next()!);
  const answer = await handleRequest(to.ctx, from.id, request, 0);
  if (answer === undefined) return undefined;
  const outbound = new FrameDecoder();
  const frame = encodeFrame(answer);
  // Deliver in two chunks, as a stream would.
  outbound.push(frame.subarray(0, 3));
  outbound.push(frame.subarray(3));
  return decodeMessage(outbound.next()!);
}

/** An iterative lookup of `key` with requests of `type`; `seen` gets every answer. */
async function lookup(
  from: WiredNode,
  key: Uint8Array,
  type: KadMessage["type"],
  seen: (answer: KadMessage, by: WiredNode) => void = () => {},
): Promise<KadPeer[]> {
  const target = kadId(key);
  const q = new Query({
    target,
    seeds: from.ctx.table.closest(target, 8),
    now: 0,
    selfId: from.id,
    k: 8,
    alpha: 3,
  });
  const learned = new Map<string, KadPeer>();
  const pending = q.poll(0);
  while (!q.finished && pending.length > 0) {
    const req = pending.shift()!;
    const to = byId.get(toHex(req.peer.peerId))!;
    const answer = await rpc(from, to, { type, key, closerPeers: [], providerPeers: [] });
    assert.ok(answer !== undefined);
    seen(answer, to);
    for (const p of answer.closerPeers) learned.set(toHex(p.id), p);
    q.onResponse(to.id, answer.closerPeers.map((p) => ({ peerId: p.id, addrs: p.addrs })), 1);
    pending.push(...q.poll(1));
  }
  assert.equal(q.state, "done");
  return q.result().map((p) =>
    learned.get(toHex(p.peerId)) ?? { id: p.peerId, addrs: [], connection: 0 }
  );
}

describe("kad-dht wiring: codec + handlers + query", () => {
  it("every node finds others by id, with their addresses", async () => {
    for (let i = 0; i < 20; i++) {
      const from = nodes[i];
      const to = nodes[59 - i];
      const result = await lookup(from, to.id, MessageType.FIND_NODE);
      assert.ok(equals(result[0].id, to.id), `node ${i} did not find node ${59 - i}`);
      assert.deepEqual(result[0].addrs, [to.addr]);
    }
  });

  it("a provider announced by one node is found by another", async () => {
    const provider = nodes[3];
    const key = new Uint8Array([0x12, 0x20, ...new Array(32).fill(0xab)]); // a multihash
    const closest = await lookup(provider, key, MessageType.FIND_NODE);
    assert.equal(closest.length, 8);
    for (const p of closest) {
      const answer = await rpc(provider, byId.get(toHex(p.id))!, {
        type: MessageType.ADD_PROVIDER,
        key,
        closerPeers: [],
        providerPeers: [{ id: provider.id, addrs: [provider.addr], connection: 0 }],
      });
      assert.equal(answer, undefined); // ADD_PROVIDER gets no reply
    }
    const found: KadPeer[] = [];
    await lookup(nodes[42], key, MessageType.GET_PROVIDERS, (a) => found.push(...a.providerPeers));
    assert.ok(found.length > 0);
    assert.ok(found.every((p) => equals(p.id, provider.id)));
    assert.deepEqual(found[0].addrs, [provider.addr]);
  });

  it("a /pk record put by one node is got and validated by another", async () => {
    const keyPair = await generateKeyPair("Ed25519");
    const value = publicKeyToProtobuf(keyPair.publicKey);
    const key = concat([utf8Encode("/pk/"), peerIdFromPublicKey(keyPair.publicKey).toBytes()]);
    const putter = nodes[10];
    for (const p of await lookup(putter, key, MessageType.FIND_NODE)) {
      const echo = await rpc(putter, byId.get(toHex(p.id))!, {
        type: MessageType.PUT_VALUE,
        key,
        record: { key, value },
        closerPeers: [],
        providerPeers: [],
      });
      assert.deepEqual(echo?.record?.value, value);
    }
    const got: Uint8Array[] = [];
    await lookup(nodes[50], key, MessageType.GET_VALUE, (a) => {
      if (a.record !== undefined && equals(a.record.key, key)) got.push(a.record.value);
    });
    assert.ok(got.length >= 3, `quorum: ${got.length} records`);
    for (const v of got) await validateRecord(DEFAULT_VALIDATORS, key, v, Date.now());
  });
});
