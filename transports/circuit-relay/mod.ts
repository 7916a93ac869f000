/**
 * Circuit relay v2 client transport (libp2p/specs relay/circuit-v2.md): reach peers through a
 * relay and be reached through one.
 *
 * - Dial `<relay>/p2p/<relay>/p2p-circuit/p2p/<target>`: HOP CONNECT on a connection to the
 *   relay; the stream becomes the connection (we are the Noise initiator). A relay's Limit
 *   makes it a limited connection, on which only protocols that opt in run.
 * - Listen on `<relay>/p2p/<relay>/p2p-circuit` (that relay) or `/p2p-circuit` (relays among
 *   connected peers that speak HOP): RESERVE, announce `<relay addr>/p2p/<relay>/p2p-circuit`,
 *   renew at 3/4 of the lifetime, and reserve again after the relay connection drops or the
 *   relay restarts, with bounded backoff, for as long as we listen.
 * - STOP from a relay we hold no reservation with is refused (PERMISSION_DENIED).
 *
 * @example
 * ```ts
 * import { createNode } from "@p2p-edge/libp2p";
 * import { memory } from "@p2p-edge/libp2p/transports/memory";
 * import { circuitRelayTransport } from "@p2p-edge/libp2p/transports/circuit-relay";
 * import { noise } from "@p2p-edge/libp2p/protocols/noise";
 * import { yamux } from "@p2p-edge/libp2p/protocols/yamux";
 * const node = await createNode({
 *   transports: [memory(), circuitRelayTransport({ discoverRelays: 1 })],
 *   connectionEncrypters: [noise()],
 *   streamMuxers: [yamux()],
 *   listen: ["/p2p-circuit"],
 * });
 * await node.stop();
 * ```
 *
 * @module
 */

export { type RelayClock, systemClock } from "./clock.ts";
export {
  DEFAULT_DISCOVER_RELAYS,
  HOP_TIMEOUT_MS,
  MAX_BACKOFF_MS,
  MIN_BACKOFF_MS,
  RELAY_HOP_PROTOCOL,
  RELAY_STOP_PROTOCOL,
  RENEW_FRACTION,
} from "./constants.ts";
export { type CircuitAddress, limitsFromWire, parseCircuitAddr, RelayChainError } from "./dial.ts";
export { isCircuitListenAddr, RelayListener } from "./listener.ts";
export {
  backoffDelay,
  type RelayEntryState,
  type RelayTarget,
  renewDelay,
  type ReservationInfo,
  ReservationManager,
  type ReservationManagerInit,
} from "./reservations.ts";
export {
  type CircuitRelayClient,
  CircuitRelayTransport,
  circuitRelayTransport,
  type CircuitRelayTransportOptions,
} from "./transport.ts";
export { RelayRefusedError } from "./wire.ts";
