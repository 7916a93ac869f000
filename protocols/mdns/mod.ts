/**
 * mDNS peer discovery (libp2p/specs discovery/mdns.md): `mdns(options)` for
 * `createNode({ peerDiscovery: [mdns()] })`, on Deno (native UDP multicast, `--unstable-net`) and
 * Bun (`node:dgram`). Browsers have no UDP: start fails with {@link MdnsUnavailableError} (or emits
 * it as an `error` event with `{ optional: true }`). IPv4 (224.0.0.251:5353) only.
 *
 * @example
 * ```ts
 * import { createNode } from "@p2p-edge/libp2p";
 * import { tcp } from "@p2p-edge/libp2p/transports/tcp";
 * import { noise } from "@p2p-edge/libp2p/protocols/noise";
 * import { yamux } from "@p2p-edge/libp2p/protocols/yamux";
 * import { mdns } from "@p2p-edge/libp2p/protocols/mdns";
 * const node = await createNode({
 *   transports: [tcp()],
 *   connectionEncrypters: [noise()],
 *   streamMuxers: [yamux()],
 *   listen: ["/ip4/0.0.0.0/tcp/0"],
 *   peerDiscovery: [mdns()],
 * });
 * node.addEventListener("peer:discovery", (e) => console.log(e.detail.id.toString()));
 * ```
 *
 * @module
 */

export {
  DEFAULT_QUERY_INTERVAL_MS,
  DEFAULT_RECORD_TTL_S,
  DISCOVERIES_PER_SECOND,
  DISCOVERY_BURST,
  MAX_ADDRS_PER_PEER,
  MAX_ANNOUNCED_ADDRS,
  MAX_INSTANCES_PER_PACKET,
  MAX_KNOWN_PEERS,
  MAX_PEERS_PER_INSTANCE,
  MAX_RECEIVE_BYTES,
  MAX_RECORDS_PER_PACKET,
  MAX_SEND_BYTES,
  MDNS_IPV4_GROUP,
  MDNS_PORT,
  MDNS_SERVICE_NAME,
  MIN_RESPONSE_INTERVAL_MS,
  REPORT_AGAIN_MS,
} from "./constants.ts";
export { MdnsUnavailableError } from "./errors.ts";
export { type MdnsAction, MdnsMachine, type MdnsMachineInit, type MdnsStats } from "./machine.ts";
export {
  type AnnouncedPeer,
  type AnnounceInit,
  buildQuery,
  buildResponse,
  isAnnounceable,
  readPeers,
} from "./records.ts";
export {
  type MdnsSocket,
  type MdnsSocketFactory,
  type MdnsSocketOptions,
  openMdnsSocket,
} from "./socket.ts";
export { mdns, MdnsDiscovery, type MdnsHost, type MdnsOptions } from "./service.ts";
