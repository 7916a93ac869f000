/**
 * The perf service (libp2p/specs perf/perf.md): the client sends the size it wants back as a
 * u64, uploads, half-closes; the server drains to EOF, then sends that many bytes and closes.
 * Both sides write one reused buffer, and read into one (Stream.readInto), only counting.
 *
 * @module
 */

import { raceSignal } from "../../src/abort.ts";
import { Connection, type Stream } from "../../src/connection.ts";
import { LimitExceededError, ProtocolError } from "../../src/errors.ts";
import type { DialTarget, Libp2pNode, ServiceFactory, Startable } from "../../src/node/node.ts";
import { UnexpectedEOFError } from "../../src/stream/byte_reader.ts";
import { type IdleTimer, idleTimer } from "../../src/stream/idle.ts";
import type { AbortOptions } from "../../src/stream/types.ts";
import { checkMaxInboundStreams, ProtocolHandler } from "../../src/node/protocol_handler.ts";
import { decodePerfHeader, encodePerfHeader } from "./codec.ts";
import {
  DEFAULT_PERF_MAX_INBOUND_STREAMS,
  DEFAULT_PERF_TIMEOUT_MS,
  MAX_PERF_DOWNLOAD_BYTES,
  PERF_CHUNK_BYTES,
  PERF_HEADER_LENGTH,
  PERF_PROTOCOL_ID,
} from "./constants.ts";

/** Options of {@link perf}; each field with its default. */
export interface PerfOptions {
  /** Inactivity deadline of a perf stream (both roles), ms. Default 10,000. */
  timeoutMs?: number;
  /** Largest download the server sends; larger requests are reset. Default 64 GiB. */
  maxDownloadBytes?: number;
  /** Inbound perf streams per connection. Default 4. */
  maxInboundStreams?: number;
}

/** What to measure. */
export interface PerfMeasureOptions extends AbortOptions {
  /** Bytes to send to the server. */
  upload: number;
  /** Bytes to ask back from the server. */
  download: number;
}

/** One measurement; times in ms from `performance.now()`. */
export interface PerfResult {
  /** Bytes sent. */
  uploadBytes: number;
  /** Bytes received (equal to the requested download, else measure() rejects). */
  downloadBytes: number;
  /** From opening the stream until the first downloaded byte (or the end, for no download). */
  uploadMs: number;
  /** From the first downloaded byte to EOF. */
  downloadMs: number;
  /** The whole exchange. */
  totalMs: number;
}

/** The perf service as `node.services.perf`. */
export interface PerfService extends Startable {
  /** Run one upload/download exchange with a peer (dialling it if needed). */
  measure(target: DialTarget | Connection, options: PerfMeasureOptions): Promise<PerfResult>;
}

/**
 * perf as a node service: serves `/perf/1.0.0` only when added to `services` (PROTOCOLS.md:
 * off by default on public listeners).
 *
 * @example
 * ```ts
 * import { createNode } from "@p2p-edge/libp2p";
 * import { perf } from "@p2p-edge/libp2p/protocols/perf";
 * import { memory } from "@p2p-edge/libp2p/transports/memory";
 * import { noise } from "@p2p-edge/libp2p/protocols/noise";
 * import { yamux } from "@p2p-edge/libp2p/protocols/yamux";
 * const init = { transports: [memory()], connectionEncrypters: [noise()], streamMuxers: [yamux()] };
 * const a = await createNode({ ...init, services: { perf: perf() } });
 * const b = await createNode({ ...init, listen: ["/memory/0"], services: { perf: perf() } });
 * const r = await a.services.perf.measure(b.addrs()[0], { upload: 1 << 20, download: 1 << 20 });
 * console.log(r.totalMs);
 * await a.stop();
 * await b.stop();
 * ```
 */
export function perf(options: PerfOptions = {}): ServiceFactory<PerfService> {
  const timeoutMs = options.timeoutMs ?? DEFAULT_PERF_TIMEOUT_MS;
  const maxDownload = options.maxDownloadBytes ?? MAX_PERF_DOWNLOAD_BYTES;
  const maxInbound = options.maxInboundStreams ?? DEFAULT_PERF_MAX_INBOUND_STREAMS;
  if (!(timeoutMs > 0)) throw new RangeError("timeoutMs must be > 0");
  checkSize(maxDownload, "maxDownloadBytes");
  checkMaxInboundStreams(maxInbound);
  return (node) => new Perf(node, timeoutMs, maxDownload, maxInbound);
}

