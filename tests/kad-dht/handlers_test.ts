/**
 * Server-side answers: FIND_NODE (any key, target first, no requester, no private addresses),
 * GET_VALUE / PUT_VALUE (validation, older records refused, echo, key mismatch), ADD_PROVIDER
 * (sender only, no answer) and GET_PROVIDERS, PING.
 */

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { concat, equals, toHex, utf8Encode } from "../../src/bytes.ts";
import { ProtocolError } from "../../src/errors.ts";
import { generateKeyPair, peerIdFromPublicKey, publicKeyToProtobuf } from "../../src/keys/mod.ts";
import { type KadMessage, MessageType } from "../../protocols/kad-dht/codec.ts";
import { type HandlerContext, handleRequest } from "../../protocols/kad-dht/handlers.ts";
import { MemoryProviderStore } from "../../protocols/kad-dht/providers.ts";
import { DEFAULT_VALIDATORS, RecordValidationError } from "../../protocols/kad-dht/records.ts";
import { RoutingTable } from "../../protocols/kad-dht/routing_table.ts";
import { MemoryValueStore } from "../../protocols/kad-dht/values.ts";

const pub = (a: number, b: number): Uint8Array => new Uint8Array([4, a, b, 0, 1, 6, 0x0f, 0xa1]);
const LOOPBACK = new Uint8Array([4, 127, 0, 0, 1, 6, 0x0f, 0xa1]);
const id = (i: number): Uint8Array => new Uint8Array([0, 4, 9, i >> 8, i & 0xff]);
const SELF = id(0);
const REQUESTER = id(1);

function context(allowPrivate = false): HandlerContext & { book: Map<string, Uint8Array[]> } {
  const book = new Map<string, Uint8Array[]>();
  const table = new RoutingTable({ selfId: SELF });
  for (let i = 1; i <= 60; i++) {
    const addrs = [pub(20 + (i % 70), i), LOOPBACK];
    if (table.add(id(i), addrs, 0).action === "added") book.set(toHex(id(i)), addrs);
  }
  return {
    book,
    selfId: SELF,
    selfAddrs: () => [pub(99, 99), LOOPBACK],
    addrsOf: (p) => book.get(toHex(p)) ?? [],
    table,
    providers: new MemoryProviderStore(),
    values: new MemoryValueStore(),
    validators: DEFAULT_VALIDATORS,
    allowPrivateAddresses: allowPrivate,
  };
}

const req = (type: KadMessage["type"], key?: Uint8Array): KadMessage => ({
  type,
  key,
  closerPeers: [],
  providerPeers: [],
});

