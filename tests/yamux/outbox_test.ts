/**
 * The outbox's block handling: small batches of many sessions share slabs. Whatever was taken
 * must stay byte-for-byte intact however the other sessions and the same session go on
 * queueing (a chunk can sit in a writer's queue for a long time), and frames queued before a
 * take must come out contiguous and in order.
 */

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { concat, randomBytes } from "../../src/bytes.ts";
import { BULK_BLOCK, Outbox } from "../../protocols/yamux/outbox.ts";
import { parseFrames } from "./session_helpers.ts";

describe("yamux outbox", () => {
  it("taken chunks stay intact while many sessions keep queueing (slab reuse and rollover)", () => {
    const boxes = Array.from({ length: 7 }, () => new Outbox({ onOutput: () => {} }));
    const taken: { bytes: Uint8Array[]; copy: Uint8Array; frames: number }[] = [];
    let seed = 1;
    const rand = (n: number): number => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed % n;
    };
    for (let round = 0; round < 3000; round++) {
      const box = boxes[rand(boxes.length)];
      // Sizes from a header-only frame to larger than the slab's per-frame cap and the slab.
      const kind = rand(10);
      if (kind === 0) box.frame(1, 0, rand(100), rand(1 << 20));
      else {
        const size = kind < 7 ? rand(64) : kind < 9 ? rand(3000) : rand(40_000);
        box.data(0, 1 + rand(100), randomBytes(size));
      }
      if (rand(3) === 0) {
        const bytes = box.take();
        if (bytes !== undefined) {
          const copy = concat(bytes);
          taken.push({ bytes, copy, frames: parseFrames(copy).length });
        }
      }
    }
    assert.ok(taken.length > 500);
    for (const t of taken) assert.deepEqual(concat(t.bytes), t.copy);
  });

  it("coalesces a session's frames queued before one take, in order", () => {
    const box = new Outbox({ onOutput: () => {} });
    const other = new Outbox({ onOutput: () => {} });
    box.frame(1, 0, 3, 100);
    box.data(0, 3, Uint8Array.of(1, 2, 3));
    box.frame(2, 0, 0, 7);
    const chunks = box.take()!;
    assert.equal(chunks.length, 1, "one contiguous chunk");
    const frames = parseFrames(concat(chunks));
    assert.deepEqual(frames.map((f) => [f.type, f.streamId, f.length]), [
      [1, 3, 100],
      [0, 3, 3],
      [2, 0, 7],
    ]);
    // Interleaving with another session splits a batch into several chunks, still in order.
    box.data(0, 5, Uint8Array.of(9));
    other.data(0, 6, Uint8Array.of(8));
    box.data(0, 5, Uint8Array.of(7));
    const split = parseFrames(concat(box.take()!));
    assert.deepEqual(split.map((f) => [f.streamId, ...f.payload!]), [[5, 9], [5, 7]]);
    assert.deepEqual(parseFrames(concat(other.take()!)).map((f) => f.streamId), [6]);
    assert.equal(box.take(), undefined);
  });

  it("reuses a recycled full-frame block for the next large frame, and only such blocks", () => {
    const box = new Outbox({ onOutput: () => {} });
    const payload = new Uint8Array(64 * 1024).fill(3);
    box.data(0, 1, payload);
    const first = box.take()!;
    // Full blocks of BULK_BLOCK bytes (one Noise message each), the rest in a second one.
    assert.deepEqual(first.map((b) => b.byteLength), [BULK_BLOCK, 12 + 64 * 1024 - BULK_BLOCK]);
    const block = first[0].buffer;
    box.recycle(first);
    // A slab-carved batch (a fresh outbox's small frame) given back is not pooled.
    const fresh = new Outbox({ onOutput: () => {} });
    fresh.frame(1, 0, 1, 5);
    const small = fresh.take()!;
    fresh.recycle(small);
    box.data(0, 1, payload.fill(4));
    const second = box.take()!;
    assert.equal(second[0].buffer, block, "the recycled block serves the next frame");
    assert.notEqual(second[0].buffer, small[0].buffer);
    const frames = parseFrames(concat(second));
    assert.equal(frames.length, 1);
    assert.deepEqual(frames[0].payload, payload, "the frame is whole across the blocks");
  });

  it("fills blocks to BULK_BLOCK and never emits a larger one", () => {
    const box = new Outbox({ onOutput: () => {} });
    for (let round = 0; round < 2; round++) {
      for (let i = 0; i < 20; i++) box.data(0, 1 + (i % 3) * 2, randomBytes(1 + i * 9000));
      box.frame(1, 0, 1, 5);
      const chunks = box.take()!;
      assert.ok(chunks.every((c) => c.byteLength <= BULK_BLOCK));
      assert.equal(parseFrames(concat(chunks)).length, 21);
      // Once the outbox has seen bulk traffic, every block but the last is full.
      if (round === 1) assert.ok(chunks.slice(0, -1).every((c) => c.byteLength > BULK_BLOCK - 12));
    }
  });

  it("extends the last Data frame of a stream up to maxFrame; any other frame ends it", () => {
    const box = new Outbox({ onOutput: () => {} });
    const max = 100;
    box.data(0, 1, new Uint8Array(40).fill(1), max);
    box.data(0, 1, new Uint8Array(40).fill(2), max); // joins: 80
    box.data(0, 1, new Uint8Array(40).fill(3), max); // 120 > max: a new frame
    box.data(0, 3, new Uint8Array(10).fill(4), max); // another stream: a new frame
    box.data(0, 3, new Uint8Array(10).fill(5), max); // joins
    box.frame(1, 0, 3, 7); // a WindowUpdate ends the run
    box.data(0, 3, new Uint8Array(1).fill(6), max);
    box.data(4, 3, new Uint8Array(1).fill(7), max); // flags (FIN): never joined
    box.data(0, 3, new Uint8Array(1).fill(8), max); // after a flagged frame: new
    const frames = parseFrames(concat(box.take()!));
    assert.deepEqual(frames.map((f) => [f.type, f.streamId, f.flags, f.length]), [
      [0, 1, 0, 80],
      [0, 1, 0, 40],
      [0, 3, 0, 20],
      [1, 3, 0, 7],
      [0, 3, 0, 1],
      [0, 3, 4, 1],
      [0, 3, 0, 1],
    ]);
    assert.deepEqual(
      frames[0].payload,
      Uint8Array.from([...new Uint8Array(40).fill(1), ...new Uint8Array(40).fill(2)]),
    );
    // Nothing joins across a take: what was taken is never patched.
    box.data(0, 5, new Uint8Array(2), max);
    const taken = box.take()!;
    const copy = concat(taken);
    box.data(0, 5, new Uint8Array(2), max);
    assert.deepEqual(concat(taken), copy);
    assert.deepEqual(parseFrames(concat(box.take()!)).map((f) => f.length), [2]);
  });
});
