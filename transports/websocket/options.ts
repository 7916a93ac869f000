/**
 * Options of the WebSocket transport, validated once.
 *
 * @module
 */

import {
  DEFAULT_BACKPRESSURE_LIMIT,
  DEFAULT_BUFFERED_AMOUNT_HIGH_WATER_MARK,
  DEFAULT_CLOSE_TIMEOUT_MS,
  DEFAULT_CONNECT_TIMEOUT_MS,
  DEFAULT_IDLE_TIMEOUT_MS,
  DEFAULT_MAX_BUFFERED_INCOMING,
  DEFAULT_MAX_PAYLOAD_LENGTH,
  MAX_IDLE_TIMEOUT_MS,
  MAX_MAX_PAYLOAD_LENGTH,
  MAX_SEND_MESSAGE_BYTES,
  MIN_MAX_PAYLOAD_LENGTH,
} from "./constants.ts";
import type { ConnectionLimits } from "./connection.ts";

/** PEM certificate chain and private key for `/tls/ws` (= `/wss`) listeners. */
export interface WebSocketTlsOptions {
  /** Certificate chain, PEM. */
  cert: string;
  /** Private key, PEM (PKCS#8, SEC1 EC or RSA). */
  key: string;
}

/**
 * Options of {@link websocket}. Every field is optional.
 *
 * @example
 * ```ts
 * import type { WebSocketOptions } from "@p2p-edge/libp2p/transports/websocket";
 * const options: WebSocketOptions = { maxPayloadLength: 1024 * 1024, connectTimeoutMs: 5_000 };
 * ```
 */
export interface WebSocketOptions {
  /** Certificate and key; required to listen on `/tls/ws` or `/wss`. */
  tls?: WebSocketTlsOptions;
  /**
   * Largest message accepted from a peer, bytes (default 4 MiB, range 1 KiB..64 MiB); a bigger
   * one closes the connection. Bun and our own client (Deno, `ws://`) enforce it before buffering
   * the message; Deno's server and every standard WebSocket client check it after the runtime
   * received the message (the
   * runtime's own limit, 64 MiB on Deno, bounds that allocation). Outgoing chunks are split into
   * messages of at most min(this, 256 KiB).
   */
  maxPayloadLength?: number;
  /**
   * Listener sockets: close a socket whose peer stays silent this long, ms (default 120 s, 0
   * disables, at most 960 s; rounded up to whole seconds). Deno and Bun ping idle sockets, so
   * this only ends dead peers. Dialled sockets have no such option in the WebSocket API; the
   * libp2p ping/keep-alive covers them.
   */
  idleTimeoutMs?: number;
  /** Deadline for opening a WebSocket (TCP, TLS, HTTP upgrade), ms (default 10 s). */
  connectTimeoutMs?: number;
  /** Bound on a graceful close (drain + closing handshake), ms (default 5 s); then abort. */
  closeTimeoutMs?: number;
  /**
   * Writes wait while the socket's send buffer holds more than this many bytes (default 1 MiB).
   */
  bufferedAmountHighWaterMark?: number;
  /**
   * Hard cap on received bytes waiting for the reader (default 16 MiB). A WebSocket cannot be
   * paused, so at the cap the connection is closed (code 4001) instead of growing further.
   */
  maxBufferedIncoming?: number;
  /**
   * Bun listener sockets: bytes Bun may queue per socket before it drops messages (default
   * 16 MiB). Must be at least `bufferedAmountHighWaterMark` + one outgoing message.
   */
  backpressureLimit?: number;
  /**
   * Create the client WebSocket for a URL (default `new WebSocket(url)`; on Deno, `ws://`
   * URLs go through our own client instead, client.ts: TCP_NODELAY saves two round trips to the
   * first byte). When given, every dial uses it. Use it for
   * runtime-specific client options: a custom CA on Deno
   * (`new WebSocket(url, { client: Deno.createHttpClient({ caCerts: [pem] }) })`) or on Bun
   * (`new WebSocket(url, { tls: { ca: pem } })`), headers, proxies.
   */
  createWebSocket?: (url: string) => WebSocket;
  /**
   * Mount listeners on the application's own HTTP server instead of starting one: listeners
   * only register with `transport.mount`, whose `handleRequest` (Deno.serve) or
   * `upgrade` + `websocket` (Bun.serve) the application calls. See {@link WebSocketMount}.
   */
  mount?: boolean;
}

