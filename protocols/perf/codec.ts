/**
 * The perf request header: the number of bytes the client wants back, as a big-endian u64
 * (libp2p/specs perf/perf.md).
 *
 * @module
 */

import { PERF_HEADER_LENGTH } from "./constants.ts";

const MAX_U64 = 2n ** 64n - 1n;

/**
 * Encode the download size header. Throws RangeError outside 0..2^64-1.
 *
 * @example
 * ```ts
 * import { encodePerfHeader } from "@p2p-edge/libp2p/protocols/perf";
 * encodePerfHeader(258); // Uint8Array [0, 0, 0, 0, 0, 0, 1, 2]
 * ```
 */
export function encodePerfHeader(downloadBytes: number | bigint): Uint8Array {
  const value = typeof downloadBytes === "bigint" ? downloadBytes : toBigInt(downloadBytes);
  if (value < 0n || value > MAX_U64) throw new RangeError("perf size must fit in a u64");
  const out = new Uint8Array(PERF_HEADER_LENGTH);
  new DataView(out.buffer).setBigUint64(0, value, false);
  return out;
}

/**
 * Decode the header at `offset`: the size as a bigint (the full u64 range, HARDENING rule 2),
 * or `undefined` when fewer than 8 bytes are there.
 *
 * @example
 * ```ts
 * import { decodePerfHeader } from "@p2p-edge/libp2p/protocols/perf";
 * decodePerfHeader(new Uint8Array([0, 0, 0, 0, 0, 0, 1, 2])); // 258n
 * decodePerfHeader(new Uint8Array(3)); // undefined
 * ```
 */
export function decodePerfHeader(bytes: Uint8Array, offset = 0): bigint | undefined {
  if (bytes.byteLength - offset < PERF_HEADER_LENGTH) return undefined;
  return new DataView(bytes.buffer, bytes.byteOffset + offset, PERF_HEADER_LENGTH)
    .getBigUint64(0, false);
}

function toBigInt(n: number): bigint {
  if (!Number.isSafeInteger(n)) throw new RangeError("perf size must be a safe integer");
  return BigInt(n);
}
