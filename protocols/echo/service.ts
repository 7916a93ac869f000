/**
 * The echo service: the handler writes back every byte it reads until EOF (bounded in bytes
 * and by an inactivity deadline); `echo()` sends bytes and returns what came back.
 *
 * @module
 */

import { raceSignal } from "../../src/abort.ts";
import { concat } from "../../src/bytes.ts";
import { Connection, type Stream } from "../../src/connection.ts";
import { LimitExceededError, ProtocolError } from "../../src/errors.ts";
import type { DialTarget, Libp2pNode, ServiceFactory, Startable } from "../../src/node/node.ts";
import { idleTimer } from "../../src/stream/idle.ts";
import type { AbortOptions } from "../../src/stream/types.ts";
import { checkMaxInboundStreams, ProtocolHandler } from "../../src/node/protocol_handler.ts";
import {
  DEFAULT_ECHO_MAX_INBOUND_STREAMS,
  DEFAULT_ECHO_TIMEOUT_MS,
  ECHO_PROTOCOL_ID,
  MAX_ECHO_BYTES,
} from "./constants.ts";

/** Options of {@link echo}; each field with its default. */
export interface EchoOptions {
  /** Inactivity deadline of an echo stream (both roles), ms. Default 10,000. */
  timeoutMs?: number;
  /** Most bytes echoed on one inbound stream; more resets it. Default 64 MiB. */
  maxBytes?: number;
  /** Inbound echo streams per connection. Default 128. */
  maxInboundStreams?: number;
}

/** The echo service as `node.services.echo`. */
export interface EchoService extends Startable {
  /**
   * Send `bytes` on a new echo stream, half-close, and return everything the peer sent back
   * (rejects when that is more than was sent).
   */
  echo(
    target: DialTarget | Connection,
    bytes: Uint8Array,
    options?: AbortOptions,
  ): Promise<Uint8Array>;
}

/**
 * echo as a node service: serves `/echo/1.0.0` only when added to `services`.
 *
 * @example
 * ```ts
 * import { createNode } from "@p2p-edge/libp2p";
 * import { echo } from "@p2p-edge/libp2p/protocols/echo";
 * import { memory } from "@p2p-edge/libp2p/transports/memory";
 * import { noise } from "@p2p-edge/libp2p/protocols/noise";
 * import { yamux } from "@p2p-edge/libp2p/protocols/yamux";
 * const init = { transports: [memory()], connectionEncrypters: [noise()], streamMuxers: [yamux()] };
 * const a = await createNode({ ...init, services: { echo: echo() } });
 * const b = await createNode({ ...init, listen: ["/memory/0"], services: { echo: echo() } });
 * const back = await a.services.echo.echo(b.addrs()[0], new TextEncoder().encode("hi"));
 * await a.stop();
 * await b.stop();
 * ```
 */
export function echo(options: EchoOptions = {}): ServiceFactory<EchoService> {
  const timeoutMs = options.timeoutMs ?? DEFAULT_ECHO_TIMEOUT_MS;
  const maxBytes = options.maxBytes ?? MAX_ECHO_BYTES;
  const maxInboundStreams = options.maxInboundStreams ?? DEFAULT_ECHO_MAX_INBOUND_STREAMS;
  if (!(timeoutMs > 0)) throw new RangeError("timeoutMs must be > 0");
  if (!Number.isSafeInteger(maxBytes) || maxBytes < 0) {
    throw new RangeError("maxBytes must be a non-negative safe integer");
  }
  checkMaxInboundStreams(maxInboundStreams);
  return (node) => new Echo(node, timeoutMs, maxBytes, maxInboundStreams);
}

class Echo implements EchoService {
  readonly #node: Libp2pNode;
  readonly #timeoutMs: number;
  readonly #maxBytes: number;
  readonly #handler: ProtocolHandler;

  constructor(node: Libp2pNode, timeoutMs: number, maxBytes: number, maxInbound: number) {
    this.#node = node;
    this.#timeoutMs = timeoutMs;
    this.#maxBytes = maxBytes;
    this.#handler = new ProtocolHandler(
      node,
      ECHO_PROTOCOL_ID,
      "echo",
      maxInbound,
      (s) => this.#serve(s),
    );
  }

  start(): void {
    this.#handler.start();
  }

  stop(): void {
    this.#handler.stop();
  }

  async echo(
    target: DialTarget | Connection,
    bytes: Uint8Array,
    options?: AbortOptions,
  ): Promise<Uint8Array> {
    const idle = idleTimer(this.#timeoutMs, options?.signal, "echo");
    let stream: Stream | undefined;
    try {
      const conn = target instanceof Connection
        ? target
        : await this.#node.dial(target, { signal: idle.signal });
      stream = await conn.newStream(ECHO_PROTOCOL_ID, { signal: idle.signal });
      const s = stream;
      idle.signal.addEventListener("abort", () => s.abort(idle.signal.reason), { once: true });
      const send = async (): Promise<void> => {
        const writer = s.writable.getWriter();
        await writer.write(bytes);
        await writer.close();
      };
      const receive = async (): Promise<Uint8Array> => {
        const chunks: Uint8Array[] = [];
        let total = 0;
        for await (const chunk of s.readable) {
          idle.touch();
          total += chunk.byteLength;
          if (total > bytes.byteLength) {
            throw new ProtocolError(`echo returned more than the ${bytes.byteLength} bytes sent`);
          }
          chunks.push(chunk);
        }
        return concat(chunks, total);
      };
      // Write and read at once: a payload above the flow-control window needs both.
      const [, back] = await raceSignal(Promise.all([send(), receive()]), idle.signal);
      return back;
    } catch (err) {
      stream?.abort(err);
      throw err;
    } finally {
      idle.clear();
    }
  }

  /** Write back what is read until EOF; reset past `maxBytes` or after `timeoutMs` idle. */
  async #serve(stream: Stream): Promise<void> {
    const idle = idleTimer(this.#timeoutMs, this.#handler.signal, "echo stream");
    idle.signal.addEventListener("abort", () => stream.abort(idle.signal.reason), {
      once: true,
    });
    const reader = stream.readable.getReader();
    const writer = stream.writable.getWriter();
    let total = 0;
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        total += value.byteLength;
        if (total > this.#maxBytes) {
          throw new LimitExceededError(
            `echo stream passed ${this.#maxBytes} bytes`,
            "MAX_ECHO_BYTES",
          );
        }
        idle.touch();
        await writer.write(value);
        idle.touch();
      }
      await writer.close();
    } catch (err) {
      stream.abort(err);
    } finally {
      idle.clear();
    }
  }
}
