/**
 * Thin wiring of peer discovery into the node: listens to the discovery services' `peer`
 * events (and to {@link DiscoveryManager.report} from other services), stores the addresses
 * with source "discovered", dispatches the node's `peer:discovery`, and runs the
 * {@link AutoDialer} decisions with one timer. The decisions themselves are in
 * auto_dialer.ts (sans-IO).
 *
 * @module
 */

import { isMultiaddr, type Multiaddr, withoutPeerId } from "../multiaddr/mod.ts";
import { PeerId } from "../peer_id.ts";
import type { AbortOptions } from "../stream/types.ts";
import { AutoDialer, type AutoDialerOptions } from "./auto_dialer.ts";
import type { DiscoveredPeer, PeerDiscovery } from "./discovery.ts";
import type { NodeEventMap, TypedEventTarget } from "./events.ts";
import type { PeerStore } from "./peer_store.ts";

/**
 * Addresses taken from one discovery report; the rest are ignored (the peer store keeps 32
 * per peer by default; HARDENING.md rule 4).
 */
export const MAX_DISCOVERED_ADDRS = 32;

/** What the manager needs of the node (a narrow view: no import of node.ts, no cycle). */
export interface DiscoveryHost extends TypedEventTarget<NodeEventMap> {
  /** Our id (reports of ourselves are ignored). */
  readonly peerId: PeerId;
  /** Where discovered addresses are stored. */
  readonly peerStore: PeerStore;
  /** "started" while discovery runs. */
  readonly status: string;
  /** Open connections. */
  getConnections(peer?: PeerId): readonly unknown[];
  /** Dial a peer by id (addresses from the peer store). */
  dial(peer: PeerId, options?: AbortOptions): Promise<unknown>;
}

/** Counters of discovery ({@link DiscoveryManager.stats}). */
export interface DiscoveryStats {
  /** Reports accepted (stored and dispatched as `peer:discovery`). */
  discovered: number;
  /** Reports dropped (ourselves, no valid peer id, node not started). */
  dropped: number;
  /** Discovery dials started, and how many of them failed. */
  dials: number;
  /** Discovery dials that failed. */
  dialFailures: number;
  /** Candidates queued, dials in flight, peers backing off. */
  queued: number;
  /** Dials in flight. */
  inFlight: number;
  /** Peers backing off after a failed dial. */
  backingOff: number;
}

/**
 * Runs the node's discovery services and its auto-dialler.
 *
 * @example
 * ```ts
 * import { createNode, PeerDiscoveryBase } from "@p2p-edge/libp2p";
 * import { memory } from "@p2p-edge/libp2p/transports/memory";
 * import { noise } from "@p2p-edge/libp2p/protocols/noise";
 * import { yamux } from "@p2p-edge/libp2p/protocols/yamux";
 * const node = await createNode({
 *   transports: [memory()],
 *   connectionEncrypters: [noise()],
 *   streamMuxers: [yamux()],
 *   peerDiscovery: [() => new PeerDiscoveryBase()],
 * });
 * node.addEventListener("peer:discovery", (e) => console.log(e.detail.id.toString()));
 * console.log(node.discovery.stats().discovered); // 0
 * await node.stop();
 * ```
 */
export class DiscoveryManager {
  readonly #host: DiscoveryHost;
  readonly #services: readonly PeerDiscovery[];
  readonly #auto: AutoDialer<PeerId>;
  readonly #now: () => number;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #timerAt = Infinity;
  #running = false;
  #discovered = 0;
  #dropped = 0;
  #dials = 0;
  #dialFailures = 0;

  /** Wire `services` to `host`; nothing happens before {@link start}. */
  constructor(
    host: DiscoveryHost,
    services: readonly PeerDiscovery[],
    options: AutoDialerOptions = {},
    now: () => number = Date.now,
  ) {
    this.#host = host;
    this.#services = services;
    this.#auto = new AutoDialer<PeerId>(options);
    this.#now = now;
  }

  /** The connection target (`connectionManager.minConnections`): below it, peers are dialled. */
  get minConnections(): number {
    return this.#auto.minConnections;
  }

  /** The discovery services, in configuration order. */
  get services(): readonly PeerDiscovery[] {
    return this.#services;
  }

