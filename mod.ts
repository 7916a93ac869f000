/**
 * @p2p-edge/libp2p — a wire-compatible libp2p for Deno and Bun on web standards.
 *
 * This root module is the light public API: node creation, identity and addressing, the core
 * types and errors. Wire protocols and transports live in their own subpaths
 * (`@p2p-edge/libp2p/protocols/noise`, `@p2p-edge/libp2p/transports/tcp`, ...).
 *
 * @example
 * ```ts
 * import { generateKeyPair, multiaddr, peerIdFromPublicKey } from "@p2p-edge/libp2p";
 *
 * const key = await generateKeyPair("Ed25519");
 * const id = peerIdFromPublicKey(key.publicKey);
 * const addr = multiaddr("/ip4/127.0.0.1/tcp/4001").encapsulate(`/p2p/${id}`);
 * console.log(addr.toString());
 * ```
 *
 * @module
 */

// Node
export {
  createNode,
  type DialTarget,
  Libp2pNode,
  type NodeInit,
  type SecurityOption,
  type ServiceFactory,
  type Startable,
} from "./src/node/node.ts";
export { Dialer, type DialerOptions, DialError } from "./src/node/dialer.ts";
export { type NodeEventMap, TypedEventTarget } from "./src/node/events.ts";
export {
  MemoryPeerStore,
  type MemoryPeerStoreOptions,
  type PeerInfo,
  type PeerStore,
  type PeerUpdate,
} from "./src/node/peer_store.ts";
export { Registrar, validateProtocolId } from "./src/node/registrar.ts";
export type { NodeStats } from "./src/node/node.ts";
export {
  type Admission,
  ConnectionManager,
  type ConnectionManagerOptions,
  type ConnectionManagerStats,
  type ManagedConnection,
  type ResolvedConnectionManagerOptions,
} from "./src/node/connection_manager.ts";
export {
  ConnectionDeniedError,
  type ConnectionGater,
  gate,
  type GaterStage,
} from "./src/node/gater.ts";
export { ipKey, IpList } from "./src/node/ip_list.ts";
export {
  ConnectionScope,
  type ProtocolLimits,
  type ResolvedResourceLimits,
  type ResourceLimits,
  ResourceManager,
  type ResourceScope,
  type ResourceStats,
  StreamScope,
} from "./src/node/resource_manager.ts";
export {
  DEFAULT_STREAM_IDLE_TIMEOUT_MS,
  MIN_IDLE_SCAN_PERIOD_MS,
  StreamIdleWatch,
  type StreamIdleWatchInit,
} from "./src/node/stream_guard.ts";

// Connections and streams
export {
  Connection,
  type ConnectionInit,
  type NewStreamOptions,
  Stream,
  type StreamHandler,
  type StreamHandlerOptions,
  type StreamHandlerRegistry,
} from "./src/connection.ts";
export { type UpgradeOutboundOptions, Upgrader, type UpgraderInit } from "./src/upgrader.ts";
export type {
  MuxedStream,
  MuxedStreamStatus,
  MuxerMemory,
  StreamMuxer,
  StreamMuxerFactory,
  StreamMuxerInit,
} from "./src/muxer.ts";
export type { ConnectionEncrypter, SecuredConnection, SecureOptions } from "./src/security.ts";
export type {
  Listener,
  ListenerInit,
  RawConnection,
  SelfUpgradeOptions,
  SelfUpgradeResult,
  Transport,
} from "./src/transport.ts";
export type { AbortOptions, Direction, Duplex, Timeline } from "./src/stream/types.ts";
export {
  abortReason,
  clampDelay,
  type DeadlineSignal,
  deadlineSignal,
  raceSignal,
} from "./src/abort.ts";

// Identity
export {
  generateKeyPair,
  generateKeyPairFromSeed,
  peerIdFromPrivateKey,
  peerIdFromPublicKey,
  privateKeyFromProtobuf,
  privateKeyToProtobuf,
  publicKeyFromProtobuf,
  publicKeyToProtobuf,
} from "./src/keys/mod.ts";
export type { KeyType, PrivateKey, PublicKey } from "./src/keys/types.ts";
export { PeerId, peerIdFromBytes, peerIdFromString } from "./src/peer_id.ts";

// Addressing
export {
  type Component,
  isMultiaddr,
  Multiaddr,
  multiaddr,
  type MultiaddrInput,
  type MultiaddrResolver,
  type NodeAddress,
  withoutPeerId,
  withPeerId,
} from "./src/multiaddr/mod.ts";

// Signed records
export {
  type EnvelopeRecord,
  type OpenedPeerRecord,
  openPeerRecord,
  PEER_RECORD_DOMAIN,
  PEER_RECORD_PAYLOAD_TYPE,
  PeerRecord,
  sealPeerRecord,
  SignedEnvelope,
} from "./src/record/mod.ts";

// Errors
export * from "./src/errors.ts";
