/**
 * The schema marker every persistent datastore carries at {@link DATASTORE_SCHEMA_KEY}: the
 * format name (so a store written by another program is recognised) and the schema version (so
 * a store written by a newer release is refused instead of misread).
 *
 * @module
 */

import { utf8Decode, utf8Encode } from "../bytes.ts";
import { DatastoreError } from "./errors.ts";
import type { Datastore } from "./types.ts";

/** Where the schema marker lives. Keys under `/meta` are the store's own. */
export const DATASTORE_SCHEMA_KEY = "/meta/schema";

/** The format name in the marker. */
export const DATASTORE_FORMAT = "p2p-edge-libp2p/datastore";

/** The schema version this release writes and reads. */
export const DATASTORE_SCHEMA_VERSION = 1;

/** Largest marker read (it is a few dozen bytes). */
const MAX_MARKER_BYTES = 1024;

/** The marker's content. */
export interface DatastoreSchema {
  /** {@link DATASTORE_FORMAT}. */
  readonly format: string;
  /** The schema version. */
  readonly version: number;
}

/**
 * Check the marker of `ds`, or write one into an empty store. Resolves with the schema version.
 * Rejects with DatastoreError (naming `path` when given) when the store holds data without a
 * marker (another program's store), a marker of another format, or a newer version.
 *
 * @example
 * ```ts
 * import { ensureSchema, MemoryDatastore } from "@p2p-edge/libp2p";
 * const version = await ensureSchema(new MemoryDatastore()); // 1
 * ```
 */
export async function ensureSchema(
  ds: Datastore,
  options: { path?: string } = {},
): Promise<number> {
  const where = options.path === undefined ? `${ds.kind} datastore` : options.path;
  const raw = await ds.get(DATASTORE_SCHEMA_KEY);
  if (raw === undefined) {
    for await (const _ of ds.list("/", { limit: 1 })) {
      throw new DatastoreError(
        `${where} holds data but no ${DATASTORE_FORMAT} schema marker: not a store of this ` +
          `node (move it away or point --data-dir elsewhere)`,
        { path: options.path },
      );
    }
    const marker: DatastoreSchema = { format: DATASTORE_FORMAT, version: DATASTORE_SCHEMA_VERSION };
    await ds.put(DATASTORE_SCHEMA_KEY, utf8Encode(JSON.stringify(marker)));
    return DATASTORE_SCHEMA_VERSION;
  }
  const marker = parseMarker(raw);
  if (marker === undefined || marker.format !== DATASTORE_FORMAT) {
    throw new DatastoreError(
      `${where} has an unreadable or foreign schema marker: not a store of this node`,
      { path: options.path },
    );
  }
  if (marker.version > DATASTORE_SCHEMA_VERSION) {
    throw new DatastoreError(
      `${where} has schema version ${marker.version}, written by a newer release; this one ` +
        `reads up to ${DATASTORE_SCHEMA_VERSION}`,
      { path: options.path },
    );
  }
  // Version 1 is the first: there is nothing to migrate from yet.
  return marker.version;
}

/**
 * The schema marker of `ds`, or undefined when it has none or an unreadable one.
 *
 * @example
 * ```ts
 * import { MemoryDatastore, readSchema } from "@p2p-edge/libp2p";
 * await readSchema(new MemoryDatastore()); // undefined
 * ```
 */
export async function readSchema(ds: Datastore): Promise<DatastoreSchema | undefined> {
  const raw = await ds.get(DATASTORE_SCHEMA_KEY);
  return raw === undefined ? undefined : parseMarker(raw);
}

function parseMarker(raw: Uint8Array): DatastoreSchema | undefined {
  if (raw.byteLength > MAX_MARKER_BYTES) return undefined;
  try {
    const v = JSON.parse(utf8Decode(raw)) as unknown;
    if (typeof v !== "object" || v === null) return undefined;
    const { format, version } = v as Record<string, unknown>;
    if (typeof format !== "string" || typeof version !== "number") return undefined;
    if (!Number.isSafeInteger(version) || version < 1) return undefined;
    return { format, version };
  } catch {
    return undefined;
  }
}
