/**
 * Upgrading a request of a runtime's HTTP server for libp2p, the parts that need no runtime
 * global: Bun's server sockets reach us as objects Bun hands in (`server.upgrade`, the
 * `websocket` handlers), so their glue is web-only code shared by the Bun adapter's own server
 * and by the mount on an app's `Bun.serve`; Deno's upgrade needs `Deno.upgradeWebSocket` and is
 * in the Deno adapter (deno.ts).
 *
 * Bun's server sockets are not standard WebSockets: events arrive through the server-wide
 * `websocket` handlers and are routed to each connection through `ws.data`; `send()` reports
 * backpressure (-1) and drops (0), and `drain` fires when the send buffer empties. Bun's types are
 * declared here (the project type-checks with Deno, which has no Bun types).
 *
 * @module
 */

import type { Multiaddr } from "../../src/multiaddr/mod.ts";
import { webSocketMultiaddr } from "./address.ts";
import { type SocketPort, WebSocketConnection } from "./connection.ts";
import { type AcceptContext, isUpgradeRequest } from "./listener_common.ts";
import type { ResolvedWebSocketOptions } from "./options.ts";

/** The part of Deno.serve's handler info the upgrade uses. */
export interface DenoRequestInfo {
  /** The peer's TCP address. */
  remoteAddr?: { hostname: string; port: number };
}

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
  return isUpgradeRequest(req, path) && bunUpgradeTo(req, server, ctx);
}

/**
 * Upgrade `req`, already known to be a WebSocket upgrade on our path, into `ctx`; false when Bun
 * refused it.
 */
export function bunUpgradeTo(req: Request, server: BunServerLike, ctx: AcceptContext): boolean {
  const ip = server.requestIP?.(req) ?? null;
  const state: BunSocketState = {
    ctx,
    remoteAddr: webSocketMultiaddr(ip?.address ?? "0.0.0.0", ip?.port ?? 0, ctx.secure),
  };
  return server.upgrade(req, { data: { [BUN_SOCKET_KEY]: state } });
}
