/**
 * The writer process of kill_test.ts: opens the persistent datastore of its runtime in the
 * folder given (argv), then commits batches as fast as it can, forever, printing `ok <n>` once
 * batch n is committed. Batch n sets `/w/seq` to n, writes item n (a payload of a size and
 * content derived from n, some large enough to be split into parts by Deno KV) and deletes
 * item n - KEEP. The test SIGKILLs it at a random moment and checks the store.
 */

import process from "node:process";
import { openDatastore } from "../../stores/mod.ts";
import { itemKey, KEEP, payload, readSeq } from "./kill_shared.ts";

const dir = process.argv[process.argv.length - 1];
const { datastore } = await openDatastore(dir);
let n = (await readSeq(datastore)) + 1;
console.log(`start ${n}`);
while (true) {
  const batch = datastore.batch();
  batch.put("/w/seq", new TextEncoder().encode(String(n)));
  batch.put(itemKey(n), payload(n));
  if (n - KEEP >= 1) batch.delete(itemKey(n - KEEP));
  await batch.commit();
  console.log(`ok ${n}`);
  n++;
}
