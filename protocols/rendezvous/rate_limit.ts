/**
 * Per-peer request budget of a rendezvous point (HARDENING.md rule 7: cheap to ask, expensive
 * to answer; a REGISTER costs a signature check, a DISCOVER up to 1 MiB of answer). A token
 * bucket per peer, sans-IO (time passed in, ms); the table of peers is capped and forgets the
 * least recently active peer first (rule 4).
 *
 * @module
 */

/** Options of {@link PeerRateLimit}. */
export interface PeerRateLimitOptions {
  /** Requests a peer may send at once. */
  burst: number;
  /** Requests a peer regains per second. */
  perSecond: number;
  /** Peers tracked at once (the least recently active is forgotten beyond it). */
  maxPeers: number;
}

interface Bucket {
  tokens: number;
  at: number;
}

/**
 * A token bucket per peer.
 *
 * @example
 * ```ts
 * import { PeerRateLimit } from "@p2p-edge/libp2p/protocols/rendezvous";
 * const limit = new PeerRateLimit({ burst: 2, perSecond: 1, maxPeers: 100 });
 * limit.admit("a", 0); // true
 * limit.admit("a", 0); // true
 * limit.admit("a", 0); // false
 * limit.admit("a", 1_000); // true
 * ```
 */
export class PeerRateLimit {
  readonly #burst: number;
  readonly #perMs: number;
  readonly #maxPeers: number;
  readonly #peers = new Map<string, Bucket>();

  /** A limiter with these limits (RangeError for non-positive values). */
  constructor(options: PeerRateLimitOptions) {
    for (const k of ["burst", "perSecond", "maxPeers"] as const) {
      if (!(options[k] > 0)) throw new RangeError(`${k} must be > 0`);
    }
    this.#burst = options.burst;
    this.#perMs = options.perSecond / 1000;
    this.#maxPeers = options.maxPeers;
  }

  /** Peers tracked. */
  get size(): number {
    return this.#peers.size;
  }

  /** Take one request of `peer` at `now` from its budget; false when it has none left. */
  admit(peer: string, now: number): boolean {
    let b = this.#peers.get(peer);
    if (b === undefined) {
      if (this.#peers.size >= this.#maxPeers) {
        this.#peers.delete(this.#peers.keys().next().value!);
      }
      b = { tokens: this.#burst, at: now };
    } else {
      this.#peers.delete(peer); // re-inserted below: most recently active last
      b.tokens = Math.min(this.#burst, b.tokens + Math.max(0, now - b.at) * this.#perMs);
      b.at = now;
    }
    this.#peers.set(peer, b);
    if (b.tokens < 1) return false;
    b.tokens -= 1;
    return true;
  }
}
