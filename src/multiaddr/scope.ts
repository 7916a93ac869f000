/**
 * Which addresses are public: the one classifier the DHT (what may be shared and which IP group
 * a peer is in), the relay (which addresses go into reservations) and DCUtR (which addresses are
 * exchanged) use. Public means public unicast: not private (RFC 1918, RFC 4193), loopback,
 * link-local, shared (RFC 6598), documentation (RFC 5737, RFC 3849), benchmarking, 6to4 relay
 * anycast, multicast or reserved (IANA special-purpose registries, RFC 6890). A DNS name counts
 * as public unless it is `localhost` or under `.localhost` (js-libp2p's
 * `removePrivateAddressesMapper` rule).
 *
 * @module
 */

import type { Multiaddr } from "./multiaddr.ts";

/** Multiaddr protocol code of ip4. */
const IP4_CODE = 4;
/** Multiaddr protocol code of ip6. */
const IP6_CODE = 41;
/** Multiaddr codes of dns, dns4, dns6 and dnsaddr (multiformats/multiaddr protocols.csv). */
const DNS_CODES: ReadonlySet<number> = new Set([53, 54, 55, 56]);

/** IPv4 ranges that are not public unicast (IANA special-purpose registry), [a, b, c, d, bits]. */
const IPV4_NON_PUBLIC: ReadonlyArray<readonly [number, number, number, number, number]> = [
  [0, 0, 0, 0, 8],
  [10, 0, 0, 0, 8],
  [100, 64, 0, 0, 10],
  [127, 0, 0, 0, 8],
  [169, 254, 0, 0, 16],
  [172, 16, 0, 0, 12],
  [192, 0, 0, 0, 24],
  [192, 0, 2, 0, 24],
  [192, 88, 99, 0, 24],
  [192, 168, 0, 0, 16],
  [198, 18, 0, 0, 15],
  [198, 51, 100, 0, 24],
  [203, 0, 113, 0, 24],
  [224, 0, 0, 0, 4],
  [240, 0, 0, 0, 4],
];

function inPrefix(ip: Uint8Array, prefix: ArrayLike<number>, bits: number): boolean {
  for (let i = 0; bits > 0; i++, bits -= 8) {
    const mask = bits >= 8 ? 0xff : (0xff << (8 - bits)) & 0xff;
    if ((ip[i] & mask) !== (prefix[i] & mask)) return false;
  }
  return true;
}

/**
 * True for a public unicast IPv4 address (4 bytes).
 *
 * @example
 * ```ts
 * import { isPublicIPv4 } from "@p2p-edge/libp2p/multiaddr";
 * isPublicIPv4(new Uint8Array([8, 8, 8, 8])); // true
 * isPublicIPv4(new Uint8Array([192, 168, 1, 1])); // false
 * ```
 */
export function isPublicIPv4(ip: Uint8Array): boolean {
  for (const r of IPV4_NON_PUBLIC) if (inPrefix(ip, r, r[4])) return false;
  return true;
}

/**
 * The IPv4 address inside an IPv4-mapped IPv6 address (`::ffff:a.b.c.d`), if it is one.
 *
 * @example
 * ```ts
 * import { mappedIPv4 } from "@p2p-edge/libp2p/multiaddr";
 * mappedIPv4(new Uint8Array([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 8, 8, 8, 8])); // [8, 8, 8, 8]
 * ```
 */
export function mappedIPv4(ip: Uint8Array): Uint8Array | undefined {
  for (let i = 0; i < 10; i++) if (ip[i] !== 0) return undefined;
  if (ip[10] !== 0xff || ip[11] !== 0xff) return undefined;
  return ip.subarray(12, 16);
}

/**
 * True for a public unicast IPv6 address (16 bytes): global unicast 2000::/3 outside the
 * documentation range 2001:db8::/32; an IPv4-mapped address is judged as its IPv4 address.
 *
 * @example
 * ```ts
 * import { isPublicIPv6 } from "@p2p-edge/libp2p/multiaddr";
 * isPublicIPv6(new Uint8Array([0x20, 0x01, 0x48, 0x60, ...new Array(12).fill(0)])); // true
 * ```
 */
export function isPublicIPv6(ip: Uint8Array): boolean {
  const v4 = mappedIPv4(ip);
  if (v4 !== undefined) return isPublicIPv4(v4);
  if ((ip[0] & 0xe0) !== 0x20) return false;
  return !inPrefix(ip, [0x20, 0x01, 0x0d, 0xb8], 32);
}

/**
 * True when a binary multiaddr starts with a public ip4/ip6 address or a DNS name other than
 * localhost. Addresses of any other shape are not public.
 *
 * @example
 * ```ts
 * import { isPublicAddressBytes } from "@p2p-edge/libp2p/multiaddr";
 * isPublicAddressBytes(new Uint8Array([4, 8, 8, 8, 8, 6, 0x0f, 0xa1])); // true
 * isPublicAddressBytes(new Uint8Array([4, 127, 0, 0, 1, 6, 0x0f, 0xa1])); // false
 * ```
 */
export function isPublicAddressBytes(addr: Uint8Array): boolean {
  if (addr.byteLength === 0) return false;
  const code = addr[0];
  if (code === IP4_CODE) return addr.byteLength >= 5 && isPublicIPv4(addr.subarray(1, 5));
  if (code === IP6_CODE) return addr.byteLength >= 17 && isPublicIPv6(addr.subarray(1, 17));
  if (DNS_CODES.has(code) && addr.byteLength >= 2) {
    const len = addr[1];
    if (len >= 0x80 || addr.byteLength < 2 + len) return false;
    const name = new TextDecoder().decode(addr.subarray(2, 2 + len)).toLowerCase();
    return name !== "localhost" && !name.endsWith(".localhost");
  }
  return false;
}

/**
 * True when `addr` starts with a public ip4/ip6 address or a DNS name other than localhost (see
 * the module comment for the ranges).
 *
 * @example
 * ```ts
 * import { isPublicAddress, multiaddr } from "@p2p-edge/libp2p/multiaddr";
 * isPublicAddress(multiaddr("/ip4/8.8.8.8/tcp/4001")); // true
 * isPublicAddress(multiaddr("/ip4/192.0.2.1/tcp/4001")); // false (documentation range)
 * ```
 */
export function isPublicAddress(addr: Multiaddr): boolean {
  return isPublicAddressBytes(addr.bytes);
}
