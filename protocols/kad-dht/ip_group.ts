/**
 * IP groups for routing-table diversity (go-libp2p-kad-dht's peer diversity filter): an IPv4
 * address belongs to its /16, an IPv6 address to its /32 (go refines IPv6 by ASN; a /32 is the
 * conservative fallback), an IPv4-mapped IPv6 address to the /16 of its IPv4 address.
 * Only public unicast addresses have a group: private, loopback, link-local, documentation,
 * multicast and reserved ranges cost an attacker nothing, so they prove no network position.
 *
 * @module
 */

import {
  isPublicAddressBytes,
  isPublicIPv4,
  isPublicIPv6,
  mappedIPv4,
} from "../../src/multiaddr/mod.ts";

// The public-address classifier lives in the core (src/multiaddr/scope.ts), shared with the
// relay and DCUtR; these names stay exported here for the DHT's users.
export { isPublicIPv4, isPublicIPv6 };

/** Multiaddr protocol code of ip4. */
const IP4_CODE = 4;
/** Multiaddr protocol code of ip6. */
const IP6_CODE = 41;

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
  return isPublicAddressBytes(addr);
}
