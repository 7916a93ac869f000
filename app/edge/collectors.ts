/**
 * Scrape-time collectors for the services an edge node runs: the circuit relay server
 * (go-libp2p's `libp2p_relaysvc_*` names where the meaning matches), the DHT and pubsub. Each
 * reads the service's `stats()` when Prometheus scrapes; nothing runs between scrapes.
 *
 * @module
 */

import type { MetricsRegistry } from "../../src/metrics/mod.ts";
import type { CircuitRelayStats } from "../../protocols/circuit-relay/mod.ts";
import type { KadDHTStats } from "../../protocols/kad-dht/mod.ts";
import type { PubsubStats } from "../../protocols/pubsub/mod.ts";
import type { AutoNATServerStats } from "../../protocols/autonat/mod.ts";

/** What the relay collector reads: the circuit relay server (`circuitRelayServer()`). */
export interface RelayStatsSource {
  /** The server's counters. */
  stats(): CircuitRelayStats;
}

/** What the DHT collector reads: the kad-dht service (`kadDHT()`). */
export interface DhtStatsSource {
  /** The service's counters. */
  stats(): KadDHTStats;
  /** Whether it serves the protocol. */
  readonly serverMode: boolean;
}

/** What the pubsub collector reads: a pubsub service (gossipsub, floodsub). */
export interface PubsubStatsSource {
  /** The service's counters. */
  stats(): PubsubStats;
  /** Peers speaking the protocol. */
  getPeers(): readonly unknown[];
  /** Topics we subscribe to. */
  getTopics(): readonly string[];
}

/** What the AutoNAT collector reads: the AutoNAT service (`autoNAT()`), its server's counters. */
export interface AutoNATStatsSource {
  /** The server, unless the service runs without one. */
  readonly server?: { stats(): AutoNATServerStats };
}

/** The services whose metrics {@link collectServiceMetrics} registers; each optional. */
export interface EdgeServices {
  /** The circuit relay v2 server. */
  relay?: RelayStatsSource;
  /** The DHT. */
  dht?: DhtStatsSource;
  /** Pubsub. */
  pubsub?: PubsubStatsSource;
  /** AutoNAT (its server's counters; reachability is a node metric). */
  autonat?: AutoNATStatsSource;
}

/**
 * Register metrics for the services present and read them at every scrape. Returns a function
 * that removes the collector.
 *
 * @example
 * ```ts ignore
 * import { MetricsRegistry } from "../../src/metrics/mod.ts";
 * import { collectServiceMetrics } from "./collectors.ts";
 * const registry = new MetricsRegistry();
 * collectServiceMetrics(registry, { relay: node.services.relay, dht: node.services.dht });
 * ```
 */
export function collectServiceMetrics(
  registry: MetricsRegistry,
  services: EdgeServices,
): () => void {
  const parts: (() => void)[] = [];
  if (services.relay !== undefined) parts.push(relayCollector(registry, services.relay));
  if (services.dht !== undefined) parts.push(dhtCollector(registry, services.dht));
  if (services.pubsub !== undefined) parts.push(pubsubCollector(registry, services.pubsub));
  const autonatServer = services.autonat?.server;
  if (autonatServer !== undefined) parts.push(autonatCollector(registry, autonatServer));
  return registry.addCollector(() => {
    for (const p of parts) p();
  });
}

function relayCollector(registry: MetricsRegistry, relay: RelayStatsSource): () => void {
  const status = registry.gauge({
    name: "libp2p_relaysvc_status",
    help: "Relay Status (1 while the relay service runs)",
  });
  const reservations = registry.counter({
    name: "libp2p_relaysvc_reservations_total",
    help: "Relay Reservation Request (type: opened, renewed, closed)",
    labelNames: ["type"],
  });
  const reservationStatus = registry.counter({
    name: "libp2p_relaysvc_reservation_request_response_status_total",
    help: "Relay Reservation Request Response Status (ok, refused)",
    labelNames: ["status"],
  });
  const connections = registry.counter({
    name: "libp2p_relaysvc_connections_total",
    help: "Relay Connection Total (type: opened, closed)",
    labelNames: ["type"],
  });
  const connectionStatus = registry.counter({
    name: "libp2p_relaysvc_connection_request_response_status_total",
    help: "Relay Connection Request Status (ok, refused)",
    labelNames: ["status"],
  });
  const transferred = registry.counter({
    name: "libp2p_relaysvc_data_transferred_bytes_total",
    help: "Bytes Transferred Total",
  });
  const active = registry.gauge({
    name: "libp2p_relaysvc_active",
    help: "Reservations held and circuits open now",
    labelNames: ["kind"],
  });
  const limited = registry.counter({
    name: "libp2p_relaysvc_circuits_limited_total",
    help: "Circuits reset at their data or duration limit",
  });
  const malformed = registry.counter({
    name: "libp2p_relaysvc_malformed_total",
    help: "HOP streams answered MALFORMED_MESSAGE or UNEXPECTED_MESSAGE",
  });
  return () => {
    const s = relay.stats();
    status.set(undefined, 1);
    const openedReservations = s.reservesAccepted - s.reservesRenewed;
    reservations.set({ type: "opened" }, openedReservations);
    reservations.set({ type: "renewed" }, s.reservesRenewed);
    // Every reservation opened is either held now or was closed (expired, peer left, stop).
    reservations.set({ type: "closed" }, Math.max(0, openedReservations - s.reservations));
    reservationStatus.set({ status: "ok" }, s.reservesAccepted);
    reservationStatus.set({ status: "refused" }, s.reservesRefused);
    connections.set({ type: "opened" }, s.connectsAccepted);
    connections.set({ type: "closed" }, s.circuitsClosed);
    connectionStatus.set({ status: "ok" }, s.connectsAccepted);
    connectionStatus.set({ status: "refused" }, s.connectsRefused);
    // A float64 holds bytes exactly up to 2^53 (8 PiB), far beyond any uptime.
    transferred.set(undefined, Number(s.bytesRelayed));
    active.set({ kind: "reservations" }, s.reservations);
    active.set({ kind: "circuits" }, s.circuits);
    limited.set(undefined, s.circuitsLimited);
    malformed.set(undefined, s.malformed);
  };
}

