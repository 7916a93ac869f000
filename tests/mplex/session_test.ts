// The sans-IO mplex session: stream table, flags, budgets and the HARDENING mplex rows at the
// state-machine level (the wire-level rows are in hardening_test.ts).
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { LimitExceededError, StreamClosedError, StreamResetError } from "../../src/errors.ts";
import { MplexProtocolError } from "../../protocols/mplex/mod.ts";
import {
  DEFAULT_MPLEX_LIMITS,
  type MplexLimits,
  MplexSession,
  type MplexStreamState,
} from "../../protocols/mplex/session.ts";
import {
  MAX_PENDING_RESETS,
  MplexFlag,
  type MplexFlagValue,
} from "../../protocols/mplex/constants.ts";

interface Sent {
  id: number;
  flag: MplexFlagValue;
  data?: Uint8Array;
}

function setup(limits: Partial<MplexLimits> = {}, settle = true) {
  const sent: Sent[] = [];
  const freed: MplexStreamState[] = [];
  let drains = 0;
  const session = new MplexSession({ ...DEFAULT_MPLEX_LIMITS, ...limits }, {
    send: (id, flag, data) => {
      sent.push({ id, flag, data });
      return settle ? Promise.resolve() : new Promise<void>(() => {});
    },
    onFree: (st) => freed.push(st),
    onDrain: () => drains++,
  });
  return { session, sent, freed, drains: () => drains };
}

const bytes = (n: number): Uint8Array => new Uint8Array(n);

