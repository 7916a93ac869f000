/**
 * AutoNAT v2 and v1 (libp2p/specs `autonat/autonat-v2.md`, `autonat/autonat-v1.md`): learn
 * whether our addresses are reachable from outside, and answer others who ask. The service
 * `autoNAT(options)` (as `services.autonat`) runs the server (v2 `/libp2p/autonat/2/dial-request`
 * with dial-back on `/libp2p/autonat/2/dial-back`, and v1 `/libp2p/autonat/1.0.0`) and the client,
 * which sets the node's reachability (`self:reachability`).
 *
 * @example
 * ```ts
 * import { createNode } from "@p2p-edge/libp2p";
 * import { tcp } from "@p2p-edge/libp2p/transports/tcp";
 * import { noise } from "@p2p-edge/libp2p/protocols/noise";
 * import { yamux } from "@p2p-edge/libp2p/protocols/yamux";
 * import { identify } from "@p2p-edge/libp2p/protocols/identify";
 * import { autoNAT } from "@p2p-edge/libp2p/protocols/autonat";
 * const node = await createNode({
 *   listen: ["/ip4/0.0.0.0/tcp/4001"],
 *   transports: [tcp()],
 *   connectionEncrypters: [noise()],
 *   streamMuxers: [yamux()],
 *   services: { identify: identify(), autonat: autoNAT() },
 * });
 * console.log(node.addressManager.reachability); // "unknown" until servers answered
 * ```
 *
 * @module
 */

export {
  decodeDialBack,
  decodeDialBackResponse,
  decodeV2Message,
  DIAL_BACK_PROTOCOL,
  DIAL_REQUEST_PROTOCOL,
  DialStatus,
  encodeDialBack,
  encodeDialBackResponse,
  encodeV2Message,
  frame,
  MAX_DIAL_DATA_CHUNK,
  MAX_V2_ADDRS,
  MAX_V2_MESSAGE_BYTES,
  ResponseStatus,
  type V2Message,
} from "./codec_v2.ts";
export {
  decodeV1Message,
  encodeV1Message,
  MAX_V1_ADDRS,
  MAX_V1_MESSAGE_BYTES,
  V1_PROTOCOL,
  type V1Message,
  V1Status,
  V1Type,
} from "./codec_v1.ts";
export {
  DEFAULT_CONFIDENCE,
  DEFAULT_REPROBE_INTERVAL_MS,
  DEFAULT_WINDOW,
  MAX_TRACKED_ADDRS,
  type ProbeOutcome,
  RateLimiter,
  ReachabilityTracker,
  type ReachabilityTrackerOptions,
} from "./reachability.ts";
export {
  type AutoNATOptions,
  DEFAULT_DIAL_DATA_BYTES,
  DEFAULT_MAX_CONCURRENT_PER_PEER,
  DEFAULT_MAX_DIAL_DATA_REQUESTS_PER_MINUTE,
  DEFAULT_MAX_REQUESTS_PER_MINUTE,
  DEFAULT_MAX_REQUESTS_PER_PEER_PER_MINUTE,
  MAX_DIAL_DATA_BYTES_CLIENT,
  MAX_DIAL_DATA_BYTES_SERVER,
} from "./options.ts";
export { AutoNATServer, type AutoNATServerStats } from "./server.ts";
export { AutoNATClient } from "./client.ts";
export { AutoNAT, autoNAT } from "./service.ts";
