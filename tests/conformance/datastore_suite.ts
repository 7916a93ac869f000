/**
 * The datastore conformance suite, written once and run for every implementation: memory
 * (tests/datastore/memory_test.ts), Deno KV (deno_kv_test.ts, under deno) and bun:sqlite
 * (bun_sqlite_test.ts, under bun). `reopen` (persistent stores only) closes and opens the same
 * store again, to check that what was written is read back.
 */

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import type { Datastore } from "../../src/datastore/types.ts";
import {
  MAX_DATASTORE_BATCH_BYTES,
  MAX_DATASTORE_BATCH_OPS,
  MAX_DATASTORE_KEY_LENGTH,
  MAX_DATASTORE_VALUE_BYTES,
} from "../../src/datastore/types.ts";

/** How a suite run gets its store. */
export interface DatastoreHarness {
  /** A fresh, empty store. */
  open(): Promise<Datastore>;
  /** Close `ds` and open the same storage again (persistent stores). */
  reopen?(ds: Datastore): Promise<Datastore>;
}

const bytes = (...b: number[]): Uint8Array => new Uint8Array(b);

async function keysOf(ds: Datastore, prefix: string, limit?: number): Promise<string[]> {
  const out: string[] = [];
  for await (const e of ds.list(prefix, { limit })) out.push(e.key);
  return out;
}

