/**
 * The rendezvous server's registration store: a sans-IO machine (time is passed in, in ms).
 * It holds registrations by namespace and peer, applies the spec's rules and our caps, and pages
 * DISCOVER results with cookies (libp2p/specs rendezvous/README.md "Registration Lifetime",
 * "Interaction", "Recommendations"):
 *
 * - a registration lives for its TTL (default 2 h, accepted range `[minTtl, maxTtl]`, else
 *   E_INVALID_TTL); a REGISTER by the same peer in the same namespace replaces the old one;
 * - namespaces are 1 to 255 UTF-8 bytes (E_INVALID_NAMESPACE);
 * - caps (rust-libp2p's as the floor, HARDENING.md rule 4): registrations per peer and in total,
 *   results per DISCOVER, the size of a stored record; a full store refuses (E_UNAVAILABLE)
 *   rather than evicting honest registrations;
 * - every registration gets a sequence number when it is stored (a replacement gets a new one),
 *   and a DISCOVER returns registrations in sequence order. A cookie is
 *   `[last sequence returned: u64 BE][namespace, UTF-8]`, the layout rust-libp2p's clients decode
 *   (`[8-byte id][namespace]`: they refuse a whole DISCOVER_RESPONSE whose cookie does not parse
 *   that way). The position travels in the cookie, so the server keeps no per-cookie state at
 *   all (rust keeps up to 10,000 cookies; here there is nothing to cap). Sequence numbers start
 *   at the store's creation time in ms x 1024, so a cookie from an earlier run of the point is
 *   older than every registration of this run (the client gets everything again); a cookie for
 *   another namespace, or ahead of the store, is E_INVALID_COOKIE.
 *
 * The signed record is opaque here: the caller verifies that it is the sender's before storing.
 *
 * @module
 */

import { equals, utf8Encode } from "../../src/bytes.ts";
import {
  DEFAULT_TTL,
  MAX_DISCOVER_LIMIT,
  MAX_NAMESPACE_BYTES,
  MAX_REGISTRATIONS,
  MAX_REGISTRATIONS_PER_PEER,
  MAX_SIGNED_RECORD_BYTES,
  MAX_TTL,
  MIN_TTL,
  ResponseStatus,
} from "./constants.ts";

/** Options of {@link RegistrationStore}; each with its default. */
export interface RegistrationStoreOptions {
  /** Shortest TTL accepted, s. Default {@link MIN_TTL} (2 h). */
  minTtl?: number;
  /** Longest TTL accepted, s. Default {@link MAX_TTL} (72 h). */
  maxTtl?: number;
  /** TTL of a REGISTER that names none, s. Default {@link DEFAULT_TTL} (2 h). */
  defaultTtl?: number;
  /** Registrations per peer. Default {@link MAX_REGISTRATIONS_PER_PEER} (32). */
  maxRegistrationsPerPeer?: number;
  /** Registrations in total. Default {@link MAX_REGISTRATIONS} (10,000). */
  maxRegistrations?: number;
  /** Results per DISCOVER. Default {@link MAX_DISCOVER_LIMIT} (1,000). */
  maxDiscoverLimit?: number;
  /** Largest stored record, bytes. Default {@link MAX_SIGNED_RECORD_BYTES} (8 KiB). */
  maxRecordBytes?: number;
  /**
   * The first sequence number (cookie positions start after it). Default `Date.now() * 1024`
   * at creation, so cookies of an earlier run are older than this run's registrations.
   */
  seqBase?: number;
}

/** A stored registration. */
export interface StoredRegistration {
  /** The registered peer (its id as text). */
  readonly peer: string;
  /** The namespace. */
  readonly namespace: string;
  /** The peer's signed peer record, as received. */
  readonly signedPeerRecord: Uint8Array;
  /** The TTL granted, s. */
  readonly ttl: number;
  /** When it expires, ms (the clock passed in). */
  readonly expiresAt: number;
  /** Its position in the store's order (paging). */
  readonly seq: number;
}

/** What a REGISTER asks for (the record already verified as the sender's). */
export interface RegisterRequest {
  /** The sender's peer id as text. */
  peer: string;
  /** The namespace. */
  namespace: string;
  /** The sender's signed peer record. */
  signedPeerRecord: Uint8Array;
  /** Requested TTL, s; absent for the default. */
  ttl?: bigint | number;
}

/** The outcome of a REGISTER. */
export type RegisterResult =
  | { status: 0; ttl: number; replaced: boolean }
  | { status: number; statusText: string };

