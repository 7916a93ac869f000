/**
 * The node: transports, security, muxers and services wired together, with dialling,
 * listening, protocol handlers and connection tracking.
 *
 * @module
 */

import { deadlineSignal, raceSignal } from "../abort.ts";
import type { Connection, Stream, StreamHandler, StreamHandlerOptions } from "../connection.ts";
import { ConnectionClosedError, Libp2pError, LimitExceededError, TimeoutError } from "../errors.ts";
import { generateKeyPair, peerIdFromPrivateKey } from "../keys/mod.ts";
import type { PrivateKey } from "../keys/types.ts";
import { isMultiaddr, type Multiaddr, multiaddr } from "../multiaddr/mod.ts";
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
import { MemoryPeerStore, type PeerStore } from "./peer_store.ts";
import { Registrar } from "./registrar.ts";

/** A security protocol, or a factory that builds one from the node's private key. */
export type SecurityOption =
  | ConnectionEncrypter
  | ((init: { privateKey: PrivateKey }) => ConnectionEncrypter);

/** Builds a service from the node; the service may have start/stop hooks. */
export type ServiceFactory<T> = (node: Libp2pNode) => T;

/** Optional lifecycle hooks of a service. */
export interface Startable {
  /** Called by node.start() after the listeners are up. */
  start?(): void | Promise<void>;
  /** Called by node.stop() before connections close. */
  stop?(): void | Promise<void>;
}

/** Something to dial: a multiaddr (with or without `/p2p/`), a peer id, or their text. */
export type DialTarget = Multiaddr | PeerId | string;

