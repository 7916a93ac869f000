/**
 * A tiny strict DER (ITU-T X.690 §10) reader and writer: just what the key encodings of
 * libp2p/specs peer-ids/peer-ids.md need (SubjectPublicKeyInfo, PKCS#1, PKCS#8, SEC1 and
 * ECDSA-Sig-Value). Strict means: low tag numbers only, definite minimal lengths, minimal
 * INTEGERs, no trailing bytes. Every violation throws {@link DecodeError}; nothing is copied.
 *
 * @module
 */

import { DecodeError } from "../errors.ts";

/** Universal tags used by the key encodings. */
export const DerTag = {
  INTEGER: 0x02,
  BIT_STRING: 0x03,
  OCTET_STRING: 0x04,
  NULL: 0x05,
  OID: 0x06,
  SEQUENCE: 0x30,
} as const;

/** Longest length field accepted (4 bytes: far above every key this library takes). */
export const MAX_DER_LENGTH_BYTES = 4;

/**
 * Sequential reader over the contents of one DER constructed value (or a whole buffer).
 *
 * @example
 * ```ts
 * import { DerReader } from "./der.ts";
 * const r = new DerReader(new Uint8Array([0x30, 0x03, 0x02, 0x01, 0x05]));
 * const seq = r.readSequence();
 * r.end();
 * seq.readSmallInteger(); // 5
 * ```
 */
export class DerReader {
  readonly #bytes: Uint8Array;
  #offset: number;

  /** Read `bytes` (all of it is this reader's content). */
  constructor(bytes: Uint8Array) {
    this.#bytes = bytes;
    this.#offset = 0;
  }

  /** True when all content was consumed. */
  get done(): boolean {
    return this.#offset >= this.#bytes.byteLength;
  }

  /** The tag of the next value, or undefined at the end. */
  peekTag(): number | undefined {
    return this.done ? undefined : this.#bytes[this.#offset];
  }

  /** Throw unless every byte was consumed (DER allows no trailing data). */
  end(): void {
    if (!this.done) throw new DecodeError("DER: trailing bytes after the value");
  }

  /** Read one TLV with the expected tag; returns a view of its contents. */
  read(tag: number): Uint8Array {
    const bytes = this.#bytes;
    let offset = this.#offset;
    if (offset >= bytes.byteLength) throw new DecodeError("DER: truncated (missing value)");
    const actual = bytes[offset++];
    if ((actual & 0x1f) === 0x1f) throw new DecodeError("DER: high tag numbers are not used");
    if (actual !== tag) {
      throw new DecodeError(
        `DER: expected tag 0x${tag.toString(16)}, got 0x${actual.toString(16)}`,
      );
    }
    if (offset >= bytes.byteLength) throw new DecodeError("DER: truncated in a length");
    let length = bytes[offset++];
    if (length === 0x80) throw new DecodeError("DER: indefinite lengths are not DER");
    if (length > 0x80) {
      const count = length & 0x7f;
      if (count > MAX_DER_LENGTH_BYTES) throw new DecodeError("DER: length field too long");
      if (offset + count > bytes.byteLength) throw new DecodeError("DER: truncated in a length");
      if (bytes[offset] === 0) throw new DecodeError("DER: length has a leading zero");
      length = 0;
      for (let i = 0; i < count; i++) length = length * 256 + bytes[offset++];
      if (length < 0x80) throw new DecodeError("DER: long-form length below 128");
    }
    if (length > bytes.byteLength - offset) {
      throw new DecodeError("DER: value runs past the end of its container");
    }
    this.#offset = offset + length;
    return bytes.subarray(offset, offset + length);
  }

  /** Read a SEQUENCE; returns a reader over its contents. */
  readSequence(): DerReader {
    return new DerReader(this.read(DerTag.SEQUENCE));
  }

  /** Read a constructed context-specific value `[n]`; returns a reader over its contents. */
  readContext(n: number): DerReader {
    return new DerReader(this.read(0xa0 | n));
  }

  /**
   * Read a non-negative INTEGER. Returns its magnitude without the sign padding byte
   * (zero is an empty array). Negative and non-minimal encodings throw.
   */
  readUnsignedInteger(): Uint8Array {
    const v = this.read(DerTag.INTEGER);
    if (v.byteLength === 0) throw new DecodeError("DER: empty INTEGER");
    if (v[0] & 0x80) throw new DecodeError("DER: negative INTEGER where a positive one is needed");
    if (v.byteLength > 1 && v[0] === 0 && (v[1] & 0x80) === 0) {
      throw new DecodeError("DER: INTEGER is not minimally encoded");
    }
    return v[0] === 0 ? v.subarray(1) : v;
  }

