/**
 * Node-level peer routing and content routing, as in js-libp2p (`node.peerRouting`,
 * `node.contentRouting`): one place to ask, whatever services can answer. A service takes part
 * by carrying a router under {@link PEER_ROUTER} or {@link CONTENT_ROUTER} (the Kademlia DHT
 * carries both); later routers (delegated HTTP routing, for example) join the same way.
 *
 * @module
 */

import { Libp2pError } from "../errors.ts";
import type { CID } from "../multiformats/cid.ts";
import type { Multiaddr } from "../multiaddr/mod.ts";
import type { PeerId } from "../peer_id.ts";
import type { AbortOptions } from "../stream/types.ts";

/** A peer and the addresses a router knows for it. */
export interface RoutedPeer {
  /** The peer. */
  id: PeerId;
  /** Its addresses (without `/p2p/`). */
  multiaddrs: Multiaddr[];
}

/** A CID as text (CIDv0 `Qm…` or multibase CIDv1), as a CID, or as an object with a multihash. */
export type ContentId = string | CID | { readonly multihash: { readonly bytes: Uint8Array } };

/** What a service offers for finding peers. */
export interface PeerRouter {
  /** A peer's addresses; rejects when not found. */
  findPeer(id: PeerId, options?: AbortOptions): Promise<RoutedPeer>;
}

/** What a service offers for finding content and storing records. */
export interface ContentRouter {
  /** Announce that we provide `cid`. */
  provide(cid: ContentId, options?: AbortOptions): Promise<unknown>;
  /** Providers of `cid` as they are found. */
  findProviders(cid: ContentId, options?: AbortOptions): AsyncIterable<RoutedPeer>;
  /** Store a record. */
  put(key: Uint8Array, value: Uint8Array, options?: AbortOptions): Promise<unknown>;
  /** The best record for `key`; rejects when none. */
  get(key: Uint8Array, options?: AbortOptions): Promise<Uint8Array>;
}

/**
 * The property a service carries its {@link PeerRouter} under.
 *
 * @example
 * ```ts
 * import { PEER_ROUTER, type PeerRouter } from "@p2p-edge/libp2p";
 * const service = {
 *   [PEER_ROUTER]: { findPeer: () => Promise.reject(new Error("not found")) } as PeerRouter,
 * };
 * ```
 */
export const PEER_ROUTER: unique symbol = Symbol.for("@p2p-edge/libp2p/peer-router");

/**
 * The property a service carries its {@link ContentRouter} under.
 *
 * @example
 * ```ts
 * import { CONTENT_ROUTER } from "@p2p-edge/libp2p";
 * const isContentRouter = (s: object) => CONTENT_ROUTER in s;
 * ```
 */
export const CONTENT_ROUTER: unique symbol = Symbol.for("@p2p-edge/libp2p/content-router");

/** No configured service can do what was asked (add one, e.g. `kadDHT()`). */
export class NoRoutersError extends Libp2pError {}

/** The routers the services carry, in service order. */
function routersOf<R>(services: Record<string, unknown>, key: symbol): R[] {
  const out: R[] = [];
  for (const service of Object.values(services)) {
    if (typeof service !== "object" || service === null) continue;
    const router = (service as Record<symbol, unknown>)[key];
    if (router !== undefined) out.push(router as R);
  }
  return out;
}

/**
 * `node.peerRouting`: asks every peer router at once; the first that finds the peer wins.
 *
 * @example
 * ```ts ignore
 * const info = await node.peerRouting.findPeer(peerIdFromString("12D3KooW..."));
 * console.log(info.multiaddrs.map(String));
 * ```
 */
export class PeerRouting {
  readonly #services: Record<string, unknown>;
  /** Built over the node's services (read at each call: services are built before start). */
  constructor(services: Record<string, unknown>) {
    this.#services = services;
  }

  /** Find a peer's addresses; rejects with the routers' errors when none finds it. */
  async findPeer(id: PeerId, options: AbortOptions = {}): Promise<RoutedPeer> {
    const routers = routersOf<PeerRouter>(this.#services, PEER_ROUTER);
    if (routers.length === 0) throw new NoRoutersError("no peer routers configured");
    try {
      return await Promise.any(routers.map((r) => r.findPeer(id, options)));
    } catch (err) {
      const errors = err instanceof AggregateError ? err.errors : [err];
      // One router: its own error (a not-found, an abort) is the clearest answer.
      if (errors.length === 1) throw errors[0];
      throw new Libp2pError(`peer ${id} not found by ${routers.length} routers`, { cause: err });
    }
  }
}

/**
 * `node.contentRouting`: announcements and records go to every content router; providers
 * stream from all of them, each peer once; `get` takes the first router's answer.
 *
 * @example
 * ```ts ignore
 * await node.contentRouting.provide("bafybeigdyrzt5sfp7udm7hu76uh7y26nf3efuylqabf3oclgtqy55fbzdi");
 * for await (const p of node.contentRouting.findProviders("Qm...")) console.log(p.id.toString());
 * ```
 */
export class ContentRouting {
  readonly #services: Record<string, unknown>;
  /** Built over the node's services (read at each call). */
  constructor(services: Record<string, unknown>) {
    this.#services = services;
  }

  #routers(): ContentRouter[] {
    const routers = routersOf<ContentRouter>(this.#services, CONTENT_ROUTER);
    if (routers.length === 0) throw new NoRoutersError("no content routers configured");
    return routers;
  }

  /** Announce `cid` through every router; rejects only if all fail. */
  async provide(cid: ContentId, options: AbortOptions = {}): Promise<void> {
    await anySettled(this.#routers().map((r) => r.provide(cid, options)));
  }

  /** Providers of `cid` from every router, each peer once, as they arrive. */
  async *findProviders(cid: ContentId, options: AbortOptions = {}): AsyncGenerator<RoutedPeer> {
    const seen = new Set<string>();
    const routers = this.#routers();
    // Routers are read one after another (each bounded by its own lookup deadlines).
    for (const router of routers) {
      for await (const peer of router.findProviders(cid, options)) {
        const key = peer.id.toString();
        if (seen.has(key)) continue;
        seen.add(key);
        yield peer;
      }
    }
  }

  /** Store a record through every router; rejects only if all fail. */
  async put(key: Uint8Array, value: Uint8Array, options: AbortOptions = {}): Promise<void> {
    await anySettled(this.#routers().map((r) => r.put(key, value, options)));
  }

  /** The first record a router returns; rejects when none has one. */
  async get(key: Uint8Array, options: AbortOptions = {}): Promise<Uint8Array> {
    const routers = this.#routers();
    try {
      return await Promise.any(routers.map((r) => r.get(key, options)));
    } catch (err) {
      const errors = err instanceof AggregateError ? err.errors : [err];
      if (errors.length === 1) throw errors[0];
      throw new Libp2pError(`no record found by ${routers.length} routers`, { cause: err });
    }
  }
}

/** Resolves when at least one settles fulfilled; rejects with the first error if none does. */
async function anySettled(all: Promise<unknown>[]): Promise<void> {
  const results = await Promise.allSettled(all);
  if (results.some((r) => r.status === "fulfilled")) return;
  throw (results[0] as PromiseRejectedResult).reason;
}