class Perf implements PerfService {
  readonly #node: Libp2pNode;
  readonly #timeoutMs: number;
  readonly #maxDownload: number;
  readonly #handler: ProtocolHandler;
  #chunk = new Uint8Array(PERF_CHUNK_BYTES);
  /**
   * Where received bytes go: they are only counted, so every receiving stream of the service
   * reads into this one buffer (made on first use), and a transfer allocates nothing per chunk.
   */
  #sinkBuffer: Uint8Array | undefined;

  #sink(): Uint8Array {
    return this.#sinkBuffer ??= new Uint8Array(PERF_CHUNK_BYTES);
  }

  constructor(node: Libp2pNode, timeoutMs: number, maxDownload: number, maxInbound: number) {
    this.#node = node;
    this.#timeoutMs = timeoutMs;
    this.#maxDownload = maxDownload;
    this.#handler = new ProtocolHandler(
      node,
      PERF_PROTOCOL_ID,
      "perf",
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

  async measure(
    target: DialTarget | Connection,
    options: PerfMeasureOptions,
  ): Promise<PerfResult> {
    const { upload, download } = options;
    checkSize(upload, "upload");
    checkSize(download, "download");
    const idle = idleTimer(this.#timeoutMs, options.signal, "perf");
    let stream: Stream | undefined;
    try {
      const conn = target instanceof Connection
        ? target
        : await this.#node.dial(target, { signal: idle.signal });
      stream = await conn.newStream(PERF_PROTOCOL_ID, { signal: idle.signal });
      const s = stream;
      idle.signal.addEventListener("abort", () => s.abort(idle.signal.reason), { once: true });
      const start = performance.now();
      let firstByte: number | undefined;
      let received = 0;
      const send = async (): Promise<void> => {
        const writer = s.writable.getWriter();
        await writer.write(encodePerfHeader(download));
        await this.#write(writer, upload, idle);
        await writer.close();
      };
      const receive = async (): Promise<number> => {
        const sink = this.#sink();
        for (;;) {
          const n = await s.readInto(sink);
          if (n === null) return performance.now();
          firstByte ??= performance.now();
          received += n;
          idle.touch();
          if (received > download) {
            throw new ProtocolError(`perf server sent more than the ${download} bytes asked`);
          }
        }
      };
      const [, end] = await raceSignal(Promise.all([send(), receive()]), idle.signal);
      if (received !== download) {
        throw new ProtocolError(`perf server sent ${received} of the ${download} bytes asked`);
      }
      const uploaded = firstByte ?? end;
      return {
        uploadBytes: upload,
        downloadBytes: received,
        uploadMs: uploaded - start,
        downloadMs: end - uploaded,
        totalMs: end - start,
      };
    } catch (err) {
      stream?.abort(err);
      throw err;
    } finally {
      idle.clear();
    }
  }

  /** Read the size, drain the upload to EOF (counting only), send the size, close. */
  async #serve(stream: Stream): Promise<void> {
    const idle = idleTimer(this.#timeoutMs, this.#handler.signal, "perf stream");
    idle.signal.addEventListener("abort", () => stream.abort(idle.signal.reason), {
      once: true,
    });
    try {
      const header = new Uint8Array(PERF_HEADER_LENGTH);
      for (let got = 0; got < header.byteLength;) {
        const n = await stream.readInto(header.subarray(got));
        if (n === null) throw new UnexpectedEOFError("perf stream ended inside the size header");
        got += n;
      }
      const want = decodePerfHeader(header)!;
      if (want > BigInt(this.#maxDownload)) {
        throw new LimitExceededError(
          `perf download of ${want} bytes asked, the limit is ${this.#maxDownload}`,
          "MAX_PERF_DOWNLOAD_BYTES",
        );
      }
      idle.touch();
      const sink = this.#sink();
      while ((await stream.readInto(sink)) !== null) idle.touch();
      const writer = stream.writable.getWriter();
      await this.#write(writer, Number(want), idle);
      await writer.close();
    } catch (err) {
      stream.abort(err);
    } finally {
      idle.clear();
    }
  }

  /** Write `count` bytes from the one reused chunk. */
  async #write(
    writer: WritableStreamDefaultWriter<Uint8Array>,
    count: number,
    idle: IdleTimer,
  ): Promise<void> {
    let remaining = count;
    while (remaining > 0) {
      // A layer below may transfer (detach) what it is given; then start a new buffer.
      if (this.#chunk.byteLength === 0) this.#chunk = new Uint8Array(PERF_CHUNK_BYTES);
      const piece = remaining >= this.#chunk.byteLength
        ? this.#chunk
        : this.#chunk.subarray(0, remaining);
      await writer.write(piece);
      remaining -= piece.byteLength;
      idle.touch();
    }
  }
}

function checkSize(n: number, name: string): void {
  if (!Number.isSafeInteger(n) || n < 0) {
    throw new RangeError(`${name} must be a non-negative safe integer`);
  }
}
