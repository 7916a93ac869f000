/**
 * The core's metric sources: transport byte counters (exact: what one side sent over TCP is what
 * the other received), the transport and IP-version labels, the recent-errors ring (bounded,
 * messages cut), handler errors counted, and a closed collector that stops counting.
 */

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { multiaddr } from "../../src/multiaddr/mod.ts";
import {
  collectNodeMetrics,
  dialErrorLabel,
  ipVersionLabel,
  MAX_ERROR_MESSAGE_LENGTH,
  MAX_RECENT_ERRORS,
  MetricsRegistry,
  transportLabel,
} from "../../src/metrics/mod.ts";
import { stopAll, testNode, testTcpNode, until } from "../helpers/nodes.ts";
import { parseExposition, sampleSum, sampleValue } from "./prom_parse.ts";

const SINK = "/test/sink/1.0.0";
const FAIL = "/test/fail/1.0.0";

describe("node metrics sources", () => {
  it("labels: transport and IP version from an address", () => {
    const cases: [string, string, string][] = [
      ["/ip4/1.2.3.4/tcp/1", "tcp", "ip4"],
      ["/ip6/::1/tcp/1/ws", "websocket", "ip6"],
      ["/dns4/example.com/tcp/443/wss", "websocket", "unknown"],
      ["/ip4/1.2.3.4/udp/1/quic-v1/webtransport", "webtransport", "ip4"],
      ["/ip4/1.2.3.4/udp/1/quic-v1", "quic", "ip4"],
      [
        "/ip4/1.2.3.4/tcp/1/p2p/12D3KooWGC6TvWhfapngX6wvJHMYvKpDMXPb3ZnCZ6dMoaMtimQ5/p2p-circuit",
        "circuit",
        "ip4",
      ],
      ["/memory/abc", "memory", "unknown"],
    ];
    for (const [addr, transport, ip] of cases) {
      assert.equal(transportLabel(multiaddr(addr)), transport, addr);
      assert.equal(ipVersionLabel(multiaddr(addr)), ip, addr);
    }
    assert.equal(transportLabel(undefined), "other");
    const refused = Object.assign(new Error("connect failed"), { code: "ECONNREFUSED" });
    assert.equal(dialErrorLabel(refused), "connection refused");
    assert.equal(dialErrorLabel(new DOMException("x", "AbortError")), "canceled");
    assert.equal(dialErrorLabel(new DOMException("x", "TimeoutError")), "deadline");
    assert.equal(dialErrorLabel(new Error("no route")), "other");
  });

  it("byte counters are exact: what one side sent over TCP, the other received", async () => {
    const a = await testTcpNode({ countTraffic: true });
    const b = await testTcpNode({ countTraffic: true });
    const done = Promise.withResolvers<void>();
    b.handle(SINK, async (s) => {
      const r = s.readable.getReader();
      while (!(await r.read()).done) { /* drain */ }
      await s.writable.close();
      done.resolve();
    });
    try {
      const stream = await a.dialProtocol(b.addrs()[0], SINK);
      const w = stream.writable.getWriter();
      for (let i = 0; i < 16; i++) await w.write(new Uint8Array(64 * 1024).fill(i));
      await w.close();
      await done.promise;
      await a.hangUp(b.peerId);
      await until(() => b.getConnections().length === 0);
      const sa = a.traffic!.totals().tcp;
      const sb = b.traffic!.totals().tcp;
      assert.ok(sa.outbound >= 1024 * 1024, `a sent ${sa.outbound}`);
      assert.equal(sb.inbound, sa.outbound);
      assert.equal(sa.inbound, sb.outbound);
      // Without countTraffic nothing is counted (and nothing wraps the channel).
      const plain = await testTcpNode();
      try {
        assert.equal(plain.traffic, undefined);
      } finally {
        await plain.stop();
      }
    } finally {
      await stopAll(a, b);
    }
  });

  it("recent errors: a bounded ring, messages cut; handler errors counted", async () => {
    const a = await testNode();
    const b = await testNode();
    const registry = new MetricsRegistry();
    const metrics = collectNodeMetrics(b, registry);
    b.handle(FAIL, () => {
      throw new Error("x".repeat(10_000));
    });
    try {
      for (let i = 0; i < MAX_RECENT_ERRORS + 10; i++) {
        const s = await a.dialProtocol(b.addrs()[0], FAIL);
        await s.readable.cancel().catch(() => {});
      }
      await until(() => metrics.recentErrors().length === MAX_RECENT_ERRORS, 10_000);
      await until(async () => {
        const m = parseExposition(await registry.expose());
        return sampleValue(m, "libp2p_node_errors_total", { kind: "handler" }) ===
          MAX_RECENT_ERRORS + 10;
      }, 10_000);
      const errors = metrics.recentErrors();
      assert.equal(errors.length, MAX_RECENT_ERRORS);
      for (const e of errors) {
        assert.equal(e.kind, "handler");
        assert.equal(e.context, FAIL);
        assert.ok(e.message.length <= MAX_ERROR_MESSAGE_LENGTH);
      }
      // Closed: events are no longer counted, and the scrape collector is gone.
      metrics.close();
      const before = parseExposition(await registry.expose());
      await a.hangUp(b.peerId);
      await until(() => b.getConnections().length === 0);
      const after = parseExposition(await registry.expose());
      assert.equal(
        sampleSum(after, "libp2p_swarm_connections_closed_total"),
        sampleSum(before, "libp2p_swarm_connections_closed_total"),
      );
    } finally {
      metrics.close();
      await stopAll(a, b);
    }
  });
});
