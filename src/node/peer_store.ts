/**
 * The peer store: what the node knows about other peers (addresses tagged by where they came
 * from and expiring by source, protocols, public key, agent version, tags, metadata), fed by
 * dials, by identify and by discovery services. Bounded: a remote peer cannot grow it without
 * limit (HARDENING.md rule 4). In-memory by default ({@link MemoryPeerStore}, in
 * memory_peer_store.ts); a persistent store implements {@link PeerStore}.
 *
 * @module
 */

import type { Multiaddr } from "../multiaddr/mod.ts";
import type { PeerId } from "../peer_id.ts";
import type { PublicKey } from "../keys/types.ts";

export { ADDRESS_SOURCES, type AddressSource, DEFAULT_ADDRESS_TTL_MS } from "./peer_address.ts";
import type { AddressSource } from "./peer_address.ts";

/** One stored address of a peer. */
export interface PeerAddress {
  /** The transport address (without `/p2p/`). */
  readonly multiaddr: Multiaddr;
  /** The most trusted source it was learned from. */
  readonly source: AddressSource;
  /** When it expires (ms since the epoch, the store's clock), unless the peer is connected. */
  readonly expires: number;
}

/** A tag on a peer: a value services use to rank peers (0 to 1000), optionally expiring. */
export interface PeerTag {
  /** The value, 0 to 1000. */
  readonly value: number;
  /** When the tag goes away (ms since the epoch, the store's clock); never when absent. */
  readonly expires?: number;
}

/** How to set a tag in a {@link PeerUpdate}. */
export interface PeerTagOptions {
  /** 0 to 1000. Default 0. */
  value?: number;
  /** Lifetime, ms; none by default. */
  ttlMs?: number;
}

/** What is known about one peer. */
export interface PeerInfo {
  /** The peer. */
  readonly id: PeerId;
  /** Known transport addresses (without `/p2p/`), most recently learned last. */
  readonly addresses: readonly Multiaddr[];
  /** The same addresses with their source and expiry. */
  readonly addressRecords: readonly PeerAddress[];
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
  /** Tags by name (expired ones are gone). */
  readonly tags: ReadonlyMap<string, PeerTag>;
  /** Application metadata by key. */
  readonly metadata: ReadonlyMap<string, Uint8Array>;
  /** Last update, ms since the epoch. */
  readonly updated: number;
}

/** Fields of a {@link PeerInfo} an update may set. */
export interface PeerUpdate {
  /** Addresses to add (merge) or to set (patch; see {@link PeerStore.patch}). */
  addresses?: readonly Multiaddr[];
  /** Where `addresses` come from. Default "discovered" (the least trusted). */
  addressSource?: AddressSource;
  /** Lifetime of `addresses`, ms. Default: {@link DEFAULT_ADDRESS_TTL_MS} of the source. */
  addressTtlMs?: number;
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
  /** Tags to set (merge) or the whole set of tags (patch); `undefined` removes a tag. */
  tags?: Readonly<Record<string, PeerTagOptions | undefined>>;
  /** Metadata to set (merge) or all of it (patch); `undefined` removes a key. */
  metadata?: Readonly<Record<string, Uint8Array | undefined>>;
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
  /**
   * Add addresses, tags and metadata; set the other given fields. Creates the entry if needed.
   * An address known already keeps the more trusted source and the later expiry.
   */
  merge(id: PeerId, update: PeerUpdate): Promise<PeerInfo>;
  /**
   * Replace the given fields. Addresses: the stored ones from `addressSource` are replaced
   * (a signed peer record also replaces those from identify, which it supersedes); addresses
   * from other sources stay. Tags and metadata, when given, replace all of them. Creates the
   * entry if needed.
   */
  patch(id: PeerId, update: PeerUpdate): Promise<PeerInfo>;
  /** Forget `id`. */
  delete(id: PeerId): Promise<void>;
  /** Every known peer. */
  all(): Promise<PeerInfo[]>;
  /**
   * The node reports connects (`true`) and last disconnects (`false`): a connected peer is
   * never evicted and its addresses do not expire. Optional for persistent stores.
   */
  setConnected?(id: PeerId, connected: boolean): void;
}
