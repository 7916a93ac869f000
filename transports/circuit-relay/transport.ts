/**
 * The circuit relay v2 client transport: wires the reservation manager, the listeners, the STOP
 * handler and circuit dialling to the node (the only file here that touches the node's
 * registrar, topologies and events).
 *
 * @module
 */

import type { Connection } from "../../src/connection.ts";
import { Libp2pError } from "../../src/errors.ts";
import type { Libp2pNode } from "../../src/node/node.ts";
import { type Multiaddr, multiaddr } from "../../src/multiaddr/mod.ts";
import type { PeerId } from "../../src/peer_id.ts";
import type { AbortOptions } from "../../src/stream/types.ts";
import type { Listener, ListenerInit, RawConnection, Transport } from "../../src/transport.ts";
import { type RelayClock, systemClock } from "./clock.ts";
import {
  DEFAULT_DISCOVER_RELAYS,
  HOP_TIMEOUT_MS,
  MAX_INBOUND_STOP_STREAMS,
  MAX_RESERVATION_ADDRS,
  RELAY_HOP_PROTOCOL,
  RELAY_PROTECT_TAG,
  RELAY_STOP_PROTOCOL,
  STOP_TIMEOUT_MS,
} from "./constants.ts";
import { checkNotRelayed, dialCircuit, limitsFromWire, parseCircuitAddr } from "./dial.ts";
import { isCircuitListenAddr, RelayListener } from "./listener.ts";
import {
  type RelayEntryState,
  type RelayTarget,
  type ReservationInfo,
  ReservationManager,
} from "./reservations.ts";
import { stopHandler } from "./stop.ts";
import { hopReserve } from "./wire.ts";

/** Options of {@link circuitRelayTransport}. */
export interface CircuitRelayTransportOptions {
  /** Relays a `/p2p-circuit` listener reserves on. Default 2 (go's desiredRelays). */
  discoverRelays?: number;
  /** Deadline of one HOP exchange (RESERVE, CONNECT), ms. Default 30 s. */
  hopTimeoutMs?: number;
  /** Deadline of one STOP exchange, ms. Default 30 s. */
  stopTimeoutMs?: number;
  /** Time and timers (renewals, backoff). Default: the system clock. */
  clock?: RelayClock;
}

/**
 * The relay client's view, for stats and tests.
 *
 * @example
 * ```ts
 * import type { CircuitRelayClient } from "@p2p-edge/libp2p/transports/circuit-relay";
 * function reserved(t: CircuitRelayClient): number {
 *   return t.relays().filter((r) => r.state === "reserved").length;
 * }
 * ```
 */
export interface CircuitRelayClient extends Transport {
  /** Every relay we hold or seek a reservation with. */
  relays(): RelayEntryState[];
  /** STOP requests refused so far (from relays without our reservation, or malformed). */
  readonly refusedStops: number;
}

/** The transport; built by {@link circuitRelayTransport} with the node. */
export class CircuitRelayTransport implements CircuitRelayClient {
  /** A short name for logs. */
  readonly name = "circuit-relay";
  readonly #node: Libp2pNode;
  readonly #clock: RelayClock;
  readonly #manager: ReservationManager;
  readonly #listeners = new Map<number, RelayListener>();
  readonly #discoverRelays: number;
  readonly #hopTimeoutMs: number;
  readonly #stopTimeoutMs: number;
  #nextListener = 0;
  #topology: string | undefined;
  #refusedStops = 0;
  readonly #onConnectionClose = (e: CustomEvent<Connection>): void =>
    this.#manager.connectionClosed(e.detail.id);

