/**
 * Rendezvous (`/rendezvous/1.0.0`, libp2p/specs rendezvous/README.md): peers register signed
 * peer records in namespaces at a known rendezvous point and discover each other there, with
 * TTLs (2 h to 72 h by default), cookies for paging and polling, and rust-libp2p's caps as the
 * floor (32 registrations per peer, 10,000 in total, 1,000 results per query).
 *
 * `rendezvous()` is a client; `rendezvous({ server: true })` also serves.
 *
 * @example
 * ```ts
 * import { createNode } from "@p2p-edge/libp2p";
 * import { rendezvous } from "@p2p-edge/libp2p/protocols/rendezvous";
 * import { tcp } from "@p2p-edge/libp2p/transports/tcp";
 * import { noise } from "@p2p-edge/libp2p/protocols/noise";
 * import { yamux } from "@p2p-edge/libp2p/protocols/yamux";
 * const node = await createNode({
 *   transports: [tcp()],
 *   connectionEncrypters: [noise()],
 *   streamMuxers: [yamux()],
 *   listen: ["/ip4/127.0.0.1/tcp/0"],
 *   services: { rendezvous: rendezvous({ server: true }) },
 * });
 * console.log(node.services.rendezvous.stats().registrations); // 0
 * await node.stop();
 * ```
 *
 * @module
 */

export { rendezvous } from "./service.ts";
export type {
  RendezvousDiscoverOptions,
  RendezvousDiscoverResult,
  RendezvousEvents,
  RendezvousOptions,
  RendezvousPoint,
  RendezvousRegisterOptions,
  RendezvousRegistration,
  RendezvousService,
  RendezvousStats,
} from "./types.ts";
export {
  type DiscoveredRegistration,
  type DiscoverRequest,
  type DiscoverResult,
  namespaceProblem,
  type RegisterRequest,
  type RegisterResult,
  RegistrationStore,
  type RegistrationStoreOptions,
  type StoredRegistration,
} from "./store.ts";
export { answerRequest, type ServedRequest, type ServerAnswer, unavailable } from "./server.ts";
export { PeerRateLimit, type PeerRateLimitOptions } from "./rate_limit.ts";
export {
  decodeMessage,
  type Discover,
  type DiscoverResponse,
  encodeFrame,
  encodeMessage,
  type Register,
  type RegisterResponse,
  type RendezvousMessage,
  type Unregister,
} from "./codec.ts";
export { RendezvousError } from "./errors.ts";
export {
  DEFAULT_REQUEST_BURST,
  DEFAULT_REQUESTS_PER_SECOND,
  DEFAULT_TIMEOUT_MS,
  DEFAULT_TTL,
  MAX_COOKIE_BYTES,
  MAX_DISCOVER_LIMIT,
  MAX_INBOUND_STREAMS,
  MAX_MESSAGE_BYTES,
  MAX_NAMESPACE_BYTES,
  MAX_RATE_LIMITED_PEERS,
  MAX_REGISTRATIONS,
  MAX_REGISTRATIONS_PER_PEER,
  MAX_REQUEST_BYTES,
  MAX_REQUESTS_PER_STREAM,
  MAX_SIGNED_RECORD_BYTES,
  MAX_TTL,
  MessageType,
  type MessageTypeValue,
  MIN_TTL,
  RENDEZVOUS_PROTOCOL_ID,
  ResponseStatus,
  type ResponseStatusValue,
  UNREGISTER_CLOSE_WAIT_MS,
} from "./constants.ts";
