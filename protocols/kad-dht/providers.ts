/**
 * Provider records (libp2p/specs `kad-dht/README.md` §Content provider advertisement and
 * discovery) behind a {@link ProviderStore} interface; the default keeps them in memory. Time is
 * injected (`now`, milliseconds).
 *
 * Policy:
 * - A record lives {@link PROVIDER_RECORD_TTL_MS} (48 h) from its last announcement; expired
 *   records are never returned and are dropped by {@link ProviderStore.sweep} (or lazily).
 * - Only the sender of ADD_PROVIDER may be the provider, with at least one address
 *   ({@link providersFromAddProvider}); keys are 1..{@link MAX_PROVIDER_KEY_BYTES} bytes.
 * - Caps (HARDENING.md rule 4): {@link MAX_PROVIDERS_PER_KEY} per key,
 *   {@link MAX_PROVIDER_RECORDS_PER_PEER} per announcing peer, {@link MAX_PROVIDER_RECORDS} in
 *   total. A full cap refuses the newcomer; a provider already stored is always refreshed.
 *   Established records are not evicted by newcomers (HARDENING.md rule 10): a sybil can take
 *   only slots that are free, and honest providers re-announce well inside 48 h.
 *
 * @module
 */

import { equals } from "../../src/bytes.ts";
import type { KadMessage } from "./codec.ts";
import {
  MAX_PROVIDER_KEY_BYTES,
  MAX_PROVIDER_RECORDS,
  MAX_PROVIDER_RECORDS_PER_PEER,
  MAX_PROVIDERS_PER_KEY,
  PROVIDER_RECORD_TTL_MS,
} from "./constants.ts";

/** One provider of one key. */
export interface ProviderRecord {
  /** Binary peer id of the provider. */
  peerId: Uint8Array;
  /** Its binary multiaddrs as announced. */
  addrs: readonly Uint8Array[];
  /** Time of the last announcement. */
  receivedAt: number;
  /** Time after which the record is gone. */
  expiresAt: number;
}

/** Outcome of {@link ProviderStore.add}. */
export type AddProviderResult =
  | "added"
  | "refreshed"
  | "rejected-key"
  | "rejected-per-key-cap"
  | "rejected-per-peer-cap"
  | "rejected-total-cap";

/** Where provider records live. Implementations apply the policy of this module. */
export interface ProviderStore {
  /** Store or refresh `provider` for `key` at `now`. */
  add(
    key: Uint8Array,
    provider: { peerId: Uint8Array; addrs: readonly Uint8Array[] },
    now: number,
  ): Promise<AddProviderResult>;
  /** Unexpired providers of `key`, at most `limit`, oldest announcement first. */
  get(key: Uint8Array, now: number, limit?: number): Promise<ProviderRecord[]>;
  /** Drop expired records; returns how many were dropped. */
  sweep(now: number): Promise<number>;
  /** Records stored (expired ones included until swept). */
  size(): Promise<number>;
}

/** Options of {@link MemoryProviderStore}. */
export interface ProviderStoreOptions {
  /** Record lifetime. Default {@link PROVIDER_RECORD_TTL_MS}. */
  ttlMs?: number;
  /** Providers per key. Default {@link MAX_PROVIDERS_PER_KEY}. */
  maxPerKey?: number;
  /** Records per announcing peer. Default {@link MAX_PROVIDER_RECORDS_PER_PEER}. */
  maxPerPeer?: number;
  /** Records in total. Default {@link MAX_PROVIDER_RECORDS}. */
  maxTotal?: number;
}

/**
 * The providers an ADD_PROVIDER message may register: the `providerPeers` entries whose id is
 * the sender's and that carry at least one address (go and the spec ignore any other entry).
 *
 * @example
 * ```ts
 * import { MessageType, providersFromAddProvider } from "@p2p-edge/libp2p/protocols/kad-dht";
 * const sender = new Uint8Array([0, 1, 7]);
 * providersFromAddProvider({
 *   type: MessageType.ADD_PROVIDER,
 *   key: new Uint8Array([0x12, 0x20]),
 *   closerPeers: [],
 *   providerPeers: [{ id: sender, addrs: [new Uint8Array([4, 8, 8, 8, 8])], connection: 0 }],
 * }, sender).length; // 1
 * ```
 */
export function providersFromAddProvider(
  message: KadMessage,
  sender: Uint8Array,
): { peerId: Uint8Array; addrs: readonly Uint8Array[] }[] {
  for (const p of message.providerPeers) {
    if (equals(p.id, sender) && p.addrs.length > 0) return [{ peerId: p.id, addrs: p.addrs }];
  }
  return [];
}