/** What a DISCOVER asks for. */
export interface DiscoverRequest {
  /** The namespace; absent or "" for every namespace. */
  namespace?: string;
  /** Most results; absent or 0 for the store's maximum. */
  limit?: bigint | number;
  /** A cookie from an earlier answer of this store. */
  cookie?: Uint8Array;
  /**
   * Stop adding registrations once their encoded size would pass this many bytes (the rest is
   * paged through the cookie). Default unbounded.
   */
  maxBytes?: number;
}

/** One registration in a DISCOVER answer. */
export interface DiscoveredRegistration {
  /** The stored registration. */
  registration: StoredRegistration;
  /** What is left of its TTL, s (at least 1). */
  ttl: number;
}

/** The outcome of a DISCOVER. */
export type DiscoverResult =
  | { status: 0; registrations: DiscoveredRegistration[]; cookie: Uint8Array }
  | { status: number; statusText: string };

/** Bytes of the position at the start of a cookie. */
const COOKIE_POSITION_BYTES = 8;
/** Bytes a registration adds to a response beyond its record and namespace (tags, lengths, ttl). */
const REGISTRATION_OVERHEAD = 24;

function positiveInt(name: string, v: number | undefined, d: number): number {
  const x = v ?? d;
  if (!Number.isSafeInteger(x) || x < 0) throw new RangeError(`${name} must be an integer >= 0`);
  return x;
}

/** Check a namespace: 1 to 255 UTF-8 bytes. Returns the reason when it is not valid. */
export function namespaceProblem(namespace: string): string | undefined {
  if (namespace.length === 0) return "empty namespace";
  if (
    namespace.length > MAX_NAMESPACE_BYTES || utf8Encode(namespace).byteLength > MAX_NAMESPACE_BYTES
  ) {
    return `namespace longer than ${MAX_NAMESPACE_BYTES} bytes`;
  }
  return undefined;
}

