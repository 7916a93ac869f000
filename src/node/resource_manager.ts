/**
 * Resource accounting by scope: node → peer → connection → protocol → stream. Each scope counts
 * its streams (and memory reserved through it) and refuses what would pass a limit at any
 * scope above it, with a LimitExceededError naming the limit (the caller resets the stream).
 *
 * Release is guaranteed: a stream scope is released explicitly when the stream ends, and
 * otherwise found and released lazily — it carries a `done()` predicate (the muxed stream is
 * closed or reset) that is checked whenever a limit is reached and whenever stats are read, so
 * every decision and every counter sees exact numbers. Closing a connection scope releases all
 * of its streams. Maps are keyed by peers with open connections and by protocols we negotiated
 * (our own handlers or our own requests), so they are bounded and shrink (HARDENING.md rule 4).
 *
 * Buffered bytes of streams are bounded by the muxers (yamux `perConnectionBudget`, mplex
 * `maxSessionBufferSize`); {@link ResourceScope.reserveMemory} is for services that buffer on
 * their own.
 *
 * @module
 */

import { LimitExceededError } from "../errors.ts";

/** Default cap of streams open on the node. */
export const DEFAULT_MAX_STREAMS = 16_384;
/** Default cap of streams open with one peer (all its connections). */
export const DEFAULT_MAX_STREAMS_PER_PEER = 2048;
/** Default cap of streams open on one connection (yamux's default maxStreams is 1024 too). */
export const DEFAULT_MAX_STREAMS_PER_CONNECTION = 1024;
/** Default cap of streams of one protocol on the node. */
export const DEFAULT_MAX_STREAMS_PER_PROTOCOL = 8192;
/** Default cap of streams of one protocol with one peer. */
export const DEFAULT_MAX_STREAMS_PER_PROTOCOL_PER_PEER = 1024;
/** Default cap of memory reserved on the node (12 GiB: half of a 24 GiB box). */
export const DEFAULT_MAX_MEMORY = 12 * 1024 ** 3;
/** Default cap of memory reserved for one peer. */
export const DEFAULT_MAX_MEMORY_PER_PEER = 64 * 1024 ** 2;
/** Default cap of memory reserved for one connection. */
export const DEFAULT_MAX_MEMORY_PER_CONNECTION = 32 * 1024 ** 2;

/** Limits of one protocol; unset fields use the node-wide per-protocol defaults. */
export interface ProtocolLimits {
  /** Streams of the protocol on the node. */
  maxStreams?: number;
  /** Streams of the protocol with one peer. */
  maxStreamsPerPeer?: number;
}

/** Resource limits; every field is optional, defaults in the field docs. */
export interface ResourceLimits {
  /** Streams open on the node. Default 16 384. */
  maxStreams?: number;
  /** Streams open with one peer. Default 2048. */
  maxStreamsPerPeer?: number;
  /** Streams open on one connection. Default 1024. */
  maxStreamsPerConnection?: number;
  /** Streams of one protocol on the node. Default 8192. */
  maxStreamsPerProtocol?: number;
  /** Streams of one protocol with one peer. Default 1024. */
  maxStreamsPerProtocolPerPeer?: number;
  /** Per-protocol overrides. */
  protocols?: Readonly<Record<string, ProtocolLimits>>;
  /** Memory reserved on the node, bytes. Default 12 GiB. */
  maxMemory?: number;
  /** Memory reserved for one peer, bytes. Default 64 MiB. */
  maxMemoryPerPeer?: number;
  /** Memory reserved for one connection (and its streams), bytes. Default 32 MiB. */
  maxMemoryPerConnection?: number;
}

/** {@link ResourceLimits} with every default filled in. */
export type ResolvedResourceLimits = Readonly<Required<Omit<ResourceLimits, "protocols">>> & {
  readonly protocols: ReadonlyMap<string, ProtocolLimits>;
};

function positive(name: string, value: unknown, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== "number" || !(Number.isSafeInteger(value) || value === Infinity)) {
    throw new TypeError(`${name} must be an integer or Infinity, got ${String(value)}`);
  }
  if (value < 0) throw new RangeError(`${name} must not be negative`);
  return value;
}

/**
 * Apply defaults and validate resource limits (TypeError/RangeError on bad values).
 *
 * @example
 * ```ts
 * import { resolveResourceLimits } from "@p2p-edge/libp2p";
 * resolveResourceLimits({}).maxStreamsPerConnection; // 1024
 * ```
 */
