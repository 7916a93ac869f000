/**
 * The records of libp2p mDNS (libp2p/specs discovery/mdns.md), sans-IO: the query we send, the
 * response that announces us, reading peers out of anyone's response, and which of our addresses
 * may be announced at all.
 *
 * Our response is readable by both deployed implementations:
 * - answers: `_p2p._udp.local PTR <name>._p2p._udp.local` and one TXT record at
 *   `<name>._p2p._udp.local` holding every `dnsaddr=<multiaddr>/p2p/<id>` string. js-libp2p reads
 *   TXT records from answers and additionals (and takes the peer id from the first address);
 *   go-libp2p's zeroconf keeps only the last TXT record of an instance, so all strings go in one;
 * - additionals: SRV `<name>._p2p._udp.local -> <name>.local` and A/AAAA records for
 *   `<name>.local`, without which go's zeroconf browser drops the entry.
 * We read PTR, TXT, SRV, A and AAAA from any section, as go does.
 *
 * @module
 */

import {
  canonicalName,
  type DnsMessage,
  type DnsRecord,
  FLAG_AA,
  FLAG_QR,
  recordsOfType,
  TYPE_A,
  TYPE_AAAA,
  TYPE_ANY,
  TYPE_PTR,
  TYPE_SRV,
  TYPE_TXT,
} from "../../src/dns/mod.ts";
import { parseIPv4, parseIPv6 } from "../../src/multiaddr/ip.ts";
import { type Multiaddr, multiaddr, withoutPeerId } from "../../src/multiaddr/mod.ts";
import { encodeDnsMessage } from "../../src/dns/mod.ts";
import { utf8Decode, utf8Encode } from "../../src/bytes.ts";
import {
  DEFAULT_SRV_PORT,
  MAX_ADDRS_PER_PEER,
  MAX_ANNOUNCED_ADDRS,
  MAX_ANNOUNCED_IPS,
  MAX_INSTANCES_PER_PACKET,
  MAX_PEERS_PER_INSTANCE,
  MAX_SEND_BYTES,
} from "./constants.ts";

const DNSADDR = "dnsaddr=";
const CODE_IP4 = 4;
const CODE_IP6 = 41;
const CODE_TCP = 6;
const CODE_UDP = 273;
const CODE_P2P_CIRCUIT = 290;

/** IPv4 ranges we may announce: [first octets as a 32-bit prefix, prefix length]. */
const V4_RANGES: readonly [number, number][] = [
  [0x7f000000, 8], // loopback (RFC 1122)
  [0x0a000000, 8], // private (RFC 1918)
  [0xac100000, 12], // private (RFC 1918)
  [0xc0a80000, 16], // private (RFC 1918)
  [0xa9fe0000, 16], // link-local (RFC 3927)
  [0xc0000200, 24], // documentation TEST-NET-1 (RFC 5737)
  [0xc6336400, 24], // documentation TEST-NET-2
  [0xcb007100, 24], // documentation TEST-NET-3
];

function v4Allowed(b: Uint8Array): boolean {
  const v = ((b[0] << 24) | (b[1] << 16) | (b[2] << 8) | b[3]) >>> 0;
  return V4_RANGES.some(([net, len]) => ((v >>> (32 - len)) << (32 - len)) >>> 0 === net);
}

function v6Allowed(b: Uint8Array): boolean {
  const loopback = b.subarray(0, 15).every((x) => x === 0) && b[15] === 1; // ::1
  const linkLocal = b[0] === 0xfe && (b[1] & 0xc0) === 0x80; // fe80::/10
  const uniqueLocal = (b[0] & 0xfe) === 0xfc; // fc00::/7 (RFC 4193)
  const documentation = b[0] === 0x20 && b[1] === 0x01 && b[2] === 0x0d && b[3] === 0xb8; // 2001:db8::/32
  const mapped = b.subarray(0, 10).every((x) => x === 0) && b[10] === 0xff && b[11] === 0xff;
  return loopback || linkLocal || uniqueLocal || documentation ||
    (mapped && v4Allowed(b.subarray(12)));
}

/**
 * Whether an address may be announced over mDNS: its host is a loopback, private, link-local or
 * documentation-range IPv4 or IPv6 address (never a public one, never unspecified), and it is not
 * a relayed (`/p2p-circuit`) address.
 *
 * @example
 * ```ts
 * import { isAnnounceable } from "@p2p-edge/libp2p/protocols/mdns";
 * import { multiaddr } from "@p2p-edge/libp2p/multiaddr";
 * isAnnounceable(multiaddr("/ip4/192.168.1.5/tcp/4001")); // true
 * isAnnounceable(multiaddr("/ip4/8.8.8.8/tcp/4001")); // false
 * ```
 */
