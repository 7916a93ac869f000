/**
 * Kademlia DHT (`/ipfs/kad/1.0.0`, the IPFS Amino network): libp2p/specs kad-dht/README.md.
 *
 * `kadDHT(options)` is the service: register it as `services.dht` (it needs identify) for peer
 * routing (`findPeer`, `getClosestPeers`) and content routing (`provide`, `findProviders`,
 * `put`, `get`). Its sans-IO parts (codec, routing table, lookup machine, records, stores) live
 * in this folder's other files and are not public API.
 *
 * @example
 * ```ts
 * import { createNode } from "@p2p-edge/libp2p";
 * import { tcp } from "@p2p-edge/libp2p/transports/tcp";
 * import { noise } from "@p2p-edge/libp2p/protocols/noise";
 * import { yamux } from "@p2p-edge/libp2p/protocols/yamux";
 * import { identify } from "@p2p-edge/libp2p/protocols/identify";
 * import { kadDHT } from "@p2p-edge/libp2p/protocols/kad-dht";
 * const node = await createNode({
 *   transports: [tcp()],
 *   connectionEncrypters: [noise()],
 *   streamMuxers: [yamux()],
 *   services: { identify: identify(), dht: kadDHT({ clientMode: true }) },
 * });
 * for await (const provider of node.services.dht.findProviders("bafybeigdyrzt5sfp7udm7hu76uh7y26nf3efuylqabf3oclgtqy55fbzdi", { limit: 5 })) {
 *   console.log(provider.id.toString());
 * }
 * await node.stop();
 * ```
 *
 * @module
 */

export {
  type CIDLike,
  DEFAULT_GET_QUORUM,
  type KadAbortOptions,
  kadDHT,
  type KadDHTService,
  type KadQueryEvent,
} from "./operations.ts";
export {
  type KadDHTOptions,
  type KadDHTStats,
  KadNotFoundError,
  type KadPeerInfo,
  type UpkeepScheduler,
} from "./service_types.ts";
export { KAD_LAN_PROTOCOL_ID, KAD_PROTOCOL_ID } from "./constants.ts";
export type { AddProviderResult, ProviderRecord, ProviderStore } from "./providers.ts";
export type { PutValueResult, StoredValue, ValueStore } from "./values.ts";
export type { PeerRequestLimiterOptions } from "./rpc.ts";
export {
  DEFAULT_VALIDATORS,
  ipnsValidator,
  pkValidator,
  type RecordValidator,
  type Validators,
} from "./records.ts";
export { RecordValidationError } from "./ipns.ts";
export {
  DatastoreProviderStore,
  DatastoreValueStore,
  DHT_PROVIDERS_PREFIX,
  DHT_VALUES_PREFIX,
} from "./datastore_stores.ts";
