/**
 * The datastore: a small key-value interface for a node's state, its in-memory
 * implementation, the schema marker, and the typed error. Persistent implementations, picked by
 * runtime, are in `@p2p-edge/libp2p/stores`.
 *
 * @example
 * ```ts
 * import { MemoryDatastore } from "@p2p-edge/libp2p";
 * const ds = new MemoryDatastore();
 * const batch = ds.batch();
 * batch.put("/a/1", new Uint8Array([1]));
 * batch.put("/a/2", new Uint8Array([2]));
 * await batch.commit();
 * ```
 *
 * @module
 */

export {
  type Datastore,
  type DatastoreBatch,
  type DatastoreEntry,
  type DatastoreListOptions,
  type DatastoreOp,
  MAX_DATASTORE_BATCH_BYTES,
  MAX_DATASTORE_BATCH_OPS,
  MAX_DATASTORE_KEY_LENGTH,
  MAX_DATASTORE_VALUE_BYTES,
} from "./types.ts";
export { DatastoreError } from "./errors.ts";
export { MemoryDatastore } from "./memory.ts";
export {
  DATASTORE_FORMAT,
  DATASTORE_SCHEMA_KEY,
  DATASTORE_SCHEMA_VERSION,
  type DatastoreSchema,
  ensureSchema,
  readSchema,
} from "./schema.ts";
export { IDENTITY_KEY, loadIdentity, saveIdentity } from "./identity.ts";
export {
  dialRecentPeers,
  MAX_RECENT_PEER_ADDRS,
  MAX_RECENT_PEERS,
  RECENT_PEER_DIAL_CONCURRENCY,
  RECENT_PEER_REWRITE_MS,
  RECENT_PEERS_PREFIX,
  type RecentDialResult,
  type RecentPeer,
  RecentPeers,
  type RecentPeersOptions,
  trackRecentPeers,
} from "./recent_peers.ts";
