/**
 * YamuxStream.readInto (BYOB reads) and the lent read buffer behind it: while a stream reads into
 * its own buffers the muxer lends one buffer to the channel for every read and reuses it, so every
 * payload must be copied out before the next read, for that stream and for every other one.
 */

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { concat } from "../../src/bytes.ts";
import { StreamResetError } from "../../src/errors.ts";
import type { MuxedStream, StreamMuxer } from "../../src/muxer.ts";
import { ForwardingChannel } from "../../src/stream/channel.ts";
import { connPair } from "../helpers/conn.ts";
import { readIntoFrom } from "../../src/stream/read_into.ts";
import { yamux } from "../../protocols/yamux/mod.ts";
import { tcp } from "../../transports/tcp/mod.ts";
import { listenQueued } from "../tcp/helpers.ts";

/**
 * Reads into the buffer it is lent (as the Deno TCP channel does), after scribbling over it, so
 * a payload view the muxer kept past the next read would show the scribble.
 */
class LendingChannel extends ForwardingChannel {
  lentReads = 0;
  plainReads = 0;
  #rest: Uint8Array | undefined;

  override async read(into?: Uint8Array): Promise<Uint8Array | null> {
    if (into === undefined) {
      this.plainReads++;
      if (this.#rest !== undefined) {
        const rest = this.#rest;
        this.#rest = undefined;
        return rest;
      }
      return this.below.read();
    }
    this.lentReads++;
    into.fill(0xee);
    const chunk = this.#rest ?? await this.below.read();
    this.#rest = undefined;
    if (chunk === null) return null;
    const n = Math.min(chunk.byteLength, into.byteLength);
    into.set(chunk.subarray(0, n));
    if (n < chunk.byteLength) this.#rest = chunk.subarray(n);
    return into.subarray(0, n);
  }
}

function pattern(seed: number, n: number): Uint8Array {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = (seed + i * 7 + (i >> 9)) & 0xff;
  return out;
}

interface Pair {
  client: StreamMuxer;
  server: StreamMuxer;
  lending: LendingChannel;
  accept(): Promise<MuxedStream>;
}

/** A yamux pair whose client reads through a {@link LendingChannel}. */
function lendingPair(): Pair {
  const [a, b] = connPair();
  const lending = new LendingChannel(a.channel);
  const incoming: MuxedStream[] = [];
  const waiting: ((s: MuxedStream) => void)[] = [];
  const client = yamux().createStreamMuxer(
    { channel: lending, close: () => lending.closeWrite(), abort: (r) => lending.abort(r) },
    { direction: "outbound" },
  );
  const server = yamux().createStreamMuxer(b, {
    direction: "inbound",
    onIncomingStream: (s) => {
      const w = waiting.shift();
      if (w !== undefined) w(s);
      else incoming.push(s);
    },
  });
  return {
    client,
    server,
    lending,
    accept: () => {
      const s = incoming.shift();
      return s !== undefined ? Promise.resolve(s) : new Promise((r) => waiting.push(r));
    },
  };
}

/** Open a stream from the client and write a byte so that the server sees it. */
async function open(p: Pair): Promise<{ local: MuxedStream; remote: MuxedStream }> {
  const local = await p.client.newStream();
  const w = local.writable.getWriter();
  await w.write(new Uint8Array([1]));
  w.releaseLock();
  const remote = await p.accept();
  const r = remote.readable.getReader();
  assert.deepEqual((await r.read()).value, new Uint8Array([1]));
  r.releaseLock();
  return { local, remote };
}

async function send(stream: MuxedStream, data: Uint8Array, piece: number): Promise<void> {
  const w = stream.writable.getWriter();
  for (let off = 0; off < data.byteLength; off += piece) {
    await w.write(data.slice(off, off + piece));
  }
  await w.close();
}

async function readAllInto(stream: MuxedStream, size: number): Promise<Uint8Array> {
  const buf = new Uint8Array(size);
  const parts: Uint8Array[] = [];
  for (let n = await stream.readInto!(buf); n !== null; n = await stream.readInto!(buf)) {
    assert.ok(n > 0 && n <= size, `readInto resolved ${n}`);
    parts.push(buf.slice(0, n));
  }
  return concat(parts);
}

async function readAll(stream: MuxedStream): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  for await (const chunk of stream.readable) parts.push(chunk);
  return concat(parts);
}

