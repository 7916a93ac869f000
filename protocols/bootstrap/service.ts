/**
 * The bootstrap discovery service: a fixed list of peers, reported (`peer` events, so the node
 * stores them and dispatches `peer:discovery`), tagged (so pruning closes them last) and
 * dialled at start and again whenever the node is below its connection target
 * (schedule.ts decides when). Reference: js-libp2p `@libp2p/bootstrap` (the list, the 1 s
 * delay, the `bootstrap`=50 tag).
 *
 * @module
 */

import type { Libp2pNode, PeerDiscoveryFactory } from "../../src/node/node.ts";
import { PeerDiscoveryBase } from "../../src/node/discovery.ts";
import {
  CODE_DNSADDR,
  isMultiaddr,
  type Multiaddr,
  multiaddr,
  withoutPeerId,
} from "../../src/multiaddr/mod.ts";
import { type PeerId, peerIdFromString } from "../../src/peer_id.ts";
import { BootstrapSchedule, type BootstrapScheduleOptions } from "./schedule.ts";

/** Default tag name of bootstrap peers (js-libp2p's). */
export const DEFAULT_BOOTSTRAP_TAG_NAME = "bootstrap";
/** Default tag value of bootstrap peers (js-libp2p's: 50 of the 0-100 scale). */
export const DEFAULT_BOOTSTRAP_TAG_VALUE = 50;
/** Most list entries accepted (HARDENING.md rule 4). */
export const MAX_BOOTSTRAP_ENTRIES = 256;
/** Most peers one round reports and dials (a dnsaddr may name many; rule 4). */
export const MAX_BOOTSTRAP_PEERS_PER_ROUND = 64;
/** How often a node at its target checks whether it fell below, ms (besides disconnects). */
export const BOOTSTRAP_CHECK_MS = 1_000;
/** Bootstrap dials in flight at once (no dial storm at start; rule 4). */
export const BOOTSTRAP_DIAL_CONCURRENCY = 4;

/** Options of {@link bootstrap}. */
export interface BootstrapInit extends BootstrapScheduleOptions {
  /**
   * The peers: multiaddrs ending in `/p2p/<id>` (any transport, `/dnsaddr/<host>/p2p/<id>`
   * too), or `/dnsaddr/<host>` alone, whose TXT records name the peers (resolved each round).
   */
  list: readonly (string | Multiaddr)[];
  /** Delay of the first round after start, ms (js-libp2p's `timeout`). Default 1000. */
  timeoutMs?: number;
  /** Tag set on bootstrap peers. Default "bootstrap". */
  tagName?: string;
  /** Value of the tag (0 to 1000; higher is pruned later). Default 50. */
  tagValue?: number;
  /** Lifetime of the tag in the peer store, ms. Default: no expiry. */
  tagTtlMs?: number;
}

/** Counters of the bootstrap service. */
export interface BootstrapStats {
  /** Rounds run. */
  rounds: number;
  /** Peers reported (over all rounds). */
  reported: number;
  /** Dials started. */
  dials: number;
  /** Dials that failed. */
  dialFailures: number;
  /** dnsaddr entries that could not be resolved (over all rounds). */
  resolveFailures: number;
}

interface Entry {
  readonly ma: Multiaddr;
  readonly id?: PeerId;
}

/**
 * The bootstrap service (built by {@link bootstrap}).
 *
 * @example
 * ```ts
 * import { createNode } from "@p2p-edge/libp2p";
 * import { bootstrap } from "@p2p-edge/libp2p/protocols/bootstrap";
 * import { tcp } from "@p2p-edge/libp2p/transports/tcp";
 * import { noise } from "@p2p-edge/libp2p/protocols/noise";
 * import { yamux } from "@p2p-edge/libp2p/protocols/yamux";
 * const node = await createNode({
 *   transports: [tcp()],
 *   connectionEncrypters: [noise()],
 *   streamMuxers: [yamux()],
 *   peerDiscovery: [bootstrap({ list: ["/dnsaddr/bootstrap.libp2p.io"] })],
 * });
 * ```
 */
