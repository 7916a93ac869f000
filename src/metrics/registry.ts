/**
 * A small metrics registry: counters, gauges and histograms with labels, rendered in the
 * Prometheus text exposition format 0.0.4 (exposition.ts). Values are plain numbers kept in
 * maps; nothing runs until a scrape, when the registry's collectors read the node (pull, not
 * push: the hot path pays nothing for a metric that a collector reads from existing stats).
 *
 * Label values can come from remote input (a protocol id, a transport), so every metric caps its
 * number of series (HARDENING.md rule 4): past the cap, new label sets are folded into one
 * overflow series whose every label is {@link OVERFLOW_LABEL_VALUE}, and the registry counts the
 * folds in `libp2p_metrics_series_overflow_total{metric}`.
 *
 * @module
 */

import { formatMetric, type MetricSnapshot, type SeriesSnapshot } from "./exposition.ts";

/** Series one metric keeps before folding new label sets into the overflow series (rule 4). */
export const DEFAULT_MAX_SERIES = 512;

/** Label values longer than this many characters are cut (rule 4: peers choose protocol ids). */
export const MAX_LABEL_VALUE_LENGTH = 128;

/** The value of every label of the overflow series. */
export const OVERFLOW_LABEL_VALUE = "_overflow";

/** Metric names (Prometheus data model). */
const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
/** Label names; names starting with `__` are reserved. */
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

/** Label values by label name. */
export type Labels = Readonly<Record<string, string>>;

/** The kinds of metric. */
export type MetricType = "counter" | "gauge" | "histogram";

/** Options shared by every metric. */
export interface MetricOptions {
  /** The metric name, e.g. `libp2p_swarm_connections_opened_total`. */
  name: string;
  /** One line of help text. */
  help: string;
  /** Label names, in output order. Default none. */
  labelNames?: readonly string[];
  /** Series kept before new label sets fold into the overflow series. Default 512. */
  maxSeries?: number;
}

/** Options of a histogram. */
export interface HistogramOptions extends MetricOptions {
  /** Upper bounds of the buckets, finite and increasing (`+Inf` is implicit). */
  buckets: readonly number[];
}

/**
 * `count` buckets starting at `start`, each `factor` times the previous one (Prometheus'
 * ExponentialBuckets).
 *
 * @example
 * ```ts
 * import { exponentialBuckets } from "@p2p-edge/libp2p/metrics";
 * exponentialBuckets(1, 2, 4); // [1, 2, 4, 8]
 * ```
 */
export function exponentialBuckets(start: number, factor: number, count: number): number[] {
  if (!(start > 0) || !(factor > 1) || !Number.isInteger(count) || count < 1) {
    throw new RangeError("exponentialBuckets needs start > 0, factor > 1, count >= 1");
  }
  const out: number[] = [];
  for (let i = 0, v = start; i < count; i++, v *= factor) out.push(v);
  return out;
}

/** One series' state: a value, or a histogram's bucket counts (for subclasses of Metric). */
export interface MetricSeries {
  /** Label values, in the metric's label order. */
  readonly values: readonly string[];
  /** The value; a histogram's sum. */
  value: number;
  /** Histograms: count per bucket (not cumulative). */
  buckets?: number[];
  /** Histograms: the number of observations. */
  count?: number;
}

/**
 * The shared part of the three metric kinds: label handling and the series map.
 *
 * @example
 * ```ts
 * import { MetricsRegistry } from "@p2p-edge/libp2p/metrics";
 * const registry = new MetricsRegistry();
 * const c = registry.counter({ name: "jobs_total", help: "Jobs", labelNames: ["kind"] });
 * c.inc({ kind: "a" });
 * console.log(c.get({ kind: "a" })); // 1
 * ```
 */
export abstract class Metric {
  /** The metric name. */
  readonly name: string;
  /** The help text. */
  readonly help: string;
  /** Label names, in output order. */
  readonly labelNames: readonly string[];
  /** The kind, for `# TYPE`. */
  abstract readonly type: MetricType;
  readonly #maxSeries: number;
  readonly #series = new Map<string, MetricSeries>();
  readonly #onOverflow: (metric: string) => void;

  /** Use the registry's `counter`, `gauge` and `histogram`. */
  constructor(options: MetricOptions, onOverflow: (metric: string) => void) {
    if (!METRIC_NAME.test(options.name)) {
      throw new TypeError(`invalid metric name ${JSON.stringify(options.name)}`);
    }
    const labelNames = options.labelNames ?? [];
    for (const l of labelNames) {
      if (!LABEL_NAME.test(l) || l.startsWith("__")) {
        throw new TypeError(`invalid label name ${JSON.stringify(l)} of ${options.name}`);
      }
    }
    if (new Set(labelNames).size !== labelNames.length) {
      throw new TypeError(`duplicate label name in ${options.name}`);
    }
    const max = options.maxSeries ?? DEFAULT_MAX_SERIES;
    if (!Number.isInteger(max) || max < 1) throw new RangeError("maxSeries must be >= 1");
    this.name = options.name;
    this.help = options.help;
    this.labelNames = Object.freeze([...labelNames]);
    this.#maxSeries = max;
    this.#onOverflow = onOverflow;
  }

