/**
 * The relay's reservation table and circuit accounting, sans-IO: every call takes `now` (ms);
 * nothing here reads a clock, a socket or a timer. The server (server.ts) feeds it.
 *
 * Admission of a RESERVE, in order (each refusal carries its spec status code, libp2p/specs
 * `relay/circuit-v2.md` §Status codes):
 * 1. the token buckets of the peer and of its address block (RESERVATION_REFUSED; rust limits
 *    30 reservations/h per peer and 60/h per IP, research §3.2; HARDENING.md rule 7);
 * 2. a peer holding a reservation is granted a fresh one in the same slot: re-reserving after a
 *    reconnect or a restart never consumes a new slot (go-libp2p #2963, js-libp2p #2833);
 * 3. the total cap and the cap per address block (RESERVATION_REFUSED, as go and js answer
 *    refused reservations; HARDENING.md rule 4).
 *
 * Circuits are counted per peer (as source and as target, go `MaxCircuits` per peer) and in
 * total from the CONNECT until the circuit ends, so a CONNECT flood to one reserved peer stops at
 * its per-peer cap (RESOURCE_LIMIT_EXCEEDED, as go answers).
 *
 * @module
 */

import { Status, type StatusValue } from "./codec.ts";

/** Default reservation lifetime, ms (go and rust 1 h; js 2 h). */
export const DEFAULT_RESERVATION_TTL_MS = 60 * 60 * 1000;
/** Default cap on reservations in total (go and rust 128; js 15). */
export const DEFAULT_MAX_RESERVATIONS = 128;
/**
 * Default cap on reservations per address block (IPv4 /24, IPv6 /48): between go's 8 per IP
 * and 32 per ASN, since a block holds several hosts.
 */
export const DEFAULT_MAX_RESERVATIONS_PER_BLOCK = 16;
/** Default circuit duration limit, ms (go, rust, js: 2 min). */
export const DEFAULT_DURATION_LIMIT_MS = 2 * 60 * 1000;
/** Default circuit data limit per direction, bytes (go, rust, js: 128 KiB). */
export const DEFAULT_DATA_LIMIT = 128n * 1024n;
/** Default cap on circuits per peer, as source or target (go 16 per peer). */
export const DEFAULT_MAX_CIRCUITS_PER_PEER = 16;
/** Default cap on circuits in total. */
export const DEFAULT_MAX_CIRCUITS = 1024;
/** Default reservation rate per peer: burst and refill per hour (rust 30/h per peer). */
export const DEFAULT_PEER_RATE = { burst: 10, perHour: 30 } as const;
/** Default reservation rate per address block: burst and refill per hour (rust 60/h per IP). */
export const DEFAULT_BLOCK_RATE = { burst: 30, perHour: 60 } as const;
/** Most token buckets kept (HARDENING.md rule 4): full buckets are dropped first when over. */
export const MAX_RATE_BUCKETS = 16_384;

/** A token bucket's size and refill. */
export interface RateLimit {
  /** Tokens when full: reservations allowed at once. */
  burst: number;
  /** Tokens added per hour. */
  perHour: number;
}

/** Options of a {@link ReservationTable}. */
export interface ReservationTableOptions {
  /** Reservation lifetime, ms. Default {@link DEFAULT_RESERVATION_TTL_MS}. */
  reservationTtl?: number;
  /** Reservations in total. Default {@link DEFAULT_MAX_RESERVATIONS}. */
  maxReservations?: number;
  /** Reservations per address block. Default {@link DEFAULT_MAX_RESERVATIONS_PER_BLOCK}. */
  maxReservationsPerBlock?: number;
  /** Circuits per peer (as source or as target). Default {@link DEFAULT_MAX_CIRCUITS_PER_PEER}. */
  maxCircuitsPerPeer?: number;
  /** Circuits in total. Default {@link DEFAULT_MAX_CIRCUITS}. */
  maxCircuits?: number;
  /** Reservation rate per peer. Default {@link DEFAULT_PEER_RATE}. */
  peerRate?: RateLimit;
  /** Reservation rate per address block. Default {@link DEFAULT_BLOCK_RATE}. */
  blockRate?: RateLimit;
}

