/**
 * What the status page shows (`/status.json`): a snapshot of the node and its services, and the
 * bandwidth of the last minutes from {@link BandwidthHistory}, a sans-IO ring of byte totals
 * sampled at a fixed period (the caller's timer feeds it `now`).
 *
 * @module
 */

import type { Libp2pNode } from "../../src/node/node.ts";
import type { NodeMetrics, RecentError, TrafficCell } from "../../src/metrics/mod.ts";
import { transportLabel } from "../../src/metrics/mod.ts";
import type { EdgeServices } from "./collectors.ts";

/** Default sampling period of the bandwidth chart, ms. */
export const DEFAULT_SAMPLE_INTERVAL_MS = 5_000;

/** Default time the bandwidth chart covers, ms (10 minutes). */
export const DEFAULT_HISTORY_MS = 10 * 60_000;

/** Samples the ring holds at most, whatever the options (HARDENING.md rule 4). */
export const MAX_HISTORY_SAMPLES = 1_000;

/** Errors the status page lists (the most recent). */
export const STATUS_ERRORS = 20;

/** One point of the bandwidth chart: the mean rate over the interval that ends at `t`. */
export interface BandwidthPoint {
  /** End of the interval, ms since the epoch. */
  readonly t: number;
  /** Bytes per second received. */
  readonly inboundBps: number;
  /** Bytes per second sent. */
  readonly outboundBps: number;
}

/**
 * Byte totals sampled over time; {@link BandwidthHistory.points} turns them into rates.
 *
 * @example
 * ```ts
 * import { BandwidthHistory } from "./status.ts";
 * const h = new BandwidthHistory({ historyMs: 60_000, intervalMs: 1_000 });
 * h.record(0, { inbound: 0, outbound: 0 });
 * h.record(1_000, { inbound: 2_048, outbound: 1_024 });
 * h.points(); // [{ t: 1000, inboundBps: 2048, outboundBps: 1024 }]
 * ```
 */
export class BandwidthHistory {
  readonly #max: number;
  readonly #samples: { t: number; inbound: number; outbound: number }[] = [];

  /** `historyMs / intervalMs + 1` samples are kept (at most {@link MAX_HISTORY_SAMPLES}). */
  constructor(options: { historyMs?: number; intervalMs?: number } = {}) {
    const history = options.historyMs ?? DEFAULT_HISTORY_MS;
    const interval = options.intervalMs ?? DEFAULT_SAMPLE_INTERVAL_MS;
    if (!(interval > 0) || !(history >= interval)) {
      throw new RangeError("need intervalMs > 0 and historyMs >= intervalMs");
    }
    this.#max = Math.min(MAX_HISTORY_SAMPLES, Math.ceil(history / interval) + 1);
  }

  /** Record the totals at `now` (ms). */
  record(now: number, totals: TrafficCell): void {
    this.#samples.push({ t: now, inbound: totals.inbound, outbound: totals.outbound });
    if (this.#samples.length > this.#max) this.#samples.shift();
  }

  /** Rates between consecutive samples, oldest first. */
  points(): BandwidthPoint[] {
    const out: BandwidthPoint[] = [];
    for (let i = 1; i < this.#samples.length; i++) {
      const a = this.#samples[i - 1];
      const b = this.#samples[i];
      const s = (b.t - a.t) / 1000;
      if (!(s > 0)) continue;
      out.push({
        t: b.t,
        inboundBps: Math.max(0, b.inbound - a.inbound) / s,
        outboundBps: Math.max(0, b.outbound - a.outbound) / s,
      });
    }
    return out;
  }
}

/** The `/status.json` document. */
export interface EdgeStatus {
  /** Our peer id. */
  peerId: string;
  /** The node's status ("started", ...). */
  status: string;
  /** Seconds since the status source was made. */
  uptimeSeconds: number;
  /** Where the node listens. */
  listen: string[];
  /** Open connections. */
  connections: {
    total: number;
    byTransport: Record<string, { inbound: number; outbound: number }>;
  };
  /** Peers with an open connection. */
  peers: number;
  /** Peers in the peer store, when it reports its size. */
  peerStore?: number;
  /** Reachability as the node knows it (AutoNAT): unknown, public, private. */
  reachability: string;
  /** The relay server, when it runs. */
  relay?: { reservations: number; circuits: number; bytesRelayed: number; connects: number };
  /** The DHT, when it runs. */
  dht?: { tableSize: number; serverMode: boolean; served: number; sent: number };
  /** Pubsub, when it runs. */
  pubsub?: { peers: number; topics: number };
  /** Bytes since start and the chart's points (empty without `countTraffic`). */
  bandwidth: {
    counted: boolean;
    intervalSeconds: number;
    totals: TrafficCell;
    points: BandwidthPoint[];
  };
  /** The most recent errors, newest first. */
  errors: RecentError[];
}

/** What {@link buildStatus} reads. */
export interface StatusSource {
  /** The node. */
  node: Libp2pNode;
  /** Its metrics (recent errors). */
  metrics: NodeMetrics;
  /** Its services. */
  services: EdgeServices;
  /** The bandwidth ring. */
  history: BandwidthHistory;
  /** Its sampling period, ms. */
  intervalMs: number;
  /** When the source was made, ms since the epoch. */
  startedAt: number;
}

/**
 * The status document now.
 *
 * @example
 * ```ts ignore
 * const doc = buildStatus(source, Date.now());
 * console.log(doc.connections.total);
 * ```
 */
export function buildStatus(src: StatusSource, now: number): EdgeStatus {
  const { node, services } = src;
  const byTransport: Record<string, { inbound: number; outbound: number }> = {};
  const conns = node.getConnections();
  for (const c of conns) {
    const t = transportLabel(c.remoteAddr);
    const cell = byTransport[t] ??= { inbound: 0, outbound: 0 };
    cell[c.direction]++;
  }
  const size = (node.peerStore as { size?: unknown }).size;
  const doc: EdgeStatus = {
    peerId: node.peerId.toString(),
    status: node.status,
    uptimeSeconds: Math.max(0, Math.round((now - src.startedAt) / 1000)),
    listen: node.addrs().map(String),
    connections: { total: conns.length, byTransport },
    peers: node.stats().peers,
    peerStore: typeof size === "number" ? size : undefined,
    reachability: node.addressManager.reachability,
    bandwidth: {
      counted: node.traffic !== undefined,
      intervalSeconds: src.intervalMs / 1000,
      totals: node.traffic?.sum() ?? { inbound: 0, outbound: 0 },
      points: src.history.points(),
    },
    errors: src.metrics.recentErrors().slice(-STATUS_ERRORS).reverse(),
  };
  if (services.relay !== undefined) {
    const s = services.relay.stats();
    doc.relay = {
      reservations: s.reservations,
      circuits: s.circuits,
      bytesRelayed: Number(s.bytesRelayed),
      connects: s.connectsAccepted,
    };
  }
  if (services.dht !== undefined) {
    const s = services.dht.stats();
    doc.dht = {
      tableSize: s.routingTableSize,
      serverMode: services.dht.serverMode,
      served: s.served,
      sent: s.sent,
    };
  }
  if (services.pubsub !== undefined) {
    doc.pubsub = {
      peers: services.pubsub.getPeers().length,
      topics: services.pubsub.getTopics().length,
    };
  }
  return doc;
}
