/**
 * The ping service (libp2p/specs ping/ping.md): the handler echoes 32-byte blocks until the
 * dialer closes; `ping()` sends one block of random bytes and measures the round trip.
 *
 * @module
 */

import { deadlineSignal, raceSignal } from "../../src/abort.ts";
import { equals, randomBytes } from "../../src/bytes.ts";
import { Connection, type Stream } from "../../src/connection.ts";
import type { DialTarget, Libp2pNode, ServiceFactory, Startable } from "../../src/node/node.ts";
import { ByteReader, UnexpectedEOFError } from "../../src/stream/byte_reader.ts";
import { idleTimer } from "../../src/stream/idle.ts";
import type { AbortOptions } from "../../src/stream/types.ts";
import { checkMaxInboundStreams, ProtocolHandler } from "../../src/node/protocol_handler.ts";
import {
  DEFAULT_PING_MAX_INBOUND_STREAMS,
  DEFAULT_PING_TIMEOUT_MS,
  PING_LENGTH,
  PING_PROTOCOL_ID,
} from "./constants.ts";
import { PingMismatchError } from "./errors.ts";

/** Options of {@link ping}; each field with its default. */
export interface PingOptions {
  /** Deadline of one ping, and inactivity deadline of an inbound ping stream, ms. 10,000. */
  timeoutMs?: number;
  /** Inbound ping streams per connection (ping.md: at most two). Default 2. */
  maxInboundStreams?: number;
}

/** The ping service as `node.services.ping`. */
export interface PingService extends Startable {
  /**
   * Ping a peer (dialling it if needed, or on the given connection): the round trip time in
   * milliseconds. Rejects with PingMismatchError when the echo differs from what was sent.
   */
  ping(target: DialTarget | Connection, options?: AbortOptions): Promise<number>;
}

/**
 * ping as a node service: answers `/ipfs/ping/1.0.0` and pings peers.
 *
 * @example
 * ```ts
 * import { createNode } from "@p2p-edge/libp2p";
 * import { ping } from "@p2p-edge/libp2p/protocols/ping";
 * import { memory } from "@p2p-edge/libp2p/transports/memory";
 * import { noise } from "@p2p-edge/libp2p/protocols/noise";
 * import { yamux } from "@p2p-edge/libp2p/protocols/yamux";
 * const init = { transports: [memory()], connectionEncrypters: [noise()], streamMuxers: [yamux()] };
 * const a = await createNode({ ...init, services: { ping: ping() } });
 * const b = await createNode({ ...init, listen: ["/memory/0"], services: { ping: ping() } });
 * const ms = await a.services.ping.ping(b.addrs()[0]);
 * await a.stop();
 * await b.stop();
 * ```
 */
export function ping(options: PingOptions = {}): ServiceFactory<PingService> {
  const timeoutMs = options.timeoutMs ?? DEFAULT_PING_TIMEOUT_MS;
  const maxInboundStreams = options.maxInboundStreams ?? DEFAULT_PING_MAX_INBOUND_STREAMS;
  if (!(timeoutMs > 0)) throw new RangeError("timeoutMs must be > 0");
  checkMaxInboundStreams(maxInboundStreams);
  return (node) => new Ping(node, timeoutMs, maxInboundStreams);
}

class Ping implements PingService {
  readonly #node: Libp2pNode;
  readonly #timeoutMs: number;
  readonly #handler: ProtocolHandler;

  constructor(node: Libp2pNode, timeoutMs: number, maxInboundStreams: number) {
    this.#node = node;
    this.#timeoutMs = timeoutMs;
    this.#handler = new ProtocolHandler(
      node,
      PING_PROTOCOL_ID,
      "ping",
      maxInboundStreams,
      (s) => this.#serve(s),
    );
  }

  start(): void {
    this.#handler.start();
  }

  stop(): void {
    this.#handler.stop();
  }

  async ping(target: DialTarget | Connection, options?: AbortOptions): Promise<number> {
    const d = deadlineSignal(this.#timeoutMs, options?.signal, "ping");
    let stream: Stream | undefined;
    try {
      const conn = target instanceof Connection
        ? target
        : await this.#node.dial(target, { signal: d.signal });
      stream = await conn.newStream(PING_PROTOCOL_ID, { signal: d.signal });
      const s = stream;
      d.signal.addEventListener("abort", () => s.abort(d.signal.reason), { once: true });
      const { rtt, finish } = await raceSignal(exchange(s), d.signal);
      // Closing is best effort: the answer is in. A remote that resets instead of closing (go
      // resets on EOF) or never closes (then the deadline aborts) does not fail the ping.
      await raceSignal(finish(), d.signal).catch((err) => s.abort(err));
      return rtt;
    } catch (err) {
      stream?.abort(err);
      throw err;
    } finally {
      d.clear();
    }
  }

  /** Echo 32-byte blocks until EOF; a stream idle for `timeoutMs` is reset. */
  async #serve(stream: Stream): Promise<void> {
    const idle = idleTimer(this.#timeoutMs, this.#handler.signal, "ping stream");
    idle.signal.addEventListener("abort", () => stream.abort(idle.signal.reason), {
      once: true,
    });
    const reader = new ByteReader(stream.readable);
    const writer = stream.writable.getWriter();
    try {
      for (;;) {
        let block: Uint8Array;
        try {
          block = await reader.readExactly(PING_LENGTH);
        } catch (err) {
          // EOF (clean, or inside a block) ends the exchange: the dialer is done.
          if (err instanceof UnexpectedEOFError) break;
          throw err;
        }
        idle.touch();
        await writer.write(block);
      }
      await writer.close();
    } catch (err) {
      stream.abort(err);
    } finally {
      idle.clear();
    }
  }
}

/** One ping on an open stream: write, read the echo, compare; `finish` closes our side. */
async function exchange(
  stream: Stream,
): Promise<{ rtt: number; finish: () => Promise<void> }> {
  const data = randomBytes(PING_LENGTH);
  const reader = new ByteReader(stream.readable);
  const writer = stream.writable.getWriter();
  const start = performance.now();
  await writer.write(data);
  const echo = await reader.readExactly(PING_LENGTH);
  const rtt = performance.now() - start;
  if (!equals(echo, data)) {
    throw new PingMismatchError("ping echo differs from the bytes sent");
  }
  const finish = async (): Promise<void> => {
    await writer.close();
    // The remote sees EOF and closes its side; anything else it sends is not a ping answer.
    if ((await reader.readChunk()) !== undefined) {
      throw new PingMismatchError("unexpected bytes after the ping echo");
    }
  };
  return { rtt, finish };
}
