/**
 * The Kademlia routing table (libp2p/specs `kad-dht/README.md` §Kademlia routing table), sans-IO:
 * 256 k-buckets indexed by the common prefix length (CPL) of a contact's keyspace position with
 * ours; each bucket holds at most k contacts ordered from least to most recently seen.
 *
 * When a bucket is full, a newcomer never evicts a contact outright: the table answers
 * `{ action: "check", old }` and holds the newcomer; the caller checks `old` (a FIND_NODE or
 * ping) and reports with {@link RoutingTable.resolveCheck}. Only a failed check replaces `old`
 * (HARDENING.md rule 10: what has proven nothing yields to what has). One check per bucket is
 * pending at a time; further newcomers to that bucket are refused until it resolves.
 *
 * Diversity (go-libp2p-kad-dht's IP group filter; HARDENING.md rule 4): at most
 * `maxPeersPerIpGroupTable` contacts per IP group (IPv4 /16, IPv6 /32) in the table and
 * `maxPeersPerIpGroupBucket` per bucket. A contact with several groups counts in each. A contact
 * with no public IP address has no group: it is refused with reason `"no-public-address"`
 * unless `allowPrivateAddresses` is set (LAN and loopback tests), in which case it is admitted
 * outside the diversity caps.
 *
 * Time is injected: every call that records a sighting takes `now` (milliseconds).
 *
 * @module
 */

import { equals } from "../../src/bytes.ts";
import {
  K_BUCKET_SIZE,
  KEYSPACE_BITS,
  MAX_PEERS_PER_IP_GROUP_BUCKET,
  MAX_PEERS_PER_IP_GROUP_TABLE,
} from "./constants.ts";
import { ipGroupsOf } from "./ip_group.ts";
import { commonPrefixLength, compareDistance, kadId } from "./keyspace.ts";

/** A peer in the routing table. */
export interface Contact {
  /** Binary peer id (multihash bytes). */
  readonly peerId: Uint8Array;
  /** Keyspace position: sha256 of the peer id. */
  readonly kadId: Uint8Array;
  /** Binary multiaddrs the contact was admitted with. */
  addrs: readonly Uint8Array[];
  /** IP groups of `addrs` (empty when it has no public address). */
  readonly ipGroups: readonly string[];
  /** Last time the contact answered or was seen alive. */
  lastSeen: number;
  /** Time the contact entered the table. */
  readonly addedAt: number;
}

/** Why a contact was not admitted. */
export type RejectReason =
  | "self"
  | "no-public-address"
  | "ip-group-table"
  | "ip-group-bucket"
  | "check-pending";

/** Outcome of {@link RoutingTable.add}. */
export type AddResult =
  | { action: "added"; contact: Contact }
  | { action: "updated"; contact: Contact }
  | { action: "check"; old: Contact }
  | { action: "rejected"; reason: RejectReason };

/** Outcome of {@link RoutingTable.resolveCheck}. */
export type CheckResult =
  | { action: "kept"; contact: Contact }
  | { action: "replaced"; removed: Contact; added: Contact }
  | { action: "removed"; removed: Contact; reason: RejectReason }
  | { action: "unknown" };

/** Options of {@link RoutingTable}. */
export interface RoutingTableOptions {
  /** Our own peer id bytes. */
  selfId: Uint8Array;
  /** Bucket size k. Default {@link K_BUCKET_SIZE}. */
  kBucketSize?: number;
  /** Contacts per IP group in the table. Default {@link MAX_PEERS_PER_IP_GROUP_TABLE}. */
  maxPeersPerIpGroupTable?: number;
  /** Contacts per IP group in one bucket. Default {@link MAX_PEERS_PER_IP_GROUP_BUCKET}. */
  maxPeersPerIpGroupBucket?: number;
  /** Admit contacts with no public IP address (outside the diversity caps). Default false. */
  allowPrivateAddresses?: boolean;
}

interface Pending {
  old: Contact;
  candidate: { peerId: Uint8Array; kadId: Uint8Array; addrs: readonly Uint8Array[] };
}

interface Bucket {
  /** Least recently seen first. */
  contacts: Contact[];
  groups: Map<string, number>;
  pending?: Pending;
}

/**
 * A k-bucket routing table over the 256-bit XOR keyspace.
 *
 * @example
 * ```ts
 * import { RoutingTable } from "@p2p-edge/libp2p/protocols/kad-dht";
 * const table = new RoutingTable({ selfId: new Uint8Array([0, 1, 0]) });
 * const addr = new Uint8Array([4, 8, 8, 8, 8, 6, 0x0f, 0xa1]); // /ip4/8.8.8.8/tcp/4001
 * table.add(new Uint8Array([0, 1, 1]), [addr], 0).action; // "added"
 * table.closest(new Uint8Array(32), 20).length; // 1
 * ```
 */
