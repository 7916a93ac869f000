/**
 * DCUtR, Direct Connection Upgrade through Relay (`/libp2p/dcutr`, libp2p/specs relay/DCUtR.md):
 * turn a relayed (limited) connection into a direct one. The side that received the relayed
 * connection first dials the other directly when it announced usable addresses, otherwise runs
 * the CONNECT/SYNC exchange (RTT measured over the relay, both sides dial at the synchronised
 * moment, up to three attempts). See the README section "Hole punching: what works where" for
 * what each runtime allows ({@link HOLE_PUNCH_SUPPORT}).
 *
 * @example
 * ```ts
 * import { createNode } from "@p2p-edge/libp2p";
 * import { dcutr } from "@p2p-edge/libp2p/protocols/dcutr";
 * import { identify } from "@p2p-edge/libp2p/protocols/identify";
 * import { tcp } from "@p2p-edge/libp2p/transports/tcp";
 * import { circuitRelayTransport } from "@p2p-edge/libp2p/transports/circuit-relay";
 * import { noise } from "@p2p-edge/libp2p/protocols/noise";
 * import { yamux } from "@p2p-edge/libp2p/protocols/yamux";
 * const node = await createNode({
 *   transports: [tcp(), circuitRelayTransport()],
 *   connectionEncrypters: [noise()],
 *   streamMuxers: [yamux()],
 *   listen: ["/ip4/0.0.0.0/tcp/0"],
 *   services: { identify: identify(), dcutr: dcutr() },
 * });
 * await node.stop();
 * ```
 *
 * @module
 */

export {
  dcutr,
  type DcutrOptions,
  type DcutrResult,
  type DcutrService,
  type DcutrStats,
  HOLE_PUNCH_SUPPORT,
} from "./service.ts";
export {
  decodeHolePunch,
  encodeHolePunch,
  encodeHolePunchFrame,
  type HolePunch,
  type HolePunchSource,
  HolePunchType,
  type HolePunchTypeValue,
  readHolePunch,
} from "./codec.ts";
export {
  type DcutrAction,
  InitiatorMachine,
  type InitiatorOptions,
  type MachineOptions,
  ResponderMachine,
} from "./machine.ts";
export {
  isHolePunchAddr,
  isPublicAddr,
  isRelayedAddr,
  ownHolePunchAddrs,
  parseObsAddrs,
} from "./addresses.ts";
export {
  DCUTR_PROTOCOL_ID,
  MAX_ATTEMPTS,
  MAX_DCUTR_MESSAGE_BYTES,
  MAX_OBS_ADDRS,
} from "./constants.ts";
