/**
 * IPv4 and IPv6 text <-> bytes, written for multiaddr's `ip4` and `ip6` components.
 *
 * Parsing is strict: dotted-quad IPv4 only (no leading zeros, no shorthand such as `1.2.3`),
 * IPv6 per RFC 4291 section 2.2 (hex groups, one `::`, optional trailing dotted IPv4), no zone
 * (`%eth0` belongs in a separate `/ip6zone` component). Output follows RFC 5952 section 4
 * (lower case, no leading zeros, the first longest run of two or more zero groups compressed)
 * and, like the WHATWG URL serializer that js-multiaddr uses, never prints a dotted IPv4 tail:
 * `::ffff:1.2.3.4` prints as `::ffff:102:304`.
 *
 * @module
 */

/**
 * Parse a dotted-quad IPv4 address into 4 bytes; `undefined` when the text is not one.
 *
 * @example
 * ```ts
 * import { parseIPv4 } from "@p2p-edge/libp2p/multiaddr";
 * parseIPv4("192.0.2.42"); // Uint8Array [192, 0, 2, 42]
 * parseIPv4("01.2.3.4"); // undefined
 * ```
 */
export function parseIPv4(text: string): Uint8Array | undefined {
  const out = new Uint8Array(4);
  return readIPv4(text, out, 0) ? out : undefined;
}

/** Write the IPv4 in `text` into `out` at `offset`; false when `text` is not a dotted quad. */
function readIPv4(text: string, out: Uint8Array, offset: number): boolean {
  if (text.length < 7 || text.length > 15) return false;
  let part = 0;
  let value = 0;
  let digits = 0;
  for (let i = 0; i <= text.length; i++) {
    const c = i < text.length ? text.charCodeAt(i) : 0x2e; // virtual "." at the end
    if (c === 0x2e) {
      if (digits === 0 || part > 3) return false;
      out[offset + part++] = value;
      value = 0;
      digits = 0;
    } else if (c >= 0x30 && c <= 0x39) {
      if (digits > 0 && value === 0) return false; // leading zero
      value = value * 10 + (c - 0x30);
      if (++digits > 3 || value > 255) return false;
    } else {
      return false;
    }
  }
  return part === 4;
}

/**
 * Format 4 bytes as dotted-quad text.
 *
 * @example
 * ```ts
 * import { formatIPv4 } from "@p2p-edge/libp2p/multiaddr";
 * formatIPv4(new Uint8Array([127, 0, 0, 1])); // "127.0.0.1"
 * ```
 */
export function formatIPv4(bytes: Uint8Array): string {
  if (bytes.byteLength !== 4) throw new RangeError("an IPv4 address is 4 bytes");
  return `${bytes[0]}.${bytes[1]}.${bytes[2]}.${bytes[3]}`;
}

/**
 * Parse IPv6 text (RFC 4291 section 2.2) into 16 bytes; `undefined` when it is not one.
 * Zones (`%eth0`) are rejected.
 *
 * @example
 * ```ts
 * import { parseIPv6 } from "@p2p-edge/libp2p/multiaddr";
 * parseIPv6("::1")?.[15]; // 1
 * parseIPv6("::ffff:1.2.3.4")?.[12]; // 1
 * ```
 */
export function parseIPv6(text: string): Uint8Array | undefined {
  // Longest valid form: 8 groups of 4 hex digits and 7 colons (39), or 6 groups + IPv4 (45).
  if (text.length < 2 || text.length > 45) return undefined;
  const out = new Uint8Array(16);
  const groups: number[] = [];
  let compressAt = -1;
  let i = 0;
  if (text.startsWith("::")) {
    compressAt = 0;
    i = 2;
    if (i === text.length) return out;
  } else if (text.charCodeAt(0) === 0x3a) {
    return undefined; // a single leading ":"
  }
  let tail: Uint8Array | undefined;
  while (i < text.length) {
    // One group (or a trailing IPv4) starts at i.
    let end = i;
    while (end < text.length && text.charCodeAt(end) !== 0x3a) end++;
    const token = text.slice(i, end);
    if (token.includes(".")) {
      // An embedded IPv4 must be the last token and fill the last 32 bits.
      if (end !== text.length) return undefined;
      tail = new Uint8Array(4);
      if (!readIPv4(token, tail, 0)) return undefined;
      i = end;
      break;
    }
    if (token.length === 0 || token.length > 4) return undefined;
    let value = 0;
    for (let k = 0; k < token.length; k++) {
      const h = hexValue(token.charCodeAt(k));
      if (h < 0) return undefined;
      value = value * 16 + h;
    }
    groups.push(value);
    if (end === text.length) {
      i = end;
      break;
    }
    // end is at a ":"; "::" marks the compressed run (at most once).
    if (text.charCodeAt(end + 1) === 0x3a) {
      if (compressAt >= 0) return undefined;
      compressAt = groups.length;
      i = end + 2;
      if (i === text.length) break;
    } else {
      i = end + 1;
      if (i === text.length) return undefined; // trailing single ":"
    }
  }
  const total = groups.length + (tail ? 2 : 0);
  if (compressAt < 0 ? total !== 8 : total > 7) return undefined;
  // Lay the groups out: those before "::" from the front, the rest (and the IPv4) at the back.
  const before = compressAt < 0 ? groups.length : compressAt;
  for (let g = 0; g < before; g++) {
    out[2 * g] = groups[g] >> 8;
    out[2 * g + 1] = groups[g] & 0xff;
  }
  const after = groups.length - before;
  const afterStart = 8 - (tail ? 2 : 0) - after;
  for (let g = 0; g < after; g++) {
    const value = groups[before + g];
    out[2 * (afterStart + g)] = value >> 8;
    out[2 * (afterStart + g) + 1] = value & 0xff;
  }
  if (tail) out.set(tail, 12);
  return out;
}

function hexValue(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x61 && c <= 0x66) return c - 0x57;
  if (c >= 0x41 && c <= 0x46) return c - 0x37;
  return -1;
}

/**
 * Format 16 bytes as canonical IPv6 text (RFC 5952 section 4, hex tail for IPv4-mapped forms).
 *
 * @example
 * ```ts
 * import { formatIPv6 } from "@p2p-edge/libp2p/multiaddr";
 * const bytes = new Uint8Array(16);
 * bytes[15] = 1;
 * formatIPv6(bytes); // "::1"
 * ```
 */
export function formatIPv6(bytes: Uint8Array): string {
  if (bytes.byteLength !== 16) throw new RangeError("an IPv6 address is 16 bytes");
  const groups = new Array<number>(8);
  for (let g = 0; g < 8; g++) groups[g] = (bytes[2 * g] << 8) | bytes[2 * g + 1];
  // RFC 5952 4.2.2/4.2.3: compress the first longest run of at least two zero groups.
  let bestStart = -1;
  let bestLength = 1;
  for (let g = 0; g < 8;) {
    if (groups[g] !== 0) {
      g++;
      continue;
    }
    let end = g;
    while (end < 8 && groups[end] === 0) end++;
    if (end - g > bestLength) {
      bestStart = g;
      bestLength = end - g;
    }
    g = end;
  }
  if (bestStart < 0) return groups.map((v) => v.toString(16)).join(":");
  const head = groups.slice(0, bestStart).map((v) => v.toString(16)).join(":");
  const tail = groups.slice(bestStart + bestLength).map((v) => v.toString(16)).join(":");
  return `${head}::${tail}`;
}