  /** Read a small non-negative INTEGER (at most 2^31-1). */
  readSmallInteger(): number {
    const m = this.readUnsignedInteger();
    if (m.byteLength > 4 || (m.byteLength === 4 && m[0] & 0x80)) {
      throw new DecodeError("DER: INTEGER too large");
    }
    let n = 0;
    for (const b of m) n = n * 256 + b;
    return n;
  }

  /** Read an OCTET STRING. */
  readOctetString(): Uint8Array {
    return this.read(DerTag.OCTET_STRING);
  }

  /** Read a BIT STRING whose length is a whole number of bytes (0 unused bits). */
  readBitString(): Uint8Array {
    const v = this.read(DerTag.BIT_STRING);
    if (v.byteLength === 0 || v[0] !== 0) {
      throw new DecodeError("DER: BIT STRING must have 0 unused bits");
    }
    return v.subarray(1);
  }

  /** Read an OBJECT IDENTIFIER; returns its encoded contents (compare with constants). */
  readOid(): Uint8Array {
    const v = this.read(DerTag.OID);
    if (v.byteLength === 0 || v[v.byteLength - 1] & 0x80) throw new DecodeError("DER: bad OID");
    return v;
  }

  /** Read a NULL. */
  readNull(): void {
    if (this.read(DerTag.NULL).byteLength !== 0) throw new DecodeError("DER: NULL with content");
  }
}

function lengthBytes(length: number): number {
  if (length < 0x80) return 1;
  let n = 1;
  for (let l = length; l > 0; l = Math.floor(l / 256)) n++;
  return n;
}

/**
 * Encode one TLV. Contents are concatenated from `parts`.
 *
 * @example
 * ```ts
 * import { derTlv } from "./der.ts";
 * derTlv(0x05, []); // Uint8Array [5, 0]
 * ```
 */
export function derTlv(tag: number, parts: readonly Uint8Array[]): Uint8Array {
  let length = 0;
  for (const p of parts) length += p.byteLength;
  const header = 1 + lengthBytes(length);
  const out = new Uint8Array(header + length);
  out[0] = tag;
  if (length < 0x80) {
    out[1] = length;
  } else {
    const count = header - 2;
    out[1] = 0x80 | count;
    for (let i = 0, l = length; i < count; i++, l = Math.floor(l / 256)) {
      out[1 + count - i] = l & 0xff;
    }
  }
  let offset = header;
  for (const p of parts) {
    out.set(p, offset);
    offset += p.byteLength;
  }
  return out;
}

/**
 * Encode a SEQUENCE of already-encoded values.
 *
 * @example
 * ```ts
 * import { derSequence, derSmallInteger } from "./der.ts";
 * derSequence([derSmallInteger(1)]); // 30 03 02 01 01
 * ```
 */
export function derSequence(parts: readonly Uint8Array[]): Uint8Array {
  return derTlv(DerTag.SEQUENCE, parts);
}

/**
 * Encode a constructed context-specific value `[n]`.
 *
 * @example
 * ```ts
 * import { derContext, derNull } from "./der.ts";
 * derContext(0, [derNull()]); // a0 02 05 00
 * ```
 */
export function derContext(n: number, parts: readonly Uint8Array[]): Uint8Array {
  return derTlv(0xa0 | n, parts);
}

/**
 * Encode a non-negative INTEGER from its big-endian magnitude (leading zeros are dropped, a
 * sign byte is added when the top bit is set).
 *
 * @example
 * ```ts
 * import { derUnsignedInteger } from "./der.ts";
 * derUnsignedInteger(new Uint8Array([0x80])); // 02 02 00 80
 * ```
 */
export function derUnsignedInteger(magnitude: Uint8Array): Uint8Array {
  let start = 0;
  while (start < magnitude.byteLength && magnitude[start] === 0) start++;
  const m = magnitude.subarray(start);
  if (m.byteLength === 0) return new Uint8Array([DerTag.INTEGER, 1, 0]);
  if (m[0] & 0x80) return derTlv(DerTag.INTEGER, [new Uint8Array([0]), m]);
  return derTlv(DerTag.INTEGER, [m]);
}

/**
 * Encode a small non-negative INTEGER.
 *
 * @example
 * ```ts
 * import { derSmallInteger } from "./der.ts";
 * derSmallInteger(0); // 02 01 00
 * ```
 */
export function derSmallInteger(n: number): Uint8Array {
  if (!Number.isInteger(n) || n < 0 || n > 0x7fff_ffff) throw new RangeError("bad DER INTEGER");
  const bytes = [];
  for (let v = n; v > 0; v = Math.floor(v / 256)) bytes.unshift(v & 0xff);
  return derUnsignedInteger(new Uint8Array(bytes));
}

/**
 * Encode an OCTET STRING.
 *
 * @example
 * ```ts
 * import { derOctetString } from "./der.ts";
 * derOctetString(new Uint8Array([1])); // 04 01 01
 * ```
 */
