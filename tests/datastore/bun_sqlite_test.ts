/**
 * The datastore conformance suite on bun:sqlite (stores/bun_sqlite.ts), plus its hardening:
 * corrupt and foreign files. Runs under bun; under deno every test is skipped with the reason.
 */

import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DatastoreError } from "../../src/datastore/errors.ts";
import type { Datastore } from "../../src/datastore/types.ts";
import { runDatastoreSuite } from "../conformance/datastore_suite.ts";

const IS_BUN = "Bun" in globalThis;
const SKIP = IS_BUN ? undefined : "bun:sqlite exists only on Bun (deno_kv_test.ts covers Deno)";

const dir = await mkdtemp(join(tmpdir(), "p2p-sqlite-"));
after(() => rm(dir, { recursive: true, force: true }));
let n = 0;
const paths = new WeakMap<Datastore, string>();

async function open(path: string): Promise<Datastore> {
  const { openBunSqliteDatastore } = await import("../../stores/bun_sqlite.ts");
  const ds = await openBunSqliteDatastore(path);
  paths.set(ds, path);
  return ds;
}

runDatastoreSuite("bun-sqlite", {
  open: () => open(join(dir, `suite-${n++}`, "state.sqlite")),
  reopen: async (ds) => {
    await ds.close();
    return open(paths.get(ds)!);
  },
}, { skip: SKIP });

describe("bun:sqlite datastore: files it must refuse", () => {
  it("a file that is not a database: a DatastoreError naming it", { skip: SKIP }, async () => {
    const path = join(dir, "garbage.sqlite");
    await writeFile(path, "this is not a database\n".repeat(200));
    await assert.rejects(open(path), (err: unknown) => {
      assert.ok(err instanceof DatastoreError);
      assert.equal(err.path, path);
      assert.match(err.message, /not a SQLite database/);
      return true;
    });
  });

  it("another program's SQLite database: refused, left unchanged", { skip: SKIP }, async () => {
    const path = join(dir, "foreign.sqlite");
    const specifier = "bun:sqlite";
    const { Database } = await import(specifier);
    const db = new Database(path, { create: true });
    db.run("CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT)");
    db.close();
    const before = await readFile(path);
    await assert.rejects(open(path), /another program \(tables users\)/);
    assert.deepEqual(await readFile(path), before);
  });

  it("a database with damaged pages: refused with a clear error", { skip: SKIP }, async () => {
    const path = join(dir, "damaged.sqlite");
    const ds = await open(path);
    const batch = ds.batch();
    for (let i = 0; i < 100; i++) batch.put(`/x/${i}`, new Uint8Array(2000).fill(i));
    await batch.commit();
    await ds.close();
    // Checkpoint happened at close; overwrite a stretch in the middle of the file.
    const bytes = new Uint8Array(await readFile(path));
    bytes.fill(0xa5, 4096 + 100, Math.min(bytes.byteLength - 100, 4096 * 8));
    await writeFile(path, bytes);
    await rm(`${path}-wal`, { force: true });
    await assert.rejects(open(path), (err: unknown) => {
      assert.ok(err instanceof DatastoreError, String(err));
      assert.match(err.message, /integrity check|not a SQLite database|failed/);
      return true;
    });
  });
});
