/**
 * Kademlia DHT (`/ipfs/kad/1.0.0`, the IPFS Amino network): libp2p/specs kad-dht/README.md.
 *
 * This module holds the parts that do no I/O and read no clock: the wire codec, the keyspace,
 * the routing table, the iterative lookup machine, record validators (`/pk`, `/ipns`) and the
 * provider and value stores. The network service that drives them is wired separately.
 *
 * @example
 * ```ts
 * import { kadId, Query, RoutingTable } from "@p2p-edge/libp2p/protocols/kad-dht";
 * const table = new RoutingTable({ selfId: new Uint8Array([0, 1, 0]) });
 * const target = kadId(new TextEncoder().encode("key"));
 * const query = new Query({
 *   target,
 *   seeds: table.closest(target, 20),
 *   now: 0,
 *   selfId: table.selfId,
 * });
 * query.state; // "done": an empty table has nobody to ask
 * ```
 *
 * @module
 */

export * from "./constants.ts";
export * from "./codec.ts";
export * from "./keyspace.ts";
export * from "./ip_group.ts";
export * from "./routing_table.ts";
export * from "./query.ts";
export * from "./cbor.ts";
export * from "./ipns.ts";
export * from "./records.ts";
export * from "./providers.ts";
export * from "./values.ts";
// Types the exports above refer to.
export { Libp2pError } from "../../src/errors.ts";
export type { KeyType, PublicKey } from "../../src/keys/types.ts";
export * from "./handlers.ts";
export * from "./rpc.ts";
export * from "./lookup.ts";
export * from "./service_types.ts";
export { KadDHTCore } from "./service.ts";

export * from "./operations.ts";
