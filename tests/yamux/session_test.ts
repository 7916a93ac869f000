// Unit tests of the sans-IO yamux session with an injected clock.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { concat } from "../../src/bytes.ts";
import { LimitExceededError, StreamClosedError, TimeoutError } from "../../src/errors.ts";
import { YamuxProtocolError } from "../../protocols/yamux/mod.ts";
import { encodeHeader } from "../../protocols/yamux/codec.ts";
import { Flag, FrameType } from "../../protocols/yamux/constants.ts";
import { frame, type Harness, harness } from "./session_helpers.ts";
import type { YamuxOptions } from "../../protocols/yamux/options.ts";

const { Data, WindowUpdate, Ping, GoAway } = FrameType;
const { SYN, ACK, FIN, RST } = Flag;
const KiB = 1024;

/** A client session with its RTT measured (`rttMs`) and stream 1 open and acknowledged. */
function tunedStream(rttMs: number, options: YamuxOptions = {}): Harness {
  const c = harness(true, options, 0, true);
  c.sent(); // the initial ping, opaque 1, sent at t=0
  c.session.receive(frame(Ping, ACK, 0, 1), rttMs);
  assert.equal(c.session.rtt, rttMs);
  c.session.openStream(0);
  c.session.receive(frame(WindowUpdate, ACK, 1, 0), rttMs);
  c.sent();
  return c;
}

/**
 * A remote sender on a link of `rttMs` and `bytesPerMs` sends on stream 1 as its window allows,
 * 1 ms steps; our side reads on arrival (except while `stall(t)`) and its WindowUpdates reach the
 * sender half an RTT later. Returns our final receive window.
 */
function simulateLink(
  c: Harness,
  o: {
    rttMs: number;
    bytesPerMs: number;
    ms: number;
    stall?: (t: number) => boolean;
    startMs?: number;
  },
): { recvMax: number } {
  const start = o.startMs ?? o.rttMs;
  let credit = 256 * KiB;
  let unread = 0;
  const inFlight: { at: number; bytes: number }[] = [];
  const updates: { at: number; bytes: number }[] = [];
  for (let t = start; t < start + o.ms; t++) {
    while (updates.length > 0 && updates[0].at <= t) credit += updates.shift()!.bytes;
    const n = Math.min(credit, o.bytesPerMs);
    if (n > 0) {
      credit -= n;
      inFlight.push({ at: t + o.rttMs / 2, bytes: n });
    }
    let arrived = 0;
    while (inFlight.length > 0 && inFlight[0].at <= t) arrived += inFlight.shift()!.bytes;
    // Data frames of at most 256 KiB each (the default maxMessageSize).
    for (let left = arrived; left > 0; left -= 256 * KiB) {
      c.session.receive(frame(Data, 0, 1, Math.min(left, 256 * KiB)), t);
    }
    unread += arrived;
    if (unread > 0 && !(o.stall?.(t) ?? false)) {
      c.session.consume(1, unread, t);
      unread = 0;
    }
    for (const f of c.sent()) {
      if (f.type === WindowUpdate && f.streamId === 1) {
        updates.push({ at: t + o.rttMs / 2, bytes: f.length });
      }
    }
    assert.equal(c.errors.length, 0, String(c.errors[0]));
  }
  return { recvMax: c.session.stream(1)!.recvMax };
}

