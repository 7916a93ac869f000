/**
 * The 256-bit XOR keyspace (libp2p/specs `kad-dht/README.md` §Distance): the position of a peer
 * is `sha256(peer id multihash bytes)`, the position of a key `sha256(key)`, and the distance
 * between two positions is their XOR compared as a big-endian integer.
 *
 * @module
 */

import { sha256 } from "@noble/hashes/sha2.js";

/** Bytes in a keyspace position. */
export const KAD_ID_BYTES = 32;

/**
 * The keyspace position of a peer id (its multihash bytes) or of a key.
 *
 * @example
 * ```ts
 * import { kadId } from "@p2p-edge/libp2p/protocols/kad-dht";
 * kadId(new TextEncoder().encode("/pk/x")).length; // 32
 * ```
 */
export function kadId(bytes: Uint8Array): Uint8Array {
  return sha256(bytes);
}

/**
 * The XOR of two positions.
 *
 * @example
 * ```ts
 * import { xorDistance } from "@p2p-edge/libp2p/protocols/kad-dht";
 * xorDistance(new Uint8Array([1, 2]), new Uint8Array([3, 2])); // Uint8Array [2, 0]
 * ```
 */
export function xorDistance(a: Uint8Array, b: Uint8Array): Uint8Array {
  if (a.byteLength !== b.byteLength) throw new RangeError("positions differ in length");
  const out = new Uint8Array(a.byteLength);
  for (let i = 0; i < a.byteLength; i++) out[i] = a[i] ^ b[i];
  return out;
}

/**
 * Compare the distances of `a` and `b` to `target` without allocating: negative when `a` is
 * closer, positive when `b` is, 0 when equal.
 *
 * @example
 * ```ts
 * import { compareDistance } from "@p2p-edge/libp2p/protocols/kad-dht";
 * const t = new Uint8Array([0]);
 * compareDistance(new Uint8Array([1]), new Uint8Array([4]), t) < 0; // true
 * ```
 */
export function compareDistance(a: Uint8Array, b: Uint8Array, target: Uint8Array): number {
  for (let i = 0; i < target.byteLength; i++) {
    const da = a[i] ^ target[i];
    const db = b[i] ^ target[i];
    if (da !== db) return da - db;
  }
  return 0;
}

/**
 * Number of leading bits two positions share (the bucket index); the full bit length when equal.
 *
 * @example
 * ```ts
 * import { commonPrefixLength } from "@p2p-edge/libp2p/protocols/kad-dht";
 * commonPrefixLength(new Uint8Array([0b1000_0000]), new Uint8Array([0b1100_0000])); // 1
 * ```
 */
export function commonPrefixLength(a: Uint8Array, b: Uint8Array): number {
  for (let i = 0; i < a.byteLength; i++) {
    const x = a[i] ^ b[i];
    if (x !== 0) return i * 8 + Math.clz32(x) - 24;
  }
  return a.byteLength * 8;
}

/**
 * Deepest bucket refreshed with a random lookup: finding a key whose position shares `cpl` bits
 * with ours takes about 2^(cpl+1) hashes (go refreshes up to CPL 15 the same way).
 */
export const MAX_REFRESH_CPL = 15;

/**
 * A lookup key that lands in bucket `cpl` of a table whose position is `selfKadId`: a
 * sha2-256-shaped multihash (so servers that parse FIND_NODE keys as peer ids accept it) whose
 * position shares exactly `cpl` leading bits with ours. `random(n)` supplies random bytes.
 *
 * @example
 * ```ts
 * import { commonPrefixLength, kadId, refreshKeyForCpl } from "@p2p-edge/libp2p/protocols/kad-dht";
 * const self = kadId(new Uint8Array([1]));
 * const key = refreshKeyForCpl(self, 3, (n) => crypto.getRandomValues(new Uint8Array(n)));
 * commonPrefixLength(kadId(key), self); // 3
 * ```
 */
export function refreshKeyForCpl(
  selfKadId: Uint8Array,
  cpl: number,
  random: (n: number) => Uint8Array,
): Uint8Array {
  if (!Number.isInteger(cpl) || cpl < 0 || cpl > MAX_REFRESH_CPL) {
    throw new RangeError(`refresh CPL must be 0..${MAX_REFRESH_CPL}, got ${cpl}`);
  }
  // 2^24 tries fail with probability about e^-128 for CPL 15.
  for (let i = 0; i < 1 << 24; i++) {
    const key = new Uint8Array(34);
    key[0] = 0x12;
    key[1] = 0x20;
    key.set(random(32).subarray(0, 32), 2);
    if (commonPrefixLength(kadId(key), selfKadId) === cpl) return key;
  }
  throw new RangeError("no refresh key found");
}
