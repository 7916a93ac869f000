// Tests for src/protobuf.ts: byte-exact writer output, every wire type on the reader, and
// malformed input (which must always surface as DecodeError, never another error type).
// Encoding reference: protobuf.dev/programming-guides/encoding (e.g. field 1 = 150 -> 08 96 01).
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { fromHex, toHex } from "../../src/bytes.ts";
import { DecodeError, LimitExceededError } from "../../src/errors.ts";
import {
  checkRepeatedCount,
  type FieldTag,
  ProtobufReader,
  ProtobufWriter,
  WireType,
} from "../../src/protobuf.ts";

/** Decode a whole message generically; returns [field, wireType, value] triples. */
function decodeAll(bytes: Uint8Array): [number, number, unknown][] {
  const r = new ProtobufReader(bytes);
  const out: [number, number, unknown][] = [];
  for (let tag = r.readTag(); tag !== undefined; tag = r.readTag()) {
    let value: unknown;
    switch (tag.wireType) {
      case WireType.VARINT:
        value = r.readUint64();
        break;
      case WireType.FIXED64:
        value = r.readFixed64();
        break;
      case WireType.LENGTH_DELIMITED:
        value = toHex(r.readBytes());
        break;
      case WireType.FIXED32:
        value = r.readFixed32();
        break;
    }
    out.push([tag.field, tag.wireType, value]);
  }
  return out;
}

/** A message using every wire type, built by hand (not with the writer under test). */
const ALL_TYPES = fromHex(
  "0896" + "01" + // field 1 varint 150
    "11" + "0102030405060708" + // field 2 fixed64 0x0807060504030201
    "1a03" + "616263" + // field 3 bytes "abc"
    "25" + "78563412" + // field 4 fixed32 0x12345678
    "2a00" + // field 5 empty bytes
    "30ffffffffffffffffff01", // field 6 varint 2^64-1
);

describe("ProtobufWriter", () => {
  it("produces byte-exact output for known messages", () => {
    assert.equal(toHex(new ProtobufWriter().uint(1, 150).finish()), "089601");
    assert.equal(toHex(new ProtobufWriter().string(2, "testing").finish()), "120774657374696e67");
    const inner = new ProtobufWriter().uint(1, 150);
    assert.equal(toHex(new ProtobufWriter().message(3, inner).finish()), "1a03089601");
    assert.equal(
      toHex(new ProtobufWriter().message(3, fromHex("089601")).finish()),
      "1a03089601",
    );
    assert.equal(toHex(new ProtobufWriter().bool(1, true).bool(2, false).finish()), "08011000");
    assert.equal(
      toHex(new ProtobufWriter().fixed64(1, 0x0807060504030201n).finish()),
      "090102030405060708",
    );
    assert.equal(
      toHex(new ProtobufWriter().uint(6, 2n ** 64n - 1n).finish()),
      "30ffffffffffffffffff01",
    );
    // Field numbers above 15 take a two-byte key.
    assert.equal(toHex(new ProtobufWriter().uint(16, 1).finish()), "800101");
    assert.equal(new ProtobufWriter().finish().byteLength, 0);
  });

  it("encodes a libp2p PublicKey message like go does (Type=1, Data=2)", () => {
    const raw = new Uint8Array(32).fill(0x11);
    const bytes = new ProtobufWriter().uint(1, 1).bytes(2, raw).finish();
    assert.equal(toHex(bytes), "08011220" + "11".repeat(32));
  });

  it("round-trips through the reader", () => {
    const w = new ProtobufWriter()
      .uint(1, 150)
      .fixed64(2, 0x0807060504030201n)
      .bytes(3, fromHex("616263"));
    const bytes = new Uint8Array([...w.finish(), ...ALL_TYPES.subarray(17)]);
    assert.deepEqual(bytes, ALL_TYPES);
  });

  it("rejects invalid field numbers and values with RangeError", () => {
    assert.throws(() => new ProtobufWriter().uint(0, 1), RangeError);
    assert.throws(() => new ProtobufWriter().uint(2 ** 29, 1), RangeError);
    assert.throws(() => new ProtobufWriter().uint(1.5, 1), RangeError);
    assert.throws(() => new ProtobufWriter().uint(1, -1), RangeError);
    assert.throws(() => new ProtobufWriter().uint(1, 2n ** 64n), RangeError);
  });
});

