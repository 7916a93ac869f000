/**
 * The public DHT operations (names as in js-libp2p's `@libp2p/kad-dht`): findPeer,
 * getClosestPeers, provide, findProviders, put and get (quorum, selection, entry correction),
 * each taking `{ signal }`. libp2p/specs `kad-dht/README.md` §Peer routing, §Content routing,
 * §Value storage and retrieval.
 *
 * @module
 */

import { equals, toHex } from "../../src/bytes.ts";
import { multiaddr } from "../../src/multiaddr/mod.ts";
import { CID } from "../../src/multiformats/cid.ts";
import {
  CONTENT_ROUTER,
  type ContentRouter,
  PEER_ROUTER,
  type PeerRouter,
} from "../../src/node/routing.ts";
import { multibaseDecode } from "../../src/multiformats/multibase.ts";
import type { Libp2pNode } from "../../src/node/node.ts";
import type { ServiceFactory } from "../../src/node/node.ts";
import { type PeerId, peerIdFromBytes, peerIdFromString } from "../../src/peer_id.ts";
import { type KadMessage, type KadPeer, MessageType } from "./codec.ts";
import { MAX_PROVIDERS_PER_KEY } from "./constants.ts";
import type { QueryPeer } from "./query.ts";
import { RecordValidationError, selectRecord, validateRecord } from "./records.ts";
import { coreFactory, findNode, KadDHTCore, provideKey } from "./service.ts";
import {
  type KadDHTOptions,
  type KadDHTStats,
  KadNotFoundError,
  type KadPeerInfo,
  MAX_PROVIDED_KEYS,
} from "./service_types.ts";

/** `{ signal }` of every operation. */
export interface KadAbortOptions {
  /** Cancels the operation. */
  signal?: AbortSignal;
}

/** A CID as text (CIDv0 `Qm…` or multibase CIDv1), as an object with a multihash, or bytes. */
export type CIDLike = string | { readonly multihash: { readonly bytes: Uint8Array } } | CID;

/** What {@link KadDHT.getClosestPeers} streams. */
export type KadQueryEvent =
  | { name: "PEER_RESPONSE"; from: PeerId; closer: KadPeerInfo[] }
  | { name: "QUERY_ERROR"; from: PeerId; error: unknown }
  | { name: "FINAL_PEER"; peer: KadPeerInfo };

/** Default quorum of {@link KadDHT.get}: js-libp2p's GET_MANY_RECORD_COUNT (16). */
export const DEFAULT_GET_QUORUM = 16;

const hex = toHex;

/**
 * The DHT service users hold (`node.services.dht`): peer routing, content routing and records.
 * Names as in js-libp2p's kad-dht; every call takes `{ signal }`.
 *
 * @example
 * ```ts
 * import type { KadDHTService } from "@p2p-edge/libp2p/protocols/kad-dht";
 * async function whereIs(dht: KadDHTService, id: string): Promise<string[]> {
 *   const info = await dht.findPeer(id);
 *   return info.multiaddrs.map(String);
 * }
 * ```
 */
export interface KadDHTService {
  /** Whether we serve the protocol now (server mode). */
  readonly serverMode: boolean;
  /** Counts for monitoring: table size, stores, requests. */
  stats(): KadDHTStats;
  /** Switch between server and client mode (identify push follows). */
  setMode(mode: "server" | "client"): void;
  /** Find a peer's addresses by its id; rejects with KadNotFoundError. */
  findPeer(id: PeerId | string, options?: KadAbortOptions): Promise<KadPeerInfo>;
  /** A lookup of any key bytes: each answer as it arrives, then the k closest peers. */
  getClosestPeers(
    key: Uint8Array,
    options?: KadAbortOptions,
  ): AsyncGenerator<KadQueryEvent, void, undefined>;
  /** Announce that we provide `cid` to the k closest peers; resolves with how many took it. */
  provide(cid: CIDLike, options?: KadAbortOptions): Promise<number>;
  /** Stop reproviding `cid`. */
  cancelReprovide(cid: CIDLike): void;
  /** Providers of `cid` as they are found, each once, up to `limit`. */
  findProviders(
    cid: CIDLike,
    options?: KadAbortOptions & { limit?: number },
  ): AsyncGenerator<KadPeerInfo, void, undefined>;
  /** Store a record at the k closest peers; resolves with how many stored it. */
  put(key: Uint8Array, value: Uint8Array, options?: KadAbortOptions): Promise<number>;
  /** The best valid record for `key` (quorum, selection, entry correction). */
  get(key: Uint8Array, options?: KadAbortOptions & { quorum?: number }): Promise<Uint8Array>;
}

