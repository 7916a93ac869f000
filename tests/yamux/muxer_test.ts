// The yamux service and streams against a hand-driven peer: options, reads driving window
// updates, closeRead, and frames of one tick coalesced into one write.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { concat } from "../../src/bytes.ts";
import { StreamClosedError } from "../../src/errors.ts";
import { connPair } from "../helpers/conn.ts";
import { yamux, YAMUX_PROTOCOL_ID } from "../../protocols/yamux/mod.ts";
import { decodeHeader } from "../../protocols/yamux/codec.ts";
import { Flag, FrameType } from "../../protocols/yamux/constants.ts";
import { resolveYamuxOptions } from "../../protocols/yamux/options.ts";
import type { YamuxMuxer } from "../../protocols/yamux/service.ts";
import type { MuxedStream } from "../../src/muxer.ts";
import { frame, parseFrames } from "./session_helpers.ts";

const { Data, WindowUpdate } = FrameType;
const { SYN, ACK } = Flag;
const KiB = 1024;

function setup(): {
  muxer: YamuxMuxer;
  incoming: MuxedStream[];
  send: (...f: Uint8Array[]) => Promise<void>;
  reader: ReadableStreamDefaultReader<Uint8Array>;
} {
  const [a, b] = connPair();
  const incoming: MuxedStream[] = [];
  const muxer = yamux({ keepAliveIntervalMs: 0 }).createStreamMuxer(a, {
    direction: "inbound",
    onIncomingStream: (s) => incoming.push(s),
  }) as YamuxMuxer;
  const w = b.writable.getWriter();
  return {
    muxer,
    incoming,
    send: (...f) => w.write(concat(f)),
    reader: b.readable.getReader(),
  };
}

/** Read raw chunks until `n` frames arrived; returns frames and the number of chunks. */
async function readFrames(
  reader: ReadableStreamDefaultReader<Uint8Array>,
  n: number,
): Promise<{ frames: ReturnType<typeof parseFrames>; chunks: number }> {
  let buf: Uint8Array = new Uint8Array(0);
  let chunks = 0;
  for (;;) {
    const frames = completeFrames(buf);
    if (frames.length >= n) return { frames, chunks };
    const r = await reader.read();
    if (r.done) throw new Error("eof");
    chunks++;
    buf = concat([buf, r.value]);
  }
}

function completeFrames(buf: Uint8Array): ReturnType<typeof parseFrames> {
  let off = 0;
  for (;;) {
    const h = decodeHeader(buf, off);
    if (h === undefined) break;
    const len = 12 + (h.type === Data ? h.length : 0);
    if (off + len > buf.length) break;
    off += len;
  }
  // The session's RTT ping is noise here.
  return parseFrames(buf.subarray(0, off)).filter((f) => f.type !== FrameType.Ping);
}

describe("yamux options", () => {
  it("has the documented defaults", () => {
    const o = resolveYamuxOptions();
    assert.equal(o.maxStreams, 1024);
    assert.equal(o.initialStreamWindow, 256 * KiB);
    assert.equal(o.maxStreamWindow, 16 * 1024 * KiB);
    assert.equal(o.perConnectionBudget, 1024 * 256 * KiB + 64 * 1024 * KiB);
    assert.equal(o.keepAliveIntervalMs, 30_000);
    assert.equal(o.pingTimeoutMs, 15_000);
    assert.equal(o.maxAckBacklog, 256);
    assert.equal(o.maxMessageSize, 256 * KiB);
    assert.equal(o.maxPendingPingReplies, 16);
    assert.equal(o.goAwayTimeoutMs, 10_000);
    assert.equal(yamux().protocol, YAMUX_PROTOCOL_ID);
  });

  it("rejects bad values once, at construction", () => {
    assert.throws(() => yamux({ maxStreams: 0 }), RangeError);
    assert.throws(() => yamux({ initialStreamWindow: 1000 }), RangeError); // below 256 KiB
    assert.throws(
      () => yamux({ initialStreamWindow: 2 ** 20, maxStreamWindow: 2 ** 19 }),
      RangeError,
    );
    assert.throws(() => yamux({ maxStreamWindow: 2 ** 32 }), RangeError);
    assert.throws(() => yamux({ keepAliveIntervalMs: 2 ** 31 }), RangeError);
    assert.throws(() => yamux({ maxMessageSize: 0 }), RangeError);
    assert.throws(() => yamux({ pingTimeoutMs: 1.5 }), TypeError);
    assert.throws(() => yamux({ maxAckBacklog: "9" as unknown as number }), TypeError);
    assert.throws(() => yamux(null as unknown as undefined), TypeError);
  });
});

