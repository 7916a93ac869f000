/**
 * The in-memory datastore: the default for library users, and the reference the persistent
 * stores are tested against.
 *
 * @module
 */

import type { AbortOptions } from "../stream/types.ts";
import { DatastoreError } from "./errors.ts";
import { checkKey, checkValue, CollectingBatch, prefixRange } from "./keys.ts";
import type {
  Datastore,
  DatastoreBatch,
  DatastoreEntry,
  DatastoreListOptions,
  DatastoreOp,
} from "./types.ts";

/**
 * A {@link Datastore} in a Map: nothing survives the process. Batches apply synchronously, so
 * they are atomic.
 *
 * @example
 * ```ts
 * import { MemoryDatastore } from "@p2p-edge/libp2p";
 * const ds = new MemoryDatastore();
 * await ds.put("/a/b", new Uint8Array([1]));
 * for await (const { key } of ds.list("/a")) console.log(key); // "/a/b"
 * ```
 */
export class MemoryDatastore implements Datastore {
  /** "memory". */
  readonly kind = "memory";
  readonly #data = new Map<string, Uint8Array>();
  #closed = false;

  /** Entries stored. */
  get size(): number {
    return this.#data.size;
  }

  /** The value under `key`. */
  // deno-lint-ignore require-await
  async get(key: string, options?: AbortOptions): Promise<Uint8Array | undefined> {
    checkKey(key);
    this.#check(options);
    return this.#data.get(key)?.slice();
  }

  /** Store a value. */
  // deno-lint-ignore require-await
  async put(key: string, value: Uint8Array, options?: AbortOptions): Promise<void> {
    checkKey(key);
    checkValue(value);
    this.#check(options);
    this.#data.set(key, value.slice());
  }

  /** Remove a key. */
  // deno-lint-ignore require-await
  async delete(key: string, options?: AbortOptions): Promise<void> {
    checkKey(key);
    this.#check(options);
    this.#data.delete(key);
  }

  /** Entries under `prefix`, in key order. */
  async *list(prefix: string, options: DatastoreListOptions = {}): AsyncIterable<DatastoreEntry> {
    const { start, end } = prefixRange(prefix);
    this.#check(options);
    const keys = [...this.#data.keys()].filter((k) => k >= start && k < end).sort();
    let n = 0;
    for (const key of keys) {
      if (options.limit !== undefined && n >= options.limit) return;
      options.signal?.throwIfAborted();
      const value = this.#data.get(key);
      if (value === undefined) continue;
      n++;
      yield { key, value: value.slice() };
    }
  }

  /** A new batch. */
  batch(): DatastoreBatch {
    // deno-lint-ignore require-await
    return new CollectingBatch(async (ops: DatastoreOp[], options?: AbortOptions) => {
      this.#check(options);
      for (const op of ops) {
        if (op.type === "put") this.#data.set(op.key, op.value);
        else this.#data.delete(op.key);
      }
    });
  }

  /** Forget everything. */
  close(): Promise<void> {
    this.#closed = true;
    this.#data.clear();
    return Promise.resolve();
  }

  #check(options?: AbortOptions): void {
    if (this.#closed) throw new DatastoreError("datastore is closed");
    options?.signal?.throwIfAborted();
  }
}