export class Bootstrap extends PeerDiscoveryBase {
  /** For logs and the CLI. */
  readonly discoveryName = "bootstrap";
  readonly #node: Libp2pNode;
  readonly #entries: readonly Entry[];
  readonly #schedule: BootstrapSchedule;
  readonly #tagName: string;
  readonly #tagValue: number;
  readonly #tagTtlMs: number | undefined;
  readonly #now: () => number;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #lifetime: AbortController | undefined;
  /** Peers of the list (ids as text), to tell whether one is connected. */
  readonly #known = new Set<string>();
  readonly #stats: BootstrapStats = {
    rounds: 0,
    reported: 0,
    dials: 0,
    dialFailures: 0,
    resolveFailures: 0,
  };

  /** Validate the list (TypeError when empty or an entry names no peer and is no dnsaddr). */
  constructor(node: Libp2pNode, init: BootstrapInit, now: () => number = Date.now) {
    super();
    this.#entries = parseList(init?.list);
    for (const e of this.#entries) if (e.id !== undefined) this.#known.add(e.id.toString());
    const tagValue = init.tagValue ?? DEFAULT_BOOTSTRAP_TAG_VALUE;
    if (!Number.isInteger(tagValue) || tagValue < 0 || tagValue > 1000) {
      throw new RangeError("tagValue must be an integer from 0 to 1000");
    }
    this.#node = node;
    this.#tagName = init.tagName ?? DEFAULT_BOOTSTRAP_TAG_NAME;
    this.#tagValue = tagValue;
    this.#tagTtlMs = init.tagTtlMs;
    this.#schedule = new BootstrapSchedule({ ...init, delayMs: init.timeoutMs ?? init.delayMs });
    this.#now = now;
  }

  /** Counters (tests, the CLI). */
  stats(): BootstrapStats {
    return { ...this.#stats };
  }

  /** Arm the first round (after `timeoutMs`) and watch for disconnects. */
  start(): void {
    if (this.#lifetime !== undefined) return;
    this.#lifetime = new AbortController();
    this.#schedule.start(this.#now());
    this.#node.addEventListener("peer:disconnect", this.#onDisconnect);
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#tick();
    }, Math.max(0, this.#schedule.nextAt() - this.#now()));
  }

  /** Stop: no more rounds; a round in progress ends its resolutions and reports nothing more. */
  stop(): void {
    this.#node.removeEventListener("peer:disconnect", this.#onDisconnect);
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#lifetime?.abort();
    this.#lifetime = undefined;
  }

  readonly #onDisconnect = (): void => this.#tick();

  #belowTarget(): boolean {
    return this.#node.getConnections().length < Math.max(1, this.#node.discovery.minConnections);
  }

  #arm(): void {
    if (this.#lifetime === undefined) return;
    clearTimeout(this.#timer);
    const now = this.#now();
    const next = this.#schedule.nextAt();
    // Time for a round but at or above the target: look again a little later (cheap, no
    // round runs; a disconnect also looks at once).
    const at = next > now ? next : now + BOOTSTRAP_CHECK_MS;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#tick();
    }, Math.max(0, at - now));
  }

  #tick(): void {
    const lifetime = this.#lifetime;
    if (lifetime === undefined) return;
    const now = this.#now();
    if (!this.#schedule.due(now, this.#belowTarget())) {
      this.#arm();
      return;
    }
    this.#schedule.roundStarted(now);
    this.#round(lifetime.signal).catch(() => {}).finally(() => {
      this.#schedule.roundDone(this.#anyConnected());
      this.#arm();
    });
  }

  #anyConnected(): boolean {
    return this.#node.getConnections().some((c) => this.#known.has(c.remotePeer.toString()));
  }

  /** One round: resolve dnsaddr entries, report and tag every peer, dial the unconnected. */
  async #round(signal: AbortSignal): Promise<void> {
    this.#stats.rounds++;
    const peers = new Map<string, { id: PeerId; multiaddrs: Multiaddr[] }>();
    const add = (id: PeerId, ma: Multiaddr): void => {
      if (id.equals(this.#node.peerId)) return;
      const key = id.toString();
      let p = peers.get(key);
      if (p === undefined) {
        if (peers.size >= MAX_BOOTSTRAP_PEERS_PER_ROUND) return;
        p = { id, multiaddrs: [] };
        peers.set(key, p);
      }
      if (!p.multiaddrs.some((m) => m.equals(ma))) p.multiaddrs.push(ma);
    };
    for (const e of this.#entries) {
      if (e.id !== undefined) {
        add(e.id, e.ma);
        continue;
      }
      try {
        for (const r of await this.#node.resolveMultiaddr(e.ma, { signal })) {
          const text = r.getPeerId();
          if (text === undefined) continue;
          const id = peerIdFromString(text);
          this.#known.add(text);
          add(id, r);
        }
      } catch {
        if (signal.aborted) return;
        this.#stats.resolveFailures++;
      }
    }
    const toDial: PeerId[] = [];
    for (const { id, multiaddrs } of peers.values()) {
      try {
        await this.#node.peerStore.merge(id, {
          addresses: multiaddrs.map((m) => withoutPeerId(m)),
          addressSource: "discovered",
          tags: { [this.#tagName]: { value: this.#tagValue, ttlMs: this.#tagTtlMs } },
        });
      } catch { /* a full store: the dial below may still find the address */ }
      if (signal.aborted) return;
      this.#node.tagPeer(id, this.#tagName, this.#tagValue);
      this.#stats.reported++;
      this.dispatch("peer", { id, multiaddrs });
      if (this.#node.getConnections(id).length === 0) toDial.push(id);
    }
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < toDial.length && !signal.aborted && this.#node.status === "started") {
        const id = toDial[next++];
        if (this.#node.getConnections(id).length > 0) continue;
        this.#stats.dials++;
        try {
          await this.#node.dial(id, { signal });
        } catch {
          this.#stats.dialFailures++;
        }
      }
    };
    await Promise.all(
      Array.from({ length: Math.min(BOOTSTRAP_DIAL_CONCURRENCY, toDial.length) }, worker),
    );
  }
}

