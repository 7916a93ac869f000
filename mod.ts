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

// Node: creation, options, events
export {
  createNode,
  defineService,
  type DialOptions,
  type DialProtocolOptions,
  type DialTarget,
  type Libp2pNode,
  type NodeInit,
  type NodeStats,
  type PeerDiscoveryFactory,
  type SecurityOption,
  type ServiceFactory,
  type Startable,
  type TransportFactory,
} from "./src/node/node.ts";
export type { NodeEventMap, TypedEventTarget } from "./src/node/events.ts";
export {
  type DiscoveredPeer,
  type PeerDiscovery,
  PeerDiscoveryBase,
  type PeerDiscoveryEvents,
} from "./src/node/discovery.ts";
export {
  type DiscoveryHost,
  type DiscoveryManager,
  type DiscoveryStats,
  MAX_DISCOVERED_ADDRS,
} from "./src/node/discovery_manager.ts";
export {
  AutoDialer,
  type AutoDialerOptions,
  type AutoDialPlan,
  type AutoDialState,
  DEFAULT_AUTO_DIAL_BACKOFF_BASE_MS,
  DEFAULT_AUTO_DIAL_BACKOFF_MAX_MS,
  DEFAULT_AUTO_DIAL_CONCURRENCY,
  DEFAULT_AUTO_DIAL_PER_SECOND,
  DEFAULT_MIN_CONNECTIONS,
  MAX_AUTO_DIAL_BACKOFFS,
  MAX_AUTO_DIAL_CANDIDATES,
} from "./src/node/auto_dialer.ts";
export type { DialerOptions } from "./src/node/dialer.ts";
export type {
  AddressSource,
  PeerAddress,
  PeerInfo,
  PeerStore,
  PeerTag,
  PeerTagOptions,
  PeerUpdate,
} from "./src/node/peer_store.ts";
export type { Topology } from "./src/node/topology.ts";
export {
  CONTENT_ROUTER,
  type ContentId,
  type ContentRouter,
  type ContentRouting,
  NoRoutersError,
  PEER_ROUTER,
  type PeerRouter,
  type PeerRouting,
  type RoutedPeer,
} from "./src/node/routing.ts";
export { IDENTIFY_CAPABILITY, ServiceDependencyError } from "./src/node/services.ts";
export type {
  AddressesOptions,
  AddressManager,
  Observer,
  Reachability,
} from "./src/node/address_manager.ts";
export { type ConnectionLimits, LimitedConnectionError } from "./src/node/limits.ts";
export type {
  ConnectionManagerOptions,
  ConnectionManagerStats,
} from "./src/node/connection_manager.ts";
export type { ConnectionGater, GaterStage } from "./src/node/gater.ts";
export type { ProtocolLimits, ResourceLimits, ResourceStats } from "./src/node/resource_manager.ts";

// Connections and streams
export type {
  Connection,
  NewStreamOptions,
  Stream,
  StreamHandler,
  StreamHandlerOptions,
} from "./src/connection.ts";
export type { AbortOptions, Direction, Duplex, Timeline } from "./src/stream/types.ts";
export type { ByteChannel, ChannelConnection } from "./src/stream/channel.ts";

// Extension points: what a transport, an encrypter and a muxer implement
export type {
  Listener,
  ListenerInit,
  RawConnection,
  SelfUpgradeOptions,
  SelfUpgradeResult,
  Transport,
} from "./src/transport.ts";
export type {
  ConnectionEncrypter,
  ConnectionEncrypterFactory,
  SecuredConnection,
  SecureOptions,
} from "./src/security.ts";
export type {
  MuxedStream,
  MuxedStreamStatus,
  MuxerMemory,
  StreamMuxer,
  StreamMuxerFactory,
  StreamMuxerInit,
} from "./src/muxer.ts";

// Identity
export {
  generateKeyPair,
  generateKeyPairFromSeed,
  peerIdFromPrivateKey,
  peerIdFromPublicKey,
  privateKeyFromProtobuf,
  privateKeyFromRaw,
  privateKeyToProtobuf,
  publicKeyFromProtobuf,
  publicKeyFromRaw,
  publicKeyToProtobuf,
} from "./src/keys/mod.ts";
export type { KeyType, PrivateKey, PublicKey } from "./src/keys/types.ts";
export { PeerId, peerIdFromBytes, peerIdFromString } from "./src/peer_id.ts";

// Addressing
export {
  type Component,
  dnsMultiaddrResolver,
  type DnsMultiaddrResolverOptions,
  DnsResolutionError,
  type DnsResolver,
  isMultiaddr,
  Multiaddr,
  multiaddr,
  type MultiaddrInput,
  type MultiaddrResolver,
  needsResolution,
  type NodeAddress,
  type Protocol,
  withoutPeerId,
  withPeerId,
} from "./src/multiaddr/mod.ts";

export {
  type DnsServer,
  parseDnsServer,
  type SystemDnsResolver,
  systemDnsResolver,
} from "./src/runtime.ts";

// Errors
export {
  AbortError,
  ConnectionClosedError,
  DecodeError,
  DecryptError,
  HandshakeError,
  InvalidSignatureError,
  Libp2pError,
  LimitExceededError,
  PeerIdMismatchError,
  ProtocolError,
  ProtocolNegotiationError,
  StreamClosedError,
  StreamResetError,
  TimeoutError,
  UnsupportedKeyTypeError,
} from "./src/errors.ts";
export { DialError } from "./src/node/dialer.ts";
export { ConnectionDeniedError } from "./src/node/gater.ts";