export function resolveResourceLimits(limits: ResourceLimits = {}): ResolvedResourceLimits {
  const protocols = new Map<string, ProtocolLimits>();
  for (const [id, p] of Object.entries(limits.protocols ?? {})) {
    protocols.set(id, {
      maxStreams: positive(`${id} maxStreams`, p.maxStreams, Infinity),
      maxStreamsPerPeer: positive(`${id} maxStreamsPerPeer`, p.maxStreamsPerPeer, Infinity),
    });
  }
  return {
    maxStreams: positive("maxStreams", limits.maxStreams, DEFAULT_MAX_STREAMS),
    maxStreamsPerPeer: positive(
      "maxStreamsPerPeer",
      limits.maxStreamsPerPeer,
      DEFAULT_MAX_STREAMS_PER_PEER,
    ),
    maxStreamsPerConnection: positive(
      "maxStreamsPerConnection",
      limits.maxStreamsPerConnection,
      DEFAULT_MAX_STREAMS_PER_CONNECTION,
    ),
    maxStreamsPerProtocol: positive(
      "maxStreamsPerProtocol",
      limits.maxStreamsPerProtocol,
      DEFAULT_MAX_STREAMS_PER_PROTOCOL,
    ),
    maxStreamsPerProtocolPerPeer: positive(
      "maxStreamsPerProtocolPerPeer",
      limits.maxStreamsPerProtocolPerPeer,
      DEFAULT_MAX_STREAMS_PER_PROTOCOL_PER_PEER,
    ),
    maxMemory: positive("maxMemory", limits.maxMemory, DEFAULT_MAX_MEMORY),
    maxMemoryPerPeer: positive(
      "maxMemoryPerPeer",
      limits.maxMemoryPerPeer,
      DEFAULT_MAX_MEMORY_PER_PEER,
    ),
    maxMemoryPerConnection: positive(
      "maxMemoryPerConnection",
      limits.maxMemoryPerConnection,
      DEFAULT_MAX_MEMORY_PER_CONNECTION,
    ),
    protocols,
  };
}

/** Counters of the resource manager (after releasing finished streams). */
export interface ResourceStats {
  /** Open connection scopes. */
  connections: number;
  /** Peers with a connection scope. */
  peers: number;
  /** Streams accounted on the node. */
  streams: number;
  /** Streams per negotiated protocol (protocols with none are absent). */
  protocols: Record<string, number>;
  /** Memory reserved on the node, bytes. */
  memory: number;
}

/**
 * Memory reservations of one scope; reserving checks every scope above it.
 *
 * @example
 * ```ts
 * import type { ResourceScope } from "@p2p-edge/libp2p";
 * function buffer(scope: ResourceScope, n: number): void {
 *   scope.reserveMemory(n); // throws LimitExceededError past a limit
 *   try { /* ... *\/ } finally { scope.releaseMemory(n); }
 * }
 * ```
 */
export interface ResourceScope {
  /** Reserve `bytes`; throws LimitExceededError (nothing reserved) past any scope's limit. */
  reserveMemory(bytes: number): void;
  /** Give back `bytes` reserved through this scope. */
  releaseMemory(bytes: number): void;
}

/** @internal Per-peer accounting state. */
export interface PeerState {
  readonly conns: Set<ConnectionScope>;
  streams: number;
  memory: number;
  /** Streams per protocol; made on first use and dropped when empty (most peers are idle). */
  protocols: Map<string, number> | undefined;
}

/**
 * The node's resource manager.
 *
 * @example
 * ```ts
 * import { ResourceManager } from "@p2p-edge/libp2p";
 * const rm = new ResourceManager({ maxStreamsPerConnection: 1 });
 * const conn = rm.openConnection("peer-a");
 * const s = conn.openStream(() => false);
 * s.setProtocol("/echo/1.0.0");
 * // conn.openStream(() => false) would now throw LimitExceededError
 * s.release();
 * conn.close();
 * ```
 */
export class ResourceManager {
  /** The resolved limits. */
  readonly limits: ResolvedResourceLimits;
  /** @internal */
  readonly peers: Map<string, PeerState> = new Map();
  /** @internal */
  readonly conns: Set<ConnectionScope> = new Set();
  /** @internal */
  readonly protocols: Map<string, number> = new Map();
  /** @internal */
  streams = 0;
  /** @internal */
  memory = 0;

  /** Validate the limits. */
  constructor(limits: ResourceLimits = {}) {
    this.limits = resolveResourceLimits(limits);
  }