  /** The number of series held now. */
  get seriesCount(): number {
    return this.#series.size;
  }

  /** Drop every series (a collector that rebuilds a gauge at each scrape). */
  clear(): void {
    this.#series.clear();
  }

  /** The series for `labels`, made on first use (or the overflow series past the cap). */
  protected series(labels: Labels | undefined): MetricSeries {
    const values = this.labelNames.map((n) => {
      const v = labels?.[n];
      if (v === undefined) throw new TypeError(`${this.name}: label ${n} missing`);
      return v.length > MAX_LABEL_VALUE_LENGTH ? v.slice(0, MAX_LABEL_VALUE_LENGTH) : v;
    });
    const key = values.join("\u0000");
    let s = this.#series.get(key);
    if (s !== undefined) return s;
    if (this.#series.size >= this.#maxSeries) {
      this.#onOverflow(this.name);
      const overflow = this.labelNames.map(() => OVERFLOW_LABEL_VALUE);
      const okey = overflow.join("\u0000");
      s = this.#series.get(okey);
      if (s !== undefined) return s;
      s = this.newSeries(overflow);
      this.#series.set(okey, s);
      return s;
    }
    s = this.newSeries(values);
    this.#series.set(key, s);
    return s;
  }

  /** A fresh series with `values`. */
  protected newSeries(values: readonly string[]): MetricSeries {
    return { values, value: 0 };
  }

  /** The value for `labels` (0 when the series does not exist). Histograms: the sum. */
  get(labels?: Labels): number {
    const key = this.labelNames.map((n) => (labels?.[n] ?? "").slice(0, MAX_LABEL_VALUE_LENGTH))
      .join("\u0000");
    return this.#series.get(key)?.value ?? 0;
  }

  /** The current state, for the exposition format. */
  snapshot(): MetricSnapshot {
    const series: SeriesSnapshot[] = [];
    for (const s of this.#series.values()) {
      const labels: [string, string][] = this.labelNames.map((n, i) => [n, s.values[i]]);
      series.push({ labels, value: s.value, buckets: s.buckets, count: s.count });
    }
    return { name: this.name, help: this.help, type: this.type, series, bounds: this.bounds() };
  }

  /** Histogram bucket bounds; none for the other kinds. */
  protected bounds(): readonly number[] | undefined {
    return undefined;
  }
}

/**
 * A value that only goes up (or is read from a source that only goes up).
 *
 * @example
 * ```ts
 * import { MetricsRegistry } from "@p2p-edge/libp2p/metrics";
 * const opened = new MetricsRegistry().counter({ name: "opened_total", help: "Opened" });
 * opened.inc();
 * ```
 */
export class Counter extends Metric {
  /** "counter". */
  readonly type = "counter" as const;

  /** Add `n` (default 1, never negative). */
  inc(labels?: Labels, n = 1): void {
    if (!(n >= 0)) throw new RangeError(`${this.name}: a counter cannot decrease`);
    this.series(labels).value += n;
  }

  /** Set the total read from a monotonic source (a collector reading a service's stats). */
  set(labels: Labels | undefined, total: number): void {
    this.series(labels).value = total;
  }
}

/**
 * A value that goes up and down.
 *
 * @example
 * ```ts
 * import { MetricsRegistry } from "@p2p-edge/libp2p/metrics";
 * const peers = new MetricsRegistry().gauge({ name: "peers", help: "Peers" });
 * peers.set(undefined, 3);
 * ```
 */
export class Gauge extends Metric {
  /** "gauge". */
  readonly type = "gauge" as const;

  /** Set the value. */
  set(labels: Labels | undefined, value: number): void {
    this.series(labels).value = value;
  }

  /** Add `n` (default 1). */
  inc(labels?: Labels, n = 1): void {
    this.series(labels).value += n;
  }

  /** Subtract `n` (default 1). */
  dec(labels?: Labels, n = 1): void {
    this.series(labels).value -= n;
  }
}

/**
 * Observations counted into buckets, with their sum and count.
 *
 * @example
 * ```ts
 * import { MetricsRegistry } from "@p2p-edge/libp2p/metrics";
 * const h = new MetricsRegistry().histogram({ name: "rtt_seconds", help: "RTT", buckets: [0.1, 1] });
 * h.observe(undefined, 0.05);
 * ```
 */
export class Histogram extends Metric {
  /** "histogram". */
  readonly type = "histogram" as const;
  readonly #bounds: readonly number[];

