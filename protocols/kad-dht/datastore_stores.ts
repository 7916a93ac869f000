/**
 * The DHT's value and provider stores on a datastore (src/datastore), so a DHT server keeps the
 * records it holds for the network across restarts (issue 21, restart-safe state). A failed
 * datastore write rejects the call (the handler then resets the stream, HARDENING.md rule 5);
 * a value put that could not be written is undone in memory too. Writes go through a group
 * commit (src/datastore/group_commit.ts): under load many records share one commit, and each
 * call still resolves only once its record is durable.
 *
 * Each store is the in-memory store of values.ts / providers.ts, with its policy and caps
 * unchanged, written through to the datastore: every accepted put, refresh or delete is
 * awaited in the datastore before the call resolves, and `open` loads the stored records back
 * (each with its original receive time, so it expires when it would have). Records that expire
 * are removed from the datastore by `sweep` (the DHT's hourly upkeep) and by `open`; an expired
 * record still on disk is never returned. Caps bound what `open` reads (MAX_VALUE_RECORDS,
 * MAX_PROVIDER_RECORDS): entries beyond them, or that do not parse, are deleted.
 *
 * Layout: `/dht/values/<base64url key>` = receivedAt (float64, big-endian) then the value;
 * `/dht/providers/<base64url key>/<base64url peer id>` = receivedAt then the addresses, each a
 * uvarint length and the binary multiaddr.
 *
 * @module
 */

import { concat } from "../../src/bytes.ts";
import type { Datastore } from "../../src/datastore/types.ts";
import { GroupCommit } from "../../src/datastore/group_commit.ts";
import { base64url } from "../../src/multiformats/multibase.ts";
import { decodeUvarint, encodeUvarint } from "../../src/varint.ts";
import { MAX_PROVIDER_RECORDS, MAX_RECORD_VALUE_BYTES, MAX_VALUE_RECORDS } from "./constants.ts";
import {
  type AddProviderResult,
  MemoryProviderStore,
  type ProviderRecord,
  type ProviderStore,
  type ProviderStoreOptions,
} from "./providers.ts";
import {
  MemoryValueStore,
  type PutValueResult,
  type StoredValue,
  type ValueStore,
  type ValueStoreOptions,
} from "./values.ts";

/** Prefix of stored value records. */
export const DHT_VALUES_PREFIX = "/dht/values";

/** Prefix of stored provider records. */
export const DHT_PROVIDERS_PREFIX = "/dht/providers";

/** Addresses read back per provider record (ADD_PROVIDER carries a few). */
const MAX_STORED_PROVIDER_ADDRS = 32;

/** Options of the datastore-backed stores: the memory store's, plus the clock for `open`. */
interface OpenOptions {
  /** The clock `open` drops expired records by, ms. Default `Date.now`. */
  now?: () => number;
}

/** Datastore key to its record's expiry, so a sweep knows what to delete from the datastore. */
class ExpiryIndex {
  readonly #at = new Map<string, number>();

  set(key: string, at: number): void {
    this.#at.set(key, at);
  }

  delete(key: string): void {
    this.#at.delete(key);
  }

  /** Remove and return the keys expired at `now`. */
  takeExpired(now: number): string[] {
    const expired: string[] = [];
    for (const [key, at] of this.#at) {
      if (at <= now) {
        expired.push(key);
        this.#at.delete(key);
      }
    }
    return expired;
  }
}

function b64(bytes: Uint8Array): string {
  return base64url.baseEncode(bytes);
}

function unb64(text: string): Uint8Array | undefined {
  try {
    return base64url.baseDecode(text);
  } catch {
    return undefined;
  }
}

function timeBytes(ms: number): Uint8Array {
  const out = new Uint8Array(8);
  new DataView(out.buffer).setFloat64(0, ms);
  return out;
}

function readTime(bytes: Uint8Array): number | undefined {
  if (bytes.byteLength < 8) return undefined;
  const t = new DataView(bytes.buffer, bytes.byteOffset, 8).getFloat64(0);
  return Number.isFinite(t) ? t : undefined;
}

/**
 * Value records in memory, written through to a datastore.
 *
 * @example
 * ```ts
 * import { MemoryDatastore } from "@p2p-edge/libp2p";
 * import { DatastoreValueStore, kadDHT } from "@p2p-edge/libp2p/protocols/kad-dht";
 * const values = await DatastoreValueStore.open(new MemoryDatastore());
 * const dht = kadDHT({ values });
 * ```
 */
export class DatastoreValueStore implements ValueStore {
  readonly #ds: Datastore;
  readonly #group: GroupCommit;
  readonly #memory: MemoryValueStore;
  readonly #expiry = new ExpiryIndex();
  readonly #ttl: number | undefined;

