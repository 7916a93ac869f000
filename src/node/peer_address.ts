/**
 * Address sources of the peer store and their lifetimes (split from peer_store.ts so that the
 * store implementation can import them without an import cycle).
 *
 * @module
 */

/**
 * Where an address of a peer was learned, from most to least trusted:
 * - "peer-record": its signed peer record (RFC 0003), proven to be what the peer announces;
 * - "identify": the listen addresses it sent in identify (its word, unsigned);
 * - "dialled": we connected to it there;
 * - "observed": it connected to us from there (for a listener: maybe an ephemeral port);
 * - "discovered": a discovery service or a routing answer named it (a third party's word).
 */
export type AddressSource = "peer-record" | "identify" | "dialled" | "observed" | "discovered";

/** Every {@link AddressSource}, most trusted first. */
export const ADDRESS_SOURCES: readonly AddressSource[] = [
  "peer-record",
  "identify",
  "dialled",
  "observed",
  "discovered",
];

/**
 * How long an address stays in the store after it was last learned, ms, by source (while the
 * peer is connected its addresses do not expire; on disconnect they get at least this long
 * again). The classes follow go-libp2p's peerstore TTLs: a connected peer's addresses last an
 * hour after it leaves, addresses nobody vouched for a few minutes.
 */
export const DEFAULT_ADDRESS_TTL_MS: Readonly<Record<AddressSource, number>> = Object.freeze({
  "peer-record": 60 * 60_000,
  identify: 60 * 60_000,
  dialled: 30 * 60_000,
  observed: 10 * 60_000,
  discovered: 10 * 60_000,
});