describe("yamux session: stream ids and opening", () => {
  it("clients use odd ids, servers even; opening sends WindowUpdate(SYN)", () => {
    const c = harness(true);
    assert.equal(c.session.openStream(0), 1);
    assert.equal(c.session.openStream(0), 3);
    assert.deepEqual(c.sent(), [
      { type: WindowUpdate, flags: SYN, streamId: 1, length: 0 },
      { type: WindowUpdate, flags: SYN, streamId: 3, length: 0 },
    ]);
    const s = harness(false);
    assert.equal(s.session.openStream(0), 2);
    assert.equal(s.session.openStream(0), 4);
  });

  it("grants a larger initial window with the SYN and the ACK", () => {
    const c = harness(true, { initialStreamWindow: 1024 * KiB });
    c.session.openStream(0);
    assert.deepEqual(c.sent(), [
      { type: WindowUpdate, flags: SYN, streamId: 1, length: 768 * KiB },
    ]);
    assert.equal(c.session.stream(1)?.recvCredit, 1024 * KiB);
    const s = harness(false, { initialStreamWindow: 512 * KiB });
    s.session.receive(frame(WindowUpdate, SYN, 1, 0), 0);
    assert.deepEqual(s.sent(), [
      { type: WindowUpdate, flags: ACK, streamId: 1, length: 256 * KiB },
    ]);
  });

  it("accepts an inbound SYN, ACKs it and adds the remote's extra credit", () => {
    const s = harness(false);
    s.session.receive(frame(WindowUpdate, SYN, 1, 1000), 0);
    assert.deepEqual(s.events, ["open 1", "window 1"]);
    assert.deepEqual(s.sent(), [{ type: WindowUpdate, flags: ACK, streamId: 1, length: 0 }]);
    assert.equal(s.session.sendWindow(1), 256 * KiB + 1000);
  });

  it("a Data frame with SYN opens the stream and delivers its payload", () => {
    const s = harness(false);
    s.session.receive(frame(Data, SYN, 1, 3, new Uint8Array([7, 8, 9])), 0);
    assert.deepEqual(s.events, ["open 1"]);
    assert.deepEqual([...concat(s.data.get(1)!)], [7, 8, 9]);
    assert.equal(s.session.stream(1)?.buffered, 3);
  });
});

