/**
 * SIGKILL during writes never corrupts the store (issue 21, must-show): a writer process
 * (kill_writer.ts, on the runtime running this test: Deno KV under deno, bun:sqlite under bun)
 * commits batches in a loop and is killed at a random moment, three times over the same store.
 * After each kill the store opens, its schema marker is intact, every batch the writer saw
 * committed is there (and at most one more), and the items are exactly those of the last
 * KEEP batches, each whole.
 */

import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { readSchema } from "../../src/datastore/schema.ts";
import { DATASTORE_SCHEMA_VERSION } from "../../src/datastore/schema.ts";
import { openDatastore } from "../../stores/mod.ts";
import { itemKey, KEEP, payload, readSeq } from "./kill_shared.ts";

const ROOT = new URL("../../", import.meta.url).pathname;
const WRITER = new URL("./kill_writer.ts", import.meta.url).pathname;
const IS_DENO = "Deno" in globalThis;

const dir = await mkdtemp(join(tmpdir(), "p2p-kill-"));
after(() => rm(dir, { recursive: true, force: true }));

/** Run the writer until it acknowledged `acks` batches, wait `extraMs`, SIGKILL it. */
function runAndKill(acks: number, extraMs: number): Promise<{ lastAck: number; start: number }> {
  const args = IS_DENO ? ["run", "-A", WRITER, dir] : [WRITER, dir];
  const child = spawn(process.execPath, args, { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] });
  let lastAck = 0;
  let start = -1;
  let seen = 0;
  let buf = "";
  let stderr = "";
  child.stderr!.on("data", (d: Uint8Array) => stderr += new TextDecoder().decode(d));
  return new Promise((resolve, reject) => {
    let killing = false;
    child.stdout!.on("data", (d: Uint8Array) => {
      buf += new TextDecoder().decode(d);
      let i: number;
      while ((i = buf.indexOf("\n")) >= 0) {
        const line = buf.slice(0, i);
        buf = buf.slice(i + 1);
        const m = /^(ok|start) (\d+)$/.exec(line);
        if (m === null) continue;
        if (m[1] === "start") start = Number(m[2]);
        else {
          lastAck = Number(m[2]);
          seen++;
        }
      }
      if (!killing && seen >= acks) {
        killing = true;
        setTimeout(() => child.kill("SIGKILL"), extraMs);
      }
    });
    child.on("close", (code, signal) => {
      if (signal !== "SIGKILL") {
        reject(new Error(`writer ended by itself (${code}): ${stderr}`));
      } else resolve({ lastAck, start });
    });
  });
}

describe(`datastore survives SIGKILL during writes (${IS_DENO ? "Deno KV" : "bun:sqlite"})`, () => {
  it("three random kills: store opens, schema intact, acknowledged batches whole", async () => {
    let previous = 0;
    for (let round = 0; round < 3; round++) {
      const acks = 5 + Math.floor(Math.random() * 60);
      const extraMs = Math.floor(Math.random() * 25);
      const { lastAck, start } = await runAndKill(acks, extraMs);
      assert.equal(start, previous + 1, "the writer resumed after the last committed batch");
      const { datastore, schemaVersion } = await openDatastore(dir);
      try {
        assert.equal(schemaVersion, DATASTORE_SCHEMA_VERSION);
        assert.equal((await readSchema(datastore))?.version, DATASTORE_SCHEMA_VERSION);
        const seq = await readSeq(datastore);
        assert.ok(seq >= lastAck, `batch ${lastAck} was acknowledged, the store has ${seq}`);
        assert.ok(seq <= lastAck + 1, `at most one batch in flight (${seq} vs ${lastAck})`);
        const items: string[] = [];
        for await (const { key, value } of datastore.list("/w/items")) {
          items.push(key);
          const n = Number(key.slice("/w/items/".length));
          assert.deepEqual(value, payload(n), `item ${n} is whole`);
        }
        const expected: string[] = [];
        for (let n = Math.max(1, seq - KEEP + 1); n <= seq; n++) expected.push(itemKey(n));
        assert.deepEqual(items, expected);
        previous = seq;
      } finally {
        await datastore.close();
      }
    }
    assert.ok(previous > 0);
  });
});
