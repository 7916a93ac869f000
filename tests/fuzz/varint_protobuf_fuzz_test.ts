/**
 * Properties of src/varint.ts and src/protobuf.ts: round trips, truncation ("need more bytes"
 * or DecodeError), arbitrary input (DecodeError only), and the 9/10-byte and minimality rules.
 */

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { DecodeError } from "../../src/errors.ts";
import {
  decodeUvarint,
  decodeUvarintBigInt,
  encodeUvarint,
  encodeUvarintBigInt,
  MAX_UVARINT_BYTES,
  uvarintLength,
} from "../../src/varint.ts";
import { ProtobufReader, ProtobufWriter, WireType } from "../../src/protobuf.ts";
import { bytes, check, only } from "./fuzz.ts";

const safeInt = fc.maxSafeNat();
const u64 = fc.bigInt({ min: 0n, max: 0xffff_ffff_ffff_ffffn });

describe("fuzz: varint", () => {
  it("round trips every safe integer with the minimal encoding", () => {
    check(
      "varint/roundtrip",
      fc.property(safeInt, bytes(8), (value, tail) => {
        const enc = encodeUvarint(value);
        assert.equal(enc.byteLength, uvarintLength(value));
        assert.ok(enc.byteLength <= MAX_UVARINT_BYTES);
        // Trailing bytes are not read.
        const withTail = new Uint8Array([...enc, ...tail]);
        assert.deepEqual(decodeUvarint(withTail), { value, length: enc.byteLength });
        // Minimal: the last byte is non-zero unless the value is 0.
        if (value > 0) assert.notEqual(enc[enc.byteLength - 1], 0);
        // The bigint encoder writes the same bytes.
        assert.deepEqual(encodeUvarintBigInt(BigInt(value)), enc);
      }),
    );
  });

  it("round trips u64 values through the bigint codec", () => {
    check(
      "varint/roundtrip-bigint",
      fc.property(u64, (value) => {
        const enc = encodeUvarintBigInt(value);
        assert.deepEqual(decodeUvarintBigInt(enc), { value, length: enc.byteLength });
        // The number decoder agrees or refuses (above 2^53 or longer than 9 bytes).
        const r = only([DecodeError], () => decodeUvarint(enc));
        if (value <= BigInt(Number.MAX_SAFE_INTEGER)) {
          assert.deepEqual(r, {
            ok: true,
            value: { value: Number(value), length: enc.byteLength },
          });
        } else assert.equal(r.ok, false);
      }),
    );
  });

  it("every strict prefix of an encoding is incomplete", () => {
    check(
      "varint/truncation",
      fc.property(u64, (value) => {
        const enc = encodeUvarintBigInt(value);
        for (let n = 0; n < enc.byteLength; n++) {
          assert.equal(decodeUvarintBigInt(enc.subarray(0, n)), undefined);
          const r = only([DecodeError], () => decodeUvarint(enc.subarray(0, n)));
          assert.ok(!r.ok || r.value === undefined, "a prefix decoded to a value");
        }
      }),
    );
  });

  it("arbitrary bytes decode, are incomplete, or throw DecodeError; decoding is consistent", () => {
    check(
      "varint/arbitrary",
      fc.property(bytes(12), fc.nat(12), (input, offset) => {
        const r = only([DecodeError], () => decodeUvarint(input, offset));
        const big = only([DecodeError], () => decodeUvarintBigInt(input, offset));
        if (r.ok && r.value !== undefined) {
          const { value, length } = r.value;
          assert.ok(length >= 1 && length <= MAX_UVARINT_BYTES);
          assert.ok(Number.isSafeInteger(value) && value >= 0);
          // A decoded value re-encodes to exactly the bytes read (minimality).
          assert.deepEqual(encodeUvarint(value), input.subarray(offset, offset + length));
          assert.deepEqual(big, { ok: true, value: { value: BigInt(value), length } });
        }
      }),
    );
  });

  it("non-minimal encodings are refused unless minimal: false", () => {
    check(
      "varint/non-minimal",
      fc.property(fc.nat(0x7fff_ffff), fc.integer({ min: 1, max: 3 }), (value, pad) => {
        const enc = encodeUvarint(value);
        // Pad with 0x80 continuation groups carrying zero bits, then a final 0x00.
        const padded = [...enc];
        padded[padded.length - 1] |= 0x80;
        for (let i = 1; i < pad; i++) padded.push(0x80);
        padded.push(0x00);
        const input = Uint8Array.from(padded);
        if (input.byteLength > MAX_UVARINT_BYTES) {
          assert.throws(() => decodeUvarint(input), DecodeError);
          return;
        }
        assert.throws(() => decodeUvarint(input), DecodeError);
        assert.deepEqual(decodeUvarint(input, 0, { minimal: false }), {
          value,
          length: input.byteLength,
        });
      }),
    );
  });

  it("a varint longer than the limit fails after the limit, whatever follows", () => {
    check(
      "varint/too-long",
      fc.property(bytes(4), (tail) => {
        const input = new Uint8Array([...new Array(MAX_UVARINT_BYTES).fill(0xff), ...tail]);
        assert.throws(() => decodeUvarint(input), DecodeError);
      }),
    );
  });
});

// ------------------------------------------------------------------------------------------------

