/**
 * The datastore on `bun:sqlite`: the runtime adapter `stores/mod.ts` loads on Bun
 * (ARCHITECTURE.md, "Layers": `Bun.*` and Bun's modules only in adapters).
 *
 * One table `kv (key TEXT PRIMARY KEY, value BLOB) WITHOUT ROWID`, in WAL mode with
 * `synchronous = NORMAL`: a transaction is durable against a killed process (SIGKILL, crash)
 * once committed; a power loss may lose the last transactions, never the file's consistency.
 * Batches run in one `BEGIN IMMEDIATE` transaction. At open, `PRAGMA quick_check` and a look at
 * the tables refuse a corrupt file or another program's database with a clear error.
 *
 * `bun:sqlite` is loaded by a dynamic import of a computed specifier and typed by the local
 * interfaces below, so this file type-checks without Bun's type declarations.
 *
 * @module
 */

import { mkdir } from "node:fs/promises";
import type { AbortOptions } from "../src/stream/types.ts";
import { DatastoreError } from "../src/datastore/errors.ts";
import { checkKey, checkValue, CollectingBatch, prefixRange } from "../src/datastore/keys.ts";
import type {
  Datastore,
  DatastoreBatch,
  DatastoreEntry,
  DatastoreListOptions,
  DatastoreOp,
} from "../src/datastore/types.ts";

/** Entries read per `list` page. */
const LIST_PAGE = 256;

/** How long a writer waits for another connection's lock, ms. */
const BUSY_TIMEOUT_MS = 5_000;

/** The part of a bun:sqlite prepared statement used here. */
interface Statement {
  get(...params: unknown[]): unknown;
  all(...params: unknown[]): unknown[];
  run(...params: unknown[]): unknown;
}

/** The part of bun:sqlite's Database used here. */
interface Database {
  query(sql: string): Statement;
  run(sql: string): unknown;
  transaction(fn: () => void): { immediate(): void };
  close(throwOnError?: boolean): void;
}

interface BunSqliteModule {
  Database: new (path: string, options?: { create?: boolean; strict?: boolean }) => Database;
}

function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function asBytes(v: unknown): Uint8Array | undefined {
  if (v instanceof Uint8Array) return new Uint8Array(v); // a plain copy, not a Buffer view
  return undefined;
}

class BunSqliteDatastore implements Datastore {
  readonly kind = "bun-sqlite";
  readonly path: string;
  readonly #db: Database;
  readonly #get: Statement;
  readonly #put: Statement;
  readonly #delete: Statement;
  readonly #firstPage: Statement;
  readonly #nextPage: Statement;
  #closed = false;

  constructor(db: Database, path: string) {
    this.#db = db;
    this.path = path;
    this.#get = db.query("SELECT value FROM kv WHERE key = ?1");
    this.#put = db.query("INSERT OR REPLACE INTO kv (key, value) VALUES (?1, ?2)");
    this.#delete = db.query("DELETE FROM kv WHERE key = ?1");
    this.#firstPage = db.query(
      "SELECT key, value FROM kv WHERE key >= ?1 AND key < ?2 ORDER BY key LIMIT ?3",
    );
    this.#nextPage = db.query(
      "SELECT key, value FROM kv WHERE key > ?1 AND key < ?2 ORDER BY key LIMIT ?3",
    );
  }

  get(key: string, options?: AbortOptions): Promise<Uint8Array | undefined> {
    return this.#do("read", options, () => {
      checkKey(key);
      const row = this.#get.get(key) as { value?: unknown } | null;
      if (row === null || row === undefined) return undefined;
      const value = asBytes(row.value);
      if (value === undefined) throw this.#corrupt(key);
      return value;
    });
  }

  put(key: string, value: Uint8Array, options?: AbortOptions): Promise<void> {
    return this.#do("write", options, () => {
      checkKey(key);
      checkValue(value);
      this.#put.run(key, value);
    });
  }

  delete(key: string, options?: AbortOptions): Promise<void> {
    return this.#do("write", options, () => {
      checkKey(key);
      this.#delete.run(key);
    });
  }

  async *list(prefix: string, options: DatastoreListOptions = {}): AsyncIterable<DatastoreEntry> {
    const { start, end } = prefixRange(prefix);
    let n = 0;
    let after: string | undefined;
    while (true) {
      const rows = await this.#do(
        "list",
        options,
        () =>
          (after === undefined ? this.#firstPage.all(start, end, LIST_PAGE) : this.#nextPage.all(
            after,
            end,
            LIST_PAGE,
          )) as { key: unknown; value: unknown }[],
      );
      for (const row of rows) {
        if (options.limit !== undefined && n >= options.limit) return;
        options.signal?.throwIfAborted();
        const key = row.key;
        const value = asBytes(row.value);
        if (typeof key !== "string" || value === undefined) throw this.#corrupt(String(key));
        n++;
        yield { key, value };
      }
      if (rows.length < LIST_PAGE) return;
      after = rows[rows.length - 1].key as string;
    }
  }

  batch(): DatastoreBatch {
    return new CollectingBatch((ops: DatastoreOp[], options?: AbortOptions) =>
      this.#do("write", options, () => {
        this.#db.transaction(() => {
          for (const op of ops) {
            if (op.type === "put") this.#put.run(op.key, op.value);
            else this.#delete.run(op.key);
          }
        }).immediate();
      })
    );
  }

  close(): Promise<void> {
    if (!this.#closed) {
      this.#closed = true;
      try {
        this.#db.close(false);
      } catch { /* closing twice or with statements alive is harmless here */ }
    }
    return Promise.resolve();
  }

  #do<T>(what: string, options: AbortOptions | undefined, fn: () => T): Promise<T> {
    try {
      if (this.#closed) throw new DatastoreError(`datastore ${this.path} is closed`);
      options?.signal?.throwIfAborted();
      return Promise.resolve(fn());
    } catch (err) {
      if (
        err instanceof DatastoreError || err instanceof TypeError || err instanceof RangeError ||
        (err as Error)?.name === "AbortError"
      ) {
        return Promise.reject(err);
      }
      return Promise.reject(
        new DatastoreError(`${what} of ${this.path} failed: ${describe(err)}`, {
          path: this.path,
          cause: err,
        }),
      );
    }
  }

  #corrupt(key: string): DatastoreError {
    return new DatastoreError(`${this.path}: entry ${key} is not in this store's format`, {
      path: this.path,
    });
  }
}

