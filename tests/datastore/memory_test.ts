/** The datastore conformance suite on MemoryDatastore (both runtimes). */

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { MemoryDatastore } from "../../src/datastore/memory.ts";
import { DatastoreError } from "../../src/datastore/errors.ts";
import { runDatastoreSuite } from "../conformance/datastore_suite.ts";

runDatastoreSuite("memory", { open: () => Promise.resolve(new MemoryDatastore()) });

describe("MemoryDatastore", () => {
  it("rejects every call once closed", async () => {
    const ds = new MemoryDatastore();
    await ds.put("/a", new Uint8Array([1]));
    await ds.close();
    await assert.rejects(async () => await ds.get("/a"), DatastoreError);
  });
});
