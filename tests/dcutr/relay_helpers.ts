/**
 * Loopback set-up for the DCUtR tests: our relay server (with its default limit, so relayed
 * connections are limited) and nodes that listen through it and/or on TCP.
 */

import type { Connection } from "../../src/connection.ts";
import type { Multiaddr } from "../../src/multiaddr/mod.ts";
import type { Libp2pNode, NodeInit } from "../../src/node/node.ts";
import type { ConnectionGater } from "../../src/node/gater.ts";
import { tcp } from "../../transports/tcp/mod.ts";
import { identify } from "../../protocols/identify/mod.ts";
import { type CircuitRelayServer, circuitRelayServer } from "../../protocols/circuit-relay/mod.ts";
import { circuitRelayTransport } from "../../transports/circuit-relay/mod.ts";
import { dcutr, type DcutrOptions, type DcutrService } from "../../protocols/dcutr/mod.ts";
import { testTcpNode, until } from "../helpers/nodes.ts";

export type RelayNode = Libp2pNode<{ relay: CircuitRelayServer }>;
export type DcutrNode = Libp2pNode<{ dcutr?: DcutrService }>;

/** Our relay on loopback; its default limit (2 min, 128 KiB) makes circuits limited. */
export async function relayNode(): Promise<RelayNode> {
  return await testTcpNode<{ relay: CircuitRelayServer }>({
    services: {
      identify: identify(),
      relay: circuitRelayServer({ reservations: { addressFilter: () => true } }),
    },
  } as Partial<NodeInit<{ relay: CircuitRelayServer }>>);
}

/** A node with the relay client; `listen` may hold TCP and `<relay>/p2p-circuit` addresses. */
export async function peerNode(
  listen: string[],
  dcutrOptions: DcutrOptions | undefined,
  gater?: ConnectionGater,
): Promise<DcutrNode> {
  const services: Record<string, unknown> = { identify: identify() };
  if (dcutrOptions !== undefined) {
    services.dcutr = dcutr({ allowPrivateAddresses: true, ...dcutrOptions });
  }
  return await testTcpNode({
    transports: [tcp(), circuitRelayTransport()],
    listen,
    services,
    connectionGater: gater,
  } as Partial<NodeInit>) as DcutrNode;
}

/** The node's relayed addresses. */
export function circuitAddrs(node: Libp2pNode): Multiaddr[] {
  return node.getMultiaddrs().filter((a) => a.toString().includes("/p2p-circuit"));
}

/** Wait for `node` to hold a reservation, then return its first relayed address. */
export async function reservedAddr(node: Libp2pNode): Promise<Multiaddr> {
  await until(() => circuitAddrs(node).length > 0, 10_000);
  return circuitAddrs(node)[0];
}

/** Open connections of `node` to `peer` that are direct (unlimited). */
export function directConns(node: Libp2pNode, peer: Libp2pNode): Connection[] {
  return node.getConnections(peer.peerId).filter((c) => c.status === "open" && !c.limited);
}
