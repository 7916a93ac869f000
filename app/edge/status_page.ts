/**
 * The live status page served at `/`: one HTML document with inline CSS and script, web
 * standards only (fetch, DOM, inline SVG), no libraries. It polls `/status.json` and redraws:
 * connections by transport and direction, peers, relay reservations and circuits, DHT table
 * size, bandwidth of the last minutes as an SVG chart, recent errors.
 *
 * Everything the document takes from `/status.json` (peer ids, addresses, error messages a peer
 * may have shaped) goes into the page through `textContent` and SVG attributes set with
 * `setAttribute`, never as markup; the response's Content-Security-Policy allows only the inline
 * script and style and requests to the page's own origin.
 *
 * @module
 */

/** How often the page polls `/status.json` by default, ms. */
export const DEFAULT_POLL_MS = 2_000;

/** The Content-Security-Policy sent with the page. */
export const STATUS_PAGE_CSP =
  "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'; img-src data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

const STYLE = `
body { font: 14px/1.4 system-ui, sans-serif; margin: 1.5rem; color: #1d2330; background: #f6f7f9; }
h1 { font-size: 1.2rem; margin: 0 0 .3rem; }
.sub { color: #5b6475; font-family: ui-monospace, monospace; font-size: 12px; word-break: break-all; }
.grid { display: grid; grid-template-columns: repeat(auto-fill, minmax(11rem, 1fr)); gap: .6rem; margin: 1rem 0; }
.card { background: #fff; border: 1px solid #dde1e8; border-radius: 6px; padding: .6rem .8rem; }
.card b { display: block; font-size: 1.5rem; font-variant-numeric: tabular-nums; }
.card span { color: #5b6475; font-size: 12px; }
table { border-collapse: collapse; background: #fff; min-width: 20rem; }
th, td { border: 1px solid #dde1e8; padding: .25rem .6rem; text-align: right; font-variant-numeric: tabular-nums; }
th:first-child, td:first-child { text-align: left; }
section { margin: 1.2rem 0; }
h2 { font-size: 1rem; margin: 0 0 .4rem; }
svg { background: #fff; border: 1px solid #dde1e8; border-radius: 6px; }
#errors { font-family: ui-monospace, monospace; font-size: 12px; padding-left: 1.2rem; }
.in { color: #1f77b4; } .out { color: #d62728; }
.stale { color: #b00; }
`;

const SCRIPT = `
"use strict";
const POLL_MS = Number(new URLSearchParams(location.search).get("every")) || __POLL_MS__;
const $ = (id) => document.getElementById(id);
const fmtBytes = (n) => {
  const u = ["B", "KiB", "MiB", "GiB", "TiB"];
  let i = 0;
  while (n >= 1024 && i < u.length - 1) { n /= 1024; i++; }
  return (i === 0 ? String(Math.round(n)) : n.toFixed(1)) + " " + u[i];
};
const setText = (id, v) => { $(id).textContent = String(v); };
const NS = "http://www.w3.org/2000/svg";
function chart(points) {
  const svg = $("bw-chart");
  const w = Number(svg.getAttribute("width")), h = Number(svg.getAttribute("height"));
  const max = Math.max(1, ...points.map((p) => Math.max(p.inboundBps, p.outboundBps)));
  const line = (key) => points.map((p, i) => {
    const x = points.length === 1 ? w : (i / (points.length - 1)) * w;
    const y = h - 4 - (p[key] / max) * (h - 8);
    return x.toFixed(1) + "," + y.toFixed(1);
  }).join(" ");
  $("bw-in-line").setAttribute("points", line("inboundBps"));
  $("bw-out-line").setAttribute("points", line("outboundBps"));
  setText("bw-max", fmtBytes(max) + "/s");
}
function render(s) {
  setText("peer-id", s.peerId);
  setText("node-status", s.status);
  setText("uptime", s.uptimeSeconds);
  setText("conn-total", s.connections.total);
  setText("peers", s.peers);
  setText("peerstore", s.peerStore ?? "-");
  setText("relay-reservations", s.relay ? s.relay.reservations : "off");
  setText("relay-circuits", s.relay ? s.relay.circuits : "off");
  setText("relay-bytes", s.relay ? fmtBytes(s.relay.bytesRelayed) : "off");
  setText("dht-table", s.dht ? s.dht.tableSize : "off");
  setText("dht-mode", s.dht ? (s.dht.serverMode ? "server" : "client") : "off");
  setText("pubsub-peers", s.pubsub ? s.pubsub.peers : "off");
  setText("reachability", s.reachability);
  const tbody = $("conn-rows");
  tbody.replaceChildren();
  for (const [t, c] of Object.entries(s.connections.byTransport)) {
    const tr = document.createElement("tr");
    tr.dataset.transport = t;
    for (const v of [t, c.inbound, c.outbound]) {
      const td = document.createElement("td");
      td.textContent = String(v);
      tr.append(td);
    }
    tbody.append(tr);
  }
  const bw = s.bandwidth;
  const last = bw.points[bw.points.length - 1];
  setText("bw-in", last ? fmtBytes(last.inboundBps) + "/s" : "-");
  setText("bw-out", last ? fmtBytes(last.outboundBps) + "/s" : "-");
  setText("bw-total-in", fmtBytes(bw.totals.inbound));
  setText("bw-total-out", fmtBytes(bw.totals.outbound));
  setText("bw-span", Math.round(bw.points.length * bw.intervalSeconds));
  $("bw-chart").dataset.points = String(bw.points.length);
  if (!bw.counted) setText("bw-note", "byte counting is off (countTraffic)");
  chart(bw.points);
  const ul = $("errors");
  ul.replaceChildren();
  for (const e of s.errors) {
    const li = document.createElement("li");
    li.textContent = new Date(e.at).toISOString().slice(11, 19) + " " + e.kind + " " +
      e.context + ": " + e.message;
    ul.append(li);
  }
  if (s.errors.length === 0) {
    const li = document.createElement("li");
    li.textContent = "none";
    ul.append(li);
  }
  setText("errors-count", s.errors.length);
}
let updates = 0;
async function poll() {
  try {
    const res = await fetch("/status.json", { cache: "no-store" });
    if (!res.ok) throw new Error("HTTP " + res.status);
    render(await res.json());
    updates++;
    document.body.dataset.updates = String(updates);
    setText("updated", new Date().toISOString().slice(11, 19));
    $("updated").className = "";
  } catch (err) {
    $("updated").className = "stale";
    setText("updated", "stale (" + (err && err.message) + ")");
  } finally {
    setTimeout(poll, POLL_MS);
  }
}
poll();
`;

