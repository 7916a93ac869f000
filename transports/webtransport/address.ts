/**
 * WebTransport multiaddrs (libp2p/specs webtransport/README.md "Addressing"):
 * `/ip4|ip6|dns|dns4|dns6/<host>/udp/<port>/quic-v1/webtransport[/certhash/<mh>...][/p2p/<id>]`.
 *
 * @module
 */

import { decodeMultihash, type Multihash, SHA2_256_CODE } from "../../src/multiformats/mod.ts";
import { multibaseDecode } from "../../src/multiformats/multibase.ts";
import { type Multiaddr, multiaddr } from "../../src/multiaddr/mod.ts";
import { MAX_DIAL_CERTHASHES, WEBTRANSPORT_PATH, WEBTRANSPORT_QUERY } from "./constants.ts";

/** A parsed WebTransport address. */
export interface WebTransportTarget {
  /** IP literal (no brackets) or DNS name. */
  readonly host: string;
  /** 4, 6, or "dns". */
  readonly family: 4 | 6 | "dns";
  /** UDP port. */
  readonly port: number;
  /** The certificate hashes (sha2-256 multihashes), in address order. */
  readonly certhashes: readonly Multihash[];
  /** The `/p2p/` peer id text, when present. */
  readonly peerId?: string;
}

const HOSTS = new Set(["ip4", "ip6", "dns", "dns4", "dns6"]);

/**
 * Parse a WebTransport multiaddr, or `undefined` when `addr` is not one (or carries a certhash
 * that is not a sha2-256 multihash, or more than {@link MAX_DIAL_CERTHASHES}).
 *
 * @example
 * ```ts
 * import { parseWebTransportAddr } from "@p2p-edge/libp2p/transports/webtransport";
 * import { multiaddr } from "@p2p-edge/libp2p/multiaddr";
 * parseWebTransportAddr(multiaddr("/ip4/127.0.0.1/udp/4433/quic-v1/webtransport"))?.port; // 4433
 * ```
 */
export function parseWebTransportAddr(addr: Multiaddr): WebTransportTarget | undefined {
  const parts = addr.components();
  if (parts.length < 4) return undefined;
  const [host, udp, quic, wt] = parts;
  if (!HOSTS.has(host.name) || host.value === undefined) return undefined;
  if (udp.name !== "udp" || quic.name !== "quic-v1" || wt.name !== "webtransport") {
    return undefined;
  }
  const port = Number(udp.value);
  if (!Number.isInteger(port) || port < 0 || port > 65535) return undefined;
  const certhashes: Multihash[] = [];
  let peerId: string | undefined;
  for (let i = 4; i < parts.length; i++) {
    const p = parts[i];
    if (p.name === "certhash" && peerId === undefined) {
      if (certhashes.length >= MAX_DIAL_CERTHASHES) return undefined;
      try {
        const mh = decodeMultihash(multibaseDecode(p.value!));
        if (mh.code !== SHA2_256_CODE || mh.digest.byteLength !== 32) return undefined;
        certhashes.push(mh);
      } catch {
        return undefined;
      }
    } else if (p.name === "p2p" && peerId === undefined && i === parts.length - 1) {
      peerId = p.value;
    } else {
      return undefined;
    }
  }
  const family = host.name === "ip4" ? 4 : host.name === "ip6" ? 6 : "dns";
  return { host: host.value, family, port, certhashes, peerId };
}

/**
 * The endpoint URL of a target (spec "WebTransport HTTP endpoint").
 *
 * @example
 * ```ts
 * import { webTransportUrl } from "@p2p-edge/libp2p/transports/webtransport";
 * webTransportUrl({ host: "::1", family: 6, port: 4433, certhashes: [] });
 * // "https://[::1]:4433/.well-known/libp2p-webtransport?type=noise"
 * ```
 */
export function webTransportUrl(target: WebTransportTarget): string {
  return `https://${authority(target)}${WEBTRANSPORT_PATH}${WEBTRANSPORT_QUERY}`;
}

/** `host:port` with IPv6 in brackets (RFC 3986 §3.2.2). */
export function authority(target: Pick<WebTransportTarget, "host" | "family" | "port">): string {
  return target.family === 6 ? `[${target.host}]:${target.port}` : `${target.host}:${target.port}`;
}

/**
 * Build a listener address: host, port and the certhashes to advertise.
 *
 * @example
 * ```ts
 * import { webTransportAddr } from "@p2p-edge/libp2p/transports/webtransport";
 * webTransportAddr("127.0.0.1", 4433, []).toString();
 * // "/ip4/127.0.0.1/udp/4433/quic-v1/webtransport"
 * ```
 */
export function webTransportAddr(
  host: string,
  port: number,
  certhashes: readonly Multihash[],
): Multiaddr {
  let ma = multiaddr(
    `/${host.includes(":") ? "ip6" : "ip4"}/${host}/udp/${port}/quic-v1/webtransport`,
  );
  for (const h of certhashes) {
    ma = ma.encapsulate(certhashComponent(h));
  }
  return ma;
}

function certhashComponent(h: Multihash): Multiaddr {
  // Binary form: code 466 as a varint (0xd2 0x03), length, the multihash bytes.
  if (h.bytes.byteLength > 127) throw new RangeError("certhash too long");
  const out = new Uint8Array(3 + h.bytes.byteLength);
  out[0] = 0xd2;
  out[1] = 0x03;
  out[2] = h.bytes.byteLength;
  out.set(h.bytes, 3);
  return multiaddr(out);
}
