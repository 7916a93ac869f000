/**
 * The DCUtR machines on a virtual clock: the initiator's CONNECT, RTT and SYNC, the dial at
 * RTT/2, retries with backoff and a fresh RTT, the attempt cap, unexpected messages and silence;
 * the responder's answer, its dial on SYNC and its deadlines.
 */

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import {
  type DcutrAction,
  HolePunchType,
  InitiatorMachine,
  ResponderMachine,
} from "../../protocols/dcutr/mod.ts";

const ADDR_A = new Uint8Array([4, 1, 2, 3, 4, 6, 0, 1]);
const ADDR_B = new Uint8Array([4, 5, 6, 7, 8, 6, 0, 2]);
const connect = (addrs: Uint8Array[]) => ({ type: HolePunchType.CONNECT, obsAddrs: addrs });
const sync = { type: HolePunchType.SYNC, obsAddrs: [] };

function kinds(actions: DcutrAction[]): string[] {
  return actions.map((a) => a.type);
}

describe("dcutr initiator machine", () => {
  it("sends CONNECT, measures the RTT, sends SYNC and dials at RTT/2", () => {
    const m = new InitiatorMachine({ ourAddrs: [ADDR_B] });
    assert.deepEqual(m.start(0), [{ type: "open-stream", attempt: 1 }]);
    const sent = m.streamOpened(100);
    assert.deepEqual(sent, [{ type: "send", message: connect([ADDR_B]) }]);
    const afterConnect = m.message(connect([ADDR_A]), 180);
    assert.deepEqual(afterConnect, [{ type: "send", message: sync }]);
    assert.deepEqual(m.rtts, [80]);
    assert.equal(m.deadline(), 220); // 180 + 80 / 2
    assert.deepEqual(m.tick(219), []);
    const dial = m.tick(220);
    assert.deepEqual(kinds(dial), ["close-stream", "dial"]);
    assert.deepEqual((dial[1] as { addrs: Uint8Array[] }).addrs, [ADDR_A]);
    const done = m.dialResult(true, 300);
    assert.deepEqual(done, [{ type: "done", ok: true, reason: "direct connection established" }]);
    assert.equal(m.deadline(), undefined);
  });

  it("retries after a failed dial with backoff, RTT measured afresh, at most three attempts", () => {
    const m = new InitiatorMachine({ ourAddrs: [ADDR_B], retryBackoffMs: 1000 });
    let now = 0;
    m.start(now);
    const rtts = [40, 60, 100];
    for (let attempt = 1; attempt <= 3; attempt++) {
      assert.equal(m.attempt, attempt);
      m.streamOpened(now);
      now += rtts[attempt - 1];
      m.message(connect([ADDR_A]), now);
      now = m.deadline()!;
      m.tick(now);
      const after = m.dialResult(false, now + 5);
      if (attempt < 3) {
        assert.deepEqual(kinds(after), ["close-stream"]);
        assert.equal(m.state, "backoff");
        assert.equal(m.deadline(), now + 5 + 1000 * attempt);
        now = m.deadline()!;
        assert.deepEqual(m.tick(now), [{ type: "open-stream", attempt: attempt + 1 }]);
      } else {
        assert.deepEqual(kinds(after), ["close-stream", "done"]);
        assert.equal((after[1] as { ok: boolean }).ok, false);
      }
    }
    assert.deepEqual(m.rtts, rtts);
  });

  it("counts a peer that never answers CONNECT as a failed attempt at the deadline", () => {
    const m = new InitiatorMachine({ ourAddrs: [], exchangeTimeoutMs: 500, maxAttempts: 2 });
    m.start(0);
    m.streamOpened(0);
    assert.equal(m.deadline(), 500);
    assert.deepEqual(kinds(m.tick(500)), ["close-stream"]);
    m.tick(m.deadline()!);
    m.streamOpened(2000);
    const end = m.tick(2500);
    assert.deepEqual(kinds(end), ["close-stream", "done"]);
    assert.match((end[1] as { reason: string }).reason, /2 attempts failed/);
  });

  it("fails at once on an unexpected message (SYNC first, or anything after CONNECT)", () => {
    const m = new InitiatorMachine({ ourAddrs: [] });
    m.start(0);
    m.streamOpened(0);
    const r = m.message(sync, 1);
    assert.deepEqual(kinds(r), ["close-stream", "done"]);
    const m2 = new InitiatorMachine({ ourAddrs: [] });
    m2.start(0);
    m2.streamOpened(0);
    m2.message(connect([ADDR_A]), 10);
    assert.deepEqual(kinds(m2.message(connect([ADDR_A]), 11)), ["close-stream", "done"]);
  });

  it("goes on without the other side's addresses (it may dial us)", () => {
    const m = new InitiatorMachine({ ourAddrs: [ADDR_B] });
    m.start(0);
    m.streamOpened(0);
    assert.deepEqual(kinds(m.message(connect([]), 20)), ["send"]);
    assert.deepEqual((m.tick(30)[1] as { addrs: Uint8Array[] }).addrs, []);
  });

  it("a stream that fails to open or ends early fails the attempt; cancel ends it", () => {
    const m = new InitiatorMachine({ ourAddrs: [], retryBackoffMs: 0 });
    m.start(0);
    assert.deepEqual(kinds(m.streamFailed(1, "na")), ["close-stream"]);
    assert.deepEqual(m.tick(1), [{ type: "open-stream", attempt: 2 }]);
    m.streamOpened(2);
    assert.deepEqual(kinds(m.streamEnded(3, "reset")), ["close-stream"]);
    assert.equal(m.state, "backoff");
    assert.deepEqual(kinds(m.cancel("stopped")), ["close-stream", "done"]);
    assert.deepEqual(m.cancel("again"), []);
  });
});

describe("dcutr responder machine", () => {
  it("answers CONNECT with its addresses and dials on SYNC", () => {
    const m = new ResponderMachine({ ourAddrs: [ADDR_A] }, 0);
    assert.deepEqual(m.message(connect([ADDR_B]), 10), [
      { type: "send", message: connect([ADDR_A]) },
    ]);
    const r = m.message(sync, 50);
    assert.deepEqual(kinds(r), ["close-stream", "dial", "done"]);
    assert.deepEqual((r[1] as { addrs: Uint8Array[] }).addrs, [ADDR_B]);
    assert.equal(m.deadline(), undefined);
  });

  it("fails a peer that never sends SYNC at the deadline, and unexpected messages at once", () => {
    const m = new ResponderMachine({ ourAddrs: [], exchangeTimeoutMs: 1000 }, 0);
    m.message(connect([ADDR_B]), 100);
    assert.equal(m.deadline(), 1100);
    assert.deepEqual(m.tick(1099), []);
    const r = m.tick(1100);
    assert.deepEqual(kinds(r), ["close-stream", "done"]);
    assert.match((r[1] as { reason: string }).reason, /no SYNC/);
    const m2 = new ResponderMachine({ ourAddrs: [] }, 0);
    assert.deepEqual(kinds(m2.message(sync, 1)), ["close-stream", "done"]);
    const m3 = new ResponderMachine({ ourAddrs: [] }, 0);
    m3.message(connect([]), 1);
    assert.deepEqual(kinds(m3.message(connect([]), 2)), ["close-stream", "done"]);
  });
});
