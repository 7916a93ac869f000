/**
 * Value records (libp2p/specs `kad-dht/README.md` §Value storage and retrieval) behind a
 * {@link ValueStore} interface; the default keeps them in memory. Time is injected (`now`,
 * milliseconds).
 *
 * The store keeps what it is given: validation and selection (records.ts) happen before `put`,
 * in the PUT_VALUE handler: validate the incoming record, and if a valid record is already
 * stored, refuse the incoming one unless the selector prefers it. Policy here:
 * - A record lives {@link VALUE_RECORD_TTL_MS} (48 h) from when it was received.
 * - Caps (HARDENING.md rules 1 and 4): key length {@link MAX_RECORD_KEY_BYTES}, value size
 *   {@link MAX_RECORD_VALUE_BYTES}, {@link MAX_VALUE_RECORDS} records and
 *   {@link MAX_VALUE_STORE_BYTES} bytes in total. When full, new keys are refused (after expired
 *   records are dropped); replacing the value of a stored key is always allowed within the caps.
 * - `timeReceived` is set by the receiver (go `records/value_store.go`), as RFC 3339.
 *
 * @module
 */

import { compactCopy } from "../../src/bytes.ts";
import {
  MAX_RECORD_KEY_BYTES,
  MAX_RECORD_VALUE_BYTES,
  MAX_VALUE_RECORDS,
  MAX_VALUE_STORE_BYTES,
  VALUE_RECORD_TTL_MS,
} from "./constants.ts";

/** A stored value record. */
export interface StoredValue {
  /** The record key. */
  key: Uint8Array;
  /** The record value (a copy owned by the store). */
  value: Uint8Array;
  /** Time it was received. */
  receivedAt: number;
  /** Time after which it is gone. */
  expiresAt: number;
}

/** Outcome of {@link ValueStore.put}. */
export type PutValueResult =
  | "stored"
  | "replaced"
  | "rejected-key"
  | "rejected-size"
  | "rejected-count-cap"
  | "rejected-bytes-cap";

/** Where value records live. Implementations apply the policy of this module. */
export interface ValueStore {
  /** Store `value` under `key` at `now` (replacing a stored value). */
  put(key: Uint8Array, value: Uint8Array, now: number): Promise<PutValueResult>;
  /** The unexpired record under `key`. */
  get(key: Uint8Array, now: number): Promise<StoredValue | undefined>;
  /** Remove the record under `key` (e.g. it no longer validates). */
  delete(key: Uint8Array): Promise<boolean>;
  /** Drop expired records; returns how many were dropped. */
  sweep(now: number): Promise<number>;
  /** Records stored (expired ones included until swept). */
  size(): Promise<number>;
}

/** Options of {@link MemoryValueStore}. */
export interface ValueStoreOptions {
  /** Record lifetime. Default {@link VALUE_RECORD_TTL_MS}. */
  ttlMs?: number;
  /** Largest value. Default {@link MAX_RECORD_VALUE_BYTES}. */
  maxValueBytes?: number;
  /** Records in total. Default {@link MAX_VALUE_RECORDS}. */
  maxRecords?: number;
  /** Value bytes in total. Default {@link MAX_VALUE_STORE_BYTES}. */
  maxTotalBytes?: number;
}

/**
 * Format a time in milliseconds as RFC 3339 with nanosecond digits, as go writes
 * `timeReceived` (`time.RFC3339Nano` in UTC).
 *
 * @example
 * ```ts
 * import { formatRfc3339 } from "@p2p-edge/libp2p/protocols/kad-dht";
 * formatRfc3339(1); // "1970-01-01T00:00:00.001Z"
 * ```
 */
export function formatRfc3339(ms: number): string {
  // toISOString gives milliseconds; RFC3339Nano trims trailing zeros the same way.
  const iso = new Date(ms).toISOString();
  return iso.replace(/\.(\d*?)0*Z$/, (_m, d: string) => (d === "" ? "Z" : `.${d}Z`));
}

function keyOf(bytes: Uint8Array): string {
  let s = "";
  for (let i = 0; i < bytes.byteLength; i++) s += String.fromCharCode(bytes[i]);
  return s;
}

