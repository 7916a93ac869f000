// Tests for src/stream/byte_reader.ts (ByteReader) and src/stream/pair.ts (duplexPair).
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { concat, toHex } from "../../src/bytes.ts";
import { DecodeError, LimitExceededError } from "../../src/errors.ts";
import { ByteReader, duplexPair, UnexpectedEOFError } from "../../src/stream/mod.ts";

interface Source {
  stream: ReadableStream<Uint8Array>;
  /** How many times the stream's pull() ran. */
  pulls(): number;
  /** The reason cancel() was called with, if it was. */
  cancelled(): { reason: unknown } | undefined;
}

/** A pull-based source that yields `chunks` one per pull, then closes (unless `endless`). */
function source(chunks: Uint8Array[], options: { endless?: boolean } = {}): Source {
  let pulls = 0;
  let cancelled: { reason: unknown } | undefined;
  const queue = [...chunks];
  const stream = new ReadableStream<Uint8Array>({
    pull(controller): Promise<void> | void {
      pulls++;
      const next = queue.shift();
      if (next !== undefined) controller.enqueue(next);
      else if (!options.endless) controller.close();
      // endless: never enqueue or close again; a read now waits forever.
      else return new Promise(() => {});
    },
    cancel(reason) {
      cancelled = { reason };
    },
  }, { highWaterMark: 0 });
  return { stream, pulls: () => pulls, cancelled: () => cancelled };
}

async function readAll(stream: ReadableStream<Uint8Array>): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  for await (const chunk of stream) parts.push(chunk);
  return concat(parts);
}

/** Split `bytes` at the given (sorted, distinct) cut points. */
function split(bytes: Uint8Array, cuts: number[]): Uint8Array[] {
  const out: Uint8Array[] = [];
  let start = 0;
  for (const cut of [...cuts, bytes.byteLength]) {
    out.push(bytes.slice(start, cut));
    start = cut;
  }
  return out;
}

// A fixed script of values, in wire form:
//   length-prefixed "abc" | uvarint 300 | 4 raw bytes | u16-prefixed 2 bytes |
//   length-prefixed empty | length-prefixed 130 bytes (2-byte prefix) | trailing "xyz"
const BODY_130 = Uint8Array.from({ length: 130 }, (_, i) => i);
const MESSAGE = concat([
  Uint8Array.from([3, 0x61, 0x62, 0x63]),
  Uint8Array.from([0xac, 0x02]),
  Uint8Array.from([9, 8, 7, 6]),
  Uint8Array.from([0, 2, 0xaa, 0xbb]),
  Uint8Array.from([0]),
  Uint8Array.from([0x82, 0x01]),
  BODY_130,
  Uint8Array.from([0x78, 0x79, 0x7a]),
]);

async function runScript(chunks: Uint8Array[]): Promise<void> {
  const src = source(chunks);
  const r = new ByteReader(src.stream);
  const label = chunks.map((c) => c.byteLength).join(",");
  assert.equal(toHex(await r.readLengthPrefixed(16)), "616263", label);
  assert.equal(await r.readUvarint(), 300, label);
  assert.equal(toHex(await r.readExactly(4)), "09080706", label);
  assert.equal(toHex(await r.readUint16Prefixed()), "aabb", label);
  assert.equal((await r.readLengthPrefixed(16)).byteLength, 0, label);
  assert.deepEqual(await r.readLengthPrefixed(130), BODY_130, label);
  assert.equal(toHex(await readAll(r.rest())), "78797a", label);
}

