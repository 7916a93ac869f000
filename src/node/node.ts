/**
 * The node: transports, security, muxers and services wired together, with dialling,
 * listening, protocol handlers and connection tracking.
 *
 * @module
 */

import { deadlineSignal, raceSignal } from "../abort.ts";
import type {
  Connection,
  NewStreamOptions,
  Stream,
  StreamHandler,
  StreamHandlerOptions,
} from "../connection.ts";
import { ConnectionClosedError, Libp2pError, LimitExceededError, TimeoutError } from "../errors.ts";
import { generateKeyPair, peerIdFromPrivateKey } from "../keys/mod.ts";
import type { PrivateKey } from "../keys/types.ts";
import {
  CODE_P2P_CIRCUIT,
  defaultResolver,
  dnsMultiaddrResolver,
  type DnsResolver,
  dohResolver,
  isMultiaddr,
  type Multiaddr,
  multiaddr,
  type MultiaddrResolver,
} from "../multiaddr/mod.ts";
import { systemDnsResolver } from "../runtime.ts";
import type { StreamMuxerFactory } from "../muxer.ts";
import { type PeerId, peerIdFromString } from "../peer_id.ts";
import type { ConnectionEncrypter } from "../security.ts";
import type { AbortOptions } from "../stream/types.ts";
import type { Listener, RawConnection, Transport } from "../transport.ts";
import { Upgrader } from "../upgrader.ts";
import {
  ConnectionManager,
  type ConnectionManagerOptions,
  type ConnectionManagerStats,
} from "./connection_manager.ts";
import { Dialer, type DialerOptions, DialError } from "./dialer.ts";
import { type ConnectionGater, gate } from "./gater.ts";
import { type ResourceLimits, ResourceManager, type ResourceStats } from "./resource_manager.ts";
import { type NodeEventMap, TypedEventTarget } from "./events.ts";
import { MemoryPeerStore } from "./memory_peer_store.ts";
import type { PeerStore } from "./peer_store.ts";
import { Registrar, validateProtocolId } from "./registrar.ts";
import { type AddressesOptions, AddressManager } from "./address_manager.ts";
import { LimitedConnectionError } from "./limits.ts";
import { orderServices } from "./services.ts";
import { Topologies, type Topology } from "./topology.ts";
import { ContentRouting, PeerRouting } from "./routing.ts";
import type { PeerDiscovery } from "./discovery.ts";
import { DiscoveryManager } from "./discovery_manager.ts";
import { TrafficCounters } from "../metrics/traffic.ts";

/**
 * Builds a service from the node; the service may have start/stop hooks ({@link Startable}).
 * Optional properties declare what it provides and what it needs.
 *
 * @example
 * ```ts
 * import { defineService, type ServiceFactory } from "@p2p-edge/libp2p";
 * const kad: ServiceFactory<{ mode: string }> = defineService(() => ({ mode: "client" }), {
 *   capabilities: ["@libp2p/kad-dht"],
 *   dependencies: ["@libp2p/identify"],
 * });
 * ```
 */
export interface ServiceFactory<T> {
  /** Build the service (called once, when the node is created). */
  (node: Libp2pNode): T;
  /** What the service provides, e.g. "@libp2p/identify". Default none. */
  readonly serviceCapabilities?: readonly string[];
  /** Capabilities or service names it needs; the node fails to build without them. */
  readonly serviceDependencies?: readonly string[];
}

/** Optional lifecycle hooks of a service. */
export interface Startable {
  /** Called by node.start() after the listeners are up, dependencies first. */
  start?(): void | Promise<void>;
  /** Called by node.stop() before connections close, dependants first. */
  stop?(): void | Promise<void>;
}

/**
 * Attach capabilities and dependencies to a service factory.
 *
 * @example
 * ```ts
 * import { defineService } from "@p2p-edge/libp2p";
 * const hello = defineService(() => ({ hi: () => "hi" }), { dependencies: ["@libp2p/identify"] });
 * hello.serviceDependencies; // ["@libp2p/identify"]
 * ```
 */
export function defineService<T>(
  build: (node: Libp2pNode) => T,
  meta: { capabilities?: readonly string[]; dependencies?: readonly string[] },
): ServiceFactory<T> {
  const factory = (node: Libp2pNode): T => build(node);
  return Object.assign(factory, {
    serviceCapabilities: Object.freeze([...(meta.capabilities ?? [])]),
    serviceDependencies: Object.freeze([...(meta.dependencies ?? [])]),
  });
}

/**
 * A `transports` entry that needs the node (circuit relay opens streams through it and serves a
 * protocol): called once, at the end of the node's constructor, after the services are built.
 * Defined here rather than in src/transport.ts so that the transport contract does not import
 * the node (no import cycles, ARCHITECTURE.md).
 *
 * @example
 * ```ts
 * import type { TransportFactory } from "@p2p-edge/libp2p";
 * import { memory } from "@p2p-edge/libp2p/transports/memory";
 * const factory: TransportFactory = (node) => {
 *   console.log(`memory transport for ${node.peerId}`);
 *   return memory();
 * };
 * ```
 */
export type TransportFactory = (node: Libp2pNode) => Transport;