/**
 * The status page document. `pollMs` sets how often it polls (`?every=<ms>` in the page's URL
 * overrides it).
 *
 * @example
 * ```ts
 * import { statusPageHtml } from "./status_page.ts";
 * const html = statusPageHtml();
 * html.startsWith("<!doctype html>"); // true
 * ```
 */
export function statusPageHtml(pollMs: number = DEFAULT_POLL_MS): string {
  const card = (id: string, label: string): string =>
    `<div class="card"><b id="${id}">-</b><span>${label}</span></div>`;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>p2p-edge node status</title>
<style>${STYLE}</style></head>
<body data-updates="0">
<h1>p2p-edge node <span id="node-status">-</span></h1>
<div class="sub">peer <span id="peer-id">-</span> · up <span id="uptime">-</span> s · updated <span id="updated">-</span></div>
<div class="grid">
${card("conn-total", "connections")}
${card("peers", "connected peers")}
${card("peerstore", "peer store")}
${card("relay-reservations", "relay reservations")}
${card("relay-circuits", "relay circuits")}
${card("relay-bytes", "relayed")}
${card("dht-table", "DHT routing table")}
${card("dht-mode", "DHT mode")}
${card("pubsub-peers", "pubsub peers")}
${card("reachability", "reachability (AutoNAT)")}
</div>
<section><h2>Connections by transport</h2>
<table><thead><tr><th>transport</th><th>inbound</th><th>outbound</th></tr></thead>
<tbody id="conn-rows"></tbody></table></section>
<section><h2>Bandwidth, last <span id="bw-span">0</span> s</h2>
<div><span class="in">in <b id="bw-in">-</b></span> · <span class="out">out <b id="bw-out">-</b></span>
 · total in <span id="bw-total-in">-</span>, out <span id="bw-total-out">-</span>
 · scale <span id="bw-max">-</span> <span id="bw-note"></span></div>
<svg id="bw-chart" width="600" height="140" viewBox="0 0 600 140" role="img" aria-label="bandwidth chart" data-points="0">
<polyline id="bw-in-line" fill="none" stroke="#1f77b4" stroke-width="2" points=""></polyline>
<polyline id="bw-out-line" fill="none" stroke="#d62728" stroke-width="2" stroke-dasharray="6 4" points=""></polyline>
</svg></section>
<section><h2>Recent errors (<span id="errors-count">0</span>)</h2><ul id="errors"></ul></section>
<script>${SCRIPT.replace("__POLL_MS__", String(Math.max(100, Math.floor(pollMs))))}</script>
</body></html>
`;
}