describe("ProtobufReader", () => {
  it("reads every wire type", () => {
    assert.deepEqual(decodeAll(ALL_TYPES), [
      [1, 0, 150n],
      [2, 1, 0x0807060504030201n],
      [3, 2, "616263"],
      [4, 5, 0x12345678],
      [5, 2, ""],
      [6, 0, 2n ** 64n - 1n],
    ]);
  });

  it("reads typed values", () => {
    const r = new ProtobufReader(fromHex("0896011206746573746e6718021802"));
    assert.deepEqual(r.readTag(), { field: 1, wireType: 0 });
    assert.equal(r.readUint(), 150);
    assert.deepEqual(r.readTag(), { field: 2, wireType: 2 });
    assert.equal(r.readString(), "testng");
    assert.deepEqual(r.readTag(), { field: 3, wireType: 0 });
    assert.equal(r.readBool(), true);
    r.readTag();
    assert.equal(r.readUint64(), 2n);
    assert.equal(r.done, true);
    assert.equal(r.readTag(), undefined);
  });

  it("reads from a view at a non-zero byteOffset", () => {
    const backing = new Uint8Array(3 + ALL_TYPES.byteLength);
    backing.set(ALL_TYPES, 3);
    assert.deepEqual(decodeAll(backing.subarray(3)), decodeAll(ALL_TYPES));
  });

  it("returns zero-copy views for bytes fields", () => {
    const r = new ProtobufReader(ALL_TYPES);
    r.readTag();
    r.skip(WireType.VARINT);
    r.readTag();
    r.skip(WireType.FIXED64);
    r.readTag();
    const view = r.readBytes();
    assert.equal(view.buffer, ALL_TYPES.buffer);
    assert.equal(view.byteOffset, ALL_TYPES.byteOffset + 14);
  });

  it("skips unknown fields of every wire type", () => {
    // Only field 3 is "known": skip everything else.
    const r = new ProtobufReader(ALL_TYPES);
    let found: string | undefined;
    let skipped = 0;
    for (let tag = r.readTag(); tag !== undefined; tag = r.readTag()) {
      if (tag.field === 3) found = toHex(r.readBytes());
      else {
        r.skip(tag.wireType);
        skipped++;
      }
    }
    assert.equal(found, "616263");
    assert.equal(skipped, 5);
  });

  it("accepts non-minimal varints (protobuf allows them)", () => {
    const r = new ProtobufReader(fromHex("08ff80808000"));
    r.readTag();
    assert.equal(r.readUint(), 127);
  });

  it("throws DecodeError at every truncation point inside a field", () => {
    // Field boundaries in ALL_TYPES: a prefix ending exactly there is a valid shorter message.
    const boundaries = new Set([0, 3, 12, 17, 22, 24, 35]);
    let valid = 0;
    for (let n = 0; n < ALL_TYPES.byteLength; n++) {
      const prefix = ALL_TYPES.slice(0, n);
      if (boundaries.has(n)) {
        decodeAll(prefix);
        valid++;
      } else {
        assert.throws(
          () => decodeAll(prefix),
          (e: unknown) => e instanceof DecodeError,
          `prefix of ${n} bytes`,
        );
      }
    }
    assert.equal(valid, boundaries.size - 1);
  });

  it("rejects wire types 3, 4, 6 and 7", () => {
    for (const wt of [3, 4, 6, 7]) {
      const bytes = Uint8Array.from([(1 << 3) | wt, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00]);
      assert.throws(() => new ProtobufReader(bytes).readTag(), DecodeError, `wire type ${wt}`);
    }
  });

  it("rejects field number 0 and field numbers above 2^29-1", () => {
    assert.throws(() => new ProtobufReader(fromHex("0001")).readTag(), DecodeError);
    assert.throws(() => new ProtobufReader(fromHex("0201")).readTag(), DecodeError);
    // Key 2^32 = field 2^29, varint 0 -> beyond the protobuf field range.
    assert.throws(() => new ProtobufReader(fromHex("808080801000")).readTag(), DecodeError);
    // Field 2^29-1 is the largest valid one.
    assert.deepEqual(new ProtobufReader(fromHex("f8ffffff0f00")).readTag(), {
      field: 2 ** 29 - 1,
      wireType: 0,
    });
  });

  it("rejects a length that runs past the end", () => {
    for (const hex of ["1205010203", "1201", "12ffffffffffffff0f", "12ffffffffffffffffff01"]) {
      const r = new ProtobufReader(fromHex(hex));
      r.readTag();
      assert.throws(() => r.readBytes(), DecodeError, hex);
    }
  });

  it("rejects varints longer than 10 bytes and values that do not fit", () => {
    const eleven = fromHex("08" + "80".repeat(10) + "01");
    let r = new ProtobufReader(eleven);
    r.readTag();
    assert.throws(() => r.readUint64(), DecodeError);
    r = new ProtobufReader(eleven);
    r.readTag();
    assert.throws(() => r.readUint(), DecodeError);
    // 2^53 does not fit a number: readUint refuses, readUint64 reads it.
    const big = fromHex("0880808080808080 10".replace(" ", ""));
    r = new ProtobufReader(big);
    r.readTag();
    assert.throws(() => r.readUint(), DecodeError);
    r = new ProtobufReader(big);
    r.readTag();
    assert.equal(r.readUint64(), 2n ** 53n);
  });

  it("rejects a string that is not UTF-8 with DecodeError", () => {
    for (const hex of ["1202c328", "1201ff", "1203eda080", "1202c0af"]) {
      const r = new ProtobufReader(fromHex(hex));
      r.readTag();
      assert.throws(() => r.readString(), DecodeError, hex);
    }
  });

  it("reads a string with a leading U+FEFF unchanged", () => {
    const bytes = new ProtobufWriter().string(1, "\uFEFFx").finish();
    const r = new ProtobufReader(bytes);
    r.readTag();
    assert.equal(r.readString(), "\uFEFFx");
  });

  it("expect() rejects a mismatched wire type with DecodeError", () => {
    const tag: FieldTag = { field: 1, wireType: WireType.VARINT };
    const r = new ProtobufReader(new Uint8Array(0));
    r.expect(tag, WireType.VARINT);
    assert.throws(() => r.expect(tag, WireType.LENGTH_DELIMITED), DecodeError);
  });
});

describe("checkRepeatedCount", () => {
  it("passes at the limit and throws LimitExceededError above it", () => {
    checkRepeatedCount("addrs", 0, 3);
    checkRepeatedCount("addrs", 3, 3);
    assert.throws(
      () => checkRepeatedCount("addrs", 4, 3),
      (e: unknown) => e instanceof LimitExceededError && e.limit === "addrs",
    );
  });
});
