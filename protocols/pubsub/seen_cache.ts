/**
 * The seen cache: message-id keys remembered for a fixed time (gossipsub `seenTTL`, 2 min in go
 * and js; libp2p/specs pubsub/gossipsub-v1.0.md "Message Cache" and research §2.2) so a message
 * is validated and delivered once however many peers forward it.
 *
 * Sans-IO: every call takes `now` (ms) and no timer runs. Keys live in a `Map` (key -> expiry)
 * and, in insertion order, in a queue (two arrays and a head index). Because the TTL is fixed,
 * insertion order is expiry order, so {@link SeenCache.prune} pops from the head and stops at
 * the first live entry: O(1) amortised per key. (Not a Map alone: V8 leaves deleted entries as
 * holes that every new iterator skips, so deleting from a Map's front on each add is quadratic
 * under a flood.) The set has a hard entry cap (HARDENING.md rule 4): when it is full the oldest
 * key gives way, so a flood of unique ids costs at most `maxEntries` keys and can at worst make
 * an old id look new again (a duplicate the mesh already tolerates), never grow memory.
 *
 * @module
 */

/** gossipsub `seenTTL` default in go and js (research §2.2): 120 s. */
export const DEFAULT_SEEN_TTL_MS = 120_000;

/**
 * Entry cap (HARDENING.md rule 4): 2 min of ids at ~4,000 unique messages/s. Measured on Deno
 * 2.9.6 at 120-160 bytes per entry with a 46-byte id (go's `from ‖ seqno`), so the cap bounds
 * the cache near 80 MB.
 */
export const DEFAULT_SEEN_MAX_ENTRIES = 500_000;

/** Options of {@link SeenCache}. */
export interface SeenCacheOptions {
  /** How long a key is remembered, ms (default {@link DEFAULT_SEEN_TTL_MS}). */
  ttlMs?: number;
  /** Hard cap on keys; the oldest is evicted when full (default {@link DEFAULT_SEEN_MAX_ENTRIES}). */
  maxEntries?: number;
}

/**
 * A time-bounded, count-bounded set of string keys.
 *
 * @example
 * ```ts
 * import { SeenCache } from "./seen_cache.ts";
 * const seen = new SeenCache({ ttlMs: 1000 });
 * seen.add("id-1", 0); // true: first time
 * seen.add("id-1", 10); // false: already seen
 * seen.has("id-1", 2000); // false: expired
 * ```
 */
export class SeenCache {
  /** The TTL in ms. */
  readonly ttlMs: number;
  /** The entry cap. */
  readonly maxEntries: number;
  /** key -> expiry time (ms). */
  readonly #entries = new Map<string, number>();
  /** Insertion-ordered queue of keys and their expiries; live from `#head`. */
  #keys: string[] = [];
  #expiries: number[] = [];
  #head = 0;
  #evicted = 0;

  /** A cache with the given TTL and cap. */
  constructor(options: SeenCacheOptions = {}) {
    const ttl = options.ttlMs ?? DEFAULT_SEEN_TTL_MS;
    const max = options.maxEntries ?? DEFAULT_SEEN_MAX_ENTRIES;
    if (!(Number.isFinite(ttl) && ttl >= 0)) throw new RangeError(`invalid seen TTL ${ttl}`);
    if (!(Number.isInteger(max) && max >= 1)) throw new RangeError(`invalid seen cap ${max}`);
    this.ttlMs = ttl;
    this.maxEntries = max;
  }

  /** Keys currently held (expired ones count until the next prune or add). */
  get size(): number {
    return this.#entries.size;
  }

  /** How many live keys were evicted early because the cache was full. */
  get evicted(): number {
    return this.#evicted;
  }

  /** True if `key` was added and has not expired at `now`. */
  has(key: string, now: number): boolean {
    const expiry = this.#entries.get(key);
    return expiry !== undefined && expiry > now;
  }

  /**
   * Remember `key` from `now`. Returns false (and changes nothing) if it is already held and
   * live; true if it was new or had expired. Prunes expired keys first.
   */
  add(key: string, now: number): boolean {
    this.prune(now);
    const expiry = this.#entries.get(key);
    if (expiry !== undefined && expiry > now) return false;
    // (An expired key still here sits behind a live one because the clock went backwards; its
    // old queue slot no longer matches its expiry and is skipped when popped.)
    while (this.#entries.size >= this.maxEntries && this.#head < this.#keys.length) {
      if (this.#pop()) this.#evicted++;
    }
    const until = now + this.ttlMs;
    this.#entries.set(key, until);
    this.#keys.push(key);
    this.#expiries.push(until);
    if (this.#keys.length - this.#head > 2 * this.maxEntries) this.#dropStale();
    return true;
  }

  /** Forget every key that has expired at `now`. Returns how many were removed. */
  prune(now: number): number {
    let removed = 0;
    while (this.#head < this.#keys.length && this.#expiries[this.#head] <= now) {
      if (this.#pop()) removed++;
    }
    return removed;
  }

  /** Drop the queue's head; true if it was the key's current entry (so the map shrank). */
  #pop(): boolean {
    if (this.#head >= this.#keys.length) return false;
    const key = this.#keys[this.#head];
    const expiry = this.#expiries[this.#head];
    this.#head++;
    let removed = false;
    if (this.#entries.get(key) === expiry) {
      this.#entries.delete(key);
      removed = true;
    }
    if (this.#head >= 1024 && this.#head * 2 >= this.#keys.length) {
      this.#keys = this.#keys.slice(this.#head);
      this.#expiries = this.#expiries.slice(this.#head);
      this.#head = 0;
    }
    return removed;
  }

  /** Rebuild the queue without slots that no longer match their key's entry (rare). */
  #dropStale(): void {
    const keys: string[] = [];
    const expiries: number[] = [];
    for (let i = this.#head; i < this.#keys.length; i++) {
      if (this.#entries.get(this.#keys[i]) === this.#expiries[i]) {
        keys.push(this.#keys[i]);
        expiries.push(this.#expiries[i]);
      }
    }
    this.#keys = keys;
    this.#expiries = expiries;
    this.#head = 0;
  }

  /** Forget everything. */
  clear(): void {
    this.#entries.clear();
    this.#keys = [];
    this.#expiries = [];
    this.#head = 0;
  }
}