  /** Use the registry's `histogram`. */
  constructor(options: HistogramOptions, onOverflow: (metric: string) => void) {
    super(options, onOverflow);
    if (this.labelNames.includes("le")) throw new TypeError(`${this.name}: "le" is reserved`);
    const b = options.buckets;
    if (b.length === 0) throw new RangeError(`${this.name}: at least one bucket`);
    for (let i = 0; i < b.length; i++) {
      if (!Number.isFinite(b[i]) || (i > 0 && !(b[i] > b[i - 1]))) {
        throw new RangeError(`${this.name}: buckets must be finite and increasing`);
      }
    }
    this.#bounds = Object.freeze([...b]);
  }

  /** Count `value` into its bucket. */
  observe(labels: Labels | undefined, value: number): void {
    const s = this.series(labels);
    const bounds = this.#bounds;
    let i = 0;
    while (i < bounds.length && value > bounds[i]) i++;
    // i === bounds.length: only the implicit +Inf bucket (the count) holds it.
    if (i < bounds.length) s.buckets![i]++;
    s.count! += 1;
    s.value += value;
  }

  /** How many observations the series for `labels` holds. */
  count(labels?: Labels): number {
    return this.snapshot().series.find((s) => s.labels.every(([n, v]) => (labels?.[n] ?? "") === v))
      ?.count ?? 0;
  }

  /** A fresh series with zeroed buckets. */
  protected override newSeries(values: readonly string[]): MetricSeries {
    return { values, value: 0, buckets: new Array(this.#bounds.length).fill(0), count: 0 };
  }

  /** The bucket upper bounds. */
  protected override bounds(): readonly number[] {
    return this.#bounds;
  }
}

/** Reads state into the registry's metrics at scrape time. May be async. */
export type Collector = () => void | Promise<void>;

/**
 * Holds metrics and collectors; {@link MetricsRegistry.expose} runs the collectors and renders
 * the text exposition format.
 *
 * @example
 * ```ts
 * import { MetricsRegistry } from "@p2p-edge/libp2p/metrics";
 * const registry = new MetricsRegistry();
 * const up = registry.gauge({ name: "up", help: "1 while serving" });
 * registry.addCollector(() => up.set(undefined, 1));
 * console.log(await registry.expose());
 * ```
 */
export class MetricsRegistry {
  readonly #metrics = new Map<string, Metric>();
  readonly #collectors: Collector[] = [];
  readonly #overflow: Counter;
  readonly #collectorErrors: Counter;

  /** An empty registry (with its own two housekeeping counters). */
  constructor() {
    const noop = (): void => {};
    // The housekeeping counters: one series per metric name, so their own cap is the number of
    // metrics, which the program (not a peer) decides.
    this.#overflow = this.#add(
      new Counter({
        name: "libp2p_metrics_series_overflow_total",
        help: "New label sets folded into a metric's overflow series (series cap reached)",
        labelNames: ["metric"],
      }, noop),
    );
    this.#collectorErrors = this.#add(
      new Counter({
        name: "libp2p_metrics_collector_errors_total",
        help: "Collectors that threw during a scrape",
      }, noop),
    );
    this.#collectorErrors.inc(undefined, 0);
  }

  #add<M extends Metric>(metric: M): M {
    if (this.#metrics.has(metric.name)) {
      throw new TypeError(`metric ${metric.name} is registered already`);
    }
    this.#metrics.set(metric.name, metric);
    return metric;
  }

  #folded = (metric: string): void => this.#overflow.inc({ metric });

  /** Register a counter. A counter without labels starts at 0 in the output. */
  counter(options: MetricOptions): Counter {
    const c = this.#add(new Counter(options, this.#folded));
    if (c.labelNames.length === 0) c.inc(undefined, 0);
    return c;
  }

  /** Register a gauge. */
  gauge(options: MetricOptions): Gauge {
    return this.#add(new Gauge(options, this.#folded));
  }

  /** Register a histogram. */
  histogram(options: HistogramOptions): Histogram {
    return this.#add(new Histogram(options, this.#folded));
  }

  /** The metric named `name`, if registered. */
  get(name: string): Metric | undefined {
    return this.#metrics.get(name);
  }

  /** Run `collector` before each exposition. Returns a function that removes it. */
  addCollector(collector: Collector): () => void {
    this.#collectors.push(collector);
    return () => {
      const i = this.#collectors.indexOf(collector);
      if (i >= 0) this.#collectors.splice(i, 1);
    };
  }

  /** Run every collector; one that throws is counted and the others still run. */
  async collect(): Promise<void> {
    for (const c of [...this.#collectors]) {
      try {
        await c();
      } catch {
        this.#collectorErrors.inc();
      }
    }
  }

  /** Collect, then render every metric in the text exposition format 0.0.4. */
  async expose(): Promise<string> {
    await this.collect();
    let out = "";
    for (const m of this.#metrics.values()) out += formatMetric(m.snapshot());
    return out;
  }
}
