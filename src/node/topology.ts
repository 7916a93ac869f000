/**
 * Topologies: services (DHT, pubsub, relay discovery) register interest in a protocol and are
 * told when a peer that supports it is connected (per identify), when it stops supporting it
 * (identify push) and when its last connection closes. js-libp2p names: `register(protocol,
 * topology)` returning an id, `unregister(id)`, `onConnect`, `onDisconnect`,
 * `notifyOnLimitedConnection`.
 *
 * The node feeds a {@link Topologies} with the protocols identify reported for a connected peer
 * and with peer disconnects; each registration remembers the peers it announced, so every peer
 * is announced once until it is withdrawn (deduplicated per peer).
 *
 * @module
 */

import type { Connection } from "../connection.ts";
import type { PeerId } from "../peer_id.ts";

/**
 * What a service registers with `node.register(protocol, topology)`.
 *
 * @example
 * ```ts
 * import type { Topology } from "@p2p-edge/libp2p";
 * const peers = new Set<string>();
 * const topology: Topology = {
 *   onConnect: (peer) => void peers.add(peer.toString()),
 *   onDisconnect: (peer) => void peers.delete(peer.toString()),
 * };
 * ```
 */
export interface Topology {
  /**
   * A connected peer supports the protocol (identify said so): `connection` is an open
   * connection to it (an unlimited one when there is one). Called once per peer until
   * {@link onDisconnect}.
   */
  onConnect?(peer: PeerId, connection: Connection): void | Promise<void>;
  /**
   * A peer announced by {@link onConnect} disconnected (its last connection closed) or no
   * longer lists the protocol.
   */
  onDisconnect?(peer: PeerId): void | Promise<void>;
  /**
   * Announce peers connected only over limited (relayed) connections too. Default false: such
   * a peer is announced once it has an unlimited connection and is identified on it.
   */
  notifyOnLimitedConnection?: boolean;
}

/** Most topologies registered on one node (a bound on local misuse, HARDENING.md rule 4). */
export const MAX_TOPOLOGIES = 1024;

interface Registration {
  readonly id: string;
  readonly protocol: string;
  readonly topology: Topology;
  /** Peers announced with onConnect and not withdrawn yet. */
  readonly peers: Set<string>;
}

let registrationCounter = 0;

/**
 * The topologies of one node.
 *
 * @example
 * ```ts
 * import { Topologies } from "./topology.ts";
 * const topologies = new Topologies();
 * const id = topologies.register("/ipfs/kad/1.0.0", { onConnect: () => {} });
 * topologies.unregister(id); // true
 * ```
 */
export class Topologies {
  readonly #byProtocol = new Map<string, Map<string, Registration>>();
  readonly #byId = new Map<string, Registration>();
  readonly #onError: ((error: unknown) => void) | undefined;

  /** `onError` receives what a topology callback throws or rejects with. */
  constructor(init: { onError?: (error: unknown) => void } = {}) {
    this.#onError = init.onError;
  }

  /** Registrations. */
  get size(): number {
    return this.#byId.size;
  }

  /** Register `topology` for `protocol`; returns its id for {@link unregister}. */
  register(protocol: string, topology: Topology): string {
    if (typeof protocol !== "string" || protocol.length === 0) {
      throw new TypeError("a topology needs a protocol id");
    }
    if (typeof topology !== "object" || topology === null) {
      throw new TypeError("a topology is an object with onConnect/onDisconnect");
    }
    if (this.#byId.size >= MAX_TOPOLOGIES) {
      throw new RangeError(`at most ${MAX_TOPOLOGIES} topologies`);
    }
    const id = `topology-${++registrationCounter}`;
    const reg: Registration = { id, protocol, topology, peers: new Set() };
    this.#byId.set(id, reg);
    let map = this.#byProtocol.get(protocol);
    if (map === undefined) this.#byProtocol.set(protocol, map = new Map());
    map.set(id, reg);
    return id;
  }

  /** Remove a registration; false when the id is unknown. */
  unregister(id: string): boolean {
    const reg = this.#byId.get(id);
    if (reg === undefined) return false;
    this.#byId.delete(id);
    const map = this.#byProtocol.get(reg.protocol)!;
    map.delete(id);
    if (map.size === 0) this.#byProtocol.delete(reg.protocol);
    return true;
  }

  /**
   * `peer` is connected over `connections` and supports exactly `protocols` (identify's list):
   * announce it to the registrations of protocols it supports that have not seen it yet, and
   * withdraw it from those of protocols it no longer lists. With `onlyId`, only that
   * registration is considered and nothing is withdrawn (catching up a new registration).
   */
  update(
    peer: PeerId,
    protocols: readonly string[],
    connections: readonly Connection[],
    onlyId?: string,
  ): void {
    const key = peer.toString();
    const supported = new Set(protocols);
    const regs = onlyId === undefined
      ? [...this.#byId.values()]
      : [this.#byId.get(onlyId)].filter((r) => r !== undefined);
    for (const reg of regs) {
      const has = reg.peers.has(key);
      if (supported.has(reg.protocol)) {
        if (has) continue;
        const conn = pick(connections, reg.topology.notifyOnLimitedConnection === true);
        if (conn === undefined) continue;
        reg.peers.add(key);
        this.#call(() => reg.topology.onConnect?.(peer, conn));
      } else if (has && onlyId === undefined) {
        reg.peers.delete(key);
        this.#call(() => reg.topology.onDisconnect?.(peer));
      }
    }
  }

  /** `peer`'s last connection closed: withdraw it everywhere it was announced. */
  disconnected(peer: PeerId): void {
    const key = peer.toString();
    for (const reg of [...this.#byId.values()]) {
      if (!reg.peers.delete(key)) continue;
      this.#call(() => reg.topology.onDisconnect?.(peer));
    }
  }

  #call(run: () => void | Promise<void>): void {
    try {
      const result = run();
      if (result instanceof Promise) result.catch((err) => this.#report(err));
    } catch (err) {
      this.#report(err);
    }
  }

  #report(error: unknown): void {
    try {
      this.#onError?.(error);
    } catch { /* a failing reporter must not break the others */ }
  }
}

/** An open connection to announce: an unlimited one first; a limited one only if allowed. */
function pick(connections: readonly Connection[], allowLimited: boolean): Connection | undefined {
  let limited: Connection | undefined;
  for (const c of connections) {
    if (c.status !== "open") continue;
    if (!c.limited) return c;
    limited ??= c;
  }
  return allowLimited ? limited : undefined;
}