export function isAnnounceable(ma: Multiaddr): boolean {
  const parts = ma.components();
  if (parts.length === 0 || parts.some((c) => c.code === CODE_P2P_CIRCUIT)) return false;
  const first = parts[0];
  if (first.code === CODE_IP4) {
    const ip = parseIPv4(first.value ?? "");
    return ip !== undefined && v4Allowed(ip);
  }
  if (first.code === CODE_IP6) {
    const ip = parseIPv6(first.value ?? "");
    return ip !== undefined && v6Allowed(ip);
  }
  return false;
}

/**
 * The query we multicast: one question, `PTR _p2p._udp.local` (libp2p/specs discovery/mdns.md).
 *
 * @example
 * ```ts
 * import { buildQuery } from "@p2p-edge/libp2p/protocols/mdns";
 * console.log(buildQuery("_p2p._udp.local").length); // 33
 * ```
 */
export function buildQuery(serviceName: string): Uint8Array {
  return encodeDnsMessage({ questions: [{ name: serviceName, type: TYPE_PTR }] });
}

/** What {@link buildResponse} announces. */
export interface AnnounceInit {
  /** The service name, `_p2p._udp.local` by default. */
  readonly serviceName: string;
  /** Our random instance label (32 to 63 lower-case letters and digits). */
  readonly peerName: string;
  /** Our peer id (base58btc), appended to addresses that lack it. */
  readonly peerId: string;
  /** Our addresses; those {@link isAnnounceable} refuses are skipped. */
  readonly addresses: readonly Multiaddr[];
  /** Record TTL in seconds (0: a goodbye, RFC 6762 section 10.1). */
  readonly ttl: number;
}

/**
 * The response that announces us, or `undefined` when no address may be announced. Addresses
 * that would take the packet past {@link MAX_SEND_BYTES} (or beyond {@link MAX_ANNOUNCED_ADDRS})
 * are left out, as are TXT strings over 255 bytes (RFC 6763 section 6.1).
 *
 * @example
 * ```ts
 * import { buildResponse } from "@p2p-edge/libp2p/protocols/mdns";
 * import { multiaddr } from "@p2p-edge/libp2p/multiaddr";
 * const bytes = buildResponse({
 *   serviceName: "_p2p._udp.local",
 *   peerName: "a".repeat(63),
 *   peerId: "12D3KooWD3eckifWpRn9wQpMG9R9hX3sD158z7EqHWmweQAJU5SA",
 *   addresses: [multiaddr("/ip4/127.0.0.1/tcp/4001")],
 *   ttl: 120,
 * });
 * console.log(bytes !== undefined);
 * ```
 */
export function buildResponse(init: AnnounceInit): Uint8Array | undefined {
  const suffix = `/p2p/${init.peerId}`;
  const strings: Uint8Array[] = [];
  const ips = new Map<string, number>();
  let port = -1;
  for (const ma of init.addresses) {
    if (strings.length >= MAX_ANNOUNCED_ADDRS) break;
    if (!isAnnounceable(ma)) continue;
    const named = ma.getPeerId();
    if (named !== undefined && named !== init.peerId) continue;
    const text = DNSADDR + (named === undefined ? ma.toString() + suffix : ma.toString());
    const bytes = utf8Encode(text);
    if (bytes.length > 255) continue;
    strings.push(bytes);
    const parts = ma.components();
    if (ips.size < MAX_ANNOUNCED_IPS && parts[0].value !== undefined) {
      ips.set(parts[0].value, parts[0].code === CODE_IP4 ? TYPE_A : TYPE_AAAA);
    }
    if (
      port < 0 && parts.length > 1 && (parts[1].code === CODE_TCP || parts[1].code === CODE_UDP)
    ) {
      port = Number(parts[1].value);
    }
  }
  if (strings.length === 0) return undefined;
  const instance = `${init.peerName}.${init.serviceName}`;
  const host = `${init.peerName}.local`;
  const build = (count: number): Uint8Array => {
    const answers: DnsRecord[] = [
      { name: init.serviceName, type: TYPE_PTR, ttl: init.ttl, data: instance },
      { name: instance, type: TYPE_TXT, ttl: init.ttl, data: strings.slice(0, count) },
    ];
    const additionals: DnsRecord[] = [
      {
        name: instance,
        type: TYPE_SRV,
        ttl: init.ttl,
        data: { priority: 0, weight: 0, port: port < 0 ? DEFAULT_SRV_PORT : port, target: host },
      },
    ];
    for (const [ip, type] of ips) {
      additionals.push({ name: host, type: type as typeof TYPE_A, ttl: init.ttl, data: ip });
    }
    return encodeDnsMessage({ flags: FLAG_QR | FLAG_AA, answers, additionals });
  };
  for (let count = strings.length; count > 0; count--) {
    const bytes = build(count);
    if (bytes.length <= MAX_SEND_BYTES) return bytes;
  }
  return undefined;
}

