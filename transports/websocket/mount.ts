/**
 * Mounting the WebSocket listener on an application's own HTTP server, so a node and the app
 * share one port: WebSocket upgrades on the node's path go to libp2p, everything else stays the
 * app's.
 *
 * @module
 */

import type { Multiaddr } from "../../src/multiaddr/mod.ts";
import type { Listener, ListenerInit } from "../../src/transport.ts";
import {
  type AcceptContext,
  ConnectionTracker,
  type ListenTarget,
  parseWebSocketListenAddrForMount,
  reportedAddrs,
} from "./listener_common.ts";
import type { ResolvedWebSocketOptions } from "./options.ts";
import { interfaceAddresses, webSocketServerKind } from "./runtime.ts";
import {
  type BunServerLike,
  bunUpgrade,
  type BunWebSocketHandlers,
  bunWebSocketHandlers,
  type DenoRequestInfo,
} from "./upgrade.ts";

/** The Deno adapter's upgrade (deno.ts), loaded by dynamic import (tools/check_web.ts). */
type DenoUpgrade = (
  req: Request,
  info: DenoRequestInfo | undefined,
  path: string,
  ctx: AcceptContext,
) => Response | undefined;

/**
 * The hook an application calls from its own server. Created by `websocket({ mount: true })`
 * as `transport.mount`; the node's listen addresses on this transport (e.g.
 * `/ip4/0.0.0.0/tcp/8080/ws/http-path/%2Flibp2p`) name the app's server and the path, and the
 * listeners only register here.
 *
 * Deno:
 * ```ts ignore
 * const ws = websocket({ mount: true });
 * // node listens on /ip4/127.0.0.1/tcp/8080/ws/http-path/%2Flibp2p
 * Deno.serve({ port: 8080 }, (req, info) =>
 *   ws.mount!.handleRequest(req, info) ?? new Response("app"));
 * ```
 * Bun:
 * ```ts ignore
 * Bun.serve({
 *   port: 8080,
 *   fetch(req, server) {
 *     if (ws.mount!.upgrade(req, server)) return;
 *     return new Response("app");
 *   },
 *   websocket: ws.mount!.websocket, // dispatch the app's own sockets first, if it has any
 * });
 * ```
 * A path other than `/` is only reachable by dialers that read `/http-path` (ours); go and js
 * dial `/`, so mount on `/` (the default) for them: upgrades on `/` go to libp2p, plain HTTP
 * requests on `/` still reach the app.
 */
export interface WebSocketMount {
  /**
   * Deno.serve: the upgrade Response when `req` is a WebSocket upgrade on a registered path,
   * undefined when the request is the app's.
   */
  handleRequest(req: Request, info?: DenoRequestInfo): Response | undefined;
  /** Bun.serve `fetch`: true when `req` was upgraded for libp2p (return nothing then). */
  upgrade(req: Request, server: BunServerLike): boolean;
  /** Bun.serve `websocket` handlers (they ignore sockets libp2p did not upgrade). */
  readonly websocket: BunWebSocketHandlers;
  /** True when `pathname` is a path a listener of this mount upgrades on now. */
  isMountedPath(pathname: string): boolean;
}

interface Registration {
  readonly path: string;
  readonly ctx: AcceptContext;
}

/** Create the mount of one transport. */
export function createMount(options: ResolvedWebSocketOptions): {
  mount: WebSocketMount;
  createListener(init: ListenerInit): Listener;
} {
  const registrations: Registration[] = [];
  // On Deno, handleRequest needs Deno.upgradeWebSocket: the adapter is loaded now, and a
  // listener registers a path only once it is there, so a request that finds a registration
  // always finds the upgrade too.
  let denoUpgrade: DenoUpgrade | undefined;
  const ready: Promise<void> = webSocketServerKind() === "deno"
    ? import("./deno.ts").then((m) => {
      denoUpgrade = m.denoUpgrade;
    })
    : Promise.resolve();
  ready.catch(() => {}); // reported by listen()
  const find = (req: Request): Registration | undefined => {
    let path: string;
    try {
      path = new URL(req.url).pathname;
    } catch {
      return undefined;
    }
    return registrations.find((r) => r.path === path);
  };
  const mount: WebSocketMount = {
    handleRequest(req, info) {
      const reg = find(req);
      if (reg === undefined || denoUpgrade === undefined) return undefined;
      return denoUpgrade(req, info, reg.path, reg.ctx);
    },
    upgrade(req, server) {
      const reg = find(req);
      return reg === undefined ? false : bunUpgrade(req, server, reg.path, reg.ctx);
    },
    websocket: bunWebSocketHandlers(options),
    isMountedPath: (pathname) => registrations.some((r) => r.path === pathname),
  };
  return {
    mount,
    createListener: (init) => new MountedListener(init, options, registrations, ready),
  };
}

class MountedListener implements Listener {
  readonly #init: ListenerInit;
  readonly #options: ResolvedWebSocketOptions;
  readonly #registrations: Registration[];
  readonly #ready: Promise<void>;
  readonly #tracker = new ConnectionTracker();
  #registration: Registration | undefined;
  #addrs: Multiaddr[] = [];

  constructor(
    init: ListenerInit,
    options: ResolvedWebSocketOptions,
    registrations: Registration[],
    ready: Promise<void>,
  ) {
    this.#init = init;
    this.#options = options;
    this.#registrations = registrations;
    this.#ready = ready;
  }

  async listen(addr: Multiaddr): Promise<void> {
    if (this.#registration !== undefined) {
      throw new TypeError("websocket listener is already listening");
    }
    const target: ListenTarget = parseWebSocketListenAddrForMount(addr);
    await this.#ready;
    if (this.#registration !== undefined) {
      throw new TypeError("websocket listener is already listening");
    }
    if (this.#registrations.some((r) => r.path === target.path)) {
      throw new TypeError(`path ${target.path} is already mounted`);
    }
    const init = this.#init;
    const tracker = this.#tracker;
    const registration: Registration = {
      path: target.path,
      ctx: {
        options: this.#options,
        secure: target.secure,
        localAddr: reportedAddrs(target, target.port, undefined)[0],
        accept: (conn) => tracker.accept(init, conn),
      },
    };
    this.#registrations.push(registration);
    this.#registration = registration;
    this.#addrs = reportedAddrs(target, target.port, interfaceAddresses);
  }

  getAddrs(): Multiaddr[] {
    return [...this.#addrs];
  }

  close(): Promise<void> {
    const i = this.#registrations.indexOf(this.#registration!);
    if (i >= 0) this.#registrations.splice(i, 1);
    this.#addrs = [];
    return Promise.resolve();
  }
}
