/**
 * The peer discovery contract: a discovery service (bootstrap list, mDNS, rendezvous, ...)
 * is started and stopped with the node and dispatches a `peer` event per peer it finds. The
 * node records the addresses in its peer store (source "discovered"), dispatches
 * `peer:discovery`, and dials discovered peers while it is below its connection target
 * (auto_dialer.ts). js-libp2p's `PeerDiscovery` shape (an event target with `peer` events).
 *
 * @module
 */

import type { Multiaddr } from "../multiaddr/mod.ts";
import type { PeerId } from "../peer_id.ts";
import { TypedEventTarget } from "./events.ts";

/**
 * A peer a discovery service found: its id and the addresses it was found at (possibly none,
 * possibly `/dnsaddr`; a trailing `/p2p/<id>` is allowed). js-libp2p's `PeerInfo`.
 */
export interface DiscoveredPeer {
  /** The peer. */
  readonly id: PeerId;
  /** Where it may be reached. */
  readonly multiaddrs: readonly Multiaddr[];
}

/** Events of a {@link PeerDiscovery} service. */
export interface PeerDiscoveryEvents {
  /** A peer was found (again): the node stores, reports and may dial it. */
  peer: DiscoveredPeer;
}

/**
 * A discovery service. The node calls `start()` after its services started and `stop()`
 * before they stop; between the two the service dispatches `peer` events (a
 * {@link TypedEventTarget} of {@link PeerDiscoveryEvents}, or any EventTarget dispatching
 * CustomEvents named "peer" with a {@link DiscoveredPeer} detail).
 *
 * @example
 * ```ts
 * import { PeerDiscoveryBase } from "@p2p-edge/libp2p";
 * import type { PeerId, Multiaddr } from "@p2p-edge/libp2p";
 * class Fixed extends PeerDiscoveryBase {
 *   constructor(readonly peer: { id: PeerId; multiaddrs: Multiaddr[] }) {
 *     super();
 *   }
 *   start(): void {
 *     queueMicrotask(() => this.dispatch("peer", this.peer));
 *   }
 * }
 * ```
 */
export interface PeerDiscovery extends EventTarget {
  /** Begin finding peers (called by node.start()). */
  start?(): void | Promise<void>;
  /** Stop finding peers and release timers and sockets (called by node.stop()). */
  stop?(): void | Promise<void>;
  /** A name for logs and the CLI, e.g. "bootstrap", "mdns". */
  readonly discoveryName?: string;
}

/**
 * A convenient base class of discovery services: a typed event target of `peer` events.
 *
 * @example
 * ```ts
 * import { PeerDiscoveryBase } from "@p2p-edge/libp2p";
 * const d = new PeerDiscoveryBase();
 * d.addEventListener("peer", (e) => console.log(e.detail.id.toString()));
 * ```
 */
export class PeerDiscoveryBase extends TypedEventTarget<PeerDiscoveryEvents>
  implements PeerDiscovery {}
