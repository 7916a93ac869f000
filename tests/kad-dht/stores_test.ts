/**
 * Provider and value stores: 48 h expiry on the injected clock, only the sender as provider,
 * caps per key, per announcing peer and in total (a peer announcing huge numbers of keys), value
 * caps on size, count and bytes, and receiver-set timeReceived.
 */

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { utf8Encode } from "../../src/bytes.ts";
import { MessageType } from "../../protocols/kad-dht/codec.ts";
import { PROVIDER_RECORD_TTL_MS } from "../../protocols/kad-dht/constants.ts";
import {
  MemoryProviderStore,
  providersFromAddProvider,
} from "../../protocols/kad-dht/providers.ts";
import { formatRfc3339, MemoryValueStore } from "../../protocols/kad-dht/values.ts";

const ADDR = new Uint8Array([4, 8, 8, 8, 8, 6, 0x0f, 0xa1]);
const id = (i: number): Uint8Array => new Uint8Array([0, 4, i >> 16, (i >> 8) & 0xff, i & 0xff]);
const mh = (i: number): Uint8Array => new Uint8Array([0x12, 0x20, i >> 8, i & 0xff]);
const H = 60 * 60 * 1000;

describe("kad-dht provider store", () => {
  it("keeps a provider 48 h from its last announcement", async () => {
    const s = new MemoryProviderStore();
    assert.equal(await s.add(mh(1), { peerId: id(1), addrs: [ADDR] }, 0), "added");
    assert.equal((await s.get(mh(1), 47 * H)).length, 1);
    assert.equal(await s.add(mh(1), { peerId: id(1), addrs: [ADDR] }, 24 * H), "refreshed");
    assert.equal((await s.get(mh(1), 71 * H)).length, 1);
    assert.equal((await s.get(mh(1), 24 * H + PROVIDER_RECORD_TTL_MS)).length, 0);
    assert.equal(await s.size(), 0); // dropped lazily by get
    await s.add(mh(2), { peerId: id(1), addrs: [ADDR] }, 0);
    assert.equal(await s.sweep(48 * H), 1);
  });

  it("registers only the sender, and only with an address", () => {
    const sender = id(1);
    const msg = (peers: { id: Uint8Array; addrs: Uint8Array[] }[]) => ({
      type: MessageType.ADD_PROVIDER,
      key: mh(1),
      closerPeers: [],
      providerPeers: peers.map((p) => ({ ...p, connection: 0 as const })),
    });
    assert.deepEqual(providersFromAddProvider(msg([{ id: id(2), addrs: [ADDR] }]), sender), []);
    assert.deepEqual(providersFromAddProvider(msg([{ id: sender, addrs: [] }]), sender), []);
    const ok = providersFromAddProvider(
      msg([{ id: id(2), addrs: [ADDR] }, { id: sender, addrs: [ADDR] }]),
      sender,
    );
    assert.equal(ok.length, 1);
    assert.deepEqual(ok[0].peerId, sender);
  });

  it("caps providers per key; an expired slot frees up", async () => {
    const s = new MemoryProviderStore({ maxPerKey: 3 });
    for (let i = 0; i < 3; i++) {
      assert.equal(await s.add(mh(1), { peerId: id(i), addrs: [ADDR] }, i * H), "added");
    }
    assert.equal(
      await s.add(mh(1), { peerId: id(9), addrs: [ADDR] }, 3 * H),
      "rejected-per-key-cap",
    );
    // The existing ones still refresh; once id(0) expires its slot is free.
    assert.equal(await s.add(mh(1), { peerId: id(1), addrs: [ADDR] }, 3 * H), "refreshed");
    assert.equal(await s.add(mh(1), { peerId: id(9), addrs: [ADDR] }, 48 * H), "added");
    assert.equal(await s.add(new Uint8Array(81), { peerId: id(1), addrs: [] }, 0), "rejected-key");
    assert.equal(await s.add(new Uint8Array(0), { peerId: id(1), addrs: [] }, 0), "rejected-key");
  });

  it("a peer announcing huge numbers of keys fills only its own cap; memory stays bounded", async () => {
    const s = new MemoryProviderStore({ maxPerPeer: 100, maxTotal: 250 });
    let added = 0;
    for (let i = 0; i < 5000; i++) {
      if (await s.add(mh(i), { peerId: id(666), addrs: [ADDR] }, 0) === "added") added++;
    }
    assert.equal(added, 100);
    // Honest peers still get in, up to the total cap.
    for (let p = 0; p < 200; p++) await s.add(mh(p), { peerId: id(p), addrs: [ADDR] }, 1);
    assert.equal(await s.size(), 250);
    assert.equal(
      await s.add(mh(9999), { peerId: id(9999), addrs: [ADDR] }, 2),
      "rejected-total-cap",
    );
    // After expiry the total cap frees.
    assert.equal(await s.add(mh(9999), { peerId: id(9999), addrs: [ADDR] }, 49 * H), "added");
    assert.equal(await s.size(), 1);
  });

  it("get honours a limit and returns copies", async () => {
    const s = new MemoryProviderStore();
    for (let i = 0; i < 5; i++) await s.add(mh(1), { peerId: id(i), addrs: [ADDR] }, 0);
    const got = await s.get(mh(1), 1, 2);
    assert.equal(got.length, 2);
    got[0].expiresAt = 0;
    assert.equal((await s.get(mh(1), 1)).length, 5);
  });
});

