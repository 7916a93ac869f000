/**
 * Options, counters and defaults of the relay server (server.ts), and the default filter of the
 * addresses a reservation carries.
 *
 * @module
 */

import { isPublicAddress, type Multiaddr } from "../../src/multiaddr/mod.ts";
import type { RateLimit } from "./reservations.ts";

/** Deadline of a HOP exchange: the request, and for CONNECT the STOP round trip (js 30 s). */
export const DEFAULT_HOP_TIMEOUT_MS = 30_000;
/** Inbound HOP streams per connection at once (js `maxInboundHopStreams` 32). */
export const DEFAULT_MAX_INBOUND_HOP_STREAMS = 32;
/** STOP streams being set up at once, relay-wide (js `maxOutboundStopStreams` 300). */
export const DEFAULT_MAX_OUTBOUND_STOP_STREAMS = 300;
/** How often expired reservations are swept, ms (js `reservationClearInterval` 5 min). */
export const DEFAULT_RESERVATION_CLEAR_INTERVAL_MS = 5 * 60 * 1000;

/**
 * Reservation and circuit options of {@link CircuitRelayServerOptions} (js-libp2p's
 * `reservations` names, plus caps js lacks).
 */
export interface RelayReservationOptions {
  /** Reservations in total (default 128, go and rust). */
  maxReservations?: number;
  /** Reservations per address block, IPv4 /24 or IPv6 /48 (default 16). */
  maxReservationsPerBlock?: number;
  /** Reservation lifetime, ms (default 1 h, go and rust). */
  reservationTtl?: number;
  /** Circuit duration limit announced and enforced, ms (default 2 min). */
  defaultDurationLimit?: number;
  /** Circuit data limit per direction announced and enforced, bytes (default 128 KiB). */
  defaultDataLimit?: bigint;
  /** Apply the two limits above (default true); false relays without a limit, as js allows. */
  applyDefaultLimit?: boolean;
  /** How often expired reservations are swept, ms (default 5 min). */
  reservationClearInterval?: number;
  /**
   * Which of our announced addresses (`node.getMultiaddrs()`, each ending in `/p2p/<our id>`) a
   * reservation carries (default: public ones only, as go). Loopback tests pass `() => true`.
   * Relayed (`/p2p-circuit`) addresses are never sent.
   */
  addressFilter?: (addr: Multiaddr) => boolean;
  /** Reservation rate per peer (default burst 10, 30 per hour). */
  peerRate?: RateLimit;
  /** Reservation rate per address block (default burst 30, 60 per hour). */
  blockRate?: RateLimit;
  /** Circuits per peer, as source or target (default 16). */
  maxCircuitsPerPeer?: number;
  /** Circuits in total (default 1024). */
  maxCircuits?: number;
}

/**
 * Options of `circuitRelayServer`.
 *
 * @example
 * ```ts
 * import type { CircuitRelayServerOptions } from "@p2p-edge/libp2p/protocols/circuit-relay";
 * const options: CircuitRelayServerOptions = {
 *   reservations: { maxReservations: 1024, addressFilter: () => true },
 *   hopTimeout: 10_000,
 * };
 * ```
 */
export interface CircuitRelayServerOptions {
  /** Reservation and circuit limits. */
  reservations?: RelayReservationOptions;
  /** Deadline of one HOP exchange, ms (default 30 s). */
  hopTimeout?: number;
  /** Inbound HOP streams per connection at once (default 32). */
  maxInboundHopStreams?: number;
  /** STOP streams being set up at once (default 300); more CONNECTs get RESOURCE_LIMIT_EXCEEDED. */
  maxOutboundStopStreams?: number;
  /** Clock for reservations, ms since the epoch (default `Date.now`; tests inject one). */
  now?: () => number;
}

/**
 * Counters of the relay server.
 *
 * @example
 * ```ts
 * import type { CircuitRelayStats } from "@p2p-edge/libp2p/protocols/circuit-relay";
 * function report(s: CircuitRelayStats): string {
 *   return `${s.reservations} reservations, ${s.circuits} circuits`;
 * }
 * ```
 */
export interface CircuitRelayStats {
  /** Reservations held now. */
  reservations: number;
  /** Circuits open (or being set up) now. */
  circuits: number;
  /** RESERVE requests granted (new or renewed). */
  reservesAccepted: number;
  /** Of those, renewals that replaced the peer's slot. */
  reservesRenewed: number;
  /** RESERVE requests refused. */
  reservesRefused: number;
  /** CONNECT requests that became circuits. */
  connectsAccepted: number;
  /** CONNECT requests refused or failed. */
  connectsRefused: number;
  /** HOP streams answered MALFORMED_MESSAGE or UNEXPECTED_MESSAGE. */
  malformed: number;
  /** Circuits ended. */
  circuitsClosed: number;
  /** Of those, circuits reset at their data or duration limit. */
  circuitsLimited: number;
  /** Bytes forwarded over circuits, both directions. */
  bytesRelayed: bigint;
}

/**
 * The default reservation address filter: public addresses only (go's
 * `reservationAddrFilter: manet.IsPublicAddr`): a public IPv4 or IPv6 address, or a DNS name
 * other than localhost.
 *
 * @example
 * ```ts
 * import { multiaddr } from "@p2p-edge/libp2p/multiaddr";
 * import { publicAddressFilter } from "@p2p-edge/libp2p/protocols/circuit-relay";
 * publicAddressFilter(multiaddr("/ip4/8.8.8.8/tcp/4001")); // true
 * publicAddressFilter(multiaddr("/ip4/127.0.0.1/tcp/4001")); // false
 * ```
 */
export function publicAddressFilter(addr: Multiaddr): boolean {
  // The core's classifier (src/multiaddr/scope.ts), shared with the DHT and DCUtR.
  return isPublicAddress(addr);
}
