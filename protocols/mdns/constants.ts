/**
 * mDNS discovery constants and named limits (libp2p/specs discovery/mdns.md, RFC 6762), with the
 * defaults of js-libp2p's `@libp2p/mdns` where the spec leaves a choice.
 *
 * @module
 */

/** The DNS-SD service name libp2p peers browse for (libp2p/specs discovery/mdns.md). */
export const MDNS_SERVICE_NAME = "_p2p._udp.local";
/** The IPv4 mDNS group (RFC 6762 section 3). */
export const MDNS_IPV4_GROUP = "224.0.0.251";
/** The mDNS port (RFC 6762 section 3). */
export const MDNS_PORT = 5353;
/** Default interval between queries: js-libp2p's 10 s (`@libp2p/mdns` `interval`). */
export const DEFAULT_QUERY_INTERVAL_MS = 10_000;
/** Default TTL of the records we announce: js-libp2p's 120 s. */
export const DEFAULT_RECORD_TTL_S = 120;
/** Length of our random peer name: the spec's 32 to 63 characters; js uses 63, the label maximum. */
export const PEER_NAME_LENGTH = 63;
/** The port in our SRV record when no announced address has one (go-libp2p uses 4001). */
export const DEFAULT_SRV_PORT = 4001;

/**
 * Largest packet we send: one Ethernet MTU less IP and UDP headers (go-libp2p #3415 keeps mDNS
 * packets <= 1500 bytes). Addresses that do not fit are left out of the response.
 */
export const MAX_SEND_BYTES = 1_472;
/** Largest packet we decode (RFC 6762 section 17: mDNS packets are at most 9,000 bytes); larger ones are dropped. */
export const MAX_RECEIVE_BYTES = 9_000;
/** Records decoded per packet at most (HARDENING.md rule 4); a packet with more is dropped. */
export const MAX_RECORDS_PER_PACKET = 64;
/** Service instances read from one response (HARDENING.md rule 4). */
export const MAX_INSTANCES_PER_PACKET = 8;
/** Peers read from one instance's TXT strings (each string names its peer; HARDENING.md rule 4). */
export const MAX_PEERS_PER_INSTANCE = 4;
/** Addresses taken from one peer's TXT strings (HARDENING.md rule 4). */
export const MAX_ADDRS_PER_PEER = 16;
/** Addresses we announce at most (go-libp2p #3415: keep the packet small). */
export const MAX_ANNOUNCED_ADDRS = 16;
/** A/AAAA records in our response at most. */
export const MAX_ANNOUNCED_IPS = 4;

/**
 * Minimum time between two multicast responses (RFC 6762 section 6: a record is not multicast
 * again within one second). A query arriving sooner gets the response when the second is over;
 * a query flood therefore costs at most one response per second (HARDENING.md rule 7).
 */
export const MIN_RESPONSE_INTERVAL_MS = 1_000;
/** Peers reported per second at most, sustained (HARDENING.md rule 7: a flood of fake peers). */
export const DISCOVERIES_PER_SECOND = 10;
/** Burst of the discovery token bucket. */
export const DISCOVERY_BURST = 20;
/** A known peer with unchanged addresses is reported again at most this often. */
export const REPORT_AGAIN_MS = 60_000;
/** Peers remembered for the de-duplication above (HARDENING.md rule 4); the least recently seen goes first. */
export const MAX_KNOWN_PEERS = 256;
