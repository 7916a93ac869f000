/**
 * The AutoNAT client's sans-IO confidence machine: per address, the latest result of each
 * server that tested it (one vote per server, so one server cannot decide alone), kept in a
 * window of {@link DEFAULT_WINDOW} results. An address is public once successes outnumber
 * failures by the threshold ({@link DEFAULT_CONFIDENCE}, go-libp2p's `targetConfidence` 3),
 * private once failures outnumber successes by it, unknown in between. The node is public when
 * any address is, private when some address is private and none public.
 *
 * Time is injected (`now` arguments); nothing here does I/O.
 *
 * @module
 */

import type { Reachability } from "../../src/node/address_manager.ts";

/** Agreeing results (net) that decide an address (go-libp2p autonatv2 `targetConfidence` 3). */
export const DEFAULT_CONFIDENCE = 3;

/** Results remembered per address (go-libp2p autonatv2 keeps a small window, 5). */
export const DEFAULT_WINDOW = 5;

/** A decided address is re-tested after this long, ms (go: `highConfidenceAddrProbeInterval` 1 h). */
export const DEFAULT_REPROBE_INTERVAL_MS = 60 * 60_000;

/** Addresses tracked at once (HARDENING.md rule 4: every table has a cap). */
export const MAX_TRACKED_ADDRS = 64;

/** The outcome of one test of one address by one server. */
export type ProbeOutcome = "success" | "failure";

interface Vote {
  server: string;
  outcome: ProbeOutcome;
  at: number;
}

/** Options of {@link ReachabilityTracker}. */
export interface ReachabilityTrackerOptions {
  /** Net agreeing results that decide an address. Default {@link DEFAULT_CONFIDENCE}. */
  confidence?: number;
  /** Results remembered per address. Default {@link DEFAULT_WINDOW}. */
  window?: number;
  /** When a decided address is due again, ms. Default {@link DEFAULT_REPROBE_INTERVAL_MS}. */
  reprobeIntervalMs?: number;
}

/**
 * Per-address reachability from servers' results.
 *
 * @example
 * ```ts
 * import { ReachabilityTracker } from "@p2p-edge/libp2p/protocols/autonat";
 * const t = new ReachabilityTracker();
 * t.setAddresses(["/ip4/1.2.3.4/tcp/1"]);
 * for (const s of ["a", "b", "c"]) t.record("/ip4/1.2.3.4/tcp/1", s, "success", 0);
 * t.state("/ip4/1.2.3.4/tcp/1"); // "public"
 * t.overall(); // "public"
 * ```
 */
export class ReachabilityTracker {
  readonly #confidence: number;
  readonly #window: number;
  readonly #reprobe: number;
  readonly #votes = new Map<string, Vote[]>();

