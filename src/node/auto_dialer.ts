/**
 * Which discovered peers to dial, and when: a sans-IO machine with an injected clock. It dials
 * only while the node is below its connection target, at most `perSecond` new dials per
 * second (token bucket) and `concurrency` at once, and a peer whose dial failed waits an
 * exponential, capped backoff before it is tried again. No dial storms (js-libp2p#1668: an
 * auto-dialler without backoff or rate limit dialled 150 peers at once; HARDENING.md rule 4).
 *
 * @module
 */

/** Default connection target: js-libp2p's `MIN_CONNECTIONS` (constants.defaults.ts). */
export const DEFAULT_MIN_CONNECTIONS = 5;
/** Default cap of new discovery dials per second (token bucket refill and burst). */
export const DEFAULT_AUTO_DIAL_PER_SECOND = 4;
/** Default discovery dials in flight at once. */
export const DEFAULT_AUTO_DIAL_CONCURRENCY = 4;
/** Default first backoff after a failed discovery dial, ms (go-libp2p swarm `BackoffBase`). */
export const DEFAULT_AUTO_DIAL_BACKOFF_BASE_MS = 5_000;
/** Default longest backoff, ms (go-libp2p swarm `BackoffMax`, 5 min). */
export const DEFAULT_AUTO_DIAL_BACKOFF_MAX_MS = 300_000;
/** Candidates queued at once; the oldest is dropped beyond (HARDENING.md rule 4). */
export const MAX_AUTO_DIAL_CANDIDATES = 256;
/** Peers whose failures are remembered at once; the oldest is forgotten beyond (rule 4). */
export const MAX_AUTO_DIAL_BACKOFFS = 1024;

/** Limits of the {@link AutoDialer}. Every field is optional; defaults in the field docs. */
export interface AutoDialerOptions {
  /** Dial discovered peers while fewer connections than this are open. 0 disables. Default 5. */
  minConnections?: number;
  /** New dials per second (refill rate and burst of a token bucket). Default 4. */
  perSecond?: number;
  /** Dials in flight at once. Default 4. */
  concurrency?: number;
  /** Backoff after a peer's first failed dial, ms; doubled per further failure. Default 5 s. */
  backoffBaseMs?: number;
  /** Longest backoff, ms. Default 300 s. */
  backoffMaxMs?: number;
}

/** What the node is doing now, as the dialer needs it. */
export interface AutoDialState {
  /** Open connections. */
  connections: number;
  /** Whether a peer (by key) has an open connection. */
  isConnected(key: string): boolean;
}

/** The machine's answer: peers to dial now, and when to ask again (if ever). */
export interface AutoDialPlan<P> {
  /** Dial these now; report each outcome with {@link AutoDialer.dialDone}. */
  dial: P[];
  /** Call {@link AutoDialer.next} again at this time (the clock's ms), unless undefined. */
  wakeAt?: number;
}

interface Backoff {
  failures: number;
  until: number;
}

function positive(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== "number" || !(value > 0) || Number.isNaN(value)) {
    throw new RangeError(`${name} must be a positive number`);
  }
  return value;
}

/**
 * The auto-dial decision machine. Offer discovered peers, call {@link next} to learn what to
 * dial (and when to call again), report outcomes with {@link dialDone}.
 *
 * @example
 * ```ts
 * import { AutoDialer } from "@p2p-edge/libp2p";
 * const auto = new AutoDialer<string>({ minConnections: 2 });
 * auto.offer("peer-a", "peer-a");
 * const plan = auto.next(0, { connections: 0, isConnected: () => false });
 * plan.dial; // ["peer-a"]
 * auto.dialDone("peer-a", false, 10); // failed: backoff 5 s before it is tried again
 * ```
 */
export class AutoDialer<P> {
  readonly #min: number;
  readonly #perSecond: number;
  readonly #concurrency: number;
  readonly #base: number;
  readonly #max: number;
  /** Queued candidates by key, oldest first (Map insertion order). */
  readonly #queue = new Map<string, P>();
  readonly #inFlight = new Set<string>();
  readonly #backoff = new Map<string, Backoff>();
  #tokens: number;
  #refilledAt: number | undefined;

