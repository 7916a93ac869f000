/**
 * Multiaddr (github.com/multiformats/multiaddr): self-describing network addresses, in text
 * (`/ip4/192.0.2.42/tcp/443`) and binary (`04c000022a0601bb`) form.
 *
 * @example
 * ```ts
 * import { multiaddr } from "@p2p-edge/libp2p/multiaddr";
 * const ma = multiaddr("/ip4/192.0.2.42/tcp/443/p2p/QmcgpsyWgH8Y8ajJz1Cu72KnS5uo2Aa2LpzU7kinSupNKC");
 * ma.getPeerId(); // "QmcgpsyWgH8Y8ajJz1Cu72KnS5uo2Aa2LpzU7kinSupNKC"
 * ma.decapsulateCode(421).toNodeAddress(); // { family: 4, host: "192.0.2.42", port: 443, transport: "tcp" }
 * ```
 *
 * @module
 */

export {
  isPublicAddress,
  isPublicAddressBytes,
  isPublicIPv4,
  isPublicIPv6,
  mappedIPv4,
} from "./scope.ts";
export {
  type Component,
  isMultiaddr,
  Multiaddr,
  multiaddr,
  type MultiaddrInput,
  type NodeAddress,
  withoutPeerId,
  withPeerId,
} from "./multiaddr.ts";
export {
  DEFAULT_DNS_MAX_LOOKUPS,
  DEFAULT_DNS_TIMEOUT_MS,
  DEFAULT_DNSADDR_MAX_DEPTH,
  DEFAULT_DNSADDR_MAX_RESULTS,
  defaultResolver,
  dnsMultiaddrResolver,
  type DnsMultiaddrResolverOptions,
  DnsResolutionError,
  type DnsResolver,
  MAX_HOST_ADDRESSES,
  MAX_TXT_RECORD_CHARS,
  MAX_TXT_RECORDS,
  type MultiaddrResolver,
  needsResolution,
} from "./resolver.ts";
export {
  DEFAULT_DOH_ENDPOINT,
  DEFAULT_DOH_TIMEOUT_MS,
  dohResolver,
  type DohResolverOptions,
} from "./doh.ts";
export {
  type ComponentSpan,
  decodeMultiaddrBytes,
  formatMultiaddr,
  formatValue,
  MAX_MULTIADDR_BYTES,
  MAX_MULTIADDR_COMPONENTS,
  MAX_MULTIADDR_STRING_LENGTH,
  parseMultiaddrString,
} from "./codec.ts";
export * from "./protocols.ts";
export { formatIPv4, formatIPv6, parseIPv4, parseIPv6 } from "./ip.ts";