export function derOctetString(value: Uint8Array): Uint8Array {
  return derTlv(DerTag.OCTET_STRING, [value]);
}

/**
 * Encode a BIT STRING of whole bytes.
 *
 * @example
 * ```ts
 * import { derBitString } from "./der.ts";
 * derBitString(new Uint8Array([4])); // 03 02 00 04
 * ```
 */
export function derBitString(value: Uint8Array): Uint8Array {
  return derTlv(DerTag.BIT_STRING, [new Uint8Array([0]), value]);
}

/**
 * Encode an OBJECT IDENTIFIER from its encoded contents.
 *
 * @example
 * ```ts
 * import { derOid } from "./der.ts";
 * derOid(new Uint8Array([0x2b, 0x65, 0x70])); // 06 03 2b 65 70 (Ed25519)
 * ```
 */
export function derOid(contents: Uint8Array): Uint8Array {
  return derTlv(DerTag.OID, [contents]);
}

/**
 * Encode a NULL.
 *
 * @example
 * ```ts
 * import { derNull } from "./der.ts";
 * derNull(); // 05 00
 * ```
 */
export function derNull(): Uint8Array {
  return new Uint8Array([DerTag.NULL, 0]);
}

/**
 * Left-pad a big-endian magnitude to `size` bytes; undefined when it does not fit.
 *
 * @example
 * ```ts
 * import { leftPad } from "./der.ts";
 * leftPad(new Uint8Array([1]), 2); // Uint8Array [0, 1]
 * ```
 */
export function leftPad(magnitude: Uint8Array, size: number): Uint8Array | undefined {
  if (magnitude.byteLength > size) return undefined;
  const out = new Uint8Array(size);
  out.set(magnitude, size - magnitude.byteLength);
  return out;
}

/**
 * Parse a DER `ECDSA-Sig-Value ::= SEQUENCE { r INTEGER, s INTEGER }` (RFC 3279 §2.2.3) into
 * fixed-size `r || s` (the form WebCrypto and noble's "compact" format use). Returns undefined
 * for malformed input or r/s of zero or wider than `size` bytes; range checks against the group
 * order are left to the curve.
 *
 * @example
 * ```ts
 * import { ecdsaSignatureFromDer } from "./der.ts";
 * ecdsaSignatureFromDer(new Uint8Array([0x30, 6, 2, 1, 1, 2, 1, 2]), 32)?.length; // 64
 * ```
 */
export function ecdsaSignatureFromDer(der: Uint8Array, size: number): Uint8Array | undefined {
  try {
    const outer = new DerReader(der);
    const seq = outer.readSequence();
    outer.end();
    const r = seq.readUnsignedInteger();
    const s = seq.readUnsignedInteger();
    seq.end();
    if (r.byteLength === 0 || s.byteLength === 0) return undefined;
    if (r.byteLength > size || s.byteLength > size) return undefined;
    const out = new Uint8Array(2 * size);
    out.set(r, size - r.byteLength);
    out.set(s, 2 * size - s.byteLength);
    return out;
  } catch {
    return undefined;
  }
}

/**
 * Encode fixed-size `r || s` as a DER `ECDSA-Sig-Value`.
 *
 * @example
 * ```ts
 * import { ecdsaSignatureToDer } from "./der.ts";
 * const raw = new Uint8Array(64); raw[31] = 1; raw[63] = 2;
 * ecdsaSignatureToDer(raw); // 30 06 02 01 01 02 01 02
 * ```
 */
export function ecdsaSignatureToDer(compact: Uint8Array): Uint8Array {
  if (compact.byteLength === 0 || compact.byteLength % 2 !== 0) {
    throw new RangeError("compact ECDSA signature must be r || s of equal sizes");
  }
  const half = compact.byteLength / 2;
  return derSequence([
    derUnsignedInteger(compact.subarray(0, half)),
    derUnsignedInteger(compact.subarray(half)),
  ]);
}

/**
 * Big-endian magnitude to bigint.
 *
 * @example
 * ```ts
 * import { bytesToBigInt } from "./der.ts";
 * bytesToBigInt(new Uint8Array([1, 0])); // 256n
 * ```
 */
export function bytesToBigInt(bytes: Uint8Array): bigint {
  let n = 0n;
  for (const b of bytes) n = (n << 8n) | BigInt(b);
  return n;
}

/**
 * Number of significant bits of a big-endian magnitude (no leading-zero bytes expected).
 *
 * @example
 * ```ts
 * import { bitLength } from "./der.ts";
 * bitLength(new Uint8Array([0x01, 0x00])); // 9
 * ```
 */
export function bitLength(magnitude: Uint8Array): number {
  let start = 0;
  while (start < magnitude.byteLength && magnitude[start] === 0) start++;
  if (start === magnitude.byteLength) return 0;
  return (magnitude.byteLength - start - 1) * 8 + (32 - Math.clz32(magnitude[start]));
}
