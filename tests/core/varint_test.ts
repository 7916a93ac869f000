// Tests for src/varint.ts against known encodings and an independent reference encoder.
// Spec: github.com/multiformats/unsigned-varint (minimal encoding, at most 9 bytes).
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { DecodeError } from "../../src/errors.ts";
import {
  decodeUvarint,
  decodeUvarintBigInt,
  encodeUvarint,
  encodeUvarintBigInt,
  MAX_PROTOBUF_VARINT_BYTES,
  MAX_UVARINT_BYTES,
  uvarintLength,
  writeUvarint,
} from "../../src/varint.ts";

/** Reference LEB128 encoder written independently of src/varint.ts (bigint arithmetic only). */
function referenceEncode(value: bigint): number[] {
  const out: number[] = [];
  do {
    let byte = Number(value % 128n);
    value = value / 128n;
    if (value > 0n) byte += 128;
    out.push(byte);
  } while (value > 0n);
  return out;
}

/** Reference decoder: sums 7-bit groups little-endian. */
function referenceDecode(bytes: number[]): bigint {
  let value = 0n;
  for (let i = bytes.length - 1; i >= 0; i--) value = value * 128n + BigInt(bytes[i] % 128);
  return value;
}

const KNOWN: [number, number[]][] = [
  [0, [0x00]],
  [1, [0x01]],
  [127, [0x7f]],
  [128, [0x80, 0x01]],
  [255, [0xff, 0x01]],
  [300, [0xac, 0x02]],
  [16383, [0xff, 0x7f]],
  [16384, [0x80, 0x80, 0x01]],
  [2 ** 32 - 1, [0xff, 0xff, 0xff, 0xff, 0x0f]],
  [2 ** 32, [0x80, 0x80, 0x80, 0x80, 0x10]],
  [Number.MAX_SAFE_INTEGER, [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x0f]],
];

/** A deterministic PRNG (xorshift32) so failures are reproducible. */
function prng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s;
  };
}

describe("varint (number)", () => {
  it("encodes and decodes known values", () => {
    for (const [value, bytes] of KNOWN) {
      assert.deepEqual([...encodeUvarint(value)], bytes, `encode ${value}`);
      assert.equal(uvarintLength(value), bytes.length, `length ${value}`);
      assert.deepEqual(
        decodeUvarint(Uint8Array.from(bytes)),
        { value, length: bytes.length },
        `decode ${value}`,
      );
    }
  });

  it("writes at an offset and decodes at an offset", () => {
    const buf = new Uint8Array(6).fill(0xee);
    assert.equal(writeUvarint(300, buf, 2), 4);
    assert.deepEqual([...buf], [0xee, 0xee, 0xac, 0x02, 0xee, 0xee]);
    assert.deepEqual(decodeUvarint(buf, 2), { value: 300, length: 2 });
    // Trailing bytes after the varint are not part of it.
    assert.deepEqual(decodeUvarint(Uint8Array.from([0x05, 0xff, 0xff])), { value: 5, length: 1 });
  });

  it("rejects non-minimal encodings", () => {
    for (const bytes of [[0x80, 0x00], [0x81, 0x00], [0xff, 0x80, 0x00], [0x80, 0x80, 0x00]]) {
      assert.throws(() => decodeUvarint(Uint8Array.from(bytes)), DecodeError, `${bytes}`);
    }
    // Accepted when the caller opts out (protobuf allows padding).
    assert.deepEqual(decodeUvarint(Uint8Array.from([0x81, 0x00]), 0, { minimal: false }), {
      value: 1,
      length: 2,
    });
  });

  it("caps the encoding at 9 bytes", () => {
    assert.equal(MAX_UVARINT_BYTES, 9);
    // Every 9-byte varint is >= 2^56, so as a number it is rejected (too large, not too long).
    const nine = [0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01];
    assert.throws(() => decodeUvarint(Uint8Array.from(nine)), DecodeError);
    // A 10-byte input is rejected for its length, even with minimal: false.
    const ten = [0x81, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00];
    assert.throws(
      () => decodeUvarint(Uint8Array.from(ten), 0, { minimal: false }),
      (e: unknown) => e instanceof DecodeError && /longer than 9/.test(e.message),
    );
    // Nine continuation bytes: rejected without waiting for more input.
    assert.throws(() => decodeUvarint(new Uint8Array(9).fill(0x80)), DecodeError);
    // An 8-continuation-byte prefix still asks for more.
    assert.equal(decodeUvarint(new Uint8Array(8).fill(0x80)), undefined);
  });

  it("rejects values above Number.MAX_SAFE_INTEGER", () => {
    const over = referenceEncode(2n ** 53n);
    assert.throws(() => decodeUvarint(Uint8Array.from(over)), DecodeError);
    const justOver = referenceEncode(2n ** 53n + 1n);
    assert.throws(() => decodeUvarint(Uint8Array.from(justOver)), DecodeError);
    const max63 = referenceEncode(2n ** 63n - 1n);
    assert.equal(max63.length, 9);
    assert.throws(() => decodeUvarint(Uint8Array.from(max63)), DecodeError);
  });

  it("returns undefined for every truncated prefix", () => {
    for (const [value, bytes] of KNOWN) {
      for (let n = 0; n < bytes.length; n++) {
        assert.equal(decodeUvarint(Uint8Array.from(bytes.slice(0, n))), undefined, `${value}/${n}`);
      }
      // And at an offset inside a larger buffer.
      const padded = Uint8Array.from([0xaa, ...bytes]);
      for (let n = 1; n < padded.length; n++) {
        assert.equal(decodeUvarint(padded.subarray(0, n), 1), undefined);
      }
    }
  });

  it("rejects unencodable numbers with RangeError", () => {
    for (const bad of [-1, 1.5, Number.NaN, Infinity, 2 ** 53]) {
      assert.throws(() => encodeUvarint(bad), RangeError, `${bad}`);
      assert.throws(() => uvarintLength(bad), RangeError, `${bad}`);
    }
  });

  it("agrees with the reference for thousands of random values", () => {
    const next = prng(0x5eed);
    for (let i = 0; i < 5000; i++) {
      // Spread values across all magnitudes up to 2^53-1.
      const bits = next() % 54;
      const hi = next() % 2 ** 21;
      const lo = next();
      const value = Number(((BigInt(hi) << 32n) | BigInt(lo)) & ((1n << BigInt(bits)) - 1n));
      const expected = referenceEncode(BigInt(value));
      const encoded = encodeUvarint(value);
      assert.deepEqual([...encoded], expected, `encode ${value}`);
      assert.equal(referenceDecode([...encoded]), BigInt(value));
      assert.deepEqual(decodeUvarint(encoded), { value, length: expected.length });
      const big = decodeUvarintBigInt(encoded);
      assert.deepEqual(big, { value: BigInt(value), length: expected.length });
      assert.deepEqual([...encodeUvarintBigInt(BigInt(value))], expected);
    }
  });
});

