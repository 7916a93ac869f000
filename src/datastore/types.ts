/**
 * The datastore interface: a small ordered key-value store for a node's state (identity, recent
 * peers, DHT records, settings). Keys are paths of `/`-separated segments (`/dht/values/<k>`);
 * values are bytes. `list(prefix)` returns the keys under a path, in key order. A
 * {@link DatastoreBatch} applies puts and deletes atomically: after a crash (SIGKILL, power
 * loss) either all of a committed batch is there or none of it.
 *
 * Implementations: `MemoryDatastore` here (the default for library users), and the persistent
 * ones chosen by runtime in `stores/` (Deno KV, `bun:sqlite`).
 *
 * @module
 */

import type { AbortOptions } from "../stream/types.ts";

/**
 * Longest key, in UTF-16 code units, so that every implementation can hold it (Deno KV keys are
 * at most 2048 bytes, and a key is stored with a few bytes of framing). A DHT key of 1024 bytes
 * in base64url (1366 characters) under its prefix fits.
 */
export const MAX_DATASTORE_KEY_LENGTH = 1536;

/**
 * Largest value, bytes. Stores that cap values lower (Deno KV: 64 KiB) split larger ones into
 * parts written in one atomic operation.
 */
export const MAX_DATASTORE_VALUE_BYTES = 256 * 1024;

/**
 * Most operations in one batch (Deno KV refuses atomic operations above 1000 mutations, and a
 * put there takes up to 6: the value and its parts).
 */
export const MAX_DATASTORE_BATCH_OPS = 128;

/**
 * Most bytes of keys and values in one batch (Deno KV refuses atomic operations above 800 KiB
 * of mutations).
 */
export const MAX_DATASTORE_BATCH_BYTES = 512 * 1024;

/** One key and its value, as `list` yields them. */
export interface DatastoreEntry {
  /** The key, a `/`-separated path. */
  readonly key: string;
  /** The value (a copy the caller owns). */
  readonly value: Uint8Array;
}

/** Options of {@link Datastore.list}. */
export interface DatastoreListOptions extends AbortOptions {
  /** Stop after this many entries. Default: all. */
  limit?: number;
}

/** One operation of a batch. */
export type DatastoreOp =
  | { readonly type: "put"; readonly key: string; readonly value: Uint8Array }
  | { readonly type: "delete"; readonly key: string };

/**
 * Puts and deletes applied together by {@link DatastoreBatch.commit}: all of them, or (on an
 * error or a crash) none. Later operations on the same key win.
 */
export interface DatastoreBatch {
  /** Queue a put. Throws TypeError/RangeError for a bad key or value, RangeError when full. */
  put(key: string, value: Uint8Array): void;
  /** Queue a delete. */
  delete(key: string): void;
  /** Apply the queued operations atomically. A batch commits once. */
  commit(options?: AbortOptions): Promise<void>;
}

/**
 * A node's state store. Every method may reject with a `DatastoreError` when the storage
 * fails; a bad key or value throws TypeError/RangeError before anything is written.
 */
export interface Datastore {
  /** What backs it: "memory", "deno-kv", "bun-sqlite", ... */
  readonly kind: string;
  /** The value under `key`, or undefined. */
  get(key: string, options?: AbortOptions): Promise<Uint8Array | undefined>;
  /** Store `value` under `key` (replacing any value). Durable once the promise resolves. */
  put(key: string, value: Uint8Array, options?: AbortOptions): Promise<void>;
  /** Remove `key` (no error when absent). */
  delete(key: string, options?: AbortOptions): Promise<void>;
  /**
   * The entries whose key lies under the path `prefix` (`/a` lists `/a/b` and `/a/b/c`, not
   * `/ab` nor `/a` itself), in key order (code unit order). `"/"` lists everything.
   */
  list(prefix: string, options?: DatastoreListOptions): AsyncIterable<DatastoreEntry>;
  /** A new empty batch. */
  batch(): DatastoreBatch;
  /** Release the storage. Further calls reject. */
  close(): Promise<void>;
}
