/**
 * TCP multiaddrs: which ones the transport takes, host/port out of them, and multiaddrs for the
 * socket addresses a runtime reports.
 *
 * Accepted: `/ip4|ip6|dns|dns4|dns6/<host>/tcp/<port>`, and for dials the same with one trailing
 * `/p2p/<id>`. Anything else (`/ws`, `/tls`, `/p2p-circuit`, `/ip6zone`...) belongs to another
 * transport or is not supported.
 *
 * @module
 */

import { dialableHosts, type InterfaceAddress, interfaceAddresses } from "../../src/runtime.ts";
import {
  CODE_DNS,
  CODE_DNS4,
  CODE_DNS6,
  CODE_IP4,
  CODE_IP6,
  CODE_P2P,
  CODE_TCP,
  type Multiaddr,
  multiaddr,
  parseIPv4,
} from "../../src/multiaddr/mod.ts";

/** Where to connect or bind: host text as socket APIs take it, and the port. Internal. */
export interface TcpEndpoint {
  /** 4 or 6 for IP literals; "dns" for a name the runtime resolves. */
  readonly family: 4 | 6 | "dns";
  /** IP text or DNS name. */
  readonly host: string;
  /** 0..65535 (0 only when listening: pick a free port). */
  readonly port: number;
}

const HOST_CODES = new Set([CODE_IP4, CODE_IP6, CODE_DNS, CODE_DNS4, CODE_DNS6]);

/**
 * The endpoint of a TCP multiaddr, or undefined when `addr` is not one this transport takes.
 * `dial` also accepts a trailing `/p2p/<id>`. Internal.
 *
 * @example
 * ```ts
 * tcpEndpoint(multiaddr("/ip6/::1/tcp/4001"), false); // { family: 6, host: "::1", port: 4001 }
 * ```
 */
export function tcpEndpoint(addr: Multiaddr, dial: boolean): TcpEndpoint | undefined {
  const parts = addr.components();
  const n = parts.length;
  if (n === 3) {
    if (!dial || parts[2].code !== CODE_P2P) return undefined;
  } else if (n !== 2) {
    return undefined;
  }
  if (!HOST_CODES.has(parts[0].code) || parts[1].code !== CODE_TCP) return undefined;
  const host = parts[0].value;
  const port = Number(parts[1].value);
  if (host === undefined || host === "" || !Number.isInteger(port)) return undefined;
  if (dial && port === 0) return undefined;
  const code = parts[0].code;
  const family = code === CODE_IP4 ? 4 : code === CODE_IP6 ? 6 : "dns";
  return { family, host, port };
}

/**
 * The multiaddr of a socket address as a runtime reports it: `/ip4/...` for IPv4 text and for
 * IPv4-mapped IPv6 (`::ffff:1.2.3.4`, as dual-stack sockets report IPv4 peers), `/ip6/...` for
 * other IPv6 text (a `%zone` suffix is dropped), `/dns/...` for anything else. Internal.
 *
 * @example
 * ```ts
 * socketMultiaddr("::ffff:127.0.0.1", 4001).toString(); // "/ip4/127.0.0.1/tcp/4001"
 * ```
 */
export function socketMultiaddr(host: string, port: number): Multiaddr {
  let h = host;
  if (h.startsWith("[") && h.endsWith("]")) h = h.slice(1, -1);
  if (h.includes(":")) {
    const zone = h.indexOf("%");
    if (zone >= 0) h = h.slice(0, zone);
    const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(h);
    if (mapped !== null && parseIPv4(mapped[1]) !== undefined) {
      return multiaddr(`/ip4/${mapped[1]}/tcp/${port}`);
    }
    return multiaddr(`/ip6/${h}/tcp/${port}`);
  }
  if (parseIPv4(h) !== undefined) return multiaddr(`/ip4/${h}/tcp/${port}`);
  return multiaddr(`/dns/${h}/tcp/${port}`);
}

/** Local addresses a listener keeps: one per interface it accepts on (HARDENING.md rule 4). */
const LISTENER_LOCAL_MAX = 64;

/**
 * The local addresses of one listener's connections: every connection it accepts on an
 * interface has the same one, so they share one Multiaddr (a few hundred bytes each otherwise;
 * Multiaddr objects are immutable). One memo per listener: outbound connections (ephemeral
 * ports, nothing to share) and other listeners never evict its entries. Internal.
 *
 * @example
 * ```ts
 * const local = new LocalAddrMemo();
 * local.get("127.0.0.1", 4001) === local.get("127.0.0.1", 4001); // true
 * ```
 */
export class LocalAddrMemo {
  readonly #addrs = new Map<string, Multiaddr>();

  /** The shared Multiaddr of `host`:`port`. */
  get(host: string, port: number): Multiaddr {
    const key = `${host} ${port}`;
    let addr = this.#addrs.get(key);
    if (addr === undefined) {
      // A wildcard bind sees one local address per interface; past the cap (not expected),
      // connections simply get their own object.
      addr = socketMultiaddr(host, port);
      if (this.#addrs.size < LISTENER_LOCAL_MAX) this.#addrs.set(key, addr);
    }
    return addr;
  }
}

/**
 * The dialable addresses of a server bound to `host`:`port`. A wildcard bind (`0.0.0.0`, `::`)
 * is expanded to the interface addresses of that family (IPv6 link-local ones are left out: they
 * need a zone to be dialled); when the interfaces cannot be read, the wildcard itself is
 * reported. Internal.
 *
 * @example
 * ```ts
 * boundAddrs("0.0.0.0", 4001, () => [{ address: "127.0.0.1", family: "IPv4" }]).map(String);
 * // ["/ip4/127.0.0.1/tcp/4001"]
 * ```
 */
export function boundAddrs(
  host: string,
  port: number,
  interfaces: () => readonly InterfaceAddress[] | undefined = interfaceAddresses,
): Multiaddr[] {
  const seen = new Set<string>();
  const out: Multiaddr[] = [];
  for (const h of dialableHosts(host, interfaces)) {
    const ma = socketMultiaddr(h, port);
    if (seen.has(ma.toString())) continue;
    seen.add(ma.toString());
    out.push(ma);
  }
  return out;
}