/**
 * Bootstrap discovery, for `createNode({ peerDiscovery: [bootstrap({ list })] })`
 * (js-libp2p's name and options).
 *
 * @example
 * ```ts
 * import { bootstrap } from "@p2p-edge/libp2p/protocols/bootstrap";
 * const discovery = bootstrap({
 *   list: ["/ip4/192.0.2.1/tcp/4001/p2p/QmNnooDu7bfjPFoTZYxMNLWUQJyrVwtbZg5gBMjTezGAJN"],
 *   timeoutMs: 500,
 * });
 * ```
 */
export function bootstrap(init: BootstrapInit): PeerDiscoveryFactory {
  parseList(init?.list); // a bad list fails where it is written, not at node creation
  return (node) => new Bootstrap(node, init);
}

function parseList(list: unknown): Entry[] {
  if (!Array.isArray(list) || list.length === 0) {
    throw new TypeError("bootstrap requires a non-empty list of peer addresses");
  }
  if (list.length > MAX_BOOTSTRAP_ENTRIES) {
    throw new RangeError(`at most ${MAX_BOOTSTRAP_ENTRIES} bootstrap entries`);
  }
  return list.map((item) => {
    const ma = isMultiaddr(item) ? item : multiaddr(String(item));
    const text = ma.getPeerId();
    if (text !== undefined) return { ma, id: peerIdFromString(text) };
    if (ma.protoCodes()[0] === CODE_DNSADDR) return { ma };
    throw new TypeError(
      `bootstrap entry ${ma} names no peer: end it with /p2p/<id>, or use /dnsaddr/<host>`,
    );
  });
}
