/**
 * The edge node end to end (issue 21's must-show): the CLI started with `--preset edge` (relay,
 * DHT server, AutoNAT) and `--metrics`, loopback peers allowed, on the runtime running the tests, with
 * js-libp2p nodes (kad-dht 16.4.5 server mode and circuit-relay-v2 4.2.13, under Deno) that
 * bootstrap their DHT from it, reserve on it and connect through it. `/metrics` is scraped and
 * parsed before and after the traffic (counters move), `/healthz` and `/readyz` answer, and the
 * status page renders in headless Chromium.
 */

import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type CliRun, startCli } from "../cli/cli_process.ts";
import { startJsCommandPeer } from "../interop/js_command_peer.ts";
import type { JsCommandPeer } from "../interop/js_command_peer.ts";
import { parseExposition, sampleSum, sampleValue } from "../metrics/prom_parse.ts";
import { dumpDom, SKIP as NO_CHROMIUM, textOf } from "../metrics/chromium.ts";
import { until } from "../helpers/nodes.ts";

/** The edge node: `--preset edge` (relay, DHT server, AutoNAT), loopback peers allowed. */
const EDGE_FLAGS = ["--preset", "edge", "--allow-private-addresses"];

function startJs(relay?: string): Promise<JsCommandPeer> {
  return startJsCommandPeer({
    script: new URL("./edge_js_peer.ts", import.meta.url).pathname,
    label: "edge",
    args: [relay ?? ""],
  });
}

async function scrape(url: string): Promise<ReturnType<typeof parseExposition>> {
  const res = await fetch(url);
  assert.equal(res.status, 200);
  assert.match(res.headers.get("content-type") ?? "", /text\/plain/);
  return parseExposition(await res.text());
}

describe("the edge node with js-libp2p peers", () => {
  let dir: string;
  let edge: CliRun;
  let edgeAddr: string;
  let base: string;
  const js: JsCommandPeer[] = [];

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "p2p-edge-node-"));
    edge = startCli([
      ...EDGE_FLAGS,
      "--listen",
      "/ip4/127.0.0.1/tcp/0",
      "--key",
      join(dir, "node.key"),
      "--metrics",
      "127.0.0.1:0",
    ]);
    edgeAddr = (await edge.line(/^listening \/ip4\/127\.0\.0\.1\/tcp\/\d+\/p2p\//)).split(" ")[1];
    base = (await edge.line(/^metrics http:/)).split(" ")[1].replace(/\/metrics$/, "");
  });

  after(async () => {
    await Promise.all(js.map((p) => p.stop()));
    edge?.signal("SIGTERM");
    await edge?.exited;
    await rm(dir, { recursive: true, force: true });
  });

  it("js nodes bootstrap their DHT from it, reserve on it and connect through it", async () => {
    const before = await scrape(`${base}/metrics`);
    const opened0 = sampleSum(before, "libp2p_swarm_connections_opened_total");
    const [a, b] = await Promise.all([startJs(), startJs(edgeAddr)]);
    js.push(a, b);
    // b reserves on the edge node (its circuit address appears), a bootstraps from it.
    let circuit = "";
    await until(async () => {
      const addrs = await b.call("addrs") as string[];
      circuit = addrs.find((x) => x.includes("/p2p-circuit")) ?? "";
      return circuit !== "";
    }, 30_000);
    assert.ok(circuit.startsWith(edgeAddr), circuit);
    // a reaches b through the edge node's relay (before any direct connection between them).
    const pong = await a.call("ping", { addr: circuit }) as { rtt: number; relayed: boolean };
    assert.equal(pong.relayed, true);
    // (No js echo here: js-libp2p reuses only unlimited connections for a new stream
    // (findExistingConnection), so its echo dials again instead of using this limited relayed
    // one, and under load that extra dial failed once; the ping ran on the relayed one.)

    await a.call("dial", { addr: edgeAddr });
    // The edge node admits DHT servers to its table after identify and a check query.
    await until(async () => {
      const m = await scrape(`${base}/metrics`);
      return (sampleValue(m, "libp2p_kad_dht_routing_table_size") ?? 0) >= 2;
    }, 30_000);
    await until(async () => (await a.call("table") as number) >= 1, 30_000);
    // a finds b through the edge node's DHT (b is known to it, a knows only the edge).
    const found = await a.call("findPeer", { peer: b.peerId }) as string[];
    assert.ok(found.length > 0, "b's addresses came from the edge node's DHT");
    const after = await scrape(`${base}/metrics`);
    assert.ok(
      sampleSum(after, "libp2p_swarm_connections_opened_total") >= opened0 + 2,
      "connections opened moved",
    );
    assert.ok(
      (sampleValue(after, "libp2p_relaysvc_reservations_total", { type: "opened" }) ?? 0) >= 1,
      "a reservation was opened",
    );
    assert.ok(
      (sampleValue(after, "libp2p_relaysvc_connections_total", { type: "opened" }) ?? 0) >= 1,
      "a circuit was opened",
    );
    assert.ok(
      (sampleValue(after, "libp2p_relaysvc_data_transferred_bytes_total") ?? 0) > 0,
      "the ping's bytes were relayed",
    );
    assert.ok(
      (sampleValue(after, "libp2p_kad_dht_routing_table_size") ?? 0) >= 2,
      "both js nodes are in the edge node's routing table",
    );
    assert.ok((sampleValue(after, "process_resident_memory_bytes") ?? 0) > 1 << 20, "RSS");
    assert.ok(sampleValue(after, "process_event_loop_lag_seconds") !== undefined, "lag probe");
    assert.ok(
      sampleSum(after, "libp2p_kad_dht_inbound_requests_total") >
        sampleSum(before, "libp2p_kad_dht_inbound_requests_total"),
      "the DHT served the lookup",
    );
  });

  it("answers /healthz and /readyz", async () => {
    const health = await fetch(`${base}/healthz`);
    assert.equal(health.status, 200);
    await health.body?.cancel();
    const ready = await fetch(`${base}/readyz`);
    assert.equal(ready.status, 200, "listening, and no bootstrap peers to wait for");
    await ready.body?.cancel();
  });

  it("renders the status page in headless Chromium", { skip: NO_CHROMIUM }, async () => {
    const dom = await dumpDom(`${base}/?every=250`);
    assert.equal(textOf(dom, "node-status"), "started");
    assert.ok(Number(textOf(dom, "relay-reservations")) >= 1, "the reservation is shown");
    assert.ok(Number(textOf(dom, "dht-table")) >= 2, "the DHT table is shown");
  });
});
