/**
 * Small helpers over Uint8Array. None of them copy unless the result needs a new buffer.
 *
 * @module
 */

const textEncoder = new TextEncoder();
// ignoreBOM: true keeps a leading U+FEFF in the output; the default would silently strip it,
// so a protobuf string starting with U+FEFF would not round-trip.
const fatalDecoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/**
 * Concatenate byte arrays into one new array. `totalLength` may be passed when known.
 *
 * @example
 * ```ts
 * import { concat } from "@p2p-edge/libp2p/bytes";
 * concat([new Uint8Array([1]), new Uint8Array([2, 3])]); // Uint8Array [1, 2, 3]
 * ```
 */
export function concat(parts: readonly Uint8Array[], totalLength?: number): Uint8Array {
  if (parts.length === 1 && totalLength === undefined) return parts[0];
  let length = totalLength ?? 0;
  if (totalLength === undefined) { for (const p of parts) length += p.byteLength; }
  const out = new Uint8Array(length);
  let offset = 0;
  for (const p of parts) {
    out.set(p, offset);
    offset += p.byteLength;
  }
  return out;
}

/**
 * Byte-wise equality.
 *
 * @example
 * ```ts
 * import { equals } from "@p2p-edge/libp2p/bytes";
 * equals(new Uint8Array([1]), new Uint8Array([1])); // true
 * ```
 */
export function equals(a: Uint8Array, b: Uint8Array): boolean {
  if (a === b) return true;
  if (a.byteLength !== b.byteLength) return false;
  for (let i = 0; i < a.byteLength; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * Lexicographic comparison: negative, zero or positive like Array.prototype.sort expects.
 *
 * @example
 * ```ts
 * import { compare } from "@p2p-edge/libp2p/bytes";
 * compare(new Uint8Array([1]), new Uint8Array([2])); // -1
 * ```
 */
export function compare(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.byteLength, b.byteLength);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i] < b[i] ? -1 : 1;
  return a.byteLength === b.byteLength ? 0 : a.byteLength < b.byteLength ? -1 : 1;
}

/**
 * UTF-8 encode a string.
 *
 * @example
 * ```ts
 * import { utf8Encode } from "@p2p-edge/libp2p/bytes";
 * utf8Encode("na"); // Uint8Array [110, 97]
 * ```
 */
export function utf8Encode(text: string): Uint8Array {
  return textEncoder.encode(text);
}

/**
 * Strictly decode UTF-8: invalid sequences throw a TypeError (callers map it to their own error).
 *
 * @example
 * ```ts
 * import { utf8Decode } from "@p2p-edge/libp2p/bytes";
 * utf8Decode(new Uint8Array([110, 97])); // "na"
 * ```
 */
export function utf8Decode(bytes: Uint8Array): string {
  return fatalDecoder.decode(bytes);
}

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, "0"));

/**
 * Lower-case hex encoding.
 *
 * @example
 * ```ts
 * import { toHex } from "@p2p-edge/libp2p/bytes";
 * toHex(new Uint8Array([4, 192])); // "04c0"
 * ```
 */
export function toHex(bytes: Uint8Array): string {
  let s = "";
  for (let i = 0; i < bytes.byteLength; i++) s += HEX[bytes[i]];
  return s;
}

/**
 * Decode hex (either case). Throws SyntaxError on odd length or a non-hex character.
 *
 * @example
 * ```ts
 * import { fromHex } from "@p2p-edge/libp2p/bytes";
 * fromHex("04c0"); // Uint8Array [4, 192]
 * ```
 */
export function fromHex(hex: string): Uint8Array {
  if (hex.length % 2 !== 0) throw new SyntaxError("hex string has an odd length");
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) {
    const byte = Number.parseInt(hex.slice(2 * i, 2 * i + 2), 16);
    if (!/^[0-9a-fA-F]{2}$/.test(hex.slice(2 * i, 2 * i + 2))) {
      throw new SyntaxError(`invalid hex character at offset ${2 * i}`);
    }
    out[i] = byte;
  }
  return out;
}

/**
 * A fresh array of cryptographically random bytes.
 *
 * @example
 * ```ts
 * import { randomBytes } from "@p2p-edge/libp2p/bytes";
 * randomBytes(32).length; // 32
 * ```
 */
export function randomBytes(length: number): Uint8Array {
  const out = new Uint8Array(length);
  // getRandomValues fills at most 65536 bytes per call.
  for (let i = 0; i < length; i += 65536) {
    crypto.getRandomValues(out.subarray(i, Math.min(length, i + 65536)));
  }
  return out;
}

// Small long-lived arrays (keys, peer ids, addresses) share slabs. On Deno and Bun every
// Uint8Array with its own ArrayBuffer carries a separately allocated backing store: measured on
// Deno 2.9.6, a 32-byte array with its own buffer costs ~350 B more resident memory than a view
// into a shared buffer, and an idle connection held five of them. A slab is 1 KiB, so one
// surviving view pins at most 1 KiB after its neighbours are gone.
const SLAB_BYTES = 1024;
/** Arrays longer than this get their own buffer from {@link compactAlloc}. */
export const COMPACT_MAX_BYTES = 128;
let slab = new Uint8Array(0);
let slabUsed = 0;

/**
 * A zero-filled array of `length` bytes for data that lives long (keys, peer ids, addresses).
 * Up to {@link COMPACT_MAX_BYTES} it is a view into a buffer shared with other such arrays, so
 * its `.buffer` is not its own: use `byteOffset`/`byteLength`, and never transfer or detach
 * the buffer. Longer arrays are plain `new Uint8Array(length)`.
 *
 * @example
 * ```ts
 * import { compactAlloc } from "@p2p-edge/libp2p/bytes";
 * const key = compactAlloc(32);
 * key.length; // 32
 * ```
 */
export function compactAlloc(length: number): Uint8Array {
  if (!Number.isSafeInteger(length) || length < 0) {
    throw new RangeError(`length must be a non-negative integer, got ${length}`);
  }
  if (length > COMPACT_MAX_BYTES) return new Uint8Array(length);
  if (slabUsed + length > slab.byteLength) {
    slab = new Uint8Array(SLAB_BYTES);
    slabUsed = 0;
  }
  const out = slab.subarray(slabUsed, slabUsed + length);
  slabUsed += length;
  return out;
}

/**
 * A copy of `bytes` from {@link compactAlloc}: the way to keep a small array taken from a
 * larger message without keeping the message, at a fraction of the memory of `bytes.slice()`.
 *
 * @example
 * ```ts
 * import { compactCopy } from "@p2p-edge/libp2p/bytes";
 * const message = new Uint8Array(1024);
 * const kept = compactCopy(message.subarray(0, 32));
 * kept.length; // 32
 * ```
 */
export function compactCopy(bytes: Uint8Array): Uint8Array {
  const out = compactAlloc(bytes.byteLength);
  out.set(bytes);
  return out;
}
