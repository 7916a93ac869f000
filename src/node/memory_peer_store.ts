/**
 * The default peer store: in memory, every count capped (HARDENING.md rule 4), expiry by an
 * injected clock (no timers: expired addresses and tags are dropped when a peer is read or
 * written).
 *
 * @module
 */

import type { PeerId } from "../peer_id.ts";
import type { PublicKey } from "../keys/types.ts";
import { ADDRESS_SOURCES, type AddressSource, DEFAULT_ADDRESS_TTL_MS } from "./peer_address.ts";
import type {
  PeerAddress,
  PeerInfo,
  PeerStore,
  PeerTag,
  PeerTagOptions,
  PeerUpdate,
} from "./peer_store.ts";

/** Limits of {@link MemoryPeerStore}; each with its default. */
export interface MemoryPeerStoreOptions {
  /**
   * Most peers kept. Beyond it the least valuable of the least recently updated peers (lowest
   * total tag value among the {@link MAX_EVICTION_CANDIDATES} oldest) is evicted; connected
   * peers are never evicted. Default 10,000.
   */
  maxPeers?: number;
  /** Most addresses kept per peer (the least trusted, then soonest expiring, dropped). 32. */
  maxAddressesPerPeer?: number;
  /** Most protocols kept per peer (extra ones ignored). Default 128. */
  maxProtocolsPerPeer?: number;
  /** Longest agent/protocol version string kept (longer ones truncated). Default 256. */
  maxVersionLength?: number;
  /** Most tags per peer (new ones beyond it ignored). Default 32. */
  maxTagsPerPeer?: number;
  /** Most metadata keys per peer (new ones beyond it ignored). Default 32. */
  maxMetadataPerPeer?: number;
  /** Largest metadata value, bytes (a larger one is a RangeError). Default 4 KiB. */
  maxMetadataBytes?: number;
  /** Address lifetime by source, ms (merged over {@link DEFAULT_ADDRESS_TTL_MS}). */
  addressTtlMs?: Partial<Record<AddressSource, number>>;
  /** Clock (ms since the epoch), for tests. Default `Date.now`. */
  now?: () => number;
}

/** Oldest peers looked at to pick the one to evict (HARDENING.md rule 4: bounded work). */
export const MAX_EVICTION_CANDIDATES = 32;

/** Distinct protocol ids and version texts {@link MemoryPeerStore} shares between peers. */
export const MAX_INTERNED_TEXTS = 4096;

/** Largest tag value (the connection manager's scale). */
export const MAX_TAG_VALUE = 1000;

/** Longest tag name or metadata key, characters. */
const MAX_KEY_LENGTH = 256;

const TRUST = new Map<AddressSource, number>(
  ADDRESS_SOURCES.map((s, i) => [s, ADDRESS_SOURCES.length - i]),
);

interface Entry {
  id: PeerId;
  /** Keyed by multiaddr text; insertion order = the order learned. */
  addrs: Map<string, PeerAddress>;
  protocols: readonly string[];
  publicKey?: PublicKey;
  agentVersion?: string;
  protocolVersion?: string;
  peerRecordSeq?: bigint;
  tags: Map<string, PeerTag>;
  metadata: Map<string, Uint8Array>;
  updated: number;
  /** The snapshot handed out; rebuilt after a change. */
  view?: PeerInfo;
}

/**
 * The default in-memory, bounded peer store.
 *
 * @example
 * ```ts
 * import { MemoryPeerStore, generateKeyPair, peerIdFromPublicKey } from "@p2p-edge/libp2p";
 * const store = new MemoryPeerStore({ maxPeers: 1000 });
 * const id = peerIdFromPublicKey((await generateKeyPair("Ed25519")).publicKey);
 * await store.merge(id, { tags: { "kad-close": { value: 50, ttlMs: 60_000 } } });
 * (await store.get(id))?.tags.get("kad-close")?.value; // 50
 * ```
 */
