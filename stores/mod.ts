/**
 * Persistent datastores, picked by runtime: Deno KV on Deno (`state.denokv`), `bun:sqlite` on
 * Bun (`state.sqlite`), each in the folder given. The adapters are loaded by dynamic import
 * behind feature detection (src/runtime.ts), so a bundle for another runtime leaves them out.
 * The store returned carries a checked schema marker (`ensureSchema`): a store of another
 * program or of a newer release is refused with a DatastoreError naming the file.
 *
 * The two runtimes keep separate files: state written under Deno is not seen under Bun.
 *
 * @example
 * ```ts ignore
 * import { openDatastore } from "@p2p-edge/libp2p/stores";
 * const { datastore, path } = await openDatastore("/var/lib/edge");
 * console.log(datastore.kind, path); // "deno-kv /var/lib/edge/state.denokv" on Deno
 * await datastore.close();
 * ```
 *
 * @module
 */

import { DatastoreError } from "../src/datastore/errors.ts";
import { ensureSchema } from "../src/datastore/schema.ts";
import type { Datastore } from "../src/datastore/types.ts";
import { isBun, isDeno, runtimeInfo } from "../src/runtime.ts";

/** The file the Deno KV store uses in its folder. */
export const DENO_KV_FILE = "state.denokv";

/** The file the SQLite store uses in its folder. */
export const BUN_SQLITE_FILE = "state.sqlite";

/** What {@link openDatastore} resolves with. */
export interface OpenedDatastore {
  /** The store, schema checked. */
  readonly datastore: Datastore;
  /** The file it lives in. */
  readonly path: string;
  /** Its schema version. */
  readonly schemaVersion: number;
}

/**
 * The file the store for this runtime uses in `dir`, or undefined when the runtime has no
 * persistent store.
 *
 * @example
 * ```ts
 * import { datastorePath } from "@p2p-edge/libp2p/stores";
 * datastorePath("/var/lib/edge"); // "/var/lib/edge/state.denokv" on Deno
 * ```
 */
export function datastorePath(dir: string): string | undefined {
  const base = dir.endsWith("/") ? dir.slice(0, -1) : dir;
  if (isDeno()) return `${base}/${DENO_KV_FILE}`;
  if (isBun()) return `${base}/${BUN_SQLITE_FILE}`;
  return undefined;
}

/**
 * Open (creating when missing) the persistent datastore of this runtime in folder `dir`.
 * Rejects with DatastoreError when the runtime has none (browsers, Node), or the file is
 * corrupt, foreign, or of a newer schema.
 *
 * @example
 * ```ts ignore
 * import { openDatastore } from "@p2p-edge/libp2p/stores";
 * const { datastore } = await openDatastore("./node.data");
 * ```
 */
export async function openDatastore(dir: string): Promise<OpenedDatastore> {
  if (dir === "") throw new TypeError("data folder must not be empty");
  const path = datastorePath(dir);
  let datastore: Datastore;
  if (isDeno()) {
    datastore = await import("./deno_kv.ts").then((m) => m.openDenoKvDatastore(path!));
  } else if (isBun()) {
    datastore = await import("./bun_sqlite.ts").then((m) => m.openBunSqliteDatastore(path!));
  } else {
    throw new DatastoreError(
      `no persistent datastore on ${runtimeInfo().name}: use MemoryDatastore`,
    );
  }
  try {
    const schemaVersion = await ensureSchema(datastore, { path });
    return { datastore, path: path!, schemaVersion };
  } catch (err) {
    await datastore.close();
    throw err;
  }
}