describe("mplex session", () => {
  it("the listener numbers its streams 0, 2, 4 and names each NewStream by its number", () => {
    const { session, sent } = setup();
    const a = session.openStream();
    const b = session.openStream();
    assert.deepEqual([a.id, b.id], [0, 2]);
    assert.deepEqual(sent.map((f) => [f.id, f.flag]), [[0, 0], [2, 0]]);
    assert.equal(new TextDecoder().decode(sent[1].data), "2");
    assert.equal(session.outboundCount, 2);
  });

  it("the dialer (session initiator) numbers its streams 1, 3, 5 (spec)", () => {
    const session = new MplexSession(DEFAULT_MPLEX_LIMITS, { send: () => Promise.resolve() }, true);
    assert.deepEqual([0, 1, 2].map(() => session.openStream().id), [1, 3, 5]);
  });

  it("uses Initiator flags on our streams and Receiver flags on the remote's", () => {
    const { session, sent } = setup();
    const ours = session.openStream();
    const ev = session.receive({ id: 0, flag: MplexFlag.NewStream, data: bytes(0) });
    assert.equal(ev?.type, "inbound");
    const theirs = ev!.stream;
    sent.length = 0;
    session.write(ours, bytes(1));
    session.write(theirs, bytes(1));
    session.closeWrite(ours);
    session.closeWrite(theirs);
    assert.deepEqual(sent.map((f) => [f.id, f.flag]), [
      [0, MplexFlag.MessageInitiator],
      [0, MplexFlag.MessageReceiver],
      [0, MplexFlag.CloseInitiator],
      [0, MplexFlag.CloseReceiver],
    ]);
  });

  it("routes by flag: the same number names one stream of each side", () => {
    const { session } = setup();
    const ours = session.openStream(); // our 0
    const theirs = session.receive({ id: 0, flag: MplexFlag.NewStream, data: bytes(0) })!.stream;
    const toOurs = session.receive({ id: 0, flag: MplexFlag.MessageReceiver, data: bytes(3) });
    const toTheirs = session.receive({ id: 0, flag: MplexFlag.MessageInitiator, data: bytes(5) });
    assert.equal(toOurs?.type === "data" && toOurs.stream, ours);
    assert.equal(toTheirs?.type === "data" && toTheirs.stream, theirs);
    assert.equal(ours.buffered, 3);
    assert.equal(theirs.buffered, 5);
    assert.equal(session.buffered, 8);
  });

  it("NewStream for a number in use is a protocol error (closes the connection)", () => {
    const { session } = setup();
    session.receive({ id: 7, flag: MplexFlag.NewStream, data: bytes(0) });
    assert.throws(
      () => session.receive({ id: 7, flag: MplexFlag.NewStream, data: bytes(0) }),
      MplexProtocolError,
    );
  });

  it("a NewStream flood beyond maxInboundStreams is reset, the table does not grow", () => {
    const { session, sent } = setup({ maxInboundStreams: 4 });
    for (let id = 0; id < 10; id++) {
      session.receive({ id, flag: MplexFlag.NewStream, data: bytes(0) });
    }
    assert.equal(session.inboundCount, 4);
    assert.deepEqual(
      sent.map((f) => [f.id, f.flag]),
      [4, 5, 6, 7, 8, 9].map((id) => [id, MplexFlag.ResetReceiver]),
    );
  });

  it("a peer that never takes its resets is disconnected past MAX_PENDING_RESETS", () => {
    const { session } = setup({ maxInboundStreams: 1 }, false);
    session.receive({ id: 0, flag: MplexFlag.NewStream, data: bytes(0) });
    assert.throws(() => {
      for (let id = 1; id <= MAX_PENDING_RESETS + 1; id++) {
        session.receive({ id, flag: MplexFlag.NewStream, data: bytes(0) });
      }
    }, MplexProtocolError);
  });

  it("openStream stops at maxOutboundStreams and after startClosing", () => {
    const { session } = setup({ maxOutboundStreams: 2 });
    session.openStream();
    session.openStream();
    assert.throws(() => session.openStream(), LimitExceededError);
    const { session: s2 } = setup();
    s2.startClosing();
    assert.throws(() => s2.openStream(), StreamClosedError);
  });

  it("while closing, a remote NewStream is reset", () => {
    const { session, sent } = setup();
    session.startClosing();
    assert.equal(session.receive({ id: 3, flag: MplexFlag.NewStream, data: bytes(0) }), undefined);
    assert.deepEqual(sent.map((f) => [f.id, f.flag]), [[3, MplexFlag.ResetReceiver]]);
  });

  it("half-close: freed only once both sides closed", () => {
    const { session, freed } = setup();
    const st = session.openStream();
    session.closeWrite(st);
    assert.equal(st.freed, false);
    assert.throws(() => session.write(st, bytes(1)), StreamClosedError);
    const ev = session.receive({ id: 0, flag: MplexFlag.MessageReceiver, data: bytes(2) });
    assert.equal(ev?.type, "data"); // still reads after the local close
    assert.equal(
      session.receive({ id: 0, flag: MplexFlag.CloseReceiver, data: bytes(0) })?.type,
      "remote-close",
    );
    assert.equal(st.freed, true);
    assert.deepEqual(freed, [st]);
    assert.equal(session.size, 0);
    assert.equal(session.buffered, 0); // freed streams leave the session budget
  });

  it("data after the remote's Close resets the stream", () => {
    const { session, sent } = setup();
    const st = session.receive({ id: 1, flag: MplexFlag.NewStream, data: bytes(0) })!.stream;
    session.receive({ id: 1, flag: MplexFlag.CloseInitiator, data: bytes(0) });
    const ev = session.receive({ id: 1, flag: MplexFlag.MessageInitiator, data: bytes(1) });
    assert.equal(ev?.type, "local-reset");
    assert.ok(ev?.type === "local-reset" && ev.error instanceof MplexProtocolError);
    assert.equal(st.reset, true);
    assert.deepEqual(sent.at(-1), { id: 1, flag: MplexFlag.ResetReceiver, data: undefined });
  });

  it("a remote reset frees the stream; writes then throw StreamResetError", () => {
    const { session } = setup();
    const st = session.openStream();
    assert.equal(
      session.receive({ id: 0, flag: MplexFlag.ResetReceiver, data: bytes(0) })?.type,
      "remote-reset",
    );
    assert.equal(st.freed, true);
    assert.throws(() => session.write(st, bytes(1)), StreamResetError);
    // Late messages for the freed stream are dropped.
    assert.equal(
      session.receive({ id: 0, flag: MplexFlag.MessageReceiver, data: bytes(1) }),
      undefined,
    );
  });

  it("a local reset sends Reset once", () => {
    const { session, sent } = setup();
    const st = session.openStream();
    assert.equal(session.reset(st), true);
    assert.equal(session.reset(st), false);
    assert.deepEqual(sent.slice(1).map((f) => [f.id, f.flag]), [[0, MplexFlag.ResetInitiator]]);
  });

  it("data over maxStreamBufferSize is blocked until the reader consumes, or overflows", () => {
    const { session, sent, drains } = setup({
      maxMessageSize: 10,
      maxStreamBufferSize: 16,
      maxSessionBufferSize: 100,
    });
    const st = session.openStream();
    const msg = (n: number) =>
      session.receive({ id: 0, flag: MplexFlag.MessageReceiver, data: bytes(n) });
    assert.equal(msg(10)?.type, "data");
    assert.equal(msg(7)?.type, "blocked");
    assert.equal(st.buffered, 10); // nothing changed
    session.consumed(st, 4);
    assert.ok(drains() > 0);
    assert.equal(msg(7)?.type, "data");
    assert.equal(msg(7)?.type, "blocked");
    const ev = session.overflow(st, 7);
    assert.ok(ev.type === "local-reset" && ev.error instanceof LimitExceededError);
    assert.equal(
      ev.type === "local-reset" && (ev.error as LimitExceededError).limit,
      "maxStreamBufferSize",
    );
    assert.equal(st.reset, true);
    assert.deepEqual(sent.at(-1)!.flag, MplexFlag.ResetInitiator);
    assert.equal(session.buffered, 0);
  });

  it("the session budget blocks data across streams", () => {
    const { session } = setup({
      maxMessageSize: 10,
      maxStreamBufferSize: 10,
      maxSessionBufferSize: 15,
    });
    const a = session.openStream(); // 0 (then 2)
    session.openStream();
    assert.equal(
      session.receive({ id: 0, flag: MplexFlag.MessageReceiver, data: bytes(10) })?.type,
      "data",
    );
    const ev = session.receive({ id: 2, flag: MplexFlag.MessageReceiver, data: bytes(6) });
    assert.equal(ev?.type, "blocked");
    const over = session.overflow(ev!.stream, 6);
    assert.equal(
      over.type === "local-reset" && (over.error as LimitExceededError).limit,
      "maxSessionBufferSize",
    );
    session.consumed(a, 10);
    assert.equal(session.buffered, 0);
  });

  it("closeRead drops the count and discards later data", () => {
    const { session } = setup();
    const st = session.openStream();
    session.receive({ id: 0, flag: MplexFlag.MessageReceiver, data: bytes(5) });
    session.closeRead(st);
    assert.equal(session.buffered, 0);
    assert.equal(
      session.receive({ id: 0, flag: MplexFlag.MessageReceiver, data: bytes(5) }),
      undefined,
    );
    session.closeWrite(st);
    assert.equal(st.freed, true); // both directions done locally
  });

  it("resetAll empties the table", () => {
    const { session } = setup();
    session.openStream();
    session.receive({ id: 0, flag: MplexFlag.NewStream, data: bytes(0) });
    const all = session.resetAll();
    assert.equal(all.length, 2);
    assert.ok(all.every((s) => s.reset && s.freed));
    assert.equal(session.size, 0);
  });
});