  /** Validate the options (RangeError on bad values). */
  constructor(options: AutoDialerOptions = {}) {
    const min = options.minConnections ?? DEFAULT_MIN_CONNECTIONS;
    if (!Number.isInteger(min) || min < 0) {
      throw new RangeError("minConnections must be an integer >= 0");
    }
    this.#min = min;
    this.#perSecond = positive("perSecond", options.perSecond, DEFAULT_AUTO_DIAL_PER_SECOND);
    const concurrency = options.concurrency ?? DEFAULT_AUTO_DIAL_CONCURRENCY;
    if (!Number.isInteger(concurrency) || concurrency < 1) {
      throw new RangeError("concurrency must be an integer >= 1");
    }
    this.#concurrency = concurrency;
    this.#base = positive(
      "backoffBaseMs",
      options.backoffBaseMs,
      DEFAULT_AUTO_DIAL_BACKOFF_BASE_MS,
    );
    this.#max = Math.max(
      this.#base,
      positive("backoffMaxMs", options.backoffMaxMs, DEFAULT_AUTO_DIAL_BACKOFF_MAX_MS),
    );
    this.#tokens = Math.max(1, this.#perSecond);
  }

  /** The connection target (0: the machine never dials). */
  get minConnections(): number {
    return this.#min;
  }

  /**
   * A peer was discovered: queue it (once; a repeated offer keeps its place). Beyond
   * {@link MAX_AUTO_DIAL_CANDIDATES} the oldest candidate is dropped.
   */
  offer(key: string, peer: P): void {
    if (this.#min === 0 || this.#queue.has(key) || this.#inFlight.has(key)) return;
    this.#queue.set(key, peer);
    if (this.#queue.size > MAX_AUTO_DIAL_CANDIDATES) {
      this.#queue.delete(this.#queue.keys().next().value!);
    }
  }

  /** A peer connected (by any means): it leaves the queue and its backoff is forgotten. */
  connected(key: string): void {
    this.#queue.delete(key);
    this.#backoff.delete(key);
  }

  /** Forget a candidate (say, its discovery service withdrew it). */
  remove(key: string): void {
    this.#queue.delete(key);
  }

  /**
   * Peers to dial now: while `connections + dials in flight` is below the target, tokens are
   * left and fewer than `concurrency` dials run, the oldest candidates that are neither
   * connected nor backing off. `wakeAt` is when a backing-off candidate or a token becomes
   * available, if dialling more is still wanted then.
   */
  next(now: number, state: AutoDialState): AutoDialPlan<P> {
    this.#refill(now);
    const dial: P[] = [];
    let wakeAt: number | undefined;
    const wanted = (): boolean =>
      state.connections + this.#inFlight.size < this.#min &&
      this.#inFlight.size < this.#concurrency;
    for (const [key, peer] of this.#queue) {
      if (!wanted()) break;
      if (state.isConnected(key)) {
        this.#queue.delete(key);
        continue;
      }
      const backoff = this.#backoff.get(key);
      if (backoff !== undefined && backoff.until > now) {
        wakeAt = Math.min(wakeAt ?? Infinity, backoff.until);
        continue;
      }
      if (this.#tokens < 1) {
        wakeAt = Math.min(wakeAt ?? Infinity, now + this.#msToToken());
        break;
      }
      this.#tokens -= 1;
      this.#queue.delete(key);
      this.#inFlight.add(key);
      dial.push(peer);
    }
    // Not wanted any more: a dial ending or a connection closing asks again.
    if (!wanted()) wakeAt = undefined;
    return wakeAt === undefined ? { dial } : { dial, wakeAt };
  }

  /**
   * The dial of `key` ended. Success forgets its backoff; failure doubles it (from
   * `backoffBaseMs`, at most `backoffMaxMs`). The peer is not queued again: a later
   * discovery of it offers it again, and its backoff then applies.
   */
  dialDone(key: string, ok: boolean, now: number): void {
    this.#inFlight.delete(key);
    if (ok) {
      this.#backoff.delete(key);
      return;
    }
    const previous = this.#backoff.get(key);
    const failures = (previous?.failures ?? 0) + 1;
    const delay = Math.min(this.#max, this.#base * 2 ** Math.min(failures - 1, 30));
    this.#backoff.delete(key); // re-inserted last: the map's order is the eviction order
    this.#backoff.set(key, { failures, until: now + delay });
    if (this.#backoff.size > MAX_AUTO_DIAL_BACKOFFS) {
      this.#backoff.delete(this.#backoff.keys().next().value!);
    }
  }

  /** When a failed peer may be dialled again (the clock's ms), or undefined. */
  backoffUntil(key: string): number | undefined {
    return this.#backoff.get(key)?.until;
  }

  /** Counters: queued candidates, dials in flight, peers backing off. */
  stats(): { queued: number; inFlight: number; backingOff: number } {
    return {
      queued: this.#queue.size,
      inFlight: this.#inFlight.size,
      backingOff: this.#backoff.size,
    };
  }

  /** Drop the queue and in-flight marks (node stopped); backoffs are kept. */
  clear(): void {
    this.#queue.clear();
    this.#inFlight.clear();
  }

  #refill(now: number): void {
    if (this.#refilledAt === undefined) {
      this.#refilledAt = now;
      return;
    }
    const elapsed = Math.max(0, now - this.#refilledAt);
    this.#refilledAt = now;
    this.#tokens = Math.min(
      Math.max(1, this.#perSecond),
      this.#tokens + (elapsed * this.#perSecond) / 1000,
    );
  }

  #msToToken(): number {
    return Math.max(1, Math.ceil(((1 - this.#tokens) * 1000) / this.#perSecond));
  }
}
