/**
 * Recently good peers: peers we held a working connection with, their dialable addresses and
 * when we last saw them, kept in a datastore so that a restarted node dials them first (it
 * rejoins its neighbourhood, relay clients and DHT peers without waiting for bootstrap).
 *
 * The list is bounded ({@link MAX_RECENT_PEERS}, oldest dropped; HARDENING.md rule 4), each peer
 * keeps at most {@link MAX_RECENT_PEER_ADDRS} addresses, and a peer seen again within
 * {@link RECENT_PEER_REWRITE_MS} with the same addresses is not rewritten, so a churning edge
 * node does not write on every connection.
 *
 * @module
 */

import { utf8Decode, utf8Encode } from "../bytes.ts";
import type { Connection } from "../connection.ts";
import { type Multiaddr, multiaddr } from "../multiaddr/mod.ts";
import type { Libp2pNode } from "../node/node.ts";
import { type PeerId, peerIdFromString } from "../peer_id.ts";
import type { AbortOptions } from "../stream/types.ts";
import type { Datastore } from "./types.ts";

/** Where the list lives: one key per peer, `/peers/recent/<peer id>`. */
export const RECENT_PEERS_PREFIX = "/peers/recent";

/** Most peers kept; the least recently seen is dropped first (HARDENING.md rule 4). */
export const MAX_RECENT_PEERS = 64;

/** Most addresses kept per peer (identify may send up to its own cap). */
export const MAX_RECENT_PEER_ADDRS = 8;

/** A peer seen again within this time, with unchanged addresses, is not rewritten, ms. */
export const RECENT_PEER_REWRITE_MS = 60_000;

/** Largest stored entry read back, bytes (8 addresses of a few hundred bytes each). */
const MAX_ENTRY_BYTES = 8 * 1024;

/** Dials in flight at once in {@link dialRecentPeers}. */
export const RECENT_PEER_DIAL_CONCURRENCY = 4;

/** One recently good peer. */
export interface RecentPeer {
  /** Its peer id, as text. */
  readonly peerId: string;
  /** Addresses it was reached at or announced, most useful first (without `/p2p/`). */
  readonly addrs: readonly string[];
  /** When it was last seen connected, ms since the epoch. */
  readonly lastSeen: number;
}

/** Options of {@link RecentPeers}. */
export interface RecentPeersOptions {
  /** Most peers kept. Default {@link MAX_RECENT_PEERS}. */
  maxPeers?: number;
  /** The clock, ms. Default `Date.now`. */
  now?: () => number;
}

/**
 * The bounded list of recently good peers, mirrored in memory and written through to a
 * datastore. Call {@link RecentPeers.load} once before use.
 *
 * @example
 * ```ts
 * import { MemoryDatastore, RecentPeers } from "@p2p-edge/libp2p";
 * const recent = new RecentPeers(new MemoryDatastore());
 * await recent.load();
 * await recent.record("12D3KooWD3eckifWpRn9wQpMG9R9hX3sD158z7EqHWmweQAJU5SA", [
 *   "/ip4/192.0.2.1/tcp/4001",
 * ]);
 * recent.list()[0].addrs; // ["/ip4/192.0.2.1/tcp/4001"]
 * ```
 */
export class RecentPeers {
  readonly #ds: Datastore;
  readonly #max: number;
  readonly #now: () => number;
  readonly #peers = new Map<string, RecentPeer>();

