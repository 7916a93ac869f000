/**
 * The address manager: which of our addresses we announce. js-libp2p's model and names:
 * `listen` (where transports bind), `announce` (replaces what we announce), `appendAnnounce`
 * (added to it), `noAnnounce` (removed from it); plus the addresses peers observe us at
 * (identify's observedAddr), announced only once enough distinct observers agree (go-libp2p's
 * observed-address rule), and a reachability state a NAT service (AutoNAT) sets.
 *
 * Sans-IO: the node feeds it listening addresses and observations, asks it for the announced
 * set, and gets `onChange` when that set may have changed. Expiry uses the injected clock.
 *
 * @module
 */

import {
  CODE_CERTHASH,
  CODE_IP4,
  CODE_IP6,
  CODE_P2P,
  CODE_P2P_CIRCUIT,
  type Multiaddr,
  multiaddr,
  parseIPv4,
  parseIPv6,
} from "../multiaddr/mod.ts";
import type { PeerId } from "../peer_id.ts";

/** Whether others can dial us: unknown until a NAT service (AutoNAT) decides. */
export type Reachability = "unknown" | "public" | "private";

/** The node's `addresses` option (js-libp2p's shape). */
export interface AddressesOptions {
  /** Addresses to listen on at start. Default none. */
  listen?: readonly (string | Multiaddr)[];
  /** When set, announce exactly these (plus `appendAnnounce`) instead of what we listen on. */
  announce?: readonly (string | Multiaddr)[];
  /** Announce these in addition. */
  appendAnnounce?: readonly (string | Multiaddr)[];
  /** Never announce these (matched without `/p2p/`). */
  noAnnounce?: readonly (string | Multiaddr)[];
  /**
   * Distinct observers (distinct peers in distinct IP groups) that must report an observed
   * address before we announce it. Default {@link OBSERVED_ADDR_CONFIRMATIONS}.
   */
  observedAddrConfirmations?: number;
}

/**
 * Observers needed to confirm an observed address: go-libp2p's `ActivationThresh` (4). One
 * peer, or several peers in one IP group, cannot make us announce an address.
 */
export const OBSERVED_ADDR_CONFIRMATIONS = 4;

/** How long an observation counts, ms (go-libp2p: `OwnObservedAddrTTL`, 30 min). */
export const OBSERVATION_TTL_MS = 30 * 60_000;

/**
 * Candidate observed addresses remembered (the least observed is forgotten beyond it):
 * peers choose what they report, so the table is capped (HARDENING.md rule 4).
 */
export const MAX_OBSERVED_ADDRS = 32;

/** Observer groups remembered per observed address, oldest forgotten (HARDENING.md rule 4). */
export const MAX_OBSERVERS_PER_ADDR = 16;

/** Most addresses in each of listen, announce, appendAnnounce and noAnnounce. */
export const MAX_CONFIGURED_ADDRS = 64;

/**
 * Prefix lengths that make an "IP group" of observers: IPv4 /16 and IPv6 /32, the groups
 * go-libp2p's Kademlia uses for IP diversity. Observers in one group count once.
 */
export const OBSERVER_GROUP_BITS = { ip4: 16, ip6: 32 } as const;

/** Who reported an observation: the peer, and its address as we see it. */
export interface Observer {
  /** The reporting peer. */
  peer: PeerId | string;
  /** Its address on the connection the report came over. */
  remoteAddr: Multiaddr;
}

interface Candidate {
  readonly addr: Multiaddr;
  /** Observer group key -> the peer that reported from it and when. */
  readonly observers: Map<string, { peer: string; seen: number }>;
  /** Confirmed by a NAT service (stays until removed). */
  pinned: boolean;
}

/**
 * Our addresses: configured, listening, observed; what we announce.
 *
 * @example
 * ```ts
 * import { AddressManager } from "@p2p-edge/libp2p";
 * import { multiaddr } from "@p2p-edge/libp2p";
 * const am = new AddressManager({ appendAnnounce: ["/dns4/example.com/tcp/443/wss"] });
 * am.setListening([multiaddr("/ip4/127.0.0.1/tcp/4001")]);
 * am.getAddresses().map(String); // ["/ip4/127.0.0.1/tcp/4001", "/dns4/example.com/tcp/443/wss"]
 * ```
 */
export class AddressManager {
  readonly #listen: readonly Multiaddr[];
  readonly #announce: readonly Multiaddr[];
  readonly #appendAnnounce: readonly Multiaddr[];
  readonly #noAnnounce: ReadonlySet<string>;
  readonly #threshold: number;
  readonly #now: () => number;
  readonly #onChange: () => void;
  #listening: readonly Multiaddr[] = [];
  readonly #observed = new Map<string, Candidate>();
  #reachability: Reachability = "unknown";

