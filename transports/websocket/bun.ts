/**
 * Bun side of the WebSocket listener: `Bun.serve({ fetch, websocket })`. Bun's server sockets
 * are not standard WebSockets: events arrive through the server-wide `websocket` handlers and
 * are routed to each connection through `ws.data`; `send()` reports backpressure (-1) and drops
 * (0), and `drain` fires when the send buffer empties.
 *
 * Bun types are declared here (the project type-checks with Deno, which has no Bun types).
 *
 * @module
 */

import type { Multiaddr } from "../../src/multiaddr/mod.ts";
import type { Listener, ListenerInit } from "../../src/transport.ts";
import { webSocketMultiaddr } from "./address.ts";
import { type SocketPort, WebSocketConnection } from "./connection.ts";
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

/** Per-socket state kept in `ws.data` under {@link BUN_SOCKET_KEY}. */
interface BunSocketState {
  ctx: AcceptContext;
  remoteAddr: Multiaddr;
  conn?: WebSocketConnection;
}

/** The key of our state in a Bun socket's `data` (lets an app tell our sockets from its own). */
export const BUN_SOCKET_KEY = "libp2pWebSocket";

/** The part of Bun's `ServerWebSocket` the transport uses. */
export interface BunServerWebSocket {
  /** Per-socket data given to `server.upgrade`. */
  readonly data: unknown;
  /** -1: queued with backpressure, 0: dropped, >0: bytes sent. */
  send(data: Uint8Array, compress?: boolean): number;
  /** Start the closing handshake. */
  close(code?: number, reason?: string): void;
  /** Bytes queued and not yet sent. */
  getBufferedAmount(): number;
}

/** The part of Bun's `Server` the transport uses. */
export interface BunServerLike {
  /** Upgrade `req`; false when it is not a valid WebSocket request. */
  upgrade(req: Request, options?: { data?: unknown; headers?: HeadersInit }): boolean;
  /** The peer's address of `req`. */
  requestIP?(req: Request): { address: string; port: number } | null;
}

/** The `websocket` handlers object of `Bun.serve`. */
export interface BunWebSocketHandlers {
  /** Largest message Bun accepts; bigger ones close the socket (1006). */
  maxPayloadLength: number;
  /** Seconds without data before Bun closes the socket (0 = never). */
  idleTimeout: number;
  /** Bytes Bun queues before dropping messages. */
  backpressureLimit: number;
  /** Never close on the limit: writes wait at the high-water mark long before. */
  closeOnBackpressureLimit: boolean;
  /** Keep idle sockets alive with pings (so idleTimeout only ends dead peers). */
  sendPings: boolean;
  /** Socket opened. */
  open(ws: BunServerWebSocket): void;
  /** Message received. */
  message(ws: BunServerWebSocket, message: string | Uint8Array): void;
  /** Send buffer drained. */
  drain(ws: BunServerWebSocket): void;
  /** Socket closed. */
  close(ws: BunServerWebSocket, code: number, reason: string): void;
}

interface BunServer extends BunServerLike {
  readonly port: number;
  stop(closeActiveConnections?: boolean): Promise<void> | void;
}

interface BunGlobal {
  serve(options: Record<string, unknown>): BunServer;
}

function stateOf(ws: BunServerWebSocket): BunSocketState | undefined {
  const data = ws.data as Record<string, unknown> | undefined;
  const state = data?.[BUN_SOCKET_KEY];
  return state === undefined ? undefined : state as BunSocketState;
}

function bunPort(ws: BunServerWebSocket): SocketPort {
  return {
    send: (data) => ws.send(data) !== 0,
    bufferedAmount: () => ws.getBufferedAmount(),
    close(code, reason) {
      try {
        ws.close(code, reason);
      } catch { /* already closed */ }
    },
  };
}

/**
 * The `websocket` handlers for `Bun.serve`. Sockets upgraded by {@link bunUpgrade} are routed
 * to their connection; any other socket (the app's own) is ignored.
 */
export function bunWebSocketHandlers(options: ResolvedWebSocketOptions): BunWebSocketHandlers {
  return {
    maxPayloadLength: options.maxPayloadLength,
    idleTimeout: options.idleTimeoutSeconds,
    backpressureLimit: options.backpressureLimit,
    closeOnBackpressureLimit: false,
    sendPings: true,
    open(ws) {
      const state = stateOf(ws);
      if (state === undefined) return;
      const conn = new WebSocketConnection(bunPort(ws), state.ctx.options, {
        remoteAddr: state.remoteAddr,
        localAddr: state.ctx.localAddr,
      });
      state.conn = conn;
      state.ctx.accept(conn);
    },
    message(ws, message) {
      stateOf(ws)?.conn?.onMessage(message);
    },
    drain(ws) {
      stateOf(ws)?.conn?.onDrain();
    },
    close(ws, code, reason) {
      // Bun reports a dropped TCP connection (and its own limit violations) as 1006.
      stateOf(ws)?.conn?.onClose(code, reason, code !== 1006);
    },
  };
}

