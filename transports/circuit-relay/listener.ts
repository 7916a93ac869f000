/**
 * A circuit relay listener: `<relay>/p2p/<relay id>/p2p-circuit` holds a reservation on that relay,
 * `/p2p-circuit` on relays picked among connected peers that speak HOP. `listen` never waits for
 * a relay (js-libp2p #3601: start() throws when the relay is down); the addresses appear in
 * {@link RelayListener.getAddrs} once a reservation is granted, and the node is told through
 * `onAddrsChange`.
 *
 * @module
 */

import type { Multiaddr } from "../../src/multiaddr/mod.ts";
import type { Listener, ListenerInit } from "../../src/transport.ts";
import { parseCircuitAddr } from "./dial.ts";
import type { ReservationManager } from "./reservations.ts";

/**
 * Whether `addr` is something the relay transport listens on: `/p2p-circuit` alone, or a relay
 * address with its id followed by `/p2p-circuit`.
 *
 * @example
 * ```ts
 * import { isCircuitListenAddr } from "@p2p-edge/libp2p/transports/circuit-relay";
 * import { multiaddr } from "@p2p-edge/libp2p";
 * isCircuitListenAddr(multiaddr("/p2p-circuit")); // true
 * ```
 */
export function isCircuitListenAddr(addr: Multiaddr): boolean {
  if (addr.toString() === "/p2p-circuit") return true;
  const parsed = parseCircuitAddr(addr);
  return parsed !== undefined && parsed.target === undefined;
}

/**
 * One listener; it owns the reservations made for it (its id is the manager's owner).
 *
 * @example
 * ```ts
 * import type { RelayListener } from "@p2p-edge/libp2p/transports/circuit-relay";
 * function count(l: RelayListener): number { return l.getAddrs().length; }
 * ```
 */
export class RelayListener implements Listener {
  /** The manager's owner id of this listener. */
  readonly id: number;
  /** What the node gave us: where relayed connections go. */
  readonly init: ListenerInit;
  readonly #manager: ReservationManager;
  readonly #discoverRelays: number;
  readonly #onClose: (l: RelayListener) => void;
  #listening = false;
  #last = "";

  /** A listener for `init`, reserving through `manager`. */
  constructor(
    id: number,
    init: ListenerInit,
    manager: ReservationManager,
    discoverRelays: number,
    onClose: (l: RelayListener) => void,
  ) {
    this.id = id;
    this.init = init;
    this.#manager = manager;
    this.#discoverRelays = discoverRelays;
    this.#onClose = onClose;
  }

  /** Start holding reservations for `addr`; resolves at once (reserving goes on in the background). */
  listen(addr: Multiaddr): Promise<void> {
    if (this.#listening) return Promise.reject(new TypeError("the listener listens already"));
    if (addr.toString() === "/p2p-circuit") {
      this.#listening = true;
      this.#manager.want(this.id, this.#discoverRelays);
      return Promise.resolve();
    }
    const parsed = parseCircuitAddr(addr);
    if (parsed === undefined || parsed.target !== undefined) {
      return Promise.reject(new TypeError(`not a circuit listen address: ${addr.toString()}`));
    }
    this.#listening = true;
    this.#manager.add(this.id, {
      peer: parsed.relay,
      addr: parsed.relayAddr,
      discovered: false,
    });
    return Promise.resolve();
  }

  /** Our relayed addresses: `<relay addr>/p2p/<relay>/p2p-circuit` per reservation. */
  getAddrs(): Multiaddr[] {
    return this.#manager.reservationsOf(this.id).flatMap(({ relay, reservation }) =>
      reservation.addrs.map((a) => a.encapsulate(`/p2p/${relay}/p2p-circuit`))
    );
  }

  /** The reservations changed: tell the node when our addresses did. */
  changed(): void {
    const now = this.getAddrs().map(String).join(" ");
    if (now === this.#last) return;
    this.#last = now;
    this.init.onAddrsChange?.();
  }

  /** Stop: drop our reservations (the relay forgets them when they expire). */
  close(): Promise<void> {
    if (this.#listening) {
      this.#listening = false;
      this.#manager.removeOwner(this.id);
    }
    this.#onClose(this);
    return Promise.resolve();
  }
}
