/**
 * IP helpers for the connection manager: the per-IP accounting key of a remote address, and an
 * allow list of exact addresses and CIDR ranges. Pure functions, no I/O.
 *
 * @module
 */

import { parseIPv4, parseIPv6 } from "../multiaddr/ip.ts";
import type { Multiaddr } from "../multiaddr/mod.ts";

const IP4 = 4;
const IP6 = 41;

/**
 * The IP bytes of a multiaddr's first component (4 bytes for `/ip4`, 16 for `/ip6`; an
 * IPv4-mapped IPv6 address gives its 4 IPv4 bytes), or `undefined` when it does not start with
 * an IP (memory, unix, dns).
 *
 * @example
 * ```ts
 * import { ipOf } from "@p2p-edge/libp2p";
 * import { multiaddr } from "@p2p-edge/libp2p/multiaddr";
 * ipOf(multiaddr("/ip4/10.0.0.1/tcp/4001")); // Uint8Array [10, 0, 0, 1]
 * ```
 */
export function ipOf(addr: Multiaddr): Uint8Array | undefined {
  // Read from the (validated) binary form: both codes are one-byte varints followed by the
  // address bytes. Building the components would cache them on the connection's address.
  const bytes = addr.bytes;
  if (bytes[0] === IP4 && bytes.byteLength >= 5) return bytes.slice(1, 5);
  if (bytes[0] === IP6 && bytes.byteLength >= 17) return unmap(bytes.slice(1, 17));
  return undefined;
}

function unmap(ip: Uint8Array | undefined): Uint8Array | undefined {
  if (ip === undefined || ip.length !== 16) return ip;
  for (let i = 0; i < 10; i++) if (ip[i] !== 0) return ip;
  if (ip[10] !== 0xff || ip[11] !== 0xff) return ip;
  return ip.slice(12);
}

/**
 * The key under which per-IP limits count a remote address: the IPv4 address, or the /64
 * prefix of an IPv6 address (one host usually owns a whole /64, so counting single IPv6
 * addresses would let it bypass the limits). `undefined` for addresses without an IP.
 *
 * @example
 * ```ts
 * import { ipKey } from "@p2p-edge/libp2p";
 * import { multiaddr } from "@p2p-edge/libp2p/multiaddr";
 * ipKey(multiaddr("/ip6/2001:db8::1/tcp/1")); // "2001:db8:0:0::/64"
 * ```
 */
export function ipKey(addr: Multiaddr): string | undefined {
  const ip = ipOf(addr);
  if (ip === undefined) return undefined;
  if (ip.length === 4) return ip.join(".");
  const groups: string[] = [];
  for (let i = 0; i < 8; i += 2) groups.push(((ip[i] << 8) | ip[i + 1]).toString(16));
  return `${groups.join(":")}::/64`;
}

interface Range {
  readonly bytes: Uint8Array;
  readonly bits: number;
}

/**
 * A list of IP addresses and CIDR ranges (`"10.0.0.1"`, `"10.0.0.0/8"`, `"2001:db8::/32"`).
 * IPv4-mapped IPv6 addresses match IPv4 entries.
 *
 * @example
 * ```ts
 * import { IpList } from "@p2p-edge/libp2p";
 * import { multiaddr } from "@p2p-edge/libp2p/multiaddr";
 * const list = new IpList(["127.0.0.0/8", "::1"]);
 * list.has(multiaddr("/ip4/127.0.0.1/tcp/1")); // true
 * ```
 */
export class IpList {
  readonly #ranges: Range[] = [];

  /** Parse the entries; a malformed entry throws SyntaxError. */
  constructor(entries: readonly string[] = []) {
    for (const entry of entries) this.#ranges.push(parseRange(entry));
  }

  /** Number of entries. */
  get size(): number {
    return this.#ranges.length;
  }

  /** Whether the address's IP is in the list (false for addresses without an IP). */
  has(addr: Multiaddr): boolean {
    if (this.#ranges.length === 0) return false;
    const ip = ipOf(addr);
    return ip !== undefined && this.#ranges.some((r) => inRange(ip, r));
  }
}

function parseRange(entry: string): Range {
  if (typeof entry !== "string") throw new TypeError("allow list entries must be strings");
  const slash = entry.indexOf("/");
  const text = slash < 0 ? entry : entry.slice(0, slash);
  const v4 = parseIPv4(text);
  const bytes = v4 ?? unmap(parseIPv6(text));
  if (bytes === undefined) throw new SyntaxError(`not an IP address or CIDR range: ${entry}`);
  const max = bytes.length * 8;
  let bits = max;
  if (slash >= 0) {
    const suffix = entry.slice(slash + 1);
    bits = /^\d{1,3}$/.test(suffix) ? Number(suffix) : NaN;
    // A mapped IPv6 range (::ffff:a.b.c.d/n) counts its prefix over the IPv4 part.
    if (v4 === undefined && bytes.length === 4) bits -= 96;
    if (!(bits >= 0 && bits <= max)) throw new SyntaxError(`bad prefix length in ${entry}`);
  }
  return { bytes, bits };
}

function inRange(ip: Uint8Array, range: Range): boolean {
  if (ip.length !== range.bytes.length) return false;
  let bits = range.bits;
  for (let i = 0; bits > 0; i++, bits -= 8) {
    const mask = bits >= 8 ? 0xff : (0xff << (8 - bits)) & 0xff;
    if ((ip[i] & mask) !== (range.bytes[i] & mask)) return false;
  }
  return true;
}
