/**
 * libp2p over WebSocket from a fetch handler, for platforms that give an HTTP server and no raw
 * sockets (README "Edge platforms (fetch handler)"). It routes the requests of a server we do
 * not own: WebSocket upgrades on a path a mounted listener registered go to libp2p (through the
 * transport's {@link WebSocketMount}, whose runtime adapters call `Deno.upgradeWebSocket` or
 * Bun's `server.upgrade`); every other request goes to the application's handlers, which may
 * decline a request (`undefined`/`null`) so that several compose, the last answer being 404.
 *
 * The same limits apply as on the transport's own listener: message size (`maxPayloadLength`),
 * received-bytes cap, idle deadline (`idleTimeoutMs`) (HARDENING.md rules 1, 8), and, once the
 * socket opens, the node's connection manager (`maxPendingInbound`, per-IP caps and rates,
 * silent-socket deadline: HARDENING.md rules 4, 7, 8, 10).
 *
 * @module
 */

import { upgradeRequired } from "./listener.ts";
import type { WebSocketMount } from "./mount.ts";
import type { BunServerLike, BunWebSocketHandlers, DenoRequestInfo } from "./upgrade.ts";

/**
 * An application handler: the response, or `undefined`/`null` for a request it does not serve
 * (the next handler gets it).
 *
 * @example
 * ```ts
 * import type { FetchRoute } from "@p2p-edge/libp2p/transports/websocket";
 * const hello: FetchRoute = (req) =>
 *   new URL(req.url).pathname === "/hello" ? new Response("hi") : undefined;
 * ```
 */
export type FetchRoute = (
  request: Request,
) => Response | null | undefined | Promise<Response | null | undefined>;

/**
 * Options of {@link webSocketFetchHandler}.
 *
 * @example
 * ```ts
 * import type { WebSocketFetchOptions } from "@p2p-edge/libp2p/transports/websocket";
 * const options: WebSocketFetchOptions = { routes: [() => new Response("app")] };
 * ```
 */
export interface WebSocketFetchOptions {
  /**
   * The application's handlers, asked in order for every request that is not a libp2p upgrade;
   * a request none of them serves is answered 404. Default none.
   */
  routes?: readonly FetchRoute[];
}

/**
 * The two pieces `Bun.serve` needs: spread them into its options.
 *
 * @example
 * ```ts ignore
 * Bun.serve({ port: 8080, ...webSocketFetchHandler(ws.mount!).bun });
 * ```
 */
export interface BunServeParts {
  /** `Bun.serve`'s `fetch`: undefined when the request was upgraded for libp2p. */
  fetch(request: Request, server: BunServerLike): Promise<Response | undefined>;
  /** `Bun.serve`'s `websocket` handlers (libp2p's sockets only). */
  readonly websocket: BunWebSocketHandlers;
}

/**
 * A fetch handler that serves libp2p WebSocket upgrades and the application's routes.
 *
 * @example
 * ```ts ignore
 * const handler: WebSocketFetchHandler = webSocketFetchHandler(ws.mount!);
 * Deno.serve({ port: 8080 }, handler.fetch);
 * ```
 */
export interface WebSocketFetchHandler {
  /** For `Deno.serve(handler.fetch)` (Deno passes `info`, which gives the peer's address). */
  fetch(request: Request, info?: DenoRequestInfo): Promise<Response>;
  /** For `Bun.serve({ port, ...handler.bun })`. */
  readonly bun: BunServeParts;
}

function badUpgrade(err: unknown): Response {
  return new Response(`bad websocket upgrade: ${err instanceof Error ? err.message : err}\n`, {
    status: 400,
  });
}

function pathOf(request: Request): string | undefined {
  try {
    return new URL(request.url).pathname;
  } catch {
    return undefined;
  }
}

function isUpgrade(request: Request): boolean {
  return request.headers.get("upgrade")?.toLowerCase() === "websocket";
}

/**
 * Build the fetch handler of a transport created with `websocket({ mount: true })`. The node's
 * listen address on it names this server's host and real port (e.g.
 * `/ip4/0.0.0.0/tcp/8080/ws`); the address it announces is what the operator configures with
 * `addresses.announce` (e.g. `/dns4/edge.example.com/tcp/443/wss` behind a TLS proxy).
 *
 * Routing: a WebSocket upgrade on a mounted path is libp2p's; any other request on a mounted
 * path other than `/` gets 426 (the path is libp2p's); everything else (and plain requests on
 * `/`, where js and go dial) goes to `routes`, then 404.
 *
 * @example
 * ```ts ignore
 * import { websocket, webSocketFetchHandler } from "@p2p-edge/libp2p/transports/websocket";
 * const ws = websocket({ mount: true });
 * const node = await createNode({
 *   transports: [ws], connectionEncrypters: [noise()], streamMuxers: [yamux()],
 *   listen: ["/ip4/0.0.0.0/tcp/8080/ws"],
 *   addresses: { announce: ["/dns4/edge.example.com/tcp/443/wss"] },
 * });
 * const handler = webSocketFetchHandler(ws.mount!, {
 *   routes: [(req) => new URL(req.url).pathname === "/hello" ? new Response("hi") : undefined],
 * });
 * Deno.serve({ port: 8080 }, handler.fetch);        // Deno
 * Bun.serve({ port: 8080, ...handler.bun });         // Bun
 * ```
 */
export function webSocketFetchHandler(
  mount: WebSocketMount,
  options: WebSocketFetchOptions = {},
): WebSocketFetchHandler {
  const routes = [...(options.routes ?? [])];
  const app = async (request: Request): Promise<Response> => {
    for (const route of routes) {
      const response = await route(request);
      if (response !== undefined && response !== null) return response;
    }
    return new Response("not found\n", { status: 404 });
  };
  /** The response for a request on a mounted path that is not an upgrade; undefined: app's. */
  const refuse = (request: Request, path: string | undefined): Response | undefined =>
    path !== undefined && path !== "/" && mount.isMountedPath(path) && !isUpgrade(request)
      ? upgradeRequired()
      : undefined;

  return {
    fetch(request, info) {
      const path = pathOf(request);
      if (path !== undefined && isUpgrade(request) && mount.isMountedPath(path)) {
        let response: Response | undefined;
        try {
          response = mount.handleRequest(request, info);
        } catch (err) {
          return Promise.resolve(badUpgrade(err));
        }
        if (response !== undefined) return Promise.resolve(response);
      }
      return Promise.resolve(refuse(request, path) ?? app(request));
    },
    bun: {
      fetch(request, server) {
        const path = pathOf(request);
        if (path !== undefined && isUpgrade(request) && mount.isMountedPath(path)) {
          // Bun answers 101 itself once upgraded; false: not a valid handshake.
          return Promise.resolve(
            mount.upgrade(request, server) ? undefined : badUpgrade("refused by Bun"),
          );
        }
        return Promise.resolve(refuse(request, path) ?? app(request));
      },
      websocket: mount.websocket,
    },
  };
}
