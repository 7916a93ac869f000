/**
 * The Kademlia DHT as a node service (`node.services.dht`): the network side of the sans-IO
 * core. It keeps the routing table (admission through identify topologies plus a lookup check,
 * least-recently-seen checks for full buckets), serves `/ipfs/kad/1.0.0` in server mode, drives
 * lookups, and runs the upkeep (bootstrap, refresh, self-lookup, reprovide, store sweeps).
 * The operations (findPeer, getClosestPeers, provide, findProviders, put, get) live in
 * operations.ts. libp2p/specs `kad-dht/README.md`.
 *
 * @module
 */

import { randomBytes, toHex } from "../../src/bytes.ts";
import type { Connection } from "../../src/connection.ts";
import { Libp2pError, LimitExceededError, TimeoutError } from "../../src/errors.ts";
import { type Multiaddr, multiaddr } from "../../src/multiaddr/mod.ts";
import type { Libp2pNode, ServiceFactory, Startable } from "../../src/node/node.ts";
import { IDENTIFY_CAPABILITY } from "../../src/node/services.ts";
import { type PeerId, peerIdFromBytes } from "../../src/peer_id.ts";
import { encodeFrame, type KadMessage, type KadPeer, MessageType } from "./codec.ts";
import { ALPHA, K_BUCKET_SIZE, KAD_PROTOCOL_ID, MAX_ADDRS_PER_PEER } from "./constants.ts";
import { type HandlerContext, handleRequest } from "./handlers.ts";
import { isPublicMultiaddr } from "./ip_group.ts";
import { kadId, MAX_REFRESH_CPL, refreshKeyForCpl } from "./keyspace.ts";
import { type LookupEvent, type LookupResult, runLookup } from "./lookup.ts";
import { MemoryProviderStore, type ProviderStore } from "./providers.ts";
import type { QueryPeer } from "./query.ts";
import { DEFAULT_VALIDATORS, type Validators } from "./records.ts";
import { RoutingTable } from "./routing_table.ts";
import {
  MESSAGE_TIMEOUT_MS,
  MessageReader,
  PeerRequestLimiter,
  refusedError,
  request,
  STREAM_IDLE_TIMEOUT_MS,
} from "./rpc.ts";
import { MemoryValueStore, type ValueStore } from "./values.ts";
import {
  DEFAULT_QUERY_TIMEOUT_MS,
  DEFAULT_REFRESH_INTERVAL_MS,
  DEFAULT_REPROVIDE_INTERVAL_MS,
  DEFAULT_SWEEP_INTERVAL_MS,
  INTERVAL_SCHEDULER,
  type KadCore,
  type KadDHTOptions,
  type KadDHTStats,
  MAX_CONCURRENT_CHECKS,
  MAX_INBOUND_STREAMS,
  MAX_QUEUED_CHECKS,
} from "./service_types.ts";

const hex = toHex;

/**
 * The DHT service core. Operations are added by `KadDHT` in operations.ts.
 *
 * @example
 * ```ts
 * import { kadDHT } from "@p2p-edge/libp2p/protocols/kad-dht";
 * const factory = kadDHT({ clientMode: true }); // services: { identify: identify(), dht: factory }
 * ```
 */
