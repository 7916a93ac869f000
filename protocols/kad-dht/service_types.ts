/**
 * Options, limits, counters and shared types of the DHT service.
 *
 * @module
 */

import { Libp2pError } from "../../src/errors.ts";
import type { Multiaddr } from "../../src/multiaddr/mod.ts";
import type { Libp2pNode } from "../../src/node/node.ts";
import type { PeerId } from "../../src/peer_id.ts";
import type { KadMessage, KadPeer } from "./codec.ts";
import type { LookupEvent, LookupResult } from "./lookup.ts";
import type { ProviderStore } from "./providers.ts";
import type { QueryPeer } from "./query.ts";
import type { Validators } from "./records.ts";
import type { RoutingTable } from "./routing_table.ts";
import type { PeerRequestLimiterOptions } from "./rpc.ts";
import type { ValueStore } from "./values.ts";

/** Table refresh and self-lookup period (js 5 min, go 10 min; research §1.3). */
export const DEFAULT_REFRESH_INTERVAL_MS = 5 * 60_000;

/** Provider records we announced are announced again this often (go 22 h, research §1.3). */
export const DEFAULT_REPROVIDE_INTERVAL_MS = 22 * 60 * 60_000;

/** Expired provider and value records are swept this often (js: hourly). */
export const DEFAULT_SWEEP_INTERVAL_MS = 60 * 60_000;

/** Lookup checks (and bucket pings) in progress at once (go: 256; HARDENING.md rule 4). */
export const MAX_CONCURRENT_CHECKS = 32;

/** Checks waiting for a slot; further candidates are dropped (js queue 100; rule 4). */
export const MAX_QUEUED_CHECKS = 128;

/** Inbound DHT streams per connection (js: 32; CVE-2022-23486 class; rule 4). */
export const MAX_INBOUND_STREAMS = 32;

/** Keys we announce as provider, reprovided periodically (bounded: HARDENING.md rule 4). */
export const MAX_PROVIDED_KEYS = 100_000;

/** Whole-lookup deadline (go's refresh query 10 s is too short on slow links; js 180 s). */
export const DEFAULT_QUERY_TIMEOUT_MS = 60_000;

/** Options of {@link kadDHT}, each with its default. */
export interface KadDHTOptions {
  /**
   * `true`: client forever (does not serve the protocol). `false`: server now. Unset: server
   * while the address manager's reachability is "public", client otherwise.
   */
  clientMode?: boolean;
  /** Protocol id. Default `/ipfs/kad/1.0.0`. */
  protocol?: string;
  /** Bucket size and result size k. Default 20. */
  kBucketSize?: number;
  /** Requests in flight per lookup path. Default 10. */
  alpha?: number;
  /** Disjoint lookup paths. Default 1. */
  disjointPaths?: number;
  /**
   * Keep, send and store private and loopback addresses too. Default false: the public DHT
   * must not learn them. Loopback tests set it to true.
   */
  allowPrivateAddresses?: boolean;
  /** Peers to connect to at start, as multiaddrs with `/p2p/`. Default none. */
  bootstrapPeers?: readonly (string | Multiaddr)[];
  /** Table refresh and self-lookup period, ms; 0 disables. Default 5 min. */
  refreshIntervalMs?: number;
  /** Reprovide period, ms; 0 disables. Default 22 h. */
  reprovideIntervalMs?: number;
  /** Store sweep period, ms; 0 disables. Default 1 h. */
  sweepIntervalMs?: number;
  /** Per-request deadline, ms. Default 10 s. */
  requestTimeoutMs?: number;
  /** Whole-lookup deadline, ms. Default 60 s. */
  queryTimeoutMs?: number;
  /** Record validators by namespace. Default `/pk` and `/ipns`. */
  validators?: Validators;
  /** Provider records. Default a MemoryProviderStore. */
  providers?: ProviderStore;
  /** Value records. Default a MemoryValueStore. */
  values?: ValueStore;
  /** Per-peer limits of inbound requests (server mode). */
  requestLimits?: PeerRequestLimiterOptions;
  /** Deadline of an inbound message once started, ms. Default 10 s. */
  messageTimeoutMs?: number;
  /** Inbound stream idle deadline, ms. Default 60 s. */
  streamIdleTimeoutMs?: number;
  /**
   * Runs the periodic upkeep (refresh, reprovide, sweep). Default: `setInterval`. Tests and
   * simulations pass their own, so upkeep runs when they say, without sleeps.
   */
  scheduler?: UpkeepScheduler;
}

