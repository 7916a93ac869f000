/**
 * What the Deno and Bun listeners (and the mount) share: listen-address parsing, request
 * matching, reported addresses, and the accept context handed to the runtime adapters.
 *
 * @module
 */

import { type Multiaddr, multiaddr } from "../../src/multiaddr/mod.ts";
import { dialableHosts, type InterfaceAddress } from "../../src/runtime.ts";
import type { ListenerInit } from "../../src/transport.ts";
import { parseWebSocketAddr, webSocketMultiaddr } from "./address.ts";
import type { WebSocketConnection } from "./connection.ts";
import type { ResolvedWebSocketOptions } from "./options.ts";

/** A parsed listen address. */
export interface ListenTarget {
  /** IP to bind. */
  host: string;
  /** Port (0 = any free port). */
  port: number;
  /** Serve TLS (`/tls/ws`, `/wss`). */
  secure: boolean;
  /** HTTP path that upgrades (from `/http-path`, default `/`). */
  path: string;
}

/** What a runtime adapter needs to accept one upgrade. */
export interface AcceptContext {
  /** Resolved transport options. */
  readonly options: ResolvedWebSocketOptions;
  /** Whether the server speaks TLS (reported in remote addresses as `/tls/ws`). */
  readonly secure: boolean;
  /** Our address for accepted connections. */
  readonly localAddr: Multiaddr | undefined;
  /** Hand an open connection to the owner. */
  accept(conn: WebSocketConnection): void;
}

function parseIpTarget(addr: Multiaddr): ListenTarget {
  const target = parseWebSocketAddr(addr);
  if (
    target === undefined || target.family === "dns" || target.sni !== undefined ||
    addr.components().at(-1)?.code === 421
  ) {
    throw new TypeError(`not a websocket listen address: ${addr.toString()}`);
  }
  return { host: target.host, port: target.port, secure: target.secure, path: target.path };
}

/** Parse and check a listen address; throws TypeError when it cannot be listened on. */
export function parseListenAddr(addr: Multiaddr, options: ResolvedWebSocketOptions): ListenTarget {
  const target = parseIpTarget(addr);
  if (target.secure && options.tls === undefined) {
    throw new TypeError(
      `listening on ${addr.toString()} needs a certificate: pass tls { cert, key } to websocket()`,
    );
  }
  return target;
}

/**
 * Parse the listen address of a mounted listener: the app's server address and path. TLS is
 * the app server's business; the port must be the real one (not 0).
 */
export function parseWebSocketListenAddrForMount(addr: Multiaddr): ListenTarget {
  const target = parseIpTarget(addr);
  if (target.port === 0) {
    throw new TypeError(
      `a mounted listener needs the app server's real port, got ${addr.toString()}`,
    );
  }
  return target;
}

/** Append `/http-path/<path>` unless the path is `/`. */
export function withPath(addr: Multiaddr, path: string): Multiaddr {
  if (path === "/") return addr;
  return addr.encapsulate(multiaddr(`/http-path/${encodeURIComponent(path)}`));
}

/** True when `req` asks for a WebSocket upgrade on `path`. */
export function isUpgradeRequest(req: Request, path: string): boolean {
  if (req.headers.get("upgrade")?.toLowerCase() !== "websocket") return false;
  let pathname: string;
  try {
    pathname = new URL(req.url).pathname;
  } catch {
    return false;
  }
  return pathname === path;
}

/**
 * The addresses a listener bound to `host` reports: the bound address itself, or, for a
 * wildcard (`0.0.0.0`, `::`), every interface address of that family (link-local IPv6 left
 * out: it needs a zone), since a wildcard is not dialable.
 */
export function reportedAddrs(
  target: ListenTarget,
  port: number,
  interfaces: (() => readonly InterfaceAddress[] | undefined) | undefined,
): Multiaddr[] {
  const hosts = interfaces === undefined ? [target.host] : dialableHosts(target.host, interfaces);
  return hosts.map((h) => withPath(webSocketMultiaddr(h, port, target.secure), target.path));
}

/** Reports accepted connections to the owner and counts the open ones. */
export class ConnectionTracker {
  #open = 0;
  #onIdle: (() => void) | undefined;

  /** Report `conn` to `init` and count it until it closes. */
  accept(init: ListenerInit, conn: WebSocketConnection): void {
    this.#open++;
    conn.closed.then(() => {
      this.#open--;
      if (this.#open === 0) this.#onIdle?.();
    });
    try {
      init.onConnection(conn);
    } catch (err) {
      conn.abort(err);
    }
  }

  /** Connections handed out and not yet closed. */
  get open(): number {
    return this.#open;
  }

  /** Call `fn` once no connection is open (at once when none is). */
  whenIdle(fn: () => void): void {
    if (this.#open === 0) fn();
    else this.#onIdle = fn;
  }
}