export class KadDHTCore implements KadCore, Startable {
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
  readonly provided: Map<string, Uint8Array> = new Map();
  readonly #options: KadDHTOptions;
  readonly #alpha: number;
  readonly #limiter: PeerRequestLimiter;
  readonly #handlerContext: HandlerContext;
  /** Addresses of peers learned from answers and connections, by peer id hex (bounded). */
  readonly #addrs = new Map<string, Uint8Array[]>();
  readonly #checking = new Set<string>();
  #checkQueue: { peer: PeerId; addrs: Uint8Array[] }[] = [];
  #topology: string | undefined;
  /** Cancels the upkeep jobs armed by start(). */
  #timers: (() => void)[] = [];
  #lifetime = new AbortController();
  #server = false;
  #started = false;
  readonly #stats: Omit<KadDHTStats, "routingTableSize"> = {
    served: 0,
    refused: 0,
    badStreams: 0,
    sent: 0,
  };

  /** Prefer {@link kadDHT}, which builds it as a node service. */
  constructor(node: Libp2pNode, options: KadDHTOptions) {
    this.node = node;
    this.#options = options;
    this.protocol = options.protocol ?? KAD_PROTOCOL_ID;
    this.k = options.kBucketSize ?? K_BUCKET_SIZE;
    this.#alpha = options.alpha ?? ALPHA;
    this.validators = options.validators ?? DEFAULT_VALIDATORS;
    this.providers = options.providers ?? new MemoryProviderStore();
    this.values = options.values ?? new MemoryValueStore();
    this.#limiter = new PeerRequestLimiter(options.requestLimits);
    const selfId = node.peerId.toBytes();
    this.table = new RoutingTable({
      selfId,
      kBucketSize: this.k,
      allowPrivateAddresses: options.allowPrivateAddresses ?? false,
    });
    this.#handlerContext = {
      selfId,
      selfAddrs: () => this.selfAddrs(),
      addrsOf: (p) => this.#addrs.get(hex(p)) ?? this.table.get(p)?.addrs ?? [],
      table: this.table,
      providers: this.providers,
      values: this.values,
      validators: this.validators,
      allowPrivateAddresses: options.allowPrivateAddresses ?? false,
      k: this.k,
    };
  }

  /** True while we serve the protocol. */
  get serverMode(): boolean {
    return this.#server;
  }

  /** Counters. */
  stats(): KadDHTStats {
    return { ...this.#stats, refused: this.#limiter.refused, routingTableSize: this.table.size };
  }

  /** Register the topology, apply the mode, arm the upkeep timers, bootstrap once listening. */
  start(): void {
    if (this.#started) return;
    this.#started = true;
    this.#lifetime = new AbortController();
    this.#topology = this.node.register(this.protocol, {
      onConnect: (peer, conn) => this.#onKadPeer(peer, conn),
      onDisconnect: () => {},
    });
    this.node.addEventListener("self:reachability", this.#onReachability);
    this.#applyMode();
    const every = (ms: number | undefined, def: number, run: () => Promise<unknown>): void => {
      const period = ms ?? def;
      const scheduler = this.#options.scheduler ?? INTERVAL_SCHEDULER;
      if (period > 0) this.#timers.push(scheduler.every(period, () => run().catch(() => {})));
    };
    every(this.#options.refreshIntervalMs, DEFAULT_REFRESH_INTERVAL_MS, () => this.refresh());
    every(
      this.#options.reprovideIntervalMs,
      DEFAULT_REPROVIDE_INTERVAL_MS,
      () => this.#reprovide(),
    );
    every(this.#options.sweepIntervalMs, DEFAULT_SWEEP_INTERVAL_MS, () => this.#sweep());
    if ((this.#options.bootstrapPeers ?? []).length > 0) {
      // Services start before the node accepts dials: bootstrap once it is listening.
      this.node.addEventListener("listening", this.#onListening, { once: true });
    }
  }

  readonly #onListening = (): void => {
    if (this.#started) this.bootstrap().catch(() => {});
  };

  /** Stop serving, release timers, abort lookups and checks in progress. */
  stop(): void {
    if (!this.#started) return;
    this.#started = false;
    for (const cancel of this.#timers) cancel();
    this.#timers = [];
    this.#lifetime.abort(new Libp2pError("DHT stopped"));
    this.node.removeEventListener("self:reachability", this.#onReachability);
    this.node.removeEventListener("listening", this.#onListening);
    if (this.#topology !== undefined) this.node.unregister(this.#topology);
    this.#topology = undefined;
    this.#setServer(false);
    this.#checkQueue = [];
  }

  /** Switch to server (`true`) or client mode now, overriding the automatic choice. */
  setMode(mode: "server" | "client"): void {
    this.#options.clientMode = mode === "client";
    this.#applyMode();
  }

  /** Dial the bootstrap peers, then look ourselves up to fill the table. */
  async bootstrap(options: { signal?: AbortSignal } = {}): Promise<void> {
    const signal = this.#signal(options.signal);
    await Promise.allSettled((this.#options.bootstrapPeers ?? []).map(async (a) => {
      const addr = typeof a === "string" ? multiaddr(a) : a;
      const conn = await this.node.dial(addr, { signal });
      await this.#check(conn.remotePeer, [withoutP2p(conn.remoteAddr).bytes]).catch(() => {});
    }));
    await this.refresh({ signal });
  }

  /** One self-lookup, then a random lookup for each bucket below the deepest non-empty one. */
  async refresh(options: { signal?: AbortSignal } = {}): Promise<void> {
    const signal = this.#signal(options.signal);
    await this.#drain(this.node.peerId.toBytes(), signal);
    const sizes = this.table.bucketSizes();
    let deepest = 0;
    for (let i = 0; i < sizes.length; i++) if (sizes[i] > 0) deepest = i;
    const last = Math.min(deepest, MAX_REFRESH_CPL);
    for (let cpl = 0; cpl < last && !signal.aborted; cpl++) {
      if (sizes[cpl] >= this.k) continue;
      await this.#drain(refreshKeyForCpl(this.table.selfKadId, cpl, randomBytes), signal);
    }
  }

  async #drain(key: Uint8Array, signal: AbortSignal): Promise<void> {
    const it = this.lookup(key, (k) => findNode(k), signal);
    for await (const _ of it) { /* peers that answer are admitted by lookup() */ }
  }

  /** The addresses of `addrs` that may be sent and stored under the address policy. */
  shareable(addrs: readonly Uint8Array[]): Uint8Array[] {
    const list = this.#options.allowPrivateAddresses === true
      ? [...addrs]
      : addrs.filter(isPublicMultiaddr);
    return list.slice(0, MAX_ADDRS_PER_PEER);
  }

  /** Our own shareable addresses (binary, without `/p2p/`). */
  selfAddrs(): Uint8Array[] {
    return this.shareable(this.node.addressManager.getAddresses().map((a) => withoutP2p(a).bytes));
  }

  /** Note peers from an answer: their shareable addresses, for dialling and FIND_NODE answers. */
  learn(peers: readonly KadPeer[]): void {
    for (const p of peers) {
      const addrs = this.shareable(p.addrs);
      if (addrs.length === 0) continue;
      const key = hex(p.id);
      this.#addrs.delete(key);
      this.#addrs.set(key, addrs);
      // Bounded like a table's worth of lookups (HARDENING.md rule 4): oldest first out.
      if (this.#addrs.size > 64 * this.k) this.#addrs.delete(this.#addrs.keys().next().value!);
    }
  }

  /**
   * A lookup of `key` seeded from the table, sending `message(key)` to each peer asked; peers
   * that answer are offered to the table (answering proves they serve the protocol).
   */
  lookup(
    key: Uint8Array,
    message: (key: Uint8Array) => KadMessage,
    signal?: AbortSignal,
  ): AsyncGenerator<LookupEvent, LookupResult, undefined> {
    const target = kadId(key);
    const seeds = this.table.closest(target, this.k).map((c) => ({
      peerId: c.peerId,
      kadId: c.kadId,
      addrs: c.addrs,
    }));
    return runLookup({
      target,
      seeds,
      selfId: this.node.peerId.toBytes(),
      k: this.k,
      alpha: this.#alpha,
      disjointPaths: this.#options.disjointPaths,
      peerTimeoutMs: this.#options.requestTimeoutMs ?? MESSAGE_TIMEOUT_MS,
      queryTimeoutMs: this.#options.queryTimeoutMs ?? DEFAULT_QUERY_TIMEOUT_MS,
      signal: this.#signal(signal),
      now: () => performance.now(),
      send: async (peer, sig) => {
        const answer = await this.send(peer, message(key), { signal: sig });
        // It answered the protocol, so it serves it: a lookup check passed.
        this.#admit(peerIdFromBytes(peer.peerId), this.#addrsFor(peer));
        return answer!;
      },
      closerOf: (msg) => {
        this.learn(msg.closerPeers);
        const out: QueryPeer[] = [];
        for (const p of msg.closerPeers) {
          const addrs = this.shareable(p.addrs);
          const id = safePeerId(p.id);
          if (id === undefined) continue;
          if (addrs.length > 0 || this.node.getConnections(id).length > 0) {
            out.push({ peerId: p.id, addrs });
          }
        }
        return out;
      },
    });
  }

  /** Send one request to a peer (dialling it, on a fresh stream); resolves with its answer. */
  async send(
    peer: QueryPeer,
    message: KadMessage,
    options: { signal?: AbortSignal; expectReply?: boolean },
  ): Promise<KadMessage | undefined> {
    const id = peerIdFromBytes(peer.peerId);
    const addrs = this.#addrsFor(peer);
    if (this.node.getConnections(id).length === 0 && addrs.length > 0) {
      await this.node.peerStore.merge(id, {
        addresses: addrs.map((a) => multiaddr(a)),
        addressSource: "discovered",
      });
    }
    this.#stats.sent++;
    const ms = this.#options.requestTimeoutMs ?? MESSAGE_TIMEOUT_MS;
    const stream = await this.node.dialProtocol(id, this.protocol, { signal: options.signal });
    return await request(stream, message, {
      expectReply: options.expectReply,
      timeoutMs: ms,
      signal: options.signal,
    });
  }

  #addrsFor(peer: QueryPeer): Uint8Array[] {
    const known = peer.addrs ?? [];
    return known.length > 0 ? [...known] : this.#addrs.get(hex(peer.peerId)) ?? [];
  }

  #signal(signal: AbortSignal | undefined): AbortSignal {
    return signal === undefined
      ? this.#lifetime.signal
      : AbortSignal.any([signal, this.#lifetime.signal]);
  }

  // --- mode -------------------------------------------------------------------------------

  readonly #onReachability = (): void => this.#applyMode();

  #applyMode(): void {
    if (!this.#started) return;
    const explicit = this.#options.clientMode;
    const server = explicit === undefined
      ? this.node.addressManager.reachability === "public"
      : !explicit;
    this.#setServer(server);
  }

  /** Serve the protocol or stop serving it; the node's self:peer:update pushes identify. */
  #setServer(server: boolean): void {
    if (server === this.#server) return;
    this.#server = server;
    if (server) {
      this.node.handle(this.protocol, (s) => this.#serve(s), {
        maxInboundStreams: MAX_INBOUND_STREAMS,
        idleTimeoutMs: 0, // our own idle and per-message deadlines apply
      });
    } else {
      this.node.unhandle(this.protocol);
    }
  }

  // --- server -----------------------------------------------------------------------------

  async #serve(stream: {
    readable: ReadableStream<Uint8Array>;
    writable: WritableStream<Uint8Array>;
    remotePeer: PeerId;
    abort(reason?: unknown): void;
    close(): Promise<void>;
  }): Promise<void> {
    const from = stream.remotePeer;
    const fromKey = from.toString();
    const fromBytes = from.toBytes();
    const reader = new MessageReader(stream.readable);
    const writer = stream.writable.getWriter();
    const stop = this.#lifetime.signal;
    const onStop = (): void => stream.abort(stop.reason);
    stop.addEventListener("abort", onStop, { once: true });
    try {
      for (;;) {
        const msg = await reader.next({
          firstByteMs: this.#options.streamIdleTimeoutMs ?? STREAM_IDLE_TIMEOUT_MS,
          messageMs: this.#options.messageTimeoutMs ?? MESSAGE_TIMEOUT_MS,
        });
        if (msg === undefined) break;
        if (!this.#limiter.admit(fromKey, performance.now())) throw refusedError(fromKey);
        let answer: KadMessage | undefined;
        try {
          answer = await handleRequest(this.#handlerContext, fromBytes, msg, Date.now());
        } finally {
          this.#limiter.done(fromKey);
        }
        this.#stats.served++;
        if (answer !== undefined) await writer.write(encodeFrame(answer));
      }
      writer.releaseLock();
      await stream.close().catch(() => {});
    } catch (err) {
      if (!(err instanceof LimitExceededError && err.limit === "PEER_REQUESTS")) {
        this.#stats.badStreams++;
      }
      stream.abort(err);
    } finally {
      stop.removeEventListener("abort", onStop);
    }
  }

  // --- routing table admission --------------------------------------------------------------

  /** A connected peer lists the protocol (identify): check it with a lookup, then admit it. */
  async #onKadPeer(peer: PeerId, conn: Connection): Promise<void> {
    const info = await this.node.peerStore.get(peer).catch(() => undefined);
    const addrs = (info?.addresses ?? []).map((a) => a.bytes);
    if (addrs.length === 0 && !conn.limited) addrs.push(withoutP2p(conn.remoteAddr).bytes);
    this.#enqueueCheck(peer, addrs);
  }

  #enqueueCheck(peer: PeerId, addrs: Uint8Array[]): void {
    if (!this.#started || this.table.has(peer.toBytes())) return;
    const key = peer.toString();
    if (this.#checking.has(key)) return;
    if (this.#checking.size >= MAX_CONCURRENT_CHECKS) {
      if (this.#checkQueue.length < MAX_QUEUED_CHECKS) this.#checkQueue.push({ peer, addrs });
      return;
    }
    this.#checking.add(key);
    this.#check(peer, addrs).catch(() => {}).finally(() => {
      this.#checking.delete(key);
      const next = this.#checkQueue.shift();
      if (next !== undefined) this.#enqueueCheck(next.peer, next.addrs);
    });
  }

  /** The lookup check (go `lookupCheck`): a FIND_NODE for our id must be answered. */
  async #check(peer: PeerId, addrs: Uint8Array[]): Promise<void> {
    const signal = AbortSignal.any([
      this.#lifetime.signal,
      AbortSignal.timeout(this.#options.requestTimeoutMs ?? MESSAGE_TIMEOUT_MS),
    ]);
    const answer = await this.send(
      { peerId: peer.toBytes(), addrs },
      findNode(this.node.peerId.toBytes()),
      { signal },
    );
    if (answer === undefined || answer.type !== MessageType.FIND_NODE) {
      throw new TimeoutError("lookup check not answered");
    }
    this.learn(answer.closerPeers);
    this.#admit(peer, addrs);
  }

  /** Offer a peer that answered to the table; a full bucket pings its least recently seen. */
  #admit(peer: PeerId, addrs: Uint8Array[]): void {
    const shared = this.shareable(addrs);
    const result = this.table.add(peer.toBytes(), shared, performance.now());
    if (result.action !== "check") return;
    const old = result.old;
    const signal = AbortSignal.any([
      this.#lifetime.signal,
      AbortSignal.timeout(this.#options.requestTimeoutMs ?? MESSAGE_TIMEOUT_MS),
    ]);
    const ping: KadMessage = { type: MessageType.PING, closerPeers: [], providerPeers: [] };
    this.send({ peerId: old.peerId, addrs: old.addrs }, ping, { signal }).then(
      () => this.table.resolveCheck(old.peerId, true, performance.now()),
      () => this.table.resolveCheck(old.peerId, false, performance.now()),
    );
  }

  // --- upkeep -----------------------------------------------------------------------------

  async #reprovide(): Promise<void> {
    const signal = this.#lifetime.signal;
    for (const key of [...this.provided.values()]) {
      if (signal.aborted) return;
      await provideKey(this, key, signal).catch(() => {});
    }
  }

  async #sweep(): Promise<void> {
    const now = Date.now();
    await this.providers.sweep(now);
    await this.values.sweep(now);
  }
}

/** A FIND_NODE request for `key`. */
export function findNode(key: Uint8Array): KadMessage {
  return { type: MessageType.FIND_NODE, key, closerPeers: [], providerPeers: [] };
}

/**
 * Announce ourselves as a provider of `key` (multihash bytes) to the k closest peers: a lookup,
 * then ADD_PROVIDER (no reply) to each. Resolves with how many peers took the announcement.
 */
export async function provideKey(
  core: KadCore,
  key: Uint8Array,
  signal?: AbortSignal,
): Promise<number> {
  const self = core.node.peerId.toBytes();
  const addrs = core.selfAddrs();
  await core.providers.add(key, { peerId: self, addrs }, Date.now());
  const it = core.lookup(key, findNode, signal);
  let r = await it.next();
  while (!r.done) r = await it.next();
  const message: KadMessage = {
    type: MessageType.ADD_PROVIDER,
    key,
    closerPeers: [],
    providerPeers: [{ id: self, addrs, connection: 0 }],
  };
  const sent = await Promise.allSettled(
    r.value.closest.map((p) => core.send(p, message, { signal, expectReply: false })),
  );
  return sent.filter((s) => s.status === "fulfilled").length;
}

function withoutP2p(addr: Multiaddr): Multiaddr {
  const codes = addr.protoCodes();
  return codes[codes.length - 1] === 421 ? addr.decapsulateCode(421) : addr;
}

function safePeerId(bytes: Uint8Array): PeerId | undefined {
  try {
    return peerIdFromBytes(bytes);
  } catch {
    return undefined;
  }
}

/** Build the service; see operations.ts for the public class. */
export function coreFactory<T>(
  build: (node: Libp2pNode, options: KadDHTOptions) => T,
  options: KadDHTOptions,
): ServiceFactory<T> {
  return Object.assign((node: Libp2pNode) => build(node, { ...options }), {
    serviceCapabilities: Object.freeze([
      "@libp2p/kad-dht",
      "@libp2p/peer-routing",
      "@libp2p/content-routing",
    ]),
    serviceDependencies: Object.freeze([IDENTIFY_CAPABILITY]),
  });
}