describe("varint (bigint)", () => {
  it("encodes and decodes 64-bit values", () => {
    const cases: bigint[] = [0n, 1n, 127n, 128n, 300n, 2n ** 53n, 2n ** 63n, 2n ** 64n - 1n];
    for (const value of cases) {
      const bytes = encodeUvarintBigInt(value);
      assert.deepEqual([...bytes], referenceEncode(value), `${value}`);
      assert.deepEqual(decodeUvarintBigInt(bytes), { value, length: bytes.length });
    }
    assert.deepEqual(
      [...encodeUvarintBigInt(2n ** 64n - 1n)],
      [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01],
    );
  });

  it("rejects values over 64 bits, on encode and decode", () => {
    assert.throws(() => encodeUvarintBigInt(2n ** 64n), RangeError);
    assert.throws(() => encodeUvarintBigInt(-1n), RangeError);
    // 2^64 encoded in 10 bytes: last group 0x02.
    const over = Uint8Array.from([0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x02]);
    assert.throws(() => decodeUvarintBigInt(over), DecodeError);
    // 0x7f in the tenth group: far over.
    const far = Uint8Array.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f]);
    assert.throws(() => decodeUvarintBigInt(far), DecodeError);
    // 11 bytes: longer than protobuf's 10.
    assert.equal(MAX_PROTOBUF_VARINT_BYTES, 10);
    const eleven = new Uint8Array(11).fill(0x80);
    eleven[10] = 0x01;
    assert.throws(() => decodeUvarintBigInt(eleven), DecodeError);
  });

  it("rejects non-minimal encodings unless told otherwise", () => {
    assert.throws(() => decodeUvarintBigInt(Uint8Array.from([0x80, 0x00])), DecodeError);
    assert.deepEqual(decodeUvarintBigInt(Uint8Array.from([0x80, 0x00]), 0, { minimal: false }), {
      value: 0n,
      length: 2,
    });
  });

  it("honours maxBytes", () => {
    const tenBytes = encodeUvarintBigInt(2n ** 63n);
    assert.equal(tenBytes.length, 10);
    assert.throws(() => decodeUvarintBigInt(tenBytes, 0, { maxBytes: 9 }), DecodeError);
  });

  it("returns undefined for every truncated prefix", () => {
    const bytes = encodeUvarintBigInt(2n ** 64n - 1n);
    for (let n = 0; n < bytes.length; n++) {
      assert.equal(decodeUvarintBigInt(bytes.subarray(0, n)), undefined, `prefix ${n}`);
    }
  });

  it("agrees with the reference for random 64-bit values", () => {
    const next = prng(0xbeef);
    for (let i = 0; i < 3000; i++) {
      const bits = BigInt(next() % 65);
      const raw = (BigInt(next()) << 32n) | BigInt(next());
      const value = bits === 0n ? 0n : raw & ((1n << bits) - 1n);
      const bytes = encodeUvarintBigInt(value);
      assert.deepEqual([...bytes], referenceEncode(value));
      assert.deepEqual(decodeUvarintBigInt(bytes), { value, length: bytes.length });
    }
  });
});