/**
 * Value records in memory.
 *
 * @example
 * ```ts
 * import { MemoryValueStore } from "@p2p-edge/libp2p/protocols/kad-dht";
 * const store = new MemoryValueStore();
 * const key = new TextEncoder().encode("/pk/x");
 * await store.put(key, new Uint8Array([1]), 0); // "stored"
 * (await store.get(key, 1))?.value; // Uint8Array [1]
 * ```
 */
export class MemoryValueStore implements ValueStore {
  readonly #ttl: number;
  readonly #maxValue: number;
  readonly #maxRecords: number;
  readonly #maxBytes: number;
  readonly #records = new Map<string, StoredValue>();
  #bytes = 0;

  /** An empty store. */
  constructor(options: ValueStoreOptions = {}) {
    this.#ttl = options.ttlMs ?? VALUE_RECORD_TTL_MS;
    this.#maxValue = options.maxValueBytes ?? MAX_RECORD_VALUE_BYTES;
    this.#maxRecords = options.maxRecords ?? MAX_VALUE_RECORDS;
    this.#maxBytes = options.maxTotalBytes ?? MAX_VALUE_STORE_BYTES;
  }

  /** Store a value. */
  put(key: Uint8Array, value: Uint8Array, now: number): Promise<PutValueResult> {
    return Promise.resolve(this.#put(key, value, now));
  }

  #put(key: Uint8Array, value: Uint8Array, now: number): PutValueResult {
    if (key.byteLength === 0 || key.byteLength > MAX_RECORD_KEY_BYTES) return "rejected-key";
    if (value.byteLength > this.#maxValue) return "rejected-size";
    const k = keyOf(key);
    const old = this.#records.get(k);
    const freed = old?.value.byteLength ?? 0;
    if (old === undefined && this.#records.size >= this.#maxRecords) {
      this.#sweep(now);
      if (this.#records.size >= this.#maxRecords) return "rejected-count-cap";
    }
    if (this.#bytes - freed + value.byteLength > this.#maxBytes) {
      this.#sweep(now);
      const stillFreed = this.#records.has(k) ? freed : 0;
      if (this.#bytes - stillFreed + value.byteLength > this.#maxBytes) {
        return "rejected-bytes-cap";
      }
    }
    const current = this.#records.get(k);
    if (current !== undefined) this.#bytes -= current.value.byteLength;
    this.#records.set(k, {
      key: compactCopy(key),
      value: value.slice(),
      receivedAt: now,
      expiresAt: now + this.#ttl,
    });
    this.#bytes += value.byteLength;
    return current === undefined ? "stored" : "replaced";
  }

  /** The unexpired record under `key`. */
  get(key: Uint8Array, now: number): Promise<StoredValue | undefined> {
    const k = keyOf(key);
    const r = this.#records.get(k);
    if (r === undefined) return Promise.resolve(undefined);
    if (r.expiresAt <= now) {
      this.#remove(k, r);
      return Promise.resolve(undefined);
    }
    return Promise.resolve({ ...r });
  }

  /** Remove a record. */
  delete(key: Uint8Array): Promise<boolean> {
    const k = keyOf(key);
    const r = this.#records.get(k);
    if (r === undefined) return Promise.resolve(false);
    this.#remove(k, r);
    return Promise.resolve(true);
  }

  /** Drop every expired record. */
  sweep(now: number): Promise<number> {
    return Promise.resolve(this.#sweep(now));
  }

  /** Records stored. */
  size(): Promise<number> {
    return Promise.resolve(this.#records.size);
  }

  /** Value bytes stored. */
  get bytes(): number {
    return this.#bytes;
  }

  #sweep(now: number): number {
    let n = 0;
    for (const [k, r] of this.#records) {
      if (r.expiresAt <= now) {
        this.#remove(k, r);
        n++;
      }
    }
    return n;
  }

  #remove(k: string, r: StoredValue): void {
    this.#records.delete(k);
    this.#bytes -= r.value.byteLength;
  }
}