export class MemoryPeerStore implements PeerStore {
  // Map iteration order = insertion order: re-inserting on update keeps it an LRU.
  readonly #peers = new Map<string, Entry>();
  readonly #connected = new Set<string>();
  readonly #maxPeers: number;
  readonly #maxAddrs: number;
  readonly #maxProtocols: number;
  readonly #maxVersion: number;
  readonly #maxTags: number;
  readonly #maxMetadata: number;
  readonly #maxMetadataBytes: number;
  readonly #ttl: Readonly<Record<AddressSource, number>>;
  readonly #now: () => number;
  // One shared copy of each protocol id and version text peers send: thousands of peers send
  // the same few, and each decoded copy would cost its own string. Bounded, so junk ids from
  // hostile peers stop being interned instead of growing the table.
  readonly #texts = new Map<string, string>();

  /** Create an empty store. */
  constructor(options: MemoryPeerStoreOptions = {}) {
    this.#maxPeers = positive(options.maxPeers ?? 10_000, "maxPeers");
    this.#maxAddrs = positive(options.maxAddressesPerPeer ?? 32, "maxAddressesPerPeer");
    this.#maxProtocols = positive(options.maxProtocolsPerPeer ?? 128, "maxProtocolsPerPeer");
    this.#maxVersion = positive(options.maxVersionLength ?? 256, "maxVersionLength");
    this.#maxTags = positive(options.maxTagsPerPeer ?? 32, "maxTagsPerPeer");
    this.#maxMetadata = positive(options.maxMetadataPerPeer ?? 32, "maxMetadataPerPeer");
    this.#maxMetadataBytes = positive(options.maxMetadataBytes ?? 4096, "maxMetadataBytes");
    const ttl = { ...DEFAULT_ADDRESS_TTL_MS, ...options.addressTtlMs };
    for (const [source, ms] of Object.entries(ttl)) {
      if (!(ms > 0)) throw new RangeError(`addressTtlMs.${source} must be > 0`);
    }
    this.#ttl = ttl;
    this.#now = options.now ?? Date.now;
  }

  /** Number of peers stored. */
  get size(): number {
    return this.#peers.size;
  }

