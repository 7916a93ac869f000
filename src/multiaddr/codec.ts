/**
 * Pure multiaddr text <-> bytes conversion (github.com/multiformats/multiaddr, README "Encoding"):
 * the binary form is a sequence of `varint(code) [varint(length)] value`; the text form is a
 * sequence of `/name[/value]`.
 *
 * Errors: malformed bytes throw DecodeError (including the size limits below); malformed text
 * throws SyntaxError (including a port out of range, which is a malformed token); text over the
 * size limits throws RangeError. Nothing here throws TypeError/RangeError from internals on bad
 * input.
 *
 * @module
 */

import { DecodeError } from "../errors.ts";
import { decodeUvarint, uvarintLength, writeUvarint } from "../varint.ts";
import { protocolByCode, protocolByName, type ProtocolEntry, VARIABLE_SIZE } from "./protocols.ts";

/**
 * Largest binary multiaddr accepted (bytes). Neither the spec nor go/js name a limit; the
 * longest real addresses (a relayed WebTransport address with two peer ids and two certhashes,
 * or a garlic64 destination of ~400 bytes) stay well below it.
 */
export const MAX_MULTIADDR_BYTES = 1024;
/** Most components accepted in one multiaddr. */
export const MAX_MULTIADDR_COMPONENTS = 64;
/**
 * Longest text form accepted (UTF-16 code units). Text is longer than bytes (base58, percent
 * encoding up to 3x), so this is 4x {@link MAX_MULTIADDR_BYTES}.
 */
export const MAX_MULTIADDR_STRING_LENGTH = 4 * MAX_MULTIADDR_BYTES;

/** Where one component sits in a binary multiaddr. */
export interface ComponentSpan {
  /** The protocol. */
  readonly protocol: ProtocolEntry;
  /** Offset of the component's code varint. */
  readonly start: number;
  /** Offset of the value (after the code and any length prefix). */
  readonly valueStart: number;
  /** Offset just after the component. */
  readonly end: number;
}

/**
 * Split and validate a binary multiaddr. Throws DecodeError on an unknown code, a truncated or
 * over-long varint, a value running past the end, an invalid value, or a size limit.
 *
 * @example
 * ```ts
 * import { decodeMultiaddrBytes } from "@p2p-edge/libp2p/multiaddr";
 * decodeMultiaddrBytes(new Uint8Array([0x04, 192, 0, 2, 42]))[0].protocol.name; // "ip4"
 * ```
 */
export function decodeMultiaddrBytes(bytes: Uint8Array): ComponentSpan[] {
  if (bytes.byteLength > MAX_MULTIADDR_BYTES) {
    throw new DecodeError(
      `multiaddr of ${bytes.byteLength} bytes exceeds MAX_MULTIADDR_BYTES (${MAX_MULTIADDR_BYTES})`,
    );
  }
  const spans: ComponentSpan[] = [];
  let offset = 0;
  while (offset < bytes.byteLength) {
    if (spans.length >= MAX_MULTIADDR_COMPONENTS) {
      throw new DecodeError(
        `multiaddr has more than MAX_MULTIADDR_COMPONENTS (${MAX_MULTIADDR_COMPONENTS}) components`,
      );
    }
    const code = decodeUvarint(bytes, offset);
    if (code === undefined) throw new DecodeError("multiaddr truncated in a protocol code");
    const protocol = protocolByCode(code.value);
    if (protocol === undefined) {
      throw new DecodeError(`unknown multiaddr protocol code ${code.value}`);
    }
    let valueStart = offset + code.length;
    let valueLength: number;
    if (protocol.size === VARIABLE_SIZE) {
      const length = decodeUvarint(bytes, valueStart);
      if (length === undefined) {
        throw new DecodeError(`multiaddr truncated in the length of ${protocol.name}`);
      }
      valueStart += length.length;
      valueLength = length.value;
    } else {
      valueLength = protocol.size / 8;
    }
    if (valueLength > bytes.byteLength - valueStart) {
      throw new DecodeError(
        `multiaddr truncated: ${protocol.name} needs ${valueLength} value bytes, ${
          bytes.byteLength - valueStart
        } left`,
      );
    }
    const end = valueStart + valueLength;
    if (protocol.codec !== undefined) {
      try {
        protocol.codec.validate(bytes.subarray(valueStart, end));
      } catch (cause) {
        if (cause instanceof DecodeError) {
          throw new DecodeError(`invalid ${protocol.name} value: ${cause.message}`, { cause });
        }
        throw new DecodeError(`invalid ${protocol.name} value`, { cause });
      }
    }
    spans.push({ protocol, start: offset, valueStart, end });
    offset = end;
  }
  return spans;
}

/**
 * Format validated spans (from {@link decodeMultiaddrBytes}) as multiaddr text.
 *
 * @example
 * ```ts
 * import { decodeMultiaddrBytes, formatMultiaddr } from "@p2p-edge/libp2p/multiaddr";
 * const bytes = new Uint8Array([0x04, 192, 0, 2, 42, 0x06, 0x01, 0xbb]);
 * formatMultiaddr(bytes, decodeMultiaddrBytes(bytes)); // "/ip4/192.0.2.42/tcp/443"
 * ```
 */
