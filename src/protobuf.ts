/**
 * A small protobuf (proto3/proto2 wire format) reader and writer.
 *
 * Only what libp2p messages use: varint, 64-bit, length-delimited and 32-bit wire types.
 * The reader hands out zero-copy views (`subarray`) into the input; callers that keep a value
 * beyond the input's lifetime copy it. Malformed input throws {@link DecodeError}; repeated
 * fields are counted by callers against named limits with {@link checkRepeatedCount}.
 *
 * Encoding is deterministic: fields are written in the order the caller writes them (callers
 * write in field-number order) with minimal varints, matching go/rust/js output byte for byte.
 *
 * @module
 */

import { utf8Decode, utf8Encode } from "./bytes.ts";
import { DecodeError, LimitExceededError } from "./errors.ts";
import {
  decodeUvarint,
  decodeUvarintBigInt,
  encodeUvarintBigInt,
  MAX_PROTOBUF_VARINT_BYTES,
  uvarintLength,
  writeUvarint,
} from "./varint.ts";

/** Protobuf wire types. */
export const WireType = {
  VARINT: 0,
  FIXED64: 1,
  LENGTH_DELIMITED: 2,
  FIXED32: 5,
} as const;

/** One of the wire types in {@link WireType}. */
export type WireTypeValue = (typeof WireType)[keyof typeof WireType];

/** A decoded field key. */
export interface FieldTag {
  /** Field number (>= 1). */
  field: number;
  /** Wire type of the value that follows. */
  wireType: WireTypeValue;
}

/**
 * Throw a LimitExceededError when a repeated field's count passes its limit.
 *
 * @example
 * ```ts
 * import { checkRepeatedCount } from "@p2p-edge/libp2p/protobuf";
 * checkRepeatedCount("listenAddrs", 3, 100); // ok
 * ```
 */
export function checkRepeatedCount(name: string, count: number, max: number): void {
  if (count > max) {
    throw new LimitExceededError(`more than ${max} values in repeated field ${name}`, name);
  }
}

/**
 * Sequential reader over one protobuf message.
 *
 * @example
 * ```ts
 * import { ProtobufReader, WireType } from "@p2p-edge/libp2p/protobuf";
 * const r = new ProtobufReader(new Uint8Array([0x08, 0x01]));
 * const tag = r.readTag(); // { field: 1, wireType: 0 }
 * r.readUint(); // 1
 * ```
 */
export class ProtobufReader {
  /** The message bytes. */
  readonly bytes: Uint8Array;
  /** Current read offset. */
  offset = 0;

  /** Read `bytes` from the start. */
  constructor(bytes: Uint8Array) {
    this.bytes = bytes;
  }

  /** True when every byte was consumed. */
  get done(): boolean {
    return this.offset >= this.bytes.byteLength;
  }

  /** Read the next field key, or `undefined` at the end of the message. */
  readTag(): FieldTag | undefined {
    if (this.done) return undefined;
    const key = this.readUint();
    const wireType = key & 7;
    const field = Math.floor(key / 8);
    if (field < 1 || field > 0x1fff_ffff) throw new DecodeError(`invalid protobuf field ${field}`);
    if (wireType !== 0 && wireType !== 1 && wireType !== 2 && wireType !== 5) {
      throw new DecodeError(`unsupported protobuf wire type ${wireType}`);
    }
    return { field, wireType: wireType as WireTypeValue };
  }

  /** Read a varint as a number (<= Number.MAX_SAFE_INTEGER). */
  readUint(): number {
    const r = decodeUvarint(this.bytes, this.offset, {
      minimal: false,
      maxBytes: MAX_PROTOBUF_VARINT_BYTES,
    });
    if (r === undefined) throw new DecodeError("protobuf message truncated inside a varint");
    this.offset += r.length;
    return r.value;
  }

  /** Read a varint as a 64-bit bigint. */
  readUint64(): bigint {
    const r = decodeUvarintBigInt(this.bytes, this.offset, { minimal: false });
    if (r === undefined) throw new DecodeError("protobuf message truncated inside a varint");
    this.offset += r.length;
    return r.value;
  }

  /** Read a bool (any non-zero varint is true). */
  readBool(): boolean {
    return this.readUint64() !== 0n;
  }

  /** Read a length-delimited value as a zero-copy view. */
  readBytes(): Uint8Array {
    const length = this.readUint();
    const end = this.offset + length;
    if (end > this.bytes.byteLength) {
      throw new DecodeError("protobuf length-delimited field runs past the end of the message");
    }
    const out = this.bytes.subarray(this.offset, end);
    this.offset = end;
    return out;
  }

