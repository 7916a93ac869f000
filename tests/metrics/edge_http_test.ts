/**
 * The edge node's HTTP surface end to end on loopback (edge_fixture.ts): `/healthz`, `/readyz`
 * going 503 -> 200 when the bootstrap peer connects, and `/metrics` scraped and parsed (not
 * grepped) before and after traffic: connections by transport and direction, bytes, relay
 * reservations, circuits and relayed bytes, DHT table size, dial errors, connection durations
 * all move as the traffic flows. Then `/status.json` reports the same. Runs on Deno
 * (Deno.serve) and Bun (Bun.serve).
 */

import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { EXPOSITION_CONTENT_TYPE } from "../../src/metrics/mod.ts";
import type { EdgeStatus } from "../../app/edge/mod.ts";
import { until } from "../helpers/nodes.ts";
import { echoOver, type EdgeFixture, startEdgeFixture } from "./edge_fixture.ts";
import { type Family, parseExposition, sampleSum, sampleValue } from "./prom_parse.ts";

const RELAYED_BYTES = 256 * 1024;

describe("edge HTTP surface: /metrics, /healthz, /readyz, /status.json (loopback)", () => {
  let f: EdgeFixture;

  before(async () => {
    f = await startEdgeFixture(100);
  });
  after(async () => {
    await f?.stop();
  });

  async function scrape(): Promise<Map<string, Family>> {
    const res = await f.get("/metrics");
    assert.equal(res.status, 200);
    assert.equal(res.headers.get("content-type"), EXPOSITION_CONTENT_TYPE);
    return parseExposition(await res.text());
  }

  it("healthz answers 200 while serving; readyz 503 until a bootstrap peer connects, then 200", async () => {
    const health = await f.get("/healthz");
    assert.equal(health.status, 200);
    assert.equal(await health.text(), "ok\n");
    const before = await f.get("/readyz");
    assert.equal(before.status, 503);
    assert.match(await before.text(), /no bootstrap peer connected/);
    await f.connectBootstrap();
    const afterwards = await f.get("/readyz");
    assert.equal(afterwards.status, 200);
    assert.match(await afterwards.text(), /^ready/);
  });

  it("metrics move as traffic flows: connections, bytes, relay, DHT", async () => {
    const m0 = await scrape();
    const opened0 = sampleSum(m0, "libp2p_swarm_connections_opened_total");
    const bytesIn0 = sampleSum(m0, "libp2p_transport_bytes_total", { dir: "inbound" });
    const bytesOut0 = sampleSum(m0, "libp2p_transport_bytes_total", { dir: "outbound" });
    // The fixture's edge dialled the bootstrap peer over TCP (previous test).
    assert.ok(
      (sampleValue(m0, "libp2p_swarm_connections_opened_total", {
        dir: "outbound",
        transport: "tcp",
      }) ?? 0) >= 1,
    );
    assert.equal(sampleValue(m0, "libp2p_relaysvc_active", { kind: "reservations" }), 0);
    assert.equal(sampleValue(m0, "libp2p_relaysvc_status"), 1);

    const conn = await f.relayed();
    await echoOver(conn, RELAYED_BYTES);
    await until(() => (f.edge.services.dht.stats().routingTableSize) >= 1, 10_000);

    const m1 = await scrape();
    // Connections: a over TCP and b over WebSocket, both inbound, with their security and muxer.
    const opened = (labels: Record<string, string>): number =>
      sampleSum(m1, "libp2p_swarm_connections_opened_total", labels);
    assert.ok(sampleSum(m1, "libp2p_swarm_connections_opened_total") >= opened0 + 2);
    assert.ok(opened({ dir: "inbound", transport: "tcp", security: "/noise" }) >= 1);
    assert.ok(opened({ dir: "inbound", transport: "websocket", muxer: "/yamux/1.0.0" }) >= 1);
    assert.ok(opened({ ip_version: "ip4" }) >= 3);
    assert.ok(
      sampleSum(m1, "libp2p_node_connections", { dir: "inbound", transport: "websocket" }) >= 1,
    );
    assert.ok(sampleSum(m1, "libp2p_node_connections", { dir: "outbound", transport: "tcp" }) >= 1);
    assert.ok((sampleValue(m1, "libp2p_node_peers") ?? 0) >= 3);
    assert.ok((sampleValue(m1, "libp2p_peerstore_peers") ?? 0) >= 3);
    assert.ok(sampleSum(m1, "libp2p_swarm_key_types_total", { key_type: "Ed25519" }) >= 3);
    assert.ok(sampleSum(m1, "libp2p_swarm_handshake_latency_seconds_count") >= 3);
    assert.ok(
      (sampleValue(m1, "libp2p_rcmgr_connections", { dir: "inbound", scope: "system" }) ?? 0) >= 2,
    );
    assert.ok((sampleValue(m1, "libp2p_rcmgr_streams", { scope: "system" }) ?? 0) >= 1);

    // Bytes: the relayed echo passes the edge twice in each direction (in from one client,
    // out to the other), Noise and yamux framing on top.
    const bytesIn1 = sampleSum(m1, "libp2p_transport_bytes_total", { dir: "inbound" });
    const bytesOut1 = sampleSum(m1, "libp2p_transport_bytes_total", { dir: "outbound" });
    assert.ok(bytesIn1 - bytesIn0 >= 2 * RELAYED_BYTES, `in ${bytesIn0} -> ${bytesIn1}`);
    assert.ok(bytesOut1 - bytesOut0 >= 2 * RELAYED_BYTES, `out ${bytesOut0} -> ${bytesOut1}`);
    assert.ok(sampleSum(m1, "libp2p_transport_bytes_total", { transport: "websocket" }) > 0);

    // Relay: one reservation opened and held, one circuit, the echo's bytes relayed.
    assert.equal(sampleValue(m1, "libp2p_relaysvc_reservations_total", { type: "opened" }), 1);
    assert.equal(sampleValue(m1, "libp2p_relaysvc_active", { kind: "reservations" }), 1);
    assert.equal(sampleValue(m1, "libp2p_relaysvc_active", { kind: "circuits" }), 1);
    assert.equal(sampleValue(m1, "libp2p_relaysvc_connections_total", { type: "opened" }), 1);
    assert.equal(
      sampleValue(m1, "libp2p_relaysvc_reservation_request_response_status_total", {
        status: "ok",
      }),
      1,
    );
    assert.ok(
      (sampleValue(m1, "libp2p_relaysvc_data_transferred_bytes_total") ?? 0) >= 2 * RELAYED_BYTES,
    );
    // Streams by protocol: the circuit's HOP stream is open on the edge.
    assert.ok(
      (sampleValue(m1, "libp2p_rcmgr_streams", {
        scope: "protocol",
        protocol: "/libp2p/circuit/relay/0.2.0/hop",
      }) ?? 0) >= 1,
    );

    // DHT: the bootstrap peer (a DHT server) is in the edge's table; it answered requests.
    assert.ok((sampleValue(m1, "libp2p_kad_dht_routing_table_size") ?? 0) >= 1);
    assert.equal(sampleValue(m1, "libp2p_kad_dht_server_mode"), 1);
  });

  it("a failed dial is counted by transport and error and listed in the recent errors", async () => {
    // Port 1 on loopback: nothing listens there.
    await assert.rejects(f.edge.dial("/ip4/127.0.0.1/tcp/1"));
    const m = await scrape();
    assert.ok(
      (sampleValue(m, "libp2p_swarm_dial_errors_total", {
        transport: "tcp",
        error: "connection refused",
        ip_version: "ip4",
      }) ?? 0) >= 1,
    );
    assert.ok((sampleValue(m, "libp2p_node_errors_total", { kind: "dial" }) ?? 0) >= 1);
    const status = await (await f.get("/status.json")).json() as EdgeStatus;
    assert.ok(status.errors.some((e) => e.kind === "dial" && e.context.endsWith("/tcp/1")));
  });

  it("closing connections moves closed_total and the duration histogram", async () => {
    const m0 = await scrape();
    const closed0 = sampleSum(m0, "libp2p_swarm_connections_closed_total");
    const durations0 = sampleSum(m0, "libp2p_swarm_connection_duration_seconds_count");
    for (const c of f.b.getConnections(f.edge.peerId)) c.abort();
    await until(() => f.edge.getConnections(f.b.peerId).length === 0, 10_000);
    const m1 = await scrape();
    assert.ok(sampleSum(m1, "libp2p_swarm_connections_closed_total") >= closed0 + 1);
    assert.ok(
      sampleSum(m1, "libp2p_swarm_connections_closed_total", { transport: "websocket" }) >= 1,
    );
    assert.ok(sampleSum(m1, "libp2p_swarm_connection_duration_seconds_count") >= durations0 + 1);
    // The circuit ended with b's connection.
    await until(async () => {
      const m = await scrape();
      return sampleValue(m, "libp2p_relaysvc_active", { kind: "circuits" }) === 0;
    }, 10_000);
  });

  it("status.json reports connections by transport, relay, DHT and a bandwidth series", async () => {
    // A few sampling periods so that the chart has points.
    await until(async () => {
      const s = await (await f.get("/status.json")).json() as EdgeStatus;
      return s.bandwidth.points.length >= 3;
    }, 10_000);
    const res = await f.get("/status.json");
    assert.equal(res.status, 200);
    assert.match(res.headers.get("content-type") ?? "", /application\/json/);
    const s = await res.json() as EdgeStatus;
    assert.equal(s.peerId, f.edge.peerId.toString());
    assert.equal(s.status, "started");
    assert.equal(s.connections.total, f.edge.getConnections().length);
    assert.ok((s.connections.byTransport.tcp?.outbound ?? 0) >= 1);
    assert.equal(s.relay?.reservations, 1);
    assert.ok((s.relay?.bytesRelayed ?? 0) >= 2 * RELAYED_BYTES);
    assert.ok((s.dht?.tableSize ?? 0) >= 1);
    assert.equal(s.bandwidth.counted, true);
    assert.ok(s.bandwidth.totals.inbound >= 2 * RELAYED_BYTES);
    for (const p of s.bandwidth.points) {
      assert.ok(Number.isFinite(p.inboundBps) && p.inboundBps >= 0);
      assert.ok(Number.isFinite(p.outboundBps) && p.outboundBps >= 0);
    }
  });

  it("the page, 404 and 405", async () => {
    const page = await f.get("/");
    assert.equal(page.status, 200);
    assert.match(page.headers.get("content-type") ?? "", /text\/html/);
    assert.match(page.headers.get("content-security-policy") ?? "", /default-src 'none'/);
    assert.match(await page.text(), /id="conn-total"/);
    const missing = await f.get("/nope");
    assert.equal(missing.status, 404);
    await missing.body?.cancel();
    const post = await f.get("/metrics", { method: "POST", body: "x" });
    assert.equal(post.status, 405);
    await post.body?.cancel();
  });
});