/**
 * Open (creating it and its folder when missing) the SQLite datastore at `path`. Rejects with a
 * DatastoreError naming the file when it is not a SQLite database, fails its integrity check, or
 * holds another program's tables.
 *
 * @example
 * ```ts ignore
 * import { openBunSqliteDatastore } from "./bun_sqlite.ts";
 * const ds = await openBunSqliteDatastore("/var/lib/edge/state.sqlite");
 * await ds.put("/a", new Uint8Array([1]));
 * await ds.close();
 * ```
 */
export async function openBunSqliteDatastore(path: string): Promise<Datastore> {
  const specifier = "bun:sqlite";
  let mod: BunSqliteModule;
  try {
    mod = await import(specifier) as BunSqliteModule;
  } catch (err) {
    throw new DatastoreError(`bun:sqlite is not available: ${describe(err)}`, { path, cause: err });
  }
  const slash = path.lastIndexOf("/");
  if (slash > 0) {
    try {
      await mkdir(path.slice(0, slash), { recursive: true });
    } catch (err) {
      throw new DatastoreError(`cannot create data folder for ${path}: ${describe(err)}`, {
        path,
        cause: err,
      });
    }
  }
  let db: Database;
  try {
    db = new mod.Database(path, { create: true, strict: true });
  } catch (err) {
    throw new DatastoreError(`cannot open SQLite store ${path}: ${describe(err)}`, {
      path,
      cause: err,
    });
  }
  try {
    db.run(`PRAGMA busy_timeout = ${BUSY_TIMEOUT_MS}`);
    const check = db.query("PRAGMA quick_check").all() as Record<string, unknown>[];
    const verdict = check.map((r) => String(Object.values(r)[0])).join("; ");
    if (verdict !== "ok") {
      throw new DatastoreError(
        `${path} fails SQLite's integrity check (${verdict.slice(0, 200)}): move it away and ` +
          `the node starts with empty state`,
        { path },
      );
    }
    const tables = (db.query("SELECT name FROM sqlite_master WHERE type = 'table'").all() as {
      name: unknown;
    }[]).map((r) => String(r.name));
    const foreign = tables.filter((t) => t !== "kv");
    if (foreign.length > 0) {
      throw new DatastoreError(
        `${path} is a SQLite database of another program (tables ${foreign.join(", ")}): move ` +
          `it away or point --data-dir elsewhere`,
        { path },
      );
    }
    db.run("PRAGMA journal_mode = WAL");
    db.run("PRAGMA synchronous = NORMAL");
    db.run(
      "CREATE TABLE IF NOT EXISTS kv (key TEXT PRIMARY KEY NOT NULL, value BLOB NOT NULL) " +
        "WITHOUT ROWID",
    );
  } catch (err) {
    try {
      db.close(false);
    } catch { /* already failing */ }
    if (err instanceof DatastoreError) throw err;
    const notDb = /not a database|malformed|corrupt/i.test(describe(err));
    throw new DatastoreError(
      notDb
        ? `${path} is not a SQLite database (corrupt, or another program's file): move it ` +
          `away and the node starts with empty state`
        : `cannot open SQLite store ${path}: ${describe(err)}`,
      { path, cause: err },
    );
  }
  return new BunSqliteDatastore(db, path);
}
