/**
 * IP groups for routing-table diversity (go-libp2p-kad-dht's peer diversity filter): an IPv4
 * address belongs to its /16, an IPv6 address to its /32 (go refines IPv6 by ASN; a /32 is the
 * conservative fallback), an IPv4-mapped IPv6 address to the /16 of its IPv4 address.
 * Only public unicast addresses have a group: private, loopback, link-local, documentation,
 * multicast and reserved ranges cost an attacker nothing, so they prove no network position.
 *
 * @module
 */

/** Multiaddr protocol code of ip4. */
const IP4_CODE = 4;
/** Multiaddr protocol code of ip6. */
const IP6_CODE = 41;

/** IPv4 ranges that are not public unicast (IANA special-purpose registry), as [prefix, bits]. */
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
 * import { isPublicIPv4 } from "@p2p-edge/libp2p/protocols/kad-dht";
 * isPublicIPv4(new Uint8Array([8, 8, 8, 8])); // true
 * isPublicIPv4(new Uint8Array([192, 168, 1, 1])); // false
 * ```
 */
export function isPublicIPv4(ip: Uint8Array): boolean {
  for (const r of IPV4_NON_PUBLIC) if (inPrefix(ip, r, r[4])) return false;
  return true;
}

/**
 * True for a public unicast IPv6 address (16 bytes): global unicast 2000::/3 outside the
 * documentation range 2001:db8::/32 (IPv4-mapped addresses are judged as IPv4).
 *
 * @example
 * ```ts
 * import { isPublicIPv6 } from "@p2p-edge/libp2p/protocols/kad-dht";
 * isPublicIPv6(new Uint8Array([0x20, 0x01, 0x48, 0x60, ...new Array(12).fill(0)])); // true
 * ```
 */
export function isPublicIPv6(ip: Uint8Array): boolean {
  const v4 = mappedIPv4(ip);
  if (v4 !== undefined) return isPublicIPv4(v4);
  if ((ip[0] & 0xe0) !== 0x20) return false;
  return !inPrefix(ip, [0x20, 0x01, 0x0d, 0xb8], 32);
}

function mappedIPv4(ip: Uint8Array): Uint8Array | undefined {
  for (let i = 0; i < 10; i++) if (ip[i] !== 0) return undefined;
  if (ip[10] !== 0xff || ip[11] !== 0xff) return undefined;
  return ip.subarray(12, 16);
}

/**
 * The IP group of a binary multiaddr whose first component is ip4 or ip6 with a public address,
 * or `undefined` (private or non-IP addresses have no group).
 *
 * @example
 * ```ts
 * import { ipGroupOf } from "@p2p-edge/libp2p/protocols/kad-dht";
 * ipGroupOf(new Uint8Array([4, 8, 8, 4, 4, 6, 0x0f, 0xa1])); // "ip4/8.8"
 * ```
 */
export function ipGroupOf(addr: Uint8Array): string | undefined {
  if (addr.byteLength >= 5 && addr[0] === IP4_CODE) {
    const ip = addr.subarray(1, 5);
    return isPublicIPv4(ip) ? `ip4/${ip[0]}.${ip[1]}` : undefined;
  }
  if (addr.byteLength >= 17 && addr[0] === IP6_CODE) {
    const ip = addr.subarray(1, 17);
    if (!isPublicIPv6(ip)) return undefined;
    const v4 = mappedIPv4(ip);
    if (v4 !== undefined) return `ip4/${v4[0]}.${v4[1]}`;
    const hex = (i: number): string => ((ip[i] << 8) | ip[i + 1]).toString(16);
    return `ip6/${hex(0)}:${hex(2)}`;
  }
  return undefined;
}

/**
 * The distinct IP groups of a peer's addresses.
 *
 * @example
 * ```ts
 * import { ipGroupsOf } from "@p2p-edge/libp2p/protocols/kad-dht";
 * ipGroupsOf([new Uint8Array([4, 127, 0, 0, 1])]); // []
 * ```
 */
export function ipGroupsOf(addrs: readonly Uint8Array[]): string[] {
  const out = new Set<string>();
  for (const a of addrs) {
    const g = ipGroupOf(a);
    if (g !== undefined) out.add(g);
  }
  return [...out];
}

/** Multiaddr codes of dns, dns4, dns6 and dnsaddr (multiformats/multiaddr protocols.csv). */
const DNS_CODES: ReadonlySet<number> = new Set([53, 54, 55, 56]);

/**
 * True when a binary multiaddr may be shared on the public DHT: it starts with a public ip4/ip6
 * address or a DNS name (other than `localhost`). Private, loopback and link-local addresses,
 * and addresses of unknown shape, are not (js-libp2p's `removePrivateAddressesMapper` rule).
 *
 * @example
 * ```ts
 * import { isPublicMultiaddr } from "@p2p-edge/libp2p/protocols/kad-dht";
 * isPublicMultiaddr(new Uint8Array([4, 8, 8, 8, 8, 6, 0x0f, 0xa1])); // true
 * isPublicMultiaddr(new Uint8Array([4, 127, 0, 0, 1, 6, 0x0f, 0xa1])); // false
 * ```
 */
export function isPublicMultiaddr(addr: Uint8Array): boolean {
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