  private constructor(ds: Datastore, options: ValueStoreOptions) {
    this.#ds = ds;
    this.#group = new GroupCommit(() => ds.batch());
    this.#memory = new MemoryValueStore(options);
    this.#ttl = options.ttlMs;
  }

  /** Open the store kept in `ds`, loading its unexpired records. */
  static async open(
    ds: Datastore,
    options: ValueStoreOptions & OpenOptions = {},
  ): Promise<DatastoreValueStore> {
    const store = new DatastoreValueStore(ds, options);
    const now = (options.now ?? Date.now)();
    const drop: string[] = [];
    let loaded = 0;
    for await (const { key, value } of ds.list(DHT_VALUES_PREFIX)) {
      const recordKey = unb64(key.slice(DHT_VALUES_PREFIX.length + 1));
      const receivedAt = readTime(value);
      if (
        recordKey === undefined || receivedAt === undefined || loaded >= MAX_VALUE_RECORDS ||
        value.byteLength - 8 > MAX_RECORD_VALUE_BYTES
      ) {
        drop.push(key);
        continue;
      }
      const result = await store.#memory.put(recordKey, value.subarray(8), receivedAt);
      const got = await store.#memory.get(recordKey, now);
      if ((result !== "stored" && result !== "replaced") || got === undefined) {
        await store.#memory.delete(recordKey);
        drop.push(key);
        continue;
      }
      store.#expiry.set(key, got.expiresAt);
      loaded++;
    }
    await deleteKeys(ds, drop);
    return store;
  }

  /** Store a value (and write it to the datastore). */
  async put(key: Uint8Array, value: Uint8Array, now: number): Promise<PutValueResult> {
    const previous = await this.#memory.get(key, now);
    const result = await this.#memory.put(key, value, now);
    if (result !== "stored" && result !== "replaced") return result;
    const dsKey = `${DHT_VALUES_PREFIX}/${b64(key)}`;
    try {
      await this.#group.write([{
        type: "put",
        key: dsKey,
        value: concat([timeBytes(now), value]),
      }]);
    } catch (err) {
      // Not durable, so not stored: memory goes back to what the disk holds.
      await this.#memory.delete(key);
      if (previous !== undefined) {
        await this.#memory.put(key, previous.value, previous.receivedAt);
      } else this.#expiry.delete(dsKey);
      throw err;
    }
    const stored = await this.#memory.get(key, now);
    this.#expiry.set(dsKey, stored?.expiresAt ?? now + (this.#ttl ?? 0));
    return result;
  }

  /** The unexpired record under `key`. */
  get(key: Uint8Array, now: number): Promise<StoredValue | undefined> {
    return this.#memory.get(key, now);
  }

  /** Remove a record. */
  async delete(key: Uint8Array): Promise<boolean> {
    const dsKey = `${DHT_VALUES_PREFIX}/${b64(key)}`;
    const had = await this.#memory.delete(key);
    this.#expiry.delete(dsKey);
    await this.#group.write([{ type: "delete", key: dsKey }]);
    return had;
  }

  /** Drop expired records, in memory and in the datastore. */
  async sweep(now: number): Promise<number> {
    const n = await this.#memory.sweep(now);
    await deleteKeys(this.#ds, this.#expiry.takeExpired(now));
    return n;
  }

  /** Records stored. */
  size(): Promise<number> {
    return this.#memory.size();
  }
}

/**
 * Provider records in memory, written through to a datastore.
 *
 * @example
 * ```ts
 * import { MemoryDatastore } from "@p2p-edge/libp2p";
 * import { DatastoreProviderStore, kadDHT } from "@p2p-edge/libp2p/protocols/kad-dht";
 * const providers = await DatastoreProviderStore.open(new MemoryDatastore());
 * const dht = kadDHT({ providers });
 * ```
 */
export class DatastoreProviderStore implements ProviderStore {
  readonly #ds: Datastore;
  readonly #group: GroupCommit;
  readonly #memory: MemoryProviderStore;
  readonly #expiry = new ExpiryIndex();
  readonly #ttl: number | undefined;

  private constructor(ds: Datastore, options: ProviderStoreOptions) {
    this.#ds = ds;
    this.#group = new GroupCommit(() => ds.batch());
    this.#memory = new MemoryProviderStore(options);
    this.#ttl = options.ttlMs;
  }