describe("yamux session: flow control", () => {
  it("splits writes at maxMessageSize and stops at the send window", () => {
    const c = harness(true, { maxMessageSize: 100 * KiB });
    c.session.openStream(0);
    c.sent();
    const data = new Uint8Array(300 * KiB).map((_, i) => i % 251);
    assert.equal(c.session.write(1, data), 256 * KiB);
    const frames = c.sent();
    assert.deepEqual(frames.map((f) => [f.type, f.streamId, f.length]), [
      [Data, 1, 100 * KiB],
      [Data, 1, 100 * KiB],
      [Data, 1, 56 * KiB],
    ]);
    assert.deepEqual(concat(frames.map((f) => f.payload!)), data.subarray(0, 256 * KiB));
    assert.equal(c.session.write(1, data.subarray(256 * KiB)), 0);
    c.session.receive(frame(WindowUpdate, ACK, 1, 1000), 0);
    assert.deepEqual(c.events, ["backlog", "window 1"]);
    assert.equal(c.session.write(1, data.subarray(256 * KiB)), 1000);
  });

  it("credits consumed bytes back once an eighth of the window was read", () => {
    const s = harness(false);
    s.session.receive(frame(WindowUpdate, SYN, 1, 0), 0);
    s.sent();
    s.session.receive(frame(Data, 0, 1, 256 * KiB), 1);
    assert.equal(s.session.stream(1)?.recvCredit, 0);
    s.session.consume(1, 20 * KiB, 2);
    assert.deepEqual(s.sent(), [], "less than an eighth consumed: no update yet");
    s.session.consume(1, 12 * KiB, 3);
    assert.deepEqual(s.sent(), [{ type: WindowUpdate, flags: 0, streamId: 1, length: 32 * KiB }]);
    s.session.consume(1, 98 * KiB, 3);
    assert.deepEqual(s.sent(), [{ type: WindowUpdate, flags: 0, streamId: 1, length: 98 * KiB }]);
    assert.equal(s.session.stream(1)?.recvCredit, 130 * KiB);
    // The sender may use exactly the credit it got, not a byte more.
    s.session.receive(frame(Data, 0, 1, 130 * KiB), 4);
    assert.equal(s.errors.length, 0);
    s.session.receive(frame(Data, 0, 1, 1), 5);
    assert.ok(s.errors[0] instanceof YamuxProtocolError);
    assert.deepEqual(s.sent(), [{ type: GoAway, flags: 0, streamId: 0, length: 1 }]);
  });

  it("auto-tunes: a window-limited stream keeps growing its window", () => {
    // An unlimited link: the sender is held back by the window alone.
    const c = tunedStream(10);
    const { recvMax } = simulateLink(c, { rttMs: 10, bytesPerMs: Infinity, ms: 400 });
    assert.ok(recvMax >= 4 * 1024 * KiB, `window ${recvMax} after 400 ms at 10 ms RTT`);
  });

  it("auto-tunes towards 2 x the BDP of a link-limited stream, and stops there", () => {
    // 100 Mbit/s, 20 ms: BDP 250 kB; TUNING_FACTOR x rate x RTT = 500 kB.
    const c = tunedStream(20);
    const { recvMax } = simulateLink(c, { rttMs: 20, bytesPerMs: 12_500, ms: 3_000 });
    // With credit in eighths, 8/7 x BDP fills the link.
    assert.ok(recvMax >= 1.5 * 250_000, `window ${recvMax} < 1.5 x BDP: the link is not filled`);
    assert.ok(recvMax <= 2 * 250_000, `window ${recvMax} > 2 x BDP`);
  });

  it("tunes by the least RTT seen: a stream's SYN -> ACK lowers a ping inflated by a busy loop", () => {
    // The session's first ping took 60 ms (a stalled event loop); the link's RTT is 20 ms, which
    // the stream's SYN -> ACK shows. Tuning by 60 ms would settle near 6 x BDP.
    const c = harness(true, {}, 0, true);
    c.sent();
    c.session.receive(frame(Ping, ACK, 0, 1), 60);
    c.session.openStream(100);
    c.session.receive(frame(WindowUpdate, ACK, 1, 0), 120);
    c.sent();
    assert.equal(c.session.rtt, 60, "the last ping's RTT is still reported");
    const { recvMax } = simulateLink(c, { rttMs: 20, bytesPerMs: 12_500, ms: 3_000, startMs: 120 });
    assert.ok(recvMax <= 2 * 250_000, `window ${recvMax} > 2 x BDP`);
  });

  it("a reader that stalls and then reads a burst does not grow the window past 2 x BDP", () => {
    // The reader stalls 60 ms every 300 ms, then reads everything at once: each burst looks like a
    // fast consumer. The old rule doubled on every burst (8 MiB on a 250 kB BDP in the WAN bench).
    const c = tunedStream(20);
    const { recvMax } = simulateLink(c, {
      rttMs: 20,
      bytesPerMs: 12_500,
      ms: 3_000,
      stall: (t) => t % 300 >= 240,
    });
    assert.ok(recvMax <= 2 * 250_000, `window ${recvMax} > 2 x BDP after stalls`);
  });

  it("does not auto-tune without an RTT measurement", () => {
    const c = harness(true);
    c.session.openStream(0);
    c.session.receive(frame(Data, ACK, 1, 256 * KiB), 0);
    c.sent();
    c.session.consume(1, 256 * KiB, 0);
    assert.deepEqual(c.sent(), [{ type: WindowUpdate, flags: 0, streamId: 1, length: 256 * KiB }]);
  });

  for (
    const [name, opts, expected] of [
      ["maxStreamWindow", { maxStreamWindow: 384 * KiB } as YamuxOptions, 384 * KiB],
      // Budget: 2 × 256 KiB reserved for maxStreams, 64 KiB left for growth.
      ["the per-connection budget", { maxStreams: 2, perConnectionBudget: 576 * KiB }, 320 * KiB],
    ] as const
  ) {
    it(`bounds auto-tuning by ${name}`, () => {
      const c = tunedStream(10, opts);
      const { recvMax } = simulateLink(c, { rttMs: 10, bytesPerMs: Infinity, ms: 400 });
      assert.equal(recvMax, expected);
      assert.equal(c.session.advertisedWindow, expected);
    });
  }

  it("a credit that would pass 2^32-1 is a protocol error", () => {
    const c = harness(true);
    c.session.openStream(0);
    c.sent();
    c.session.receive(frame(WindowUpdate, ACK, 1, 0xffffffff - 256 * KiB), 0);
    assert.equal(c.errors.length, 0);
    assert.equal(c.session.sendWindow(1), 0xffffffff);
    c.session.receive(frame(WindowUpdate, 0, 1, 1), 0);
    assert.ok(c.errors[0] instanceof YamuxProtocolError);
    assert.deepEqual(c.sent(), [{ type: GoAway, flags: 0, streamId: 0, length: 1 }]);
  });

  it("after closeRead, data is dropped and its credit returned at once", () => {
    const s = harness(false);
    s.session.receive(frame(WindowUpdate, SYN, 1, 0), 0);
    s.sent();
    s.session.closeRead(1, 0);
    s.session.receive(frame(Data, 0, 1, 200 * KiB), 0);
    assert.equal(s.data.get(1), undefined);
    assert.deepEqual(s.sent(), [{ type: WindowUpdate, flags: 0, streamId: 1, length: 200 * KiB }]);
  });
});

