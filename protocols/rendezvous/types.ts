/**
 * The public types of the rendezvous service: its options, the answers of its methods, its
 * counters and events, and the service interface.
 *
 * @module
 */

import type { Multiaddr } from "../../src/multiaddr/mod.ts";
import type { Startable } from "../../src/node/node.ts";
import type { TypedEventTarget } from "../../src/node/events.ts";
import type { PeerId } from "../../src/peer_id.ts";
import type { AbortOptions } from "../../src/stream/types.ts";
import type { RegistrationStore, RegistrationStoreOptions } from "./store.ts";

/** Options of `rendezvous()`; each with its default. */
export interface RendezvousOptions extends Omit<RegistrationStoreOptions, "seqBase"> {
  /** Also serve as a rendezvous point. Default false (client only). */
  server?: boolean;
  /** Deadline of one client exchange and inactivity deadline of a served stream, ms. 10 s. */
  timeoutMs?: number;
  /** Inbound rendezvous streams per connection (server). Default 4. */
  maxInboundStreams?: number;
  /** The server's clock, ms (tests inject one to expire registrations). Default Date.now. */
  now?: () => number;
  /** Requests (REGISTER, DISCOVER) a peer may send at once (server). Default 64. */
  requestBurst?: number;
  /** Requests a peer regains per second (server). Default 8. */
  requestsPerSecond?: number;
}

/** Options of {@link RendezvousService.register}. */
export interface RendezvousRegisterOptions extends AbortOptions {
  /** Requested TTL, s. Default: the server's (2 h). */
  ttl?: number;
}

/** Options of {@link RendezvousService.discover}. */
export interface RendezvousDiscoverOptions extends AbortOptions {
  /** Most registrations wanted. Default: the server's maximum (1,000 for ours). */
  limit?: number;
  /** The cookie of an earlier answer: only registrations newer than it. */
  cookie?: Uint8Array;
}

/** A discovered registration (verified: `id` signed the record holding `multiaddrs`). */
export interface RendezvousRegistration {
  /** The registered peer. */
  id: PeerId;
  /** Its addresses, from its signed peer record. */
  multiaddrs: Multiaddr[];
  /** The namespace. */
  namespace: string;
  /** Seconds left of the registration, as the server reported. */
  ttl: number;
}

/** The answer of {@link RendezvousService.discover}. */
export interface RendezvousDiscoverResult {
  /** The registrations (invalid ones the server sent are left out). */
  registrations: RendezvousRegistration[];
  /** Pass it as `cookie` to get only what is new (or the next page). */
  cookie: Uint8Array;
}

/** A rendezvous point: a PeerId, its text, or a multiaddr ending in `/p2p/<id>`. */
export type RendezvousPoint = PeerId | string | Multiaddr;

/** Counters of {@link RendezvousService.stats}. */
export interface RendezvousStats {
  /** Registrations held (server). */
  registrations: number;
  /** Registrations accepted (server). */
  registered: number;
  /** Registrations refused, any status (server). */
  refused: number;
  /** Refused as E_NOT_AUTHORIZED: a record not the sender's (server). */
  notAuthorized: number;
  /** DISCOVERs answered (server). */
  discovers: number;
  /** Streams reset for malformed or unexpected input (server). */
  badStreams: number;
  /** Requests refused as over the peer's rate (E_UNAVAILABLE; server). */
  rateLimited: number;
  /** Registrations from a server dropped by the client as invalid. */
  invalidDiscovered: number;
}

/** Events of the rendezvous service. */
export interface RendezvousEvents {
  /** A peer found by `discover` (js-libp2p's PeerInfo shape). */
  peer: { id: PeerId; multiaddrs: Multiaddr[] };
}

/** The rendezvous service as `node.services.rendezvous`. */
export interface RendezvousService extends Startable, TypedEventTarget<RendezvousEvents> {
  /**
   * Register this node in `namespace` at a rendezvous point with a freshly signed peer record
   * of its current addresses. Resolves to the TTL granted (s); rejects with RendezvousError
   * when the point refuses (`status` says why).
   */
  register(
    namespace: string,
    rendezvousPeer: RendezvousPoint,
    options?: RendezvousRegisterOptions,
  ): Promise<number>;
  /** Remove this node's registration in `namespace` (the spec has no answer to wait for). */
  unregister(
    namespace: string,
    rendezvousPeer: RendezvousPoint,
    options?: AbortOptions,
  ): Promise<void>;
  /**
   * Ask a rendezvous point for the registrations in `namespace` (undefined or "" for all).
   * Rejects with RendezvousError when the point refuses (a stale cookie: E_INVALID_COOKIE).
   */
  discover(
    namespace: string | undefined,
    rendezvousPeer: RendezvousPoint,
    options?: RendezvousDiscoverOptions,
  ): Promise<RendezvousDiscoverResult>;
  /** The registration store, when serving. */
  readonly store: RegistrationStore | undefined;
  /** Counters. */
  stats(): RendezvousStats;
}