  /** Read a length-delimited value as strict UTF-8. */
  readString(): string {
    const bytes = this.readBytes();
    try {
      return utf8Decode(bytes);
    } catch (cause) {
      throw new DecodeError("protobuf string field is not valid UTF-8", { cause });
    }
  }

  /** Read a little-endian fixed64 as a bigint. */
  readFixed64(): bigint {
    if (this.offset + 8 > this.bytes.byteLength) throw new DecodeError("truncated fixed64");
    const view = new DataView(this.bytes.buffer, this.bytes.byteOffset + this.offset, 8);
    this.offset += 8;
    return view.getBigUint64(0, true);
  }

  /** Read a little-endian fixed32. */
  readFixed32(): number {
    if (this.offset + 4 > this.bytes.byteLength) throw new DecodeError("truncated fixed32");
    const view = new DataView(this.bytes.buffer, this.bytes.byteOffset + this.offset, 4);
    this.offset += 4;
    return view.getUint32(0, true);
  }

  /** Skip a value of the given wire type (unknown fields are ignored, as protobuf requires). */
  skip(wireType: WireTypeValue): void {
    switch (wireType) {
      case WireType.VARINT:
        this.readUint64();
        return;
      case WireType.FIXED64:
        this.readFixed64();
        return;
      case WireType.LENGTH_DELIMITED:
        this.readBytes();
        return;
      case WireType.FIXED32:
        this.readFixed32();
        return;
    }
  }

  /** Throw unless the field has the expected wire type. */
  expect(tag: FieldTag, wireType: WireTypeValue): void {
    if (tag.wireType !== wireType) {
      throw new DecodeError(
        `protobuf field ${tag.field} has wire type ${tag.wireType}, expected ${wireType}`,
      );
    }
  }
}

/**
 * Builds one protobuf message. Write fields in field-number order for canonical output.
 *
 * @example
 * ```ts
 * import { ProtobufWriter } from "@p2p-edge/libp2p/protobuf";
 * const bytes = new ProtobufWriter().uint(1, 1).bytes(2, new Uint8Array([7])).finish();
 * // Uint8Array [0x08, 0x01, 0x12, 0x01, 0x07]
 * ```
 */
export class ProtobufWriter {
  #parts: Uint8Array[] = [];
  #length = 0;

  /** Write a varint field (a number or a 64-bit bigint). */
  uint(field: number, value: number | bigint): this {
    this.#key(field, WireType.VARINT);
    if (typeof value === "bigint") this.#push(encodeUvarintBigInt(value));
    else this.#varint(value);
    return this;
  }

  /** Write a bool field as varint 0/1. */
  bool(field: number, value: boolean): this {
    return this.uint(field, value ? 1 : 0);
  }

  /** Write a length-delimited bytes field. */
  bytes(field: number, value: Uint8Array): this {
    this.#key(field, WireType.LENGTH_DELIMITED);
    this.#varint(value.byteLength);
    this.#push(value);
    return this;
  }

  /** Write a string field as UTF-8. */
  string(field: number, value: string): this {
    return this.bytes(field, utf8Encode(value));
  }

  /** Write a little-endian fixed64 field. */
  fixed64(field: number, value: bigint): this {
    this.#key(field, WireType.FIXED64);
    const out = new Uint8Array(8);
    new DataView(out.buffer).setBigUint64(0, BigInt.asUintN(64, value), true);
    this.#push(out);
    return this;
  }

  /** Write an embedded message (already encoded, or a writer). */
  message(field: number, value: Uint8Array | ProtobufWriter): this {
    return this.bytes(field, value instanceof ProtobufWriter ? value.finish() : value);
  }

  /** The encoded message. */
  finish(): Uint8Array {
    const out = new Uint8Array(this.#length);
    let offset = 0;
    for (const p of this.#parts) {
      out.set(p, offset);
      offset += p.byteLength;
    }
    return out;
  }

  #key(field: number, wireType: number): void {
    if (!Number.isInteger(field) || field < 1 || field > 0x1fff_ffff) {
      throw new RangeError(`invalid protobuf field number ${field}`);
    }
    this.#varint(field * 8 + wireType);
  }

  #varint(value: number): void {
    const out = new Uint8Array(uvarintLength(value));
    writeUvarint(value, out, 0);
    this.#push(out);
  }

  #push(bytes: Uint8Array): void {
    this.#parts.push(bytes);
    this.#length += bytes.byteLength;
  }
}
