/**
 * The datastore conformance suite on Deno KV (stores/deno_kv.ts), plus its hardening: corrupt
 * and foreign files. Runs under deno; under bun every test is skipped with the reason.
 */

import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DatastoreError } from "../../src/datastore/errors.ts";
import type { Datastore } from "../../src/datastore/types.ts";
import { runDatastoreSuite } from "../conformance/datastore_suite.ts";

const IS_DENO = "Deno" in globalThis;
const SKIP = IS_DENO ? undefined : "Deno KV exists only on Deno (bun_sqlite_test.ts covers Bun)";

const dir = await mkdtemp(join(tmpdir(), "p2p-denokv-"));
after(() => rm(dir, { recursive: true, force: true }));
let n = 0;
const paths = new WeakMap<Datastore, string>();

async function open(path: string): Promise<Datastore> {
  const { openDenoKvDatastore } = await import("../../stores/deno_kv.ts");
  const ds = await openDenoKvDatastore(path);
  paths.set(ds, path);
  return ds;
}

runDatastoreSuite("deno-kv", {
  open: () => open(join(dir, `suite-${n++}`, "state.denokv")),
  reopen: async (ds) => {
    await ds.close();
    return open(paths.get(ds)!);
  },
}, { skip: SKIP });

describe("Deno KV datastore: files it must refuse", () => {
  it("a file that is not a database: a DatastoreError naming it", { skip: SKIP }, async () => {
    const path = join(dir, "garbage.denokv");
    await writeFile(path, "this is not a database\n".repeat(200));
    await assert.rejects(open(path), (err: unknown) => {
      assert.ok(err instanceof DatastoreError);
      assert.equal(err.path, path);
      assert.match(err.message, /is not a Deno KV database/);
      return true;
    });
  });

  it("another program's Deno KV file: refused, left unchanged", { skip: SKIP }, async () => {
    const path = join(dir, "foreign.denokv");
    const kv = await (globalThis as unknown as {
      Deno: {
        openKv(
          p: string,
        ): Promise<{ set(k: unknown[], v: unknown): Promise<unknown>; close(): void }>;
      };
    }).Deno.openKv(path);
    await kv.set(["users", 1], "alice");
    kv.close();
    await assert.rejects(open(path), /another program/);
  });
});