  /** Open the scope of a new connection to `peer` (connections themselves are capped by the connection manager). */
  openConnection(peer: string): ConnectionScope {
    let state = this.peers.get(peer);
    if (state === undefined) {
      state = { conns: new Set(), streams: 0, memory: 0, protocols: undefined };
      this.peers.set(peer, state);
    }
    const scope = new ConnectionScope(this, peer, state);
    state.conns.add(scope);
    this.conns.add(scope);
    return scope;
  }

  /** Counters, after releasing every finished stream. */
  stats(): ResourceStats {
    for (const c of this.conns) c.sweep();
    return {
      connections: this.conns.size,
      peers: this.peers.size,
      streams: this.streams,
      protocols: Object.fromEntries(this.protocols),
      memory: this.memory,
    };
  }

  /** @internal Release finished streams on every connection of `peer` (or of the node). */
  sweep(peer?: PeerState): void {
    for (const c of peer?.conns ?? this.conns) c.sweep();
  }

  /** @internal */
  protocolLimits(protocol: string): { node: number; peer: number } {
    const p = this.limits.protocols.get(protocol);
    return {
      node: p?.maxStreams ?? this.limits.maxStreamsPerProtocol,
      peer: p?.maxStreamsPerPeer ?? this.limits.maxStreamsPerProtocolPerPeer,
    };
  }
}

/**
 * The scope of one connection: its streams and memory.
 *
 * @example
 * ```ts
 * import { ResourceManager } from "@p2p-edge/libp2p";
 * const scope = new ResourceManager().openConnection("peer-a");
 * scope.close();
 * ```
 */
export class ConnectionScope implements ResourceScope {
  readonly #rm: ResourceManager;
  readonly #peer: PeerState;
  readonly #peerId: string;
  // Made on first use and dropped when empty: an idle connection keeps no empty set.
  #streams: Set<StreamScope> | undefined;
  #memory = 0;
  #closed = false;

  /** Created by {@link ResourceManager.openConnection}. */
  constructor(rm: ResourceManager, peerId: string, peer: PeerState) {
    this.#rm = rm;
    this.#peer = peer;
    this.#peerId = peerId;
  }

  /** Streams accounted on this connection. */
  get streams(): number {
    return this.#streams?.size ?? 0;
  }