describe("ByteReader", () => {
  it("reads exact values for every two-chunk split", async () => {
    for (let i = 0; i <= MESSAGE.byteLength; i++) await runScript(split(MESSAGE, [i]));
  });

  it("reads exact values for three-chunk splits around the small fields", async () => {
    for (let i = 0; i <= 20; i++) {
      for (let j = i; j <= 20; j++) await runScript(split(MESSAGE, [i, j]));
    }
  });

  it("reads exact values from one-byte chunks", async () => {
    await runScript(Array.from(MESSAGE, (b) => Uint8Array.of(b)));
  });

  it("reads a zero-length message when nothing is buffered", async () => {
    const r = new ByteReader(source([Uint8Array.of(0)]).stream);
    assert.equal((await r.readLengthPrefixed(8)).byteLength, 0);
    assert.equal((await r.readExactly(0)).byteLength, 0);
    assert.equal(await r.readChunk(), undefined);
    assert.equal(r.done, true);
  });

  it("checks the length limit before reading the body", async () => {
    // The prefix (1000) arrives alone; the body would need further pulls.
    const src = source([Uint8Array.of(0xe8, 0x07)], { endless: true });
    const r = new ByteReader(src.stream);
    await assert.rejects(
      r.readLengthPrefixed(100),
      (e: unknown) => e instanceof LimitExceededError && e.limit === "maxLength",
    );
    assert.equal(src.pulls(), 1);
    assert.equal(r.buffered, 0);
    // At the limit exactly, the body is read.
    const ok = new ByteReader(source([Uint8Array.of(3, 1, 2, 3)]).stream);
    assert.equal(toHex(await ok.readLengthPrefixed(3)), "010203");
  });

  it("rejects with UnexpectedEOFError when the stream ends mid-value", async () => {
    const cases: [Uint8Array[], (r: ByteReader) => Promise<unknown>][] = [
      [[Uint8Array.of(1, 2, 3)], (r) => r.readExactly(5)],
      [[], (r) => r.readExactly(1)],
      [[Uint8Array.of(0x80)], (r) => r.readUvarint()],
      [[], (r) => r.readUvarint()],
      [[Uint8Array.of(5, 1), Uint8Array.of(2)], (r) => r.readLengthPrefixed(10)],
      [[Uint8Array.of(0)], (r) => r.readUint16Prefixed()],
      [[Uint8Array.of(0, 3, 1)], (r) => r.readUint16Prefixed()],
    ];
    for (const [chunks, read] of cases) {
      const r = new ByteReader(source(chunks).stream);
      await assert.rejects(read(r), (e: unknown) => {
        assert.ok(e instanceof UnexpectedEOFError, String(e));
        assert.ok(e instanceof DecodeError);
        return true;
      });
    }
  });

  it("rejects an over-long varint as malformed, not as EOF", async () => {
    const r = new ByteReader(source([new Uint8Array(10).fill(0x80)], { endless: true }).stream);
    await assert.rejects(
      r.readUvarint(),
      (e: unknown) => e instanceof DecodeError && !(e instanceof UnexpectedEOFError),
    );
    const nonMinimal = new ByteReader(source([Uint8Array.of(0x81, 0x00)]).stream);
    await assert.rejects(nonMinimal.readUvarint(), DecodeError);
  });

  it("passes a source error through", async () => {
    const boom = new Error("boom");
    const stream = new ReadableStream<Uint8Array>({
      start(c) {
        c.enqueue(Uint8Array.of(1));
        c.error(boom);
      },
    });
    const r = new ByteReader(stream);
    await assert.rejects(r.readExactly(2), (e: unknown) => e === boom);
  });

  it("readChunk returns what is buffered first, then source chunks", async () => {
    const r = new ByteReader(source([Uint8Array.of(1, 2, 3), Uint8Array.of(4)]).stream);
    assert.equal(toHex(await r.readExactly(1)), "01");
    assert.equal(toHex((await r.readChunk())!), "0203");
    assert.equal(toHex((await r.readChunk())!), "04");
    assert.equal(await r.readChunk(), undefined);
  });

  it("atEnd tells a clean end from buffered or pending bytes, skipping empty chunks", async () => {
    const r = new ByteReader(
      source([new Uint8Array(0), Uint8Array.of(1), new Uint8Array(0), Uint8Array.of(2, 3)]).stream,
    );
    assert.equal(await r.atEnd(), false);
    assert.equal(r.buffered, 1);
    assert.equal(toHex(await r.readExactly(1)), "01");
    assert.equal(await r.atEnd(), false);
    assert.equal(toHex(await r.readExactly(2)), "0203");
    assert.equal(await r.atEnd(), true);
    assert.equal(r.done, true);
    assert.equal(await r.atEnd(), true);
  });

  it("rest() returns the original stream when nothing is buffered", async () => {
    const src = source([Uint8Array.of(2, 7, 8), Uint8Array.of(9)]);
    const r = new ByteReader(src.stream);
    assert.equal(toHex(await r.readLengthPrefixed(4)), "0708");
    const rest = r.rest();
    assert.equal(rest, src.stream);
    assert.equal(toHex(await readAll(rest)), "09");
    assert.throws(() => r.rest(), TypeError);
  });

  it("rest() yields leftovers first, then the rest of the source", async () => {
    const src = source([Uint8Array.of(1, 2, 3), Uint8Array.of(4, 5), Uint8Array.of(6)]);
    const r = new ByteReader(src.stream);
    assert.equal(toHex(await r.readExactly(2)), "0102");
    const rest = r.rest();
    assert.notEqual(rest, src.stream);
    assert.equal(toHex(await readAll(rest)), "03040506");
  });

  it("rest() after the source ended yields the leftovers and closes", async () => {
    const r = new ByteReader(source([Uint8Array.of(1, 2, 3)]).stream);
    await assert.rejects(r.readExactly(4), UnexpectedEOFError);
    // The failed read consumed nothing.
    assert.equal(toHex(await readAll(r.rest())), "010203");
  });

  it("cancelling rest() cancels the source", async () => {
    const src = source([Uint8Array.of(1, 2), Uint8Array.of(3)], { endless: true });
    const r = new ByteReader(src.stream);
    await r.readExactly(1);
    await r.rest().cancel("done");
    assert.deepEqual(src.cancelled(), { reason: "done" });
  });

  it("cancel() cancels the source and ends further reads", async () => {
    const src = source([Uint8Array.of(1, 2)], { endless: true });
    const r = new ByteReader(src.stream);
    await r.readExactly(1);
    await r.cancel("handshake failed");
    assert.deepEqual(src.cancelled(), { reason: "handshake failed" });
    assert.equal(r.buffered, 0);
    await assert.rejects(r.readExactly(1), UnexpectedEOFError);
  });
});

