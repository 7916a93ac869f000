// Tests for src/stream/timer_queue.ts: one runtime timer for many deadlines.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { Deadline, TimerQueue } from "../../src/stream/timer_queue.ts";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A deadline that records its firing into `log` under `name`. */
function recorder(queue: TimerQueue, log: string[], name: string): Deadline {
  return new Deadline(queue, { onDeadline: () => log.push(name) });
}

describe("TimerQueue", () => {
  it("fires deadlines in time order, each once, and disarms when empty", async () => {
    const queue = new TimerQueue();
    const log: string[] = [];
    const now = performance.now();
    const c = recorder(queue, log, "c");
    const a = recorder(queue, log, "a");
    const b = recorder(queue, log, "b");
    c.set(now + 30);
    a.set(now + 5);
    b.set(now + 15);
    assert.equal(queue.size, 3);
    assert.ok(queue.armed);
    while (log.length < 3) await sleep(5);
    assert.deepEqual(log, ["a", "b", "c"]);
    assert.equal(queue.size, 0);
    assert.equal(queue.armed, false);
    assert.equal(a.pending, false);
    await sleep(20);
    assert.deepEqual(log, ["a", "b", "c"], "nothing fires twice");
  });

  it("moves a deadline when set again and forgets a cleared one", async () => {
    const queue = new TimerQueue();
    const log: string[] = [];
    const now = performance.now();
    const moved = recorder(queue, log, "moved");
    const cleared = recorder(queue, log, "cleared");
    const last = recorder(queue, log, "last");
    moved.set(now + 5);
    cleared.set(now + 10);
    last.set(now + 25);
    moved.set(now + 40); // later than "last" now
    cleared.clear();
    cleared.clear(); // idempotent
    assert.equal(queue.size, 2);
    while (log.length < 2) await sleep(5);
    assert.deepEqual(log, ["last", "moved"]);
    assert.equal(queue.armed, false);
  });

  it("lets a target re-arm itself from onDeadline, and keeps the heap ordered under churn", async () => {
    const queue = new TimerQueue();
    let ticks = 0;
    const self: Deadline = new Deadline(queue, {
      onDeadline: (at) => {
        if (++ticks < 3) self.set(at + 2);
      },
    });
    self.set(performance.now() + 2);
    // Many deadlines set, moved and cleared in random order: the ones left fire sorted.
    const fired: number[] = [];
    const base = performance.now() + 20;
    const all = Array.from(
      { length: 200 },
      (_, i) => new Deadline(queue, { onDeadline: () => fired.push(i) }),
    );
    const rand = (n: number) => Math.floor(Math.random() * n);
    for (const d of all) d.set(base + rand(30));
    for (let k = 0; k < 300; k++) {
      const d = all[rand(all.length)];
      if (rand(3) === 0) d.clear();
      else d.set(base + rand(30));
    }
    const expected = all.filter((d) => d.pending).sort((x, y) => x.at - y.at);
    const times = new Map(all.map((d, i) => [i, d.at]));
    while (queue.size > 0) await sleep(5);
    assert.equal(ticks, 3);
    assert.equal(fired.length, expected.length);
    for (let i = 1; i < fired.length; i++) {
      assert.ok(times.get(fired[i - 1])! <= times.get(fired[i])!, "fired out of order");
    }
    assert.equal(queue.armed, false);
  });
});