/**
 * The DHT service as `node.services.dht`.
 *
 * @example
 * ```ts
 * import { createNode } from "@p2p-edge/libp2p";
 * import { identify } from "@p2p-edge/libp2p/protocols/identify";
 * import { kadDHT } from "@p2p-edge/libp2p/protocols/kad-dht";
 * import { memory } from "@p2p-edge/libp2p/transports/memory";
 * import { noise } from "@p2p-edge/libp2p/protocols/noise";
 * import { yamux } from "@p2p-edge/libp2p/protocols/yamux";
 * const node = await createNode({
 *   transports: [memory()],
 *   connectionEncrypters: [noise()],
 *   streamMuxers: [yamux()],
 *   services: { identify: identify(), dht: kadDHT({ clientMode: true }) },
 * });
 * // for await (const p of node.services.dht.findProviders("Qm…")) console.log(p.id.toString());
 * await node.stop();
 * ```
 */
export class KadDHT extends KadDHTCore implements KadDHTService {
  /** The DHT answers `node.peerRouting` ... */
  readonly [PEER_ROUTER]: PeerRouter = this;
  /** ... and `node.contentRouting`. */
  readonly [CONTENT_ROUTER]: ContentRouter = this;

  /** Find a peer's addresses by its id (text or PeerId). Rejects with KadNotFoundError. */
  async findPeer(id: PeerId | string, options: KadAbortOptions = {}): Promise<KadPeerInfo> {
    const target = typeof id === "string" ? peerIdFromString(id) : id;
    const key = target.toBytes();
    const lookup = this.lookup(key, findNode, options.signal);
    for await (const ev of lookup) {
      if (ev.kind !== "response") continue;
      for (const p of ev.message.closerPeers) {
        if (!equals(p.id, key)) continue;
        const addrs = this.shareable(p.addrs);
        if (addrs.length > 0) return { id: target, multiaddrs: addrs.map((a) => multiaddr(a)) };
      }
      if (equals(ev.peer.peerId, key) && (ev.peer.addrs ?? []).length > 0) {
        return { id: target, multiaddrs: ev.peer.addrs!.map((a) => multiaddr(a)) };
      }
    }
    throw new KadNotFoundError(`peer ${target} not found`);
  }

  /**
   * A lookup of any key bytes: each answer as it arrives, then the k closest peers that
   * answered (FINAL_PEER), nearest first.
   */
  async *getClosestPeers(
    key: Uint8Array,
    options: KadAbortOptions = {},
  ): AsyncGenerator<KadQueryEvent, void, undefined> {
    const lookup = this.lookup(key, findNode, options.signal);
    let r = await lookup.next();
    while (!r.done) {
      const ev = r.value;
      if (ev.kind === "response") {
        yield {
          name: "PEER_RESPONSE",
          from: peerId(ev.peer),
          closer: infos(this, ev.message.closerPeers),
        };
      } else {
        yield { name: "QUERY_ERROR", from: peerId(ev.peer), error: ev.error };
      }
      r = await lookup.next();
    }
    for (const p of r.value.closest) {
      yield {
        name: "FINAL_PEER",
        peer: { id: peerId(p), multiaddrs: (p.addrs ?? []).map((a) => multiaddr(a)) },
      };
    }
  }

  /**
   * Announce that we provide `cid` to the k closest peers of its multihash; reprovided
   * periodically. Resolves with how many peers took the announcement.
   */
  async provide(cid: CIDLike, options: KadAbortOptions = {}): Promise<number> {
    const key = cidKey(cid);
    if (this.provided.size < MAX_PROVIDED_KEYS || this.provided.has(hex(key))) {
      this.provided.set(hex(key), key);
    }
    return await provideKey(this, key, options.signal);
  }