/** Register the suite for one implementation. */
export function runDatastoreSuite(
  name: string,
  harness: DatastoreHarness,
  options: { skip?: string } = {},
): void {
  const skip = options.skip ?? false;
  describe(`datastore conformance: ${name}`, () => {
    const withStore = (fn: (ds: Datastore) => Promise<void>) => async () => {
      const ds = await harness.open();
      try {
        await fn(ds);
      } finally {
        await ds.close();
      }
    };

    it(
      "get/put/delete round trip, values are copies",
      { skip },
      withStore(async (ds) => {
        assert.equal(await ds.get("/a"), undefined);
        const v = bytes(1, 2, 3);
        await ds.put("/a", v);
        v[0] = 9;
        const got = await ds.get("/a");
        assert.deepEqual(got, bytes(1, 2, 3));
        got![1] = 9;
        assert.deepEqual(await ds.get("/a"), bytes(1, 2, 3));
        await ds.put("/a", bytes());
        assert.deepEqual(await ds.get("/a"), bytes());
        await ds.delete("/a");
        assert.equal(await ds.get("/a"), undefined);
        await ds.delete("/a"); // absent: no error
      }),
    );

    it(
      "lists by path prefix, in key order, with a limit",
      { skip },
      withStore(async (ds) => {
        for (const k of ["/a/c", "/a/b", "/a/b/x", "/ab", "/a", "/b/a", "/a/B"]) {
          await ds.put(k, bytes(k.length));
        }
        assert.deepEqual(await keysOf(ds, "/a"), ["/a/B", "/a/b", "/a/b/x", "/a/c"]);
        assert.deepEqual(await keysOf(ds, "/a/b"), ["/a/b/x"]);
        assert.deepEqual(await keysOf(ds, "/a", 2), ["/a/B", "/a/b"]);
        assert.deepEqual(await keysOf(ds, "/z"), []);
        assert.deepEqual(await keysOf(ds, "/"), [
          "/a",
          "/a/B",
          "/a/b",
          "/a/b/x",
          "/a/c",
          "/ab",
          "/b/a",
        ]);
        for await (const e of ds.list("/b")) assert.deepEqual(e.value, bytes(4));
      }),
    );

    it(
      "lists more entries than one page",
      { skip },
      withStore(async (ds) => {
        for (let start = 0; start < 600; start += 100) {
          const batch = ds.batch();
          for (let i = start; i < start + 100; i++) {
            batch.put(`/many/${String(i).padStart(4, "0")}`, bytes(i & 0xff));
          }
          await batch.commit();
        }
        const keys = await keysOf(ds, "/many");
        assert.equal(keys.length, 600);
        assert.equal(keys[0], "/many/0000");
        assert.equal(keys[599], "/many/0599");
        assert.equal(new Set(keys).size, 600);
      }),
    );

    it(
      "batches apply puts and deletes together; the last op per key wins",
      {
        skip,
      },
      withStore(async (ds) => {
        await ds.put("/x/1", bytes(1));
        const batch = ds.batch();
        batch.put("/x/2", bytes(2));
        batch.delete("/x/1");
        batch.put("/x/3", bytes(3));
        batch.delete("/x/3");
        batch.put("/x/2", bytes(22));
        assert.deepEqual(await keysOf(ds, "/x"), ["/x/1"]); // nothing before commit
        await batch.commit();
        assert.deepEqual(await keysOf(ds, "/x"), ["/x/2"]);
        assert.deepEqual(await ds.get("/x/2"), bytes(22));
        await assert.rejects(batch.commit(), TypeError);
        assert.throws(() => batch.put("/x/4", bytes()), TypeError);
      }),
    );

    it(
      "a batch is bounded",
      { skip },
      withStore((ds) => {
        const batch = ds.batch();
        for (let i = 0; i < MAX_DATASTORE_BATCH_OPS; i++) batch.delete(`/k/${i}`);
        batch.delete("/k/0"); // same key: replaces, does not count
        assert.throws(() => batch.delete("/k/extra"), RangeError);
        const big = ds.batch();
        const half = MAX_DATASTORE_BATCH_BYTES / 2 - 16;
        big.put("/b/1", new Uint8Array(half));
        big.put("/b/2", new Uint8Array(half));
        assert.throws(() => big.put("/b/3", new Uint8Array(64)), RangeError);
        return Promise.resolve();
      }),
    );

    it(
      "values up to the cap, split or not, round trip",
      { skip },
      withStore(async (ds) => {
        for (const size of [65_535, 65_536, 65_537, 150_000, MAX_DATASTORE_VALUE_BYTES]) {
          const v = new Uint8Array(size);
          for (let i = 0; i < size; i++) v[i] = (i * 31 + size) & 0xff;
          await ds.put(`/big/${size}`, v);
          assert.deepEqual(await ds.get(`/big/${size}`), v);
        }
        // A big value replaced by a small one leaves no parts behind, and the other way round.
        await ds.put("/big/65537", bytes(7));
        assert.deepEqual(await ds.get("/big/65537"), bytes(7));
        const listed = new Map<string, number>();
        for await (const e of ds.list("/big")) listed.set(e.key, e.value.byteLength);
        assert.equal(listed.get("/big/150000"), 150_000);
        assert.equal(listed.get("/big/65537"), 1);
        await assert.rejects(
          () => ds.put("/big/over", new Uint8Array(MAX_DATASTORE_VALUE_BYTES + 1)),
          RangeError,
        );
      }),
    );

    it(
      "rejects bad keys before writing",
      { skip },
      withStore(async (ds) => {
        for (const k of ["", "a", "/", "/a/", "//a", "/a b", "/a\u0000", "/\u00e9"]) {
          await assert.rejects(() => ds.put(k, bytes(1)), TypeError, JSON.stringify(k));
        }
        await assert.rejects(
          () => ds.put(`/${"k".repeat(MAX_DATASTORE_KEY_LENGTH)}`, bytes(1)),
          RangeError,
        );
        await ds.put(`/${"k".repeat(MAX_DATASTORE_KEY_LENGTH - 1)}`, bytes(1));
        assert.deepEqual(await keysOf(ds, "/"), [`/${"k".repeat(MAX_DATASTORE_KEY_LENGTH - 1)}`]);
      }),
    );

    it(
      "honours an aborted signal",
      { skip },
      withStore(async (ds) => {
        const signal = AbortSignal.abort();
        await assert.rejects(() => ds.put("/a", bytes(1), { signal }));
        assert.equal(await ds.get("/a"), undefined);
      }),
    );

    if (harness.reopen !== undefined) {
      const reopen = harness.reopen;
      it("what was written is there after reopening", { skip }, async () => {
        let ds = await harness.open();
        try {
          await ds.put("/keep/a", bytes(1));
          await ds.put("/keep/big", new Uint8Array(100_000).fill(5));
          const batch = ds.batch();
          batch.put("/keep/b", bytes(2));
          batch.delete("/keep/a");
          await batch.commit();
          ds = await reopen(ds);
          assert.deepEqual(await keysOf(ds, "/keep"), ["/keep/b", "/keep/big"]);
          assert.deepEqual(await ds.get("/keep/big"), new Uint8Array(100_000).fill(5));
        } finally {
          await ds.close();
        }
      });
    }
  });
}