/** Index of the first entry with `seq > after` in a list sorted by seq. */
function firstAfter(list: readonly StoredRegistration[], after: number): number {
  let lo = 0;
  let hi = list.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (list[mid].seq <= after) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function removeFrom(list: StoredRegistration[], entry: StoredRegistration): void {
  const i = firstAfter(list, entry.seq - 1);
  if (list[i] === entry) list.splice(i, 1);
}

/**
 * The registration store of a rendezvous server (sans-IO: `now` in ms is an argument of every
 * operation; expired registrations are dropped on each operation and by {@link expire}).
 *
 * @example
 * ```ts
 * import { RegistrationStore } from "@p2p-edge/libp2p/protocols/rendezvous";
 * const store = new RegistrationStore();
 * const record = new Uint8Array([1, 2, 3]); // a verified signed peer record
 * store.register({ peer: "12D3KooW...", namespace: "chat", signedPeerRecord: record }, 0);
 * const page = store.discover({ namespace: "chat", limit: 10 }, 1_000);
 * if ("registrations" in page) console.log(page.registrations.length); // 1
 * ```
 */
export class RegistrationStore {
  /** Shortest TTL accepted, s. */
  readonly minTtl: number;
  /** Longest TTL accepted, s. */
  readonly maxTtl: number;
  /** TTL of a REGISTER that names none, s. */
  readonly defaultTtl: number;
  /** Registrations one peer may hold. */
  readonly maxRegistrationsPerPeer: number;
  /** Registrations held in total. */
  readonly maxRegistrations: number;
  /** Results per DISCOVER. */
  readonly maxDiscoverLimit: number;
  /** Largest stored record, bytes. */
  readonly maxRecordBytes: number;
  /** namespace -> peer -> registration. */
  readonly #byNamespace = new Map<string, Map<string, StoredRegistration>>();
  /** Every registration, by seq. */
  #all: StoredRegistration[] = [];
  /** Per namespace, by seq. */
  readonly #ordered = new Map<string, StoredRegistration[]>();
  readonly #perPeer = new Map<string, number>();
  #seq: number;
  /** Lower bound of the earliest expiry (exact after a scan). */
  #earliest = Infinity;

  /** Caps and TTL range from `options`, each with the default named in its field. */
  constructor(options: RegistrationStoreOptions = {}) {
    this.minTtl = positiveInt("minTtl", options.minTtl, MIN_TTL);
    this.maxTtl = positiveInt("maxTtl", options.maxTtl, MAX_TTL);
    this.defaultTtl = positiveInt("defaultTtl", options.defaultTtl, DEFAULT_TTL);
    if (this.minTtl > this.maxTtl) throw new RangeError("minTtl must be <= maxTtl");
    this.maxRegistrationsPerPeer = positiveInt(
      "maxRegistrationsPerPeer",
      options.maxRegistrationsPerPeer,
      MAX_REGISTRATIONS_PER_PEER,
    );
    this.maxRegistrations = positiveInt(
      "maxRegistrations",
      options.maxRegistrations,
      MAX_REGISTRATIONS,
    );
    this.maxDiscoverLimit = positiveInt(
      "maxDiscoverLimit",
      options.maxDiscoverLimit,
      MAX_DISCOVER_LIMIT,
    );
    this.maxRecordBytes = positiveInt(
      "maxRecordBytes",
      options.maxRecordBytes,
      MAX_SIGNED_RECORD_BYTES,
    );
    this.#seq = positiveInt("seqBase", options.seqBase, Date.now() * 1024);
  }

  /** Registrations held (expired ones included until the next operation or {@link expire}). */
  get size(): number {
    return this.#all.length;
  }

  /** Namespaces with at least one registration. */
  get namespaces(): number {
    return this.#byNamespace.size;
  }

  /** Registrations a peer holds. */
  countFor(peer: string): number {
    return this.#perPeer.get(peer) ?? 0;
  }

  /** When the next registration expires, ms; undefined when the store is empty. */
  nextExpiry(): number | undefined {
    if (this.#all.length === 0) return undefined;
    if (this.#earliest === Infinity) this.#rescan();
    return this.#earliest;
  }

  /** Store (or replace) a registration; see the module text for the checks. */
  register(req: RegisterRequest, now: number): RegisterResult {
    this.expire(now);
    const bad = namespaceProblem(req.namespace);
    if (bad !== undefined) return { status: ResponseStatus.E_INVALID_NAMESPACE, statusText: bad };
    if (req.signedPeerRecord.byteLength === 0) {
      return {
        status: ResponseStatus.E_INVALID_SIGNED_PEER_RECORD,
        statusText: "no signed peer record",
      };
    }
    if (req.signedPeerRecord.byteLength > this.maxRecordBytes) {
      return {
        status: ResponseStatus.E_INVALID_SIGNED_PEER_RECORD,
        statusText: `signed peer record larger than ${this.maxRecordBytes} bytes`,
      };
    }
    const ttl = req.ttl === undefined ? this.defaultTtl : Number(req.ttl);
    if (!(ttl >= this.minTtl && ttl <= this.maxTtl)) {
      return {
        status: ResponseStatus.E_INVALID_TTL,
        statusText: `ttl must be between ${this.minTtl} and ${this.maxTtl} seconds`,
      };
    }
    const peers = this.#byNamespace.get(req.namespace);
    const old = peers?.get(req.peer);
    if (old === undefined) {
      if (this.countFor(req.peer) >= this.maxRegistrationsPerPeer) {
        return {
          status: ResponseStatus.E_UNAVAILABLE,
          statusText: `at most ${this.maxRegistrationsPerPeer} registrations per peer`,
        };
      }
      if (this.#all.length >= this.maxRegistrations) {
        return { status: ResponseStatus.E_UNAVAILABLE, statusText: "registration store full" };
      }
    } else {
      this.#remove(old);
    }
    const entry: StoredRegistration = {
      peer: req.peer,
      namespace: req.namespace,
      signedPeerRecord: req.signedPeerRecord,
      ttl,
      expiresAt: now + ttl * 1000,
      seq: ++this.#seq,
    };
    this.#insert(entry);
    return { status: ResponseStatus.OK, ttl, replaced: old !== undefined };
  }

  /** Remove a peer's registration in a namespace; true when there was one. */
  unregister(peer: string, namespace: string, now: number): boolean {
    this.expire(now);
    const old = this.#byNamespace.get(namespace)?.get(peer);
    if (old === undefined) return false;
    this.#remove(old);
    return true;
  }

  /** Registrations in a namespace (or all), newer than the cookie's position, in order. */
  discover(req: DiscoverRequest, now: number): DiscoverResult {
    this.expire(now);
    const namespace = req.namespace ?? "";
    if (namespace !== "") {
      const bad = namespaceProblem(namespace);
      if (bad !== undefined) return { status: ResponseStatus.E_INVALID_NAMESPACE, statusText: bad };
    }
    let after = 0;
    if (req.cookie !== undefined && req.cookie.byteLength > 0) {
      const pos = this.#readCookie(req.cookie, namespace);
      if (pos === undefined) {
        return {
          status: ResponseStatus.E_INVALID_COOKIE,
          statusText: "cookie not valid for this query",
        };
      }
      after = pos;
    }
    const asked = req.limit === undefined ? 0 : Number(req.limit);
    const limit = asked > 0 ? Math.min(asked, this.maxDiscoverLimit) : this.maxDiscoverLimit;
    const list = namespace === "" ? this.#all : this.#ordered.get(namespace) ?? [];
    const registrations: DiscoveredRegistration[] = [];
    let bytes = 0;
    const maxBytes = req.maxBytes ?? Infinity;
    for (let i = firstAfter(list, after); i < list.length && registrations.length < limit; i++) {
      const r = list[i];
      bytes += r.signedPeerRecord.byteLength + r.namespace.length * 3 + REGISTRATION_OVERHEAD;
      if (bytes > maxBytes && registrations.length > 0) break;
      registrations.push({
        registration: r,
        ttl: Math.max(1, Math.ceil((r.expiresAt - now) / 1000)),
      });
      after = r.seq;
    }
    return { status: ResponseStatus.OK, registrations, cookie: this.#cookie(namespace, after) };
  }

  /** Drop the registrations whose TTL has passed at `now`; returns them. */
  expire(now: number): StoredRegistration[] {
    if (now < this.#earliest) return [];
    const gone: StoredRegistration[] = [];
    const kept: StoredRegistration[] = [];
    for (const r of this.#all) (r.expiresAt <= now ? gone : kept).push(r);
    if (gone.length > 0) {
      // One pass over each list rather than a splice per registration: expiring 10,000 at once
      // stays linear.
      this.#all = kept;
      const touched = new Set<string>();
      for (const r of gone) {
        this.#forget(r);
        touched.add(r.namespace);
      }
      for (const ns of touched) {
        const ordered = this.#ordered.get(ns);
        if (ordered === undefined) continue;
        this.#ordered.set(ns, ordered.filter((r) => r.expiresAt > now));
      }
    }
    this.#rescan();
    return gone;
  }

  #rescan(): void {
    let earliest = Infinity;
    for (const r of this.#all) if (r.expiresAt < earliest) earliest = r.expiresAt;
    this.#earliest = earliest;
  }

  #insert(entry: StoredRegistration): void {
    let peers = this.#byNamespace.get(entry.namespace);
    if (peers === undefined) {
      peers = new Map();
      this.#byNamespace.set(entry.namespace, peers);
      this.#ordered.set(entry.namespace, []);
    }
    peers.set(entry.peer, entry);
    // seq only grows, so appending keeps both lists sorted.
    this.#ordered.get(entry.namespace)!.push(entry);
    this.#all.push(entry);
    this.#perPeer.set(entry.peer, this.countFor(entry.peer) + 1);
    if (entry.expiresAt < this.#earliest) this.#earliest = entry.expiresAt;
  }

  #remove(entry: StoredRegistration): void {
    const ordered = this.#ordered.get(entry.namespace);
    if (!this.#forget(entry)) return;
    if (ordered !== undefined) removeFrom(ordered, entry);
    removeFrom(this.#all, entry);
  }

  /** Drop an entry from the maps and counts (not from the ordered lists); false if absent. */
  #forget(entry: StoredRegistration): boolean {
    const peers = this.#byNamespace.get(entry.namespace);
    if (peers?.get(entry.peer) !== entry) return false;
    peers.delete(entry.peer);
    if (peers.size === 0) {
      this.#byNamespace.delete(entry.namespace);
      this.#ordered.delete(entry.namespace);
    }
    const n = this.countFor(entry.peer) - 1;
    if (n > 0) this.#perPeer.set(entry.peer, n);
    else this.#perPeer.delete(entry.peer);
    return true;
  }

  #cookie(namespace: string, after: number): Uint8Array {
    const ns = utf8Encode(namespace);
    const out = new Uint8Array(COOKIE_POSITION_BYTES + ns.byteLength);
    new DataView(out.buffer).setBigUint64(0, BigInt(after));
    out.set(ns, COOKIE_POSITION_BYTES);
    return out;
  }

  /** The position in a cookie for this namespace, else undefined. */
  #readCookie(cookie: Uint8Array, namespace: string): number | undefined {
    if (cookie.byteLength < COOKIE_POSITION_BYTES) return undefined;
    if (!equals(cookie.subarray(COOKIE_POSITION_BYTES), utf8Encode(namespace))) return undefined;
    const pos = new DataView(cookie.buffer, cookie.byteOffset, cookie.byteLength).getBigUint64(0);
    return pos <= BigInt(this.#seq) ? Number(pos) : undefined;
  }
}
