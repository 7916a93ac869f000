/**
 * The Prometheus text exposition format, version 0.0.4: `# HELP` and `# TYPE` lines, then one
 * line per sample, `name{label="value",...} value`. Histograms expand into cumulative
 * `_bucket{le="..."}` samples ending with `le="+Inf"`, then `_sum` and `_count`.
 *
 * Escaping (format 0.0.4): in HELP text, `\` and line feed become `\\` and `\n`; in label
 * values, `\`, `"` and line feed become `\\`, `\"` and `\n`. Values are Go-style floats:
 * `NaN`, `+Inf`, `-Inf`.
 *
 * @module
 */

/** The content type of the text format 0.0.4. */
export const EXPOSITION_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

/** One series of a {@link MetricSnapshot}. */
export interface SeriesSnapshot {
  /** Label name and value pairs, in the metric's label order. */
  readonly labels: readonly (readonly [string, string])[];
  /** The value (a histogram's sum). */
  readonly value: number;
  /** Histograms: the count of each bucket, not cumulative. */
  readonly buckets?: readonly number[];
  /** Histograms: the number of observations. */
  readonly count?: number;
}

/** A metric's state as the formatter takes it. */
export interface MetricSnapshot {
  /** The metric name. */
  readonly name: string;
  /** The help text. */
  readonly help: string;
  /** "counter", "gauge" or "histogram". */
  readonly type: "counter" | "gauge" | "histogram";
  /** Its series. */
  readonly series: readonly SeriesSnapshot[];
  /** Histograms: the bucket upper bounds. */
  readonly bounds?: readonly number[];
}

/**
 * Escape HELP text: `\` and line feed.
 *
 * @example
 * ```ts
 * import { escapeHelp } from "@p2p-edge/libp2p/metrics";
 * escapeHelp("a\\b\nc"); // "a\\\\b\\nc"
 * ```
 */
export function escapeHelp(text: string): string {
  return text.replace(/\\/g, "\\\\").replace(/\n/g, "\\n");
}

/**
 * Escape a label value: `\`, `"` and line feed.
 *
 * @example
 * ```ts
 * import { escapeLabelValue } from "@p2p-edge/libp2p/metrics";
 * escapeLabelValue('say "hi"'); // 'say \\"hi\\"'
 * ```
 */
export function escapeLabelValue(value: string): string {
  return value.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");
}

/**
 * A sample value as the format writes it: `NaN`, `+Inf`, `-Inf`, or the number.
 *
 * @example
 * ```ts
 * import { formatValue } from "@p2p-edge/libp2p/metrics";
 * formatValue(Infinity); // "+Inf"
 * ```
 */
export function formatValue(v: number): string {
  if (Number.isNaN(v)) return "NaN";
  if (v === Infinity) return "+Inf";
  if (v === -Infinity) return "-Inf";
  return String(v);
}

function labelText(labels: readonly (readonly [string, string])[]): string {
  if (labels.length === 0) return "";
  return `{${labels.map(([n, v]) => `${n}="${escapeLabelValue(v)}"`).join(",")}}`;
}

/**
 * One metric in the text format: HELP, TYPE, then its samples (each line ends with `\n`).
 *
 * @example
 * ```ts
 * import { formatMetric } from "@p2p-edge/libp2p/metrics";
 * formatMetric({ name: "up", help: "Up", type: "gauge", series: [{ labels: [], value: 1 }] });
 * // "# HELP up Up\n# TYPE up gauge\nup 1\n"
 * ```
 */
export function formatMetric(m: MetricSnapshot): string {
  let out = `# HELP ${m.name} ${escapeHelp(m.help)}\n# TYPE ${m.name} ${m.type}\n`;
  for (const s of m.series) {
    if (m.type !== "histogram") {
      out += `${m.name}${labelText(s.labels)} ${formatValue(s.value)}\n`;
      continue;
    }
    const bounds = m.bounds ?? [];
    let cumulative = 0;
    for (let i = 0; i < bounds.length; i++) {
      cumulative += s.buckets?.[i] ?? 0;
      const le = [...s.labels, ["le", formatValue(bounds[i])] as const];
      out += `${m.name}_bucket${labelText(le)} ${cumulative}\n`;
    }
    const count = s.count ?? 0;
    out += `${m.name}_bucket${labelText([...s.labels, ["le", "+Inf"]])} ${count}\n`;
    out += `${m.name}_sum${labelText(s.labels)} ${formatValue(s.value)}\n`;
    out += `${m.name}_count${labelText(s.labels)} ${count}\n`;
  }
  return out;
}
