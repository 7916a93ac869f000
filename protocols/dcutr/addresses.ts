/**
 * Which addresses DCUtR exchanges and dials (libp2p/specs relay/DCUtR.md: peers exchange their
 * observed, i.e. public, addresses; go-libp2p and js-libp2p send only public, non-relay ones).
 * With `allowPrivate` (tests on loopback, LANs) any non-relay IP or DNS address qualifies.
 *
 * @module
 */

import { CODE_P2P, CODE_P2P_CIRCUIT, isPublicAddress, Multiaddr } from "../../src/multiaddr/mod.ts";

const IP4 = 4;
const IP6 = 41;
const DNS_CODES: ReadonlySet<number> = new Set([53, 54, 55, 56]);

/**
 * True when `addr` starts with a public IPv4/IPv6 address or a DNS name other than localhost.
 *
 * @example
 * ```ts
 * import { multiaddr } from "@p2p-edge/libp2p";
 * import { isPublicAddr } from "@p2p-edge/libp2p/protocols/dcutr";
 * isPublicAddr(multiaddr("/ip4/8.8.8.8/tcp/4001")); // true
 * isPublicAddr(multiaddr("/ip4/127.0.0.1/tcp/4001")); // false
 * ```
 */
export function isPublicAddr(addr: Multiaddr): boolean {
  // The core's classifier (src/multiaddr/scope.ts), shared with the DHT and the relay.
  return isPublicAddress(addr);
}

/**
 * True when `addr` is a relayed (`/p2p-circuit`) address.
 *
 * @example
 * ```ts
 * import { multiaddr } from "@p2p-edge/libp2p";
 * import { isRelayedAddr } from "@p2p-edge/libp2p/protocols/dcutr";
 * isRelayedAddr(multiaddr("/ip4/1.2.3.4/tcp/1/p2p-circuit")); // true
 * ```
 */
export function isRelayedAddr(addr: Multiaddr): boolean {
  return addr.protoCodes().includes(CODE_P2P_CIRCUIT);
}

/**
 * Whether DCUtR may send or dial `addr`: not relayed, starting with an IP or DNS component, and
 * public unless `allowPrivate`.
 *
 * @example
 * ```ts
 * import { multiaddr } from "@p2p-edge/libp2p";
 * import { isHolePunchAddr } from "@p2p-edge/libp2p/protocols/dcutr";
 * isHolePunchAddr(multiaddr("/ip4/127.0.0.1/tcp/1"), true); // true
 * ```
 */
export function isHolePunchAddr(addr: Multiaddr, allowPrivate: boolean): boolean {
  if (isRelayedAddr(addr)) return false;
  const [first] = addr.components();
  if (first === undefined) return false;
  if (first.code !== IP4 && first.code !== IP6 && !DNS_CODES.has(first.code)) return false;
  return allowPrivate || isPublicAddr(addr);
}

/**
 * Binary multiaddrs received in a HolePunch message as Multiaddrs DCUtR may dial: undecodable
 * ones, relayed ones, ones naming another peer, duplicates and (unless `allowPrivate`) non-public
 * ones are dropped; at most `max` are kept.
 *
 * @example
 * ```ts
 * import { parseObsAddrs } from "@p2p-edge/libp2p/protocols/dcutr";
 * parseObsAddrs([new Uint8Array([0xff])], false, 8); // [] (undecodable)
 * ```
 */
export function parseObsAddrs(
  raw: readonly Uint8Array[],
  allowPrivate: boolean,
  max: number,
  peerId?: string,
): Multiaddr[] {
  const out: Multiaddr[] = [];
  const seen = new Set<string>();
  for (const bytes of raw) {
    if (out.length >= max) break;
    let addr: Multiaddr;
    try {
      addr = Multiaddr.fromBytes(bytes);
    } catch {
      continue;
    }
    const named = addr.getPeerId();
    if (named !== undefined) {
      if (peerId !== undefined && named !== peerId) continue;
      addr = addr.decapsulateCode(CODE_P2P);
    }
    if (!isHolePunchAddr(addr, allowPrivate)) continue;
    const key = addr.toString();
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(addr);
  }
  return out;
}

/**
 * Our addresses for a CONNECT: without `/p2p/<us>`, deduplicated, filtered as
 * {@link isHolePunchAddr}, at most `max`.
 *
 * @example
 * ```ts
 * import { multiaddr } from "@p2p-edge/libp2p";
 * import { ownHolePunchAddrs } from "@p2p-edge/libp2p/protocols/dcutr";
 * ownHolePunchAddrs([multiaddr("/ip4/8.8.8.8/tcp/1")], false, 8).length; // 1
 * ```
 */
export function ownHolePunchAddrs(
  addrs: readonly Multiaddr[],
  allowPrivate: boolean,
  max: number,
): Uint8Array[] {
  const out: Uint8Array[] = [];
  const seen = new Set<string>();
  for (let addr of addrs) {
    if (out.length >= max) break;
    if (addr.getPeerId() !== undefined) addr = addr.decapsulateCode(CODE_P2P);
    if (!isHolePunchAddr(addr, allowPrivate)) continue;
    const key = addr.toString();
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(addr.bytes);
  }
  return out;
}