export class RoutingTable {
  /** Our peer id bytes. */
  readonly selfId: Uint8Array;
  /** Our keyspace position. */
  readonly selfKadId: Uint8Array;
  /** Bucket size k. */
  readonly k: number;
  readonly #maxGroupTable: number;
  readonly #maxGroupBucket: number;
  readonly #allowPrivate: boolean;
  readonly #buckets: Bucket[] = [];
  readonly #byId = new Map<string, Contact>();
  readonly #groups = new Map<string, number>();

  /** An empty table for `options.selfId`. */
  constructor(options: RoutingTableOptions) {
    this.selfId = options.selfId;
    this.selfKadId = kadId(options.selfId);
    this.k = options.kBucketSize ?? K_BUCKET_SIZE;
    this.#maxGroupTable = options.maxPeersPerIpGroupTable ?? MAX_PEERS_PER_IP_GROUP_TABLE;
    this.#maxGroupBucket = options.maxPeersPerIpGroupBucket ?? MAX_PEERS_PER_IP_GROUP_BUCKET;
    this.#allowPrivate = options.allowPrivateAddresses ?? false;
    for (let i = 0; i < KEYSPACE_BITS; i++) this.#buckets.push({ contacts: [], groups: new Map() });
  }

  /** Number of contacts. */
  get size(): number {
    return this.#byId.size;
  }

