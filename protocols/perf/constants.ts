/**
 * perf constants (libp2p/specs perf/perf.md).
 *
 * @module
 */

/** Protocol id (perf.md "Protocol"). */
export const PERF_PROTOCOL_ID = "/perf/1.0.0";

/** Bytes of the request header: the download size as a big-endian u64 (perf.md). */
export const PERF_HEADER_LENGTH = 8;

/**
 * Largest download a server sends by default: 64 GiB. perf.md lets the client ask for any
 * u64; a public listener must not stream without bound, so larger requests are reset.
 */
export const MAX_PERF_DOWNLOAD_BYTES = 64 * 1024 * 1024 * 1024;

/** Size of the one buffer written repeatedly (both roles); no allocation per chunk. */
export const PERF_CHUNK_BYTES = 64 * 1024;

/** Default inactivity deadline of a perf stream (both roles), ms. */
export const DEFAULT_PERF_TIMEOUT_MS = 10_000;

/** Default cap of inbound perf streams per connection. */
export const DEFAULT_PERF_MAX_INBOUND_STREAMS = 4;