describe("kad-dht handlers", () => {
  it("PING is echoed", async () => {
    assert.equal((await handleRequest(context(), REQUESTER, req(MessageType.PING), 0))?.type, 5);
  });

  it("FIND_NODE: k closest of any key, without the requester, public addresses only", async () => {
    const ctx = context();
    const res = await handleRequest(ctx, REQUESTER, req(MessageType.FIND_NODE, utf8Encode("x")), 0);
    assert.equal(res?.closerPeers.length, 20);
    for (const p of res!.closerPeers) {
      assert.ok(!equals(p.id, REQUESTER) && !equals(p.id, SELF));
      assert.deepEqual(p.addrs.map(toHex), [toHex(ctx.book.get(toHex(p.id))![0])]);
    }
    const lan = await handleRequest(
      context(true),
      REQUESTER,
      req(MessageType.FIND_NODE, utf8Encode("x")),
      0,
    );
    assert.equal(lan?.closerPeers[0].addrs.length, 2);
    await assert.rejects(
      handleRequest(ctx, REQUESTER, req(MessageType.FIND_NODE), 0),
      ProtocolError,
    );
  });

  it("FIND_NODE: a known target comes first, and our own id returns us", async () => {
    const ctx = context();
    const target = [...ctx.table.contacts()][5].peerId;
    const res = await handleRequest(ctx, REQUESTER, req(MessageType.FIND_NODE, target), 0);
    assert.deepEqual(res?.closerPeers[0].id, target);
    assert.equal(res?.closerPeers.filter((p) => equals(p.id, target)).length, 1);
    const me = await handleRequest(ctx, REQUESTER, req(MessageType.FIND_NODE, SELF), 0);
    assert.deepEqual(me?.closerPeers[0].id, SELF);
    assert.deepEqual(me?.closerPeers[0].addrs, [pub(99, 99)]);
  });

  it("PUT_VALUE validates, refuses older records, echoes; GET_VALUE returns it", async () => {
    const ctx = context();
    const key = await generateKeyPair("Ed25519");
    const value = publicKeyToProtobuf(key.publicKey);
    const pk = concat([utf8Encode("/pk/"), peerIdFromPublicKey(key.publicKey).toBytes()]);
    const put = { ...req(MessageType.PUT_VALUE, pk), record: { key: pk, value } };
    const echo = await handleRequest(ctx, REQUESTER, put, 1000);
    assert.deepEqual(echo?.record?.value, value);
    const got = await handleRequest(ctx, REQUESTER, req(MessageType.GET_VALUE, pk), 2000);
    assert.deepEqual(got?.record?.value, value);
    assert.equal(got?.record?.timeReceived, "1970-01-01T00:00:01Z");
    assert.equal(got?.closerPeers.length, 20);
    // Wrong value, mismatched record key, missing record, unknown namespace.
    const other = publicKeyToProtobuf((await generateKeyPair("Ed25519")).publicKey);
    await assert.rejects(
      handleRequest(ctx, REQUESTER, { ...put, record: { key: pk, value: other } }, 0),
      RecordValidationError,
    );
    await assert.rejects(
      handleRequest(ctx, REQUESTER, { ...put, record: { key: utf8Encode("/pk/x"), value } }, 0),
      ProtocolError,
    );
    await assert.rejects(
      handleRequest(ctx, REQUESTER, req(MessageType.PUT_VALUE, pk), 0),
      ProtocolError,
    );
    const foo = utf8Encode("/foo/bar");
    await assert.rejects(
      handleRequest(ctx, REQUESTER, { ...put, key: foo, record: { key: foo, value } }, 0),
      RecordValidationError,
    );
  });

  it("PUT_VALUE refuses a record the selector ranks below the stored one", async () => {
    const ctx = context();
    // A namespace whose records are one byte and the larger byte wins.
    ctx.validators = {
      ...DEFAULT_VALIDATORS,
      test: {
        validate: (_k, v) =>
          v.length === 1 ? Promise.resolve() : Promise.reject(new RecordValidationError("len")),
        select: (_k, vs) => vs.reduce((best, v, i) => (v[0] > vs[best][0] ? i : best), 0),
      },
    };
    const key = utf8Encode("/test/a");
    const put = (b: number): KadMessage => ({
      ...req(MessageType.PUT_VALUE, key),
      record: { key, value: new Uint8Array([b]) },
    });
    await handleRequest(ctx, REQUESTER, put(5), 0);
    await assert.rejects(handleRequest(ctx, REQUESTER, put(4), 1), /older/);
    await handleRequest(ctx, REQUESTER, put(5), 2); // the same record refreshes
    await handleRequest(ctx, REQUESTER, put(6), 3);
    const got = await handleRequest(ctx, REQUESTER, req(MessageType.GET_VALUE, key), 4);
    assert.deepEqual(got?.record?.value, new Uint8Array([6]));
  });

  it("ADD_PROVIDER stores only the sender with public addresses; GET_PROVIDERS returns it", async () => {
    const ctx = context();
    const key = new Uint8Array([0x12, 0x20, ...new Array(32).fill(7)]);
    const add = (providers: KadMessage["providerPeers"]): KadMessage => ({
      ...req(MessageType.ADD_PROVIDER, key),
      providerPeers: providers,
    });
    assert.equal(
      await handleRequest(
        ctx,
        REQUESTER,
        add([{ id: id(7), addrs: [pub(30, 1)], connection: 0 }]),
        0,
      ),
      undefined,
    );
    await handleRequest(
      ctx,
      REQUESTER,
      add([{ id: REQUESTER, addrs: [LOOPBACK], connection: 0 }]),
      0,
    );
    assert.equal(await ctx.providers.size(), 0);
    await handleRequest(
      ctx,
      REQUESTER,
      add([{ id: REQUESTER, addrs: [LOOPBACK, pub(31, 1)], connection: 0 }]),
      0,
    );
    const res = await handleRequest(ctx, id(2), req(MessageType.GET_PROVIDERS, key), 1);
    assert.equal(res?.providerPeers.length, 1);
    assert.deepEqual(res?.providerPeers[0].id, REQUESTER);
    assert.ok(res!.closerPeers.length > 0);
    await assert.rejects(
      handleRequest(ctx, REQUESTER, req(MessageType.GET_PROVIDERS, new Uint8Array(81)), 0),
      ProtocolError,
    );
  });
});