  /** Stop reproviding `cid` (the records others hold expire on their own). */
  cancelReprovide(cid: CIDLike): void {
    this.provided.delete(hex(cidKey(cid)));
  }

  /**
   * Providers of `cid`, streamed as found (our own records first), at most `limit` (default
   * 20), each once.
   */
  async *findProviders(
    cid: CIDLike,
    options: KadAbortOptions & { limit?: number } = {},
  ): AsyncGenerator<KadPeerInfo, void, undefined> {
    const key = cidKey(cid);
    const limit = options.limit ?? MAX_PROVIDERS_PER_KEY;
    if (limit <= 0) return;
    const seen = new Set<string>();
    for (const r of await this.providers.get(key, Date.now(), limit)) {
      seen.add(hex(r.peerId));
      yield { id: peerIdFromBytes(r.peerId), multiaddrs: r.addrs.map((a) => multiaddr(a)) };
      if (seen.size >= limit) return;
    }
    const message = (k: Uint8Array): KadMessage => ({
      type: MessageType.GET_PROVIDERS,
      key: k,
      closerPeers: [],
      providerPeers: [],
    });
    for await (const ev of this.lookup(key, message, options.signal)) {
      if (ev.kind !== "response") continue;
      this.learn(ev.message.providerPeers);
      for (const p of ev.message.providerPeers) {
        const h = hex(p.id);
        if (seen.has(h)) continue;
        let id: PeerId;
        try {
          id = peerIdFromBytes(p.id);
        } catch {
          continue;
        }
        seen.add(h);
        const addrs = this.shareable(p.addrs).map((a) => multiaddr(a));
        if (addrs.length > 0) {
          await this.node.peerStore.merge(id, { addresses: addrs, addressSource: "discovered" })
            .catch(() => {});
        }
        yield { id, multiaddrs: addrs };
        if (seen.size >= limit) return;
      }
    }
  }

  /**
   * Store a record (validated first) locally and on the k closest peers of its key. Resolves
   * with how many peers stored it (echoed it back).
   */
  async put(key: Uint8Array, value: Uint8Array, options: KadAbortOptions = {}): Promise<number> {
    await validateRecord(this.validators, key, value, Date.now());
    await this.values.put(key, value, Date.now());
    const lookup = this.lookup(key, findNode, options.signal);
    let r = await lookup.next();
    while (!r.done) r = await lookup.next();
    const results = await Promise.allSettled(
      r.value.closest.map((p) => this.#putTo(p, key, value, options.signal)),
    );
    return results.filter((s) => s.status === "fulfilled" && s.value).length;
  }

  async #putTo(
    peer: QueryPeer,
    key: Uint8Array,
    value: Uint8Array,
    signal?: AbortSignal,
  ): Promise<boolean> {
    const echo = await this.send(peer, {
      type: MessageType.PUT_VALUE,
      key,
      record: { key, value },
      closerPeers: [],
      providerPeers: [],
    }, { signal });
    return echo?.record !== undefined && equals(echo.record.value, value);
  }

