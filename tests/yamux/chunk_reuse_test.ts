/**
 * A stream write must not complete while any layer below still references the chunk, because the
 * writer may refill it at once (the perf service does). One buffer is refilled with a new byte
 * after every completed write; a chunk sent after its write completed would arrive with a later
 * byte. (The yamux outbox copies payloads; queueing large ones by reference instead made each
 * write wait for a socket write, which halved bulk throughput on Deno.) The outbox's own blocks
 * are reused after the connection drained them, but only where the channel copies its writes.
 */

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { type ChannelConnection, streamConnection } from "../../src/stream/channel.ts";
import { connPair } from "../helpers/conn.ts";
import { tcp } from "../../transports/tcp/mod.ts";
import { yamux } from "../../protocols/yamux/mod.ts";
import type { MuxedStream } from "../../src/muxer.ts";
import { listenQueued } from "../tcp/helpers.ts";

const CHUNK = 64 * 1024;
const CHUNKS = 256; // 16 MiB: many times the socket buffers and the stream window

async function sendReusingOneBuffer(stream: MuxedStream): Promise<void> {
  const buffer = new Uint8Array(CHUNK);
  const writer = stream.writable.getWriter();
  for (let i = 0; i < CHUNKS; i++) {
    buffer.fill(i & 0xff);
    await writer.write(buffer);
  }
  await writer.close();
}

async function receiveAndCheck(stream: MuxedStream): Promise<void> {
  let offset = 0;
  for await (const chunk of stream.readable) {
    for (let j = 0; j < chunk.byteLength; j++) {
      const expected = Math.floor((offset + j) / CHUNK) & 0xff;
      if (chunk[j] !== expected) {
        assert.fail(`byte ${offset + j}: ${chunk[j]}, expected ${expected}`);
      }
    }
    offset += chunk.byteLength;
  }
  assert.equal(offset, CHUNK * CHUNKS);
}

async function run(a: ChannelConnection, b: ChannelConnection): Promise<void> {
  let accepted!: (s: MuxedStream) => void;
  const incoming = new Promise<MuxedStream>((resolve) => (accepted = resolve));
  const client = yamux().createStreamMuxer(a, { direction: "outbound" });
  const server = yamux().createStreamMuxer(b, { direction: "inbound", onIncomingStream: accepted });
  try {
    const stream = await client.newStream();
    await Promise.all([sendReusingOneBuffer(stream), receiveAndCheck(await incoming)]);
  } finally {
    client.abort();
    server.abort();
  }
}

describe("yamux: a writer may reuse its chunk once the write completed", () => {
  it("over an in-memory pair", async () => {
    const [a, b] = connPair();
    await run(a, b);
  });

  it("over web streams whose sink hands the chunk itself to the reader", async () => {
    // An identity TransformStream resolves a write once the chunk is queued for its reader, so
    // the muxer's buffers must not be recycled after drained() (the channel over these streams
    // does not claim copiesWrites); a recycled block would be refilled under the reader.
    const aToB = new TransformStream<Uint8Array, Uint8Array>();
    const bToA = new TransformStream<Uint8Array, Uint8Array>();
    await run(
      streamConnection({ readable: bToA.readable, writable: aToB.writable }),
      streamConnection({ readable: aToB.readable, writable: bToA.writable }),
    );
  });

  it("over TCP loopback (the socket write is asynchronous)", async () => {
    const transport = tcp();
    const { listener, accepted } = await listenQueued(transport, "/ip4/127.0.0.1/tcp/0");
    try {
      const client = await transport.dial(listener.getAddrs()[0]);
      await run(client, await accepted());
    } finally {
      await listener.close();
    }
  });
});
