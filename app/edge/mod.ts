/**
 * The edge node's observability: metrics, health, readiness and a live status page on one HTTP
 * address (README "Metrics and status page").
 *
 * @example
 * ```ts ignore
 * import { startEdgeHttp } from "./app/edge/mod.ts";
 * const server = await startEdgeHttp({ node, hostname: "127.0.0.1", port: 8888 });
 * console.log(`${server.url}/metrics`);
 * await server.close();
 * ```
 *
 * @module
 */

import { createEdgeHttp, type EdgeHttp, type EdgeHttpOptions } from "./http.ts";
import { type HttpServer, serveHttp } from "./serve.ts";
import { createEdgeFetch } from "./fetch.ts";
import type { WebSocketMount } from "../../transports/websocket/mount.ts";

export { createEdgeHttp, type EdgeHttp, type EdgeHttpOptions } from "./http.ts";
export {
  createEdgeFetch,
  EDGE_HTTP_PATHS,
  type EdgeFetch,
  type EdgeFetchOptions,
} from "./fetch.ts";
export {
  type AutoNATStatsSource,
  collectServiceMetrics,
  type DhtStatsSource,
  type EdgeServices,
  type PubsubStatsSource,
  type RelayStatsSource,
} from "./collectors.ts";
export { type HttpServer, serveHttp, type ServeOptions } from "./serve.ts";
export { BandwidthHistory, type BandwidthPoint, buildStatus, type EdgeStatus } from "./status.ts";
export { statusPageHtml } from "./status_page.ts";

/** A served {@link EdgeHttp}. */
export interface EdgeHttpServer extends HttpServer {
  /** The handler and its registry. */
  readonly http: EdgeHttp;
}

/**
 * Build the HTTP surface ({@link createEdgeHttp}) and serve it on `hostname:port`; with
 * `webSocket`, libp2p's WebSocket upgrades too ({@link createEdgeFetch}).
 *
 * @example
 * ```ts ignore
 * const server = await startEdgeHttp({ node, hostname: "127.0.0.1", port: 0 });
 * await server.close();
 * ```
 */
export async function startEdgeHttp(
  options: EdgeHttpOptions & {
    hostname: string;
    port: number;
    /**
     * Also serve libp2p over WebSocket on this port: the mount of the node's transport
     * (`websocket({ mount: true })`), whose listen address names this host and port.
     */
    webSocket?: WebSocketMount;
  },
): Promise<EdgeHttpServer> {
  const edge = options.webSocket === undefined
    ? undefined
    : createEdgeFetch({ ...options, webSocket: options.webSocket });
  const http = edge?.http ?? createEdgeHttp(options);
  let server: HttpServer;
  try {
    server = edge === undefined
      ? await serveHttp(http.handler, options)
      : await serveHttp(edge.fetch, { ...options, bun: edge.bun });
  } catch (err) {
    http.close();
    throw err;
  }
  return {
    http,
    hostname: server.hostname,
    port: server.port,
    url: server.url,
    close: async () => {
      http.close();
      await server.close();
    },
  };
}
