/**
 * Deno side of the WebSocket listener: `Deno.serve` + `Deno.upgradeWebSocket`. The server-side
 * socket Deno hands out is a standard WebSocket, so it shares {@link fromStandardWebSocket} with
 * dialling.
 *
 * @module
 */

import type { Multiaddr } from "../../src/multiaddr/mod.ts";
import type { Listener, ListenerInit } from "../../src/transport.ts";
import { webSocketMultiaddr } from "./address.ts";
import { fromStandardWebSocket } from "./connection.ts";
import { WebSocketListenError } from "./errors.ts";
import {
  type AcceptContext,
  ConnectionTracker,
  isUpgradeRequest,
  type ListenTarget,
  parseListenAddr,
  reportedAddrs,
} from "./listener_common.ts";
import type { ResolvedWebSocketOptions } from "./options.ts";
import { interfaceAddresses } from "./runtime.ts";

/** The part of Deno.serve's handler info the upgrade uses. */
export interface DenoRequestInfo {
  /** The peer's TCP address. */
  remoteAddr?: { hostname: string; port: number };
}

/**
 * Upgrade `req` to a WebSocket when it asks for one on `path`; undefined otherwise (the request
 * is not ours). The connection is handed to `ctx.accept` once the socket opens.
 */
export function denoUpgrade(
  req: Request,
  info: DenoRequestInfo | undefined,
  path: string,
  ctx: AcceptContext,
): Response | undefined {
  if (!isUpgradeRequest(req, path)) return undefined;
  // Read the peer's address first: Deno refuses `info.remoteAddr` after the upgrade.
  const remote = info?.remoteAddr;
  const remoteAddr = webSocketMultiaddr(
    remote?.hostname ?? "0.0.0.0",
    remote?.port ?? 0,
    ctx.secure,
  );
  const { socket, response } = Deno.upgradeWebSocket(req, {
    idleTimeout: ctx.options.idleTimeoutSeconds,
  });
  socket.binaryType = "arraybuffer";
  socket.addEventListener("open", () => {
    ctx.accept(
      fromStandardWebSocket(socket, ctx.options, { remoteAddr, localAddr: ctx.localAddr }),
    );
  }, { once: true });
  return response;
}

/**
 * A listener running its own `Deno.serve`.
 *
 * `close()` refuses new upgrades at once (503), but Deno.serve's shutdown would also close the
 * WebSockets it upgraded (with 1001), and the Listener contract keeps handed-out connections
 * open: so the server shuts down (and the port is released) when the last of them closes.
 */
export class DenoWebSocketListener implements Listener {
  readonly #init: ListenerInit;
  readonly #options: ResolvedWebSocketOptions;
  readonly #tracker = new ConnectionTracker();
  #server: Deno.HttpServer<Deno.NetAddr> | undefined;
  #addrs: Multiaddr[] = [];
  #closing = false;

  /** Create an idle listener; `listen` binds it. */
  constructor(init: ListenerInit, options: ResolvedWebSocketOptions) {
    this.#init = init;
    this.#options = options;
  }

  /** Bind `addr` (`/ip4|ip6/<h>/tcp/<p>/ws`, `/tls/ws`, `/wss`, optional `/http-path`). */
  listen(addr: Multiaddr): Promise<void> {
    if (this.#server !== undefined || this.#closing) {
      return Promise.reject(new TypeError("websocket listener is already listening or closed"));
    }
    let target: ListenTarget;
    try {
      target = parseListenAddr(addr, this.#options);
    } catch (err) {
      return Promise.reject(err);
    }
    const tls = target.secure ? this.#options.tls : undefined;
    // Filled in once the port is known (no request can arrive before).
    const bound: { ctx?: AcceptContext } = {};
    let server: Deno.HttpServer<Deno.NetAddr>;
    try {
      server = Deno.serve({
        hostname: target.host,
        port: target.port,
        ...(tls !== undefined ? { cert: tls.cert, key: tls.key } : {}),
        onListen() {},
        onError: (error) => {
          this.#init.onError?.(error instanceof Error ? error : new Error(String(error)));
          return new Response("internal error", { status: 500 });
        },
      }, (req, info) => {
        const ctx = bound.ctx;
        if (this.#closing || ctx === undefined) {
          return new Response("listener closed", { status: 503 });
        }
        return denoUpgrade(req, info, target.path, ctx) ??
          new Response("libp2p websocket endpoint: upgrade required", {
            status: 426,
            headers: { upgrade: "websocket" },
          });
      });
    } catch (err) {
      return Promise.reject(
        new WebSocketListenError(`could not listen on ${addr.toString()}: ${String(err)}`, {
          cause: err,
        }),
      );
    }
    this.#server = server;
    const port = server.addr.port;
    this.#addrs = reportedAddrs(target, port, interfaceAddresses);
    const init = this.#init;
    const tracker = this.#tracker;
    bound.ctx = {
      options: this.#options,
      secure: target.secure,
      localAddr: reportedAddrs(target, port, undefined)[0],
      accept: (conn) => tracker.accept(init, conn),
    };
    return Promise.resolve();
  }

  /** The bound addresses (a wildcard expanded to interface addresses). */
  getAddrs(): Multiaddr[] {
    return this.#closing ? [] : [...this.#addrs];
  }

  /** Refuse new upgrades; release the port once the accepted connections have closed. */
  close(): Promise<void> {
    if (this.#closing) return Promise.resolve();
    this.#closing = true;
    const server = this.#server;
    if (server === undefined) return Promise.resolve();
    this.#tracker.whenIdle(() => {
      server.shutdown().catch(() => {});
    });
    return Promise.resolve();
  }
}
