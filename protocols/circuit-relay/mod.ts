/**
 * Circuit relay v2 (libp2p/specs relay/circuit-v2.md): the wire codec of the HOP and STOP
 * protocols, shared by the relay server (this folder) and the client transport
 * (`transports/circuit-relay/`).
 *
 * @example
 * ```ts
 * import { encodeFrame, encodeHopMessage, HopType } from "@p2p-edge/libp2p/protocols/circuit-relay";
 * const reserve = encodeFrame(encodeHopMessage({ type: HopType.RESERVE }));
 * console.log(reserve); // Uint8Array [2, 8, 0]
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
