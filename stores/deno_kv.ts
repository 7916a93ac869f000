/**
 * The datastore on Deno KV (`Deno.openKv(path)`, SQLite underneath): the runtime adapter
 * `stores/mod.ts` loads on Deno (ARCHITECTURE.md, "Layers": `Deno.*` only in adapters).
 *
 * Layout, all under two KV key namespaces:
 * - `["d", key]`: the value itself when it fits {@link KV_PART_BYTES}, else `{ parts: n }`;
 * - `["c", key, i]`: part i of a split value (Deno KV caps a value at 64 KiB).
 * A put writes the head and its parts and deletes the parts a longer earlier value may have
 * left, in one atomic operation; a read takes the head and every possible part in one
 * `getMany` snapshot. Either way a reader sees a whole value or none, after a crash too.
 *
 * Deno KV needs `--unstable-kv` (or `"unstable": ["kv"]` in deno.json).
 *
 * @module
 */

import type { AbortOptions } from "../src/stream/types.ts";
import { concat } from "../src/bytes.ts";
import { DatastoreError } from "../src/datastore/errors.ts";
import { checkKey, checkValue, CollectingBatch, prefixRange } from "../src/datastore/keys.ts";
import type {
  Datastore,
  DatastoreBatch,
  DatastoreEntry,
  DatastoreListOptions,
  DatastoreOp,
} from "../src/datastore/types.ts";
import { MAX_DATASTORE_VALUE_BYTES } from "../src/datastore/types.ts";

/** Bytes per part of a split value (below Deno KV's 65,536-byte value cap). */
export const KV_PART_BYTES = 60 * 1024;

/** Most parts a value has. */
const MAX_PARTS = Math.ceil(MAX_DATASTORE_VALUE_BYTES / KV_PART_BYTES);

/** Entries read per `list` page. */
const LIST_PAGE = 256;

type Head = Uint8Array | { parts: number };

function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function isHead(v: unknown): v is Head {
  if (v instanceof Uint8Array) return true;
  if (typeof v !== "object" || v === null) return false;
  const parts = (v as { parts?: unknown }).parts;
  return typeof parts === "number" && Number.isInteger(parts) && parts >= 1 && parts <= MAX_PARTS;
}

class DenoKvDatastore implements Datastore {
  readonly kind = "deno-kv";
  readonly path: string;
  readonly #kv: Deno.Kv;
  #closed = false;

  constructor(kv: Deno.Kv, path: string) {
    this.#kv = kv;
    this.path = path;
  }

  async get(key: string, options?: AbortOptions): Promise<Uint8Array | undefined> {
    checkKey(key);
    this.#check(options);
    return await this.#read(key);
  }

  async put(key: string, value: Uint8Array, options?: AbortOptions): Promise<void> {
    checkKey(key);
    checkValue(value);
    this.#check(options);
    await this.#commit([{ type: "put", key, value }]);
  }

  async delete(key: string, options?: AbortOptions): Promise<void> {
    checkKey(key);
    this.#check(options);
    await this.#commit([{ type: "delete", key }]);
  }

