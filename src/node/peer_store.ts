/**
 * The peer store: what the node knows about other peers (addresses, protocols, public key,
 * agent version), fed by dials and by identify. Bounded: a remote peer cannot grow it without
 * limit (HARDENING.md rule 4). In-memory by default; a persistent store implements
 * {@link PeerStore}.
 *
 * @module
 */

import type { Multiaddr } from "../multiaddr/mod.ts";
import type { PeerId } from "../peer_id.ts";
import type { PublicKey } from "../keys/types.ts";

/** What is known about one peer. */
export interface PeerInfo {
  /** The peer. */
  readonly id: PeerId;
  /** Known transport addresses (without `/p2p/`), most recently learned last. */
  readonly addresses: readonly Multiaddr[];
  /** Protocols it said it supports (identify). */
  readonly protocols: readonly string[];
  /** Its public key, once proven. */
  readonly publicKey?: PublicKey;
  /** identify agentVersion. */
  readonly agentVersion?: string;
  /** identify protocolVersion. */
  readonly protocolVersion?: string;
  /** Sequence number of the newest signed peer record accepted. */
  readonly peerRecordSeq?: bigint;
  /** Last update, ms since the epoch. */
  readonly updated: number;
}

/** Fields of a {@link PeerInfo} an update may set. */
export interface PeerUpdate {
  /** Addresses to add (merge) or to set (patch). */
  addresses?: readonly Multiaddr[];
  /** Protocols to set. */
  protocols?: readonly string[];
  /** Public key. */
  publicKey?: PublicKey;
  /** Agent version. */
  agentVersion?: string;
  /** Protocol version. */
  protocolVersion?: string;
  /** Signed peer record sequence number. */
  peerRecordSeq?: bigint;
}

/**
 * Storage of peer information. Methods are async so that persistent stores fit.
 *
 * @example
 * ```ts
 * import { MemoryPeerStore, generateKeyPair, peerIdFromPublicKey } from "@p2p-edge/libp2p";
 * const store = new MemoryPeerStore();
 * const id = peerIdFromPublicKey((await generateKeyPair("Ed25519")).publicKey);
 * await store.merge(id, { agentVersion: "demo/1.0" });
 * (await store.get(id))?.agentVersion; // "demo/1.0"
 * ```
 */
export interface PeerStore {
  /** The info of `id`, if known. */
  get(id: PeerId): Promise<PeerInfo | undefined>;
  /** Add addresses; set the other given fields. Creates the entry if needed. */
  merge(id: PeerId, update: PeerUpdate): Promise<PeerInfo>;
  /** Replace the given fields (addresses included). Creates the entry if needed. */
  patch(id: PeerId, update: PeerUpdate): Promise<PeerInfo>;
  /** Forget `id`. */
  delete(id: PeerId): Promise<void>;
  /** Every known peer. */
  all(): Promise<PeerInfo[]>;
}

/** Limits of {@link MemoryPeerStore}. */
export interface MemoryPeerStoreOptions {
  /** Most peers kept; the least recently updated is evicted beyond it. Default 10,000. */
  maxPeers?: number;
  /** Most addresses kept per peer (the oldest dropped). Default 32. */
  maxAddressesPerPeer?: number;
  /** Most protocols kept per peer (extra ones ignored). Default 128. */
  maxProtocolsPerPeer?: number;
  /** Longest agent/protocol version string kept (longer ones truncated). Default 256. */
  maxVersionLength?: number;
  /** Clock, for tests. */
  now?: () => number;
}

/**
 * The default in-memory, bounded peer store.
 *
 * @example
 * ```ts
 * import { MemoryPeerStore } from "@p2p-edge/libp2p";
 * const store = new MemoryPeerStore({ maxPeers: 1000 });
 * (await store.all()).length; // 0
 * ```
 */
export class MemoryPeerStore implements PeerStore {
  // Map iteration order = insertion order: re-inserting on update keeps it an LRU.
  readonly #peers = new Map<string, PeerInfo>();
  readonly #maxPeers: number;
  readonly #maxAddrs: number;
  readonly #maxProtocols: number;
  readonly #maxVersion: number;
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
    this.#now = options.now ?? Date.now;
  }

  /** Number of peers stored. */
  get size(): number {
    return this.#peers.size;
  }

  get(id: PeerId): Promise<PeerInfo | undefined> {
    return Promise.resolve(this.#peers.get(id.toString()));
  }

  merge(id: PeerId, update: PeerUpdate): Promise<PeerInfo> {
    return Promise.resolve(this.#write(id, update, true));
  }

  patch(id: PeerId, update: PeerUpdate): Promise<PeerInfo> {
    return Promise.resolve(this.#write(id, update, false));
  }

  delete(id: PeerId): Promise<void> {
    this.#peers.delete(id.toString());
    return Promise.resolve();
  }

  all(): Promise<PeerInfo[]> {
    return Promise.resolve([...this.#peers.values()]);
  }

  #write(id: PeerId, update: PeerUpdate, mergeAddresses: boolean): PeerInfo {
    const key = id.toString();
    const old = this.#peers.get(key);
    let addresses = old?.addresses ?? [];
    if (update.addresses !== undefined) {
      const base = mergeAddresses ? addresses : [];
      const seen = new Set<string>();
      const merged: Multiaddr[] = [];
      // Newest last; drop duplicates keeping the newest position.
      for (const a of [...base, ...update.addresses].reverse()) {
        const text = a.toString();
        if (seen.has(text)) continue;
        seen.add(text);
        merged.push(a);
        if (merged.length >= this.#maxAddrs) break;
      }
      addresses = merged.reverse();
    }
    const info: PeerInfo = {
      id: old?.id ?? id,
      addresses,
      protocols: update.protocols !== undefined
        ? [...new Set(update.protocols)].slice(0, this.#maxProtocols).map((p) => this.#intern(p))
        : old?.protocols ?? [],
      publicKey: update.publicKey ?? old?.publicKey ?? id.publicKey,
      agentVersion: this.#intern(clip(update.agentVersion, this.#maxVersion)) ?? old?.agentVersion,
      protocolVersion: this.#intern(clip(update.protocolVersion, this.#maxVersion)) ??
        old?.protocolVersion,
      peerRecordSeq: update.peerRecordSeq ?? old?.peerRecordSeq,
      updated: this.#now(),
    };
    this.#peers.delete(key);
    this.#peers.set(key, info);
    while (this.#peers.size > this.#maxPeers) {
      const oldest = this.#peers.keys().next().value as string;
      this.#peers.delete(oldest);
    }
    return info;
  }

  #intern<T extends string | undefined>(text: T): T {
    if (text === undefined) return text;
    const known = this.#texts.get(text);
    if (known !== undefined) return known as T;
    if (this.#texts.size < MAX_INTERNED_TEXTS) this.#texts.set(text, text);
    return text;
  }
}

/** Distinct protocol ids and version texts {@link MemoryPeerStore} shares between peers. */
const MAX_INTERNED_TEXTS = 4096;

function clip(text: string | undefined, max: number): string | undefined {
  return text === undefined ? undefined : text.slice(0, max);
}

function positive(value: number, name: string): number {
  if (!Number.isInteger(value) || value < 1) throw new RangeError(`${name} must be >= 1`);
  return value;
}
