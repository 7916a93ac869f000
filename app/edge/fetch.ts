/**
 * The edge node on one port from a fetch handler: libp2p over WebSocket (upgrades on the
 * mounted path, `/` by default, where js and go dial) together with `/metrics`, `/healthz`,
 * `/readyz`, `/status.json` and the status page at `/` (a plain GET on `/` is the page, an
 * upgrade on `/` is libp2p). For platforms that give an HTTP server and no raw sockets
 * (README "Edge platforms (fetch handler)").
 *
 * @module
 */

import type { WebSocketMount } from "../../transports/websocket/mount.ts";
import {
  type FetchRoute,
  type WebSocketFetchHandler,
  webSocketFetchHandler,
} from "../../transports/websocket/fetch_handler.ts";
import { createEdgeHttp, type EdgeHttp, type EdgeHttpOptions } from "./http.ts";

/**
 * The paths the edge HTTP surface serves (http.ts).
 *
 * @example
 * ```ts
 * import { EDGE_HTTP_PATHS } from "./fetch.ts";
 * EDGE_HTTP_PATHS.includes("/metrics"); // true
 * ```
 */
export const EDGE_HTTP_PATHS: readonly string[] = [
  "/",
  "/metrics",
  "/healthz",
  "/readyz",
  "/status.json",
];

/**
 * Options of {@link createEdgeFetch}.
 *
 * @example
 * ```ts ignore
 * const options: EdgeFetchOptions = { node, webSocket: ws.mount!, bootstrap: [] };
 * ```
 */
export interface EdgeFetchOptions extends EdgeHttpOptions {
  /** The mount of the node's WebSocket transport (`websocket({ mount: true }).mount`). */
  webSocket: WebSocketMount;
  /** More application routes, asked before the edge paths (undefined/null: not served). */
  routes?: readonly FetchRoute[];
}

/**
 * The edge node's fetch handler: libp2p upgrades, the edge HTTP surface, then `routes`.
 *
 * @example
 * ```ts ignore
 * const edge: EdgeFetch = createEdgeFetch({ node, webSocket: ws.mount! });
 * console.log(edge.http.readiness());
 * edge.close();
 * ```
 */
export interface EdgeFetch extends WebSocketFetchHandler {
  /** The metrics registry, readiness and status behind the HTTP paths. */
  readonly http: EdgeHttp;
  /** Stop sampling and the metric listeners (the node and the server are the caller's). */
  close(): void;
}

/**
 * Build the edge node's fetch handler. Serve it with `Deno.serve(edge.fetch)` or
 * `Bun.serve({ ...edge.bun })` on the host and port the node's WebSocket listen address names.
 *
 * @example
 * ```ts ignore
 * import { websocket } from "@p2p-edge/libp2p/transports/websocket";
 * import { createEdgeFetch } from "./app/edge/mod.ts";
 * const ws = websocket({ mount: true });
 * const node = await createNode({
 *   transports: [ws], connectionEncrypters: [noise()], streamMuxers: [yamux()],
 *   listen: ["/ip4/0.0.0.0/tcp/8080/ws"], countTraffic: true,
 *   addresses: { announce: ["/dns4/edge.example.com/tcp/443/wss"] },
 * });
 * const edge = createEdgeFetch({ node, webSocket: ws.mount! });
 * Deno.serve({ port: 8080 }, edge.fetch);       // Deno
 * Bun.serve({ port: 8080, ...edge.bun });        // Bun
 * ```
 */
export function createEdgeFetch(options: EdgeFetchOptions): EdgeFetch {
  const http = createEdgeHttp(options);
  const paths = new Set(EDGE_HTTP_PATHS);
  const edgeRoute: FetchRoute = (request) => {
    let pathname: string;
    try {
      pathname = new URL(request.url).pathname;
    } catch {
      return undefined;
    }
    return paths.has(pathname) ? http.handler(request) : undefined;
  };
  const handler = webSocketFetchHandler(options.webSocket, {
    routes: [...(options.routes ?? []), edgeRoute],
  });
  return { fetch: handler.fetch, bun: handler.bun, http, close: () => http.close() };
}
