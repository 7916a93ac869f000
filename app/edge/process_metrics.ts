/**
 * Process metrics of the edge node: resident memory (Prometheus' standard
 * `process_resident_memory_bytes`), the JavaScript heap, and event-loop lag, measured as how late
 * a 500 ms timer fires (the largest delay since the last scrape, and the latest one). The soak
 * bench (bench/edge_soak.ts) samples them to show that nothing grows without bound.
 *
 * @module
 */

import process from "node:process";
import type { MetricsRegistry } from "../../src/metrics/mod.ts";

/** How often the lag probe's timer is due, ms. */
export const LAG_PROBE_INTERVAL_MS = 500;

/**
 * Register the process metrics; returns a function that stops the lag probe and removes them.
 *
 * @example
 * ```ts ignore
 * import { MetricsRegistry } from "../../src/metrics/mod.ts";
 * import { collectProcessMetrics } from "./process_metrics.ts";
 * const stop = collectProcessMetrics(new MetricsRegistry());
 * stop();
 * ```
 */
export function collectProcessMetrics(registry: MetricsRegistry): () => void {
  const rss = registry.gauge({
    name: "process_resident_memory_bytes",
    help: "Resident memory size in bytes.",
  });
  const heap = registry.gauge({
    name: "process_heap_used_bytes",
    help: "JavaScript heap in use, bytes.",
  });
  const lagMax = registry.gauge({
    name: "process_event_loop_lag_max_seconds",
    help: "Largest event-loop delay since the previous scrape (a 500 ms timer's lateness).",
  });
  const lagLast = registry.gauge({
    name: "process_event_loop_lag_seconds",
    help: "The latest event-loop delay (a 500 ms timer's lateness).",
  });
  let last = 0;
  let max = 0;
  let due = performance.now() + LAG_PROBE_INTERVAL_MS;
  const timer = setInterval(() => {
    const now = performance.now();
    last = Math.max(0, now - due);
    max = Math.max(max, last);
    due = now + LAG_PROBE_INTERVAL_MS;
  }, LAG_PROBE_INTERVAL_MS);
  // Never keeps the process alive by itself.
  (timer as { unref?: () => void }).unref?.();
  const remove = registry.addCollector(() => {
    const mem = process.memoryUsage();
    rss.set(undefined, mem.rss);
    heap.set(undefined, mem.heapUsed);
    lagMax.set(undefined, max / 1000);
    lagLast.set(undefined, last / 1000);
    max = last;
  });
  return () => {
    clearInterval(timer);
    remove();
  };
}
