/**
 * The reservation manager: which relays we hold a slot on, when each is renewed, and how a lost
 * one comes back. It does no I/O itself (the transport injects `reserve`) and reads time only
 * through the injected {@link RelayClock}, so renewal and backoff run on a virtual clock in tests.
 *
 * What js-libp2p gets wrong and this must not (research §3, §12): a reservation on a relay named
 * in a listen address is never re-established after the relay restarts (#3601), and start()
 * throws when the relay is down. Here a relay is retried with bounded backoff for as long as
 * somebody listens on it, whatever happened to it; nothing is thrown at the listener.
 *
 * @module
 */

import type { ConnectionLimits } from "../../src/node/limits.ts";
import type { Multiaddr } from "../../src/multiaddr/mod.ts";
import type { PeerId } from "../../src/peer_id.ts";
import type { RelayClock } from "./clock.ts";
import {
  DISCOVERED_RELAY_MAX_FAILURES,
  MAX_BACKOFF_MS,
  MAX_RELAY_CANDIDATES,
  MIN_BACKOFF_MS,
  MIN_RENEW_DELAY_MS,
  RENEW_FRACTION,
} from "./constants.ts";

/**
 * A reservation the relay granted.
 *
 * @example
 * ```ts
 * import type { ReservationInfo } from "@p2p-edge/libp2p/transports/circuit-relay";
 * function left(r: ReservationInfo, now: number): number { return r.expiresAt - now; }
 * ```
 */
export interface ReservationInfo {
  /** The relay's addresses from the reservation (without `/p2p/`), capped. */
  readonly addrs: readonly Multiaddr[];
  /** When it expires, ms since the epoch (the wire carries UNIX seconds). */
  readonly expiresAt: number;
  /** The limit the relay applies to circuits to us, if it announced one. */
  readonly limit?: ConnectionLimits;
  /** The id of our connection to the relay it lives on. */
  readonly connectionId: string;
}

/**
 * A relay to hold a reservation on.
 *
 * @example
 * ```ts
 * import type { RelayTarget } from "@p2p-edge/libp2p/transports/circuit-relay";
 * function name(r: RelayTarget): string { return r.peer.toString(); }
 * ```
 */
export interface RelayTarget {
  /** The relay's peer id. */
  readonly peer: PeerId;
  /** Where to dial it (with `/p2p/<relay>`); absent: the peer store's addresses. */
  readonly addr?: Multiaddr;
  /** Found by discovery (`/p2p-circuit`) rather than named in a listen address. */
  readonly discovered: boolean;
}

/** The state of one relay, for stats and tests. */
export interface RelayEntryState {
  /** The relay. */
  readonly target: RelayTarget;
  /** "reserving" while a RESERVE is in flight, "reserved" between renewals, else "waiting". */
  readonly state: "reserving" | "reserved" | "waiting";
  /** The reservation currently held, if any. */
  readonly reservation: ReservationInfo | undefined;
  /** Failed attempts since the last success. */
  readonly failures: number;
  /** When the next attempt (renewal or retry) is due, ms since the epoch. */
  readonly nextAttemptAt: number | undefined;
  /** Why the last attempt failed. */
  readonly lastError: unknown;
}

/** What the manager needs from the transport. */
export interface ReservationManagerInit {
  /** Time and timers. */
  clock: RelayClock;
  /** Reserve a slot on `target` (dial it, RESERVE); rejects with the reason on failure. */
  reserve(target: RelayTarget, signal: AbortSignal): Promise<ReservationInfo>;
  /** The set of reservations (hence our relayed addresses) changed. */
  onChange(): void;
  /** A relay now holds a reservation for us (the transport protects the connection). */
  onReserved?(peer: PeerId): void;
  /** A relay no longer does. */
  onReleased?(peer: PeerId): void;
}

interface Entry {
  readonly owner: number;
  readonly target: RelayTarget;
  readonly key: string;
  state: "reserving" | "reserved" | "waiting";
  reservation: ReservationInfo | undefined;
  failures: number;
  timer: unknown;
  nextAttemptAt: number | undefined;
  inFlight: AbortController | undefined;
  lastError: unknown;
  removed: boolean;
}

/**
 * The delay before retry number `failures` (1, 2, ...): {@link MIN_BACKOFF_MS} doubled per
 * failure, at most {@link MAX_BACKOFF_MS}.
 *
 * @example
 * ```ts
 * import { backoffDelay } from "@p2p-edge/libp2p/transports/circuit-relay";
 * backoffDelay(1); // 1000
 * backoffDelay(10); // 30000
 * ```
 */
export function backoffDelay(failures: number): number {
  const exp = Math.min(Math.max(failures - 1, 0), 16);
  return Math.min(MIN_BACKOFF_MS * 2 ** exp, MAX_BACKOFF_MS);
}

/**
 * When to renew a reservation expiring at `expiresAt`: {@link RENEW_FRACTION} of the remaining
 * lifetime from `now`, at least {@link MIN_RENEW_DELAY_MS}; returns the delay in ms.
 *
 * @example
 * ```ts
 * import { renewDelay } from "@p2p-edge/libp2p/transports/circuit-relay";
 * renewDelay(0, 3_600_000); // 2_700_000
 * ```
 */