describe("kad-dht value store", () => {
  const key = (i: number): Uint8Array => utf8Encode(`/pk/${i}`);

  it("stores, replaces and expires after 48 h", async () => {
    const s = new MemoryValueStore();
    assert.equal(await s.put(key(1), new Uint8Array([1]), 0), "stored");
    assert.equal(await s.put(key(1), new Uint8Array([2, 3]), H), "replaced");
    const got = await s.get(key(1), 2 * H);
    assert.deepEqual(got?.value, new Uint8Array([2, 3]));
    assert.equal(got?.receivedAt, H);
    assert.equal(s.bytes, 2);
    assert.equal(await s.get(key(1), 49 * H), undefined);
    assert.equal(s.bytes, 0);
  });

  it("copies the value it is given", async () => {
    const s = new MemoryValueStore();
    const v = new Uint8Array([1, 2]);
    await s.put(key(1), v, 0);
    v[0] = 9;
    assert.deepEqual((await s.get(key(1), 0))?.value, new Uint8Array([1, 2]));
  });

  it("caps value size, record count and total bytes", async () => {
    const s = new MemoryValueStore({ maxValueBytes: 10, maxRecords: 3, maxTotalBytes: 25 });
    assert.equal(await s.put(key(0), new Uint8Array(11), 0), "rejected-size");
    assert.equal(await s.put(new Uint8Array(0), new Uint8Array(1), 0), "rejected-key");
    assert.equal(await s.put(new Uint8Array(1025), new Uint8Array(1), 0), "rejected-key");
    for (let i = 0; i < 2; i++) assert.equal(await s.put(key(i), new Uint8Array(10), 0), "stored");
    assert.equal(await s.put(key(2), new Uint8Array(6), 0), "rejected-bytes-cap");
    assert.equal(await s.put(key(2), new Uint8Array(5), 0), "stored");
    assert.equal(await s.put(key(3), new Uint8Array(0), 0), "rejected-count-cap");
    // Replacing within the caps is allowed; growing past the byte cap is not.
    assert.equal(await s.put(key(2), new Uint8Array(4), 0), "replaced");
    assert.equal(await s.put(key(2), new Uint8Array(6), 0), "rejected-bytes-cap");
    assert.ok(await s.delete(key(0)));
    assert.equal(await s.put(key(3), new Uint8Array(10), 0), "stored");
    assert.equal(await s.size(), 3);
    // Expired records make room.
    assert.equal(await s.put(key(4), new Uint8Array(10), 49 * H), "stored");
    assert.equal(await s.size(), 1);
  });

  it("formats timeReceived as RFC 3339 like go's RFC3339Nano", () => {
    assert.equal(formatRfc3339(0), "1970-01-01T00:00:00Z");
    assert.equal(formatRfc3339(100), "1970-01-01T00:00:00.1Z");
    assert.equal(formatRfc3339(Date.UTC(2026, 11, 4, 20, 0, 0, 123)), "2026-12-04T20:00:00.123Z");
  });
});
