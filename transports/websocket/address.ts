/**
 * WebSocket multiaddrs <-> URLs, pure and synchronous.
 *
 * Accepted forms (what go-libp2p's and js-libp2p's websocket transports accept, plus an
 * optional trailing `/p2p/<id>` on dial):
 *   `<ip4|ip6|dns|dns4|dns6>/<h>/tcp/<p>/ws`            -> `ws://<h>:<p>/`
 *   `.../tcp/<p>/wss` and `.../tcp/<p>/tls/ws`           -> `wss://<h>:<p>/`
 *   `.../tcp/<p>/tls/sni/<name>/ws`                      -> `wss://<name>:<p>/`
 * The URL path is `/`, as go and js dial it (js builds `ws://host:port` through
 * multiaddr-to-uri; go builds a url.URL with an empty path). With `/tls/sni/<name>` the URL names
 * the SNI host, as js does: a standard WebSocket cannot connect to one IP while presenting
 * another name, so the runtime resolves `<name>` itself.
 *
 * Extension (ours): a trailing `/http-path/<percent-encoded path>` after `/ws` selects the HTTP
 * path, for nodes mounted on a path of an application's server. go and js do not dial it.
 *
 * @module
 */

import { type Multiaddr, multiaddr } from "../../src/multiaddr/mod.ts";
import { CODE_HTTP_PATH, CODE_P2P, CODE_SNI, CODE_TLS, CODE_WS, CODE_WSS } from "./constants.ts";

const CODE_IP4 = 4;
const CODE_TCP = 6;
const CODE_IP6 = 41;
const CODE_DNS = 53;
const CODE_DNS4 = 54;
const CODE_DNS6 = 55;

/** A parsed WebSocket multiaddr. */
export interface WebSocketTarget {
  /** 4 or 6 for IP hosts, "dns" for names. */
  readonly family: 4 | 6 | "dns";
  /** IP text or DNS name from the address. */
  readonly host: string;
  /** TCP port. */
  readonly port: number;
  /** True for `/wss` and `/tls/.../ws`. */
  readonly secure: boolean;
  /** The `/sni` value, when present. */
  readonly sni?: string;
  /** HTTP path, `/` unless an `/http-path` follows. */
  readonly path: string;
  /** The URL to open, e.g. `ws://127.0.0.1:4001/`. */
  readonly url: string;
}

/**
 * Parse a WebSocket multiaddr (a trailing `/p2p/<id>` is ignored); undefined when `addr` is not
 * one of the accepted forms.
 *
 * @example
 * ```ts
 * import { parseWebSocketAddr } from "@p2p-edge/libp2p/transports/websocket";
 * import { multiaddr } from "@p2p-edge/libp2p";
 * parseWebSocketAddr(multiaddr("/ip6/::1/tcp/443/tls/ws"))?.url; // "wss://[::1]:443/"
 * ```
 */
export function parseWebSocketAddr(addr: Multiaddr): WebSocketTarget | undefined {
  let parts = addr.components();
  if (parts.length > 0 && parts[parts.length - 1].code === CODE_P2P) {
    parts = parts.slice(0, -1);
  }
  if (parts.length < 3) return undefined;
  const [hostPart, portPart] = parts;
  let family: 4 | 6 | "dns";
  switch (hostPart.code) {
    case CODE_IP4:
      family = 4;
      break;
    case CODE_IP6:
      family = 6;
      break;
    case CODE_DNS:
    case CODE_DNS4:
    case CODE_DNS6:
      family = "dns";
      break;
    default:
      return undefined;
  }
  if (portPart.code !== CODE_TCP) return undefined;
  const host = hostPart.value as string;
  const port = Number(portPart.value);
  let i = 2;
  let secure = false;
  let sni: string | undefined;
  if (parts[i].code === CODE_WSS) {
    secure = true;
    i++;
  } else {
    if (parts[i].code === CODE_TLS) {
      secure = true;
      i++;
      if (parts[i]?.code === CODE_SNI) {
        sni = parts[i].value;
        i++;
      }
    }
    if (parts[i]?.code !== CODE_WS) return undefined;
    i++;
  }
  let path = "/";
  if (i < parts.length && parts[i].code === CODE_HTTP_PATH) {
    path = parts[i].value ?? "/";
    if (!path.startsWith("/")) path = "/" + path;
    i++;
  }
  if (i !== parts.length) return undefined;
  const urlHost = sni ?? (family === 6 ? `[${host}]` : host);
  const encodedPath = path.split("/").map(encodeURIComponent).join("/");
  const url = `${secure ? "wss" : "ws"}://${urlHost}:${port}${encodedPath}`;
  return sni === undefined
    ? { family, host, port, secure, path, url }
    : { family, host, port, secure, sni, path, url };
}

/**
 * The multiaddr a listener reports for a bound host and port: `/ip4/<h>/tcp/<p>/ws`, or
 * `/tls/ws` when it serves TLS (go's canonical form of `/wss`).
 *
 * @example
 * ```ts
 * import { webSocketMultiaddr } from "@p2p-edge/libp2p/transports/websocket";
 * webSocketMultiaddr("::1", 4001, false).toString(); // "/ip6/::1/tcp/4001/ws"
 * ```
 */
export function webSocketMultiaddr(host: string, port: number, secure: boolean): Multiaddr {
  const bare = host.startsWith("[") && host.endsWith("]") ? host.slice(1, -1) : host;
  const proto = bare.includes(":") ? "ip6" : "ip4";
  return multiaddr(`/${proto}/${bare}/tcp/${port}/${secure ? "tls/ws" : "ws"}`);
}

/** True when `addr` is a WebSocket address this transport can listen on (an IP host). */
export function isListenableWebSocketAddr(addr: Multiaddr): boolean {
  const target = parseWebSocketAddr(addr);
  return target !== undefined && target.family !== "dns" && target.sni === undefined &&
    addr.components().at(-1)?.code !== CODE_P2P;
}
