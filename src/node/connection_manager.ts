/**
 * Connection manager: the pure decision logic behind the node's connection limits. It is told
 * about sockets, upgrades and closes, with the current time, and answers allow/refuse; it never
 * reads a clock, a socket or a timer itself (ARCHITECTURE.md, sans-IO).
 *
 * Limits (HARDENING.md rules 4, 7, 8 and the "transport" rows):
 * - at most `maxPendingInbound` inbound connections in upgrade. A pending socket is "silent"
 *   until the node reports (with {@link ConnectionManager.inboundProgressed}) that it started
 *   its security handshake; when every slot is taken, a newcomer evicts the oldest silent
 *   socket instead of being refused, and is refused only when none is silent. A socket that
 *   has progressed is never evicted by a newcomer. So idle sockets from many addresses cannot
 *   keep an honest peer out: an honest peer speaks within a round trip of connecting, and
 *   only `maxPendingInbound` newer silent sockets arriving within that round trip can push it
 *   out; the node also closes a silent socket after `silentInboundTimeoutMs`;
 * - per remote IP (IPv6: per /64): at most `maxInboundPerIp` inbound connections (pending or
 *   open) and `inboundRatePerIp` new ones per second (token bucket of `inboundBurstPerIp`),
 *   refused before any handshake byte is read;
 * - at most `maxConnections` open (and `maxInbound` / `maxOutbound` by direction);
 * - above `highWatermark` open connections, prune down to `lowWatermark`: never protected
 *   peers or allow-listed addresses, lowest tag value first, then the oldest;
 * - the per-IP map is capped at `maxTrackedIps` and entries leave when the IP has no
 *   connection and a full bucket.
 *
 * Addresses on the allow list bypass every limit here.
 *
 * @module
 */

import { LimitExceededError } from "../errors.ts";
import type { Multiaddr } from "../multiaddr/mod.ts";
import {
  DEFAULT_AUTO_DIAL_BACKOFF_BASE_MS,
  DEFAULT_AUTO_DIAL_BACKOFF_MAX_MS,
  DEFAULT_AUTO_DIAL_CONCURRENCY,
  DEFAULT_AUTO_DIAL_PER_SECOND,
  DEFAULT_MIN_CONNECTIONS,
} from "./auto_dialer.ts";
import { ipKey, IpList } from "./ip_list.ts";

/** Default hard cap of open connections (sized in README "Limits"). */
export const DEFAULT_MAX_CONNECTIONS = 1024;
/** Default cap of inbound connections being upgraded at once. */
export const DEFAULT_MAX_PENDING_INBOUND = 64;
/**
 * Default time an inbound socket may stay silent (not start its security handshake) before it
 * is closed, ms: an honest dialer sends multistream-select and its proposal at once, so this
 * is many round trips; the whole upgrade keeps its own, longer deadline (HARDENING.md rule 8).
 */
export const DEFAULT_SILENT_INBOUND_TIMEOUT_MS = 3_000;
/** Default cap of inbound connections (pending or open) from one IP (IPv6: one /64). */
export const DEFAULT_MAX_INBOUND_PER_IP = 16;
/** Default refill rate of an IP's inbound token bucket, connections per second. */
export const DEFAULT_INBOUND_RATE_PER_IP = 10;
/** Default size of an IP's inbound token bucket (the burst allowed at once). */
export const DEFAULT_INBOUND_BURST_PER_IP = 10;
/** Default cap of IPs tracked at once for per-IP limits. */
export const DEFAULT_MAX_TRACKED_IPS = 4096;
/** Default open-connection count above which pruning starts. */
export const DEFAULT_HIGH_WATERMARK = 960;
/** Default open-connection count pruning goes down to. */
export const DEFAULT_LOW_WATERMARK = 832;
/** Default age below which a connection is not pruned, ms. */
export const DEFAULT_PRUNE_GRACE_MS = 20_000;
/** Default cap of peers with tags or protection. */
export const DEFAULT_MAX_TAGGED_PEERS = 16_384;