describe("yamux session: parsing", () => {
  it("parses frames split at every byte boundary", () => {
    const s = harness(false);
    const payload = new Uint8Array(1000).map((_, i) => i & 0xff);
    const bytes = concat([
      frame(WindowUpdate, SYN, 1, 0),
      frame(Data, 0, 1, 1000, payload),
      frame(Ping, SYN, 0, 42),
      frame(Data, FIN, 1, 0),
    ]);
    for (let i = 0; i < bytes.length; i++) s.session.receive(bytes.subarray(i, i + 1), 0);
    assert.deepEqual(concat(s.data.get(1)!), payload);
    assert.deepEqual(s.events, ["open 1", "fin 1"]);
    assert.deepEqual(s.sent(), [
      { type: WindowUpdate, flags: ACK, streamId: 1, length: 0 },
      { type: Ping, flags: ACK, streamId: 0, length: 42 },
    ]);
  });

  it("delivers payload as views of the received chunk (no copy)", () => {
    const s = harness(false);
    const bytes = concat([frame(WindowUpdate, SYN, 1, 0), frame(Data, 0, 1, 4)]);
    s.session.receive(bytes, 0);
    const view = s.data.get(1)![0];
    assert.equal(view.buffer, bytes.buffer);
    assert.equal(view.byteOffset, 24);
  });

  it("ignores frames for unknown streams (already freed) without buffering", () => {
    const s = harness(false);
    s.session.receive(frame(Data, 0, 9, 100), 0);
    s.session.receive(frame(WindowUpdate, 0, 9, 100), 0);
    s.session.receive(frame(WindowUpdate, RST, 9, 0), 0);
    assert.deepEqual(s.events, []);
    assert.equal(s.errors.length, 0);
    assert.deepEqual(s.sent(), []);
  });
});

describe("yamux session: lifecycle", () => {
  it("frees a stream when both sides sent FIN", () => {
    const s = harness(false);
    s.session.receive(frame(WindowUpdate, SYN, 1, 0), 0);
    s.session.receive(frame(Data, FIN, 1, 2), 0);
    assert.deepEqual(s.events, ["open 1", "fin 1"]);
    assert.equal(s.session.streamCount, 1);
    s.sent();
    s.session.closeWrite(1);
    s.session.closeWrite(1);
    assert.deepEqual(s.sent(), [{ type: WindowUpdate, flags: FIN, streamId: 1, length: 0 }]);
    assert.deepEqual(s.events, ["open 1", "fin 1", "freed 1"]);
    assert.equal(s.session.streamCount, 0);
    assert.equal(s.session.advertisedWindow, 0);
  });

  it("a remote RST resets and frees; a local reset sends RST", () => {
    const s = harness(false);
    s.session.receive(concat([frame(WindowUpdate, SYN, 1, 0), frame(WindowUpdate, SYN, 3, 0)]), 0);
    s.session.receive(frame(WindowUpdate, RST, 1, 0), 0);
    assert.deepEqual(s.events, ["open 1", "open 3", "reset 1", "freed 1"]);
    s.sent();
    s.session.resetStream(3);
    assert.deepEqual(s.sent(), [{ type: WindowUpdate, flags: RST, streamId: 3, length: 0 }]);
    assert.equal(s.session.streamCount, 0);
    assert.throws(() => s.session.write(3, new Uint8Array(1)), Error);
  });

  it("GoAway from the remote stops new outbound streams; ours refuses inbound ones", () => {
    const c = harness(true);
    c.session.receive(frame(GoAway, 0, 0, 0), 0);
    assert.deepEqual(c.events, ["goaway 0"]);
    assert.throws(() => c.session.openStream(0), StreamClosedError);
    const s = harness(false);
    s.session.goAway();
    s.session.goAway();
    s.session.receive(frame(WindowUpdate, SYN, 1, 0), 0);
    assert.deepEqual(s.sent(), [
      { type: GoAway, flags: 0, streamId: 0, length: 0 },
      { type: WindowUpdate, flags: RST, streamId: 1, length: 0 },
    ]);
    assert.deepEqual(s.events, []);
  });
});

