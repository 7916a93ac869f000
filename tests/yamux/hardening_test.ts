// HARDENING.md yamux rows, against the full muxer over an in-memory pipe whose other end is a
// hand-driven "raw" peer writing frame bytes (or a second muxer where that is the point).
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { concat } from "../../src/bytes.ts";
import {
  AbortError,
  ConnectionClosedError,
  StreamResetError,
  TimeoutError,
} from "../../src/errors.ts";
import type { MuxedStream } from "../../src/muxer.ts";
import { connPair } from "../helpers/conn.ts";
import type { WebConnection } from "../helpers/conn.ts";
import { yamux, type YamuxOptions, YamuxProtocolError } from "../../protocols/yamux/mod.ts";
import { encodeHeader } from "../../protocols/yamux/codec.ts";
import { Flag, FrameType } from "../../protocols/yamux/constants.ts";
import type { YamuxMuxer } from "../../protocols/yamux/service.ts";
import { decodeHeader } from "../../protocols/yamux/codec.ts";
import { type Frame, frame } from "./session_helpers.ts";

const { Data, WindowUpdate, Ping, GoAway } = FrameType;
const { SYN, ACK, FIN, RST } = Flag;
const KiB = 1024;

/** The far end of the pipe, driven by hand. */
class RawPeer {
  readonly conn: WebConnection;
  readonly #w: WritableStreamDefaultWriter<Uint8Array>;
  readonly #r: ReadableStreamDefaultReader<Uint8Array>;
  #buf: Uint8Array = new Uint8Array(0);
  constructor(conn: WebConnection) {
    this.conn = conn;
    this.#w = conn.writable.getWriter();
    this.#r = conn.readable.getReader();
  }
  send(...frames: Uint8Array[]): Promise<void> {
    return this.#w.write(concat(frames)).catch(() => {});
  }
  /** Close our writing side (clean EOF for the muxer). */
  close(): Promise<void> {
    return this.#w.close().catch(() => {});
  }
  /** Next frame from the muxer, or "eof" when it closed its side. */
  async next(): Promise<Frame | "eof"> {
    for (;;) {
      const h = decodeHeader(this.#buf);
      const need = h === undefined ? 12 : 12 + (h.type === Data ? h.length : 0);
      if (h !== undefined && this.#buf.byteLength >= need) {
        const f: Frame = h.type === Data ? { ...h, payload: this.#buf.slice(12, need) } : h;
        this.#buf = this.#buf.subarray(need);
        return f;
      }
      const r = await this.#r.read().catch(() => ({ done: true as const, value: undefined }));
      if (r.done) return "eof";
      this.#buf = concat([this.#buf, r.value]);
    }
  }
  /** Frames until one matches. */
  async until(pred: (f: Frame) => boolean): Promise<Frame> {
    for (;;) {
      const f = await this.next();
      if (f === "eof") throw new Error("muxer closed before the expected frame");
      if (pred(f)) return f;
    }
  }
  /** Everything until EOF. */
  async rest(): Promise<Frame[]> {
    const out: Frame[] = [];
    for (;;) {
      const f = await this.next();
      if (f === "eof") return out;
      out.push(f);
    }
  }
}

interface Setup {
  muxer: YamuxMuxer;
  peer: RawPeer;
  incoming: MuxedStream[];
  closeError: Promise<Error | undefined>;
}

/** Our muxer on one end (server unless `client`), a raw peer on the other. */
function setup(options: YamuxOptions = {}, client = false): Setup {
  const [a, b] = connPair();
  const incoming: MuxedStream[] = [];
  let done!: (e: Error | undefined) => void;
  const closeError = new Promise<Error | undefined>((r) => (done = r));
  const muxer = yamux({ keepAliveIntervalMs: 0, ...options }).createStreamMuxer(a, {
    direction: client ? "outbound" : "inbound",
    onIncomingStream: (s) => incoming.push(s),
    onClose: done,
  }) as YamuxMuxer;
  return { muxer, peer: new RawPeer(b), incoming, closeError };
}

const isGoAway = (code: number) => (f: Frame) => f.type === GoAway && f.length === code;

describe("yamux hardening: protocol violations → GoAway(1) + close, never an exception", () => {
  const cases: [string, Uint8Array[]][] = [
    ["bad version", [new Uint8Array([1, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 0])]],
    ["unknown type", [new Uint8Array([0, 9, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0])]],
    ["Ping on a stream id", [frame(Ping, SYN, 1, 0)]],
    ["GoAway on a stream id", [frame(GoAway, 0, 1, 0)]],
    ["Data on stream 0", [frame(Data, 0, 0, 4)]],
    ["WindowUpdate on stream 0", [frame(WindowUpdate, 0, 0, 4)]],
    ["SYN with our parity", [frame(WindowUpdate, SYN, 2, 0)]],
    ["duplicate SYN", [frame(WindowUpdate, SYN, 1, 0), frame(WindowUpdate, SYN, 1, 0)]],
    ["data after FIN", [frame(Data, SYN | FIN, 1, 1), frame(Data, 0, 1, 1)]],
    ["data beyond the advertised window", [frame(Data, SYN, 1, 256 * KiB + 1)]],
    ["a window credit past 2^32-1", [
      frame(WindowUpdate, SYN, 1, 0),
      frame(WindowUpdate, 0, 1, 0xffffffff),
    ]],
    ["a 4 GiB data length", [
      encodeHeader({ type: Data, flags: 0, streamId: 1, length: 2 ** 32 - 1 }),
    ]],
  ];
  for (const [name, frames] of cases) {
    it(name, async () => {
      const { muxer, peer, incoming, closeError } = setup();
      await peer.send(...frames);
      const frames2 = await peer.rest(); // reads until the muxer closed its side
      assert.deepEqual(frames2.find((f) => f.type === GoAway), {
        type: GoAway,
        flags: 0,
        streamId: 0,
        length: 1,
      });
      const err = await closeError;
      assert.ok(err instanceof YamuxProtocolError, String(err));
      await muxer.closed;
      assert.equal(muxer.streams.length, 0);
      for (const s of incoming) assert.equal(s.status, "reset");
      await assert.rejects(muxer.newStream(), ConnectionClosedError);
    });
  }

  it("a stream the remote opened is reset with a reset-class error on a protocol error", async () => {
    const { muxer, peer, incoming, closeError } = setup();
    await peer.send(frame(Data, SYN, 1, 3, new Uint8Array([1, 2, 3])));
    await peer.until((f) => f.type === WindowUpdate && (f.flags & ACK) !== 0);
    const r = incoming[0].readable.getReader();
    assert.deepEqual([...(await r.read()).value!], [1, 2, 3]);
    const pending = r.read();
    await peer.send(frame(Ping, SYN, 5, 0));
    await assert.rejects(pending, StreamResetError);
    assert.ok((await closeError) instanceof YamuxProtocolError);
    await muxer.closed;
  });
});

describe("yamux hardening: limits", () => {
  it("a SYN beyond maxStreams resets that stream only", async () => {
    const { muxer, peer, incoming } = setup({ maxStreams: 2 });
    await peer.send(...[1, 3, 5].map((id) => frame(WindowUpdate, SYN, id, 0)));
    const rst = await peer.until((f) => (f.flags & RST) !== 0);
    assert.equal(rst.streamId, 5);
    assert.equal(incoming.length, 2);
    // The session is fine: a ping is answered, and a freed slot is usable again.
    await peer.send(frame(WindowUpdate, RST, 1, 0), frame(WindowUpdate, SYN, 7, 0));
    await peer.send(frame(Ping, SYN, 0, 77));
    await peer.until((f) => f.type === Ping && f.length === 77);
    assert.deepEqual(incoming.map((s) => s.id), ["1", "3", "7"]);
    assert.equal(muxer.streams.length, 2);
    muxer.abort();
    await muxer.closed;
  });

  it("a remote filling every stream's window while the app never reads: bounded by window × streams", async () => {
    const { muxer, peer, incoming, closeError } = setup({
      maxStreams: 64,
      perConnectionBudget: 16 * 256 * KiB,
    });
    // 20 streams, only 16 fit the budget; each is filled to its window exactly.
    const payload = new Uint8Array(256 * KiB);
    for (let id = 1; id <= 39; id += 2) {
      await peer.send(frame(Data, SYN, id, payload.length, payload));
    }
    await peer.send(frame(Ping, SYN, 0, 1));
    await peer.until((f) => f.type === Ping);
    assert.equal(incoming.length, 16);
    const buffered = [...muxer.streams].reduce(
      (n, s) => n + (muxer.session.stream(Number(s.id))?.buffered ?? 0),
      0,
    );
    assert.equal(buffered, 16 * 256 * KiB);
    assert.ok(muxer.session.advertisedWindow <= 16 * 256 * KiB);
    // One byte more on any accepted stream is over its window: protocol error.
    await peer.send(frame(Data, 0, 1, 1));
    assert.ok((await closeError) instanceof YamuxProtocolError);
  });

  it("many streams filling their windows against a non-reading app: senders block", async () => {
    const [a, b] = connPair();
    const accepted: MuxedStream[] = [];
    const client = yamux({ keepAliveIntervalMs: 0 }).createStreamMuxer(a, {
      direction: "outbound",
    });
    const server = yamux({ keepAliveIntervalMs: 0 }).createStreamMuxer(b, {
      direction: "inbound",
      onIncomingStream: (s) => accepted.push(s), // never read
    }) as YamuxMuxer;
    const n = 32;
    const progress = new Array(n).fill(0);
    const chunk = new Uint8Array(64 * KiB);
    const writers = Array.from({ length: n }, async (_, i) => {
      const s = await client.newStream();
      const w = s.writable.getWriter();
      for (let k = 0; k < 32; k++) { // 2 MiB each, far more than a window
        await w.write(chunk);
        progress[i] += chunk.length;
      }
    });
    let last = -1;
    while (progress.reduce((x, y) => x + y, 0) !== last) {
      last = progress.reduce((x, y) => x + y, 0);
      await new Promise((r) => setTimeout(r, 30));
    }
    assert.equal(accepted.length, n);
    for (const p of progress) assert.ok(p <= 256 * KiB, `a writer got past its window: ${p}`);
    const buffered = accepted.reduce(
      (t, s) => t + (server.session.stream(Number(s.id))?.buffered ?? 0),
      0,
    );
    assert.ok(buffered <= n * 256 * KiB, `buffered ${buffered}`);
    client.abort();
    server.abort();
    await Promise.allSettled(writers);
    await Promise.all([client.closed, server.closed]);
  });

  it("a ping flood whose replies are never read keeps a bounded reply queue", async () => {
    const { muxer, peer } = setup({ maxPendingPingReplies: 8 });
    const pings = concat(Array.from({ length: 1000 }, (_, i) => frame(Ping, SYN, 0, i)));
    // 50 000 pings, never reading a reply; the pipe's own buffer fills, then the outbox holds
    // at most 8 replies.
    for (let k = 0; k < 50; k++) await peer.send(pings);
    await new Promise((r) => setTimeout(r, 20));
    assert.ok(muxer.session.outbox.size <= 8 * 12, `outbox ${muxer.session.outbox.size}`);
    assert.equal(muxer.session.failure, undefined);
    muxer.abort();
    await muxer.closed;
  });

  it("newStream() waits while the ACK backlog is full; its signal aborts the wait", async () => {
    const { muxer, peer } = setup({ maxAckBacklog: 2 }, true);
    const s1 = await muxer.newStream();
    await muxer.newStream();
    const ac = new AbortController();
    const waiting = muxer.newStream({ signal: ac.signal });
    ac.abort(new AbortError());
    await assert.rejects(waiting, AbortError);
    let opened = false;
    const third = muxer.newStream().then((s) => (opened = true, s));
    await new Promise((r) => setTimeout(r, 10));
    assert.equal(opened, false);
    await peer.send(frame(WindowUpdate, ACK, Number(s1.id), 0));
    const s3 = await third;
    assert.equal(s3.id, "5");
    muxer.abort();
    await muxer.closed;
  });

  it("an incoming-stream handler that throws gets its stream reset, nothing leaks", async () => {
    const [a, b] = connPair();
    const muxer = yamux({ keepAliveIntervalMs: 0 }).createStreamMuxer(a, {
      direction: "inbound",
      onIncomingStream: () => {
        throw new Error("handler bug");
      },
    });
    const peer = new RawPeer(b);
    await peer.send(frame(Data, SYN, 1, 2, new Uint8Array([1, 2])));
    const rst = await peer.until((f) => (f.flags & RST) !== 0);
    assert.equal(rst.streamId, 1);
    assert.equal(muxer.streams.length, 0);
    muxer.abort();
    await muxer.closed;
  });
});

describe("yamux hardening: keep-alive and faults", () => {
  it("a peer that never answers pings: the session closes with TimeoutError, streams reset", async () => {
    const { muxer, peer, closeError } = setup(
      { keepAliveIntervalMs: 20, pingTimeoutMs: 40 },
      true,
    );
    const s = await muxer.newStream();
    const read = s.readable.getReader().read();
    const first = await peer.until((f) => f.type === Ping);
    assert.equal(first.flags, SYN);
    assert.ok((await closeError) instanceof TimeoutError);
    await assert.rejects(read, StreamResetError);
    await muxer.closed;
    assert.equal(muxer.streams.length, 0);
  });

  it("answered pings keep the session alive", async () => {
    const { muxer, peer } = setup({ keepAliveIntervalMs: 10, pingTimeoutMs: 30 }, true);
    for (let i = 0; i < 4; i++) {
      const p = await peer.until((f) => f.type === Ping);
      await peer.send(frame(Ping, ACK, 0, p.length));
    }
    assert.equal(muxer.session.failure, undefined);
    assert.ok(muxer.session.rtt !== undefined);
    muxer.abort();
    await muxer.closed;
  });

  it("the connection ending while streams are open fails them with a reset error, not EOF", async () => {
    const { muxer, peer, closeError } = setup();
    await peer.send(frame(WindowUpdate, SYN, 1, 0), frame(WindowUpdate, SYN, 3, 0));
    await peer.until((f) => f.streamId === 3);
    const reads = muxer.streams.map((s) => s.readable.getReader().read());
    await peer.close(); // clean EOF from the remote, streams still open
    for (const r of reads) await assert.rejects(r, StreamResetError);
    assert.ok((await closeError) instanceof ConnectionClosedError);
    assert.equal(muxer.streams.length, 0);
  });

  it("a remote GoAway stops new outbound streams; existing ones continue", async () => {
    const { muxer, peer } = setup({}, true);
    const s = await muxer.newStream();
    await peer.send(frame(WindowUpdate, ACK, 1, 0), frame(GoAway, 0, 0, 0));
    await peer.send(frame(Data, 0, 1, 2, new Uint8Array([5, 6])));
    const r = s.readable.getReader();
    assert.deepEqual([...(await r.read()).value!], [5, 6]);
    await assert.rejects(muxer.newStream(), ConnectionClosedError);
    const w = s.writable.getWriter();
    await w.write(new Uint8Array([9]));
    const f = await peer.until((x) => x.type === Data);
    assert.deepEqual([...f.payload!], [9]);
    muxer.abort();
    await muxer.closed;
  });

  it("close() sends GoAway(0), refuses inbound SYNs, and ends with the connection", async () => {
    const { muxer, peer, closeError } = setup();
    await peer.send(frame(WindowUpdate, SYN, 1, 0));
    await peer.until((f) => f.streamId === 1);
    const closing = muxer.close();
    await peer.until(isGoAway(0));
    await peer.send(frame(WindowUpdate, SYN, 3, 0));
    assert.equal((await peer.until((f) => f.streamId === 3)).flags, RST);
    await peer.send(frame(WindowUpdate, FIN, 1, 0));
    await muxer.streams[0].close();
    const rest = await peer.rest();
    assert.ok(rest.some((f) => f.streamId === 1 && f.flags === FIN));
    await peer.close();
    await closing;
    assert.equal(await closeError, undefined);
  });
});
