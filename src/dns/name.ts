/**
 * Domain names: text (presentation form, RFC 1035 section 5.1) <-> wire labels, and the
 * compressed-name reader of RFC 1035 section 4.1.4 with its safety rules.
 *
 * Text form: labels joined by `.`; a `.` or `\` inside a label is written `\.` / `\\`, and a byte
 * that is not valid UTF-8 or is a control character is written `\DDD` (three decimal digits). The
 * root is `""`; a trailing `.` is accepted on input. Names keep their case; compare them with
 * {@link nameEquals} (DNS names are case-insensitive for ASCII, RFC 4343).
 *
 * @module
 */

import { DecodeError } from "../errors.ts";
import { HEADER_BYTES, MAX_LABEL_BYTES, MAX_NAME_BYTES } from "./constants.ts";

const utf8 = new TextEncoder();
const fatalUtf8 = new TextDecoder("utf-8", { fatal: true });

/**
 * Split a name in text form into its wire labels, checking RFC 1035 section 2.3.4 (labels of 1 to
 * 63 bytes, at most 255 bytes on the wire). Throws SyntaxError on a bad escape or empty label and
 * RangeError on an oversize label or name.
 *
 * @example
 * ```ts
 * import { nameToLabels } from "@p2p-edge/libp2p/dns";
 * nameToLabels("_p2p._udp.local").length; // 3
 * ```
 */
export function nameToLabels(name: string): Uint8Array[] {
  if (name === "" || name === ".") return [];
  const labels: Uint8Array[] = [];
  let current: number[] = [];
  let wire = 1; // the root's zero octet
  const finish = (): void => {
    if (current.length === 0) throw new SyntaxError(`empty label in DNS name "${name}"`);
    if (current.length > MAX_LABEL_BYTES) {
      throw new RangeError(`DNS label of ${current.length} bytes (max ${MAX_LABEL_BYTES})`);
    }
    wire += current.length + 1;
    if (wire > MAX_NAME_BYTES) {
      throw new RangeError(`DNS name longer than ${MAX_NAME_BYTES} bytes on the wire`);
    }
    labels.push(Uint8Array.from(current));
    current = [];
  };
  const end = name.endsWith(".") && !name.endsWith("\\.") ? name.length - 1 : name.length;
  for (let i = 0; i < end; i++) {
    const ch = name[i];
    if (ch === ".") {
      finish();
    } else if (ch === "\\") {
      const digits = name.slice(i + 1, i + 4);
      if (/^[0-9]{3}$/.test(digits)) {
        const value = Number(digits);
        if (value > 255) throw new SyntaxError(`bad escape \\${digits} in DNS name`);
        current.push(value);
        i += 3;
      } else if (i + 1 < end) {
        current.push(...utf8.encode(name[i + 1]));
        i += 1;
      } else {
        throw new SyntaxError(`dangling "\\" in DNS name "${name}"`);
      }
    } else {
      const cp = name.codePointAt(i)!;
      const ch2 = String.fromCodePoint(cp);
      current.push(...utf8.encode(ch2));
      i += ch2.length - 1;
    }
    if (current.length > MAX_LABEL_BYTES) {
      throw new RangeError(`DNS label longer than ${MAX_LABEL_BYTES} bytes`);
    }
  }
  finish();
  return labels;
}

/** Whether a byte must be written as `\DDD` (control characters and DEL). */
function isControl(b: number): boolean {
  return b < 0x20 || b === 0x7f;
}

function escapeDecimal(b: number): string {
  return "\\" + String(b).padStart(3, "0");
}

/**
 * The text form of one wire label (see the module doc for the escapes).
 *
 * @example
 * ```ts
 * import { labelToText } from "@p2p-edge/libp2p/dns";
 * labelToText(new Uint8Array([0x61, 0x2e, 0x62])); // "a\\.b"
 * ```
 */