/** Options after validation, with defaults applied. */
export interface ResolvedWebSocketOptions extends ConnectionLimits {
  /** See {@link WebSocketOptions.tls}. */
  tls?: WebSocketTlsOptions;
  /** Whole seconds for Deno/Bun (0 disables). */
  idleTimeoutSeconds: number;
  /** See {@link WebSocketOptions.connectTimeoutMs}. */
  connectTimeoutMs: number;
  /** See {@link WebSocketOptions.backpressureLimit}. */
  backpressureLimit: number;
  /** See {@link WebSocketOptions.createWebSocket}. */
  createWebSocket?: (url: string) => WebSocket;
  /** See {@link WebSocketOptions.mount}. */
  mount: boolean;
}

function checkInteger(name: string, value: number, min: number, max: number): number {
  if (!Number.isSafeInteger(value) || value < min || value > max) {
    throw new RangeError(`${name} must be an integer in [${min}, ${max}], got ${value}`);
  }
  return value;
}

function checkDuration(name: string, value: number): number {
  if (!(value > 0)) throw new RangeError(`${name} must be positive, got ${value}`);
  return value;
}

/**
 * Validate options and apply defaults. Throws RangeError/TypeError for bad values.
 *
 * @example
 * ```ts
 * import { resolveWebSocketOptions } from "@p2p-edge/libp2p/transports/websocket";
 * resolveWebSocketOptions({}).maxPayloadLength; // 4194304
 * ```
 */
export function resolveWebSocketOptions(options: WebSocketOptions = {}): ResolvedWebSocketOptions {
  const maxPayloadLength = checkInteger(
    "maxPayloadLength",
    options.maxPayloadLength ?? DEFAULT_MAX_PAYLOAD_LENGTH,
    MIN_MAX_PAYLOAD_LENGTH,
    MAX_MAX_PAYLOAD_LENGTH,
  );
  const idleTimeoutMs = checkInteger(
    "idleTimeoutMs",
    options.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS,
    0,
    MAX_IDLE_TIMEOUT_MS,
  );
  const bufferedAmountHighWaterMark = checkInteger(
    "bufferedAmountHighWaterMark",
    options.bufferedAmountHighWaterMark ?? DEFAULT_BUFFERED_AMOUNT_HIGH_WATER_MARK,
    0,
    2 ** 31,
  );
  const maxBufferedIncoming = checkInteger(
    "maxBufferedIncoming",
    options.maxBufferedIncoming ?? DEFAULT_MAX_BUFFERED_INCOMING,
    1,
    2 ** 31,
  );
  const sendMessageBytes = Math.min(maxPayloadLength, MAX_SEND_MESSAGE_BYTES);
  const backpressureLimit = checkInteger(
    "backpressureLimit",
    options.backpressureLimit ?? DEFAULT_BACKPRESSURE_LIMIT,
    1,
    2 ** 31,
  );
  if (backpressureLimit < bufferedAmountHighWaterMark + sendMessageBytes) {
    throw new RangeError(
      `backpressureLimit (${backpressureLimit}) must be at least bufferedAmountHighWaterMark + ` +
        `${sendMessageBytes} (one outgoing message), or Bun would drop messages`,
    );
  }
  const tls = options.tls;
  if (tls !== undefined && (typeof tls.cert !== "string" || typeof tls.key !== "string")) {
    throw new TypeError("tls needs PEM strings cert and key");
  }
  if (options.createWebSocket !== undefined && typeof options.createWebSocket !== "function") {
    throw new TypeError("createWebSocket must be a function");
  }
  const resolved: ResolvedWebSocketOptions = {
    maxPayloadLength,
    maxBufferedIncoming,
    bufferedAmountHighWaterMark,
    sendMessageBytes,
    closeTimeoutMs: checkDuration(
      "closeTimeoutMs",
      options.closeTimeoutMs ?? DEFAULT_CLOSE_TIMEOUT_MS,
    ),
    idleTimeoutSeconds: Math.ceil(idleTimeoutMs / 1000),
    connectTimeoutMs: checkDuration(
      "connectTimeoutMs",
      options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS,
    ),
    backpressureLimit,
    mount: options.mount === true,
  };
  if (tls !== undefined) resolved.tls = { cert: tls.cert, key: tls.key };
  if (options.createWebSocket !== undefined) resolved.createWebSocket = options.createWebSocket;
  return resolved;
}