/** Connection manager limits; every field is optional, defaults in the field docs. */
export interface ConnectionManagerOptions {
  /** Hard cap of open connections; more are refused. Default 1024. */
  maxConnections?: number;
  /** Cap of open inbound connections. Default `maxConnections`. */
  maxInbound?: number;
  /** Cap of open outbound connections. Default `maxConnections`. */
  maxOutbound?: number;
  /**
   * Inbound connections in upgrade at once. When all are taken, a new socket evicts the
   * oldest one that has not started its security handshake, or is refused at once when every
   * pending one has. Default 64.
   */
  maxPendingInbound?: number;
  /**
   * An inbound socket that has not started its security handshake this long is closed, ms
   * (applied by the node; the upgrade deadline still bounds the whole upgrade). Default 3000.
   */
  silentInboundTimeoutMs?: number;
  /** Inbound connections (pending or open) from one IP (IPv6: one /64). Default 16. */
  maxInboundPerIp?: number;
  /** New inbound connections per second from one IP (token bucket refill). Default 10. */
  inboundRatePerIp?: number;
  /** Burst of new inbound connections from one IP (token bucket size). Default 10. */
  inboundBurstPerIp?: number;
  /** IPs tracked for per-IP limits at once (HARDENING.md rule 4). Default 4096. */
  maxTrackedIps?: number;
  /** Open connections above which pruning starts. Default 960 (at most maxConnections). */
  highWatermark?: number;
  /** Open connections pruning goes down to. Default 832 (at most highWatermark). */
  lowWatermark?: number;
  /** Connections younger than this (ms) are not pruned. Default 20 000. */
  pruneGraceMs?: number;
  /** IPs and CIDR ranges that bypass every limit here and are never pruned. Default none. */
  allowList?: readonly string[];
  /** Peers with tags or protection at once. Default 16 384. */
  maxTaggedPeers?: number;
  /**
   * Connection target: discovered peers are dialled while fewer connections are open
   * (auto_dialer.ts). 0 disables dialling discovered peers. Default 5 (js-libp2p's).
   */
  minConnections?: number;
  /** New dials of discovered peers per second (token bucket). Default 4. */
  autoDialPerSecond?: number;
  /** Dials of discovered peers in flight at once. Default 4. */
  autoDialConcurrency?: number;
  /** Backoff after a discovered peer's first failed dial, ms, doubled per failure. 5000. */
  autoDialBackoffBaseMs?: number;
  /** Longest backoff of a discovered peer, ms. Default 300 000. */
  autoDialBackoffMaxMs?: number;
}

/** {@link ConnectionManagerOptions} with defaults applied (allowList parsed). */
export type ResolvedConnectionManagerOptions =
  & Readonly<Required<Omit<ConnectionManagerOptions, "allowList">>>
  & { readonly allowList: IpList };

function int(name: string, value: unknown, fallback: number, min: number, max: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== "number" || !Number.isInteger(value)) {
    throw new TypeError(`${name} must be an integer, got ${String(value)}`);
  }
  if (value < min || value > max) throw new RangeError(`${name} must be in [${min}, ${max}]`);
  return value;
}

/**
 * Apply defaults and validate; bad values throw TypeError/RangeError/SyntaxError.
 *
 * @example
 * ```ts
 * import { resolveConnectionManagerOptions } from "@p2p-edge/libp2p";
 * resolveConnectionManagerOptions({ maxConnections: 100 }).highWatermark; // 100
 * ```
 */