  /**
   * `onChange` runs when the announced addresses may have changed or the reachability did;
   * `now` is the clock (ms) for observation expiry.
   */
  constructor(
    options: AddressesOptions = {},
    hooks: { now?: () => number; onChange?: () => void } = {},
  ) {
    this.#listen = parseList(options.listen, "listen");
    this.#announce = parseList(options.announce, "announce");
    this.#appendAnnounce = parseList(options.appendAnnounce, "appendAnnounce");
    this.#noAnnounce = new Set(parseList(options.noAnnounce, "noAnnounce").map(key));
    const threshold = options.observedAddrConfirmations ?? OBSERVED_ADDR_CONFIRMATIONS;
    if (!Number.isInteger(threshold) || threshold < 1 || threshold > MAX_OBSERVERS_PER_ADDR) {
      throw new RangeError(
        `observedAddrConfirmations must be an integer from 1 to ${MAX_OBSERVERS_PER_ADDR}`,
      );
    }
    this.#threshold = threshold;
    this.#now = hooks.now ?? Date.now;
    this.#onChange = hooks.onChange ?? (() => {});
  }

  /** The configured listen addresses. */
  getListenAddrs(): Multiaddr[] {
    return [...this.#listen];
  }

  /** The configured announce addresses. */
  getAnnounceAddrs(): Multiaddr[] {
    return [...this.#announce];
  }

  /** The configured appendAnnounce addresses. */
  getAppendAnnounceAddrs(): Multiaddr[] {
    return [...this.#appendAnnounce];
  }

  /** The configured noAnnounce addresses. */
  getNoAnnounceAddrs(): Multiaddr[] {
    return [...this.#noAnnounce].map((text) => multiaddr(text));
  }

  /** What the listeners actually bound (ports resolved); the node sets it. */
  getListeningAddrs(): Multiaddr[] {
    return [...this.#listening];
  }

  /** @internal The node reports what its listeners bound (after start, and [] on stop). */
  setListening(addrs: readonly Multiaddr[]): void {
    this.#listening = [...addrs];
    this.#onChange();
  }

  /** Whether others can dial us, as a NAT service last decided. */
  get reachability(): Reachability {
    return this.#reachability;
  }

  /** Set by a NAT service (AutoNAT); the node emits `self:reachability` on a change. */
  setReachability(reachability: Reachability): void {
    if (reachability !== "unknown" && reachability !== "public" && reachability !== "private") {
      throw new TypeError(`unknown reachability ${String(reachability)}`);
    }
    if (reachability === this.#reachability) return;
    this.#reachability = reachability;
    this.#onChange();
  }

  /**
   * Record that `observer` sees us at `addr` (identify's observedAddr). Ignored unless `addr`
   * has the shape of an address we listen on (same protocols, e.g. ip/tcp), and for relayed
   * addresses. Returns true when this observation confirmed the address (announced from now).
   * Over a connection we dialled, peers see our ephemeral source port (unless the transport
   * reuses the listen port); such addresses rarely collect enough observers and are the first
   * forgotten.
   */
  addObservedAddr(addr: Multiaddr, observer: Observer): boolean {
    const bare = stripPeer(addr);
    if (bare.protoCodes().includes(CODE_P2P_CIRCUIT) || !this.#matchesListening(bare)) {
      return false;
    }
    const now = this.#now();
    this.#expire(now);
    const text = bare.toString();
    let candidate = this.#observed.get(text);
    if (candidate === undefined) {
      if (this.#observed.size >= MAX_OBSERVED_ADDRS) this.#forgetLeastObserved();
      candidate = { addr: bare, observers: new Map(), pinned: false };
      this.#observed.set(text, candidate);
    }
    const before = this.#confirmed(candidate);
    const peer = observer.peer.toString();
    // One peer counts once: its newest report wins.
    for (const [group, o] of candidate.observers) {
      if (o.peer === peer) candidate.observers.delete(group);
    }
    const group = observerGroup(observer.remoteAddr, peer);
    candidate.observers.delete(group);
    candidate.observers.set(group, { peer, seen: now });
    while (candidate.observers.size > MAX_OBSERVERS_PER_ADDR) {
      candidate.observers.delete(candidate.observers.keys().next().value as string);
    }
    const confirmed = !before && this.#confirmed(candidate);
    if (confirmed) this.#onChange();
    return confirmed;
  }

  /** A NAT service proved `addr` dialable: announce it (until removed). */
  confirmObservedAddr(addr: Multiaddr): void {
    const bare = stripPeer(addr);
    const text = bare.toString();
    let candidate = this.#observed.get(text);
    if (candidate === undefined) {
      if (this.#observed.size >= MAX_OBSERVED_ADDRS) this.#forgetLeastObserved();
      candidate = { addr: bare, observers: new Map(), pinned: false };
      this.#observed.set(text, candidate);
    }
    if (candidate.pinned) return;
    candidate.pinned = true;
    this.#onChange();
  }

  /** A NAT service found `addr` not dialable: forget it and its observations. */
  removeObservedAddr(addr: Multiaddr): void {
    if (this.#observed.delete(stripPeer(addr).toString())) this.#onChange();
  }

  /** Observed addresses: every candidate, with whether it is confirmed and by how many. */
  getObservedAddrs(): { multiaddr: Multiaddr; confirmed: boolean; observers: number }[] {
    this.#expire(this.#now());
    return [...this.#observed.values()].map((c) => ({
      multiaddr: c.addr,
      confirmed: this.#confirmed(c),
      observers: c.observers.size,
    }));
  }

  /**
   * The addresses we announce (without `/p2p/`): `announce` when set, else the listening
   * addresses and the confirmed observed ones; then `appendAnnounce`; minus `noAnnounce`;
   * without duplicates.
   */
  getAddresses(): Multiaddr[] {
    this.#expire(this.#now());
    const base = this.#announce.length > 0 ? [...this.#announce] : [
      ...this.#listening,
      ...[...this.#observed.values()].filter((c) => this.#confirmed(c)).map((c) => c.addr),
    ];
    const out: Multiaddr[] = [];
    const seen = new Set<string>();
    for (const a of [...base, ...this.#appendAnnounce]) {
      const bare = stripPeer(a);
      const text = bare.toString();
      if (seen.has(text) || this.#noAnnounce.has(text)) continue;
      seen.add(text);
      out.push(bare);
    }
    return out;
  }

  #confirmed(c: Candidate): boolean {
    return c.pinned || c.observers.size >= this.#threshold;
  }

  /** Drop observations older than {@link OBSERVATION_TTL_MS}, and candidates left empty. */
  #expire(now: number): void {
    let changed = false;
    for (const [text, c] of this.#observed) {
      const was = this.#confirmed(c);
      for (const [group, o] of c.observers) {
        if (now - o.seen >= OBSERVATION_TTL_MS) c.observers.delete(group);
      }
      if (was && !this.#confirmed(c)) changed = true;
      if (c.observers.size === 0 && !c.pinned) this.#observed.delete(text);
    }
    if (changed) this.#onChange();
  }

  #forgetLeastObserved(): void {
    let victim: string | undefined;
    let fewest = Infinity;
    for (const [text, c] of this.#observed) {
      if (c.pinned) continue;
      if (c.observers.size < fewest) {
        victim = text;
        fewest = c.observers.size;
      }
    }
    if (victim !== undefined) this.#observed.delete(victim);
  }

  /** Whether `addr` has the protocols (not values) of one of our listening addresses. */
  #matchesListening(addr: Multiaddr): boolean {
    const shape = shapeOf(addr);
    return this.#listening.some((l) => shapeOf(l) === shape);
  }
}

function parseList(
  list: readonly (string | Multiaddr)[] | undefined,
  name: string,
): readonly Multiaddr[] {
  if (list === undefined) return [];
  if (list.length > MAX_CONFIGURED_ADDRS) {
    throw new RangeError(`at most ${MAX_CONFIGURED_ADDRS} ${name} addresses`);
  }
  return list.map((a) => typeof a === "string" ? multiaddr(a) : a);
}

function stripPeer(addr: Multiaddr): Multiaddr {
  const codes = addr.protoCodes();
  return codes[codes.length - 1] === CODE_P2P ? addr.decapsulateCode(CODE_P2P) : addr;
}

function key(addr: Multiaddr): string {
  return stripPeer(addr).toString();
}

/** The protocol codes of `addr`, without `/p2p` and `/certhash` (which vary per node). */
function shapeOf(addr: Multiaddr): string {
  return addr.protoCodes().filter((c) => c !== CODE_P2P && c !== CODE_CERTHASH).join("/");
}

/**
 * The IP group of an observer (see {@link OBSERVER_GROUP_BITS}); an observer without an IP
 * address (memory transport, unix socket) is a group of its own peer.
 */
function observerGroup(addr: Multiaddr, peer: string): string {
  const first = addr.components()[0];
  if (first?.code === CODE_IP4 && first.value !== undefined) {
    const bytes = parseIPv4(first.value);
    if (bytes !== undefined) return `ip4:${prefix(bytes, OBSERVER_GROUP_BITS.ip4)}`;
  }
  if (first?.code === CODE_IP6 && first.value !== undefined) {
    const bytes = parseIPv6(first.value);
    if (bytes !== undefined) return `ip6:${prefix(bytes, OBSERVER_GROUP_BITS.ip6)}`;
  }
  return `peer:${peer}`;
}

function prefix(bytes: Uint8Array, bits: number): string {
  return Array.from(bytes.subarray(0, bits / 8)).join(".");
}