  /**
   * The best record under `key`: answers are collected until `quorum` valid ones (ours
   * counts) or the lookup ends, the validator's selector picks the best, and peers that
   * returned an older record or none get the best one (entry correction). Rejects with
   * KadNotFoundError when no valid record was found.
   */
  async get(
    key: Uint8Array,
    options: KadAbortOptions & { quorum?: number } = {},
  ): Promise<Uint8Array> {
    const quorum = Math.max(1, options.quorum ?? DEFAULT_GET_QUORUM);
    const found: { value: Uint8Array; peer?: QueryPeer }[] = [];
    const without: QueryPeer[] = [];
    const local = await this.values.get(key, Date.now());
    if (local !== undefined) {
      try {
        await validateRecord(this.validators, key, local.value, Date.now());
        found.push({ value: local.value });
      } catch (err) {
        if (!(err instanceof RecordValidationError)) throw err;
        await this.values.delete(key);
      }
    }
    const message = (k: Uint8Array): KadMessage => ({
      type: MessageType.GET_VALUE,
      key: k,
      closerPeers: [],
      providerPeers: [],
    });
    if (found.length < quorum) {
      for await (const ev of this.lookup(key, message, options.signal)) {
        if (ev.kind !== "response") continue;
        const rec = ev.message.record;
        // A record under another key is dropped (js 16.4.0 #3577); so is an invalid one.
        if (rec === undefined || !equals(rec.key, key)) {
          without.push(ev.peer);
          continue;
        }
        try {
          await validateRecord(this.validators, key, rec.value, Date.now());
        } catch (err) {
          if (!(err instanceof RecordValidationError)) throw err;
          without.push(ev.peer);
          continue;
        }
        found.push({ value: rec.value, peer: ev.peer });
        if (found.length >= quorum) break;
      }
    }
    if (found.length === 0) throw new KadNotFoundError("no valid record found");
    const best = found[selectRecord(this.validators, key, found.map((f) => f.value))].value;
    // Entry correction: peers that answered with an older record or none get the best one.
    const stale = [
      ...without,
      ...found.filter((f) => f.peer !== undefined && !equals(f.value, best)).map((f) => f.peer!),
    ];
    await Promise.allSettled(stale.map((p) => this.#putTo(p, key, best, options.signal)));
    if (local === undefined || !equals(local.value, best)) {
      await this.values.put(key, best, Date.now()).catch(() => {});
    }
    return best;
  }
}

/**
 * The Kademlia DHT service. Register it as `services.dht` next to identify (which it needs):
 * `services: { identify: identify(), dht: kadDHT({ ... }) }`.
 *
 * @example
 * ```ts
 * import { kadDHT } from "@p2p-edge/libp2p/protocols/kad-dht";
 * const dht = kadDHT({ clientMode: false, allowPrivateAddresses: true });
 * ```
 */
export function kadDHT(options: KadDHTOptions = {}): ServiceFactory<KadDHTService> {
  return kadDHTWithInternals(options);
}

/**
 * {@link kadDHT} typed with the whole service class (routing table, stores, lookups): for this
 * package's tests and node-internal code, not part of the public API.
 *
 * @example
 * ```ts
 * import { kadDHTWithInternals } from "./operations.ts";
 * const factory = kadDHTWithInternals({ allowPrivateAddresses: true });
 * ```
 */
export function kadDHTWithInternals(options: KadDHTOptions = {}): ServiceFactory<KadDHT> {
  if (options.kBucketSize !== undefined && !(options.kBucketSize >= 1)) {
    throw new RangeError("kBucketSize must be >= 1");
  }
  if (options.alpha !== undefined && !(options.alpha >= 1)) {
    throw new RangeError("alpha must be >= 1");
  }
  return coreFactory((node: Libp2pNode, opts) => new KadDHT(node, opts), options);
}

/**
 * The DHT key of a CID: its multihash bytes (what js and go send; research §1.2).
 *
 * @example
 * ```ts
 * import { cidKey } from "@p2p-edge/libp2p/protocols/kad-dht";
 * cidKey("QmYyQSo1c1Ym7orWxLYvCrM2EmxFTANf8wXmmE7DWjhx5N").length; // 34
 * ```
 */
export function cidKey(cid: CIDLike): Uint8Array {
  if (typeof cid === "string") {
    // CIDv0 is a bare base58btc sha2-256 multihash.
    if (cid.startsWith("Qm") && cid.length === 46) return multibaseDecode("z" + cid);
    return CID.parse(cid).multihash.bytes;
  }
  return cid.multihash.bytes;
}

function peerId(p: QueryPeer): PeerId {
  return peerIdFromBytes(p.peerId);
}

function infos(core: KadDHTCore, peers: readonly KadPeer[]): KadPeerInfo[] {
  const out: KadPeerInfo[] = [];
  for (const p of peers) {
    try {
      out.push({
        id: peerIdFromBytes(p.id),
        multiaddrs: core.shareable(p.addrs).map((a) => multiaddr(a)),
      });
    } catch {
      // An id that is not a peer id: skipped.
    }
  }
  return out;
}
