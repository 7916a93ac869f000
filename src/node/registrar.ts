/**
 * The registrar: which protocol handlers a node serves (it implements the connection's
 * {@link StreamHandlerRegistry}).
 *
 * @module
 */

import type { StreamHandler, StreamHandlerOptions, StreamHandlerRegistry } from "../connection.ts";
import { MAX_PROTOCOL_LENGTH } from "../multistream/mod.ts";

/** Default cap of inbound streams of one protocol on one connection. */
export const DEFAULT_MAX_INBOUND_STREAMS = 32;

/**
 * Protocol handlers by protocol id.
 *
 * @example
 * ```ts
 * import { Registrar } from "@p2p-edge/libp2p";
 * const registrar = new Registrar();
 * registrar.handle("/echo/1.0.0", (stream) => stream.readable.pipeTo(stream.writable));
 * registrar.protocols(); // ["/echo/1.0.0"]
 * ```
 */
export class Registrar implements StreamHandlerRegistry {
  readonly #handlers = new Map<string, { handler: StreamHandler; options: StreamHandlerOptions }>();
  #protocols: string[] = [];

  /** Register `handler` for `protocol`. Throws if one is already registered. */
  handle(protocol: string, handler: StreamHandler, options: StreamHandlerOptions = {}): void {
    validateProtocolId(protocol);
    if (this.#handlers.has(protocol)) {
      throw new TypeError(`a handler for ${protocol} is already registered`);
    }
    const max = options.maxInboundStreams ?? DEFAULT_MAX_INBOUND_STREAMS;
    if (!Number.isInteger(max) || max < 1) {
      throw new RangeError("maxInboundStreams must be a positive integer");
    }
    this.#handlers.set(protocol, { handler, options: { ...options, maxInboundStreams: max } });
    this.#protocols = [...this.#handlers.keys()];
  }

  /** Remove the handler of `protocol` (no-op if none). */
  unhandle(protocol: string): void {
    if (this.#handlers.delete(protocol)) this.#protocols = [...this.#handlers.keys()];
  }

  /** Protocol ids with a handler. */
  protocols(): string[] {
    return this.#protocols;
  }

  /** The handler of `protocol`. */
  get(protocol: string): { handler: StreamHandler; options: StreamHandlerOptions } | undefined {
    return this.#handlers.get(protocol);
  }
}

/**
 * Throw a TypeError unless `protocol` is a valid multistream protocol id.
 *
 * @example
 * ```ts
 * import { validateProtocolId } from "@p2p-edge/libp2p";
 * validateProtocolId("/ipfs/ping/1.0.0");
 * ```
 */
export function validateProtocolId(protocol: string): void {
  if (typeof protocol !== "string" || protocol.length === 0) {
    throw new TypeError("protocol id must be a non-empty string");
  }
  if (protocol.includes("\n")) throw new TypeError("protocol id must not contain a newline");
  if (new TextEncoder().encode(protocol).byteLength + 1 > MAX_PROTOCOL_LENGTH) {
    throw new TypeError(`protocol id is longer than ${MAX_PROTOCOL_LENGTH - 1} bytes`);
  }
}
