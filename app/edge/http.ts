/**
 * The edge node's HTTP surface as a runtime-neutral `fetch(request) => Response` handler:
 *
 * - `GET /metrics`: Prometheus text exposition 0.0.4;
 * - `GET /healthz`: 200 while the process serves;
 * - `GET /readyz`: 200 once the node listens and, when bootstrap peers are configured, is
 *   connected to one of them; 503 (with the reason) before;
 * - `GET /status.json`: the status document (status.ts);
 * - `GET /`: the live status page (status_page.ts).
 *
 * serve.ts runs it on Deno.serve or Bun.serve; an edge platform that hands out a fetch handler
 * can use {@link EdgeHttp.handler} directly.
 *
 * @module
 */

import type { Libp2pNode } from "../../src/node/node.ts";
import {
  collectNodeMetrics,
  EXPOSITION_CONTENT_TYPE,
  MetricsRegistry,
  type NodeMetrics,
} from "../../src/metrics/mod.ts";
import { multiaddr } from "../../src/multiaddr/mod.ts";
import { type PeerId, peerIdFromString } from "../../src/peer_id.ts";
import { collectServiceMetrics, type EdgeServices } from "./collectors.ts";
import {
  BandwidthHistory,
  buildStatus,
  DEFAULT_HISTORY_MS,
  DEFAULT_SAMPLE_INTERVAL_MS,
  type EdgeStatus,
} from "./status.ts";
import { DEFAULT_POLL_MS, STATUS_PAGE_CSP, statusPageHtml } from "./status_page.ts";

/** Options of {@link createEdgeHttp}. */
export interface EdgeHttpOptions {
  /** The node to observe. Build it with `countTraffic: true` for bytes and the chart. */
  node: Libp2pNode;
  /** The services to observe (relay server, DHT, pubsub), each optional. */
  services?: EdgeServices;
  /** The registry to fill. Default: a new one. */
  registry?: MetricsRegistry;
  /**
   * Bootstrap peers (multiaddrs with `/p2p/<id>`, or peer ids): `/readyz` waits for a
   * connection to one of them. An address without a peer id means "any peer". Default none.
   */
  bootstrap?: readonly string[];
  /** Bandwidth sampling period, ms. Default 5 s. */
  sampleIntervalMs?: number;
  /** Time the bandwidth chart covers, ms. Default 10 minutes. */
  historyMs?: number;
  /** How often the status page polls, ms. Default 2 s. */
  pollMs?: number;
}

/** What {@link createEdgeHttp} returns. */
export interface EdgeHttp {
  /** The fetch handler. */
  handler(request: Request): Promise<Response>;
  /** The registry behind `/metrics`. */
  readonly registry: MetricsRegistry;
  /** The node's metrics (recent errors). */
  readonly metrics: NodeMetrics;
  /** Ready (and why not): what `/readyz` answers. */
  readiness(): { ready: boolean; reason: string };
  /** The status document now. */
  status(): EdgeStatus;
  /** Stop the sampling timer and the metric listeners. */
  close(): void;
}

function bootstrapPeers(list: readonly string[]): { peers: PeerId[]; anyPeer: boolean } {
  const peers: PeerId[] = [];
  let anyPeer = false;
  for (const text of list) {
    const id = text.startsWith("/") ? multiaddr(text).getPeerId() : text;
    if (id === undefined) anyPeer = true;
    else peers.push(peerIdFromString(id));
  }
  return { peers, anyPeer };
}

/**
 * Build the handler, register the node's and the services' metrics, and start sampling
 * bandwidth.
 *
 * @example
 * ```ts ignore
 * import { createEdgeHttp } from "./http.ts";
 * const http = createEdgeHttp({ node, services: { relay: node.services.relay } });
 * Deno.serve({ port: 8888 }, http.handler);
 * ```
 */
export function createEdgeHttp(options: EdgeHttpOptions): EdgeHttp {
  const { node } = options;
  const registry = options.registry ?? new MetricsRegistry();
  const services = options.services ?? {};
  const metrics = collectNodeMetrics(node, registry);
  const removeServices = collectServiceMetrics(registry, services);
  const intervalMs = options.sampleIntervalMs ?? DEFAULT_SAMPLE_INTERVAL_MS;
  const history = new BandwidthHistory({
    intervalMs,
    historyMs: Math.max(options.historyMs ?? DEFAULT_HISTORY_MS, intervalMs),
  });
  const sample = (): void =>
    history.record(Date.now(), node.traffic?.sum() ?? { inbound: 0, outbound: 0 });
  sample();
  const timer = setInterval(sample, intervalMs);
  const startedAt = Date.now();
  const boot = bootstrapPeers(options.bootstrap ?? []);
  const page = statusPageHtml(options.pollMs ?? DEFAULT_POLL_MS);

  const readiness = (): { ready: boolean; reason: string } => {
    if (node.status !== "started") return { ready: false, reason: `node ${node.status}` };
    if (node.addrs().length === 0) return { ready: false, reason: "not listening" };
    if (boot.peers.length === 0 && !boot.anyPeer) return { ready: true, reason: "listening" };
    if (boot.peers.some((p) => node.getConnections(p).length > 0)) {
      return { ready: true, reason: "connected to a bootstrap peer" };
    }
    if (boot.anyPeer && node.getConnections().length > 0) {
      return { ready: true, reason: "connected to a peer" };
    }
    return { ready: false, reason: "no bootstrap peer connected" };
  };
  const status = (): EdgeStatus =>
    buildStatus({ node, metrics, services, history, intervalMs, startedAt }, Date.now());

  const text = (body: string, status = 200): Response =>
    new Response(body, {
      status,
      headers: { "content-type": "text/plain; charset=utf-8", "cache-control": "no-store" },
    });

  const handler = async (request: Request): Promise<Response> => {
    const { pathname } = new URL(request.url);
    if (request.method !== "GET" && request.method !== "HEAD") {
      return new Response("method not allowed\n", { status: 405, headers: { allow: "GET, HEAD" } });
    }
    switch (pathname) {
      case "/metrics":
        return new Response(await registry.expose(), {
          headers: { "content-type": EXPOSITION_CONTENT_TYPE, "cache-control": "no-store" },
        });
      case "/healthz":
        return text("ok\n");
      case "/readyz": {
        const r = readiness();
        return text(`${r.ready ? "ready" : "not ready"}: ${r.reason}\n`, r.ready ? 200 : 503);
      }
      case "/status.json":
        return new Response(JSON.stringify(status()), {
          headers: {
            "content-type": "application/json; charset=utf-8",
            "cache-control": "no-store",
          },
        });
      case "/":
        return new Response(page, {
          headers: {
            "content-type": "text/html; charset=utf-8",
            "content-security-policy": STATUS_PAGE_CSP,
            "x-content-type-options": "nosniff",
            "cache-control": "no-store",
          },
        });
      default:
        return text("not found\n", 404);
    }
  };

  return {
    handler,
    registry,
    metrics,
    readiness,
    status,
    close: () => {
      clearInterval(timer);
      metrics.close();
      removeServices();
    },
  };
}
