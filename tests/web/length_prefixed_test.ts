/**
 * The framing codecs of the composable web-stream surface: uvarint length-prefixed messages
 * (src/web/length_prefixed.ts) and Noise transport frames (protocols/noise/frames.ts), fed in
 * every chunking (byte by byte, split prefixes, several messages joined in one chunk), at their
 * limits, and with malformed or truncated input.
 */

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { LengthPrefixedDecoder, LengthPrefixedEncoder } from "../../src/web/length_prefixed.ts";
import { NoiseFrameDecoder, NoiseFrameEncoder } from "../../protocols/noise/frames.ts";
import { DecodeError, LimitExceededError } from "../../src/errors.ts";

/** Run `chunks` through `transform` and collect what comes out (or the error). */
async function run(
  transform: TransformStream<Uint8Array, Uint8Array>,
  chunks: Uint8Array[],
): Promise<Uint8Array[]> {
  const out: Uint8Array[] = [];
  const source = new ReadableStream<Uint8Array>({
    start(c) {
      for (const chunk of chunks) c.enqueue(chunk);
      c.close();
    },
  });
  for await (const m of source.pipeThrough(transform)) out.push(m.slice());
  return out;
}

const bytes = (...b: number[]): Uint8Array => new Uint8Array(b);

/** Every way to cut `data` into two chunks, plus byte by byte and in one piece. */
function chunkings(data: Uint8Array): Uint8Array[][] {
  const ways: Uint8Array[][] = [[data], Array.from(data, (b) => bytes(b))];
  for (let i = 1; i < data.byteLength; i++) ways.push([data.subarray(0, i), data.subarray(i)]);
  return ways;
}

describe("LengthPrefixedDecoder", () => {
  // Three messages: 300 bytes (2-byte prefix), empty, 2 bytes.
  const big = new Uint8Array(300).map((_, i) => i & 0xff);
  const wire = new Uint8Array([0xac, 0x02, ...big, 0x00, 0x02, 7, 8]);

  it("yields the same messages in every chunking (split prefix, split body, joined)", async () => {
    for (const chunks of chunkings(wire)) {
      const got = await run(new LengthPrefixedDecoder({ maxLength: 1024 }), chunks);
      assert.equal(got.length, 3);
      assert.deepEqual(got[0], big);
      assert.deepEqual(got[1], bytes());
      assert.deepEqual(got[2], bytes(7, 8));
    }
  });

  it("round-trips with the encoder", async () => {
    const messages = [bytes(1), bytes(), big];
    const framed = await run(new LengthPrefixedEncoder(), messages);
    assert.deepEqual(framed[1], bytes(0));
    assert.deepEqual(framed[2].subarray(0, 2), bytes(0xac, 0x02));
    assert.deepEqual(await run(new LengthPrefixedDecoder(), framed), messages);
  });

  it("checks the announced length against maxLength before any of the body arrives", async () => {
    // 2^40 announced: the decoder must fail on the prefix alone (no body sent, nothing allocated).
    const huge = bytes(0x80, 0x80, 0x80, 0x80, 0x80, 0x20);
    await assert.rejects(
      run(new LengthPrefixedDecoder({ maxLength: 1024 }), [huge]),
      LimitExceededError,
    );
    // Exactly at the limit passes; one more fails.
    const at = await run(new LengthPrefixedDecoder({ maxLength: 2 }), [bytes(2, 1, 2)]);
    assert.deepEqual(at, [bytes(1, 2)]);
    await assert.rejects(
      run(new LengthPrefixedDecoder({ maxLength: 2 }), [bytes(3)]),
      LimitExceededError,
    );
  });

  it("rejects a non-minimal or over-long prefix (HARDENING.md rule 2), in any chunking", async () => {
    for (const chunks of chunkings(bytes(0x81, 0x00, 1))) {
      await assert.rejects(run(new LengthPrefixedDecoder(), chunks), DecodeError);
    }
    const tooLong = new Uint8Array(10).fill(0x80);
    for (const chunks of chunkings(tooLong)) {
      await assert.rejects(run(new LengthPrefixedDecoder(), chunks), DecodeError);
    }
  });

  it("fails when the input ends inside a prefix or a body", async () => {
    await assert.rejects(run(new LengthPrefixedDecoder(), [bytes(0x80)]), DecodeError);
    await assert.rejects(run(new LengthPrefixedDecoder(), [bytes(3, 1, 2)]), DecodeError);
  });

  it("options and chunk types are checked", async () => {
    assert.throws(() => new LengthPrefixedDecoder({ maxLength: -1 }), RangeError);
    assert.throws(() => new LengthPrefixedEncoder({ maxLength: 1.5 }), RangeError);
    await assert.rejects(
      run(new LengthPrefixedDecoder(), ["x" as unknown as Uint8Array]),
      TypeError,
    );
  });
});

describe("LengthPrefixedEncoder", () => {
  it("refuses a message over maxLength before sending any of it", async () => {
    const out: Uint8Array[] = [];
    await assert.rejects(
      (async () => {
        for await (
          const m of ReadableStream.from([bytes(1), bytes(1, 2, 3)]).pipeThrough(
            new LengthPrefixedEncoder({ maxLength: 2 }),
          )
        ) out.push(m);
      })(),
      LimitExceededError,
    );
    assert.deepEqual(out, [bytes(1, 1)]);
  });
});

describe("Noise frame codecs", () => {
  const body = new Uint8Array(70_000).map((_, i) => (i * 3) & 0xff);
  const full = body.subarray(0, 65_535);

  it("the decoder yields the same frames in every chunking", async () => {
    const wire = bytes(0, 3, 1, 2, 3, 0, 0, 0, 1, 9);
    for (const chunks of chunkings(wire)) {
      assert.deepEqual(await run(new NoiseFrameDecoder(), chunks), [
        bytes(1, 2, 3),
        bytes(),
        bytes(9),
      ]);
    }
  });

  it("round-trips a frame of the largest size, split across chunks", async () => {
    const framed = await run(new NoiseFrameEncoder(), [full]);
    assert.deepEqual(framed[0].subarray(0, 2), bytes(0xff, 0xff));
    const pieces = [
      framed[0].subarray(0, 1),
      framed[0].subarray(1, 40_000),
      framed[0].subarray(40_000),
    ];
    assert.deepEqual(await run(new NoiseFrameDecoder(), pieces), [full]);
  });

  it("the encoder refuses a message over 65,535 bytes", async () => {
    await assert.rejects(run(new NoiseFrameEncoder(), [body]), RangeError);
  });

  it("the decoder fails when the input ends inside a header or a frame", async () => {
    await assert.rejects(run(new NoiseFrameDecoder(), [bytes(0)]), DecodeError);
    await assert.rejects(run(new NoiseFrameDecoder(), [bytes(0, 2, 1)]), DecodeError);
  });
});
