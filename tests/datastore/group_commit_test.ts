/**
 * Group commit: writes issued while a commit is in flight share the next one (fewer commits
 * than writes), each resolves once committed, a failing write does not fail its neighbours, and
 * the queue is bounded.
 */

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { MemoryDatastore } from "../../src/datastore/memory.ts";
import { GroupCommit, MAX_GROUP_COMMIT_QUEUE } from "../../src/datastore/group_commit.ts";
import type { DatastoreOp } from "../../src/datastore/types.ts";

const put = (key: string, v = 1): DatastoreOp => ({ type: "put", key, value: new Uint8Array([v]) });

describe("GroupCommit", () => {
  it("gathers concurrent writes into few commits; all are there when they resolve", async () => {
    const ds = new MemoryDatastore();
    let commits = 0;
    const group = new GroupCommit(() => {
      const b = ds.batch();
      const commit = b.commit.bind(b);
      b.commit = async (o) => {
        commits++;
        await new Promise((r) => setTimeout(r, 1)); // a slow disk
        await commit(o);
      };
      return b;
    });
    await Promise.all(Array.from({ length: 300 }, (_, i) => group.write([put(`/k/${i}`)])));
    let n = 0;
    for await (const _ of ds.list("/k")) n++;
    assert.equal(n, 300);
    assert.ok(commits <= 4, `${commits} commits for 300 writes`); // 1, then batches of 128
    assert.equal(group.pending, 0);
  });

  it("a write the store refuses fails alone", async () => {
    const ds = new MemoryDatastore();
    const group = new GroupCommit(() => {
      const b = ds.batch();
      const commit = b.commit.bind(b);
      let bad = false;
      const p = b.put.bind(b);
      b.put = (k, v) => {
        if (k === "/bad") bad = true;
        p(k, v);
      };
      b.commit = (o) => bad ? Promise.reject(new Error("refused")) : commit(o);
      return b;
    });
    const first = group.write([put("/first")]); // commits alone; the rest queue behind it
    const results = await Promise.allSettled([
      group.write([put("/a")]),
      group.write([put("/bad")]),
      group.write([put("/b")]),
    ]);
    await first;
    assert.deepEqual(results.map((r) => r.status), ["fulfilled", "rejected", "fulfilled"]);
    assert.deepEqual(await ds.get("/a"), new Uint8Array([1]));
    assert.deepEqual(await ds.get("/b"), new Uint8Array([1]));
    assert.equal(await ds.get("/bad"), undefined);
  });

  it("refuses writes beyond its queue bound", async () => {
    const ds = new MemoryDatastore();
    let release!: () => void;
    const gate = new Promise<void>((r) => release = r);
    const group = new GroupCommit(() => {
      const b = ds.batch();
      const commit = b.commit.bind(b);
      b.commit = async (o) => {
        await gate;
        await commit(o);
      };
      return b;
    });
    const writes: Promise<void>[] = [];
    // The first write is taken into a commit at once (stalled on the gate); the rest queue.
    for (let i = 0; i <= MAX_GROUP_COMMIT_QUEUE; i++) writes.push(group.write([put(`/q/${i}`)]));
    try {
      assert.equal(group.pending, MAX_GROUP_COMMIT_QUEUE);
      await assert.rejects(group.write([put("/q/over")]), RangeError);
    } finally {
      release();
    }
    await Promise.all(writes);
  });
});