/** Whether a query asks for what we announce (the service PTR, our instance or our host). */
export function queryWantsUs(
  message: DnsMessage,
  serviceName: string,
  peerName: string,
): boolean {
  const service = canonicalName(serviceName);
  const instance = canonicalName(`${peerName}.${serviceName}`);
  const host = canonicalName(`${peerName}.local`);
  return message.questions.some((q) => {
    const name = canonicalName(q.name);
    if (name === service) return q.type === TYPE_PTR || q.type === TYPE_ANY;
    return name === instance || name === host;
  });
}

/**
 * Known-answer suppression (RFC 6762 section 7.1): the query already lists our PTR record with at
 * least half its TTL left, so the asker knows us and we stay quiet.
 */
export function queryKnowsUs(
  message: DnsMessage,
  serviceName: string,
  peerName: string,
  ttl: number,
): boolean {
  const service = canonicalName(serviceName);
  const instance = canonicalName(`${peerName}.${serviceName}`);
  return recordsOfType(message.answers, TYPE_PTR).some((r) =>
    canonicalName(r.name) === service && canonicalName(r.data) === instance && r.ttl >= ttl / 2
  );
}

/** A peer read from a response. */
export interface AnnouncedPeer {
  /** The instance name it was announced under (`<name>._p2p._udp.local`). */
  readonly instance: string;
  /** Its peer id (base58btc or CID text, as found in the `/p2p/` component). */
  readonly peerId: string;
  /** Its addresses, without the `/p2p/<id>` suffix. */
  readonly multiaddrs: Multiaddr[];
}

/**
 * Read the peers a response announces: instances named by a PTR of the service (or a TXT record
 * under it, as go's browser accepts), their `dnsaddr=` TXT strings parsed as multiaddrs and grouped
 * by the peer id each one ends with. Goodbyes (TTL 0) and unparsable strings are skipped; at most
 * {@link MAX_INSTANCES_PER_PACKET} instances, {@link MAX_PEERS_PER_INSTANCE} peers per instance and
 * {@link MAX_ADDRS_PER_PEER} addresses per peer.
 *
 * @example
 * ```ts
 * import { decodeDnsMessage } from "@p2p-edge/libp2p/dns";
 * import { buildResponse, readPeers } from "@p2p-edge/libp2p/protocols/mdns";
 * import { multiaddr } from "@p2p-edge/libp2p/multiaddr";
 * const id = "12D3KooWD3eckifWpRn9wQpMG9R9hX3sD158z7EqHWmweQAJU5SA";
 * const bytes = buildResponse({ serviceName: "_p2p._udp.local", peerName: "x".repeat(40), peerId: id, addresses: [multiaddr("/ip4/10.0.0.2/tcp/1")], ttl: 120 })!;
 * readPeers(decodeDnsMessage(bytes), "_p2p._udp.local")[0].peerId === id; // true
 * ```
 */
export function readPeers(message: DnsMessage, serviceName: string): AnnouncedPeer[] {
  const all = [...message.answers, ...message.authorities, ...message.additionals];
  const service = canonicalName(serviceName);
  const serviceSuffix = "." + service;
  const instances = new Map<string, string>(); // canonical -> as written
  const gone = new Set<string>();
  for (const r of recordsOfType(all, TYPE_PTR)) {
    if (canonicalName(r.name) !== service) continue;
    const key = canonicalName(r.data);
    if (r.ttl === 0) gone.add(key);
    else if (instances.size < MAX_INSTANCES_PER_PACKET) instances.set(key, r.data);
  }
  const txts = recordsOfType(all, TYPE_TXT);
  for (const r of txts) {
    const key = canonicalName(r.name);
    if (r.ttl === 0) gone.add(key);
    else if (
      key.endsWith(serviceSuffix) && !instances.has(key) &&
      instances.size < MAX_INSTANCES_PER_PACKET
    ) instances.set(key, r.name);
  }
  const out: AnnouncedPeer[] = [];
  for (const [key, instance] of instances) {
    if (gone.has(key)) continue;
    const byPeer = new Map<string, Multiaddr[]>();
    for (const r of txts) {
      if (canonicalName(r.name) !== key || r.ttl === 0) continue;
      for (const s of r.data) {
        const ma = parseDnsaddr(s);
        const id = ma?.getPeerId();
        if (ma === undefined || id === undefined) continue;
        let list = byPeer.get(id);
        if (list === undefined) {
          if (byPeer.size >= MAX_PEERS_PER_INSTANCE) continue;
          byPeer.set(id, list = []);
        }
        if (list.length < MAX_ADDRS_PER_PEER) list.push(withoutPeerId(ma));
      }
    }
    for (const [peerId, multiaddrs] of byPeer) out.push({ instance, peerId, multiaddrs });
  }
  return out;
}

function parseDnsaddr(bytes: Uint8Array): Multiaddr | undefined {
  if (bytes.length <= DNSADDR.length) return undefined;
  try {
    const text = utf8Decode(bytes);
    if (!text.startsWith(DNSADDR)) return undefined;
    return multiaddr(text.slice(DNSADDR.length));
  } catch {
    return undefined; // not UTF-8 or not a multiaddr: skipped, like js and go
  }
}
