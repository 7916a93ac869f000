/**
 * The status page in headless Chromium: the edge network of edge_fixture.ts with a relayed
 * echo, then Chromium loads `/` from the edge's HTTP address, the page's script polls
 * `/status.json` and renders, and Chromium prints the DOM (`--dump-dom`, with a virtual time
 * budget so the page runs its polls first). The test reads the rendered numbers back and checks
 * them against the node: connections, relay reservations, DHT table size, the connection table
 * by transport and the bandwidth chart's points.
 *
 * Chromium is started through node:child_process, so the test runs on Deno and on Bun (the page
 * is served by Deno.serve or Bun.serve). Skipped when Chromium is missing on a dev machine; with
 * CI=true a missing Chromium fails instead (as tests/browser/browser_test.ts). CHROMIUM selects
 * another binary.
 */

import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { attrOf, CHROMIUM, dumpDom, SKIP, textOf } from "./chromium.ts";
import { until } from "../helpers/nodes.ts";
import { echoOver, type EdgeFixture, startEdgeFixture } from "./edge_fixture.ts";

describe("status page in headless Chromium (127.0.0.1)", { skip: SKIP }, () => {
  let f: EdgeFixture | undefined;
  let dom = "";

  before(async () => {
    if (!existsSync(CHROMIUM)) {
      throw new Error(`CI=true but ${CHROMIUM} is missing: .ci/run must install chromium`);
    }
    f = await startEdgeFixture(100);
    await f.connectBootstrap();
    const conn = await f.relayed();
    await echoOver(conn, 128 * 1024);
    await until(() => f!.edge.services.dht.stats().routingTableSize >= 1, 10_000);
    // A few bandwidth samples before the page loads.
    await until(() => f!.server.http.status().bandwidth.points.length >= 3, 10_000);
    dom = await dumpDom(`${f.server.url}/?every=250`);
  });
  after(async () => {
    await f?.stop();
  });

  it("the page polled /status.json and rendered the node's numbers", () => {
    const edge = f!.edge;
    assert.ok(Number(attrOf(dom, "bw-chart", "data-points")) >= 1, "no chart points");
    const updates = /<body[^>]*data-updates="(\d+)"/.exec(dom)?.[1];
    assert.ok(Number(updates) >= 1, `the page never rendered (updates ${updates})`);
    assert.equal(textOf(dom, "peer-id"), edge.peerId.toString());
    assert.equal(textOf(dom, "node-status"), "started");
    const conns = textOf(dom, "conn-total");
    assert.match(conns, /^\d+$/);
    assert.equal(Number(conns), edge.getConnections().length);
    assert.equal(textOf(dom, "relay-reservations"), "1");
    assert.equal(textOf(dom, "relay-circuits"), "1");
    const table = textOf(dom, "dht-table");
    assert.match(table, /^\d+$/);
    assert.ok(Number(table) >= 1);
    assert.equal(textOf(dom, "dht-mode"), "server");
    assert.match(textOf(dom, "peers"), /^\d+$/);
    assert.equal(textOf(dom, "reachability"), edge.addressManager.reachability);
    assert.match(textOf(dom, "relay-bytes"), /^\d+(\.\d)? (B|KiB|MiB)$/);
  });

  it("connections by transport and the bandwidth chart are drawn", () => {
    // One table row per transport with its inbound and outbound counts.
    const rows = [
      ...dom.matchAll(
        /<tr data-transport="([^"]+)"><td>[^<]*<\/td><td>(\d+)<\/td><td>(\d+)<\/td><\/tr>/g,
      ),
    ];
    const byTransport = Object.fromEntries(rows.map((r) => [r[1], [Number(r[2]), Number(r[3])]]));
    assert.ok(byTransport.tcp !== undefined, `no tcp row in ${rows.map((r) => r[0]).join(" ")}`);
    assert.ok(byTransport.websocket !== undefined, "no websocket row");
    assert.ok(byTransport.tcp[1] >= 1, "the edge's outbound TCP connection to its bootstrap peer");
    assert.ok(byTransport.websocket[0] >= 1, "b's inbound WebSocket connection");
    const points = attrOf(dom, "bw-in-line", "points").trim().split(/\s+/);
    assert.ok(points.length >= 1 && points[0] !== "", "the inbound line has no points");
    for (const p of points) assert.match(p, /^-?\d+(\.\d+)?,-?\d+(\.\d+)?$/);
    assert.match(textOf(dom, "bw-total-in"), /^\d+(\.\d)? (B|KiB|MiB|GiB)$/);
    assert.match(textOf(dom, "errors-count"), /^\d+$/);
  });
});
