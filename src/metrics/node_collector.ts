/**
 * The node's metrics: connection events counted as they happen (go-libp2p's `libp2p_swarm_*`
 * names and labels), and at each scrape the node's own stats read into gauges
 * (`libp2p_rcmgr_*` for the resource and connection managers, peer store size, bytes by
 * transport). Event listeners are the only cost outside a scrape: one counter increment and one
 * histogram observation per connection opened or closed, one per failed dial.
 *
 * The node also keeps the most recent errors (failed dials, handler failures) for the status
 * page, a bounded ring.
 *
 * @module
 */

import type { Connection } from "../connection.ts";
import type { Multiaddr } from "../multiaddr/mod.ts";
import type { Libp2pNode } from "../node/node.ts";
import { exponentialBuckets, type MetricsRegistry } from "./registry.ts";
import { ipVersionLabel, transportLabel } from "./traffic.ts";

/** Recent errors kept for the status page (HARDENING.md rule 4: a ring, oldest dropped). */
export const MAX_RECENT_ERRORS = 50;

/** Characters of an error message kept (messages can quote peer input). */
export const MAX_ERROR_MESSAGE_LENGTH = 300;

/** One recent error. */
export interface RecentError {
  /** When, ms since the epoch. */
  readonly at: number;
  /** "dial" or "handler". */
  readonly kind: string;
  /** The error's class name and message, cut to {@link MAX_ERROR_MESSAGE_LENGTH}. */
  readonly message: string;
  /** The address dialled, or the protocol of the failed handler. */
  readonly context: string;
}

/** What {@link collectNodeMetrics} returns. */
export interface NodeMetrics {
  /** The most recent errors, oldest first. */
  recentErrors(): RecentError[];
  /** Stop counting events and remove the scrape collector. */
  close(): void;
}

/**
 * go-libp2p's `dial_errors_total` error label for a failure: "canceled", "deadline",
 * "connection refused" or "other".
 *
 * @example
 * ```ts
 * import { dialErrorLabel } from "@p2p-edge/libp2p/metrics";
 * dialErrorLabel(new Error("connect ECONNREFUSED 127.0.0.1:1")); // "connection refused"
 * ```
 */
export function dialErrorLabel(error: Error): string {
  const name = error.name;
  const text = `${error.message} ${String((error as { code?: unknown }).code ?? "")}`;
  if (name === "AbortError") return "canceled";
  if (name === "TimeoutError" || /timed? ?out/i.test(text)) return "deadline";
  if (/refused|ECONNREFUSED/i.test(text)) return "connection refused";
  return "other";
}

function connLabels(c: Connection): Record<string, string> {
  return {
    dir: c.direction,
    transport: transportLabel(c.remoteAddr),
    security: c.encryption,
    muxer: c.multiplexer,
    ip_version: ipVersionLabel(c.localAddr ?? c.remoteAddr),
  };
}

/**
 * Register the node's metrics in `registry` and start counting its connection events.
 *
 * @example
 * ```ts
 * import { createNode } from "@p2p-edge/libp2p";
 * import { collectNodeMetrics, MetricsRegistry } from "@p2p-edge/libp2p/metrics";
 * import { memory } from "@p2p-edge/libp2p/transports/memory";
 * import { noise } from "@p2p-edge/libp2p/protocols/noise";
 * import { yamux } from "@p2p-edge/libp2p/protocols/yamux";
 * const node = await createNode({
 *   transports: [memory()],
 *   connectionEncrypters: [noise()],
 *   streamMuxers: [yamux()],
 *   countTraffic: true,
 * });
 * const registry = new MetricsRegistry();
 * const metrics = collectNodeMetrics(node, registry);
 * console.log(await registry.expose());
 * metrics.close();
 * await node.stop();
 * ```
 */
