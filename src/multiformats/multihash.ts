/**
 * Multihash (github.com/multiformats/multihash): `varint(code) varint(length) digest`.
 * Only identity (0x00) and sha2-256 (0x12) are needed by libp2p peer ids and certhashes.
 *
 * @module
 */

import { compactAlloc } from "../bytes.ts";
import { DecodeError } from "../errors.ts";
import { decodeUvarint, uvarintLength, writeUvarint } from "../varint.ts";

/** Multihash code of the identity "hash" (the digest is the input itself). */
export const IDENTITY_CODE = 0x00;
/** Multihash code of SHA2-256. */
export const SHA2_256_CODE = 0x12;
/** Largest digest accepted when decoding (identity multihashes of keys stay far below it). */
export const MAX_DIGEST_LENGTH = 4096;

/** A decoded multihash. Fields are zero-copy views into `bytes`. */
export interface Multihash {
  /** Hash function code. */
  readonly code: number;
  /** The digest. */
  readonly digest: Uint8Array;
  /** The whole encoding. */
  readonly bytes: Uint8Array;
}

/**
 * Build a multihash from a code and a digest.
 *
 * @example
 * ```ts
 * import { createMultihash, IDENTITY_CODE } from "@p2p-edge/libp2p/multiformats";
 * createMultihash(IDENTITY_CODE, new Uint8Array([1])).bytes; // Uint8Array [0, 1, 1]
 * ```
 */
export function createMultihash(code: number, digest: Uint8Array): Multihash {
  const bytes = compactAlloc(
    uvarintLength(code) + uvarintLength(digest.byteLength) + digest.byteLength,
  );
  let offset = writeUvarint(code, bytes, 0);
  offset = writeUvarint(digest.byteLength, bytes, offset);
  bytes.set(digest, offset);
  return { code, digest: bytes.subarray(offset), bytes };
}

/**
 * SHA2-256 multihash of `data` (WebCrypto).
 *
 * @example
 * ```ts
 * import { sha256Multihash } from "@p2p-edge/libp2p/multiformats";
 * const mh = await sha256Multihash(new Uint8Array([1]));
 * mh.digest.length; // 32
 * ```
 */
export async function sha256Multihash(data: Uint8Array): Promise<Multihash> {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", data as BufferSource));
  return createMultihash(SHA2_256_CODE, digest);
}

/**
 * Decode a complete multihash; the input must hold exactly one. Throws DecodeError.
 *
 * @example
 * ```ts
 * import { decodeMultihash } from "@p2p-edge/libp2p/multiformats";
 * decodeMultihash(new Uint8Array([0, 1, 1])).code; // 0
 * ```
 */
export function decodeMultihash(bytes: Uint8Array): Multihash {
  const code = decodeUvarint(bytes, 0);
  if (code === undefined) throw new DecodeError("multihash truncated in its code");
  const length = decodeUvarint(bytes, code.length);
  if (length === undefined) throw new DecodeError("multihash truncated in its length");
  if (length.value > MAX_DIGEST_LENGTH) {
    throw new DecodeError(`multihash digest longer than ${MAX_DIGEST_LENGTH} bytes`);
  }
  const start = code.length + length.length;
  if (bytes.byteLength !== start + length.value) {
    throw new DecodeError(
      `multihash digest length ${length.value} does not match the ${
        bytes.byteLength - start
      } bytes present`,
    );
  }
  if (code.value === SHA2_256_CODE && length.value !== 32) {
    throw new DecodeError("sha2-256 multihash digest must be 32 bytes");
  }
  return { code: code.value, digest: bytes.subarray(start), bytes };
}
