/**
 * The lifecycle the request/response protocol services share (ping, echo, perf): their handler
 * is registered on start() and removed on stop(), and a lifetime signal, renewed on each start,
 * is aborted on stop() so the streams being served end with the service.
 *
 * @module
 */

import type { StreamHandler } from "../connection.ts";
import type { Libp2pNode } from "./node.ts";

/**
 * Check a service's `maxInboundStreams` option: a positive integer, else RangeError.
 *
 * @example
 * ```ts
 * import { checkMaxInboundStreams } from "./protocol_handler.ts";
 * checkMaxInboundStreams(2); // 2
 * ```
 */
export function checkMaxInboundStreams(n: number): number {
  if (!Number.isInteger(n) || n < 1) {
    throw new RangeError("maxInboundStreams must be a positive integer");
  }
  return n;
}

/**
 * One protocol handler on a node with a start/stop lifecycle.
 *
 * @example
 * ```ts
 * import { ProtocolHandler } from "./protocol_handler.ts";
 * import type { Libp2pNode } from "./node.ts";
 * declare const node: Libp2pNode;
 * const h = new ProtocolHandler(node, "/echo/1.0.0", "echo", 8, (stream) => stream.close());
 * h.start(); // serving, streams see h.signal
 * h.stop(); // unhandled; h.signal aborted with an AbortError "echo stopped"
 * ```
 */
export class ProtocolHandler {
  readonly #node: Libp2pNode;
  readonly #protocol: string;
  readonly #name: string;
  readonly #maxInboundStreams: number;
  readonly #serve: StreamHandler;
  #lifetime = new AbortController();
  #started = false;

  /** `name` goes into the stop reason ("<name> stopped"). */
  constructor(
    node: Libp2pNode,
    protocol: string,
    name: string,
    maxInboundStreams: number,
    serve: StreamHandler,
  ) {
    this.#node = node;
    this.#protocol = protocol;
    this.#name = name;
    this.#maxInboundStreams = maxInboundStreams;
    this.#serve = serve;
  }

  /** Aborted when the service stops (a fresh one on each start). */
  get signal(): AbortSignal {
    return this.#lifetime.signal;
  }

  /** Register the handler (idempotent). */
  start(): void {
    if (this.#started) return;
    this.#started = true;
    this.#lifetime = new AbortController();
    this.#node.handle(this.#protocol, this.#serve, {
      maxInboundStreams: this.#maxInboundStreams,
    });
  }

  /** Remove the handler and end the streams being served (idempotent). */
  stop(): void {
    if (!this.#started) return;
    this.#started = false;
    this.#node.unhandle(this.#protocol);
    this.#lifetime.abort(new DOMException(`${this.#name} stopped`, "AbortError"));
  }
}