describe("yamux session: limits", () => {
  it("ACK backlog: opening past maxAckBacklog is refused until an ACK arrives", () => {
    const c = harness(true, { maxAckBacklog: 2 });
    c.session.openStream(0);
    c.session.openStream(0);
    assert.equal(c.session.ackBacklogFull, true);
    assert.throws(
      () => c.session.openStream(0),
      (e: unknown) => e instanceof LimitExceededError && e.limit === "maxAckBacklog",
    );
    c.session.receive(frame(WindowUpdate, ACK, 1, 0), 0);
    assert.deepEqual(c.events, ["backlog"]);
    assert.equal(c.session.ackBacklog, 1);
    assert.equal(c.session.openStream(0), 5);
    // A stream refused with RST leaves the backlog too.
    c.session.receive(frame(WindowUpdate, RST, 3, 0), 0);
    assert.equal(c.session.ackBacklog, 1);
  });

  it("an inbound SYN beyond maxStreams is reset; the session stays up", () => {
    const s = harness(false, { maxStreams: 2 });
    s.session.receive(concat([frame(WindowUpdate, SYN, 1, 0), frame(WindowUpdate, SYN, 3, 0)]), 0);
    s.sent();
    s.session.receive(frame(Data, SYN, 5, 10), 0);
    assert.deepEqual(s.sent(), [{ type: WindowUpdate, flags: RST, streamId: 5, length: 0 }]);
    assert.deepEqual(s.events, ["open 1", "open 3"]);
    assert.equal(s.data.get(5), undefined);
    assert.equal(s.errors.length, 0);
    s.session.receive(frame(WindowUpdate, RST, 1, 0), 0);
    s.session.receive(frame(WindowUpdate, SYN, 7, 0), 0);
    assert.ok(s.events.includes("open 7"));
    assert.throws(() => {
      s.session.openStream(0);
      s.session.openStream(0);
      s.session.openStream(0);
    }, (e: unknown) => e instanceof LimitExceededError && e.limit === "maxStreams");
  });

  it("an inbound SYN whose window does not fit the budget is reset", () => {
    const s = harness(false, { maxStreams: 10, perConnectionBudget: 512 * KiB });
    s.session.receive(
      concat([1, 3, 5].map((id) => frame(WindowUpdate, SYN, id, 0))),
      0,
    );
    assert.deepEqual(s.events, ["open 1", "open 3"]);
    assert.deepEqual(s.sent().at(-1), { type: WindowUpdate, flags: RST, streamId: 5, length: 0 });
    assert.equal(s.session.advertisedWindow, 512 * KiB);
    assert.throws(
      () => s.session.openStream(0),
      (e: unknown) => e instanceof LimitExceededError && e.limit === "perConnectionBudget",
    );
  });

  it("answers pings but queues at most maxPendingPingReplies until the outbox is taken", () => {
    const s = harness(false, { maxPendingPingReplies: 4 });
    s.session.receive(concat(Array.from({ length: 100 }, (_, i) => frame(Ping, SYN, 0, i))), 0);
    assert.equal(s.session.outbox.size, 4 * 12);
    assert.deepEqual(s.sent().map((f) => f.length), [0, 1, 2, 3]);
    s.session.receive(frame(Ping, SYN, 0, 500), 0);
    assert.deepEqual(s.sent(), [{ type: Ping, flags: ACK, streamId: 0, length: 500 }]);
    assert.equal(s.errors.length, 0);
  });
});