  /**
   * Account a new stream; `done()` tells whether it has ended (for lazy release). Throws
   * LimitExceededError naming the limit (connection, peer or node) when one is reached.
   */
  openStream(done: () => boolean): StreamScope {
    if (this.#closed) throw new LimitExceededError("connection scope is closed", "closed");
    const l = this.#rm.limits;
    if (this.streams >= l.maxStreamsPerConnection) this.sweep();
    if (this.streams >= l.maxStreamsPerConnection) {
      throw limit(
        "maxStreamsPerConnection",
        l.maxStreamsPerConnection,
        "streams on this connection",
      );
    }
    if (this.#peer.streams >= l.maxStreamsPerPeer) this.#rm.sweep(this.#peer);
    if (this.#peer.streams >= l.maxStreamsPerPeer) {
      throw limit("maxStreamsPerPeer", l.maxStreamsPerPeer, `streams with ${this.#peerId}`);
    }
    if (this.#rm.streams >= l.maxStreams) this.#rm.sweep();
    if (this.#rm.streams >= l.maxStreams) {
      throw limit("maxStreams", l.maxStreams, "streams on the node");
    }
    const stream = new StreamScope(this, done);
    (this.#streams ??= new Set()).add(stream);
    this.#peer.streams++;
    this.#rm.streams++;
    return stream;
  }

  /** @internal Account `stream` under `protocol`, or throw at a protocol limit. */
  addProtocol(protocol: string): void {
    const { node, peer } = this.#rm.protocolLimits(protocol);
    const rm = this.#rm;
    if ((rm.protocols.get(protocol) ?? 0) >= node) rm.sweep();
    if ((rm.protocols.get(protocol) ?? 0) >= node) {
      throw limit("maxStreamsPerProtocol", node, `${protocol} streams on the node`);
    }
    if ((this.#peer.protocols?.get(protocol) ?? 0) >= peer) rm.sweep(this.#peer);
    if ((this.#peer.protocols?.get(protocol) ?? 0) >= peer) {
      throw limit("maxStreamsPerProtocolPerPeer", peer, `${protocol} streams with ${this.#peerId}`);
    }
    rm.protocols.set(protocol, (rm.protocols.get(protocol) ?? 0) + 1);
    const perPeer = this.#peer.protocols ??= new Map();
    perPeer.set(protocol, (perPeer.get(protocol) ?? 0) + 1);
  }

  /** @internal A stream scope was released. */
  removeStream(stream: StreamScope, protocol: string | undefined): void {
    if (this.#streams?.delete(stream) !== true) return;
    if (this.#streams.size === 0) this.#streams = undefined;
    this.#peer.streams--;
    this.#rm.streams--;
    if (protocol !== undefined) {
      decrement(this.#rm.protocols, protocol);
      const perPeer = this.#peer.protocols;
      if (perPeer !== undefined) {
        decrement(perPeer, protocol);
        if (perPeer.size === 0) this.#peer.protocols = undefined;
      }
    }
  }

  /** Release every stream whose `done()` is true. */
  sweep(): void {
    if (this.#streams === undefined) return;
    for (const s of this.#streams) if (s.done()) s.release();
  }

  /** Reserve memory for this connection (checked against connection, peer and node). */
  reserveMemory(bytes: number): void {
    const l = this.#rm.limits;
    checkBytes(bytes);
    if (this.#closed) throw new LimitExceededError("connection scope is closed", "closed");
    if (this.#memory + bytes > l.maxMemoryPerConnection) {
      throw limit("maxMemoryPerConnection", l.maxMemoryPerConnection, "bytes on this connection");
    }
    if (this.#peer.memory + bytes > l.maxMemoryPerPeer) {
      throw limit("maxMemoryPerPeer", l.maxMemoryPerPeer, `bytes for ${this.#peerId}`);
    }
    if (this.#rm.memory + bytes > l.maxMemory) {
      throw limit("maxMemory", l.maxMemory, "bytes on the node");
    }
    this.#memory += bytes;
    this.#peer.memory += bytes;
    this.#rm.memory += bytes;
  }

  /** Give back memory reserved through this connection (or its streams). */
  releaseMemory(bytes: number): void {
    checkBytes(bytes);
    const n = Math.min(bytes, this.#memory);
    this.#memory -= n;
    this.#peer.memory -= n;
    this.#rm.memory -= n;
  }

  /** Release every stream and all memory, and drop the connection (idempotent). */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#streams !== undefined) { for (const s of this.#streams) s.release(); }
    this.releaseMemory(this.#memory);
    this.#peer.conns.delete(this);
    this.#rm.conns.delete(this);
    if (this.#peer.conns.size === 0) this.#rm.peers.delete(this.#peerId);
  }
}

/**
 * The scope of one stream.
 *
 * @example
 * ```ts
 * import { ResourceManager } from "@p2p-edge/libp2p";
 * const stream = new ResourceManager().openConnection("p").openStream(() => false);
 * stream.setProtocol("/ipfs/ping/1.0.0");
 * stream.release();
 * ```
 */
export class StreamScope implements ResourceScope {
  readonly #conn: ConnectionScope;
  /** Whether the stream ended (checked for lazy release). */
  readonly done: () => boolean;
  #protocol: string | undefined;
  #memory = 0;
  #released = false;

  /** Created by {@link ConnectionScope.openStream}. */
  constructor(conn: ConnectionScope, done: () => boolean) {
    this.#conn = conn;
    this.done = done;
  }

  /** The protocol it is accounted under, once set. */
  get protocol(): string | undefined {
    return this.#protocol;
  }

  /** Account the stream under `protocol`; throws LimitExceededError at a protocol limit. */
  setProtocol(protocol: string): void {
    if (this.#released || this.#protocol !== undefined) return;
    this.#conn.addProtocol(protocol);
    this.#protocol = protocol;
  }

  /** Reserve memory for this stream (checked against its connection, peer and node). */
  reserveMemory(bytes: number): void {
    if (this.#released) throw new LimitExceededError("stream scope is released", "released");
    this.#conn.reserveMemory(bytes);
    this.#memory += bytes;
  }

  /** Give back memory reserved through this stream. */
  releaseMemory(bytes: number): void {
    checkBytes(bytes);
    const n = Math.min(bytes, this.#memory);
    this.#memory -= n;
    this.#conn.releaseMemory(n);
  }

  /** Release the stream and its memory (idempotent). */
  release(): void {
    if (this.#released) return;
    this.#released = true;
    this.releaseMemory(this.#memory);
    this.#conn.removeStream(this, this.#protocol);
  }
}

function decrement(map: Map<string, number>, key: string): void {
  const n = (map.get(key) ?? 0) - 1;
  if (n > 0) map.set(key, n);
  else map.delete(key);
}

function checkBytes(bytes: number): void {
  if (!Number.isSafeInteger(bytes) || bytes < 0) {
    throw new RangeError("bytes must be a non-negative integer");
  }
}

function limit(name: string, value: number, what: string): LimitExceededError {
  return new LimitExceededError(`${name} reached: ${value} ${what}`, name);
}
