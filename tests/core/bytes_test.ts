// Tests for src/bytes.ts.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import {
  COMPACT_MAX_BYTES,
  compactAlloc,
  compactCopy,
  compare,
  concat,
  equals,
  fromHex,
  randomBytes,
  toHex,
  utf8Decode,
  utf8Encode,
} from "../../src/bytes.ts";

const u8 = (...b: number[]): Uint8Array => Uint8Array.from(b);

describe("concat", () => {
  it("joins parts in order into a new array", () => {
    const a = u8(1, 2);
    const b = u8();
    const c = u8(3);
    const out = concat([a, b, c]);
    assert.deepEqual([...out], [1, 2, 3]);
    assert.notEqual(out.buffer, a.buffer);
    assert.deepEqual([...concat([a, c], 3)], [1, 2, 3]);
    assert.equal(concat([]).byteLength, 0);
  });

  it("returns a single part without copying", () => {
    const a = u8(1, 2);
    assert.equal(concat([a]), a);
  });

  it("honours views into larger buffers", () => {
    const backing = u8(9, 1, 2, 9, 3, 9);
    assert.deepEqual([...concat([backing.subarray(1, 3), backing.subarray(4, 5)])], [1, 2, 3]);
  });
});

describe("equals / compare", () => {
  it("compares bytes, not identity", () => {
    assert.equal(equals(u8(1, 2), u8(1, 2)), true);
    assert.equal(equals(u8(1, 2), u8(1, 3)), false);
    assert.equal(equals(u8(1, 2), u8(1)), false);
    assert.equal(equals(u8(), u8()), true);
    const backing = u8(7, 1, 2);
    assert.equal(equals(backing.subarray(1), u8(1, 2)), true);
  });

  it("orders lexicographically, shorter prefix first", () => {
    assert.equal(compare(u8(1), u8(2)), -1);
    assert.equal(compare(u8(2), u8(1)), 1);
    assert.equal(compare(u8(1, 2), u8(1, 2)), 0);
    assert.equal(compare(u8(1), u8(1, 0)), -1);
    assert.equal(compare(u8(1, 0), u8(1)), 1);
    assert.equal(compare(u8(0xff), u8(0x00, 0xff)), 1);
    const sorted = [u8(2), u8(1, 5), u8(), u8(1)].sort(compare).map((b) => toHex(b));
    assert.deepEqual(sorted, ["", "01", "0105", "02"]);
  });
});

describe("utf8", () => {
  it("round-trips text, including non-BMP characters and a leading U+FEFF", () => {
    for (const text of ["", "na", "héllo", "日本語", "\u{1F680}", "\uFEFF", "\uFEFFabc", "a\0b"]) {
      assert.equal(utf8Decode(utf8Encode(text)), text, JSON.stringify(text));
    }
    assert.deepEqual([...utf8Encode("\uFEFF")], [0xef, 0xbb, 0xbf]);
  });

  it("rejects invalid UTF-8 with TypeError", () => {
    for (const bad of [[0xff], [0xc3, 0x28], [0xed, 0xa0, 0x80], [0xc0, 0xaf], [0xe2, 0x82]]) {
      assert.throws(() => utf8Decode(Uint8Array.from(bad)), TypeError, toHex(Uint8Array.from(bad)));
    }
  });
});

describe("hex", () => {
  it("encodes lower case and decodes either case", () => {
    assert.equal(toHex(u8(0x04, 0xc0, 0x00, 0xff)), "04c000ff");
    assert.equal(toHex(u8()), "");
    assert.deepEqual([...fromHex("04C0ff")], [0x04, 0xc0, 0xff]);
    const all = Uint8Array.from({ length: 256 }, (_, i) => i);
    assert.deepEqual(fromHex(toHex(all)), all);
  });

  it("rejects odd length and non-hex characters with SyntaxError", () => {
    for (const bad of ["0", "abc", "zz", "0x", " 1", "1 ", "+1", "-1", "g0"]) {
      assert.throws(() => fromHex(bad), SyntaxError, bad);
    }
  });
});

describe("randomBytes", () => {
  it("returns the requested length, including above getRandomValues' 64 KiB cap", () => {
    assert.equal(randomBytes(0).byteLength, 0);
    assert.equal(randomBytes(32).byteLength, 32);
    const big = randomBytes(65536 * 2 + 10);
    assert.equal(big.byteLength, 131082);
    // The tail past the first 64 KiB block is filled too (all-zero 1 KiB is ~impossible).
    assert.ok(big.subarray(big.byteLength - 1024).some((b) => b !== 0));
    assert.notDeepEqual(randomBytes(32), randomBytes(32));
  });
});

describe("compactAlloc / compactCopy", () => {
  it("hands out disjoint zeroed views of a shared buffer for small arrays", () => {
    // Other tests in this process share the slab: when `a` took its last bytes, `b` starts a new
    // one, so the pair is taken again (the next slab has room for both).
    let a = compactAlloc(32);
    let b = compactAlloc(32);
    if (a.buffer !== b.buffer) {
      a = compactAlloc(32);
      b = compactAlloc(32);
    }
    assert.equal(a.byteLength, 32);
    assert.ok(a.every((x) => x === 0));
    a.fill(7);
    assert.ok(b.every((x) => x === 0), "writing one array must not touch the next");
    assert.equal(a.buffer, b.buffer);
    assert.equal(b.byteOffset, a.byteOffset + 32);
  });

  it("gives long arrays their own buffer, and starts a new slab when one is full", () => {
    const long = compactAlloc(COMPACT_MAX_BYTES + 1);
    assert.equal(long.buffer.byteLength, COMPACT_MAX_BYTES + 1);
    const seen = new Set<ArrayBufferLike>();
    for (let i = 0; i < 40; i++) seen.add(compactAlloc(COMPACT_MAX_BYTES).buffer);
    assert.ok(seen.size > 1);
    for (const buffer of seen) assert.ok(buffer.byteLength <= 1024);
    assert.equal(compactAlloc(0).byteLength, 0);
    assert.throws(() => compactAlloc(-1), RangeError);
    assert.throws(() => compactAlloc(1.5), RangeError);
  });

  it("copies: the result neither aliases nor keeps the source buffer", () => {
    const message = u8(9, 1, 2, 3, 9);
    const kept = compactCopy(message.subarray(1, 4));
    message.fill(0);
    assert.deepEqual([...kept], [1, 2, 3]);
    assert.notEqual(kept.buffer, message.buffer);
  });
});
