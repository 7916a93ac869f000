/**
 * Options, counters and defaults of the relay server (server.ts), and the default filter of the
 * addresses a reservation carries.
 *
 * @module
 */

import type { Multiaddr } from "../../src/multiaddr/mod.ts";
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
  const b = addr.bytes;
  if (b[0] === 4 && b.byteLength >= 5) return isPublicIPv4(b.subarray(1, 5));
  if (b[0] === 41 && b.byteLength >= 17) {
    const ip = b.subarray(1, 17);
    let mapped = ip[10] === 0xff && ip[11] === 0xff;
    for (let i = 0; i < 10 && mapped; i++) mapped = ip[i] === 0;
    if (mapped) return isPublicIPv4(ip.subarray(12));
    // Global unicast 2000::/3 outside the documentation range 2001:db8::/32 (RFC 3849).
    if ((ip[0] & 0xe0) !== 0x20) return false;
    return !(ip[0] === 0x20 && ip[1] === 0x01 && ip[2] === 0x0d && ip[3] === 0xb8);
  }
  if (b[0] >= 53 && b[0] <= 56) {
    const host = addr.toString().split("/")[2]?.toLowerCase() ?? "";
    return host !== "localhost" && !host.endsWith(".localhost");
  }
  return false;
}

/** Non-public IPv4 ranges (RFC 6890 special-purpose registry), as [a, b, c, d, prefix bits]. */
const IPV4_NON_PUBLIC: readonly (readonly number[])[] = [
  [0, 0, 0, 0, 8],
  [10, 0, 0, 0, 8],
  [100, 64, 0, 0, 10],
  [127, 0, 0, 0, 8],
  [169, 254, 0, 0, 16],
  [172, 16, 0, 0, 12],
  [192, 0, 0, 0, 24],
  [192, 0, 2, 0, 24],
  [192, 168, 0, 0, 16],
  [198, 18, 0, 0, 15],
  [198, 51, 100, 0, 24],
  [203, 0, 113, 0, 24],
  [224, 0, 0, 0, 4],
  [240, 0, 0, 0, 4],
];

function isPublicIPv4(ip: Uint8Array): boolean {
  const value = ((ip[0] << 24) | (ip[1] << 16) | (ip[2] << 8) | ip[3]) >>> 0;
  for (const r of IPV4_NON_PUBLIC) {
    const base = ((r[0] << 24) | (r[1] << 16) | (r[2] << 8) | r[3]) >>> 0;
    const mask = r[4] === 0 ? 0 : (0xffff_ffff << (32 - r[4])) >>> 0;
    if (((value & mask) >>> 0) === base) return false;
  }
  return true;
}
