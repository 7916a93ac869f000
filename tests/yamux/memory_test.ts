/**
 * Yamux reserves every receive-window byte it advertises from the node's memory budget
 * (StreamMuxerInit.memory): streams that do not fit are refused, window growth stops at the
 * budget, and everything is given back when streams end or the session dies.
 */

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { LimitExceededError } from "../../src/errors.ts";
import type { MuxerMemory } from "../../src/muxer.ts";
import { Flag, FrameType } from "../../protocols/yamux/constants.ts";
import { frame, harness } from "./session_helpers.ts";

const KiB = 1024;
const WINDOW = 256 * KiB;

/** A budget of `limit` bytes that records its use. */
function budget(limit: number): MuxerMemory & { used: number; peak: number } {
  const b = {
    used: 0,
    peak: 0,
    reserve(n: number): boolean {
      if (b.used + n > limit) return false;
      b.used += n;
      b.peak = Math.max(b.peak, b.used);
      return true;
    },
    release(n: number): void {
      b.used -= n;
      assert.ok(b.used >= 0, "released more than reserved");
    },
  };
  return b;
}

describe("yamux memory budget", () => {
  it("resets inbound streams whose window does not fit, and frees on FIN both ways", () => {
    const mem = budget(2 * WINDOW);
    const s = harness(false, {}, 0, false, mem);
    for (const id of [1, 3, 5]) {
      s.session.receive(frame(FrameType.WindowUpdate, Flag.SYN, id, 0), 0);
    }
    const sent = s.sent();
    // Streams 1 and 3 are acknowledged, stream 5 is refused with RST: the session stays up.
    assert.ok(sent.some((f) => f.streamId === 1 && f.flags & Flag.ACK));
    assert.ok(sent.some((f) => f.streamId === 3 && f.flags & Flag.ACK));
    assert.ok(sent.some((f) => f.streamId === 5 && f.flags & Flag.RST));
    assert.equal(mem.used, 2 * WINDOW);
    assert.deepEqual(s.errors, []);
    // Stream 1 ends both ways: its window goes back to the budget.
    s.session.receive(frame(FrameType.WindowUpdate, Flag.FIN, 1, 0), 0);
    s.session.closeWrite(1);
    assert.equal(mem.used, WINDOW);
    // Now a new stream fits again.
    s.session.receive(frame(FrameType.WindowUpdate, Flag.SYN, 7, 0), 0);
    assert.ok(s.sent().some((f) => f.streamId === 7 && f.flags & Flag.ACK));
    assert.equal(mem.used, 2 * WINDOW);
  });

  it("refuses our own new stream with LimitExceededError when the budget is spent", () => {
    const mem = budget(WINDOW);
    const c = harness(true, {}, 0, false, mem);
    c.session.openStream(0);
    assert.throws(() => c.session.openStream(0), LimitExceededError);
    assert.equal(mem.used, WINDOW);
  });

  it("gives everything back when the session dies", () => {
    const mem = budget(8 * WINDOW);
    const s = harness(false, {}, 0, false, mem);
    for (const id of [1, 3, 5]) {
      s.session.receive(frame(FrameType.WindowUpdate, Flag.SYN, id, 0), 0);
    }
    assert.equal(mem.used, 3 * WINDOW);
    s.session.destroy(new Error("connection lost"));
    assert.equal(mem.used, 0);
  });
});
