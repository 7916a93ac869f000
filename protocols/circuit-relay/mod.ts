/**
 * Circuit relay v2 (libp2p/specs relay/circuit-v2.md): the relay server
 * (`circuitRelayServer`, registered as `services.relay`), and the wire codec and voucher of the
 * HOP and STOP protocols, shared with the client transport (`transports/circuit-relay/`).
 *
 * @example
 * ```ts
 * import { createNode } from "@p2p-edge/libp2p";
 * import { tcp } from "@p2p-edge/libp2p/transports/tcp";
 * import { noise } from "@p2p-edge/libp2p/protocols/noise";
 * import { yamux } from "@p2p-edge/libp2p/protocols/yamux";
 * import { identify } from "@p2p-edge/libp2p/protocols/identify";
 * import { circuitRelayServer } from "@p2p-edge/libp2p/protocols/circuit-relay";
 * const relay = await createNode({
 *   listen: ["/ip4/0.0.0.0/tcp/4001"],
 *   transports: [tcp()],
 *   connectionEncrypters: [noise()],
 *   streamMuxers: [yamux()],
 *   services: { identify: identify(), relay: circuitRelayServer() },
 * });
 * console.log(relay.services.relay.stats());
 * ```
 *
 * @module
 */

export {
  decodeHopMessage,
  decodeStopMessage,
  encodeFrame,
  encodeHopMessage,
  encodeStopMessage,
  type FrameSource,
  HOP_PROTOCOL,
  type HopMessage,
  HopType,
  type HopTypeValue,
  type Limit,
  MAX_ADDRS,
  MAX_MESSAGE_BYTES,
  MAX_PEER_ID_BYTES,
  readHopMessage,
  readStopMessage,
  type RelayPeer,
  type Reservation,
  Status,
  statusName,
  type StatusValue,
  STOP_PROTOCOL,
  type StopMessage,
  StopType,
  type StopTypeValue,
} from "./codec.ts";
export {
  openVoucher,
  ReservationVoucher,
  sealVoucher,
  VOUCHER_DOMAIN,
  VOUCHER_PAYLOAD_TYPE,
  type VoucherInit,
} from "./voucher.ts";
export { type CircuitRelayServer, circuitRelayServer } from "./server.ts";
export {
  type CircuitRelayServerOptions,
  type CircuitRelayStats,
  publicAddressFilter,
  type RelayReservationOptions,
} from "./server_types.ts";
export type { RateLimit } from "./reservations.ts";
