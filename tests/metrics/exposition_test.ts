/**
 * The registry and the text exposition format 0.0.4: rendered text is parsed back with the
 * strict parser of prom_parse.ts (HELP/TYPE before samples, escapes, values, histogram
 * expansion), and the series cap folds new label sets into the overflow series.
 */

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import {
  escapeHelp,
  escapeLabelValue,
  exponentialBuckets,
  formatValue,
  MAX_LABEL_VALUE_LENGTH,
  MetricsRegistry,
  OVERFLOW_LABEL_VALUE,
} from "../../src/metrics/mod.ts";
import { parseExposition, sampleValue } from "./prom_parse.ts";

describe("metrics exposition format 0.0.4", () => {
  it("counters and gauges with labels parse back with HELP and TYPE", async () => {
    const r = new MetricsRegistry();
    const c = r.counter({
      name: "t_opened_total",
      help: "Opened",
      labelNames: ["dir", "transport"],
    });
    const g = r.gauge({ name: "t_peers", help: "Peers now" });
    c.inc({ dir: "inbound", transport: "tcp" });
    c.inc({ dir: "inbound", transport: "tcp" }, 2);
    c.inc({ dir: "outbound", transport: "websocket" });
    g.set(undefined, 7);
    g.dec(undefined, 2);
    const fam = parseExposition(await r.expose());
    assert.equal(fam.get("t_opened_total")?.type, "counter");
    assert.equal(fam.get("t_opened_total")?.help, "Opened");
    assert.equal(fam.get("t_peers")?.type, "gauge");
    assert.equal(sampleValue(fam, "t_opened_total", { dir: "inbound", transport: "tcp" }), 3);
    assert.equal(sampleValue(fam, "t_opened_total", { dir: "outbound" }), 1);
    assert.equal(sampleValue(fam, "t_peers"), 5);
    // The registry's own counters are there too, at 0.
    assert.equal(sampleValue(fam, "libp2p_metrics_collector_errors_total"), 0);
  });

  it("a labelless counter shows 0 before its first increment", async () => {
    const r = new MetricsRegistry();
    r.counter({ name: "t_zero_total", help: "Zero" });
    assert.equal(sampleValue(parseExposition(await r.expose()), "t_zero_total"), 0);
  });

  it("escapes HELP text and label values; the parser restores them exactly", async () => {
    assert.equal(escapeHelp("a\\b\nc"), "a\\\\b\\nc");
    assert.equal(escapeLabelValue('q"\\\n'), 'q\\"\\\\\\n');
    const r = new MetricsRegistry();
    const nasty = 'proto "x" \\ back\nslash } , =';
    const c = r.counter({
      name: "t_streams_total",
      help: "Line one\nback\\slash",
      labelNames: ["protocol"],
    });
    c.inc({ protocol: nasty });
    const text = await r.expose();
    // One sample per line: the newline inside the value is escaped.
    const lines = text.split("\n").filter((l) => l.startsWith("t_streams_total"));
    assert.equal(lines.length, 1);
    const fam = parseExposition(text);
    assert.equal(fam.get("t_streams_total")?.help, "Line one\nback\\slash");
    assert.equal(fam.get("t_streams_total")?.samples[0].labels.protocol, nasty);
  });

  it("special values are written NaN, +Inf and -Inf", async () => {
    assert.equal(formatValue(NaN), "NaN");
    assert.equal(formatValue(Infinity), "+Inf");
    assert.equal(formatValue(-Infinity), "-Inf");
    assert.equal(formatValue(1.5e-7), "1.5e-7");
    const r = new MetricsRegistry();
    const g = r.gauge({ name: "t_special", help: "x", labelNames: ["k"] });
    g.set({ k: "nan" }, NaN);
    g.set({ k: "inf" }, Infinity);
    g.set({ k: "ninf" }, -Infinity);
    g.set({ k: "tiny" }, 1.5e-7);
    const fam = parseExposition(await r.expose());
    assert.ok(Number.isNaN(sampleValue(fam, "t_special", { k: "nan" })));
    assert.equal(sampleValue(fam, "t_special", { k: "inf" }), Infinity);
    assert.equal(sampleValue(fam, "t_special", { k: "ninf" }), -Infinity);
    assert.equal(sampleValue(fam, "t_special", { k: "tiny" }), 1.5e-7);
  });

  it("histograms expand into cumulative buckets, +Inf, _sum and _count", async () => {
    const r = new MetricsRegistry();
    const h = r.histogram({
      name: "t_duration_seconds",
      help: "Duration",
      labelNames: ["dir"],
      buckets: [0.1, 1, 10],
    });
    for (const v of [0.05, 0.1, 0.5, 5, 50]) h.observe({ dir: "inbound" }, v);
    const fam = parseExposition(await r.expose());
    assert.equal(fam.get("t_duration_seconds")?.type, "histogram");
    const b = (le: string): number | undefined =>
      sampleValue(fam, "t_duration_seconds_bucket", { dir: "inbound", le });
    assert.equal(b("0.1"), 2); // 0.05 and 0.1 (le is inclusive)
    assert.equal(b("1"), 3);
    assert.equal(b("10"), 4);
    assert.equal(b("+Inf"), 5);
    assert.equal(sampleValue(fam, "t_duration_seconds_count", { dir: "inbound" }), 5);
    assert.equal(sampleValue(fam, "t_duration_seconds_sum", { dir: "inbound" }), 55.65);
    assert.equal(h.count({ dir: "inbound" }), 5);
    assert.deepEqual(exponentialBuckets(1 / 16, 2, 3), [0.0625, 0.125, 0.25]);
  });

  it("the series cap folds new label sets into one overflow series, counted", async () => {
    const r = new MetricsRegistry();
    const c = r.counter({
      name: "t_capped_total",
      help: "x",
      labelNames: ["protocol"],
      maxSeries: 3,
    });
    for (let i = 0; i < 100; i++) c.inc({ protocol: `/p/${i}` });
    assert.equal(c.seriesCount, 4); // 3 + the overflow series
    const fam = parseExposition(await r.expose());
    assert.equal(sampleValue(fam, "t_capped_total", { protocol: OVERFLOW_LABEL_VALUE }), 97);
    assert.equal(
      sampleValue(fam, "libp2p_metrics_series_overflow_total", { metric: "t_capped_total" }),
      97,
    );
    // An existing series keeps counting after the cap.
    c.inc({ protocol: "/p/0" });
    assert.equal(c.get({ protocol: "/p/0" }), 2);
  });

  it("long label values are cut", async () => {
    const r = new MetricsRegistry();
    const c = r.counter({ name: "t_long_total", help: "x", labelNames: ["protocol"] });
    c.inc({ protocol: "x".repeat(10_000) });
    const fam = parseExposition(await r.expose());
    assert.equal(
      fam.get("t_long_total")?.samples[0].labels.protocol.length,
      MAX_LABEL_VALUE_LENGTH,
    );
  });

  it("collectors run at each scrape; one that throws is counted and the rest still run", async () => {
    const r = new MetricsRegistry();
    const g = r.gauge({ name: "t_scrapes", help: "x" });
    let n = 0;
    r.addCollector(() => {
      throw new Error("broken collector");
    });
    const remove = r.addCollector(() => g.set(undefined, ++n));
    await r.expose();
    const fam = parseExposition(await r.expose());
    assert.equal(sampleValue(fam, "t_scrapes"), 2);
    assert.equal(sampleValue(fam, "libp2p_metrics_collector_errors_total"), 2);
    remove();
    assert.equal(sampleValue(parseExposition(await r.expose()), "t_scrapes"), 2);
  });

  it("rejects bad names, reserved labels, duplicates and decreasing counters", () => {
    const r = new MetricsRegistry();
    assert.throws(() => r.counter({ name: "bad-name", help: "x" }), TypeError);
    assert.throws(() => r.counter({ name: "t_a", help: "x", labelNames: ["__x"] }), TypeError);
    assert.throws(() => r.counter({ name: "t_b", help: "x", labelNames: ["a", "a"] }), TypeError);
    assert.throws(
      () => r.histogram({ name: "t_h", help: "x", labelNames: ["le"], buckets: [1] }),
      TypeError,
    );
    assert.throws(() => r.histogram({ name: "t_h2", help: "x", buckets: [2, 1] }), RangeError);
    const c = r.counter({ name: "t_c", help: "x", labelNames: ["k"] });
    assert.throws(() => r.counter({ name: "t_c", help: "x" }), TypeError);
    assert.throws(() => c.inc({ k: "a" }, -1), RangeError);
    assert.throws(() => c.inc({}), TypeError);
  });

  it("the parser is strict: it refuses what Prometheus would", () => {
    assert.throws(() => parseExposition("x 1\n"), /without a TYPE/);
    assert.throws(() => parseExposition('# TYPE x gauge\nx{a="\\q"} 1\n'), /bad escape/);
    assert.throws(() => parseExposition("# TYPE x gauge\nx one\n"), /bad value/);
    assert.throws(() => parseExposition("# TYPE x gauge\nx 1\nx 2\n"), /duplicate/);
    assert.throws(() => parseExposition("# TYPE x gauge\nx 1"), /end with/);
  });
});
