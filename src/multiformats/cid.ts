/**
 * CIDv1 (github.com/multiformats/cid): `varint(1) varint(codec) multihash`.
 * libp2p uses CIDs with the `libp2p-key` codec (0x72) as an alternative text form of peer ids.
 *
 * @module
 */

import { DecodeError } from "../errors.ts";
import { decodeUvarint, uvarintLength, writeUvarint } from "../varint.ts";
import { base32, type MultibaseCodec, multibaseDecode, multibaseEncode } from "./multibase.ts";
import { decodeMultihash, type Multihash } from "./multihash.ts";

/** Multicodec code of `libp2p-key`. */
export const LIBP2P_KEY_CODEC = 0x72;

/**
 * A version-1 content identifier.
 *
 * @example
 * ```ts
 * import { CID, createMultihash, LIBP2P_KEY_CODEC } from "@p2p-edge/libp2p/multiformats";
 * const cid = CID.create(LIBP2P_KEY_CODEC, createMultihash(0, new Uint8Array([1])));
 * cid.toString(); // base32 text starting with "b"
 * ```
 */
export class CID {
  /** Always 1. */
  readonly version = 1;
  /** Content codec (multicodec code). */
  readonly code: number;
  /** The multihash. */
  readonly multihash: Multihash;
  /** Binary form. */
  readonly bytes: Uint8Array;

  private constructor(code: number, multihash: Multihash, bytes: Uint8Array) {
    this.code = code;
    this.multihash = multihash;
    this.bytes = bytes;
  }

  /** Build a CIDv1 from a codec and a multihash. */
  static create(code: number, multihash: Multihash): CID {
    const bytes = new Uint8Array(1 + uvarintLength(code) + multihash.bytes.byteLength);
    const offset = writeUvarint(code, bytes, writeUvarint(1, bytes, 0));
    bytes.set(multihash.bytes, offset);
    return new CID(code, multihash, bytes);
  }

  /** Decode the binary form; throws DecodeError (CIDv0 is not a CIDv1 and is rejected). */
  static decode(bytes: Uint8Array): CID {
    const version = decodeUvarint(bytes, 0);
    if (version === undefined) throw new DecodeError("CID truncated in its version");
    if (version.value !== 1) throw new DecodeError(`unsupported CID version ${version.value}`);
    const code = decodeUvarint(bytes, version.length);
    if (code === undefined) throw new DecodeError("CID truncated in its codec");
    const multihash = decodeMultihash(bytes.subarray(version.length + code.length));
    return new CID(code.value, multihash, bytes);
  }

  /** Parse multibase text (base32, base36, base58btc, ...); throws SyntaxError. */
  static parse(text: string): CID {
    try {
      return CID.decode(multibaseDecode(text));
    } catch (cause) {
      if (cause instanceof SyntaxError) throw cause;
      throw new SyntaxError(`invalid CID ${JSON.stringify(text)}`, { cause });
    }
  }

  /** Multibase text; base32 unless another codec is given. */
  toString(codec: MultibaseCodec = base32): string {
    return multibaseEncode(this.bytes, codec);
  }

  /** JSON form is the text form. */
  toJSON(): string {
    return this.toString();
  }
}
