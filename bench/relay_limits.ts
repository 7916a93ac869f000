/**
 * The limits both relays of bench/relay_bench.ts run with (bench/relay_ours.ts,
 * bench/relay_js.ts): the same numbers passed to each implementation's own options.
 *
 * @module
 */

/** Limits applied equally to our relay and js-libp2p's. */
export const RELAY_LIMITS = {
  /** Connections the relay node accepts. */
  maxConnections: 4096,
  /** Reservations held at once. */
  maxReservations: 2048,
  /** Circuits at once (ours; js has no such cap). */
  maxCircuits: 4096,
  /** HOP streams per connection at once (a source's open circuits each hold one). */
  maxInboundHopStreams: 64,
  /** STOP streams being set up at once. */
  maxOutboundStopStreams: 1024,
  /** Circuit duration limit, ms: 1 h (js's default is 2 min). */
  durationMs: 3_600_000,
  /** Circuit data limit per direction, bytes: 1 TiB (js's default is 128 KiB). */
  dataBytes: 1n << 40n,
} as const;
