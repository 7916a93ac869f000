/**
 * Per-message delivery records for P3 near-first deliveries and P4 (gossipsub-v1.1.md "P₃ and
 * P₃b"): when a message was first seen, whether it validated, and which peers delivered a copy
 * while it was being validated. Records are bounded in count and lifetime (HARDENING.md rule 4):
 * a flood of unique message ids costs at most `maxRecords` records, the oldest dropped first.
 *
 * @module
 */

/** What validation said about a message. */
export type DeliveryStatus = "unknown" | "valid" | "invalid" | "ignored";

/**
 * Copies of one message tracked from distinct peers at most. Copies reach us from mesh peers
 * (D_hi = 12), the publisher and IWANT replies; beyond the cap a copy earns no P3 credit, and
 * one that arrives before an invalid verdict escapes that P4 increment (HARDENING.md rule 4).
 */
export const MAX_DELIVERY_PEERS = 64;

/** One message's record. */
export interface DeliveryRecord {
  /** What validation said so far. */
  status: DeliveryStatus;
  /** When the record was created (the first sighting). */
  readonly firstSeen: number;
  /** When the message validated (status "valid"). */
  validated: number;
  /** When the record expires. */
  readonly expires: number;
  /** Peers that delivered a copy (deduplicated, at most {@link MAX_DELIVERY_PEERS}). */
  peers: string[] | undefined;
}

/**
 * Message id key -> record, with the keys also queued in creation order. With `now`
 * non-decreasing, creation order is expiry order, so expiry and eviction both take from the
 * front of the queue. (A Map's own order is not used: V8 leaves deleted entries as holes that
 * every `keys().next()` walks over, which made eviction quadratic: 500,000 inserts at a cap of
 * 5,000 took 7.6 s, and 45 s at 100,000.)
 *
 * @example
 * ```ts
 * import { DeliveryRecords } from "./score_deliveries.ts";
 * const records = new DeliveryRecords({ maxRecords: 2, ttl: 120_000 });
 * records.ensure("a", 0).status; // "unknown"
 * records.ensure("b", 0);
 * records.ensure("c", 0); // evicts "a"
 * records.size; // 2
 * ```
 */
export class DeliveryRecords {
  readonly #records = new Map<string, DeliveryRecord>();
  /** Keys in creation order from `#head` on; every queued key is in the map. */
  #order: string[] = [];
  #head = 0;
  readonly #maxRecords: number;
  readonly #ttl: number;

  /** `maxRecords` >= 1; `ttl` in ms. */
  constructor(options: { maxRecords: number; ttl: number }) {
    this.#maxRecords = options.maxRecords;
    this.#ttl = options.ttl;
  }

  /** The record of `idKey`, if any. */
  get(idKey: string): DeliveryRecord | undefined {
    return this.#records.get(idKey);
  }

  /** The record of `idKey`, created (first seen now) when missing. */
  ensure(idKey: string, now: number): DeliveryRecord {
    let record = this.#records.get(idKey);
    if (record !== undefined) return record;
    // Full: the oldest record gives way (HARDENING.md rule 4).
    if (this.#records.size >= this.#maxRecords) this.#dropOldest();
    record = {
      status: "unknown",
      firstSeen: now,
      validated: 0,
      expires: now + this.#ttl,
      peers: undefined,
    };
    this.#records.set(idKey, record);
    this.#order.push(idKey);
    return record;
  }

  /** Drop expired records (from the front, stopping at the first that is not). */
  expire(now: number): void {
    while (this.#head < this.#order.length) {
      if (this.#records.get(this.#order[this.#head])!.expires > now) break;
      this.#dropOldest();
    }
  }

  /** Number of records. */
  get size(): number {
    return this.#records.size;
  }

  /** Drop every record. */
  clear(): void {
    this.#records.clear();
    this.#order = [];
    this.#head = 0;
  }

  #dropOldest(): void {
    this.#records.delete(this.#order[this.#head++]);
    // Compact once the consumed front is half the queue: O(1) amortised per record.
    if (this.#head >= 1_024 && this.#head * 2 >= this.#order.length) {
      this.#order = this.#order.slice(this.#head);
      this.#head = 0;
    }
  }
}

/**
 * Add `peer` to a record's deliverers. Returns false when it is already there or the record is
 * full (the copy then counts for nothing).
 *
 * @example
 * ```ts
 * import { addDeliverer, DeliveryRecords } from "./score_deliveries.ts";
 * const record = new DeliveryRecords({ maxRecords: 10, ttl: 1_000 }).ensure("id", 0);
 * addDeliverer(record, "peer-a"); // true
 * addDeliverer(record, "peer-a"); // false
 * ```
 */
export function addDeliverer(record: DeliveryRecord, peer: string): boolean {
  const peers = record.peers ??= [];
  if (peers.length >= MAX_DELIVERY_PEERS || peers.includes(peer)) return false;
  peers.push(peer);
  return true;
}

/**
 * Whether `peer` already delivered a copy (or the record is full, when we cannot tell).
 *
 * @example
 * ```ts
 * import { DeliveryRecords, hasDeliverer } from "./score_deliveries.ts";
 * hasDeliverer(new DeliveryRecords({ maxRecords: 1, ttl: 1 }).ensure("id", 0), "p"); // false
 * ```
 */
export function hasDeliverer(record: DeliveryRecord, peer: string): boolean {
  const peers = record.peers;
  if (peers === undefined) return false;
  return peers.length >= MAX_DELIVERY_PEERS || peers.includes(peer);
}
