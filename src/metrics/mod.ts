/**
 * Metrics: a registry of counters, gauges and histograms rendered in the Prometheus text
 * exposition format 0.0.4, the node's collector (go-libp2p's metric names where the meaning
 * matches), and the transport byte counters. README "Metrics and status page".
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
 * });
 * const registry = new MetricsRegistry();
 * collectNodeMetrics(node, registry);
 * const text = await registry.expose();
 * await node.stop();
 * ```
 *
 * @module
 */

export {
  type Collector,
  Counter,
  DEFAULT_MAX_SERIES,
  exponentialBuckets,
  Gauge,
  Histogram,
  type HistogramOptions,
  type Labels,
  MAX_LABEL_VALUE_LENGTH,
  Metric,
  type MetricOptions,
  type MetricSeries,
  MetricsRegistry,
  type MetricType,
  OVERFLOW_LABEL_VALUE,
} from "./registry.ts";
export {
  escapeHelp,
  escapeLabelValue,
  EXPOSITION_CONTENT_TYPE,
  formatMetric,
  formatValue,
  type MetricSnapshot,
  type SeriesSnapshot,
} from "./exposition.ts";
export { ipVersionLabel, type TrafficCell, TrafficCounters, transportLabel } from "./traffic.ts";
export {
  collectNodeMetrics,
  dialErrorLabel,
  MAX_ERROR_MESSAGE_LENGTH,
  MAX_RECENT_ERRORS,
  type NodeMetrics,
  type RecentError,
} from "./node_collector.ts";
