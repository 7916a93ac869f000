/**
 * echo constants. `/echo/1.0.0` is not a libp2p spec: it is the test protocol the libp2p
 * implementations and the interop suites share (every byte read is written back until EOF).
 *
 * @module
 */

/** Protocol id. */
export const ECHO_PROTOCOL_ID = "/echo/1.0.0";

/** Most bytes echoed on one inbound stream before it is reset (a test protocol: bounded). */
export const MAX_ECHO_BYTES = 64 * 1024 * 1024;

/** Default inactivity deadline of an echo stream, ms. */
export const DEFAULT_ECHO_TIMEOUT_MS = 10_000;

/** Default cap of inbound echo streams per connection (room for concurrency tests). */
export const DEFAULT_ECHO_MAX_INBOUND_STREAMS = 128;