export function renewDelay(now: number, expiresAt: number): number {
  return Math.max(MIN_RENEW_DELAY_MS, Math.floor((expiresAt - now) * RENEW_FRACTION));
}

/**
 * Holds reservations for listeners ("owners"): relays named in listen addresses, and a wanted
 * number of relays picked among connected peers that speak HOP.
 *
 * @example
 * ```ts
 * import { ReservationManager, systemClock } from "@p2p-edge/libp2p/transports/circuit-relay";
 * const manager = new ReservationManager({
 *   clock: systemClock,
 *   reserve: () => Promise.reject(new Error("offline")),
 *   onChange: () => {},
 * });
 * manager.start();
 * manager.stop();
 * ```
 */
export class ReservationManager {
  readonly #init: ReservationManagerInit;
  readonly #entries = new Set<Entry>();
  /** Discovery owners and how many relays each wants. */
  readonly #wanted = new Map<number, number>();
  /** Connected peers that speak HOP, oldest first. */
  readonly #candidates = new Map<string, PeerId>();
  #running = false;

  /** A manager; nothing happens before {@link start}. */
  constructor(init: ReservationManagerInit) {
    this.#init = init;
  }

  /** Begin reserving (the node is started, so relays can be dialled). */
  start(): void {
    if (this.#running) return;
    this.#running = true;
    for (const e of this.#entries) if (e.timer === undefined && !e.inFlight) this.#schedule(e, 0);
    this.#fill();
  }

  /** Stop: cancel every timer and attempt, forget every reservation. */
  stop(): void {
    this.#running = false;
    for (const e of [...this.#entries]) this.#remove(e, false);
    this.#wanted.clear();
    this.#candidates.clear();
    this.#init.onChange();
  }

  /** Whether the manager is running. */
  get running(): boolean {
    return this.#running;
  }

  /** Hold a reservation on `target` for `owner`, until {@link removeOwner}. */
  add(owner: number, target: RelayTarget): void {
    const key = target.peer.toString();
    for (const e of this.#entries) if (e.owner === owner && e.key === key) return;
    const entry: Entry = {
      owner,
      target,
      key,
      state: "waiting",
      reservation: undefined,
      failures: 0,
      timer: undefined,
      nextAttemptAt: undefined,
      inFlight: undefined,
      lastError: undefined,
      removed: false,
    };
    this.#entries.add(entry);
    if (this.#running) this.#schedule(entry, 0);
  }

  /** `owner` wants reservations on `count` relays found among connected HOP peers. */
  want(owner: number, count: number): void {
    this.#wanted.set(owner, count);
    this.#fill();
  }

  /** Drop everything `owner` holds. */
  removeOwner(owner: number): void {
    this.#wanted.delete(owner);
    let changed = false;
    for (const e of [...this.#entries]) {
      if (e.owner !== owner) continue;
      changed ||= e.reservation !== undefined;
      this.#remove(e, false);
    }
    if (changed) this.#init.onChange();
  }

  /** A connected peer speaks HOP (a topology said so): a relay candidate for discovery. */
  addCandidate(peer: PeerId): void {
    const key = peer.toString();
    if (this.#candidates.has(key)) return;
    if (this.#candidates.size >= MAX_RELAY_CANDIDATES) {
      // Full: the oldest candidate gives way (HARDENING.md rule 4).
      const oldest = this.#candidates.keys().next().value;
      if (oldest !== undefined) this.#candidates.delete(oldest);
    }
    this.#candidates.set(key, peer);
    this.#fill();
  }

  /** A candidate disconnected or stopped speaking HOP. */
  removeCandidate(peer: PeerId): void {
    this.#candidates.delete(peer.toString());
  }

  /**
   * Our connection `connectionId` closed: reservations living on it are gone (the relay drops
   * them with the connection). Each is re-reserved at once, then with backoff.
   */
  connectionClosed(connectionId: string): void {
    let changed = false;
    for (const e of this.#entries) {
      if (e.reservation?.connectionId !== connectionId) continue;
      this.#drop(e);
      changed = true;
      if (e.inFlight === undefined) {
        this.#clearTimer(e);
        e.state = "waiting";
        if (this.#running) this.#schedule(e, 0);
      }
    }
    if (changed) this.#init.onChange();
  }

  /** Whether `peer` holds an unexpired reservation for us (STOP is accepted only then). */
  isReservedWith(peer: PeerId): boolean {
    const key = peer.toString();
    const now = this.#init.clock.now();
    for (const e of this.#entries) {
      if (e.key === key && e.reservation !== undefined && e.reservation.expiresAt > now) {
        return true;
      }
    }
    return false;
  }

  /** The owners holding a reservation with `peer`. */
  ownersOf(peer: PeerId): number[] {
    const key = peer.toString();
    return [...this.#entries].filter((e) => e.key === key && e.reservation).map((e) => e.owner);
  }

  /** The reservations `owner` holds: relay and reservation. */
  reservationsOf(owner: number): { relay: PeerId; reservation: ReservationInfo }[] {
    const out: { relay: PeerId; reservation: ReservationInfo }[] = [];
    for (const e of this.#entries) {
      if (e.owner === owner && e.reservation !== undefined) {
        out.push({ relay: e.target.peer, reservation: e.reservation });
      }
    }
    return out;
  }

  /** Every relay and its state. */
  entries(): RelayEntryState[] {
    return [...this.#entries].map((e) => ({
      target: e.target,
      state: e.state,
      reservation: e.reservation,
      failures: e.failures,
      nextAttemptAt: e.nextAttemptAt,
      lastError: e.lastError,
    }));
  }

  #schedule(e: Entry, delay: number): void {
    this.#clearTimer(e);
    e.nextAttemptAt = this.#init.clock.now() + delay;
    e.timer = this.#init.clock.setTimer(() => {
      e.timer = undefined;
      e.nextAttemptAt = undefined;
      this.#attempt(e);
    }, delay);
  }

  #clearTimer(e: Entry): void {
    if (e.timer !== undefined) this.#init.clock.clearTimer(e.timer);
    e.timer = undefined;
    e.nextAttemptAt = undefined;
  }

  #attempt(e: Entry): void {
    if (e.removed || !this.#running || e.inFlight !== undefined) return;
    // A reservation past its expiry is gone whether or not the renewal works.
    if (e.reservation !== undefined && e.reservation.expiresAt <= this.#init.clock.now()) {
      this.#drop(e);
      this.#init.onChange();
    }
    const controller = new AbortController();
    e.inFlight = controller;
    if (e.reservation === undefined) e.state = "reserving";
    let attempt: Promise<ReservationInfo>;
    try {
      attempt = this.#init.reserve(e.target, controller.signal);
    } catch (err) {
      attempt = Promise.reject(err);
    }
    attempt.then(
      (info) => {
        if (e.inFlight === controller) e.inFlight = undefined;
        if (e.removed || controller.signal.aborted) return;
        const now = this.#init.clock.now();
        if (!(info.expiresAt > now)) {
          this.#failed(e, new RangeError("the relay granted a reservation that expired already"));
          return;
        }
        const had = e.reservation !== undefined;
        e.reservation = info;
        e.state = "reserved";
        e.failures = 0;
        e.lastError = undefined;
        if (!had) this.#init.onReserved?.(e.target.peer);
        this.#schedule(e, renewDelay(now, info.expiresAt));
        this.#init.onChange();
      },
      (err) => {
        if (e.inFlight === controller) e.inFlight = undefined;
        if (e.removed || controller.signal.aborted) return;
        this.#failed(e, err);
      },
    );
  }

  #failed(e: Entry, err: unknown): void {
    e.failures++;
    e.lastError = err;
    const now = this.#init.clock.now();
    if (e.reservation !== undefined && e.reservation.expiresAt <= now) {
      this.#drop(e);
      this.#init.onChange();
    }
    if (e.reservation === undefined) e.state = "waiting";
    if (e.target.discovered && e.failures >= DISCOVERED_RELAY_MAX_FAILURES) {
      // Given up: another candidate is tried; this one comes back when it reconnects.
      this.#candidates.delete(e.key);
      const had = e.reservation !== undefined;
      this.#remove(e, true);
      if (had) this.#init.onChange();
      this.#fill();
      return;
    }
    let delay = backoffDelay(e.failures);
    // A held reservation is retried before it runs out, but never in a tight loop.
    if (e.reservation !== undefined) {
      const beforeExpiry = e.reservation.expiresAt - now - MIN_RENEW_DELAY_MS;
      delay = Math.max(MIN_BACKOFF_MS, Math.min(delay, beforeExpiry));
    }
    this.#schedule(e, delay);
  }

  #drop(e: Entry): void {
    if (e.reservation === undefined) return;
    e.reservation = undefined;
    if (e.state === "reserved") e.state = "waiting";
    this.#init.onReleased?.(e.target.peer);
  }

  #remove(e: Entry, fill: boolean): void {
    e.removed = true;
    this.#clearTimer(e);
    e.inFlight?.abort(new Error("the relay is no longer used"));
    e.inFlight = undefined;
    this.#drop(e);
    this.#entries.delete(e);
    if (fill) this.#fill();
  }

  /** Give each discovery owner relays from the candidates, up to what it wants. */
  #fill(): void {
    if (!this.#running) return;
    for (const [owner, count] of this.#wanted) {
      let have = 0;
      const used = new Set<string>();
      for (const e of this.#entries) {
        used.add(e.key);
        if (e.owner === owner && e.target.discovered) have++;
      }
      for (const [key, peer] of this.#candidates) {
        if (have >= count) break;
        if (used.has(key)) continue;
        this.add(owner, { peer, discovered: true });
        used.add(key);
        have++;
      }
    }
  }
}