export function collectNodeMetrics(node: Libp2pNode, registry: MetricsRegistry): NodeMetrics {
  const connLabelNames = ["dir", "transport", "security", "muxer", "ip_version"];
  const opened = registry.counter({
    name: "libp2p_swarm_connections_opened_total",
    help: "Connections Opened",
    labelNames: connLabelNames,
  });
  const closed = registry.counter({
    name: "libp2p_swarm_connections_closed_total",
    help: "Connections Closed",
    labelNames: connLabelNames,
  });
  const duration = registry.histogram({
    name: "libp2p_swarm_connection_duration_seconds",
    help: "Duration of a Connection",
    labelNames: connLabelNames,
    buckets: exponentialBuckets(1 / 16, 2, 25),
  });
  const handshake = registry.histogram({
    name: "libp2p_swarm_handshake_latency_seconds",
    help: "Duration of the libp2p Handshake",
    labelNames: ["transport", "security", "muxer", "ip_version"],
    buckets: exponentialBuckets(0.001, 1.3, 35),
  });
  const keyTypes = registry.counter({
    name: "libp2p_swarm_key_types_total",
    help: "key type",
    labelNames: ["dir", "key_type"],
  });
  const dialErrors = registry.counter({
    name: "libp2p_swarm_dial_errors_total",
    help: "Dial Error",
    labelNames: ["transport", "error", "ip_version"],
  });
  const errorsTotal = registry.counter({
    name: "libp2p_node_errors_total",
    help: "Errors the node reported, by kind (dial, handler; metrics: an event not counted)",
    labelNames: ["kind"],
  });
  const connections = registry.gauge({
    name: "libp2p_node_connections",
    help: "Open connections by direction and transport",
    labelNames: ["dir", "transport"],
  });
  const peers = registry.gauge({
    name: "libp2p_node_peers",
    help: "Peers with an open connection",
  });
  const pending = registry.gauge({
    name: "libp2p_node_pending",
    help: "Dials and inbound upgrades in progress",
    labelNames: ["kind"],
  });
  const evicted = registry.counter({
    name: "libp2p_node_evicted_inbound_total",
    help: "Silent inbound sockets evicted by newcomers",
  });
  const rcmgrConns = registry.gauge({
    name: "libp2p_rcmgr_connections",
    help: "Number of Connections",
    labelNames: ["dir", "scope"],
  });
  const rcmgrStreams = registry.gauge({
    name: "libp2p_rcmgr_streams",
    help: "Number of Streams (scope system: all; scope protocol: by protocol)",
    labelNames: ["scope", "protocol"],
  });
  const rcmgrMemory = registry.gauge({
    name: "libp2p_rcmgr_memory",
    help: "Amount of memory reserved as reported to the Resource Manager",
    labelNames: ["scope", "protocol"],
  });
  const peerStoreSize = registry.gauge({
    name: "libp2p_peerstore_peers",
    help: "Peers in the peer store",
  });
  const bytes = registry.counter({
    name: "libp2p_transport_bytes_total",
    help: "Bytes sent and received at the transport, by direction (countTraffic)",
    labelNames: ["dir", "transport"],
  });
  const reachability = registry.gauge({
    name: "libp2p_autonat_reachability_status",
    help: "Reachability as the node knows it: 0 unknown, 1 public, 2 private",
  });

  const errors: RecentError[] = [];
  const remember = (kind: string, error: unknown, context: string): void => {
    errorsTotal.inc({ kind });
    const e = error instanceof Error ? error : new Error(String(error));
    const message = `${e.name}: ${e.message}`.slice(0, MAX_ERROR_MESSAGE_LENGTH);
    errors.push({ at: Date.now(), kind, message, context: context.slice(0, 200) });
    if (errors.length > MAX_RECENT_ERRORS) errors.shift();
  };

  // Listeners never throw (HARDENING.md rule 5): an exception in an event listener is reported
  // to the runtime, which may end the process. A failure to count is counted instead.
  const guard = <T>(fn: (e: CustomEvent<T>) => void) => (e: CustomEvent<T>): void => {
    try {
      fn(e);
    } catch {
      errorsTotal.inc({ kind: "metrics" });
    }
  };
  const onOpen = guard((e: CustomEvent<Connection>): void => {
    const c = e.detail;
    const labels = connLabels(c);
    opened.inc(labels);
    keyTypes.inc({ dir: c.direction, key_type: c.remotePublicKey.type });
    const t = c.timeline;
    if (t.upgraded !== undefined) {
      const { dir: _, ...rest } = labels;
      handshake.observe(rest, Math.max(0, t.upgraded - t.open) / 1000);
    }
  });
  const onClose = guard((e: CustomEvent<Connection>): void => {
    const c = e.detail;
    const labels = connLabels(c);
    closed.inc(labels);
    duration.observe(
      labels,
      Math.max(0, (c.timeline.close ?? Date.now()) - c.timeline.open) / 1000,
    );
  });
  const onDialError = guard((e: CustomEvent<{ addr: Multiaddr; error: Error }>): void => {
    const { addr, error } = e.detail;
    dialErrors.inc({
      transport: transportLabel(addr),
      error: dialErrorLabel(error),
      ip_version: ipVersionLabel(addr),
    });
    remember("dial", error, addr.toString());
  });
  const onHandlerError = guard((e: CustomEvent<{ protocol: string; error: unknown }>): void =>
    remember("handler", e.detail.error, e.detail.protocol)
  );

  node.addEventListener("connection:open", onOpen);
  node.addEventListener("connection:close", onClose);
  node.addEventListener("dial:error", onDialError);
  node.addEventListener("stream:handler:error", onHandlerError);

  const removeCollector = registry.addCollector(() => {
    connections.clear();
    for (const c of node.getConnections()) {
      connections.inc({ dir: c.direction, transport: transportLabel(c.remoteAddr) });
    }
    const stats = node.stats();
    peers.set(undefined, stats.peers);
    pending.set({ kind: "dials" }, stats.pendingDials);
    pending.set({ kind: "upgrades" }, stats.pendingUpgrades);
    evicted.set(undefined, stats.manager.evictedInbound);
    rcmgrConns.set({ dir: "inbound", scope: "system" }, stats.manager.inbound);
    rcmgrConns.set({ dir: "outbound", scope: "system" }, stats.manager.outbound);
    rcmgrStreams.clear();
    rcmgrStreams.set({ scope: "system", protocol: "" }, stats.resources.streams);
    for (const [protocol, n] of Object.entries(stats.resources.protocols)) {
      rcmgrStreams.set({ scope: "protocol", protocol }, n);
    }
    rcmgrMemory.set({ scope: "system", protocol: "" }, stats.resources.memory);
    const size = (node.peerStore as { size?: unknown }).size;
    if (typeof size === "number") peerStoreSize.set(undefined, size);
    for (const [transport, cell] of Object.entries(node.traffic?.totals() ?? {})) {
      bytes.set({ dir: "inbound", transport }, cell.inbound);
      bytes.set({ dir: "outbound", transport }, cell.outbound);
    }
    const r = node.addressManager.reachability;
    reachability.set(undefined, r === "public" ? 1 : r === "private" ? 2 : 0);
  });

  return {
    recentErrors: () => [...errors],
    close: () => {
      node.removeEventListener("connection:open", onOpen);
      node.removeEventListener("connection:close", onClose);
      node.removeEventListener("dial:error", onDialError);
      node.removeEventListener("stream:handler:error", onHandlerError);
      removeCollector();
    },
  };
}