  async *list(prefix: string, options: DatastoreListOptions = {}): AsyncIterable<DatastoreEntry> {
    const { start, end } = prefixRange(prefix);
    this.#check(options);
    let n = 0;
    let from = start;
    let first = true;
    while (true) {
      const page: { key: string; head: Head }[] = [];
      try {
        const iter = this.#kv.list<unknown>({ start: ["d", from], end: ["d", end] }, {
          limit: LIST_PAGE + 1,
        });
        for await (const e of iter) {
          const key = e.key[1];
          if (typeof key !== "string") continue;
          if (!first && key === from) continue; // the last key of the previous page
          if (!isHead(e.value)) throw this.#corrupt(key);
          page.push({ key, head: e.value });
          if (page.length >= LIST_PAGE) break;
        }
      } catch (err) {
        throw this.#wrap(err, "list");
      }
      for (const { key, head } of page) {
        if (options.limit !== undefined && n >= options.limit) return;
        options.signal?.throwIfAborted();
        const value = head instanceof Uint8Array ? head.slice() : await this.#read(key);
        if (value === undefined) continue; // deleted meanwhile
        n++;
        yield { key, value };
      }
      if (page.length < LIST_PAGE) return;
      from = page[page.length - 1].key;
      first = false;
    }
  }

  batch(): DatastoreBatch {
    return new CollectingBatch(async (ops, options) => {
      this.#check(options);
      await this.#commit(ops);
    });
  }

  close(): Promise<void> {
    if (!this.#closed) {
      this.#closed = true;
      this.#kv.close();
    }
    return Promise.resolve();
  }

  async #read(key: string): Promise<Uint8Array | undefined> {
    const keys: Deno.KvKey[] = [["d", key]];
    for (let i = 0; i < MAX_PARTS; i++) keys.push(["c", key, i]);
    let entries: Deno.KvEntryMaybe<unknown>[];
    try {
      entries = await this.#kv.getMany<unknown[]>(keys);
    } catch (err) {
      throw this.#wrap(err, "read");
    }
    const head = entries[0].value;
    if (head === null) return undefined;
    if (!isHead(head)) throw this.#corrupt(key);
    if (head instanceof Uint8Array) return head;
    const parts: Uint8Array[] = [];
    for (let i = 0; i < head.parts; i++) {
      const part = entries[1 + i].value;
      if (!(part instanceof Uint8Array)) throw this.#corrupt(key);
      parts.push(part);
    }
    return concat(parts);
  }

  async #commit(ops: readonly DatastoreOp[]): Promise<void> {
    const atomic = this.#kv.atomic();
    for (const op of ops) {
      let parts = 0;
      if (op.type === "put") {
        if (op.value.byteLength <= KV_PART_BYTES) {
          atomic.set(["d", op.key], op.value);
        } else {
          parts = Math.ceil(op.value.byteLength / KV_PART_BYTES);
          atomic.set(["d", op.key], { parts });
          for (let i = 0; i < parts; i++) {
            atomic.set(
              ["c", op.key, i],
              op.value.subarray(i * KV_PART_BYTES, (i + 1) * KV_PART_BYTES),
            );
          }
        }
      } else {
        atomic.delete(["d", op.key]);
      }
      for (let i = parts; i < MAX_PARTS; i++) atomic.delete(["c", op.key, i]);
    }
    let result: Deno.KvCommitResult | Deno.KvCommitError;
    try {
      result = await atomic.commit();
    } catch (err) {
      throw this.#wrap(err, "write");
    }
    if (!result.ok) throw new DatastoreError(`write to ${this.path} failed`, { path: this.path });
  }

  #check(options?: AbortOptions): void {
    if (this.#closed) throw new DatastoreError(`datastore ${this.path} is closed`);
    options?.signal?.throwIfAborted();
  }

  #corrupt(key: string): DatastoreError {
    return new DatastoreError(`${this.path}: entry ${key} is not in this store's format`, {
      path: this.path,
    });
  }

  #wrap(err: unknown, what: string): DatastoreError {
    if (err instanceof DatastoreError) return err;
    return new DatastoreError(`${what} of ${this.path} failed: ${describe(err)}`, {
      path: this.path,
      cause: err,
    });
  }
}

/** Whether the KV file holds keys outside this store's two namespaces ("c" and "d"). */
async function foreignKeys(kv: Deno.Kv): Promise<boolean> {
  const ours = (k: Deno.KvKey): boolean => k[0] === "c" || k[0] === "d";
  for await (const e of kv.list({ prefix: [] }, { limit: 1 })) if (!ours(e.key)) return true;
  for await (const e of kv.list({ prefix: [] }, { limit: 1, reverse: true })) {
    if (!ours(e.key)) return true;
  }
  // A string part between "c" and "d" (say "cat") sorts between our two namespaces.
  for await (const _ of kv.list({ start: ["c\u0000"], end: ["d"] }, { limit: 1 })) return true;
  return false;
}

/**
 * Open (creating it and its folder when missing) the Deno KV datastore at `path`. Rejects with
 * a DatastoreError naming the file when it is not a database (corrupt, or another program's
 * file), holds keys of another program, or Deno KV is not enabled.
 *
 * @example
 * ```ts ignore
 * import { openDenoKvDatastore } from "./deno_kv.ts";
 * const ds = await openDenoKvDatastore("/var/lib/edge/state.denokv");
 * await ds.put("/a", new Uint8Array([1]));
 * await ds.close();
 * ```
 */
export async function openDenoKvDatastore(path: string): Promise<Datastore> {
  if (typeof Deno.openKv !== "function") {
    throw new DatastoreError(
      'Deno KV is not enabled: run with --unstable-kv (or "unstable": ["kv"] in deno.json)',
      { path },
    );
  }
  const slash = path.lastIndexOf("/");
  if (slash > 0) {
    try {
      await Deno.mkdir(path.slice(0, slash), { recursive: true });
    } catch (err) {
      throw new DatastoreError(`cannot create data folder for ${path}: ${describe(err)}`, {
        path,
        cause: err,
      });
    }
  }
  let kv: Deno.Kv;
  try {
    kv = await Deno.openKv(path);
  } catch (err) {
    const notDb = /not a database|malformed|corrupt/i.test(describe(err));
    throw new DatastoreError(
      notDb
        ? `${path} is not a Deno KV database (corrupt, or another program's file): move it ` +
          `away and the node starts with empty state`
        : `cannot open Deno KV store ${path}: ${describe(err)}`,
      { path, cause: err },
    );
  }
  try {
    if (await foreignKeys(kv)) {
      throw new DatastoreError(
        `${path} is a Deno KV database of another program (keys outside this node's layout): ` +
          `move it away or point --data-dir elsewhere`,
        { path },
      );
    }
  } catch (err) {
    kv.close();
    if (err instanceof DatastoreError) throw err;
    throw new DatastoreError(`cannot read Deno KV store ${path}: ${describe(err)}`, {
      path,
      cause: err,
    });
  }
  return new DenoKvDatastore(kv, path);
}
