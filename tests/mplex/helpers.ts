// Shared helpers for the mplex tests: a raw peer that speaks hand-built frames, and readers.
import { concat } from "../../src/bytes.ts";
import type { WebConnection } from "../helpers/conn.ts";
import { connPair } from "../helpers/conn.ts";
import type { StreamMuxer, StreamMuxerInit } from "../../src/muxer.ts";
import { mplex, type MplexOptions } from "../../protocols/mplex/mod.ts";
import { decodeMessage, encodeMessage, type MplexMessage } from "../../protocols/mplex/codec.ts";
import type { MplexFlagValue } from "../../protocols/mplex/constants.ts";

/** Reads whole mplex frames from a readable (what our muxer wrote). */
export class FrameReader {
  #reader: ReadableStreamDefaultReader<Uint8Array>;
  #buf: Uint8Array = new Uint8Array(0);
  /** Chunks received, as they arrived (to observe write coalescing). */
  readonly chunks: Uint8Array[] = [];

  constructor(readable: ReadableStream<Uint8Array>) {
    this.#reader = readable.getReader();
  }

  /** Next frame, or undefined at end of stream. */
  async next(): Promise<MplexMessage | undefined> {
    for (;;) {
      const r = decodeMessage(this.#buf, 0, 64 * 1024 * 1024);
      if (r !== undefined) {
        this.#buf = this.#buf.slice(r.length);
        return { ...r.message, data: r.message.data.slice() };
      }
      const { value, done } = await this.#reader.read();
      if (done) return undefined;
      this.chunks.push(value);
      this.#buf = concat([this.#buf, value]);
    }
  }

  /** Read frames until `pred` matches; returns every frame read. */
  async until(pred: (m: MplexMessage) => boolean): Promise<MplexMessage[]> {
    const out: MplexMessage[] = [];
    for (;;) {
      const m = await this.next();
      if (m === undefined) throw new Error("stream ended before the expected frame");
      out.push(m);
      if (pred(m)) return out;
    }
  }

  /** Resolves true when the stream ends (or errors), reading and dropping frames. */
  async ended(): Promise<boolean> {
    try {
      while ((await this.next()) !== undefined) { /* drain */ }
      return true;
    } catch {
      return true;
    }
  }
}

/** One end driven by our mplex muxer, the other by hand. */
export interface RawSetup {
  muxer: StreamMuxer;
  raw: WebConnection;
  frames: FrameReader;
  writer: WritableStreamDefaultWriter<Uint8Array>;
  send(id: number, flag: MplexFlagValue, data?: Uint8Array): Promise<void>;
  closeError: Promise<Error | undefined>;
}

export function rawSetup(
  options: MplexOptions = {},
  init: Partial<StreamMuxerInit> = {},
): RawSetup {
  const [ours, raw] = connPair();
  const closeError = Promise.withResolvers<Error | undefined>();
  const muxer = mplex(options).createStreamMuxer(ours, {
    direction: "inbound",
    ...init,
    onClose: (err) => {
      init.onClose?.(err);
      closeError.resolve(err);
    },
  });
  const frames = new FrameReader(raw.readable);
  const writer = raw.writable.getWriter();
  return {
    muxer,
    raw,
    frames,
    writer,
    send: (id, flag, data) => writer.write(encodeMessage(id, flag, data)),
    closeError: closeError.promise,
  };
}

/** Two of our muxers over an in-memory pipe. */
export function pair(
  options: MplexOptions = {},
  onIncomingStream?: StreamMuxerInit["onIncomingStream"],
  onClientIncomingStream?: StreamMuxerInit["onIncomingStream"],
): { client: StreamMuxer; server: StreamMuxer; a: WebConnection; b: WebConnection } {
  const [a, b] = connPair();
  const factory = mplex(options);
  const server = factory.createStreamMuxer(b, { direction: "inbound", onIncomingStream });
  const client = factory.createStreamMuxer(a, {
    direction: "outbound",
    onIncomingStream: onClientIncomingStream,
  });
  return { client, server, a, b };
}

/** Read exactly `n` bytes from a reader. */
export async function readN(
  reader: ReadableStreamDefaultReader<Uint8Array>,
  n: number,
): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  let got = 0;
  while (got < n) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`stream ended after ${got} of ${n} bytes`);
    parts.push(value);
    got += value.byteLength;
  }
  return concat(parts);
}

/** Read everything until the end. */
export async function readAll(readable: ReadableStream<Uint8Array>): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  for await (const c of readable) parts.push(c);
  return concat(parts);
}

/** Resolve after the current macrotask queue ran (lets pending I/O settle; not a timing check). */
export function tick(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 0));
}