  /** A list kept in `datastore`. */
  constructor(datastore: Datastore, options: RecentPeersOptions = {}) {
    this.#ds = datastore;
    this.#max = options.maxPeers ?? MAX_RECENT_PEERS;
    this.#now = options.now ?? Date.now;
    if (!Number.isInteger(this.#max) || this.#max < 1) {
      throw new RangeError("maxPeers must be a positive integer");
    }
  }

  /**
   * Read the stored list. Entries that do not parse (a bad peer id, garbage) are deleted, and
   * entries beyond the cap (the oldest) too. Resolves with the list, most recent first.
   */
  async load(options?: AbortOptions): Promise<RecentPeer[]> {
    this.#peers.clear();
    const bad: string[] = [];
    for await (const { key, value } of this.#ds.list(RECENT_PEERS_PREFIX, options)) {
      const peer = decodeEntry(key.slice(RECENT_PEERS_PREFIX.length + 1), value);
      if (peer === undefined) bad.push(key);
      else this.#peers.set(peer.peerId, peer);
    }
    for (const old of this.#overCap()) bad.push(keyOf(old));
    if (bad.length > 0) {
      const batch = this.#ds.batch();
      for (const key of bad) batch.delete(key);
      await batch.commit(options);
    }
    return this.list();
  }

  /** The peers, most recently seen first. */
  list(): RecentPeer[] {
    return [...this.#peers.values()].sort((a, b) => b.lastSeen - a.lastSeen);
  }

  /** Peers held. */
  get size(): number {
    return this.#peers.size;
  }

  /**
   * Remember that `peer` was good just now, reachable at `addrs` (merged with what was stored,
   * the new ones first; `/p2p/<id>` suffixes are removed). A peer without any address is
   * skipped: it could not be dialled back. Resolves with whether anything was written.
   */
  async record(
    peer: PeerId | string,
    addrs: readonly (Multiaddr | string)[],
    options?: AbortOptions,
  ): Promise<boolean> {
    const id = typeof peer === "string" ? peerIdFromString(peer).toString() : peer.toString();
    const old = this.#peers.get(id);
    const merged: string[] = [];
    for (const a of [...addrs.map(String), ...(old?.addrs ?? [])]) {
      const text = stripPeer(a, id);
      if (text === "" || merged.includes(text)) continue;
      merged.push(text);
      if (merged.length >= MAX_RECENT_PEER_ADDRS) break;
    }
    if (merged.length === 0) return false;
    const now = this.#now();
    if (
      old !== undefined && now - old.lastSeen < RECENT_PEER_REWRITE_MS &&
      sameList(old.addrs, merged)
    ) return false;
    const entry: RecentPeer = { peerId: id, addrs: merged, lastSeen: now };
    this.#peers.set(id, entry);
    const batch = this.#ds.batch();
    batch.put(keyOf(entry), encodeEntry(entry));
    for (const evicted of this.#overCap()) batch.delete(keyOf(evicted));
    await batch.commit(options);
    return true;
  }

  /** Forget `peer` (say it proved to be someone else). */
  async forget(peer: PeerId | string, options?: AbortOptions): Promise<void> {
    const id = peer.toString();
    const entry = this.#peers.get(id);
    if (entry === undefined) return;
    this.#peers.delete(id);
    await this.#ds.delete(keyOf(entry), options);
  }

  /** Drop the least recently seen peers beyond the cap from memory; returns them. */
  #overCap(): RecentPeer[] {
    if (this.#peers.size <= this.#max) return [];
    const dropped = this.list().slice(this.#max);
    for (const p of dropped) this.#peers.delete(p.peerId);
    return dropped;
  }
}

function keyOf(peer: RecentPeer): string {
  return `${RECENT_PEERS_PREFIX}/${peer.peerId}`;
}

function stripPeer(addr: string, id: string): string {
  const suffix = `/p2p/${id}`;
  return addr.endsWith(suffix) ? addr.slice(0, -suffix.length) : addr;
}

function sameList(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

function encodeEntry(peer: RecentPeer): Uint8Array {
  return utf8Encode(JSON.stringify({ addrs: peer.addrs, lastSeen: peer.lastSeen }));
}

function decodeEntry(id: string, value: Uint8Array): RecentPeer | undefined {
  if (value.byteLength > MAX_ENTRY_BYTES) return undefined;
  try {
    const peerId = peerIdFromString(id).toString();
    const v = JSON.parse(utf8Decode(value)) as { addrs?: unknown; lastSeen?: unknown };
    if (!Array.isArray(v.addrs) || typeof v.lastSeen !== "number") return undefined;
    if (!Number.isFinite(v.lastSeen)) return undefined;
    const addrs: string[] = [];
    for (const a of v.addrs.slice(0, MAX_RECENT_PEER_ADDRS)) {
      if (typeof a !== "string") return undefined;
      addrs.push(multiaddr(a).toString()); // throws on a malformed address
    }
    return addrs.length === 0 ? undefined : { peerId, addrs, lastSeen: v.lastSeen };
  } catch {
    return undefined;
  }
}

/**
 * Keep `recent` up to date from `node`'s events: a peer that identified (its listen
 * addresses) or that we dialled (the address that worked) is recorded. Write failures go to
 * `onError` (default: ignored), never to the event loop. Returns a function that detaches.
 *
 * @example
 * ```ts ignore
 * import { RecentPeers, trackRecentPeers } from "@p2p-edge/libp2p";
 * const stop = trackRecentPeers(node, recent, { onError: (e) => console.error(e) });
 * ```
 */
export function trackRecentPeers(
  node: Libp2pNode<Record<string, unknown>>,
  recent: RecentPeers,
  options: { onError?: (error: unknown) => void } = {},
): () => void {
  const fail = (err: unknown): void => options.onError?.(err);
  const onIdentify = (
    e: CustomEvent<{ peerId: PeerId; listenAddrs?: Multiaddr[]; connection?: Connection }>,
  ): void => {
    const { peerId, listenAddrs, connection } = e.detail;
    const addrs: (Multiaddr | string)[] = [...(listenAddrs ?? [])];
    if (connection?.direction === "outbound") addrs.unshift(connection.remoteAddr);
    recent.record(peerId, addrs).catch(fail);
  };
  const onOpen = (e: CustomEvent<Connection>): void => {
    const conn = e.detail;
    if (conn.direction !== "outbound") return; // an inbound source port is not dialable
    recent.record(conn.remotePeer, [conn.remoteAddr]).catch(fail);
  };
  node.addEventListener("peer:identify", onIdentify);
  node.addEventListener("connection:open", onOpen);
  return () => {
    node.removeEventListener("peer:identify", onIdentify as EventListener);
    node.removeEventListener("connection:open", onOpen as EventListener);
  };
}

/** What {@link dialRecentPeers} did. */
export interface RecentDialResult {
  /** Peers tried. */
  readonly tried: number;
  /** Peers connected. */
  readonly connected: PeerId[];
}

/**
 * Dial the recently good peers, most recent first, at most
 * {@link RECENT_PEER_DIAL_CONCURRENCY} at once, each at its stored addresses in order until one
 * works. Failures are expected (peers go away) and only counted. The CLI calls this at start,
 * before its other dials.
 *
 * @example
 * ```ts ignore
 * import { dialRecentPeers, RecentPeers } from "@p2p-edge/libp2p";
 * const recent = new RecentPeers(datastore);
 * await recent.load();
 * const { connected } = await dialRecentPeers(node, recent);
 * ```
 */
export async function dialRecentPeers(
  node: Libp2pNode<Record<string, unknown>>,
  recent: RecentPeers,
  options: AbortOptions & { limit?: number } = {},
): Promise<RecentDialResult> {
  const peers = recent.list().filter((p) => p.peerId !== node.peerId.toString())
    .slice(0, options.limit ?? MAX_RECENT_PEERS);
  const connected: PeerId[] = [];
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < peers.length) {
      options.signal?.throwIfAborted();
      const peer = peers[next++];
      for (const addr of peer.addrs) {
        try {
          const conn = await node.dial(multiaddr(`${addr}/p2p/${peer.peerId}`), options);
          connected.push(conn.remotePeer);
          break;
        } catch {
          if (options.signal?.aborted === true) throw options.signal.reason;
        }
      }
    }
  };
  const workers = Math.min(RECENT_PEER_DIAL_CONCURRENCY, peers.length);
  await Promise.all(Array.from({ length: workers }, worker));
  return { tried: peers.length, connected };
}