type Field =
  | { field: number; type: "varint"; value: bigint }
  | { field: number; type: "bytes"; value: Uint8Array }
  | { field: number; type: "string"; value: string }
  | { field: number; type: "fixed64"; value: bigint };

const fieldNumber = fc.oneof(
  fc.integer({ min: 1, max: 20 }),
  fc.integer({ min: 1, max: 0x1fff_ffff }),
);
const fieldArb: fc.Arbitrary<Field> = fc.oneof(
  fc.record({ field: fieldNumber, type: fc.constant("varint" as const), value: u64 }),
  fc.record({ field: fieldNumber, type: fc.constant("bytes" as const), value: bytes(40) }),
  fc.record({
    field: fieldNumber,
    type: fc.constant("string" as const),
    value: fc.string({ unit: "binary", maxLength: 20 }),
  }),
  fc.record({ field: fieldNumber, type: fc.constant("fixed64" as const), value: u64 }),
);

function writeFields(fields: readonly Field[]): Uint8Array {
  const w = new ProtobufWriter();
  for (const f of fields) {
    if (f.type === "varint") w.uint(f.field, f.value);
    else if (f.type === "bytes") w.bytes(f.field, f.value);
    else if (f.type === "string") w.string(f.field, f.value);
    else w.fixed64(f.field, f.value);
  }
  return w.finish();
}

/** Read every field generically (skipping by wire type); returns how many were read. */
function skipAll(input: Uint8Array): number {
  const r = new ProtobufReader(input);
  let n = 0;
  for (let tag = r.readTag(); tag !== undefined; tag = r.readTag()) {
    r.skip(tag.wireType);
    n++;
  }
  return n;
}

describe("fuzz: protobuf", () => {
  it("reads back what the writer wrote, field by field", () => {
    check(
      "protobuf/roundtrip",
      fc.property(fc.array(fieldArb, { maxLength: 12 }), (fields) => {
        const enc = writeFields(fields);
        const r = new ProtobufReader(enc);
        for (const f of fields) {
          const tag = r.readTag();
          assert.ok(tag !== undefined);
          assert.equal(tag.field, f.field);
          if (f.type === "varint") {
            assert.equal(tag.wireType, WireType.VARINT);
            assert.equal(r.readUint64(), f.value);
          } else if (f.type === "bytes") {
            assert.equal(tag.wireType, WireType.LENGTH_DELIMITED);
            assert.deepEqual(r.readBytes(), f.value);
          } else if (f.type === "string") {
            assert.equal(tag.wireType, WireType.LENGTH_DELIMITED);
            assert.equal(r.readString(), f.value);
          } else {
            assert.equal(tag.wireType, WireType.FIXED64);
            assert.equal(r.readFixed64(), f.value);
          }
        }
        assert.equal(r.readTag(), undefined);
        assert.ok(r.done);
        // Canonical: writing the same fields again gives the same bytes.
        assert.deepEqual(writeFields(fields), enc);
      }),
    );
  });

  it("every strict prefix of a message either reads fewer fields or throws DecodeError", () => {
    check(
      "protobuf/truncation",
      fc.property(fc.array(fieldArb, { minLength: 1, maxLength: 6 }), (fields) => {
        const enc = writeFields(fields);
        for (let n = 0; n < enc.byteLength; n++) {
          const r = only([DecodeError], () => skipAll(enc.subarray(0, n)));
          if (r.ok) assert.ok(r.value < fields.length, `prefix ${n} read all fields`);
        }
      }),
    );
  });

  it("arbitrary bytes: the generic reader throws only DecodeError and always advances", () => {
    check(
      "protobuf/arbitrary",
      fc.property(bytes(96), (input) => {
        const r = new ProtobufReader(input);
        only([DecodeError], () => {
          let last = -1;
          for (let tag = r.readTag(); tag !== undefined; tag = r.readTag()) {
            if (tag.wireType === WireType.LENGTH_DELIMITED) r.readBytes();
            else r.skip(tag.wireType);
            assert.ok(r.offset > last && r.offset <= input.byteLength);
            last = r.offset;
          }
        });
      }),
    );
  });

  it("strings must be valid UTF-8 (DecodeError otherwise), and values never alias past the end", () => {
    check(
      "protobuf/strings",
      fc.property(bytes(32), (raw) => {
        const enc = new ProtobufWriter().bytes(1, raw).finish();
        const r = new ProtobufReader(enc);
        r.readTag();
        const s = only([DecodeError], () => r.readString());
        let valid = true;
        try {
          new TextDecoder("utf-8", { fatal: true }).decode(raw);
        } catch {
          valid = false;
        }
        assert.equal(s.ok, valid);
      }),
    );
  });

  it("a claimed length of 2^31 or 2^53-1 fails at once with DecodeError", () => {
    check(
      "protobuf/huge-length",
      fc.property(
        fc.constantFrom(2n ** 31n, 2n ** 32n, 2n ** 53n - 1n),
        bytes(16),
        (claimed, body) => {
          const input = new Uint8Array([0x0a, ...encodeUvarintBigInt(claimed), ...body]);
          const r = new ProtobufReader(input);
          r.readTag();
          assert.throws(() => r.readBytes(), DecodeError);
        },
      ),
    );
  });
});