describe("yamux muxer", () => {
  it("sends window updates only as the application reads", async () => {
    const { muxer, incoming, send, reader } = setup();
    await send(frame(Data, SYN, 1, 256 * KiB, new Uint8Array(256 * KiB).fill(1)));
    const ack = await readFrames(reader, 1);
    assert.deepEqual(ack.frames[0], { type: WindowUpdate, flags: ACK, streamId: 1, length: 0 });
    // Nobody read yet: the remote has no credit left and gets none.
    await new Promise((r) => setTimeout(r, 20));
    assert.equal(muxer.session.stream(1)?.recvCredit, 0);
    assert.equal(muxer.session.stream(1)?.buffered, 256 * KiB);
    // Reading hands credit back once half the window was consumed.
    const r = incoming[0].readable.getReader();
    let got = 0;
    while (got < 256 * KiB) got += (await r.read()).value!.byteLength;
    const upd = await readFrames(reader, 1);
    const credit = upd.frames.reduce((n, f) => n + (f.type === WindowUpdate ? f.length : 0), 0);
    assert.ok(credit >= 128 * KiB && credit <= 256 * KiB, `credit ${credit}`);
    muxer.abort();
    await muxer.closed;
  });

  it("closeRead drops buffered data, discards the rest and returns the credit", async () => {
    const { muxer, incoming, send, reader } = setup();
    await send(frame(Data, SYN, 1, 100 * KiB));
    await readFrames(reader, 1);
    const s = incoming[0];
    s.closeRead();
    assert.equal(s.status, "closing");
    await assert.rejects(
      s.readable.getReader().read().then((x) => {
        if (x.done) throw new StreamClosedError("ended");
        return x;
      }),
    );
    await send(frame(Data, 0, 1, 100 * KiB));
    // The buffered 100 KiB are credited at closeRead, the dropped 100 KiB on arrival.
    const upd = await readFrames(reader, 2);
    assert.deepEqual(upd.frames.map((f) => [f.type, f.length]), [
      [WindowUpdate, 100 * KiB],
      [WindowUpdate, 100 * KiB],
    ]);
    // Writing still works after closeRead.
    const w = s.writable.getWriter();
    await w.write(new Uint8Array([1, 2]));
    const data = await readFrames(reader, 1);
    assert.deepEqual([...data.frames[0].payload!], [1, 2]);
    muxer.abort();
    await muxer.closed;
  });

  it("coalesces the frames of one tick into one connection write", async () => {
    const { muxer, incoming, send, reader } = setup();
    await send(...[1, 3, 5].map((id) => frame(WindowUpdate, SYN, id, 0)));
    await readFrames(reader, 3);
    // The writables are built on first access; they start a tick later.
    const writers = incoming.map((s) => s.writable.getWriter());
    await new Promise((r) => setTimeout(r, 5));
    // Same tick: three writes on three streams and a reset.
    const writes = writers.map((w, i) => w.write(new Uint8Array([i])));
    incoming[2].reset();
    const { frames, chunks } = await readFrames(reader, 4);
    assert.equal(chunks, 1);
    assert.deepEqual(frames.map((f) => [f.type, f.streamId, f.flags]), [
      [Data, 1, 0],
      [Data, 3, 0],
      [Data, 5, 0],
      [WindowUpdate, 5, Flag.RST],
    ]);
    await Promise.allSettled(writes);
    muxer.abort();
    await muxer.closed;
  });

  it("a write larger than the send window waits for a window update", async () => {
    const [a, b] = connPair();
    const muxer = yamux({ keepAliveIntervalMs: 0 }).createStreamMuxer(a, {
      direction: "outbound",
    }) as YamuxMuxer;
    const w = b.writable.getWriter();
    const reader = b.readable.getReader();
    const s = await muxer.newStream();
    let resolved = false;
    const big = new Uint8Array(300 * KiB).fill(9);
    const p = s.writable.getWriter().write(big).then(() => (resolved = true));
    const first = await readFrames(reader, 2); // SYN + the window's 256 KiB in one frame
    const data = first.frames.filter((f) => f.type === Data);
    assert.deepEqual(data.map((f) => f.length), [256 * KiB]);
    await new Promise((r) => setTimeout(r, 10));
    assert.equal(resolved, false);
    await w.write(frame(WindowUpdate, ACK, 1, 64 * KiB));
    await p;
    const rest = await readFrames(reader, 1);
    assert.equal(rest.frames[0].length, 300 * KiB - 256 * KiB);
    muxer.abort();
    await muxer.closed;
  });
});
