/**
 * DNS messages (RFC 1035 wire format): a sans-IO codec for mDNS (RFC 6762), DNS-over-HTTPS
 * (RFC 8484) and plain DNS over UDP/TCP. Typed data for A, AAAA, PTR, CNAME, NS, TXT and SRV,
 * opaque bytes for the rest, name compression both ways, strict length and pointer checks.
 *
 * @example
 * ```ts
 * import { decodeDnsMessage, encodeDnsMessage, recordsOfType, TYPE_TXT } from "@p2p-edge/libp2p/dns";
 * const wire = encodeDnsMessage({
 *   answers: [{ name: "_dnsaddr.example.com", type: TYPE_TXT, ttl: 60, data: [new TextEncoder().encode("dnsaddr=/ip4/192.0.2.1/tcp/4001")] }],
 * });
 * const txt = recordsOfType(decodeDnsMessage(wire).answers, TYPE_TXT);
 * console.log(new TextDecoder().decode(txt[0].data[0]));
 * ```
 *
 * @module
 */

export * from "./constants.ts";
export {
  decodeDnsMessage,
  type DecodeDnsOptions,
  type DnsAaaaRecord,
  type DnsARecord,
  type DnsMessage,
  type DnsMessageInit,
  type DnsNameRecord,
  type DnsOpaqueRecord,
  type DnsQuestion,
  type DnsRecord,
  type DnsRecordBase,
  type DnsSrvData,
  type DnsSrvRecord,
  type DnsTxtRecord,
  type DnsTypedRecords,
  encodeDnsMessage,
  recordsOfType,
} from "./message.ts";
export { canonicalName, labelToText, nameEquals, nameToLabels, readName } from "./name.ts";