/**
 * Where the DHT's periodic upkeep runs: time is injected (ARCHITECTURE.md), so a test can fire
 * a refresh or a reprovide round at once.
 *
 * @example
 * ```ts
 * import type { UpkeepScheduler } from "@p2p-edge/libp2p/protocols/kad-dht";
 * const jobs = new Map<number, () => void>();
 * const manual: UpkeepScheduler = {
 *   every(periodMs, run) {
 *     jobs.set(periodMs, run);
 *     return () => jobs.delete(periodMs);
 *   },
 * };
 * // kadDHT({ scheduler: manual, refreshIntervalMs: 1000 }); later: jobs.get(1000)?.();
 * ```
 */
export interface UpkeepScheduler {
  /** Call `run` every `periodMs`; returns a function that cancels it. */
  every(periodMs: number, run: () => void): () => void;
}

/** The default {@link UpkeepScheduler}: `setInterval`. */
export const INTERVAL_SCHEDULER: UpkeepScheduler = {
  every(periodMs: number, run: () => void): () => void {
    const timer = setInterval(run, periodMs);
    return () => clearInterval(timer);
  },
};

/** A peer and its addresses. */
export interface KadPeerInfo {
  /** The peer. */
  id: PeerId;
  /** Its addresses (without `/p2p/`). */
  multiaddrs: Multiaddr[];
}

/** Counters of the service. */
export interface KadDHTStats {
  /** Inbound requests answered (or accepted, for ADD_PROVIDER). */
  served: number;
  /** Inbound requests refused by the per-peer limits. */
  refused: number;
  /** Inbound streams reset for a malformed, oversized or late message. */
  badStreams: number;
  /** Requests we sent. */
  sent: number;
  /** Peers in the routing table now. */
  routingTableSize: number;
}

/** Peer not found, no record, or no provider: the lookup ended without what was asked. */
export class KadNotFoundError extends Libp2pError {}

/** What the DHT operations use of the service core. */
export interface KadCore {
  /** The node the service runs on. */
  readonly node: Libp2pNode;
  /** The protocol id served and dialled. */
  readonly protocol: string;
  /** Bucket and result size. */
  readonly k: number;
  /** Record validators by namespace. */
  readonly validators: Validators;
  /** Provider records. */
  readonly providers: ProviderStore;
  /** Value records. */
  readonly values: ValueStore;
  /** The routing table. */
  readonly table: RoutingTable;
  /** Keys we provide (binary multihash by hex), reprovided periodically. */
  readonly provided: Map<string, Uint8Array>;
  /** The addresses of `addrs` that may be sent and stored under the address policy. */
  shareable(addrs: readonly Uint8Array[]): Uint8Array[];
  /** Our own shareable addresses (binary, without `/p2p/`). */
  selfAddrs(): Uint8Array[];
  /** Run a lookup of `key`, sending `message(key)` to each peer asked. */
  lookup(
    key: Uint8Array,
    message: (key: Uint8Array) => KadMessage,
    signal?: AbortSignal,
  ): AsyncGenerator<LookupEvent, LookupResult, undefined>;
  /** Send one request to a peer (dialling it); resolves with its answer. */
  send(
    peer: QueryPeer,
    message: KadMessage,
    options: { signal?: AbortSignal; expectReply?: boolean },
  ): Promise<KadMessage | undefined>;
  /** Remember the shareable addresses of peers listed in an answer. */
  learn(peers: readonly KadPeer[]): void;
}
