/**
 * The DHT's value and provider stores on a datastore: records written through, loaded back
 * with their receive times (so they expire when they would have), expired and unreadable
 * entries deleted, caps unchanged. Run on MemoryDatastore here (the persistent stores pass the
 * same datastore conformance suite); the CLI restart test runs them on disk.
 */

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { MemoryDatastore } from "../../src/datastore/memory.ts";
import {
  DatastoreProviderStore,
  DatastoreValueStore,
  DHT_PROVIDERS_PREFIX,
  DHT_VALUES_PREFIX,
} from "../../protocols/kad-dht/datastore_stores.ts";
import { VALUE_RECORD_TTL_MS } from "../../protocols/kad-dht/constants.ts";

const H = 60 * 60 * 1000;
const T0 = 1_700_000_000_000;
const key = (i: number): Uint8Array => new TextEncoder().encode(`/pk/key-${i}`);
const mh = (i: number): Uint8Array => new Uint8Array([0x12, 0x20, i >> 8, i & 0xff]);
const id = (i: number): Uint8Array => new Uint8Array([0, 4, 1, 2, i]);
const ADDR = new Uint8Array([4, 127, 0, 0, 1, 6, 0x0f, 0xa1]);

async function count(ds: MemoryDatastore, prefix: string): Promise<number> {
  let n = 0;
  for await (const _ of ds.list(prefix)) n++;
  return n;
}

describe("kad-dht value store on a datastore", () => {
  it("a record put is there after reopening, with its receive time", async () => {
    const ds = new MemoryDatastore();
    const a = await DatastoreValueStore.open(ds, { now: () => T0 });
    assert.equal(await a.put(key(1), new Uint8Array([1, 2]), T0), "stored");
    assert.equal(await a.put(key(2), new Uint8Array([3]), T0 + H), "stored");
    assert.equal(await a.put(key(2), new Uint8Array([4]), T0 + 2 * H), "replaced");
    const b = await DatastoreValueStore.open(ds, { now: () => T0 + 3 * H });
    assert.equal(await b.size(), 2);
    const r1 = await b.get(key(1), T0 + 3 * H);
    assert.deepEqual(r1?.value, new Uint8Array([1, 2]));
    assert.equal(r1?.receivedAt, T0);
    assert.equal(r1?.expiresAt, T0 + VALUE_RECORD_TTL_MS);
    assert.deepEqual((await b.get(key(2), T0 + 3 * H))?.value, new Uint8Array([4]));
  });

  it("delete and sweep remove records from the datastore too", async () => {
    const ds = new MemoryDatastore();
    const s = await DatastoreValueStore.open(ds, { now: () => T0 });
    await s.put(key(1), new Uint8Array([1]), T0);
    await s.put(key(2), new Uint8Array([2]), T0 + 10 * H);
    assert.equal(await s.delete(key(2)), true);
    assert.equal(await count(ds, DHT_VALUES_PREFIX), 1);
    assert.equal(await s.sweep(T0 + VALUE_RECORD_TTL_MS), 1);
    assert.equal(await count(ds, DHT_VALUES_PREFIX), 0);
  });

  it("open drops expired, unreadable and over-cap entries", async () => {
    const ds = new MemoryDatastore();
    const s = await DatastoreValueStore.open(ds, { now: () => T0, maxRecords: 2 });
    await s.put(key(1), new Uint8Array([1]), T0);
    await s.put(key(2), new Uint8Array([2]), T0 + 30 * H);
    await ds.put(`${DHT_VALUES_PREFIX}/not*base64`, new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8, 9]));
    await ds.put(`${DHT_VALUES_PREFIX}/AAAA`, new Uint8Array([1])); // too short for a time
    const later = await DatastoreValueStore.open(ds, {
      now: () => T0 + VALUE_RECORD_TTL_MS + H,
      maxRecords: 2,
    });
    assert.equal(await later.size(), 1);
    assert.equal(await later.get(key(1), T0 + VALUE_RECORD_TTL_MS + H), undefined);
    assert.equal(await count(ds, DHT_VALUES_PREFIX), 1);
  });

  it("a refused put (over the size cap) writes nothing", async () => {
    const ds = new MemoryDatastore();
    const s = await DatastoreValueStore.open(ds, { maxValueBytes: 4 });
    assert.equal(await s.put(key(1), new Uint8Array(5), T0), "rejected-size");
    assert.equal(await count(ds, DHT_VALUES_PREFIX), 0);
  });
});

describe("kad-dht provider store on a datastore", () => {
  it("providers are there after reopening, refreshed times kept", async () => {
    const ds = new MemoryDatastore();
    const a = await DatastoreProviderStore.open(ds, { now: () => T0 });
    assert.equal(await a.add(mh(1), { peerId: id(1), addrs: [ADDR] }, T0), "added");
    assert.equal(await a.add(mh(1), { peerId: id(2), addrs: [ADDR, ADDR] }, T0 + H), "added");
    assert.equal(await a.add(mh(1), { peerId: id(1), addrs: [ADDR] }, T0 + 2 * H), "refreshed");
    const b = await DatastoreProviderStore.open(ds, { now: () => T0 + 3 * H });
    assert.equal(await b.size(), 2);
    const got = await b.get(mh(1), T0 + 3 * H);
    assert.deepEqual(got.map((p) => p.peerId[4]).sort(), [1, 2]);
    const p2 = got.find((p) => p.peerId[4] === 2)!;
    assert.equal(p2.addrs.length, 2);
    assert.deepEqual(p2.addrs[0], ADDR);
    assert.equal(got.find((p) => p.peerId[4] === 1)!.receivedAt, T0 + 2 * H);
  });

  it("sweep and open drop expired providers from the datastore", async () => {
    const ds = new MemoryDatastore();
    const a = await DatastoreProviderStore.open(ds, { now: () => T0 });
    await a.add(mh(1), { peerId: id(1), addrs: [ADDR] }, T0);
    await a.add(mh(2), { peerId: id(1), addrs: [ADDR] }, T0 + 24 * H);
    assert.equal(await a.sweep(T0 + 48 * H), 1);
    assert.equal(await count(ds, DHT_PROVIDERS_PREFIX), 1);
    await ds.put(`${DHT_PROVIDERS_PREFIX}/AAAA/BBBB`, new Uint8Array([9])); // unreadable
    const b = await DatastoreProviderStore.open(ds, { now: () => T0 + 73 * H });
    assert.equal(await b.size(), 0);
    assert.equal(await count(ds, DHT_PROVIDERS_PREFIX), 0);
  });
});

describe("kad-dht value store on a failing datastore", () => {
  it("a put the datastore refused is undone: the previous value stays", async () => {
    const ds = new MemoryDatastore();
    const s = await DatastoreValueStore.open(ds, { now: () => T0 });
    await s.put(key(1), new Uint8Array([1]), T0);
    const real = ds.batch.bind(ds);
    ds.batch = () => {
      const b = real();
      b.commit = () => Promise.reject(new Error("disk full"));
      return b;
    };
    await assert.rejects(s.put(key(1), new Uint8Array([2]), T0 + H), /disk full/);
    await assert.rejects(s.put(key(2), new Uint8Array([3]), T0 + H), /disk full/);
    ds.batch = real;
    assert.deepEqual((await s.get(key(1), T0 + H))?.value, new Uint8Array([1]));
    assert.equal(await s.get(key(2), T0 + H), undefined);
  });
});
