/**
 * The STOP side: a relay we hold a reservation with hands us a circuit (`StopMessage CONNECT`);
 * we answer OK and the stream's bytes become an inbound RawConnection, on which we are the
 * responder. A STOP from any other peer is refused with PERMISSION_DENIED (HARDENING.md relay
 * row: "unsolicited STOP refused"; rust does the same, go and js accept it).
 *
 * @module
 */

import type { Stream } from "../../src/connection.ts";
import { multiaddr } from "../../src/multiaddr/mod.ts";
import { peerIdFromBytes } from "../../src/peer_id.ts";
import { limitsFromWire, relayedConnection } from "./dial.ts";
import { Status } from "../../protocols/circuit-relay/mod.ts";
import { readStopConnect } from "./wire.ts";
import type { RelayListener } from "./listener.ts";
import type { ReservationManager } from "./reservations.ts";

/** What the STOP handler needs. */
export interface StopHandlerInit {
  /** Who holds reservations for us. */
  manager: ReservationManager;
  /** The listener by owner id. */
  listener(id: number): RelayListener | undefined;
  /** Deadline of the STOP exchange, ms. */
  timeoutMs: number;
  /** Called with each refused STOP (for stats and tests). */
  onRefused?(relay: string, status: number): void;
}

/**
 * Build the handler of `/libp2p/circuit/relay/0.2.0/stop`.
 *
 * @example
 * ```ts
 * import { stopHandler } from "./stop.ts";
 * import type { ReservationManager } from "./reservations.ts";
 * declare const manager: ReservationManager;
 * const handler = stopHandler({ manager, listener: () => undefined, timeoutMs: 30_000 });
 * ```
 */
export function stopHandler(init: StopHandlerInit): (stream: Stream) => Promise<void> {
  return async (stream: Stream): Promise<void> => {
    const relay = stream.connection.remotePeer;
    const request = await readStopConnect(stream, init.timeoutMs);
    if (request === undefined) {
      init.onRefused?.(relay.toString(), Status.MALFORMED_MESSAGE);
      return;
    }
    const refuse = async (status: number): Promise<void> => {
      init.onRefused?.(relay.toString(), status);
      await request.refuse(status);
    };
    // Only relays that hold a reservation for us may hand us circuits.
    const owner = init.manager.isReservedWith(relay)
      ? init.manager.ownersOf(relay).map((id) => init.listener(id)).find((l) => l !== undefined)
      : undefined;
    if (owner === undefined) return await refuse(Status.PERMISSION_DENIED);
    // The source must be a peer id (Noise then proves who it is, as the initiator).
    try {
      peerIdFromBytes(request.source);
    } catch {
      return await refuse(Status.MALFORMED_MESSAGE);
    }
    const limits = limitsFromWire(request.message.limit);
    const channel = await request.accept();
    // No IP in the remote address: circuits through one relay must not count against the
    // per-IP inbound caps of the relay's own address (connection_manager.ts).
    const remoteAddr = multiaddr(`/p2p/${relay}/p2p-circuit`);
    owner.init.onConnection(relayedConnection(stream, channel, remoteAddr, limits));
  };
}
