/**
 * Options of the TCP transport, validated once when the transport is created.
 *
 * @module
 */

import { MAX_TIMER_DELAY_MS } from "../../src/abort.ts";
import {
  DEFAULT_CLOSE_TIMEOUT_MS,
  DEFAULT_CONNECT_TIMEOUT_MS,
  DEFAULT_MAX_CONNECTIONS,
  DEFAULT_READ_HIGH_WATER_MARK,
  DEFAULT_WRITE_HIGH_WATER_MARK,
  MAX_HIGH_WATER_MARK,
} from "./constants.ts";

/**
 * Options of {@link tcp}. Every field is optional.
 *
 * @example
 * ```ts
 * import type { TcpOptions } from "@p2p-edge/libp2p/transports/tcp";
 * const options: TcpOptions = { connectTimeoutMs: 5_000, maxConnections: 512 };
 * ```
 */
export interface TcpOptions {
  /**
   * Deadline for opening a connection, ms (default 10 s; 0 disables; at most 2^31-1). A dial
   * that misses it rejects with a TimeoutError and its socket is closed.
   */
  connectTimeoutMs?: number;
  /**
   * Bound on `close()` flushing queued writes, ms (default 5 s; 0 waits as long as it takes; at
   * most 2^31-1). When it passes, the connection is aborted with a TimeoutError (pending writes
   * reject with it) and `close()` resolves.
   */
  closeTimeoutMs?: number;
  /** Disable Nagle's algorithm (TCP_NODELAY) on every socket (default true). */
  noDelay?: boolean;
  /** Enable TCP keep-alive probes (SO_KEEPALIVE) on every socket (default true). */
  keepAlive?: boolean;
  /**
   * Inbound connections one listener keeps open at a time (default 4096; a positive integer or
   * Infinity). A socket accepted beyond it is closed at once, before the owner sees it.
   */
  maxConnections?: number;
  /**
   * Bun: received bytes a connection buffers for a reader that is not reading, before it pauses
   * the socket so that TCP flow control slows the sender (default 64 KiB, 1 B..64 MiB; up to one
   * more socket read may arrive after the pause). Deno reads the socket only when the reader asks,
   * into the reader's buffer, so nothing is buffered beyond the kernel's receive buffer.
   */
  readHighWaterMark?: number;
  /**
   * Bytes a connection's `writable` stream accepts ahead of the socket before `writer.ready` and
   * `write()` wait (default 64 KiB, 1 B..64 MiB). The node's own layers (Noise, yamux) write
   * through the connection's byte channel instead and wait for the socket itself.
   */
  writeHighWaterMark?: number;
}

/** {@link TcpOptions} with every default filled in. Internal. */
export interface ResolvedTcpOptions {
  readonly connectTimeoutMs: number;
  readonly closeTimeoutMs: number;
  readonly noDelay: boolean;
  readonly keepAlive: boolean;
  readonly maxConnections: number;
  readonly readHighWaterMark: number;
  readonly writeHighWaterMark: number;
}

function checkBytes(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== "number" || !Number.isInteger(value)) {
    throw new TypeError(`${name} must be an integer`);
  }
  if (value < 1 || value > MAX_HIGH_WATER_MARK) {
    throw new RangeError(`${name} must be between 1 and ${MAX_HIGH_WATER_MARK}`);
  }
  return value;
}

function checkDelay(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== "number" || Number.isNaN(value)) {
    throw new TypeError(`${name} must be a number`);
  }
  if (value < 0 || value > MAX_TIMER_DELAY_MS) {
    throw new RangeError(`${name} must be between 0 and ${MAX_TIMER_DELAY_MS}`);
  }
  return value;
}

function checkBoolean(name: string, value: boolean | undefined, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  if (typeof value !== "boolean") throw new TypeError(`${name} must be a boolean`);
  return value;
}

/**
 * Validate `options` and fill in the defaults: TypeError for a wrong type, RangeError for a value
 * out of range. Internal (used by {@link tcp}).
 *
 * @example
 * ```ts
 * resolveTcpOptions({ noDelay: false }).connectTimeoutMs; // 10000
 * ```
 */
export function resolveTcpOptions(options: TcpOptions = {}): ResolvedTcpOptions {
  if (typeof options !== "object" || options === null) {
    throw new TypeError("TCP options must be an object");
  }
  const timeout = checkDelay(
    "connectTimeoutMs",
    options.connectTimeoutMs,
    DEFAULT_CONNECT_TIMEOUT_MS,
  );
  const closeTimeout = checkDelay(
    "closeTimeoutMs",
    options.closeTimeoutMs,
    DEFAULT_CLOSE_TIMEOUT_MS,
  );
  const max = options.maxConnections ?? DEFAULT_MAX_CONNECTIONS;
  if (typeof max !== "number" || !(Number.isInteger(max) || max === Infinity)) {
    throw new TypeError("maxConnections must be an integer or Infinity");
  }
  if (max < 1) throw new RangeError("maxConnections must be at least 1");
  return {
    connectTimeoutMs: timeout,
    closeTimeoutMs: closeTimeout,
    noDelay: checkBoolean("noDelay", options.noDelay, true),
    keepAlive: checkBoolean("keepAlive", options.keepAlive, true),
    maxConnections: max,
    readHighWaterMark: checkBytes(
      "readHighWaterMark",
      options.readHighWaterMark,
      DEFAULT_READ_HIGH_WATER_MARK,
    ),
    writeHighWaterMark: checkBytes(
      "writeHighWaterMark",
      options.writeHighWaterMark,
      DEFAULT_WRITE_HIGH_WATER_MARK,
    ),
  };
}
