/**
 * P6 bookkeeping (gossipsub-v1.1.md "The Score Function", IP Colocation Factor): which peers
 * share an IP, and which IPs the whitelist exempts. Like go-libp2p-pubsub (`score.go` `getIPs`),
 * an IPv6 peer counts under its address and under its /64 (one host usually owns a whole /64),
 * and loopback addresses are not counted (every local test peer shares them; research §2.2 shows
 * js penalising its own loopback test mesh).
 *
 * @module
 */

import { formatIPv4, formatIPv6, parseIPv4, parseIPv6 } from "../../src/multiaddr/ip.ts";
import { InvalidScoreParamsError } from "./score_errors.ts";

/** A parsed whitelist entry: an address and its prefix length in bits. */
export interface WhitelistRange {
  /** 4 bytes for IPv4 (and IPv4-mapped IPv6), 16 for IPv6. */
  readonly bytes: Uint8Array;
  /** Prefix length. */
  readonly bits: number;
}

/** Parse an IP's text to bytes: 4 for IPv4 (and IPv4-mapped IPv6), 16 for IPv6. */
function parseIp(text: string): Uint8Array | undefined {
  const v4 = parseIPv4(text);
  if (v4 !== undefined) return v4;
  const v6 = parseIPv6(text);
  if (v6 === undefined) return undefined;
  for (let i = 0; i < 10; i++) if (v6[i] !== 0) return v6;
  if (v6[10] !== 0xff || v6[11] !== 0xff) return v6;
  return v6.slice(12);
}

function isLoopback(ip: Uint8Array): boolean {
  if (ip.length === 4) return ip[0] === 127;
  for (let i = 0; i < 15; i++) if (ip[i] !== 0) return false;
  return ip[15] === 1;
}

function inRange(ip: Uint8Array, r: WhitelistRange): boolean {
  if (ip.length !== r.bytes.length) return false;
  let bits = r.bits;
  for (let i = 0; bits > 0; i++, bits -= 8) {
    const mask = bits >= 8 ? 0xff : (0xff << (8 - bits)) & 0xff;
    if ((ip[i] & mask) !== (r.bytes[i] & mask)) return false;
  }
  return true;
}

function parseRange(entry: string, index: number): WhitelistRange {
  const field = `ipColocationFactorWhitelist[${index}]`;
  if (typeof entry !== "string") throw new InvalidScoreParamsError(field, "must be a string");
  const slash = entry.indexOf("/");
  const text = slash < 0 ? entry : entry.slice(0, slash);
  const mapped = parseIPv4(text) === undefined;
  const bytes = parseIp(text);
  if (bytes === undefined) {
    throw new InvalidScoreParamsError(field, `not an IP address or CIDR range: ${entry}`);
  }
  const max = bytes.length * 8;
  let bits = max;
  if (slash >= 0) {
    const suffix = entry.slice(slash + 1);
    bits = /^\d{1,3}$/.test(suffix) ? Number(suffix) : NaN;
    // "::ffff:a.b.c.d/n" counts its prefix over all 128 bits.
    if (mapped && bytes.length === 4) bits -= 96;
    if (!(bits >= 0 && bits <= max)) {
      throw new InvalidScoreParamsError(field, `bad prefix length in ${entry}`);
    }
  }
  return { bytes, bits };
}

/**
 * Parse a P6 whitelist of IPs and CIDR ranges (`"10.0.0.1"`, `"10.0.0.0/8"`, `"2001:db8::/32"`;
 * an IPv4-mapped IPv6 range counts its prefix over 128 bits).
 *
 * @throws InvalidScoreParamsError naming the first entry that is neither.
 * @example
 * ```ts
 * import { parseWhitelist } from "./score_ip.ts";
 * parseWhitelist(["10.0.0.0/8", "2001:db8::/32"]).length; // 2
 * ```
 */
export function parseWhitelist(entries: readonly string[]): readonly WhitelistRange[] {
  return entries.map(parseRange);
}

/**
 * The colocation keys of a remote IP: the IPv4 address; the IPv6 address and its /64 prefix;
 * nothing for loopback or text that is not an IP.
 *
 * @example
 * ```ts
 * import { colocationKeys } from "./score_ip.ts";
 * colocationKeys("2001:db8::1"); // ["2001:db8::1", "2001:db8::/64"]
 * colocationKeys("127.0.0.1"); // []
 * ```
 */
export function colocationKeys(ip: string): string[] {
  const bytes = parseIp(ip);
  if (bytes === undefined || isLoopback(bytes)) return [];
  if (bytes.length === 4) return [formatIPv4(bytes)];
  const prefix = new Uint8Array(16);
  prefix.set(bytes.subarray(0, 8));
  return [formatIPv6(bytes), `${formatIPv6(prefix)}/64`];
}

/**
 * Peers per colocation key, and the whitelist. Its size is bounded by the peers the score
 * tracks (connected and retained), each under at most two keys.
 *
 * @example
 * ```ts
 * import { IpColocation } from "./score_ip.ts";
 * const colo = new IpColocation(["10.0.0.0/8"]);
 * colo.add("a", "192.0.2.1");
 * colo.add("b", "192.0.2.1");
 * colo.peersOn("192.0.2.1"); // 2
 * colo.add("c", "10.1.2.3"); // [] (whitelisted: never counted)
 * ```
 */
export class IpColocation {
  readonly #ranges: readonly WhitelistRange[];
  /** key -> peers under it. */
  readonly #peers = new Map<string, Set<string>>();

  /**
   * Track colocation, never counting IPs in `whitelist` (IPs and CIDR ranges).
   *
   * @throws InvalidScoreParamsError naming the whitelist entry that is not an IP or CIDR.
   */
  constructor(whitelist: readonly string[] = []) {
    this.#ranges = parseWhitelist(whitelist);
  }

  /**
   * Count `peer` under the keys of `ip`, unless the whitelist holds `ip`; returns the keys
   * (keep them for {@link remove}).
   */
  add(peer: string, ip: string | undefined): string[] {
    if (ip === undefined || this.isWhitelisted(ip)) return [];
    const keys = colocationKeys(ip);
    for (const key of keys) {
      let set = this.#peers.get(key);
      if (set === undefined) {
        set = new Set();
        this.#peers.set(key, set);
      }
      set.add(peer);
    }
    return keys;
  }

  /** Stop counting `peer` under `keys`. */
  remove(peer: string, keys: readonly string[]): void {
    for (const key of keys) {
      const set = this.#peers.get(key);
      if (set === undefined) continue;
      set.delete(peer);
      if (set.size === 0) this.#peers.delete(key);
    }
  }

  /** Peers counted under `key`. */
  peersOn(key: string): number {
    return this.#peers.get(key)?.size ?? 0;
  }

  /** Whether an IP (text) is in the whitelist. */
  isWhitelisted(ip: string): boolean {
    if (this.#ranges.length === 0) return false;
    const bytes = parseIp(ip);
    return bytes !== undefined && this.#ranges.some((r) => inRange(bytes, r));
  }

  /** Number of keys with peers (for tests and metrics). */
  get size(): number {
    return this.#peers.size;
  }
}