describe("yamux: readInto (BYOB reads)", () => {
  it("delivers every byte in order, and other streams' chunks survive the lent buffer", async () => {
    const p = lendingPair();
    try {
      const byob = await open(p);
      const plain = await open(p);
      const a = pattern(1, 1024 * 1024 + 5);
      const b = pattern(2, 700 * 1024 + 3);
      const [gotA, gotB] = await Promise.all([
        readAllInto(byob.local, 7 * 1024 + 1),
        readAll(plain.local),
        send(byob.remote, a, 50_000),
        send(plain.remote, b, 33_333),
      ]);
      assert.equal(gotA.byteLength, a.byteLength);
      assert.ok(gotA.every((x, i) => x === a[i]), "readInto bytes differ");
      assert.equal(gotB.byteLength, b.byteLength);
      assert.ok(gotB.every((x, i) => x === b[i]), "default reader's bytes differ");
      assert.ok(p.lending.lentReads > 10, `lent reads: ${p.lending.lentReads}`);

      // The readInto stream ended: the muxer stops lending, and reads allocate again.
      const later = await open(p);
      const plainBefore = p.lending.plainReads;
      const c = pattern(3, 200 * 1024);
      const [gotC] = await Promise.all([readAll(later.local), send(later.remote, c, 64 * 1024)]);
      assert.ok(gotC.every((x, i) => x === c[i]));
      assert.ok(p.lending.plainReads > plainBefore, "no plain read after the BYOB stream ended");
    } finally {
      p.client.abort();
      p.server.abort();
    }
  });

  it("serves a queued chunk in parts, then null at the end", async () => {
    const p = lendingPair();
    try {
      const { local, remote } = await open(p);
      await send(remote, new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]), 10);
      // The data and the FIN are queued on our side before the first readInto.
      await new Promise((r) => setTimeout(r, 20));
      const buf = new Uint8Array(4);
      const got: number[] = [];
      const counts: (number | null)[] = [];
      for (;;) {
        const n = await local.readInto!(buf);
        counts.push(n);
        if (n === null) break;
        got.push(...buf.subarray(0, n));
      }
      assert.deepEqual(counts, [4, 4, 2, null]);
      assert.deepEqual(got, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
      assert.equal(await local.readInto!(buf), null);
    } finally {
      p.client.abort();
      p.server.abort();
    }
  });

  it("rejects a waiting readInto on reset, and misuse with TypeError", async () => {
    const p = lendingPair();
    try {
      const { local, remote } = await open(p);
      const buf = new Uint8Array(16);
      const pending = local.readInto!(buf);
      await assert.rejects(local.readInto!(new Uint8Array(4)), TypeError);
      await assert.rejects(local.readInto!(new Uint8Array(0)), TypeError);
      remote.reset();
      await assert.rejects(pending, StreamResetError);

      const other = await open(p);
      other.local.readable.getReader(); // someone else holds the readable
      await assert.rejects(other.local.readInto!(buf), TypeError);
    } finally {
      p.client.abort();
      p.server.abort();
    }
  });

  it("works over TCP loopback (the channel reads into the lent buffer)", async () => {
    const transport = tcp();
    const { listener, accepted } = await listenQueued(transport, "/ip4/127.0.0.1/tcp/0");
    let client: StreamMuxer | undefined;
    let server: StreamMuxer | undefined;
    try {
      const dialed = await transport.dial(listener.getAddrs()[0]);
      let onStream!: (s: MuxedStream) => void;
      const incoming = new Promise<MuxedStream>((r) => (onStream = r));
      client = yamux().createStreamMuxer(dialed, { direction: "outbound" });
      server = yamux().createStreamMuxer(await accepted(), {
        direction: "inbound",
        onIncomingStream: onStream,
      });
      const local = await client.newStream();
      const data = pattern(9, 4 * 1024 * 1024 + 11);
      const [got] = await Promise.all([
        readAllInto(local, 64 * 1024),
        (async () => {
          const w = local.writable.getWriter();
          await w.write(new Uint8Array([0]));
          await w.close();
          const remote = await incoming;
          await send(remote, data, 64 * 1024);
        })(),
      ]);
      assert.equal(got.byteLength, data.byteLength);
      assert.ok(got.every((x, i) => x === data[i]), "bytes differ");
    } finally {
      client?.abort();
      server?.abort();
      await listener.close();
    }
  });
});

describe("readIntoFrom: BYOB reads over any readable", () => {
  it("copies chunks in parts, skips empty ones, ends with null", async () => {
    const readable = new ReadableStream<Uint8Array>({
      start(c) {
        c.enqueue(new Uint8Array([1, 2, 3]));
        c.enqueue(new Uint8Array(0));
        c.enqueue(new Uint8Array([4]));
        c.close();
      },
    });
    const readInto = readIntoFrom(readable);
    assert.ok(readable.locked);
    const buf = new Uint8Array(2);
    assert.equal(await readInto(buf), 2);
    assert.deepEqual(buf, new Uint8Array([1, 2]));
    assert.equal(await readInto(buf), 1);
    assert.equal(buf[0], 3);
    assert.equal(await readInto(buf), 1);
    assert.equal(buf[0], 4);
    assert.equal(await readInto(buf), null);
    await assert.rejects(readInto(new Uint8Array(0)), TypeError);
  });

  it("allows one read at a time", async () => {
    const readable = new ReadableStream<Uint8Array>({ pull() {} });
    const readInto = readIntoFrom(readable);
    void readInto(new Uint8Array(4));
    await assert.rejects(readInto(new Uint8Array(4)), TypeError);
    await readable.cancel().catch(() => {});
  });
});