export function labelToText(label: Uint8Array): string {
  let ascii = true;
  for (const b of label) {
    if (b >= 0x80) {
      ascii = false;
      break;
    }
  }
  let text: string;
  if (ascii) {
    text = "";
    for (const b of label) text += String.fromCharCode(b);
  } else {
    try {
      text = fatalUtf8.decode(label);
    } catch {
      let out = "";
      for (const b of label) {
        if (b >= 0x80 || isControl(b)) out += escapeDecimal(b);
        else if (b === 0x2e || b === 0x5c) out += "\\" + String.fromCharCode(b);
        else out += String.fromCharCode(b);
      }
      return out;
    }
  }
  let out = "";
  for (const ch of text) {
    const c = ch.charCodeAt(0);
    if (ch === "." || ch === "\\") out += "\\" + ch;
    else if (ch.length === 1 && isControl(c)) out += escapeDecimal(c);
    else out += ch;
  }
  return out;
}

/**
 * Whether two names are the same DNS name: ASCII letters compare case-insensitively (RFC 4343),
 * a trailing dot is ignored.
 *
 * @example
 * ```ts
 * import { nameEquals } from "@p2p-edge/libp2p/dns";
 * nameEquals("_P2P._udp.local.", "_p2p._udp.local"); // true
 * ```
 */
export function nameEquals(a: string, b: string): boolean {
  return canonicalName(a) === canonicalName(b);
}

/**
 * A name with ASCII letters lower-cased and no trailing dot, for use as a map key.
 *
 * @example
 * ```ts
 * import { canonicalName } from "@p2p-edge/libp2p/dns";
 * canonicalName("Host.LOCAL."); // "host.local"
 * ```
 */
export function canonicalName(name: string): string {
  const trimmed = name.endsWith(".") && !name.endsWith("\\.") ? name.slice(0, -1) : name;
  return trimmed.replace(/[A-Z]/g, (c) => c.toLowerCase());
}

/**
 * Read a possibly compressed name at `start` of `message` (RFC 1035 section 4.1.4). Returns the
 * text form and the offset just past the name's bytes at `start` (a pointer counts 2 bytes).
 *
 * Refused with DecodeError: truncation; the reserved label types 01 and 10; a name longer than
 * 255 bytes once expanded; a pointer into the header; and any pointer that does not point
 * strictly before the label sequence it was found in. The last rule refuses forward pointers and
 * makes every chain of jumps strictly decreasing, so compression loops cannot exist.
 *
 * @example
 * ```ts
 * import { readName } from "@p2p-edge/libp2p/dns";
 * const msg = new Uint8Array([...new Uint8Array(12), 1, 0x61, 0, 0xc0, 12]);
 * readName(msg, 15); // ["a", 17]
 * ```
 */
export function readName(message: Uint8Array, start: number): [string, number] {
  let out = "";
  let pos = start;
  let segmentStart = start;
  let end = -1;
  let wire = 1;
  for (;;) {
    if (pos >= message.length) throw new DecodeError("DNS name truncated");
    const len = message[pos];
    if (len === 0) {
      if (end < 0) end = pos + 1;
      return [out, end];
    }
    const kind = len & 0xc0;
    if (kind === 0xc0) {
      if (pos + 1 >= message.length) throw new DecodeError("DNS compression pointer truncated");
      const target = ((len & 0x3f) << 8) | message[pos + 1];
      if (target < HEADER_BYTES) {
        throw new DecodeError(`DNS compression pointer into the header (${target})`);
      }
      if (target >= segmentStart) {
        throw new DecodeError(
          `DNS compression pointer at ${pos} to ${target} does not point backwards (loop or forward pointer)`,
        );
      }
      if (end < 0) end = pos + 2;
      pos = segmentStart = target;
      continue;
    }
    if (kind !== 0) throw new DecodeError(`DNS label type 0x${kind.toString(16)} is not supported`);
    wire += len + 1;
    if (wire > MAX_NAME_BYTES) {
      throw new DecodeError(`DNS name longer than ${MAX_NAME_BYTES} bytes`);
    }
    if (pos + 1 + len > message.length) throw new DecodeError("DNS label truncated");
    const text = labelToText(message.subarray(pos + 1, pos + 1 + len));
    out = out === "" ? text : out + "." + text;
    pos += 1 + len;
  }
}
