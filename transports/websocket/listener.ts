/**
 * The WebSocket listener, once for every runtime: listen-address checks, the request routing
 * (503 once closing, 426 for anything but an upgrade on our path), bound addresses, the count of
 * connections handed out, closing. A runtime adapter (deno.ts, bun.ts) supplies only its server:
 * start it, upgrade a routed request, stop it ({@link WebSocketServerAdapter}). The adapter is
 * loaded by dynamic import when the listener first listens (tools/check_web.ts).
 *
 * @module
 */

import type { Multiaddr } from "../../src/multiaddr/mod.ts";
import type { Listener, ListenerInit } from "../../src/transport.ts";
import { WebSocketListenError } from "./errors.ts";
import {
  type AcceptContext,
  ConnectionTracker,
  isUpgradeRequest,
  parseListenAddr,
  reportedAddrs,
} from "./listener_common.ts";
import type { ResolvedWebSocketOptions, WebSocketTlsOptions } from "./options.ts";
import { interfaceAddresses, type WebSocketServerKind } from "./runtime.ts";

/** What the listener asks of a runtime's server. */
export interface ServeInit {
  /** IP to bind. */
  readonly hostname: string;
  /** Port (0: any free port). */
  readonly port: number;
  /** Certificate and key, when the server speaks TLS. */
  readonly tls: WebSocketTlsOptions | undefined;
  /** Resolved transport options (limits of the sockets). */
  readonly options: ResolvedWebSocketOptions;
  /** Per request: the context to upgrade it into, or the response that refuses it. */
  route(req: Request): AcceptContext | Response;
  /** The server failed on a request: report it; the response to send. */
  onError(error: unknown): Response;
}

/** A running server of an adapter. */
export interface ServedServer {
  /** The bound port. */
  readonly port: number;
  /**
   * Stop accepting and release the port, without closing the connections handed out;
   * `whenIdle(fn)` runs `fn` once none of them is open, for a server whose shutdown would close
   * them (Deno).
   */
  stop(whenIdle: (fn: () => void) => void): void;
}

/** A runtime's HTTP server with WebSocket upgrade (deno.ts, bun.ts). */
export interface WebSocketServerAdapter {
  /** Start a server; throws when it cannot bind. */
  serve(init: ServeInit): ServedServer;
}

/** The answer to a request on the listener that is not a WebSocket upgrade on its path. */
export function upgradeRequired(): Response {
  return new Response("libp2p websocket endpoint: upgrade required", {
    status: 426,
    headers: { upgrade: "websocket" },
  });
}

/** A listener running its own server through a runtime adapter. */
export class WebSocketServerListener implements Listener {
  readonly #init: ListenerInit;
  readonly #options: ResolvedWebSocketOptions;
  readonly #load: () => Promise<WebSocketServerAdapter>;
  readonly #tracker = new ConnectionTracker();
  #server: ServedServer | undefined;
  #starting = false;
  #addrs: Multiaddr[] = [];
  #closing = false;

  /** Create an idle listener; `listen` loads the adapter and binds. */
  constructor(
    init: ListenerInit,
    options: ResolvedWebSocketOptions,
    load: () => Promise<WebSocketServerAdapter>,
  ) {
    this.#init = init;
    this.#options = options;
    this.#load = load;
  }

  /** Bind `addr` (`/ip4|ip6/<h>/tcp/<p>/ws`, `/tls/ws`, `/wss`, optional `/http-path`). */
  async listen(addr: Multiaddr): Promise<void> {
    if (this.#server !== undefined || this.#starting || this.#closing) {
      throw new TypeError("websocket listener is already listening or closed");
    }
    const target = parseListenAddr(addr, this.#options);
    this.#starting = true;
    try {
      const adapter = await this.#load();
      if (this.#closing) throw new TypeError("websocket listener is closed");
      // Filled in once the port is known (no request can arrive before).
      const bound: { ctx?: AcceptContext } = {};
      let server: ServedServer;
      try {
        server = adapter.serve({
          hostname: target.host,
          port: target.port,
          tls: target.secure ? this.#options.tls : undefined,
          options: this.#options,
          route: (req) => {
            const ctx = bound.ctx;
            if (this.#closing || ctx === undefined) {
              return new Response("listener closed", { status: 503 });
            }
            return isUpgradeRequest(req, target.path) ? ctx : upgradeRequired();
          },
          onError: (error) => {
            this.#init.onError?.(error instanceof Error ? error : new Error(String(error)));
            return new Response("internal error", { status: 500 });
          },
        });
      } catch (err) {
        throw new WebSocketListenError(`could not listen on ${addr.toString()}: ${String(err)}`, {
          cause: err,
        });
      }
      this.#server = server;
      this.#addrs = reportedAddrs(target, server.port, interfaceAddresses);
      const init = this.#init;
      const tracker = this.#tracker;
      bound.ctx = {
        options: this.#options,
        secure: target.secure,
        localAddr: reportedAddrs(target, server.port, undefined)[0],
        accept: (conn) => tracker.accept(init, conn),
      };
    } finally {
      this.#starting = false;
    }
  }

  /** The bound addresses (a wildcard expanded to interface addresses). */
  getAddrs(): Multiaddr[] {
    return this.#closing ? [] : [...this.#addrs];
  }

  /** Refuse new upgrades (503) and stop the server; handed-out connections stay open. */
  close(): Promise<void> {
    if (this.#closing) return Promise.resolve();
    this.#closing = true;
    this.#server?.stop((fn) => this.#tracker.whenIdle(fn));
    return Promise.resolve();
  }
}

class UnsupportedListener implements Listener {
  listen(_addr: Multiaddr): Promise<void> {
    return Promise.reject(
      new WebSocketListenError(
        "no WebSocket server on this runtime (needs Deno.serve or Bun.serve); " +
          "browsers can only dial",
      ),
    );
  }
  getAddrs(): Multiaddr[] {
    return [];
  }
  close(): Promise<void> {
    return Promise.resolve();
  }
}

/** Load the adapter of a server kind (dynamic import: tools/check_web.ts). */
export function loadServerAdapter(
  kind: Exclude<WebSocketServerKind, "none">,
): Promise<WebSocketServerAdapter> {
  return kind === "deno"
    ? import("./deno.ts").then((m) => m.denoWebSocketServer)
    : import("./bun.ts").then((m) => m.bunWebSocketServer);
}

/** The listener for a runtime's WebSocket server kind. */
export function createListenerFor(
  kind: WebSocketServerKind,
  init: ListenerInit,
  options: ResolvedWebSocketOptions,
): Listener {
  if (kind === "none") return new UnsupportedListener();
  return new WebSocketServerListener(init, options, () => loadServerAdapter(kind));
}