/**
 * A `peerDiscovery` entry that needs the node (bootstrap dials through it, mDNS announces its
 * addresses): called once, at the end of the node's constructor. See {@link PeerDiscovery}.
 *
 * @example
 * ```ts
 * import { PeerDiscoveryBase, type PeerDiscoveryFactory } from "@p2p-edge/libp2p";
 * const none: PeerDiscoveryFactory = (node) => {
 *   console.log(`discovery for ${node.peerId}`);
 *   return new PeerDiscoveryBase();
 * };
 * ```
 */
export type PeerDiscoveryFactory = (node: Libp2pNode) => PeerDiscovery;

/**
 * A `connectionEncrypters` entry: a factory that builds the encrypter from the node's private key
 * (what `noise()` returns), or a ready encrypter.
 */
export type SecurityOption =
  | ConnectionEncrypter
  | ((init: { privateKey: PrivateKey }) => ConnectionEncrypter);

/** Options of {@link Libp2pNode.dial}. */
export interface DialOptions extends AbortOptions {
  /**
   * Accept a limited (relayed) connection: an open one is reused even when it is the only one.
   * Default false: a limited connection is reused only when nothing else is open, and when
   * none is unlimited a new dial is made.
   */
  runOnLimitedConnection?: boolean;
}

/** Options of {@link Libp2pNode.dialProtocol}. */
export interface DialProtocolOptions extends DialOptions, NewStreamOptions {}

/** A dial in flight, shared by the callers that asked for the same peer and addresses. */
interface PendingDial {
  readonly promise: Promise<Connection>;
  /** Its key in the node's map of dials in flight. */
  readonly key: string;
  /** Callers still waiting on it. */
  waiters: number;
  /** Aborts the attempt once every caller has given up. */
  readonly abandon: AbortController;
}

/** Something to dial: a multiaddr (with or without `/p2p/`), a peer id, or their text. */
export type DialTarget = Multiaddr | PeerId | string;

/** Node configuration; every field is documented with its default. */
export interface NodeInit<S extends Record<string, unknown> = Record<string, unknown>> {
  /** Identity key. Default: a fresh Ed25519 key. */
  privateKey?: PrivateKey;
  /**
   * Transports (e.g. tcp(), memory()), or factories of transports that need the node
   * (circuitRelayTransport()). Default none: the node can neither dial nor listen.
   */
  transports?: readonly (Transport | TransportFactory)[];
  /** Connection encrypters in preference order (e.g. noise()); js-libp2p's name. Required. */
  connectionEncrypters: readonly SecurityOption[];
  /** Stream muxers in preference order (e.g. yamux()); js-libp2p's name. Required. */
  streamMuxers: readonly StreamMuxerFactory[];
  /** Addresses to listen on at start. Default none. Same as `addresses.listen` (both add up). */
  listen?: readonly (string | Multiaddr)[];
  /**
   * Our addresses, js-libp2p's shape: `listen`, `announce` (replaces what we announce),
   * `appendAnnounce`, `noAnnounce`, and how many distinct observers confirm an observed
   * address. See {@link AddressManager}.
   */
  addresses?: AddressesOptions;
  /**
   * Services by name, e.g. `{ ping: ping(), identify: identify() }`. Built, then started, in
   * dependency order (a factory's `serviceDependencies`), stopped in reverse. Default none.
   */
  services?: { [K in keyof S]: ServiceFactory<S[K]> };
  /**
   * Discovery services (e.g. bootstrap(), mdns()), started after `services` and stopped before
   * them. Found peers are stored ("discovered"), reported as `peer:discovery`, and dialled
   * while below `connectionManager.minConnections`. Default none.
   */
  peerDiscovery?: readonly (PeerDiscovery | PeerDiscoveryFactory)[];
  /**
   * DNS client for `/dnsaddr` addresses (TXT records). When given, `/dns`, `/dns4` and `/dns6`
   * addresses are also resolved through it before dialling (except TLS ones, which keep their
   * name). Default: the runtime's resolver (`Deno.resolveDns`, `node:dns`), or DNS over HTTPS
   * (`dohResolver()`, Cloudflare's endpoint) where there is none (browsers); it resolves
   * `/dnsaddr` only.
   */
  dns?: DnsResolver;
  /** Peer store. Default: a {@link MemoryPeerStore} with its default limits. */
  peerStore?: PeerStore;
  /** Dial limits (address concurrency 2, 30 s per dial). */
  dialer?: DialerOptions;
  /** Deadline of one connection upgrade, ms. Default 10 s. */
  upgradeTimeoutMs?: number;
  /** Deadline of one protocol negotiation, ms. Default 10 s. */
  negotiationTimeoutMs?: number;
  /** How long stop() waits for connections to close gracefully before aborting, ms. 5 s. */
  stopTimeoutMs?: number;
  /**
   * Inbound connections being upgraded at once; more are refused. Default 64. Same as
   * `connectionManager.maxPendingInbound` (which wins when both are set).
   */
  maxPendingInbound?: number;
  /** Connection limits, per-IP limits, pruning watermarks, allow list (README "Limits"). */
  connectionManager?: ConnectionManagerOptions;
  /** Stream and memory limits by scope: node, peer, connection, protocol (README "Limits"). */
  resources?: ResourceLimits;
  /** Hooks that deny connections at each stage. Default none. */
  connectionGater?: ConnectionGater;
  /**
   * Inactivity deadline of protocol streams, ms: a stream without reads or writes this long is
   * reset with a TimeoutError. 0 disables it; handlers override it with `idleTimeoutMs`.
   * Default 60 s.
   */
  streamIdleTimeoutMs?: number;
  /**
   * Count bytes sent and received by transport ({@link Libp2pNode.traffic}), at the cost of one
   * addition and one promise per received chunk. For metrics; default false.
   */
  countTraffic?: boolean;
  /** Start right away. Default true. */
  start?: boolean;
}