export function formatMultiaddr(bytes: Uint8Array, spans: readonly ComponentSpan[]): string {
  if (spans.length === 0) return "/";
  let text = "";
  for (const span of spans) {
    text += "/" + span.protocol.name;
    const value = formatValue(bytes, span);
    if (value !== undefined) text += "/" + (span.protocol.codec?.escape?.(value) ?? value);
  }
  return text;
}

/**
 * The (unescaped) text value of one span, or undefined for a protocol without a value.
 *
 * @example
 * ```ts
 * import { decodeMultiaddrBytes, formatValue } from "@p2p-edge/libp2p/multiaddr";
 * const bytes = new Uint8Array([0x06, 0x01, 0xbb]);
 * formatValue(bytes, decodeMultiaddrBytes(bytes)[0]); // "443"
 * ```
 */
export function formatValue(bytes: Uint8Array, span: ComponentSpan): string | undefined {
  return span.protocol.codec?.format(bytes.subarray(span.valueStart, span.end));
}

/** One parsed component before the bytes are laid out. */
interface PendingComponent {
  protocol: ProtocolEntry;
  value: Uint8Array | undefined;
  length: number;
}

/**
 * Parse multiaddr text into its binary form. Accepts the legacy `ipfs` name, CID peer ids,
 * trailing slashes, and the legacy path form of `unix`. Throws SyntaxError on malformed text
 * and RangeError when a size limit is exceeded.
 *
 * @example
 * ```ts
 * import { parseMultiaddrString } from "@p2p-edge/libp2p/multiaddr";
 * parseMultiaddrString("/ip4/192.0.2.42/tcp/443"); // 04 c000022a 06 01bb
 * ```
 */
export function parseMultiaddrString(text: string): Uint8Array {
  if (typeof text !== "string") throw new TypeError("multiaddr text must be a string");
  if (text.length > MAX_MULTIADDR_STRING_LENGTH) {
    throw new RangeError(
      `multiaddr text of ${text.length} characters exceeds MAX_MULTIADDR_STRING_LENGTH (${MAX_MULTIADDR_STRING_LENGTH})`,
    );
  }
  if (text.charCodeAt(0) !== 0x2f) throw new SyntaxError('multiaddr text must start with "/"');
  let last = text.length;
  while (last > 1 && text.charCodeAt(last - 1) === 0x2f) last--;
  const segments = last === 1 ? [] : text.slice(1, last).split("/");
  const parts: PendingComponent[] = [];
  let total = 0;
  for (let i = 0; i < segments.length; i++) {
    if (parts.length >= MAX_MULTIADDR_COMPONENTS) {
      throw new RangeError(
        `multiaddr has more than MAX_MULTIADDR_COMPONENTS (${MAX_MULTIADDR_COMPONENTS}) components`,
      );
    }
    const name = segments[i];
    if (name === "") throw new SyntaxError('empty protocol name in multiaddr ("//")');
    const protocol = protocolByName(name);
    if (protocol === undefined) {
      throw new SyntaxError(`unknown multiaddr protocol ${JSON.stringify(name)}`);
    }
    let value: Uint8Array | undefined;
    if (protocol.codec !== undefined) {
      if (i + 1 >= segments.length) throw new SyntaxError(`${name} needs a value`);
      let valueText: string;
      const segment = segments[++i];
      if (protocol.path && isLegacyPath(segments, i)) {
        // go-multiaddr's form: the path is the rest of the string, with its leading "/".
        valueText = "/" + segments.slice(i).join("/");
        i = segments.length;
      } else {
        valueText = protocol.codec.unescape ? protocol.codec.unescape(segment) : segment;
      }
      value = protocol.codec.parse(valueText);
      const fixed = protocol.size === VARIABLE_SIZE ? -1 : protocol.size / 8;
      if (fixed >= 0 && value.byteLength !== fixed) {
        throw new SyntaxError(`${name} value must be ${fixed} bytes`);
      }
    }
    const length = uvarintLength(protocol.code) +
      (value === undefined
        ? 0
        : protocol.size === VARIABLE_SIZE
        ? uvarintLength(value.byteLength) + value.byteLength
        : value.byteLength);
    total += length;
    if (total > MAX_MULTIADDR_BYTES) {
      throw new RangeError(`multiaddr exceeds MAX_MULTIADDR_BYTES (${MAX_MULTIADDR_BYTES})`);
    }
    parts.push({ protocol, value, length });
  }
  const out = new Uint8Array(total);
  let offset = 0;
  for (const part of parts) {
    offset = writeUvarint(part.protocol.code, out, offset);
    if (part.value !== undefined) {
      if (part.protocol.size === VARIABLE_SIZE) {
        offset = writeUvarint(part.value.byteLength, out, offset);
      }
      out.set(part.value, offset);
      offset += part.value.byteLength;
    }
  }
  return out;
}

/**
 * Decide whether a path protocol's value at `segments[i]` uses go's legacy form (the path is the
 * rest of the string). The spec form is one percent-encoded segment; we read the legacy form
 * when the segment holds no escape and the next segment is not a protocol name.
 */
function isLegacyPath(segments: readonly string[], i: number): boolean {
  if (segments[i].includes("%")) return false;
  return i + 1 < segments.length && protocolByName(segments[i + 1]) === undefined;
}