  get(id: PeerId): Promise<PeerInfo | undefined> {
    const entry = this.#peers.get(id.toString());
    return Promise.resolve(entry === undefined ? undefined : this.#view(entry));
  }

  merge(id: PeerId, update: PeerUpdate): Promise<PeerInfo> {
    try {
      return Promise.resolve(this.#write(id, update, true));
    } catch (err) {
      return Promise.reject(err);
    }
  }

  patch(id: PeerId, update: PeerUpdate): Promise<PeerInfo> {
    try {
      return Promise.resolve(this.#write(id, update, false));
    } catch (err) {
      return Promise.reject(err);
    }
  }

  delete(id: PeerId): Promise<void> {
    this.#peers.delete(id.toString());
    return Promise.resolve();
  }

  all(): Promise<PeerInfo[]> {
    return Promise.resolve([...this.#peers.values()].map((e) => this.#view(e)));
  }

  setConnected(id: PeerId, connected: boolean): void {
    const key = id.toString();
    if (connected) {
      this.#connected.add(key);
      return;
    }
    if (!this.#connected.delete(key)) return;
    // The addresses' lifetime starts again when the peer leaves (go: RecentlyConnectedAddrTTL).
    const entry = this.#peers.get(key);
    if (entry === undefined) return;
    const now = this.#now();
    for (const [text, a] of entry.addrs) {
      const expires = Math.max(a.expires, now + this.#ttl[a.source]);
      if (expires !== a.expires) entry.addrs.set(text, { ...a, expires });
    }
    entry.view = undefined;
    this.#evict();
  }

  /** The snapshot of `entry`, with what expired dropped first. */
  #view(entry: Entry): PeerInfo {
    const now = this.#now();
    if (this.#expire(entry, now) || entry.view === undefined) {
      const records = [...entry.addrs.values()];
      entry.view = {
        id: entry.id,
        addresses: records.map((a) => a.multiaddr),
        addressRecords: records,
        protocols: entry.protocols,
        publicKey: entry.publicKey,
        agentVersion: entry.agentVersion,
        protocolVersion: entry.protocolVersion,
        peerRecordSeq: entry.peerRecordSeq,
        tags: new Map(entry.tags),
        metadata: new Map(entry.metadata),
        updated: entry.updated,
      };
    }
    return entry.view;
  }

  /** Drop expired tags, and expired addresses unless the peer is connected; true if any. */
  #expire(entry: Entry, now: number): boolean {
    let changed = false;
    for (const [name, tag] of entry.tags) {
      if (tag.expires !== undefined && tag.expires <= now) {
        entry.tags.delete(name);
        changed = true;
      }
    }
    if (!this.#connected.has(entry.id.toString())) {
      for (const [text, a] of entry.addrs) {
        if (a.expires <= now) {
          entry.addrs.delete(text);
          changed = true;
        }
      }
    }
    return changed;
  }

  #write(id: PeerId, update: PeerUpdate, merge: boolean): PeerInfo {
    const key = id.toString();
    const now = this.#now();
    let entry = this.#peers.get(key);
    if (entry === undefined) {
      entry = {
        id,
        addrs: new Map(),
        protocols: [],
        publicKey: id.publicKey,
        tags: new Map(),
        metadata: new Map(),
        updated: now,
      };
    } else {
      this.#expire(entry, now);
    }
    if (update.addresses !== undefined) this.#writeAddrs(entry, update, merge, now);
    if (update.protocols !== undefined) {
      entry.protocols = [...new Set(update.protocols)].slice(0, this.#maxProtocols).map((p) =>
        this.#intern(p)
      );
    }
    if (update.publicKey !== undefined) entry.publicKey = update.publicKey;
    const agent = this.#intern(clip(update.agentVersion, this.#maxVersion));
    if (agent !== undefined) entry.agentVersion = agent;
    const version = this.#intern(clip(update.protocolVersion, this.#maxVersion));
    if (version !== undefined) entry.protocolVersion = version;
    if (update.peerRecordSeq !== undefined) entry.peerRecordSeq = update.peerRecordSeq;
    if (update.tags !== undefined) this.#writeTags(entry, update.tags, merge, now);
    if (update.metadata !== undefined) this.#writeMetadata(entry, update.metadata, merge);
    entry.updated = now;
    entry.view = undefined;
    this.#peers.delete(key);
    this.#peers.set(key, entry);
    this.#evict(key);
    return this.#view(entry);
  }

  #writeAddrs(entry: Entry, update: PeerUpdate, merge: boolean, now: number): void {
    const source = update.addressSource ?? "discovered";
    const trust = TRUST.get(source);
    if (trust === undefined) throw new TypeError(`unknown address source ${String(source)}`);
    const ttl = update.addressTtlMs ?? this.#ttl[source];
    if (!(ttl > 0)) throw new RangeError("addressTtlMs must be > 0");
    const expires = now + ttl;
    if (!merge) {
      for (const [text, a] of entry.addrs) {
        if (a.source === source || (source === "peer-record" && a.source === "identify")) {
          entry.addrs.delete(text);
        }
      }
    }
    for (const multiaddr of update.addresses!) {
      const text = multiaddr.toString();
      const old = entry.addrs.get(text);
      const keepOld = old !== undefined && TRUST.get(old.source)! > trust;
      entry.addrs.delete(text); // newest last
      entry.addrs.set(text, {
        multiaddr: old?.multiaddr ?? multiaddr,
        source: keepOld ? old.source : source,
        expires: Math.max(old?.expires ?? 0, expires),
      });
    }
    while (entry.addrs.size > this.#maxAddrs) {
      // The least trusted, then the soonest expiring.
      let victim: [string, PeerAddress] | undefined;
      for (const item of entry.addrs) {
        if (victim === undefined || rank(item[1]) < rank(victim[1])) victim = item;
      }
      entry.addrs.delete(victim![0]);
    }
  }

  #writeTags(
    entry: Entry,
    tags: Readonly<Record<string, PeerTagOptions | undefined>>,
    merge: boolean,
    now: number,
  ): void {
    if (!merge) entry.tags.clear();
    for (const [name, options] of Object.entries(tags)) {
      checkKey(name, "tag name");
      if (options === undefined) {
        entry.tags.delete(name);
        continue;
      }
      const value = options.value ?? 0;
      if (!Number.isFinite(value) || value < 0 || value > MAX_TAG_VALUE) {
        throw new RangeError(`tag value must be 0 to ${MAX_TAG_VALUE}`);
      }
      if (options.ttlMs !== undefined && !(options.ttlMs > 0)) {
        throw new RangeError("tag ttlMs must be > 0");
      }
      if (!entry.tags.has(name) && entry.tags.size >= this.#maxTags) continue;
      entry.tags.set(
        name,
        options.ttlMs === undefined ? { value } : { value, expires: now + options.ttlMs },
      );
    }
  }

  #writeMetadata(
    entry: Entry,
    metadata: Readonly<Record<string, Uint8Array | undefined>>,
    merge: boolean,
  ): void {
    if (!merge) entry.metadata.clear();
    for (const [key, value] of Object.entries(metadata)) {
      checkKey(key, "metadata key");
      if (value === undefined) {
        entry.metadata.delete(key);
        continue;
      }
      if (!(value instanceof Uint8Array)) throw new TypeError("metadata values are Uint8Arrays");
      if (value.byteLength > this.#maxMetadataBytes) {
        throw new RangeError(`metadata value larger than ${this.#maxMetadataBytes} bytes`);
      }
      if (!entry.metadata.has(key) && entry.metadata.size >= this.#maxMetadata) continue;
      entry.metadata.set(key, value.slice());
    }
  }

  /**
   * Over `maxPeers`: evict, among the {@link MAX_EVICTION_CANDIDATES} least recently updated
   * peers we are not connected to, the one with the lowest total tag value (the oldest on a
   * tie). Connected peers stay even above the cap (the connection manager bounds them), and
   * so does `keep` (the peer being written).
   */
  #evict(keep?: string): void {
    while (this.#peers.size > this.#maxPeers) {
      const now = this.#now();
      let victim: string | undefined;
      let victimValue = Infinity;
      let seen = 0;
      for (const [key, entry] of this.#peers) {
        if (this.#connected.has(key) || key === keep) continue;
        const value = tagValue(entry, now);
        if (value < victimValue) {
          victim = key;
          victimValue = value;
        }
        if (++seen >= MAX_EVICTION_CANDIDATES || value === 0) break;
      }
      if (victim === undefined) return;
      this.#peers.delete(victim);
    }
  }

  #intern<T extends string | undefined>(text: T): T {
    if (text === undefined) return text;
    const known = this.#texts.get(text);
    if (known !== undefined) return known as T;
    if (this.#texts.size < MAX_INTERNED_TEXTS) this.#texts.set(text, text);
    return text;
  }
}

function rank(a: PeerAddress): number {
  // Trust dominates; within one trust level, a later expiry ranks higher.
  return TRUST.get(a.source)! * 1e15 + a.expires;
}

function tagValue(entry: Entry, now: number): number {
  let total = 0;
  for (const tag of entry.tags.values()) {
    if (tag.expires === undefined || tag.expires > now) total += tag.value;
  }
  return total;
}

function checkKey(key: string, what: string): void {
  if (key.length === 0 || key.length > MAX_KEY_LENGTH) {
    throw new RangeError(`${what} must be 1 to ${MAX_KEY_LENGTH} characters`);
  }
}

function clip(text: string | undefined, max: number): string | undefined {
  return text === undefined ? undefined : text.slice(0, max);
}

function positive(value: number, name: string): number {
  if (!Number.isInteger(value) || value < 1) throw new RangeError(`${name} must be >= 1`);
  return value;
}