describe("duplexPair", () => {
  it("carries bytes both ways, one copy each, so a writer may reuse its chunk", async () => {
    const [a, b] = duplexPair();
    const aw = a.writable.getWriter();
    const bw = b.writable.getWriter();
    const ar = a.readable.getReader();
    const br = b.readable.getReader();
    const one = Uint8Array.of(1, 2);
    await aw.write(one);
    one.fill(9); // reused after its write completed, as after a socket's write
    await bw.write(Uint8Array.of(3));
    assert.equal(toHex((await br.read()).value!), "0102");
    assert.equal(toHex((await ar.read()).value!), "03");
  });

  it("close() half-closes: the other side sees EOF and can still write back", async () => {
    const [a, b] = duplexPair();
    const aw = a.writable.getWriter();
    await aw.write(Uint8Array.of(1));
    aw.releaseLock();
    await a.close();
    assert.equal(toHex(await readAll(b.readable)), "01");
    const bw = b.writable.getWriter();
    const ar = a.readable.getReader();
    await bw.write(Uint8Array.of(2));
    assert.equal(toHex((await ar.read()).value!), "02");
    await bw.close();
    assert.equal((await ar.read()).done, true);
  });

  it("abort() errors both directions on both ends, even while they are locked", async () => {
    const [a, b] = duplexPair();
    const aw = a.writable.getWriter();
    const ar = a.readable.getReader();
    const bw = b.writable.getWriter();
    const br = b.readable.getReader();
    const pending = br.read(); // b is waiting for data when a aborts
    const reason = new Error("gone");
    a.abort(reason);
    await assert.rejects(pending, (e: unknown) => e === reason);
    await assert.rejects(bw.write(Uint8Array.of(1)), (e: unknown) => e === reason);
    await assert.rejects(ar.read(), (e: unknown) => e === reason);
    await assert.rejects(aw.write(Uint8Array.of(1)), (e: unknown) => e === reason);
    a.abort(new Error("again")); // idempotent
  });

  it("abort() after close() is harmless", async () => {
    const [a, b] = duplexPair();
    await a.close();
    a.abort(new Error("late"));
    b.abort(new Error("late"));
    await assert.rejects(b.writable.getWriter().write(Uint8Array.of(1)), Error);
  });

  it("abort() without a reason still errors the other side", async () => {
    const [a, b] = duplexPair();
    const br = b.readable.getReader();
    a.abort();
    await assert.rejects(br.read(), Error);
  });

  it("applies backpressure at the high-water mark", async () => {
    const [a, b] = duplexPair({ highWaterMark: 4 });
    const aw = a.writable.getWriter();
    await aw.write(new Uint8Array(4)); // b holds 4 unread bytes: at the mark, not above it
    let settled = false;
    const second = aw.write(new Uint8Array(4)).then(() => (settled = true));
    for (let i = 0; i < 10; i++) await Promise.resolve();
    assert.equal(settled, false, "b holds 8 unread bytes: the writer waits");
    assert.ok(aw.desiredSize! <= 0, `desiredSize ${aw.desiredSize}`);
    const br = b.readable.getReader();
    assert.equal((await br.read()).value!.byteLength, 4);
    await second; // back at the mark: the write completes
    assert.equal((await br.read()).value!.byteLength, 4);
  });
});