function keyOf(bytes: Uint8Array): string {
  let s = "";
  for (let i = 0; i < bytes.byteLength; i++) s += String.fromCharCode(bytes[i]);
  return s;
}

/**
 * Provider records in memory.
 *
 * @example
 * ```ts
 * import { MemoryProviderStore } from "@p2p-edge/libp2p/protocols/kad-dht";
 * const store = new MemoryProviderStore();
 * const key = new Uint8Array([0x12, 0x20, 1]);
 * await store.add(key, { peerId: new Uint8Array([0, 1, 7]), addrs: [] }, 0); // "added"
 * (await store.get(key, 1)).length; // 1
 * ```
 */
export class MemoryProviderStore implements ProviderStore {
  readonly #ttl: number;
  readonly #maxPerKey: number;
  readonly #maxPerPeer: number;
  readonly #maxTotal: number;
  readonly #byKey = new Map<string, Map<string, ProviderRecord>>();
  readonly #perPeer = new Map<string, number>();
  #total = 0;

  /** An empty store. */
  constructor(options: ProviderStoreOptions = {}) {
    this.#ttl = options.ttlMs ?? PROVIDER_RECORD_TTL_MS;
    this.#maxPerKey = options.maxPerKey ?? MAX_PROVIDERS_PER_KEY;
    this.#maxPerPeer = options.maxPerPeer ?? MAX_PROVIDER_RECORDS_PER_PEER;
    this.#maxTotal = options.maxTotal ?? MAX_PROVIDER_RECORDS;
  }

  /** Store or refresh a provider. */
  add(
    key: Uint8Array,
    provider: { peerId: Uint8Array; addrs: readonly Uint8Array[] },
    now: number,
  ): Promise<AddProviderResult> {
    return Promise.resolve(this.#add(key, provider, now));
  }

  #add(
    key: Uint8Array,
    provider: { peerId: Uint8Array; addrs: readonly Uint8Array[] },
    now: number,
  ): AddProviderResult {
    if (key.byteLength === 0 || key.byteLength > MAX_PROVIDER_KEY_BYTES) return "rejected-key";
    const k = keyOf(key);
    const p = keyOf(provider.peerId);
    let records = this.#byKey.get(k);
    const existing = records?.get(p);
    if (existing !== undefined) {
      existing.addrs = provider.addrs;
      existing.receivedAt = now;
      existing.expiresAt = now + this.#ttl;
      return "refreshed";
    }
    if (records !== undefined && records.size >= this.#maxPerKey) {
      this.#sweepKey(k, records, now);
      if (records.size >= this.#maxPerKey) return "rejected-per-key-cap";
    }
    if ((this.#perPeer.get(p) ?? 0) >= this.#maxPerPeer) return "rejected-per-peer-cap";
    if (this.#total >= this.#maxTotal) {
      this.#sweep(now);
      if (this.#total >= this.#maxTotal) return "rejected-total-cap";
    }
    if (records === undefined || !this.#byKey.has(k)) {
      records = new Map();
      this.#byKey.set(k, records);
    }
    records.set(p, {
      peerId: provider.peerId,
      addrs: provider.addrs,
      receivedAt: now,
      expiresAt: now + this.#ttl,
    });
    this.#perPeer.set(p, (this.#perPeer.get(p) ?? 0) + 1);
    this.#total++;
    return "added";
  }

  /** Unexpired providers of a key. */
  get(key: Uint8Array, now: number, limit: number = Infinity): Promise<ProviderRecord[]> {
    const k = keyOf(key);
    const records = this.#byKey.get(k);
    if (records === undefined) return Promise.resolve([]);
    this.#sweepKey(k, records, now);
    const out: ProviderRecord[] = [];
    for (const r of records.values()) {
      if (out.length >= limit) break;
      out.push({ ...r });
    }
    return Promise.resolve(out);
  }

  /** Drop every expired record. */
  sweep(now: number): Promise<number> {
    return Promise.resolve(this.#sweep(now));
  }

  /** Records stored. */
  size(): Promise<number> {
    return Promise.resolve(this.#total);
  }

  #sweep(now: number): number {
    let n = 0;
    for (const [k, records] of this.#byKey) n += this.#sweepKey(k, records, now);
    return n;
  }

  #sweepKey(k: string, records: Map<string, ProviderRecord>, now: number): number {
    let n = 0;
    for (const [p, r] of records) {
      if (r.expiresAt > now) continue;
      records.delete(p);
      const c = (this.#perPeer.get(p) ?? 1) - 1;
      if (c === 0) this.#perPeer.delete(p);
      else this.#perPeer.set(p, c);
      this.#total--;
      n++;
    }
    if (records.size === 0) this.#byKey.delete(k);
    return n;
  }
}
