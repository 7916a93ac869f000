/**
 * Named constants and limits of the Kademlia DHT (libp2p/specs `kad-dht/README.md`).
 *
 * Every limit cites the spec section or the HARDENING.md rule it enforces. Values that the spec
 * leaves open follow what go-libp2p-kad-dht, js-libp2p and rust-libp2p deploy (the Amino network).
 *
 * @module
 */

/** The Amino DHT protocol id, as deployed by go, js and rust (the spec names no id). */
export const KAD_PROTOCOL_ID = "/ipfs/kad/1.0.0";

/** The protocol id go's `dual` DHT uses on the LAN. */
export const KAD_LAN_PROTOCOL_ID = "/ipfs/lan/kad/1.0.0";

/** Bucket size and replication parameter k (spec §Kademlia routing table: k = 20). */
export const K_BUCKET_SIZE = 20;

/** Requests in flight per lookup path (spec §Peer routing: α = 10; go and js use 10). */
export const ALPHA = 10;

/** Bits in the keyspace: ids are sha256 digests (spec §Distance). */
export const KEYSPACE_BITS = 256;

/**
 * Largest framed message accepted, checked before the body is buffered (HARDENING.md rule 1).
 * go and js accept 4 MiB (`network.MessageSizeMax`); a smaller cap would refuse the large
 * GET_PROVIDERS answers go servers send.
 */
export const MAX_MESSAGE_BYTES = 4 * 1024 * 1024;

/**
 * `closerPeers` entries decoded from one message; the rest are skipped without allocation
 * (HARDENING.md rule 1). An honest answer carries k peers, go may prepend the target (k + 1).
 */
export const MAX_CLOSER_PEERS_PER_MESSAGE = 3 * K_BUCKET_SIZE;

/**
 * `providerPeers` entries decoded from one message; the rest are skipped without allocation
 * (HARDENING.md rule 1). go answers with every provider it stores, so this is a truncation,
 * not a rejection.
 */
export const MAX_PROVIDER_PEERS_PER_MESSAGE = 256;

/** Addresses decoded per peer entry; the rest are skipped (HARDENING.md rule 1). */
export const MAX_ADDRS_PER_PEER = 32;

/**
 * Longest peer id kept from a peer entry: an identity multihash of an inlined key is at most
 * 44 bytes, a sha2-256 one 34 (libp2p/specs `peer-ids/peer-ids.md`). Longer entries are dropped.
 */
export const MAX_PEER_ID_BYTES = 64;

/** Longest provider key accepted (go `handlers.go` accepts 1-80 bytes; spec §Content routing). */
export const MAX_PROVIDER_KEY_BYTES = 80;

/** Longest record key accepted by the stores (HARDENING.md rule 1). */
export const MAX_RECORD_KEY_BYTES = 1024;

/** Largest record value accepted by the value store (rust caps at 65 KiB; HARDENING.md rule 4). */
export const MAX_RECORD_VALUE_BYTES = 64 * 1024;

/** Largest IPNS record, checked before parsing (ipfs/specs `ipns-record.md` §Record Size Limit). */
export const MAX_IPNS_RECORD_BYTES = 10 * 1024;

/** Provider record lifetime: 48 h (spec §Content provider advertisement and discovery). */
export const PROVIDER_RECORD_TTL_MS = 48 * 60 * 60 * 1000;

/** Value record lifetime: 48 h (go and rust expire stored values after 48 h). */
export const VALUE_RECORD_TTL_MS = 48 * 60 * 60 * 1000;

/** Providers kept per key (rust caps at 20; GHSA-mqr9-hjr8-2m9w class; HARDENING.md rule 4). */
export const MAX_PROVIDERS_PER_KEY = 20;

/** Provider records kept in total (HARDENING.md rule 4). */
export const MAX_PROVIDER_RECORDS = 100_000;

/** Value records kept in total (rust caps at 1,024; HARDENING.md rule 4). */
export const MAX_VALUE_RECORDS = 1024;

/** Peers per IP group in the whole routing table (go `amino/defaults.go`: 3; HARDENING.md rule 4). */
export const MAX_PEERS_PER_IP_GROUP_TABLE = 3;

/** Peers per IP group in one bucket (go `amino/defaults.go`: 2; HARDENING.md rule 4). */
export const MAX_PEERS_PER_IP_GROUP_BUCKET = 2;

/** Per-request timeout of a lookup (go and js use 10 s per RPC; HARDENING.md rule 8). */
export const QUERY_PEER_TIMEOUT_MS = 10_000;

/**
 * Provider records kept per announcing peer: an honest provider of many keys reaches one server
 * with only the keys near it, so this bounds "announce a huge number of keys" without hurting
 * honest ones (HARDENING.md rules 4 and 7).
 */
export const MAX_PROVIDER_RECORDS_PER_PEER = 10_000;

/** Bytes of record values kept in total by the value store (HARDENING.md rule 4). */
export const MAX_VALUE_STORE_BYTES = 16 * 1024 * 1024;