  /** Prefer {@link circuitRelayTransport}. */
  constructor(node: Libp2pNode, options: CircuitRelayTransportOptions = {}) {
    const discover = options.discoverRelays ?? DEFAULT_DISCOVER_RELAYS;
    if (!Number.isInteger(discover) || discover < 1 || discover > 16) {
      throw new RangeError("discoverRelays must be an integer from 1 to 16");
    }
    this.#node = node;
    this.#clock = options.clock ?? systemClock;
    this.#discoverRelays = discover;
    this.#hopTimeoutMs = options.hopTimeoutMs ?? HOP_TIMEOUT_MS;
    this.#stopTimeoutMs = options.stopTimeoutMs ?? STOP_TIMEOUT_MS;
    this.#manager = new ReservationManager({
      clock: this.#clock,
      reserve: (target, signal) => this.#reserve(target, signal),
      onChange: () => {
        for (const l of this.#listeners.values()) l.changed();
      },
      onReserved: (peer) => node.protect(peer, RELAY_PROTECT_TAG),
      onReleased: (peer) => {
        node.unprotect(peer, RELAY_PROTECT_TAG);
      },
    });
  }

  /** Every relay we hold or seek a reservation with. */
  relays(): RelayEntryState[] {
    return this.#manager.entries();
  }

  /** STOP requests refused so far. */
  get refusedStops(): number {
    return this.#refusedStops;
  }

  /** The node started: serve STOP, follow HOP peers, begin reserving. */
  start(): void {
    const node = this.#node;
    node.handle(
      RELAY_STOP_PROTOCOL,
      stopHandler({
        manager: this.#manager,
        listener: (id) => this.#listeners.get(id),
        timeoutMs: this.#stopTimeoutMs,
        onRefused: () => {
          this.#refusedStops++;
        },
      }),
      // Not on limited connections: a circuit over a relayed connection is a relay chain. The
      // stream becomes a connection, so it has no inactivity deadline of its own.
      { idleTimeoutMs: 0, maxInboundStreams: MAX_INBOUND_STOP_STREAMS },
    );
    node.addEventListener("connection:close", this.#onConnectionClose);
    this.#topology = node.register(RELAY_HOP_PROTOCOL, {
      onConnect: (peer: PeerId) => this.#manager.addCandidate(peer),
      onDisconnect: (peer: PeerId) => this.#manager.removeCandidate(peer),
    });
    this.#manager.start();
  }

  /** The node stops: drop reservations, stop serving STOP. */
  stop(): void {
    this.#manager.stop();
    const node = this.#node;
    node.removeEventListener("connection:close", this.#onConnectionClose);
    if (this.#topology !== undefined) node.unregister(this.#topology);
    this.#topology = undefined;
    node.unhandle(RELAY_STOP_PROTOCOL);
  }

  /** Dial `<relay>/p2p/<relay>/p2p-circuit/p2p/<target>`. */
  dial(addr: Multiaddr, options?: AbortOptions): Promise<RawConnection> {
    const circuit = parseCircuitAddr(addr);
    if (circuit === undefined || circuit.target === undefined) {
      return Promise.reject(new TypeError(`not a circuit address: ${addr.toString()}`));
    }
    return dialCircuit(this.#node, circuit, { ...options, hopTimeoutMs: this.#hopTimeoutMs });
  }

  /** A listener for `/p2p-circuit` or `<relay>/p2p/<relay>/p2p-circuit`. */
  createListener(init: ListenerInit): Listener {
    const id = ++this.#nextListener;
    const listener = new RelayListener(
      id,
      init,
      this.#manager,
      this.#discoverRelays,
      (l) => this.#listeners.delete(l.id),
    );
    this.#listeners.set(id, listener);
    return listener;
  }

  /** Circuit listen addresses. */
  listenFilter(addrs: readonly Multiaddr[]): Multiaddr[] {
    return addrs.filter(isCircuitListenAddr);
  }

  /** Full circuit addresses (relay and target). */
  dialFilter(addrs: readonly Multiaddr[]): Multiaddr[] {
    return addrs.filter((a) => parseCircuitAddr(a)?.target !== undefined);
  }

  /** Connect to the relay and RESERVE. */
  async #reserve(target: RelayTarget, signal: AbortSignal): Promise<ReservationInfo> {
    const conn = await this.#node.dial(target.addr ?? target.peer, { signal });
    checkNotRelayed(conn);
    const stream = await conn.newStream(RELAY_HOP_PROTOCOL, { signal });
    const granted = await hopReserve(stream, this.#hopTimeoutMs, { signal });
    const expire = granted.expire ?? 0n;
    // UNIX seconds from the relay, clamped before it becomes a timer (HARDENING.md rule 3).
    const expiresAt = expire > BigInt(Math.floor(Number.MAX_SAFE_INTEGER / 1000))
      ? Number.MAX_SAFE_INTEGER
      : Number(expire) * 1000;
    const addrs: Multiaddr[] = [];
    const seen = new Set<string>();
    for (const bytes of granted.addrs) {
      if (addrs.length >= MAX_RESERVATION_ADDRS) break;
      let a: Multiaddr;
      try {
        a = multiaddr(bytes);
      } catch {
        continue;
      }
      if (a.protoNames().includes("p2p-circuit")) continue;
      if (a.getPeerId() !== undefined) a = a.decapsulateCode(421);
      const text = a.toString();
      if (text === "" || text === "/" || seen.has(text)) continue;
      seen.add(text);
      addrs.push(a);
    }
    // A relay that returns no addresses (go filters out private ones) is still reachable where
    // we reached it.
    if (addrs.length === 0) addrs.push(conn.remoteAddr);
    if (conn.status !== "open") throw new Libp2pError("the relay connection closed");
    return { addrs, expiresAt, limit: limitsFromWire(granted.limit), connectionId: conn.id };
  }
}

/**
 * The circuit relay v2 client transport, as a `transports` entry: dial through relays, listen on
 * `<relay>/p2p/<relay>/p2p-circuit` or `/p2p-circuit`.
 *
 * @example
 * ```ts
 * import { createNode } from "@p2p-edge/libp2p";
 * import { tcp } from "@p2p-edge/libp2p/transports/tcp";
 * import { circuitRelayTransport } from "@p2p-edge/libp2p/transports/circuit-relay";
 * import { noise } from "@p2p-edge/libp2p/protocols/noise";
 * import { yamux } from "@p2p-edge/libp2p/protocols/yamux";
 * const node = await createNode({
 *   transports: [tcp(), circuitRelayTransport()],
 *   connectionEncrypters: [noise()],
 *   streamMuxers: [yamux()],
 *   listen: ["/ip4/127.0.0.1/tcp/0", "/p2p-circuit"],
 * });
 * await node.stop();
 * ```
 */
export function circuitRelayTransport(
  options: CircuitRelayTransportOptions = {},
): (node: Libp2pNode) => CircuitRelayClient {
  return (node) => new CircuitRelayTransport(node, options);
}
