/** What kill_writer.ts writes and kill_test.ts checks. */

import type { Datastore } from "../../src/datastore/types.ts";

/** Items kept: batch n deletes item n - KEEP. */
export const KEEP = 20;

/** The key of item n. */
export function itemKey(n: number): string {
  return `/w/items/${String(n).padStart(10, "0")}`;
}

/** Item n's content: 100 bytes to ~120 KB (every 7th is large), each byte derived from n. */
export function payload(n: number): Uint8Array {
  const size = n % 7 === 0 ? 70_000 + (n * 7919) % 50_000 : 100 + (n * 131) % 4000;
  const out = new Uint8Array(size);
  for (let i = 0; i < size; i++) out[i] = (n * 17 + i * 31) & 0xff;
  return out;
}

/** The last committed batch number (0 for none). */
export async function readSeq(ds: Datastore): Promise<number> {
  const raw = await ds.get("/w/seq");
  return raw === undefined ? 0 : Number(new TextDecoder().decode(raw));
}