export function resolveConnectionManagerOptions(
  o: ConnectionManagerOptions = {},
): ResolvedConnectionManagerOptions {
  const big = 0x7fff_ffff;
  const maxConnections = int("maxConnections", o.maxConnections, DEFAULT_MAX_CONNECTIONS, 1, big);
  const highWatermark = int(
    "highWatermark",
    o.highWatermark,
    Math.min(DEFAULT_HIGH_WATERMARK, maxConnections),
    0,
    maxConnections,
  );
  const lowWatermark = int(
    "lowWatermark",
    o.lowWatermark,
    Math.min(DEFAULT_LOW_WATERMARK, highWatermark),
    0,
    highWatermark,
  );
  const rate = o.inboundRatePerIp ?? DEFAULT_INBOUND_RATE_PER_IP;
  if (typeof rate !== "number" || !(rate > 0)) {
    throw new RangeError("inboundRatePerIp must be a positive number (Infinity: no limit)");
  }
  return {
    maxConnections,
    maxInbound: int("maxInbound", o.maxInbound, maxConnections, 0, maxConnections),
    maxOutbound: int("maxOutbound", o.maxOutbound, maxConnections, 0, maxConnections),
    maxPendingInbound: int(
      "maxPendingInbound",
      o.maxPendingInbound,
      DEFAULT_MAX_PENDING_INBOUND,
      1,
      big,
    ),
    silentInboundTimeoutMs: int(
      "silentInboundTimeoutMs",
      o.silentInboundTimeoutMs,
      DEFAULT_SILENT_INBOUND_TIMEOUT_MS,
      1,
      big,
    ),
    maxInboundPerIp: int(
      "maxInboundPerIp",
      o.maxInboundPerIp,
      DEFAULT_MAX_INBOUND_PER_IP,
      1,
      big,
    ),
    inboundRatePerIp: rate,
    inboundBurstPerIp: int(
      "inboundBurstPerIp",
      o.inboundBurstPerIp,
      DEFAULT_INBOUND_BURST_PER_IP,
      1,
      big,
    ),
    maxTrackedIps: int("maxTrackedIps", o.maxTrackedIps, DEFAULT_MAX_TRACKED_IPS, 1, big),
    highWatermark,
    lowWatermark,
    pruneGraceMs: int("pruneGraceMs", o.pruneGraceMs, DEFAULT_PRUNE_GRACE_MS, 0, big),
    allowList: new IpList(o.allowList ?? []),
    maxTaggedPeers: int("maxTaggedPeers", o.maxTaggedPeers, DEFAULT_MAX_TAGGED_PEERS, 1, big),
    minConnections: int(
      "minConnections",
      o.minConnections,
      Math.min(DEFAULT_MIN_CONNECTIONS, maxConnections),
      0,
      maxConnections,
    ),
    autoDialPerSecond: int(
      "autoDialPerSecond",
      o.autoDialPerSecond,
      DEFAULT_AUTO_DIAL_PER_SECOND,
      1,
      big,
    ),
    autoDialConcurrency: int(
      "autoDialConcurrency",
      o.autoDialConcurrency,
      DEFAULT_AUTO_DIAL_CONCURRENCY,
      1,
      big,
    ),
    autoDialBackoffBaseMs: int(
      "autoDialBackoffBaseMs",
      o.autoDialBackoffBaseMs,
      DEFAULT_AUTO_DIAL_BACKOFF_BASE_MS,
      1,
      big,
    ),
    autoDialBackoffMaxMs: int(
      "autoDialBackoffMaxMs",
      o.autoDialBackoffMaxMs,
      DEFAULT_AUTO_DIAL_BACKOFF_MAX_MS,
      1,
      big,
    ),
  };
}

/** An answer of the manager: allowed, or refused with the name of the limit. */
export type Admission = { ok: true } | { ok: false; limit: string; reason: string };

/** What the manager knows of an open connection. */
export interface ManagedConnection {
  /** Connection id (unique within the node). */
  readonly id: string;
  /** Remote peer id as text. */
  readonly peer: string;
  /** Who dialled. */
  readonly direction: "inbound" | "outbound";
  /** Remote transport address. */
  readonly remoteAddr: Multiaddr;
  /** When it opened (the manager's clock). */
  readonly opened: number;
}