describe("yamux session: keep-alive (injected clock)", () => {
  it("pings every interval and fails when a ping goes unanswered for pingTimeoutMs", () => {
    const c = harness(true, { keepAliveIntervalMs: 1000, pingTimeoutMs: 500 }, 0, true);
    assert.deepEqual(c.sent(), [{ type: Ping, flags: SYN, streamId: 0, length: 1 }]);
    assert.equal(c.session.nextTimeout(), 500);
    c.session.receive(frame(Ping, ACK, 0, 1), 100);
    assert.equal(c.session.rtt, 100);
    // Two more RTT samples at start, each sent once the previous one is answered.
    assert.deepEqual(c.sent(), [{ type: Ping, flags: SYN, streamId: 0, length: 2 }]);
    c.session.receive(frame(Ping, ACK, 0, 2), 130);
    assert.deepEqual(c.sent(), [{ type: Ping, flags: SYN, streamId: 0, length: 3 }]);
    c.session.receive(frame(Ping, ACK, 0, 3), 170);
    assert.equal(c.session.rtt, 40);
    assert.deepEqual(c.sent(), []);
    assert.equal(c.session.nextTimeout(), 1000);
    c.session.tick(999);
    assert.deepEqual(c.sent(), []);
    c.session.tick(1000);
    assert.deepEqual(c.sent(), [{ type: Ping, flags: SYN, streamId: 0, length: 4 }]);
    assert.equal(c.session.nextTimeout(), 1500);
    c.session.receive(frame(Ping, ACK, 0, 99), 1200); // wrong opaque: not our ping
    c.session.tick(1499);
    assert.equal(c.errors.length, 0);
    c.session.tick(1500);
    assert.ok(c.errors[0] instanceof TimeoutError);
    assert.equal(c.session.nextTimeout(), undefined);
  });

  it("tunes by the least of the startup pings' RTTs", () => {
    // The first ping waited for the other side's handshake (60 ms); the next two show 20 ms.
    const c = harness(true, {}, 0, true);
    c.sent();
    c.session.receive(frame(Ping, ACK, 0, 1), 60);
    c.session.receive(frame(Ping, ACK, 0, 2), 80);
    c.session.receive(frame(Ping, ACK, 0, 3), 101);
    c.session.openStream(101);
    c.session.receive(frame(WindowUpdate, ACK, 1, 0), 200); // a slow ACK: 99 ms
    c.sent();
    const { recvMax } = simulateLink(c, { rttMs: 20, bytesPerMs: 12_500, ms: 3_000, startMs: 200 });
    assert.ok(recvMax <= 2 * 250_000, `window ${recvMax} > 2 x BDP`);
  });

  it("keepAliveIntervalMs 0 disables keep-alive", () => {
    const c = harness(true, { keepAliveIntervalMs: 0 });
    assert.equal(c.session.nextTimeout(), undefined);
    c.session.tick(1e9);
    assert.deepEqual(c.sent(), []);
    assert.equal(c.errors.length, 0);
  });
});

describe("yamux session: protocol errors → GoAway(1), later input ignored", () => {
  const cases: [string, boolean, Uint8Array[]][] = [
    ["bad version", false, [new Uint8Array([1, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0])]],
    ["unknown type", false, [new Uint8Array([0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0])]],
    ["Ping on a stream id", false, [frame(Ping, SYN, 1, 0)]],
    ["GoAway on a stream id", false, [frame(GoAway, 0, 3, 0)]],
    ["Data on stream 0", false, [frame(Data, 0, 0, 3)]],
    ["WindowUpdate on stream 0", false, [frame(WindowUpdate, 0, 0, 5)]],
    ["SYN with our parity (server gets an even id)", false, [frame(WindowUpdate, SYN, 2, 0)]],
    ["SYN with our parity (client gets an odd id)", true, [frame(Data, SYN, 1, 0)]],
    ["duplicate SYN", false, [frame(WindowUpdate, SYN, 1, 0), frame(WindowUpdate, SYN, 1, 0)]],
    ["data after FIN", false, [frame(WindowUpdate, SYN | FIN, 1, 0), frame(Data, 0, 1, 3)]],
    ["data beyond the window", false, [frame(Data, SYN, 1, 256 * KiB + 1)]],
    [
      "a data length above any window",
      false,
      [encodeHeader({ type: Data, flags: 0, streamId: 9, length: 0xffffffff })],
    ],
  ];
  for (const [name, client, frames] of cases) {
    it(name, () => {
      const h = harness(client);
      for (const f of frames) h.session.receive(f, 0);
      assert.equal(h.errors.length, 1);
      assert.ok(h.errors[0] instanceof YamuxProtocolError, String(h.errors[0]));
      const sent = h.sent();
      assert.deepEqual(sent.at(-1), { type: GoAway, flags: 0, streamId: 0, length: 1 });
      // Nothing after the failure is processed.
      h.session.receive(frame(Ping, SYN, 0, 1), 0);
      h.session.receive(frame(WindowUpdate, SYN, client ? 2 : 5, 0), 0);
      assert.deepEqual(h.sent(), []);
      assert.equal(h.errors.length, 1);
    });
  }
});