/**
 * Upgrade `req` when it asks for a WebSocket on `path`; false when the request is not ours (or
 * Bun refused it). The connection reaches `ctx.accept` when the socket opens.
 */
export function bunUpgrade(
  req: Request,
  server: BunServerLike,
  path: string,
  ctx: AcceptContext,
): boolean {
  if (!isUpgradeRequest(req, path)) return false;
  const ip = server.requestIP?.(req) ?? null;
  const state: BunSocketState = {
    ctx,
    remoteAddr: webSocketMultiaddr(ip?.address ?? "0.0.0.0", ip?.port ?? 0, ctx.secure),
  };
  return server.upgrade(req, { data: { [BUN_SOCKET_KEY]: state } });
}

/** The Bun global, when running on Bun. */
export function bunGlobal(): BunGlobal | undefined {
  const bun = (globalThis as { Bun?: BunGlobal }).Bun;
  return typeof bun?.serve === "function" ? bun : undefined;
}

/**
 * A listener running its own `Bun.serve`. `close()` stops accepting at once; sockets already
 * handed out stay open (Bun's `stop()` without force keeps them).
 */
export class BunWebSocketListener implements Listener {
  readonly #init: ListenerInit;
  readonly #options: ResolvedWebSocketOptions;
  readonly #tracker = new ConnectionTracker();
  #server: BunServer | undefined;
  #addrs: Multiaddr[] = [];
  #closing = false;

  /** Create an idle listener; `listen` binds it. */
  constructor(init: ListenerInit, options: ResolvedWebSocketOptions) {
    this.#init = init;
    this.#options = options;
  }

  /** Bind `addr` (`/ip4|ip6/<h>/tcp/<p>/ws`, `/tls/ws`, `/wss`, optional `/http-path`). */
  listen(addr: Multiaddr): Promise<void> {
    const bun = bunGlobal();
    if (bun === undefined) {
      return Promise.reject(new WebSocketListenError("Bun.serve is not available"));
    }
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
    const init = this.#init;
    const tracker = this.#tracker;
    // Filled in once the port is known (no request can arrive before).
    const bound: { ctx?: AcceptContext } = {};
    let server: BunServer;
    try {
      server = bun.serve({
        hostname: target.host,
        port: target.port,
        ...(tls !== undefined ? { tls: { cert: tls.cert, key: tls.key } } : {}),
        fetch: (req: Request, srv: BunServerLike): Response | undefined => {
          const ctx = bound.ctx;
          if (this.#closing || ctx === undefined) {
            return new Response("listener closed", { status: 503 });
          }
          if (bunUpgrade(req, srv, target.path, ctx)) return undefined;
          return new Response("libp2p websocket endpoint: upgrade required", {
            status: 426,
            headers: { upgrade: "websocket" },
          });
        },
        error: (error: Error): Response => {
          init.onError?.(error);
          return new Response("internal error", { status: 500 });
        },
        websocket: bunWebSocketHandlers(this.#options),
      });
    } catch (err) {
      return Promise.reject(
        new WebSocketListenError(`could not listen on ${addr.toString()}: ${String(err)}`, {
          cause: err,
        }),
      );
    }
    this.#server = server;
    this.#addrs = reportedAddrs(target, server.port, interfaceAddresses);
    bound.ctx = {
      options: this.#options,
      secure: target.secure,
      localAddr: reportedAddrs(target, server.port, undefined)[0],
      accept: (conn) => tracker.accept(init, conn),
    };
    return Promise.resolve();
  }

  /** The bound addresses (a wildcard expanded to interface addresses). */
  getAddrs(): Multiaddr[] {
    return this.#closing ? [] : [...this.#addrs];
  }

  /** Stop accepting; connections already handed out stay open. */
  close(): Promise<void> {
    if (this.#closing) return Promise.resolve();
    this.#closing = true;
    const server = this.#server;
    if (server === undefined) return Promise.resolve();
    // Without force, stop() stops listening at once and resolves only when the upgraded
    // sockets have closed: do not wait for it.
    Promise.resolve(server.stop(false)).catch(() => {});
    return Promise.resolve();
  }
}