function dhtCollector(registry: MetricsRegistry, dht: DhtStatsSource): () => void {
  const tableSize = registry.gauge({
    name: "libp2p_kad_dht_routing_table_size",
    help: "Peers in the DHT routing table",
  });
  const serverMode = registry.gauge({
    name: "libp2p_kad_dht_server_mode",
    help: "1 while the DHT serves the protocol (server mode), 0 in client mode",
  });
  const inbound = registry.counter({
    name: "libp2p_kad_dht_inbound_requests_total",
    help: "Inbound DHT requests by outcome (served, refused, bad)",
    labelNames: ["outcome"],
  });
  const sent = registry.counter({
    name: "libp2p_kad_dht_outbound_requests_total",
    help: "DHT requests we sent (queries' steps, provides, puts)",
  });
  return () => {
    const s = dht.stats();
    tableSize.set(undefined, s.routingTableSize);
    serverMode.set(undefined, dht.serverMode ? 1 : 0);
    inbound.set({ outcome: "served" }, s.served);
    inbound.set({ outcome: "refused" }, s.refused);
    inbound.set({ outcome: "bad" }, s.badStreams);
    sent.set(undefined, s.sent);
  };
}

function pubsubCollector(registry: MetricsRegistry, pubsub: PubsubStatsSource): () => void {
  const peers = registry.gauge({ name: "libp2p_pubsub_peers", help: "Pubsub peers" });
  const topics = registry.gauge({ name: "libp2p_pubsub_topics", help: "Topics subscribed" });
  const rpc = registry.counter({
    name: "libp2p_pubsub_rpc_total",
    help: "RPC frames received (inbound) and queued to peers (outbound)",
    labelNames: ["dir"],
  });
  const validated = registry.counter({
    name: "libp2p_pubsub_messages_validated_total",
    help: "Messages by validation result (accept, reject, ignore)",
    labelNames: ["result"],
  });
  const dropped = registry.counter({
    name: "libp2p_pubsub_dropped_total",
    help: "Frames dropped because a peer's queue was full",
  });
  return () => {
    const s = pubsub.stats();
    peers.set(undefined, pubsub.getPeers().length);
    topics.set(undefined, pubsub.getTopics().length);
    rpc.set({ dir: "inbound" }, s.rpcIn);
    rpc.set({ dir: "outbound" }, s.rpcOut);
    validated.set({ result: "accept" }, s.validated.accept);
    validated.set({ result: "reject" }, s.validated.reject);
    validated.set({ result: "ignore" }, s.validated.ignore);
    dropped.set(undefined, s.dropped);
  };
}

function autonatCollector(
  registry: MetricsRegistry,
  server: { stats(): AutoNATServerStats },
): () => void {
  const requests = registry.counter({
    name: "libp2p_autonat_server_requests_total",
    help: "AutoNAT requests read (v2 and v1)",
  });
  const outcomes = registry.counter({
    name: "libp2p_autonat_server_responses_total",
    help: "AutoNAT requests by outcome (rejected: rate limit or relayed; refused: nothing " +
      "dialable; malformed)",
    labelNames: ["outcome"],
  });
  const dialBacks = registry.counter({
    name: "libp2p_autonat_server_dial_backs_total",
    help: "AutoNAT dial backs by result (ok, failed)",
    labelNames: ["result"],
  });
  const dialData = registry.counter({
    name: "libp2p_autonat_server_dial_data_requests_total",
    help: "AutoNAT v2 dial data demanded (the requester's IP differed from the address)",
  });
  return () => {
    const s = server.stats();
    requests.set(undefined, s.requests);
    outcomes.set({ outcome: "rejected" }, s.rejected);
    outcomes.set({ outcome: "refused" }, s.refused);
    outcomes.set({ outcome: "malformed" }, s.malformed);
    dialBacks.set({ result: "ok" }, s.dialBacksOk);
    dialBacks.set({ result: "failed" }, s.dialBacksFailed);
    dialData.set(undefined, s.dialDataRequested);
  };
}