/**
 * A libp2p node.
 *
 * @example
 * ```ts
 * import { createNode } from "@p2p-edge/libp2p";
 * import { memory } from "@p2p-edge/libp2p/transports/memory";
 * import { noise } from "@p2p-edge/libp2p/protocols/noise";
 * import { yamux } from "@p2p-edge/libp2p/protocols/yamux";
 * const node = await createNode({
 *   transports: [memory()],
 *   connectionEncrypters: [noise()],
 *   streamMuxers: [yamux()],
 *   listen: ["/memory/0"],
 * });
 * console.log(node.addrs().map(String));
 * await node.stop();
 * ```
 */
export class Libp2pNode<S extends Record<string, unknown> = Record<string, unknown>>
  extends TypedEventTarget<NodeEventMap> {
  /** Our identity. */
  readonly peerId: PeerId;
  /** Our identity key. */
  readonly privateKey: PrivateKey;
  /** What we know about other peers. */
  readonly peerStore: PeerStore;
  /** The configured services. */
  readonly services: S;
  /** Our addresses: configured, listening, observed, announced; reachability. */
  readonly addressManager: AddressManager;
  /** Finding peers through the services that can (the DHT): `findPeer`. */
  readonly peerRouting: PeerRouting;
  /** Finding providers and records through the services that can: `provide`, `get`, .... */
  readonly contentRouting: ContentRouting;
  /** The discovery services and the dialling of discovered peers (`report`, `stats`). */
  readonly discovery: DiscoveryManager;
  /** Expands `/dnsaddr` (and `/dns*` with the `dns` option) as dials do. */
  readonly resolveMultiaddr: MultiaddrResolver;
  /** Bytes by transport since the node was built, with `countTraffic: true`. */
  readonly traffic: TrafficCounters | undefined;
  readonly #init: NodeInit<S>;
  readonly #registrar = new Registrar();
  readonly #topologies = new Topologies();
  /** Service names in dependency order (started in this order, stopped in reverse). */
  readonly #serviceOrder: readonly string[];
  /** What `self:peer:update` last reported, to send it only on a change. */
  #selfSnapshot = "";
  #lastReachability: string = "unknown";
  readonly #upgrader: Upgrader;
  readonly #dialer: Dialer;
  /** Filled at the end of the constructor (factories get the built node). */
  readonly #transports: Transport[] = [];
  readonly #listeners: Listener[] = [];
  readonly #connections = new Map<string, Set<Connection>>();
  readonly #pendingDials = new Map<string, PendingDial>();
  readonly #byId = new Map<string, Connection>();
  /** Inbound raw connections between accept and the end of their upgrade. */
  readonly #pendingRaw = new Set<RawConnection>();
  /** The same, by the connection manager's ticket (to close an evicted silent socket). */
  readonly #pendingByTicket = new Map<number, RawConnection>();
  /**
   * Every Connection our upgrader built that has not closed, tracked or not (in admission, or
   * refused and closing): stop() ends all of them, so none outlives the node.
   */
  readonly #owned = new Set<Connection>();
  /** Aborted by stop(): dials and admissions in flight end instead of finishing later. */
  #lifetime = new AbortController();
  readonly #manager: ConnectionManager;
  readonly #resources: ResourceManager;
  readonly #gater: ConnectionGater | undefined;
  #status: "stopped" | "starting" | "started" | "stopping" = "stopped";

  /** Prefer {@link createNode}, which also generates a key and starts the node. */
  constructor(init: NodeInit<S>, privateKey: PrivateKey) {
    super();
    this.#init = init;
    this.privateKey = privateKey;
    this.peerId = peerIdFromPrivateKey(privateKey);
    this.peerStore = init.peerStore ?? new MemoryPeerStore();
    this.addressManager = new AddressManager({
      ...init.addresses,
      listen: [...(init.addresses?.listen ?? []), ...(init.listen ?? [])],
    }, { onChange: () => this.#selfUpdate() });
    this.#manager = new ConnectionManager({
      maxPendingInbound: init.maxPendingInbound,
      ...init.connectionManager,
    });
    this.#resources = new ResourceManager(init.resources);
    this.#gater = init.connectionGater;
    const idle = init.streamIdleTimeoutMs;
    if (idle !== undefined && !(typeof idle === "number" && idle >= 0)) {
      throw new RangeError("streamIdleTimeoutMs must be a number >= 0");
    }
    if (!(init.connectionEncrypters?.length > 0)) {
      throw new TypeError("at least one connection encrypter needed (connectionEncrypters)");
    }
    this.traffic = init.countTraffic === true ? new TrafficCounters() : undefined;
    const encrypters = init.connectionEncrypters.map((s) =>
      typeof s === "function" ? s({ privateKey }) : s
    );
    this.#upgrader = new Upgrader({
      encrypters,
      muxers: init.streamMuxers,
      registry: this.#registrar,
      upgradeTimeoutMs: init.upgradeTimeoutMs,
      negotiationTimeoutMs: init.negotiationTimeoutMs,
      onHandlerError: (error, protocol, peer) =>
        this.dispatch("stream:handler:error", { protocol, peer, error }),
      onConnectionOpen: (conn) => this.#owned.add(conn),
      onConnectionClose: (conn) => {
        this.#owned.delete(conn);
        this.#untrack(conn);
      },
      privateKey,
      gater: init.connectionGater,
      resources: this.#resources,
      streamIdleTimeoutMs: init.streamIdleTimeoutMs,
      traffic: this.traffic,
    });
    const dns = init.dns ?? systemDnsResolver() ??
      (typeof fetch === "function" ? dohResolver() : undefined);
    this.resolveMultiaddr = dns === undefined
      ? defaultResolver
      : dnsMultiaddrResolver(dns, { resolveHostnames: init.dns !== undefined });
    this.#dialer = new Dialer(
      this.#transports,
      this.#upgrader,
      {
        ...init.dialer,
        onAddressError: (addr, error) => {
          init.dialer?.onAddressError?.(addr, error);
          this.dispatch("dial:error", { addr, error });
        },
      },
      init.connectionGater,
      this.resolveMultiaddr,
    );
    this.addEventListener("peer:identify", (e) => {
      const { peerId, protocols } = e.detail;
      const conns = this.getConnections(peerId);
      if (conns.length > 0) this.#topologies.update(peerId, protocols, conns);
    });
    // Built in dependency order, into the object the node exposes: a factory can use the
    // services it depends on (`node.services.identify`) while it builds.
    const factories = (init.services ?? {}) as Record<string, ServiceFactory<unknown>>;
    this.#serviceOrder = orderServices(factories);
    const services: Record<string, unknown> = {};
    this.services = services as S;
    this.peerRouting = new PeerRouting(services);
    this.contentRouting = new ContentRouting(services);
    for (const name of this.#serviceOrder) {
      services[name] = factories[name](this as unknown as Libp2pNode);
    }
    for (const t of init.transports ?? []) {
      this.#transports.push(typeof t === "function" ? t(this as unknown as Libp2pNode) : t);
    }
    const o = this.#manager.options;
    this.discovery = new DiscoveryManager(
      this,
      (init.peerDiscovery ?? []).map((d) =>
        typeof d === "function" ? d(this as unknown as Libp2pNode) : d
      ),
      {
        minConnections: o.minConnections,
        perSecond: o.autoDialPerSecond,
        concurrency: o.autoDialConcurrency,
        backoffBaseMs: o.autoDialBackoffBaseMs,
        backoffMaxMs: o.autoDialBackoffMaxMs,
      },
    );
  }

  /** "stopped", "starting", "started" or "stopping". */
  get status(): "stopped" | "starting" | "started" | "stopping" {
    return this.#status;
  }

  /** Listen on the configured addresses and start the services. */
  async start(): Promise<void> {
    if (this.#status !== "stopped") return;
    this.#status = "starting";
    if (this.#lifetime.signal.aborted) this.#lifetime = new AbortController();
    try {
      for (const addr of this.addressManager.getListenAddrs()) {
        const transport = this.#transports.find((t) => t.listenFilter([addr]).length > 0);
        if (transport === undefined) {
          throw new TypeError(`no transport can listen on ${addr.toString()}`);
        }
        const listener = transport.createListener({
          onConnection: (raw) => this.#accept(raw),
          onAddrsChange: () => {
            if (this.#status !== "started") return;
            this.addressManager.setListening(this.#listeners.flatMap((l) => l.getAddrs()));
          },
        });
        await listener.listen(addr);
        this.#listeners.push(listener);
      }
      for (const name of this.#serviceOrder) {
        await (this.services[name] as Startable)?.start?.();
      }
      this.#status = "started";
      for (const t of this.#transports) await t.start?.();
      await this.discovery.start();
    } catch (err) {
      this.#status = "started";
      await this.stop();
      throw err;
    }
    this.dispatch("listening", this.addrs());
    this.addressManager.setListening(this.#listeners.flatMap((l) => l.getAddrs()));
  }

  /**
   * Stop gracefully: stop services, close listeners, close every connection (GoAway, then wait
   * for streams up to `stopTimeoutMs`), then abort what is left. Dials and admissions in
   * flight fail, and connections upgraded but not admitted yet are aborted: when this returns,
   * every connection the node built is closed or aborted.
   */
  async stop(): Promise<void> {
    if (this.#status !== "started") return;
    this.#status = "stopping";
    await this.discovery.stop();
    for (const t of this.#transports) {
      try {
        await t.stop?.();
      } catch { /* as for services below */ }
    }
    for (const name of [...this.#serviceOrder].reverse()) {
      try {
        await (this.services[name] as Startable)?.stop?.();
      } catch { /* a failing service must not block shutdown */ }
    }
    await Promise.all(this.#listeners.splice(0).map((l) => l.close().catch(() => {})));
    const stopped = new ConnectionClosedError("the node stopped");
    for (const raw of this.#pendingRaw) raw.abort(stopped);
    this.#lifetime.abort(stopped);
    const deadline = deadlineSignal(this.#init.stopTimeoutMs ?? 5000, undefined, "stop");
    try {
      await Promise.all(
        this.getConnections().map((c) =>
          c.close({ signal: deadline.signal }).catch(() => c.abort())
        ),
      );
    } finally {
      deadline.clear();
    }
    // The list above holds tracked connections only. One that finished its upgrade but was
    // still in admission (gater, limits, peer store) when it was taken would otherwise stay open
    // with its peer, serving streams and arming its inactivity watch, on a stopped node.
    for (const conn of this.#owned) if (conn.status !== "closed") conn.abort(stopped);
    this.#owned.clear();
    this.#status = "stopped";
    this.addressManager.setListening([]);
  }

  /**
   * Where our listeners bound, each with `/p2p/<our id>` (dialable on this host; see
   * {@link getMultiaddrs} for what we announce).
   */
  addrs(): Multiaddr[] {
    const suffix = `/p2p/${this.peerId.toString()}`;
    return this.#listeners.flatMap((l) => l.getAddrs()).map((a) => a.encapsulate(suffix));
  }

  /**
   * The addresses we announce (identify, peer records), each with `/p2p/<our id>`: the
   * address manager's `getAddresses()` (announce or listening + confirmed observed,
   * appendAnnounce, minus noAnnounce). js-libp2p's `getMultiaddrs()`.
   */
  getMultiaddrs(): Multiaddr[] {
    const suffix = `/p2p/${this.peerId.toString()}`;
    return this.addressManager.getAddresses().map((a) => a.encapsulate(suffix));
  }

  /**
   * Be told about connected peers that support `protocol` (per identify): `onConnect` once per
   * peer, `onDisconnect` when its last connection closes or it drops the protocol. Peers
   * connected and identified already are announced right away. Returns the id for
   * {@link unregister}.
   */
  register(protocol: string, topology: Topology): string {
    const id = this.#topologies.register(protocol, topology);
    this.#catchUp(id).catch(() => {});
    return id;
  }

  /** Remove a topology registered with {@link register}. */
  unregister(id: string): void {
    this.#topologies.unregister(id);
  }

  /** Announce the peers connected already (and identified) to a new topology. */
  async #catchUp(id: string): Promise<void> {
    for (const key of [...this.#connections.keys()]) {
      const conns = [...(this.#connections.get(key) ?? [])];
      if (conns.length === 0) continue;
      const peer = conns[0].remotePeer;
      const info = await this.peerStore.get(peer);
      if (info === undefined || info.protocols.length === 0) continue;
      this.#topologies.update(peer, info.protocols, this.getConnections(peer), id);
    }
  }

  /** Register a handler for inbound streams of `protocol`. */
  handle(protocol: string, handler: StreamHandler, options?: StreamHandlerOptions): void {
    this.#registrar.handle(protocol, handler, options);
    this.#selfUpdate();
  }

  /** Remove the handler of `protocol`. */
  unhandle(protocol: string): void {
    const had = this.#registrar.get(protocol) !== undefined;
    this.#registrar.unhandle(protocol);
    if (had) this.#selfUpdate();
  }

  /**
   * Dispatch `self:peer:update` (identify pushes it) when the protocols we serve or the
   * addresses we announce changed since the last one, and `self:reachability` when the
   * address manager's reachability changed.
   */
  #selfUpdate(): void {
    const reachability = this.addressManager.reachability;
    if (reachability !== this.#lastReachability) {
      this.#lastReachability = reachability;
      this.dispatch("self:reachability", { reachability });
    }
    const addresses = this.getMultiaddrs();
    const protocols = this.getProtocols();
    const snapshot = `${addresses.join(" ")}\n${protocols.join(" ")}`;
    if (snapshot === this.#selfSnapshot) return;
    this.#selfSnapshot = snapshot;
    this.dispatch("self:peer:update", {
      peerId: this.peerId,
      addresses,
      protocols: [...protocols],
    });
  }

  /** Protocols we serve. */
  getProtocols(): string[] {
    return [...this.#registrar.protocols()];
  }

  /** Open connections, all or to one peer. */
  getConnections(peer?: PeerId): Connection[] {
    if (peer !== undefined) return [...(this.#connections.get(peer.toString()) ?? [])];
    return [...this.#connections.values()].flatMap((set) => [...set]);
  }

  /**
   * Connect to a peer. An open connection to the same peer is reused (a limited one only with
   * `runOnLimitedConnection`, or when every given address is a relayed one); concurrent dials
   * for the same peer and addresses share one attempt, which is aborted once all of its callers
   * have aborted theirs.
   */
  dial(target: DialTarget, options?: DialOptions): Promise<Connection> {
    if (this.#status !== "started") {
      return Promise.reject(new Libp2pError("the node is not started"));
    }
    let parsed: { peer?: PeerId; addrs: Multiaddr[] };
    try {
      parsed = parseTarget(target);
    } catch (err) {
      return Promise.reject(err);
    }
    const { peer, addrs } = parsed;
    if (peer !== undefined) {
      if (peer.equals(this.peerId)) return Promise.reject(new DialError("cannot dial self", []));
      const open = this.getConnections(peer).filter((c) => c.status === "open");
      // An unlimited connection first; a limited one only for callers that accept it.
      const existing = open.find((c) => !c.limited) ??
        (options?.runOnLimitedConnection === true ? open[0] : undefined);
      if (existing !== undefined) return Promise.resolve(existing);
    }
    const isCircuit = (a: Multiaddr): boolean => a.protoCodes().includes(CODE_P2P_CIRCUIT);
    const limited = peer === undefined
      ? undefined
      : this.getConnections(peer).find((c) => c.status === "open" && c.limited);
    // Asked for a relayed connection while one is open: a second circuit gains nothing.
    if (limited !== undefined && addrs.length > 0 && addrs.every(isCircuit)) {
      return Promise.resolve(limited);
    }
    // With a limited connection open already, only a direct one is worth dialling.
    const direct = limited !== undefined;
    // Dials share an attempt only when they ask for the same thing: the same peer with the same
    // addresses (or none). A dial to other addresses is not held up by an attempt its caller may
    // have given up on.
    const key = `${peer?.toString() ?? ""}|${addrs.map(String).sort().join(",")}`;
    let pending = this.#pendingDials.get(key);
    if (pending === undefined) {
      const abandon = new AbortController();
      const entry: PendingDial = {
        promise: this.#dial(peer, addrs, direct, abandon.signal).finally(() => {
          if (this.#pendingDials.get(key) === entry) this.#pendingDials.delete(key);
        }),
        key,
        waiters: 0,
        abandon,
      };
      pending = entry;
      this.#pendingDials.set(key, pending);
    }
    return this.#waitForDial(pending, options?.signal);
  }

  /**
   * One caller's wait on a shared dial. When every caller has given up (their signals aborted)
   * the attempt itself is aborted, so no socket or handshake outlives its last interested caller.
   */
  #waitForDial(pending: PendingDial, signal: AbortSignal | undefined): Promise<Connection> {
    pending.waiters++;
    let left = false;
    const leave = (): void => {
      if (left) return;
      left = true;
      if (--pending.waiters === 0 && signal?.aborted === true) {
        // Gone from the map at once: a later caller starts afresh instead of joining the abort.
        if (this.#pendingDials.get(pending.key) === pending) this.#pendingDials.delete(pending.key);
        pending.abandon.abort(signal.reason);
      }
    };
    return raceSignal(pending.promise, signal).finally(leave);
  }

  /**
   * Connect (or reuse a connection) and open a stream for one of `protocols` (one id, or a
   * list in preference order). On a limited (relayed) connection the stream opens only with
   * `runOnLimitedConnection: true`; otherwise an unlimited connection is used or dialled, and
   * LimitedConnectionError is thrown when only a limited one can be had.
   */
  async dialProtocol(
    target: DialTarget,
    protocols: string | readonly string[],
    options?: DialProtocolOptions,
  ): Promise<Stream> {
    const list = typeof protocols === "string" ? [protocols] : [...protocols];
    if (list.length === 0) throw new TypeError("dialProtocol needs at least one protocol");
    for (const p of list) validateProtocolId(p);
    let conn: Connection;
    try {
      conn = await this.dial(target, options);
    } catch (err) {
      // Dialling an unlimited connection failed while a limited one is open: that is the
      // reason the protocol cannot run.
      const limited = options?.runOnLimitedConnection === true
        ? undefined
        : this.#limitedTo(target);
      if (limited === undefined) throw err;
      throw new LimitedConnectionError(
        `only a limited connection to ${limited.remotePeer} is open, and ${list.join(", ")} ` +
          "did not opt in with runOnLimitedConnection",
        { cause: err },
      );
    }
    return await conn.newStream(list, options);
  }

  /** An open limited connection to the peer of `target`, if any. */
  #limitedTo(target: DialTarget): Connection | undefined {
    try {
      const { peer } = parseTarget(target);
      if (peer === undefined) return undefined;
      return this.getConnections(peer).find((c) => c.status === "open" && c.limited);
    } catch {
      return undefined;
    }
  }

  /**
   * Set tag `name` of `peer` to `value` (0 to 1000). When connections pass the high watermark,
   * peers with the lowest total tag value are pruned first.
   */
  tagPeer(peer: PeerId, name: string, value: number): void {
    this.#manager.tagPeer(peer.toString(), name, value);
  }

  /** Remove tag `name` of `peer`. */
  untagPeer(peer: PeerId, name: string): void {
    this.#manager.untagPeer(peer.toString(), name);
  }

  /** Never prune connections to `peer` while protection `tag` is held. */
  protect(peer: PeerId, tag: string): void {
    this.#manager.protect(peer.toString(), tag);
  }

  /** Drop protection `tag`; returns whether another tag still protects the peer. */
  unprotect(peer: PeerId, tag: string): boolean {
    return this.#manager.unprotect(peer.toString(), tag);
  }

  /**
   * Read-only counters: connection manager, resource manager and the node's own maps. After
   * every connection closed, all of them are back to zero (tags and protections excepted).
   */
  stats(): NodeStats {
    let guardedStreams = 0;
    let untracked = 0;
    for (const c of this.#owned) {
      guardedStreams += c.guardedStreams;
      if (c.status === "open" && !this.#byId.has(c.id)) untracked++;
    }
    return {
      manager: this.#manager.stats(Date.now()),
      resources: this.#resources.stats(),
      connections: this.#byId.size,
      peers: this.#connections.size,
      pendingDials: this.#pendingDials.size,
      pendingUpgrades: this.#pendingRaw.size,
      guardedStreams,
      untrackedConnections: untracked,
    };
  }

  /** Close every connection to `peer`. */
  async hangUp(peer: PeerId, options?: AbortOptions): Promise<void> {
    await Promise.all(this.getConnections(peer).map((c) => c.close(options).catch(() => {})));
  }

  async #dial(
    peer: PeerId | undefined,
    addrs: Multiaddr[],
    directOnly: boolean,
    abandoned: AbortSignal,
  ): Promise<Connection> {
    let candidates = addrs;
    if (candidates.length === 0 && peer !== undefined) {
      const info = await this.peerStore.get(peer);
      candidates = (info?.addresses ?? []).map((a) => a.encapsulate(`/p2p/${peer.toString()}`));
    }
    if (directOnly) {
      candidates = candidates.filter((a) => !a.protoCodes().includes(CODE_P2P_CIRCUIT));
    }
    if (candidates.length === 0) {
      throw new DialError(`no known addresses for ${peer?.toString() ?? "the target"}`, []);
    }
    const admission = this.#manager.admitOutbound();
    if (!admission.ok) throw new LimitExceededError(admission.reason, admission.limit);
    const signal = AbortSignal.any([this.#lifetime.signal, abandoned]);
    const conn = await this.#dialer.dial(candidates, peer, { signal });
    try {
      if (this.#status !== "started") {
        throw new ConnectionClosedError("the node stopped while dialling");
      }
      const refusal = await this.#admitUpgraded(conn);
      if (refusal !== undefined) throw refusal;
      await raceSignal(
        this.peerStore.merge(conn.remotePeer, {
          // A relayed connection's address is the relay's circuit, not the peer's own.
          addresses: conn.limited ? [] : [conn.remoteAddr],
          addressSource: "dialled",
          publicKey: conn.remotePublicKey,
        }),
        signal,
      );
    } catch (err) {
      // Not tracked: nobody else would ever close it.
      conn.abort(err);
      this.#manager.removeConnection(conn.id, Date.now());
      throw err;
    }
    if (!this.#track(conn)) throw new ConnectionClosedError("the node stopped while dialling");
    return conn;
  }

  /**
   * An accepted socket: the connection manager's limits (pending upgrades, per-IP concurrency
   * and rate, totals) and the gater decide before any byte is read from it, so a refused
   * socket costs no handshake (HARDENING.md "transport" rows). Until it negotiates a security
   * protocol the socket is silent: closed after `silentInboundTimeoutMs`, and evicted when
   * the pending slots are full and it is the oldest silent one (connection_manager.ts).
   */
  #accept(raw: RawConnection): void {
    if (this.#status !== "started" && this.#status !== "starting") {
      raw.abort(new ConnectionClosedError("the node is not running"));
      return;
    }
    const admission = this.#manager.admitInbound(raw.remoteAddr, Date.now());
    if (!admission.ok) {
      raw.abort(new LimitExceededError(admission.reason, admission.limit));
      return;
    }
    const { ticket, evict } = admission;
    if (evict !== undefined) {
      this.#pendingByTicket.get(evict)?.abort(
        new LimitExceededError(
          "evicted by a newer socket: silent while slots were full",
          "maxPendingInbound",
        ),
      );
    }
    this.#pendingRaw.add(raw);
    this.#pendingByTicket.set(ticket, raw);
    // A self-upgrading connection (WebTransport) finished its transport handshake already.
    const silentMs = this.#manager.options.silentInboundTimeoutMs;
    let silent: ReturnType<typeof setTimeout> | undefined = raw.selfUpgrade !== undefined
      ? undefined
      : setTimeout(() => raw.abort(new TimeoutError(`silent for ${silentMs} ms`)), silentMs);
    if (silent === undefined) this.#manager.inboundProgressed(ticket);
    const progressed = (): void => {
      clearTimeout(silent);
      silent = undefined;
      this.#manager.inboundProgressed(ticket);
    };
    const done = (): void => {
      clearTimeout(silent);
      this.#pendingRaw.delete(raw);
      this.#pendingByTicket.delete(ticket);
    };
    this.#upgradeInbound(raw, ticket, progressed).then(
      (conn) => {
        done();
        if (conn === undefined) return;
        this.#track(conn);
      },
      () => {
        done();
        this.#manager.inboundFailed(ticket, Date.now());
      },
    );
  }

  /** Gate, upgrade and admit an inbound connection; undefined when it was refused. */
  async #upgradeInbound(
    raw: RawConnection,
    ticket: number,
    onSecurityNegotiated: () => void,
  ): Promise<Connection | undefined> {
    const denied = await gate(this.#gater, "denyInboundSocket", raw.remoteAddr);
    if (denied !== undefined) {
      raw.abort(denied);
      throw denied;
    }
    if (this.#status !== "started" && this.#status !== "starting") {
      const err = new ConnectionClosedError("the node stopped");
      raw.abort(err);
      throw err;
    }
    const conn = await this.#upgrader.upgradeInbound(raw, { onSecurityNegotiated });
    if (this.#status !== "started") {
      conn.abort(new ConnectionClosedError("the node stopped"));
      this.#manager.inboundFailed(ticket, Date.now());
      return undefined;
    }
    const refusal = await this.#admitUpgraded(conn, ticket);
    if (refusal !== undefined) {
      conn.abort(refusal);
      return undefined;
    }
    return conn;
  }

  /**
   * The gater's last word and the manager's caps for an upgraded connection. Allowed: the
   * manager counts it (its inbound pending slot becomes the connection's). Refused: the
   * manager has released everything; the caller aborts the connection.
   */
  async #admitUpgraded(conn: Connection, ticket?: number): Promise<Error | undefined> {
    const now = Date.now();
    const info = {
      id: conn.id,
      peer: conn.remotePeer.toString(),
      direction: conn.direction,
      remoteAddr: conn.remoteAddr,
    };
    const answer = gate(this.#gater, "denyUpgraded", conn);
    // A hook still deciding when the node stops holds up neither stop() nor the connection.
    const denied: Error | undefined = answer instanceof Promise
      ? await raceSignal(answer, this.#lifetime.signal).catch((err: Error) => err)
      : await answer;
    let refusal = denied;
    if (refusal === undefined && this.#status !== "started") {
      refusal = new ConnectionClosedError("the node stopped during admission");
    } else if (refusal === undefined && conn.status !== "open") {
      refusal = new ConnectionClosedError("the connection closed during admission");
    }
    if (refusal !== undefined) {
      if (ticket !== undefined) this.#manager.inboundFailed(ticket, Date.now());
      return refusal;
    }
    const admission = this.#manager.addConnection(info, now, ticket);
    if (!admission.ok) return new LimitExceededError(admission.reason, admission.limit);
    return undefined;
  }

  /** Above the high watermark: close the connections the manager picks. */
  #prune(): void {
    for (const victim of this.#manager.selectPrunable(Date.now())) {
      const conn = this.#byId.get(victim.id);
      if (conn === undefined) {
        this.#manager.removeConnection(victim.id, Date.now());
        continue;
      }
      const deadline = deadlineSignal(1000, undefined, "pruning");
      conn.close({ signal: deadline.signal }).catch(() => conn.abort()).finally(deadline.clear);
    }
  }

  /**
   * Track an admitted connection; false (and the connection aborted) when it closed meanwhile
   * or the node is stopping: stop() has taken its list of connections to close already.
   */
  #track(conn: Connection): boolean {
    if (conn.status !== "open" || this.#status !== "started") {
      this.#manager.removeConnection(conn.id, Date.now());
      if (conn.status === "open") conn.abort(new ConnectionClosedError("the node stopped"));
      return false;
    }
    this.#byId.set(conn.id, conn);
    const key = conn.remotePeer.toString();
    let set = this.#connections.get(key);
    const first = set === undefined || set.size === 0;
    if (set === undefined) {
      set = new Set();
      this.#connections.set(key, set);
    }
    set.add(conn);
    if (first) this.peerStore.setConnected?.(conn.remotePeer, true);
    this.dispatch("connection:open", conn);
    if (first) this.dispatch("peer:connect", conn.remotePeer);
    this.#prune();
    return true;
  }

  #untrack(conn: Connection): void {
    this.#manager.removeConnection(conn.id, Date.now());
    this.#byId.delete(conn.id);
    const key = conn.remotePeer.toString();
    const set = this.#connections.get(key);
    if (set === undefined || !set.delete(conn)) return;
    this.dispatch("connection:close", conn);
    if (set.size === 0) {
      this.#connections.delete(key);
      this.peerStore.setConnected?.(conn.remotePeer, false);
      this.#topologies.disconnected(conn.remotePeer);
      this.dispatch("peer:disconnect", conn.remotePeer);
    }
  }
}

/** Read-only counters of a node ({@link Libp2pNode.stats}). */
export interface NodeStats {
  /** Connection manager counters (open, by direction, pending inbound, tracked IPs, tags). */
  manager: ConnectionManagerStats;
  /** Resource manager counters (connection scopes, peers, streams, per protocol, memory). */
  resources: ResourceStats;
  /** Open connections the node tracks. */
  connections: number;
  /** Peers with an open connection. */
  peers: number;
  /** Dials in progress (merged per peer). */
  pendingDials: number;
  /** Inbound connections between accept and the end of their upgrade. */
  pendingUpgrades: number;
  /** Streams under an inactivity deadline (one timer per connection), on every connection. */
  guardedStreams: number;
  /**
   * Connections upgraded but not tracked that are still open: in admission (gater, limits,
   * peer store). 0 whenever the node is stopped (for leak checks).
   */
  untrackedConnections: number;
}

function parseTarget(target: DialTarget): { peer?: PeerId; addrs: Multiaddr[] } {
  if (typeof target === "string") {
    target = target.startsWith("/") ? multiaddr(target) : peerIdFromString(target);
  }
  if (isMultiaddr(target)) {
    const id = target.getPeerId();
    return { peer: id === undefined ? undefined : peerIdFromString(id), addrs: [target] };
  }
  return { peer: target, addrs: [] };
}

/**
 * Create a node (generating an Ed25519 identity unless one is given) and start it unless
 * `start: false`.
 *
 * @example
 * ```ts
 * import { createNode } from "@p2p-edge/libp2p";
 * import { memory } from "@p2p-edge/libp2p/transports/memory";
 * import { noise } from "@p2p-edge/libp2p/protocols/noise";
 * import { yamux } from "@p2p-edge/libp2p/protocols/yamux";
 * const node = await createNode({
 *   transports: [memory()],
 *   connectionEncrypters: [noise()],
 *   streamMuxers: [yamux()],
 * });
 * await node.stop();
 * ```
 */
export async function createNode<S extends Record<string, unknown> = Record<string, unknown>>(
  init: NodeInit<S>,
): Promise<Libp2pNode<S>> {
  const privateKey = init.privateKey ?? await generateKeyPair("Ed25519");
  const node = new Libp2pNode<S>(init, privateKey);
  if (init.start !== false) await node.start();
  return node;
}