/** Node configuration; every field is documented with its default. */
export interface NodeInit<S extends Record<string, unknown> = Record<string, unknown>> {
  /** Identity key. Default: a fresh Ed25519 key. */
  privateKey?: PrivateKey;
  /** Transports (e.g. tcp(), memory()). Default none: the node can neither dial nor listen. */
  transports?: readonly Transport[];
  /** Security protocols in preference order (e.g. noise()). Required. */
  security: readonly SecurityOption[];
  /** Muxers in preference order (e.g. yamux()). Required. */
  muxers: readonly StreamMuxerFactory[];
  /** Addresses to listen on at start. Default none. */
  listen?: readonly (string | Multiaddr)[];
  /** Services by name, e.g. `{ ping: ping(), identify: identify() }`. Default none. */
  services?: { [K in keyof S]: ServiceFactory<S[K]> };
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
 *   security: [noise],
 *   muxers: [yamux()],
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
  readonly #init: NodeInit<S>;
  readonly #registrar = new Registrar();
  readonly #upgrader: Upgrader;
  readonly #dialer: Dialer;
  readonly #transports: readonly Transport[];
  readonly #listeners: Listener[] = [];
  readonly #connections = new Map<string, Set<Connection>>();
  readonly #pendingDials = new Map<string, Promise<Connection>>();
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
    this.#transports = init.transports ?? [];
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
    if (init.security.length === 0) throw new TypeError("at least one security protocol needed");
    const encrypters = init.security.map((s) => typeof s === "function" ? s({ privateKey }) : s);
    this.#upgrader = new Upgrader({
      encrypters,
      muxers: init.muxers,
      registry: this.#registrar,
      upgradeTimeoutMs: init.upgradeTimeoutMs,
      negotiationTimeoutMs: init.negotiationTimeoutMs,
      onConnectionOpen: (conn) => this.#owned.add(conn),
      onConnectionClose: (conn) => {
        this.#owned.delete(conn);
        this.#untrack(conn);
      },
      privateKey,
      gater: init.connectionGater,
      resources: this.#resources,
      streamIdleTimeoutMs: init.streamIdleTimeoutMs,
    });
    this.#dialer = new Dialer(this.#transports, this.#upgrader, init.dialer, init.connectionGater);
    const services: Record<string, unknown> = {};
    for (const [name, factory] of Object.entries(init.services ?? {})) {
      services[name] = (factory as ServiceFactory<unknown>)(this as unknown as Libp2pNode);
    }
    this.services = services as S;
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
      for (const text of this.#init.listen ?? []) {
        const addr = typeof text === "string" ? multiaddr(text) : text;
        const transport = this.#transports.find((t) => t.listenFilter([addr]).length > 0);
        if (transport === undefined) {
          throw new TypeError(`no transport can listen on ${addr.toString()}`);
        }
        const listener = transport.createListener({
          onConnection: (raw) => this.#accept(raw),
        });
        await listener.listen(addr);
        this.#listeners.push(listener);
      }
      for (const service of Object.values(this.services)) {
        await (service as Startable)?.start?.();
      }
      this.#status = "started";
    } catch (err) {
      this.#status = "started";
      await this.stop();
      throw err;
    }
    this.dispatch("listening", this.addrs());
    if (this.#listeners.length > 0) this.#selfUpdate();
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
    for (const service of Object.values(this.services)) {
      try {
        await (service as Startable)?.stop?.();
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
  }

  /** Our listen addresses, each with `/p2p/<our id>`. */
  addrs(): Multiaddr[] {
    const suffix = `/p2p/${this.peerId.toString()}`;
    return this.#listeners.flatMap((l) => l.getAddrs()).map((a) => a.encapsulate(suffix));
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

  /** Tell listeners (identify push) that our protocols or addresses changed. */
  #selfUpdate(): void {
    this.dispatch("self:update", { protocols: this.getProtocols(), addrs: this.addrs() });
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
   * Connect to a peer. An open connection to the same peer is reused; concurrent dials to one
   * peer share one attempt.
   */
  dial(target: DialTarget, options?: AbortOptions): Promise<Connection> {
    if (this.#status !== "started") {
      return Promise.reject(new Libp2pError("the node is not started"));
    }
    const { peer, addrs } = parseTarget(target);
    if (peer !== undefined) {
      if (peer.equals(this.peerId)) return Promise.reject(new DialError("cannot dial self", []));
      const existing = this.getConnections(peer).find((c) => c.status === "open");
      if (existing !== undefined) return Promise.resolve(existing);
    }
    const key = peer?.toString() ?? addrs.map(String).join(",");
    let pending = this.#pendingDials.get(key);
    if (pending === undefined) {
      pending = this.#dial(peer, addrs).finally(() => this.#pendingDials.delete(key));
      this.#pendingDials.set(key, pending);
    }
    return raceSignal(pending, options?.signal);
  }

  /** Connect (or reuse a connection) and open a stream for one of `protocols`. */
  async dialProtocol(
    target: DialTarget,
    protocols: string | readonly string[],
    options?: AbortOptions,
  ): Promise<Stream> {
    const conn = await this.dial(target, options);
    return await conn.newStream(protocols, options);
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

  async #dial(peer: PeerId | undefined, addrs: Multiaddr[]): Promise<Connection> {
    let candidates = addrs;
    if (candidates.length === 0 && peer !== undefined) {
      const info = await this.peerStore.get(peer);
      candidates = (info?.addresses ?? []).map((a) => a.encapsulate(`/p2p/${peer.toString()}`));
    }
    if (candidates.length === 0) {
      throw new DialError(`no known addresses for ${peer?.toString() ?? "the target"}`, []);
    }
    const admission = this.#manager.admitOutbound();
    if (!admission.ok) throw new LimitExceededError(admission.reason, admission.limit);
    const signal = this.#lifetime.signal;
    const conn = await this.#dialer.dial(candidates, peer, { signal });
    try {
      if (this.#status !== "started") {
        throw new ConnectionClosedError("the node stopped while dialling");
      }
      const refusal = await this.#admitUpgraded(conn);
      if (refusal !== undefined) throw refusal;
      await raceSignal(
        this.peerStore.merge(conn.remotePeer, {
          addresses: [conn.remoteAddr],
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
 * const node = await createNode({ transports: [memory()], security: [noise], muxers: [yamux()] });
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