  /** Start the services and listen to them (node.start(), after the node's services). */
  async start(): Promise<void> {
    if (this.#running) return;
    this.#running = true;
    this.#host.addEventListener("peer:connect", this.#onConnect);
    this.#host.addEventListener("peer:disconnect", this.#onDisconnect);
    for (const s of this.#services) {
      s.addEventListener("peer", this.#onPeer);
      await s.start?.();
    }
  }

  /** Stop the services and the auto-dialler (node.stop(), before the node's services). */
  async stop(): Promise<void> {
    if (!this.#running) return;
    this.#running = false;
    this.#host.removeEventListener("peer:connect", this.#onConnect);
    this.#host.removeEventListener("peer:disconnect", this.#onDisconnect);
    for (const s of [...this.#services].reverse()) {
      s.removeEventListener("peer", this.#onPeer);
      try {
        await s.stop?.();
      } catch { /* a failing service must not block shutdown */ }
    }
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#timerAt = Infinity;
    this.#auto.clear();
  }

  /**
   * Report a discovered peer (for services that are not in `peerDiscovery`, e.g. a rendezvous
   * client): the same path as a discovery service's `peer` event. At most
   * {@link MAX_DISCOVERED_ADDRS} addresses are taken; ones naming another peer are dropped and a
   * trailing `/p2p/<id>` is removed before storing. Resolves when the peer store has them.
   */
  async report(peer: DiscoveredPeer): Promise<void> {
    const id = peer?.id;
    if (!this.#running || !(id instanceof PeerId) || id.equals(this.#host.peerId)) {
      this.#dropped++;
      return;
    }
    const key = id.toString();
    const multiaddrs: Multiaddr[] = [];
    for (const ma of Array.isArray(peer.multiaddrs) ? peer.multiaddrs : []) {
      if (multiaddrs.length >= MAX_DISCOVERED_ADDRS) break;
      if (!isMultiaddr(ma)) continue;
      const named = ma.getPeerId();
      if (named !== undefined && named !== key) continue;
      multiaddrs.push(ma);
    }
    if (multiaddrs.length > 0) {
      try {
        await this.#host.peerStore.merge(id, {
          addresses: multiaddrs.map((ma) => withoutPeerId(ma)),
          addressSource: "discovered",
        });
      } catch { /* a full or failing store: the event still tells the application */ }
    }
    if (!this.#running) return;
    this.#discovered++;
    this.#host.dispatch("peer:discovery", { id, multiaddrs });
    if (multiaddrs.length === 0 && !(await this.#hasAddresses(id))) return;
    if (this.#host.getConnections(id).length > 0) return;
    this.#auto.offer(key, id);
    this.#pump();
  }

  /** Counters (tests, the CLI). */
  stats(): DiscoveryStats {
    return {
      discovered: this.#discovered,
      dropped: this.#dropped,
      dials: this.#dials,
      dialFailures: this.#dialFailures,
      ...this.#auto.stats(),
    };
  }

  async #hasAddresses(id: PeerId): Promise<boolean> {
    try {
      return ((await this.#host.peerStore.get(id))?.addresses.length ?? 0) > 0;
    } catch {
      return false;
    }
  }

  readonly #onPeer = (e: Event): void => {
    this.report((e as CustomEvent<DiscoveredPeer>).detail).catch(() => {});
  };

  readonly #onConnect = (e: CustomEvent<PeerId>): void => {
    this.#auto.connected(e.detail.toString());
  };

  readonly #onDisconnect = (): void => {
    this.#pump();
  };

  /** Ask the machine what to dial now; arm the timer for its next wake-up. */
  #pump(): void {
    if (!this.#running || this.#host.status !== "started") return;
    const now = this.#now();
    const plan = this.#auto.next(now, {
      connections: this.#host.getConnections().length,
      isConnected: (key) => this.#connectedKey(key),
    });
    for (const id of plan.dial) {
      this.#dials++;
      const key = id.toString();
      this.#host.dial(id).then(
        () => this.#auto.dialDone(key, true, this.#now()),
        () => {
          this.#dialFailures++;
          this.#auto.dialDone(key, false, this.#now());
        },
      ).finally(() => this.#pump());
    }
    if (plan.wakeAt !== undefined && plan.wakeAt < this.#timerAt) {
      clearTimeout(this.#timer);
      this.#timerAt = plan.wakeAt;
      this.#timer = setTimeout(() => {
        this.#timer = undefined;
        this.#timerAt = Infinity;
        this.#pump();
      }, Math.max(0, plan.wakeAt - now));
    }
  }

  #connectedKey(key: string): boolean {
    return this.#host.getConnections().some((c) =>
      (c as { remotePeer?: PeerId }).remotePeer?.toString() === key
    );
  }
}
