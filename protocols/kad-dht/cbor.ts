/**
 * A small strict CBOR decoder (RFC 8949) for the signed `data` of IPNS records
 * (ipfs/specs `ipns-record.md` §Record Serialization Format: DAG-CBOR).
 *
 * Accepted: unsigned and negative integers (as bigint), byte strings, text strings (strict
 * UTF-8), arrays, maps with text keys, tags (the tagged item is returned), false/true/null and
 * floats. Rejected with {@link DecodeError}: indefinite lengths, non-minimal integer and length
 * encodings (DAG-CBOR), duplicate map keys, trailing bytes, undefined and other simple values,
 * nesting deeper than {@link MAX_CBOR_DEPTH}. Every declared length or count is checked against
 * the bytes left before anything is allocated (HARDENING.md rule 1). Map key order is not
 * enforced: the signature covers the bytes as sent, so the order cannot be forged.
 *
 * @module
 */

import { DecodeError } from "../../src/errors.ts";

/** Deepest nesting of arrays, maps and tags accepted. */
export const MAX_CBOR_DEPTH = 16;

/** A decoded CBOR value. */
export type CborValue =
  | bigint
  | number
  | boolean
  | null
  | string
  | Uint8Array
  | CborValue[]
  | Map<string, CborValue>;

const decoder = new TextDecoder("utf-8", { fatal: true });

class Reader {
  offset = 0;
  constructor(readonly bytes: Uint8Array) {}

  byte(): number {
    if (this.offset >= this.bytes.byteLength) throw new DecodeError("CBOR truncated");
    return this.bytes[this.offset++];
  }

  take(n: number): Uint8Array {
    if (n > this.bytes.byteLength - this.offset) {
      throw new DecodeError(`CBOR length ${n} runs past the end of the input`);
    }
    const out = this.bytes.subarray(this.offset, this.offset + n);
    this.offset += n;
    return out;
  }

  /** The argument of an initial byte, minimal encoding required. */
  argument(info: number): bigint {
    if (info < 24) return BigInt(info);
    let size: number;
    if (info === 24) size = 1;
    else if (info === 25) size = 2;
    else if (info === 26) size = 4;
    else if (info === 27) size = 8;
    else throw new DecodeError(`CBOR additional info ${info} (indefinite or reserved)`);
    const raw = this.take(size);
    let v = 0n;
    for (const b of raw) v = (v << 8n) | BigInt(b);
    const min = size === 1 ? 24n : size === 2 ? 0x100n : size === 4 ? 0x1_0000n : 0x1_0000_0000n;
    if (v < min) throw new DecodeError("CBOR integer or length is not minimally encoded");
    return v;
  }

  length(info: number): number {
    const n = this.argument(info);
    if (n > BigInt(this.bytes.byteLength - this.offset)) {
      throw new DecodeError(`CBOR length ${n} exceeds the bytes left`);
    }
    return Number(n);
  }
}

function item(r: Reader, depth: number): CborValue {
  if (depth > MAX_CBOR_DEPTH) throw new DecodeError("CBOR nested too deeply");
  const initial = r.byte();
  const major = initial >> 5;
  const info = initial & 0x1f;
  switch (major) {
    case 0:
      return r.argument(info);
    case 1:
      return -1n - r.argument(info);
    case 2:
      return r.take(r.length(info));
    case 3:
      try {
        return decoder.decode(r.take(r.length(info)));
      } catch (cause) {
        if (cause instanceof DecodeError) throw cause;
        throw new DecodeError("CBOR text string is not valid UTF-8", { cause });
      }
    case 4: {
      // Each element takes at least one byte: the count was checked against the bytes left.
      const n = r.length(info);
      const out: CborValue[] = [];
      for (let i = 0; i < n; i++) out.push(item(r, depth + 1));
      return out;
    }
    case 5: {
      const n = r.length(info);
      const out = new Map<string, CborValue>();
      for (let i = 0; i < n; i++) {
        const k = item(r, depth + 1);
        if (typeof k !== "string") throw new DecodeError("CBOR map key is not a text string");
        if (out.has(k)) throw new DecodeError(`CBOR map has a duplicate key ${JSON.stringify(k)}`);
        out.set(k, item(r, depth + 1));
      }
      return out;
    }
    case 6:
      r.argument(info);
      return item(r, depth + 1);
    default:
      return simple(r, info);
  }
}

function simple(r: Reader, info: number): CborValue {
  switch (info) {
    case 20:
      return false;
    case 21:
      return true;
    case 22:
      return null;
    case 25: {
      const b = r.take(2);
      return halfFloat((b[0] << 8) | b[1]);
    }
    case 26:
      return new DataView(r.take(4).slice().buffer).getFloat32(0);
    case 27:
      return new DataView(r.take(8).slice().buffer).getFloat64(0);
    default:
      throw new DecodeError(`CBOR simple value ${info} is not accepted`);
  }
}

function halfFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * 2 ** -14 * (frac / 1024);
  if (exp === 31) return frac === 0 ? sign * Infinity : NaN;
  return sign * 2 ** (exp - 15) * (1 + frac / 1024);
}

/**
 * Decode exactly one CBOR item spanning all of `bytes`. Byte strings are views into `bytes`.
 *
 * @example
 * ```ts
 * import { decodeCbor } from "@p2p-edge/libp2p/protocols/kad-dht";
 * const v = decodeCbor(new Uint8Array([0xa1, 0x61, 0x61, 0x01])) as Map<string, unknown>;
 * v.get("a"); // 1n
 * ```
 */
export function decodeCbor(bytes: Uint8Array): CborValue {
  const r = new Reader(bytes);
  const v = item(r, 0);
  if (r.offset !== bytes.byteLength) throw new DecodeError("trailing bytes after the CBOR item");
  return v;
}