/** Counters of the manager, for tests and monitoring. */
export interface ConnectionManagerStats {
  /** Open connections. */
  connections: number;
  /** Open inbound connections. */
  inbound: number;
  /** Open outbound connections. */
  outbound: number;
  /** Inbound connections in upgrade. */
  pendingInbound: number;
  /** Inbound connections in upgrade that have not started their security handshake. */
  silentInbound: number;
  /** Silent inbound sockets evicted by newcomers since the manager was created. */
  evictedInbound: number;
  /** IPs in the per-IP map. */
  trackedIps: number;
  /** Peers with tags or protection. */
  taggedPeers: number;
}

interface IpState {
  /** Inbound connections from the IP, pending or open. */
  active: number;
  tokens: number;
  last: number;
}

/** A pending inbound socket; map order is arrival order. */
interface Pending {
  readonly ip: string | undefined;
  readonly allowed: boolean;
  progressed: boolean;
}

interface Entry extends ManagedConnection {
  readonly ip: string | undefined;
  readonly allowed: boolean;
}

interface PeerTags {
  values: Map<string, number>;
  protectedBy: Set<string>;
}

/**
 * The connection manager's state machine. The node calls {@link admitInbound} for each
 * accepted socket, {@link inboundFailed} or {@link addConnection} when its upgrade ends,
 * {@link admitOutbound} before a dial, {@link addConnection} when it succeeds and
 * {@link removeConnection} when a connection closes.
 *
 * @example
 * ```ts
 * import { ConnectionManager } from "@p2p-edge/libp2p";
 * import { multiaddr } from "@p2p-edge/libp2p/multiaddr";
 * const cm = new ConnectionManager({ maxPendingInbound: 1 });
 * const first = cm.admitInbound(multiaddr("/ip4/192.0.2.1/tcp/4001"), 0); // { ok: true, ticket: 1 }
 * if (first.ok) cm.inboundProgressed(first.ticket); // it started its handshake
 * cm.admitInbound(multiaddr("/ip4/192.0.2.2/tcp/4001"), 0).ok; // false: the slot is in use
 * ```
 */
export class ConnectionManager {
  /** The resolved limits. */
  readonly options: ResolvedConnectionManagerOptions;
  readonly #conns = new Map<string, Entry>();
  readonly #ips = new Map<string, IpState>();
  readonly #tags = new Map<string, PeerTags>();
  /** Pending inbound sockets by ticket, oldest first. */
  readonly #pending = new Map<number, Pending>();
  #silent = 0;
  #tickets = 0;
  #evicted = 0;
  #inbound = 0;
  #outbound = 0;

  /** Validate the options. */
  constructor(options: ConnectionManagerOptions = {}) {
    this.options = resolveConnectionManagerOptions(options);
  }

  /** Whether `addr` is on the allow list. */
  isAllowed(addr: Multiaddr): boolean {
    return this.options.allowList.has(addr);
  }