  /** Open the store kept in `ds`, loading its unexpired records. */
  static async open(
    ds: Datastore,
    options: ProviderStoreOptions & OpenOptions = {},
  ): Promise<DatastoreProviderStore> {
    const store = new DatastoreProviderStore(ds, options);
    const now = (options.now ?? Date.now)();
    const drop: string[] = [];
    const rows: {
      dsKey: string;
      key: Uint8Array;
      peerId: Uint8Array;
      addrs: Uint8Array[];
      at: number;
    }[] = [];
    for await (const { key, value } of ds.list(DHT_PROVIDERS_PREFIX)) {
      const parts = key.slice(DHT_PROVIDERS_PREFIX.length + 1).split("/");
      const recordKey = parts.length === 2 ? unb64(parts[0]) : undefined;
      const peerId = parts.length === 2 ? unb64(parts[1]) : undefined;
      const decoded = decodeProvider(value);
      if (
        recordKey === undefined || peerId === undefined || decoded === undefined ||
        rows.length >= MAX_PROVIDER_RECORDS
      ) {
        drop.push(key);
        continue;
      }
      rows.push({ dsKey: key, key: recordKey, peerId, addrs: decoded.addrs, at: decoded.at });
    }
    // Oldest announcement first, as they were added.
    rows.sort((a, b) => a.at - b.at);
    for (const r of rows) {
      const result = await store.#memory.add(r.key, { peerId: r.peerId, addrs: r.addrs }, r.at);
      const ttl = options.ttlMs;
      const expiresAt = ttl === undefined ? undefined : r.at + ttl;
      if (result !== "added" && result !== "refreshed") {
        drop.push(r.dsKey);
        continue;
      }
      const live = await store.#memory.get(r.key, now);
      const mine = live.find((p) => b64(p.peerId) === b64(r.peerId));
      if (mine === undefined) {
        drop.push(r.dsKey);
        continue;
      }
      store.#expiry.set(r.dsKey, expiresAt ?? mine.expiresAt);
    }
    await deleteKeys(ds, drop);
    return store;
  }

  /** Store or refresh a provider (and write it to the datastore). */
  async add(
    key: Uint8Array,
    provider: { peerId: Uint8Array; addrs: readonly Uint8Array[] },
    now: number,
  ): Promise<AddProviderResult> {
    const result = await this.#memory.add(key, provider, now);
    if (result !== "added" && result !== "refreshed") return result;
    const dsKey = `${DHT_PROVIDERS_PREFIX}/${b64(key)}/${b64(provider.peerId)}`;
    await this.#group.write([
      { type: "put", key: dsKey, value: encodeProvider(now, provider.addrs) },
    ]);
    const stored = (await this.#memory.get(key, now)).find((p) =>
      b64(p.peerId) === b64(provider.peerId)
    );
    this.#expiry.set(dsKey, stored?.expiresAt ?? now + (this.#ttl ?? 0));
    return result;
  }

  /** Unexpired providers of a key. */
  get(key: Uint8Array, now: number, limit?: number): Promise<ProviderRecord[]> {
    return this.#memory.get(key, now, limit);
  }

  /** Drop expired records, in memory and in the datastore. */
  async sweep(now: number): Promise<number> {
    const n = await this.#memory.sweep(now);
    await deleteKeys(this.#ds, this.#expiry.takeExpired(now));
    return n;
  }

  /** Records stored. */
  size(): Promise<number> {
    return this.#memory.size();
  }
}

function encodeProvider(at: number, addrs: readonly Uint8Array[]): Uint8Array {
  const parts: Uint8Array[] = [timeBytes(at), encodeUvarint(addrs.length)];
  for (const a of addrs) parts.push(encodeUvarint(a.byteLength), a);
  return concat(parts);
}

function decodeProvider(bytes: Uint8Array): { at: number; addrs: Uint8Array[] } | undefined {
  const at = readTime(bytes);
  if (at === undefined) return undefined;
  try {
    let offset = 8;
    const count = decodeUvarint(bytes, offset);
    if (count === undefined) return undefined;
    offset += count.length;
    if (count.value > MAX_STORED_PROVIDER_ADDRS) return undefined;
    const addrs: Uint8Array[] = [];
    for (let i = 0; i < count.value; i++) {
      const len = decodeUvarint(bytes, offset);
      if (len === undefined) return undefined;
      offset += len.length;
      if (offset + len.value > bytes.byteLength) return undefined;
      addrs.push(bytes.slice(offset, offset + len.value));
      offset += len.value;
    }
    return offset === bytes.byteLength ? { at, addrs } : undefined;
  } catch {
    return undefined;
  }
}

/** Delete `keys` in batches of the datastore's batch size. */
async function deleteKeys(ds: Datastore, keys: readonly string[]): Promise<void> {
  for (let i = 0; i < keys.length; i += 100) {
    const batch = ds.batch();
    for (const k of keys.slice(i, i + 100)) batch.delete(k);
    await batch.commit();
  }
}
