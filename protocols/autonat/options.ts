/**
 * Options, defaults and address rules shared by the AutoNAT server and client.
 *
 * @module
 */

import type { Multiaddr } from "../../src/multiaddr/mod.ts";
import { CODE_IP4, CODE_IP6, CODE_P2P, CODE_P2P_CIRCUIT } from "../../src/multiaddr/protocols.ts";
import { publicAddressFilter } from "../circuit-relay/mod.ts";

/** Global dial requests served per minute (go-libp2p autonatv2 server: 60). */
export const DEFAULT_MAX_REQUESTS_PER_MINUTE = 60;
/** Dial requests served per peer per minute (go-libp2p autonatv2 server: 12). */
export const DEFAULT_MAX_REQUESTS_PER_PEER_PER_MINUTE = 12;
/** Requests that get a dial-data demand per minute (go-libp2p: 12). */
export const DEFAULT_MAX_DIAL_DATA_REQUESTS_PER_MINUTE = 12;
/** Requests of one peer served at once (go-libp2p: 2). */
export const DEFAULT_MAX_CONCURRENT_PER_PEER = 2;
/**
 * Bytes of dial data demanded before dialling an address whose IP is not the requester's
 * (spec §Amplification attack prevention: 30,000 to 100,000).
 */
export const DEFAULT_DIAL_DATA_BYTES = 30_000;
/** Most dial data the server may demand (spec's upper bound). */
export const MAX_DIAL_DATA_BYTES_SERVER = 100_000;
/** Most dial data our client pays for one request (js-libp2p `MAX_DIAL_DATA_BYTES` 200 KiB). */
export const MAX_DIAL_DATA_BYTES_CLIENT = 200 * 1024;
/** Deadline of one request stream, ms (go: 15 s). */
export const DEFAULT_REQUEST_TIMEOUT_MS = 15_000;
/** Deadline of the dial back (connect), ms (go: 10 s). */
export const DEFAULT_DIAL_TIMEOUT_MS = 10_000;
/** Deadline of the dial-back stream exchange, ms (go: 5 s). */
export const DEFAULT_DIAL_BACK_STREAM_TIMEOUT_MS = 5_000;
/** v1: most requested addresses the server tries (go `maxPeerAddresses` 16). */
export const MAX_V1_DIAL_ADDRS = 16;

/** Options of {@link autoNAT} (server and client). */
export interface AutoNATOptions {
  /**
   * Serve and test private, loopback and documentation addresses (tests, labs). Default false:
   * the server refuses to dial them and the client does not ask about them (spec: SHOULD NOT).
   */
  allowPrivateAddresses?: boolean;
  /** Serve AutoNAT (v2 and v1) to others. Default true. */
  server?: boolean;
  /** Test our own addresses with others' servers. Default true. */
  client?: boolean;
  /** Bytes of dial data demanded for a third-party IP. Default {@link DEFAULT_DIAL_DATA_BYTES}. */
  dialDataBytes?: number;
  /** Global requests per minute. Default {@link DEFAULT_MAX_REQUESTS_PER_MINUTE}. */
  maxRequestsPerMinute?: number;
  /** Requests per peer per minute. Default {@link DEFAULT_MAX_REQUESTS_PER_PEER_PER_MINUTE}. */
  maxRequestsPerPeerPerMinute?: number;
  /** Dial-data demands per minute. Default {@link DEFAULT_MAX_DIAL_DATA_REQUESTS_PER_MINUTE}. */
  maxDialDataRequestsPerMinute?: number;
  /** Requests of one peer at once. Default {@link DEFAULT_MAX_CONCURRENT_PER_PEER}. */
  maxConcurrentPerPeer?: number;
  /** Deadline of one request, ms. Default {@link DEFAULT_REQUEST_TIMEOUT_MS}. */
  timeoutMs?: number;
  /** Deadline of a dial back, ms. Default {@link DEFAULT_DIAL_TIMEOUT_MS}. */
  dialTimeoutMs?: number;
  /** Net agreeing results that decide an address (client). Default 3. */
  confidence?: number;
  /** Client: first test this long after start, ms. Default 5 s. */
  startupDelayMs?: number;
  /** Client: pause between rounds while addresses are undecided, ms. Default 10 s. */
  retryIntervalMs?: number;
  /** Client: re-test decided addresses after this long, ms. Default 1 h. */
  reprobeIntervalMs?: number;
  /** Client: servers asked at once. Default 3. */
  maxConcurrentProbes?: number;
  /** The clock, ms. Default Date.now. */
  now?: () => number;
  /** Timers (tests inject their own). Default the global setTimeout / clearTimeout. */
  timers?: {
    setTimeout(fn: () => void, ms: number): unknown;
    clearTimeout(handle: unknown): void;
  };
}

/** The IP (text) of an ip4/ip6 address, or undefined. */
export function ipOf(addr: Multiaddr): string | undefined {
  const first = addr.components()[0];
  if (first === undefined) return undefined;
  if (first.code === CODE_IP4 || first.code === CODE_IP6) return first.value;
  return undefined;
}

/** The address without its `/p2p/...` tail. */
export function withoutPeer(addr: Multiaddr): Multiaddr {
  return addr.protoCodes().includes(CODE_P2P) ? addr.decapsulateCode(CODE_P2P) : addr;
}

/** Whether an address is relayed. */
export function isCircuit(addr: Multiaddr): boolean {
  return addr.protoCodes().includes(CODE_P2P_CIRCUIT);
}

/**
 * Whether AutoNAT may test `addr`: a direct IP address (no relay, no DNS: a name could point
 * anywhere), public unless private addresses are allowed.
 */
export function testable(addr: Multiaddr, allowPrivate: boolean): boolean {
  if (isCircuit(addr) || ipOf(addr) === undefined) return false;
  return allowPrivate || publicAddressFilter(addr);
}
