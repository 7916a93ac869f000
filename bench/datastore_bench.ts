/**
 * The persistent datastore of the runtime (Deno KV under deno, bun:sqlite under bun) against
 * MemoryDatastore in the same run: single puts, batches of 20 puts (the DHT and recent-peer
 * write shapes), gets, DHT provider adds with 64 in flight (group commit), a list of 10,000
 * entries, and the open of a store holding them (what a restart pays). Not a test; prints one
 * table.
 *
 *   deno run -A bench/datastore_bench.ts        npx -y bun@1.4.5 bench/datastore_bench.ts
 *
 * @module
 */

import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { MemoryDatastore } from "../src/datastore/memory.ts";
import type { Datastore } from "../src/datastore/types.ts";
import { openDatastore } from "../stores/mod.ts";
import { DatastoreProviderStore } from "../protocols/kad-dht/datastore_stores.ts";

const N = 5_000;
const value = (i: number): Uint8Array => new Uint8Array(200).fill(i & 0xff);
const key = (i: number): string => `/bench/${String(i).padStart(6, "0")}`;

async function time(fn: () => Promise<void>): Promise<number> {
  const t = performance.now();
  await fn();
  return performance.now() - t;
}

async function run(ds: Datastore): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  out["put/s"] = N / (await time(async () => {
    for (let i = 0; i < N; i++) await ds.put(key(i), value(i));
  }) / 1000);
  out["batch(20)/s"] = (N / 20) / (await time(async () => {
    for (let i = 0; i < N; i += 20) {
      const b = ds.batch();
      for (let j = i; j < i + 20; j++) b.put(key(N + j), value(j));
      await b.commit();
    }
  }) / 1000);
  out["get/s"] = N / (await time(async () => {
    for (let i = 0; i < N; i++) await ds.get(key(i));
  }) / 1000);
  // ADD_PROVIDER as a DHT server sees it: 64 in flight at once, through the group commit.
  const providers = await DatastoreProviderStore.open(ds);
  const addr = new Uint8Array([4, 127, 0, 0, 1, 6, 0x0f, 0xa1]);
  out["provider add/s (64 in flight)"] = N / (await time(async () => {
    for (let i = 0; i < N; i += 64) {
      const adds: Promise<unknown>[] = [];
      for (let j = i; j < Math.min(N, i + 64); j++) {
        const k = new Uint8Array([0x12, 0x20, j >> 8, j & 0xff]);
        adds.push(
          providers.add(
            k,
            { peerId: new Uint8Array([0, 4, 1, 2, j & 0xff]), addrs: [addr] },
            Date.now(),
          ),
        );
      }
      await Promise.all(adds);
    }
  }) / 1000);
  out["list 10k ms"] = await time(async () => {
    let n = 0;
    for await (const _ of ds.list("/bench")) n++;
    if (n !== 2 * N) throw new Error(`listed ${n}`);
  });
  return out;
}

const dir = await mkdtemp(join(tmpdir(), "p2p-ds-bench-"));
try {
  const memory = await run(new MemoryDatastore());
  const opened = await openDatastore(dir);
  const disk = await run(opened.datastore);
  await opened.datastore.close();
  const reopen = await time(async () => {
    const again = await openDatastore(dir);
    await again.datastore.close();
  });
  const name = opened.datastore.kind;
  console.log(`| measure | memory | ${name} | ${name}/memory |`);
  console.log("| --- | --- | --- | --- |");
  for (const k of Object.keys(memory)) {
    console.log(
      `| ${k} | ${memory[k].toFixed(0)} | ${disk[k].toFixed(0)} | ${
        (disk[k] / memory[k]).toFixed(3)
      } |`,
    );
  }
  console.log(`| open (10k entries) ms | - | ${reopen.toFixed(1)} | - |`);
} finally {
  await rm(dir, { recursive: true, force: true });
}
