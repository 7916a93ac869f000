/**
 * The thin runtime adapter that serves a fetch handler: `Deno.serve` on Deno, `Bun.serve` on
 * Bun. Like src/runtime.ts it reaches the runtime through `globalThis` with local structural
 * types, so this file type-checks on web APIs alone (ARCHITECTURE.md, "Layers").
 *
 * @module
 */

import { isBun, isDeno } from "../../src/runtime.ts";
import type { BunServeParts } from "../../transports/websocket/fetch_handler.ts";
import type { DenoRequestInfo } from "../../transports/websocket/upgrade.ts";

/** A running HTTP server. */
export interface HttpServer {
  /** The address it bound. */
  readonly hostname: string;
  /** The port it bound (the real one when 0 was asked). */
  readonly port: number;
  /** `http://host:port` (IPv6 hosts in brackets). */
  readonly url: string;
  /** Stop accepting and close the listener. */
  close(): Promise<void>;
}

/** Where to listen. */
export interface ServeOptions {
  /** Interface to bind, e.g. "127.0.0.1" or "::1". */
  hostname: string;
  /** Port; 0 picks a free one. */
  port: number;
  /**
   * On Bun, serve these instead of the handler: a `fetch` that may upgrade (and then answers
   * nothing) and the `websocket` handlers Bun needs for it (fetch.ts, libp2p on the same port).
   */
  bun?: BunServeParts;
}

/** The request handler; Deno passes the connection info as the second argument. */
export type FetchHandler = (
  request: Request,
  info?: DenoRequestInfo,
) => Response | Promise<Response>;

interface DenoServeGlobal {
  serve(
    options: { hostname: string; port: number; onListen?: () => void },
    handler: FetchHandler,
  ): { addr: { port: number }; shutdown(): Promise<void> };
}

interface BunServeGlobal {
  serve(options: {
    hostname: string;
    port: number;
    fetch: FetchHandler | BunServeParts["fetch"];
    websocket?: BunServeParts["websocket"];
  }): {
    port: number;
    stop(closeActive?: boolean): void | Promise<void>;
  };
}

function urlOf(hostname: string, port: number): string {
  return `http://${hostname.includes(":") ? `[${hostname}]` : hostname}:${port}`;
}

/**
 * Serve `handler` on `hostname:port` with the runtime's HTTP server.
 *
 * @example
 * ```ts ignore
 * import { serveHttp } from "./serve.ts";
 * const server = await serveHttp(() => new Response("ok"), { hostname: "127.0.0.1", port: 0 });
 * console.log(server.url);
 * await server.close();
 * ```
 */
export function serveHttp(handler: FetchHandler, options: ServeOptions): Promise<HttpServer> {
  const g = globalThis as unknown as { Deno?: DenoServeGlobal; Bun?: BunServeGlobal };
  const { hostname } = options;
  if (isDeno() && g.Deno !== undefined) {
    const server = g.Deno.serve({ hostname, port: options.port, onListen: () => {} }, handler);
    const port = server.addr.port;
    return Promise.resolve({
      hostname,
      port,
      url: urlOf(hostname, port),
      close: () => server.shutdown(),
    });
  }
  if (isBun() && g.Bun !== undefined) {
    const server = g.Bun.serve({
      hostname,
      port: options.port,
      fetch: options.bun?.fetch ?? handler,
      ...(options.bun !== undefined ? { websocket: options.bun.websocket } : {}),
    });
    const port = server.port;
    return Promise.resolve({
      hostname,
      port,
      url: urlOf(hostname, port),
      close: async () => {
        await server.stop(true);
      },
    });
  }
  return Promise.reject(new Error("serving HTTP needs Deno.serve or Bun.serve"));
}