  /** Number of checks waiting for {@link resolveCheck}. */
  get pendingChecks(): number {
    let n = 0;
    for (const b of this.#buckets) if (b.pending !== undefined) n++;
    return n;
  }

  /** The contact with this peer id, if present. */
  get(peerId: Uint8Array): Contact | undefined {
    return this.#byId.get(key(peerId));
  }

  /** True when the peer is in the table. */
  has(peerId: Uint8Array): boolean {
    return this.#byId.has(key(peerId));
  }

  /** Every contact, bucket by bucket. */
  *contacts(): IterableIterator<Contact> {
    for (const b of this.#buckets) yield* b.contacts;
  }

  /** The bucket index (CPL with our position) of a keyspace position. */
  bucketIndex(position: Uint8Array): number {
    return Math.min(commonPrefixLength(position, this.selfKadId), KEYSPACE_BITS - 1);
  }

  /** Number of contacts in each bucket (for refresh and metrics). */
  bucketSizes(): number[] {
    return this.#buckets.map((b) => b.contacts.length);
  }

  /**
   * Offer a peer that proved itself (answered a lookup check, advertises the protocol) with its
   * binary multiaddrs. A known peer is marked seen now and its addresses replaced; its IP
   * groups stay those it was admitted with (it already holds its slot).
   */
  add(peerId: Uint8Array, addrs: readonly Uint8Array[], now: number): AddResult {
    if (equals(peerId, this.selfId)) return { action: "rejected", reason: "self" };
    const existing = this.#byId.get(key(peerId));
    if (existing !== undefined) {
      existing.addrs = addrs;
      this.#touch(existing, now);
      return { action: "updated", contact: existing };
    }
    const position = kadId(peerId);
    const bucket = this.#buckets[this.bucketIndex(position)];
    const groups = ipGroupsOf(addrs);
    const reason = this.#diversity(bucket, groups);
    if (reason !== undefined) return { action: "rejected", reason };
    if (bucket.contacts.length < this.k) {
      return {
        action: "added",
        contact: this.#insert(bucket, peerId, position, addrs, groups, now),
      };
    }
    if (bucket.pending !== undefined) return { action: "rejected", reason: "check-pending" };
    const old = bucket.contacts[0];
    bucket.pending = { old, candidate: { peerId, kadId: position, addrs } };
    return { action: "check", old };
  }

  /**
   * Report the outcome of the check asked for by {@link add}. When `old` answered it is marked
   * seen and the newcomer is dropped; when it failed it is removed and the newcomer admitted (if
   * diversity still allows).
   */
  resolveCheck(oldPeerId: Uint8Array, alive: boolean, now: number): CheckResult {
    const old = this.#byId.get(key(oldPeerId));
    const bucket = old === undefined ? undefined : this.#buckets[this.bucketIndex(old.kadId)];
    const pending = bucket?.pending;
    if (old === undefined || bucket === undefined || pending === undefined) {
      return { action: "unknown" };
    }
    if (!equals(pending.old.peerId, oldPeerId)) return { action: "unknown" };
    bucket.pending = undefined;
    if (alive) {
      this.#touch(old, now);
      return { action: "kept", contact: old };
    }
    this.remove(oldPeerId);
    const c = pending.candidate;
    if (this.#byId.has(key(c.peerId))) {
      return { action: "kept", contact: this.#byId.get(key(c.peerId))! };
    }
    const groups = ipGroupsOf(c.addrs);
    const reason = this.#diversity(bucket, groups);
    if (reason !== undefined) return { action: "removed", removed: old, reason };
    const added = this.#insert(bucket, c.peerId, c.kadId, c.addrs, groups, now);
    return { action: "replaced", removed: old, added };
  }

  /** Mark a known peer as seen now (it answered a request). Returns false when unknown. */
  markSeen(peerId: Uint8Array, now: number): boolean {
    const c = this.#byId.get(key(peerId));
    if (c === undefined) return false;
    this.#touch(c, now);
    return true;
  }

  /** Remove a peer (it left, or failed). Returns the removed contact. */
  remove(peerId: Uint8Array): Contact | undefined {
    const k = key(peerId);
    const c = this.#byId.get(k);
    if (c === undefined) return undefined;
    const bucket = this.#buckets[this.bucketIndex(c.kadId)];
    bucket.contacts.splice(bucket.contacts.indexOf(c), 1);
    this.#byId.delete(k);
    for (const g of c.ipGroups) {
      dec(bucket.groups, g);
      dec(this.#groups, g);
    }
    if (bucket.pending !== undefined && bucket.pending.old === c) bucket.pending = undefined;
    return c;
  }

  /**
   * Up to `n` contacts closest to a keyspace position, nearest first. Walks buckets from the one
   * sharing the most prefix with `position` outwards, so it touches few buckets.
   */
  closest(position: Uint8Array, n: number): Contact[] {
    const out: Contact[] = [];
    const c = commonPrefixLength(position, this.selfKadId);
    // Bucket c holds contacts that share more than c bits with `position`; every bucket deeper
    // than c shares exactly c bits; bucket j < c shares j bits. Groups are strictly ordered.
    if (c < KEYSPACE_BITS) {
      out.push(...this.#buckets[c].contacts);
      if (out.length < n) {
        for (let j = c + 1; j < KEYSPACE_BITS; j++) out.push(...this.#buckets[j].contacts);
      }
    }
    for (let j = Math.min(c, KEYSPACE_BITS) - 1; j >= 0 && out.length < n; j--) {
      out.push(...this.#buckets[j].contacts);
    }
    out.sort((a, b) => compareDistance(a.kadId, b.kadId, position));
    if (out.length > n) out.length = n;
    return out;
  }

  #diversity(bucket: Bucket, groups: readonly string[]): RejectReason | undefined {
    if (groups.length === 0) return this.#allowPrivate ? undefined : "no-public-address";
    for (const g of groups) {
      if ((this.#groups.get(g) ?? 0) >= this.#maxGroupTable) return "ip-group-table";
      if ((bucket.groups.get(g) ?? 0) >= this.#maxGroupBucket) return "ip-group-bucket";
    }
    return undefined;
  }

  #insert(
    bucket: Bucket,
    peerId: Uint8Array,
    position: Uint8Array,
    addrs: readonly Uint8Array[],
    groups: readonly string[],
    now: number,
  ): Contact {
    const contact: Contact = {
      peerId,
      kadId: position,
      addrs,
      ipGroups: groups,
      lastSeen: now,
      addedAt: now,
    };
    bucket.contacts.push(contact);
    this.#byId.set(key(peerId), contact);
    for (const g of groups) {
      bucket.groups.set(g, (bucket.groups.get(g) ?? 0) + 1);
      this.#groups.set(g, (this.#groups.get(g) ?? 0) + 1);
    }
    return contact;
  }

  #touch(contact: Contact, now: number): void {
    contact.lastSeen = Math.max(contact.lastSeen, now);
    const list = this.#buckets[this.bucketIndex(contact.kadId)].contacts;
    const i = list.indexOf(contact);
    if (i !== list.length - 1) {
      list.splice(i, 1);
      list.push(contact);
    }
  }
}

function key(peerId: Uint8Array): string {
  let s = "";
  for (let i = 0; i < peerId.byteLength; i++) s += String.fromCharCode(peerId[i]);
  return s;
}

function dec(map: Map<string, number>, g: string): void {
  const n = (map.get(g) ?? 1) - 1;
  if (n === 0) map.delete(g);
  else map.set(g, n);
}