/** One reservation. */
export interface ReservationEntry {
  /** The reserving peer (its string form). */
  readonly peer: string;
  /** Its address block, if its address has one. */
  readonly block: string | undefined;
  /** Expiry, ms since the epoch. */
  readonly expiresAt: number;
}

/** The outcome of {@link ReservationTable.reserve}. */
export type ReserveResult =
  | { ok: true; entry: ReservationEntry; replaced: boolean }
  | { ok: false; status: StatusValue; reason: string };

/** The outcome of {@link ReservationTable.openCircuit}. */
export type CircuitResult =
  | { ok: true }
  | { ok: false; status: StatusValue; reason: string };

/** Token bucket per key, refilled lazily from `now`. */
class RateLimiter {
  readonly #limit: RateLimit;
  readonly #buckets = new Map<string, { tokens: number; at: number }>();

  constructor(limit: RateLimit) {
    if (!(limit.burst >= 1) || !(limit.perHour >= 0)) {
      throw new RangeError("a rate limit needs burst >= 1 and perHour >= 0");
    }
    this.#limit = limit;
  }

  get size(): number {
    return this.#buckets.size;
  }

  #refill(key: string, now: number): { tokens: number; at: number } {
    const b = this.#buckets.get(key);
    if (b === undefined) return { tokens: this.#limit.burst, at: now };
    const elapsed = Math.max(0, now - b.at);
    const tokens = Math.min(this.#limit.burst, b.tokens + elapsed * this.#limit.perHour / 3.6e6);
    return { tokens, at: now };
  }

  /** True when `key` has a token (without taking it). */
  allows(key: string, now: number): boolean {
    return this.#refill(key, now).tokens >= 1;
  }

  /** Take one token from `key`'s bucket. */
  take(key: string, now: number): void {
    const b = this.#refill(key, now);
    b.tokens -= 1;
    this.#buckets.delete(key); // re-insert: the map's order is least recently used first
    this.#buckets.set(key, b);
    // Over the cap the least recently used bucket goes (O(1); sweep() drops the full ones).
    if (this.#buckets.size > MAX_RATE_BUCKETS) {
      this.#buckets.delete(this.#buckets.keys().next().value!);
    }
  }

  /** Drop the buckets that are full again: they carry no state. */
  prune(now: number): void {
    for (const key of [...this.#buckets.keys()]) {
      if (this.#refill(key, now).tokens >= this.#limit.burst) this.#buckets.delete(key);
    }
  }
}

/**
 * Reservations with expiry, caps and rate limits, and circuit counts.
 *
 * @example
 * ```ts
 * import { ReservationTable } from "./reservations.ts";
 * const table = new ReservationTable({ maxReservations: 2 });
 * const r = table.reserve("12D3KooWA", "ip4/192.0.2", 0);
 * r.ok; // true
 * table.get("12D3KooWA", 1000)?.expiresAt; // 3600000
 * ```
 */
export class ReservationTable {
  /** Reservation lifetime, ms. */
  readonly ttl: number;
  readonly #maxReservations: number;
  readonly #maxPerBlock: number;
  readonly #maxCircuitsPerPeer: number;
  readonly #maxCircuits: number;
  readonly #peerRate: RateLimiter;
  readonly #blockRate: RateLimiter;
  readonly #entries = new Map<string, ReservationEntry>();
  readonly #perBlock = new Map<string, number>();
  readonly #circuitsPerPeer = new Map<string, number>();
  #circuits = 0;

  /** A table with these caps (defaults as named in this file). */
  constructor(options: ReservationTableOptions = {}) {
    this.ttl = positive(options.reservationTtl ?? DEFAULT_RESERVATION_TTL_MS, "reservationTtl");
    this.#maxReservations = count(options.maxReservations ?? DEFAULT_MAX_RESERVATIONS);
    this.#maxPerBlock = count(
      options.maxReservationsPerBlock ?? DEFAULT_MAX_RESERVATIONS_PER_BLOCK,
    );
    this.#maxCircuitsPerPeer = count(options.maxCircuitsPerPeer ?? DEFAULT_MAX_CIRCUITS_PER_PEER);
    this.#maxCircuits = count(options.maxCircuits ?? DEFAULT_MAX_CIRCUITS);
    this.#peerRate = new RateLimiter(options.peerRate ?? DEFAULT_PEER_RATE);
    this.#blockRate = new RateLimiter(options.blockRate ?? DEFAULT_BLOCK_RATE);
  }

  /** Reservations held (expired ones count until {@link sweep} or a lookup drops them). */
  get size(): number {
    return this.#entries.size;
  }

  /** Circuits open (or being set up). */
  get circuits(): number {
    return this.#circuits;
  }

  /** Rate-limit buckets held (bounded by {@link MAX_RATE_BUCKETS} per kind). */
  get rateBuckets(): number {
    return this.#peerRate.size + this.#blockRate.size;
  }

  /**
   * Grant or renew `peer`'s reservation; `block` is its address block (see
   * {@link addressBlock}; `undefined` for addresses without one, which only the total cap
   * counts).
   */
  reserve(peer: string, block: string | undefined, now: number): ReserveResult {
    if (!this.#peerRate.allows(peer, now)) {
      return refused(Status.RESERVATION_REFUSED, "peer reserves too often");
    }
    if (block !== undefined && !this.#blockRate.allows(block, now)) {
      return refused(Status.RESERVATION_REFUSED, "address block reserves too often");
    }
    const existing = this.get(peer, now);
    if (existing === undefined) {
      if (this.#entries.size >= this.#maxReservations) this.sweep(now);
      if (this.#entries.size >= this.#maxReservations) {
        return refused(Status.RESERVATION_REFUSED, "reservation table full");
      }
    }
    const blockChanges = existing === undefined || existing.block !== block;
    if (
      block !== undefined && blockChanges && (this.#perBlock.get(block) ?? 0) >= this.#maxPerBlock
    ) {
      return refused(Status.RESERVATION_REFUSED, "too many reservations from this address block");
    }
    this.#peerRate.take(peer, now);
    if (block !== undefined) this.#blockRate.take(block, now);
    if (existing !== undefined) this.#drop(existing);
    const entry: ReservationEntry = { peer, block, expiresAt: now + this.ttl };
    this.#entries.set(peer, entry);
    if (block !== undefined) this.#perBlock.set(block, (this.#perBlock.get(block) ?? 0) + 1);
    return { ok: true, entry, replaced: existing !== undefined };
  }

  /** `peer`'s live reservation; an expired one is dropped and `undefined` returned. */
  get(peer: string, now: number): ReservationEntry | undefined {
    const e = this.#entries.get(peer);
    if (e === undefined) return undefined;
    if (e.expiresAt <= now) {
      this.#drop(e);
      return undefined;
    }
    return e;
  }

  /** Remove `peer`'s reservation (its connection closed, or the answer could not be sent). */
  remove(peer: string): boolean {
    const e = this.#entries.get(peer);
    if (e === undefined) return false;
    this.#drop(e);
    return true;
  }

  /** Drop expired reservations and idle rate buckets; returns how many reservations went. */
  sweep(now: number): number {
    let n = 0;
    for (const e of [...this.#entries.values()]) {
      if (e.expiresAt <= now) {
        this.#drop(e);
        n++;
      }
    }
    this.#peerRate.prune(now);
    this.#blockRate.prune(now);
    return n;
  }

  /** Every live reservation. */
  list(now: number): ReservationEntry[] {
    return [...this.#entries.values()].filter((e) => e.expiresAt > now);
  }

  /** Drop everything (the service stopped). */
  clear(): void {
    this.#entries.clear();
    this.#perBlock.clear();
    this.#circuitsPerPeer.clear();
    this.#circuits = 0;
  }

  /**
   * Count a circuit from `source` to `target` (reservation checked by the caller). Refused with
   * RESOURCE_LIMIT_EXCEEDED over the total or either peer's cap. Pair with
   * {@link closeCircuit}.
   */
  openCircuit(source: string, target: string): CircuitResult {
    if (this.#circuits >= this.#maxCircuits) {
      return refused(Status.RESOURCE_LIMIT_EXCEEDED, "relay carries its maximum of circuits");
    }
    if ((this.#circuitsPerPeer.get(source) ?? 0) >= this.#maxCircuitsPerPeer) {
      return refused(Status.RESOURCE_LIMIT_EXCEEDED, "source has its maximum of circuits");
    }
    if ((this.#circuitsPerPeer.get(target) ?? 0) >= this.#maxCircuitsPerPeer) {
      return refused(Status.RESOURCE_LIMIT_EXCEEDED, "target has its maximum of circuits");
    }
    this.#circuits++;
    this.#bump(source, 1);
    this.#bump(target, 1);
    return { ok: true };
  }

  /** Release a circuit counted by {@link openCircuit}. */
  closeCircuit(source: string, target: string): void {
    if (this.#circuits === 0) return;
    this.#circuits--;
    this.#bump(source, -1);
    this.#bump(target, -1);
  }

  /** Circuits `peer` takes part in. */
  circuitsOf(peer: string): number {
    return this.#circuitsPerPeer.get(peer) ?? 0;
  }

  #bump(peer: string, by: number): void {
    const n = (this.#circuitsPerPeer.get(peer) ?? 0) + by;
    if (n <= 0) this.#circuitsPerPeer.delete(peer);
    else this.#circuitsPerPeer.set(peer, n);
  }

  #drop(e: ReservationEntry): void {
    if (this.#entries.get(e.peer) !== e) return;
    this.#entries.delete(e.peer);
    if (e.block === undefined) return;
    const n = (this.#perBlock.get(e.block) ?? 1) - 1;
    if (n <= 0) this.#perBlock.delete(e.block);
    else this.#perBlock.set(e.block, n);
  }
}

/**
 * The address block a remote address counts under: IPv4 /24, IPv6 /48 (IPv4-mapped IPv6 as
 * IPv4), from the binary form; `undefined` for non-IP addresses (memory, unix). A /24 or /48 is
 * what one operator typically holds, so ids and ports from one network share a cap.
 *
 * @example
 * ```ts
 * import { addressBlock } from "./reservations.ts";
 * addressBlock(new Uint8Array([4, 192, 0, 2, 7, 6, 0x0f, 0xa1])); // "ip4/192.0.2"
 * ```
 */
export function addressBlock(addr: Uint8Array): string | undefined {
  if (addr[0] === 4 && addr.byteLength >= 5) return `ip4/${addr[1]}.${addr[2]}.${addr[3]}`;
  if (addr[0] === 41 && addr.byteLength >= 17) {
    const ip = addr.subarray(1, 17);
    let mapped = ip[10] === 0xff && ip[11] === 0xff;
    for (let i = 0; i < 10 && mapped; i++) mapped = ip[i] === 0;
    if (mapped) return `ip4/${ip[12]}.${ip[13]}.${ip[14]}`;
    const hex = (i: number): string => ((ip[i] << 8) | ip[i + 1]).toString(16);
    return `ip6/${hex(0)}:${hex(2)}:${hex(4)}`;
  }
  return undefined;
}

function refused(
  status: StatusValue,
  reason: string,
): { ok: false; status: StatusValue; reason: string } {
  return { ok: false, status, reason };
}

function positive(v: number, name: string): number {
  if (!(v > 0 && Number.isFinite(v))) throw new RangeError(`${name} must be a positive number`);
  return v;
}

function count(v: number): number {
  if (!Number.isInteger(v) || v < 0) throw new RangeError("caps must be integers >= 0");
  return v;
}