  /**
   * An inbound socket from `addr` arrived at `now` (ms). Allowed: a pending slot is taken,
   * named by `ticket` (pass it to {@link inboundProgressed}, {@link inboundFailed} and
   * {@link addConnection}); `evict`, when set, is the ticket of the silent socket whose slot
   * the newcomer took: the caller closes that socket. Refused: nothing is taken. The per-IP
   * limits are checked before eviction, so a socket they refuse never costs another its slot.
   */
  admitInbound(
    addr: Multiaddr,
    now: number,
  ): { ok: true; ticket: number; evict?: number } | { ok: false; limit: string; reason: string } {
    const o = this.options;
    // Forget a couple of idle IPs per call, so the map shrinks without a timer.
    this.#expire(now, 2);
    if (this.isAllowed(addr)) return { ok: true, ticket: this.#addPending(undefined, true) };
    const key = ipKey(addr);
    const state = key === undefined ? undefined : this.#ipState(key, now);
    if (key !== undefined) {
      if (state === undefined) {
        return refuse("maxTrackedIps", `${o.maxTrackedIps} remote IPs tracked`);
      }
      if (state.active >= o.maxInboundPerIp) {
        return refuse("maxInboundPerIp", `${o.maxInboundPerIp} inbound connections from ${key}`);
      }
      if (state.tokens < 1) {
        return refuse(
          "inboundRatePerIp",
          `more than ${o.inboundRatePerIp} new connections per second from ${key}`,
        );
      }
    }
    let evict: number | undefined;
    if (this.#pending.size >= o.maxPendingInbound) {
      evict = this.#oldestSilent();
      if (evict === undefined) {
        return refuse(
          "maxPendingInbound",
          `${o.maxPendingInbound} inbound upgrades pending, all past their first bytes`,
        );
      }
    }
    const pending = this.#pending.size - (evict === undefined ? 0 : 1);
    if (this.#inbound + pending >= o.maxInbound) {
      return refuse("maxInbound", `${o.maxInbound} inbound connections`);
    }
    if (this.#conns.size + pending >= o.maxConnections) {
      return refuse("maxConnections", `${o.maxConnections} connections`);
    }
    if (evict !== undefined) {
      this.#evicted++;
      this.inboundFailed(evict, now);
    }
    if (state !== undefined) {
      state.tokens -= 1;
      state.active++;
    }
    const ticket = this.#addPending(key, false);
    return evict === undefined ? { ok: true, ticket } : { ok: true, ticket, evict };
  }

  /**
   * The pending socket `ticket` started its security handshake: it is no longer silent and no
   * newcomer can evict it. False when the ticket is not pending (evicted or ended).
   */
  inboundProgressed(ticket: number): boolean {
    const entry = this.#pending.get(ticket);
    if (entry === undefined) return false;
    if (!entry.progressed) {
      entry.progressed = true;
      this.#silent--;
    }
    return true;
  }

  /**
   * An admitted inbound socket did not become a connection (upgrade failed or refused, or it
   * was evicted). A no-op for a ticket that is not pending, so it may be called twice.
   */
  inboundFailed(ticket: number, now: number): void {
    const entry = this.#releasePending(ticket);
    if (entry !== undefined && !entry.allowed) this.#ipLeft(entry.ip, now);
  }

  /**
   * May we dial out now? Refused when the outbound or total cap is reached; no slot is taken
   * (a dial may still fail; {@link addConnection} checks again).
   */
  admitOutbound(): Admission {
    const o = this.options;
    if (this.#outbound >= o.maxOutbound) {
      return refuse("maxOutbound", `${o.maxOutbound} outbound connections`);
    }
    if (this.#conns.size + this.#pending.size >= o.maxConnections) {
      return refuse("maxConnections", `${o.maxConnections} connections`);
    }
    return { ok: true };
  }

  /**
   * An upgraded connection opens. For an inbound one admitted as `ticket`, its pending slot
   * becomes the connection's (an inbound connection without a ticket counts against no IP).
   * Refused (the caller closes the connection): the inbound slot is released as well.
   */
  addConnection(conn: Omit<ManagedConnection, "opened">, now: number, ticket?: number): Admission {
    const o = this.options;
    const allowed = this.isAllowed(conn.remoteAddr);
    let ip: string | undefined;
    if (conn.direction === "inbound" && ticket !== undefined) {
      const entry = this.#releasePending(ticket);
      if (entry === undefined) return refuse("maxPendingInbound", "the pending slot was taken");
      ip = entry.allowed ? undefined : entry.ip;
    }
    if (this.#conns.has(conn.id)) return { ok: true };
    if (!allowed) {
      const refusal = conn.direction === "outbound"
        ? (this.#outbound >= o.maxOutbound ? "maxOutbound" : undefined)
        : (this.#inbound >= o.maxInbound ? "maxInbound" : undefined);
      const total = this.#conns.size + this.#pending.size >= o.maxConnections;
      if (refusal !== undefined || total) {
        this.#ipLeft(ip, now);
        const limit = refusal ?? "maxConnections";
        return refuse(limit, `${limit} reached`);
      }
    }
    this.#conns.set(conn.id, { ...conn, opened: now, ip, allowed });
    if (conn.direction === "inbound") this.#inbound++;
    else this.#outbound++;
    return { ok: true };
  }

  /** A connection closed (no-op for unknown ids). */
  removeConnection(id: string, now: number): void {
    const entry = this.#conns.get(id);
    if (entry === undefined) return;
    this.#conns.delete(id);
    if (entry.direction === "inbound") this.#inbound--;
    else this.#outbound--;
    this.#ipLeft(entry.ip, now);
  }

  /**
   * Connections to close now: nothing while at most `highWatermark` are open; otherwise enough
   * to get down to `lowWatermark`, skipping protected peers, allow-listed addresses and
   * connections younger than `pruneGraceMs`; lowest tag value first, then the oldest.
   */
  selectPrunable(now: number): ManagedConnection[] {
    const o = this.options;
    if (this.#conns.size <= o.highWatermark) return [];
    const excess = this.#conns.size - o.lowWatermark;
    const candidates: { entry: Entry; value: number }[] = [];
    for (const entry of this.#conns.values()) {
      if (entry.allowed || now - entry.opened < o.pruneGraceMs) continue;
      const tags = this.#tags.get(entry.peer);
      if (tags !== undefined && tags.protectedBy.size > 0) continue;
      candidates.push({ entry, value: this.tagValue(entry.peer) });
    }
    candidates.sort((a, b) => a.value - b.value || a.entry.opened - b.entry.opened);
    return candidates.slice(0, excess).map((c) => c.entry);
  }

  /**
   * Set tag `name` of `peer` to `value` (0 to 1000; higher keeps the peer longer). Throws
   * LimitExceededError when `maxTaggedPeers` peers are already tagged.
   */
  tagPeer(peer: string, name: string, value: number): void {
    if (!Number.isFinite(value) || value < 0 || value > 1000) {
      throw new RangeError("tag value must be a number from 0 to 1000");
    }
    this.#tagsOf(peer).values.set(name, value);
  }

  /** Remove tag `name` of `peer`. */
  untagPeer(peer: string, name: string): void {
    const tags = this.#tags.get(peer);
    tags?.values.delete(name);
    this.#dropTagsIfEmpty(peer);
  }

  /** Never prune `peer` while it holds protection `tag` (several tags may protect one peer). */
  protect(peer: string, tag: string): void {
    this.#tagsOf(peer).protectedBy.add(tag);
  }

  /** Drop protection `tag` of `peer`; true when the peer is still protected by another tag. */
  unprotect(peer: string, tag: string): boolean {
    const tags = this.#tags.get(peer);
    tags?.protectedBy.delete(tag);
    this.#dropTagsIfEmpty(peer);
    return (this.#tags.get(peer)?.protectedBy.size ?? 0) > 0;
  }

  /** Whether `peer` is protected. */
  isProtected(peer: string): boolean {
    return (this.#tags.get(peer)?.protectedBy.size ?? 0) > 0;
  }

  /** Sum of the peer's tag values. */
  tagValue(peer: string): number {
    let sum = 0;
    for (const v of this.#tags.get(peer)?.values.values() ?? []) sum += v;
    return sum;
  }

  /** Open connections known to the manager. */
  connections(): ManagedConnection[] {
    return [...this.#conns.values()];
  }

  /**
   * Counters. With `now`, per-IP entries that are idle and refilled are dropped first, so
   * `trackedIps` shows the IPs that still matter.
   */
  stats(now?: number): ConnectionManagerStats {
    if (now !== undefined) this.#expire(now, Infinity);
    return {
      connections: this.#conns.size,
      inbound: this.#inbound,
      outbound: this.#outbound,
      pendingInbound: this.#pending.size,
      silentInbound: this.#silent,
      evictedInbound: this.#evicted,
      trackedIps: this.#ips.size,
      taggedPeers: this.#tags.size,
    };
  }

  #addPending(ip: string | undefined, allowed: boolean): number {
    const ticket = ++this.#tickets;
    // Allow-listed sockets are trusted: never silent, never evicted.
    this.#pending.set(ticket, { ip, allowed, progressed: allowed });
    if (!allowed) this.#silent++;
    return ticket;
  }

  #releasePending(ticket: number): Pending | undefined {
    const entry = this.#pending.get(ticket);
    if (entry === undefined) return undefined;
    this.#pending.delete(ticket);
    if (!entry.progressed) this.#silent--;
    return entry;
  }

  /** The ticket of the oldest pending socket that has not started its handshake. */
  #oldestSilent(): number | undefined {
    if (this.#silent === 0) return undefined;
    for (const [ticket, entry] of this.#pending) if (!entry.progressed) return ticket;
    return undefined;
  }

  #tagsOf(peer: string): PeerTags {
    let tags = this.#tags.get(peer);
    if (tags === undefined) {
      if (this.#tags.size >= this.options.maxTaggedPeers) {
        throw new LimitExceededError(
          `${this.options.maxTaggedPeers} peers are tagged already`,
          "maxTaggedPeers",
        );
      }
      tags = { values: new Map(), protectedBy: new Set() };
      this.#tags.set(peer, tags);
    }
    return tags;
  }

  #dropTagsIfEmpty(peer: string): void {
    const tags = this.#tags.get(peer);
    if (tags !== undefined && tags.values.size === 0 && tags.protectedBy.size === 0) {
      this.#tags.delete(peer);
    }
  }

  /** The refilled bucket of `key`, creating it; undefined when the map is full. */
  #ipState(key: string, now: number): IpState | undefined {
    let state = this.#ips.get(key);
    if (state !== undefined) {
      this.#refill(state, now);
      return state;
    }
    if (this.#ips.size >= this.options.maxTrackedIps) this.#sweep(now);
    if (this.#ips.size >= this.options.maxTrackedIps) return undefined;
    state = { active: 0, tokens: this.options.inboundBurstPerIp, last: now };
    this.#ips.set(key, state);
    return state;
  }

  #refill(state: IpState, now: number): void {
    const elapsed = Math.max(0, now - state.last);
    state.tokens = Math.min(
      this.options.inboundBurstPerIp,
      state.tokens + (elapsed / 1000) * this.options.inboundRatePerIp,
    );
    state.last = now;
  }

  /** An inbound connection of `key` ended: forget the IP once it is idle and refilled. */
  #ipLeft(key: string | undefined, now: number): void {
    if (key === undefined) return;
    const state = this.#ips.get(key);
    if (state === undefined) return;
    if (state.active > 0) state.active--;
    this.#refill(state, now);
    if (state.active === 0 && state.tokens >= this.options.inboundBurstPerIp) this.#ips.delete(key);
  }

  /** Drop up to `max` idle entries whose bucket refilled, oldest first. */
  #expire(now: number, max: number): void {
    let checked = 0;
    for (const [key, state] of this.#ips) {
      if (checked++ >= max) return;
      if (state.active > 0) continue;
      this.#refill(state, now);
      if (state.tokens >= this.options.inboundBurstPerIp) this.#ips.delete(key);
    }
  }

  /**
   * Make room in a full per-IP map: drop idle entries whose bucket refilled; if none, the
   * oldest idle entry (its IP gets a fresh bucket next time, which only loosens the rate limit
   * of one of thousands of addresses). Entries with connections stay.
   */
  #sweep(now: number): void {
    let oldestIdle: string | undefined;
    for (const [key, state] of this.#ips) {
      if (state.active > 0) continue;
      this.#refill(state, now);
      if (state.tokens >= this.options.inboundBurstPerIp) this.#ips.delete(key);
      else oldestIdle ??= key;
    }
    if (this.#ips.size >= this.options.maxTrackedIps && oldestIdle !== undefined) {
      this.#ips.delete(oldestIdle);
    }
  }
}

function refuse(limit: string, reason: string): { ok: false; limit: string; reason: string } {
  return { ok: false, limit, reason };
}