  /** Build a tracker; throws RangeError for a confidence < 1 or a window smaller than it. */
  constructor(options: ReachabilityTrackerOptions = {}) {
    this.#confidence = options.confidence ?? DEFAULT_CONFIDENCE;
    this.#window = options.window ?? DEFAULT_WINDOW;
    this.#reprobe = options.reprobeIntervalMs ?? DEFAULT_REPROBE_INTERVAL_MS;
    if (!Number.isInteger(this.#confidence) || this.#confidence < 1) {
      throw new RangeError("confidence must be an integer >= 1");
    }
    if (!Number.isInteger(this.#window) || this.#window < this.#confidence) {
      throw new RangeError("window must be an integer >= confidence");
    }
  }

  /** The addresses to track (keys, e.g. multiaddr text); others are forgotten. Capped. */
  setAddresses(addrs: readonly string[]): void {
    const keep = new Set(addrs.slice(0, MAX_TRACKED_ADDRS));
    for (const a of [...this.#votes.keys()]) if (!keep.has(a)) this.#votes.delete(a);
    for (const a of keep) if (!this.#votes.has(a)) this.#votes.set(a, []);
  }

  /** The tracked addresses. */
  addresses(): string[] {
    return [...this.#votes.keys()];
  }

  /**
   * Record `server`'s result for `addr` at time `now`; its earlier vote for the address is
   * replaced. Returns whether the address's state changed. Untracked addresses are ignored.
   */
  record(addr: string, server: string, outcome: ProbeOutcome, now: number): boolean {
    const votes = this.#votes.get(addr);
    if (votes === undefined) return false;
    const before = this.state(addr);
    const i = votes.findIndex((v) => v.server === server);
    if (i >= 0) votes.splice(i, 1);
    votes.push({ server, outcome, at: now });
    while (votes.length > this.#window) votes.shift();
    return this.state(addr) !== before;
  }

  /** Net confidence of `addr`: successes minus failures in the window. */
  confidence(addr: string): number {
    let n = 0;
    for (const v of this.#votes.get(addr) ?? []) n += v.outcome === "success" ? 1 : -1;
    return n;
  }

  /** Whether `addr` is reachable, as far as the results tell. */
  state(addr: string): Reachability {
    const c = this.confidence(addr);
    if (c >= this.#confidence) return "public";
    if (c <= -this.#confidence) return "private";
    return "unknown";
  }

  /** Whether `addr` needs another test at `now`: undecided, or decided long enough ago. */
  due(addr: string, now: number): boolean {
    const votes = this.#votes.get(addr);
    if (votes === undefined) return false;
    if (this.state(addr) === "unknown") return true;
    const last = votes.reduce((m, v) => Math.max(m, v.at), -Infinity);
    return now - last >= this.#reprobe;
  }

  /** The addresses due at `now`, in tracking order. */
  dueAddresses(now: number): string[] {
    return this.addresses().filter((a) => this.due(a, now));
  }

  /**
   * Whether `server` may test `addr` at `now`: it has no vote for it yet, or its vote is older
   * than the re-probe interval (a decision must come from distinct servers).
   */
  canAsk(addr: string, server: string, now: number): boolean {
    const v = this.#votes.get(addr)?.find((x) => x.server === server);
    return v === undefined || now - v.at >= this.#reprobe;
  }

  /** The node's reachability: public if any address is, private if some is and none public. */
  overall(): Reachability {
    let sawPrivate = false;
    for (const a of this.#votes.keys()) {
      const s = this.state(a);
      if (s === "public") return "public";
      if (s === "private") sawPrivate = true;
    }
    return sawPrivate ? "private" : "unknown";
  }
}

/**
 * A sliding-window request counter per key with a global cap (sans-IO; `now` injected): at most
 * `perKey` admissions per key and `total` overall in any `windowMs`.
 *
 * @example
 * ```ts
 * import { RateLimiter } from "@p2p-edge/libp2p/protocols/autonat";
 * const r = new RateLimiter({ perKey: 1, total: 10, windowMs: 60_000 });
 * r.admit("peer-a", 0); // true
 * r.admit("peer-a", 1); // false
 * r.admit("peer-a", 60_001); // true
 * ```
 */
export class RateLimiter {
  readonly #perKey: number;
  readonly #total: number;
  readonly #windowMs: number;
  readonly #byKey = new Map<string, number[]>();
  #all: number[] = [];

  /** At most `perKey` per key and `total` overall in any `windowMs`. */
  constructor(options: { perKey: number; total: number; windowMs: number }) {
    this.#perKey = options.perKey;
    this.#total = options.total;
    this.#windowMs = options.windowMs;
  }

  /** Count one request of `key` at `now` if both caps allow it; returns whether it did. */
  admit(key: string, now: number): boolean {
    this.#expire(now);
    const mine = this.#byKey.get(key) ?? [];
    if (this.#all.length >= this.#total || mine.length >= this.#perKey) return false;
    mine.push(now);
    this.#byKey.set(key, mine);
    this.#all.push(now);
    return true;
  }

  /** Keys with requests in the window (bounded by `total`). */
  get size(): number {
    return this.#byKey.size;
  }

  #expire(now: number): void {
    const cutoff = now - this.#windowMs;
    this.#all = this.#all.filter((t) => t > cutoff);
    for (const [k, list] of this.#byKey) {
      const kept = list.filter((t) => t > cutoff);
      if (kept.length === 0) this.#byKey.delete(k);
      else this.#byKey.set(k, kept);
    }
  }
}
