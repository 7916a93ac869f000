/**
 * The immutable {@link Multiaddr} value and its factory {@link multiaddr}.
 *
 * A Multiaddr keeps its validated binary form; the text form and the component list are built
 * on first use and cached. Equality is byte equality (the spec's advice: text can escape the
 * same value in several ways).
 *
 * @module
 */

import { compactAlloc, compactCopy, equals as bytesEqual } from "../bytes.ts";
import { base58btc } from "../multiformats/multibase.ts";
import {
  type ComponentSpan,
  decodeMultiaddrBytes,
  formatMultiaddr,
  formatValue,
  MAX_MULTIADDR_BYTES,
  parseMultiaddrString,
} from "./codec.ts";
import {
  CODE_DNS,
  CODE_DNS4,
  CODE_DNS6,
  CODE_IP4,
  CODE_IP6,
  CODE_IP6ZONE,
  CODE_P2P,
  CODE_P2P_CIRCUIT,
  CODE_TCP,
  CODE_UDP,
  parsePeerIdText,
  type Protocol,
} from "./protocols.ts";

/**
 * One component of a multiaddr.
 *
 * @example
 * ```ts
 * import { multiaddr } from "@p2p-edge/libp2p/multiaddr";
 * multiaddr("/ip4/1.2.3.4/tcp/80").components()[1]; // { code: 6, name: "tcp", value: "80", ... }
 * ```
 */
export interface Component {
  /** Protocol code. */
  readonly code: number;
  /** Protocol name. */
  readonly name: string;
  /**
   * The value as text, not percent-encoded (`/tmp/x.sock` for `/unix/%2Ftmp%2Fx.sock`); peer
   * ids in base58btc, certhashes in base64url multibase. Absent for protocols without a value.
   */
  readonly value?: string;
  /** The component's whole binary encoding (code, length prefix, value). */
  readonly bytes: Uint8Array;
}

/** Anything {@link multiaddr} accepts. */
export type MultiaddrInput = string | Uint8Array | Multiaddr;

/**
 * Host and port of an IP or DNS + TCP/UDP multiaddr, as socket APIs want them.
 *
 * @example
 * ```ts
 * import { multiaddr } from "@p2p-edge/libp2p/multiaddr";
 * multiaddr("/ip6/::1/udp/4001/quic-v1").toNodeAddress();
 * // { family: 6, host: "::1", port: 4001, transport: "udp" }
 * ```
 */
export interface NodeAddress {
  /** 4 or 6 for IP addresses; "dns" for `dns`, `dns4` and `dns6` names. */
  readonly family: 4 | 6 | "dns";
  /** IP text or DNS name; an `ip6zone` is appended as `%zone`. */
  readonly host: string;
  /** Port number. */
  readonly port: number;
  /** Transport protocol. */
  readonly transport: "tcp" | "udp";
}

/**
 * An immutable, validated multiaddr. Create one with {@link multiaddr}.
 *
 * @example
 * ```ts
 * import { multiaddr } from "@p2p-edge/libp2p/multiaddr";
 * const ma = multiaddr("/ip4/192.0.2.42/tcp/443");
 * ma.bytes; // Uint8Array 04 c000022a 06 01bb
 * ma.toString(); // "/ip4/192.0.2.42/tcp/443"
 * ```
 */
export class Multiaddr {
  /** The binary form. Treat as read-only: it is shared, not copied. */
  readonly bytes: Uint8Array;
  // Decoded again on first use: most multiaddrs of connections and peer records are only
  // compared and sent, and their component spans would cost more than their bytes.
  #spans: readonly ComponentSpan[] | undefined;
  #string: string | undefined;
  #components: readonly Component[] | undefined;

  /**
   * Internal: use {@link multiaddr}. `bytes` must be valid (decodeMultiaddrBytes did not throw);
   * `spans`, when given, must be what decodeMultiaddrBytes(bytes) returns.
   */
  private constructor(bytes: Uint8Array, spans?: readonly ComponentSpan[]) {
    this.bytes = bytes;
    this.#spans = spans;
  }

  /**
   * Decode and validate bytes (DecodeError on malformed input). The bytes are copied, so a view
   * into a larger message buffer neither keeps that buffer alive nor changes under us.
   */
  static fromBytes(bytes: Uint8Array): Multiaddr {
    if (!(bytes instanceof Uint8Array)) throw new TypeError("multiaddr bytes must be a Uint8Array");
    decodeMultiaddrBytes(bytes);
    return new Multiaddr(compactCopy(bytes));
  }

  /** Parse text (SyntaxError on malformed text, RangeError over the size limits). */
  static fromString(text: string): Multiaddr {
    const bytes = parseMultiaddrString(text);
    decodeMultiaddrBytes(bytes);
    return new Multiaddr(compactCopy(bytes));
  }

  get #parts(): readonly ComponentSpan[] {
    // Kept as a copy: it has exactly its length, where an array grown by push keeps room for 17.
    return this.#spans ??= decodeMultiaddrBytes(this.bytes).slice();
  }

  /** Canonical text form (cached). */
  toString(): string {
    return this.#string ??= formatMultiaddr(this.bytes, this.#parts);
  }

  /** JSON form is the text form. */
  toJSON(): string {
    return this.toString();
  }

  /** The components, in order (cached; the array is frozen). */
  components(): readonly Component[] {
    if (this.#components === undefined) {
      this.#components = Object.freeze(this.#parts.map((span) => {
        const value = formatValue(this.bytes, span);
        const component: Component = {
          code: span.protocol.code,
          name: span.protocol.name,
          bytes: this.bytes.subarray(span.start, span.end),
        };
        return Object.freeze(value === undefined ? component : { ...component, value });
      }));
    }
    return this.#components;
  }

  /** Same as {@link Multiaddr.components}, named like js-multiaddr's method. */
  getComponents(): readonly Component[] {
    return this.components();
  }

  /** The protocols of the components, in order. */
  protos(): Protocol[] {
    return this.#parts.map((span) => span.protocol);
  }

  /** The protocol codes of the components, in order. */
  protoCodes(): number[] {
    return this.#parts.map((span) => span.protocol.code);
  }

  /** The protocol names of the components, in order. */
  protoNames(): string[] {
    return this.#parts.map((span) => span.protocol.name);
  }

  /** Append another multiaddr (or text) after this one. */
  encapsulate(addr: MultiaddrInput): Multiaddr {
    const other = multiaddr(addr);
    if (other.bytes.byteLength === 0) return this;
    if (this.bytes.byteLength + other.bytes.byteLength > MAX_MULTIADDR_BYTES) {
      throw new RangeError(`multiaddr exceeds MAX_MULTIADDR_BYTES (${MAX_MULTIADDR_BYTES})`);
    }
    const bytes = compactAlloc(this.bytes.byteLength + other.bytes.byteLength);
    bytes.set(this.bytes);
    bytes.set(other.bytes, this.bytes.byteLength);
    // Re-validated: the joined component count may pass MAX_MULTIADDR_COMPONENTS.
    decodeMultiaddrBytes(bytes);
    return new Multiaddr(bytes);
  }

  /**
   * Remove the LAST occurrence of `addr` (matched component by component, not as a substring)
   * and everything after it. Throws RangeError when `addr` does not occur.
   */
  decapsulate(addr: MultiaddrInput): Multiaddr {
    const other = multiaddr(addr);
    const needle = other.#parts;
    if (needle.length === 0) return this;
    const spans = this.#parts;
    for (let i = spans.length - needle.length; i >= 0; i--) {
      const start = spans[i].start;
      const end = spans[i + needle.length - 1].end;
      if (bytesEqual(this.bytes.subarray(start, end), other.bytes)) return this.#prefix(i);
    }
    throw new RangeError(`${this.toString()} does not contain ${other.toString()}`);
  }

  /**
   * Remove the last component with this code and everything after it; returns this multiaddr
   * unchanged when no component has the code (like js-multiaddr).
   */
  decapsulateCode(code: number): Multiaddr {
    const spans = this.#parts;
    for (let i = spans.length - 1; i >= 0; i--) {
      if (spans[i].protocol.code === code) return this.#prefix(i);
    }
    return this;
  }

  /**
   * Peer id (base58btc) of the node this address reaches: the value of the last `/p2p`, unless a
   * `/p2p-circuit` follows it (then the address names a relay, not the destination).
   */
  getPeerId(): string | undefined {
    const spans = this.#parts;
    for (let i = spans.length - 1; i >= 0; i--) {
      const span = spans[i];
      if (span.protocol.code === CODE_P2P_CIRCUIT) return undefined;
      if (span.protocol.code === CODE_P2P) {
        return base58btc.baseEncode(this.bytes.subarray(span.valueStart, span.end));
      }
    }
    return undefined;
  }

  /** Byte equality with another multiaddr. */
  equals(other: Multiaddr): boolean {
    return bytesEqual(this.bytes, other.bytes);
  }

  /**
   * Host, port and transport when the address starts with `ip4`/`ip6` (optionally preceded by
   * `ip6zone`) or `dns`/`dns4`/`dns6`, followed by `tcp` or `udp`; undefined otherwise.
   * Components after the port (`/ws`, `/quic-v1`, `/p2p/...`) are ignored.
   */
  toNodeAddress(): NodeAddress | undefined {
    const spans = this.#parts;
    let i = 0;
    let zone: string | undefined;
    if (spans.length > 0 && spans[0].protocol.code === CODE_IP6ZONE) {
      zone = formatValue(this.bytes, spans[0]);
      i = 1;
    }
    if (spans.length < i + 2) return undefined;
    const hostSpan = spans[i];
    const portSpan = spans[i + 1];
    const hostCode = hostSpan.protocol.code;
    let family: 4 | 6 | "dns";
    if (hostCode === CODE_IP4 && zone === undefined) family = 4;
    else if (hostCode === CODE_IP6) family = 6;
    else if (
      (hostCode === CODE_DNS || hostCode === CODE_DNS4 || hostCode === CODE_DNS6) &&
      zone === undefined
    ) family = "dns";
    else return undefined;
    const portCode = portSpan.protocol.code;
    if (portCode !== CODE_TCP && portCode !== CODE_UDP) return undefined;
    let host = formatValue(this.bytes, hostSpan) as string;
    if (zone !== undefined) host += "%" + zone;
    const port = (this.bytes[portSpan.valueStart] << 8) | this.bytes[portSpan.valueStart + 1];
    return { family, host, port, transport: portCode === CODE_TCP ? "tcp" : "udp" };
  }

  #prefix(count: number): Multiaddr {
    const spans = this.#parts;
    if (count === spans.length) return this;
    const end = count === 0 ? 0 : spans[count - 1].end;
    return new Multiaddr(this.bytes.subarray(0, end), spans.slice(0, count));
  }
}

/**
 * Create a {@link Multiaddr} from text, bytes or another Multiaddr (returned as is).
 * Text errors: SyntaxError (malformed, unknown protocol, bad IP, port out of range) or
 * RangeError (size limits). Byte errors: DecodeError.
 *
 * @example
 * ```ts
 * import { multiaddr } from "@p2p-edge/libp2p/multiaddr";
 * multiaddr("/dns4/example.com/tcp/443/wss").protoNames(); // ["dns4", "tcp", "wss"]
 * multiaddr(new Uint8Array([0x04, 127, 0, 0, 1])).toString(); // "/ip4/127.0.0.1"
 * ```
 */
export function multiaddr(input: MultiaddrInput): Multiaddr {
  if (typeof input === "string") return Multiaddr.fromString(input);
  if (input instanceof Uint8Array) return Multiaddr.fromBytes(input);
  if (input instanceof Multiaddr) return input;
  throw new TypeError("multiaddr input must be a string, a Uint8Array or a Multiaddr");
}

/**
 * True when `value` is a {@link Multiaddr} of this library.
 *
 * @example
 * ```ts
 * import { isMultiaddr, multiaddr } from "@p2p-edge/libp2p/multiaddr";
 * isMultiaddr(multiaddr("/ip4/1.2.3.4")); // true
 * isMultiaddr("/ip4/1.2.3.4"); // false
 * ```
 */
export function isMultiaddr(value: unknown): value is Multiaddr {
  return value instanceof Multiaddr;
}

/**
 * The address with `/p2p/<peerId>` appended, unless it already ends in that peer id. Throws
 * SyntaxError for invalid peer id text and RangeError when the address already names another
 * peer.
 *
 * @example
 * ```ts
 * import { multiaddr, withPeerId } from "@p2p-edge/libp2p/multiaddr";
 * withPeerId(multiaddr("/ip4/1.2.3.4/tcp/1"), "QmcgpsyWgH8Y8ajJz1Cu72KnS5uo2Aa2LpzU7kinSupNKC")
 *   .toString(); // "/ip4/1.2.3.4/tcp/1/p2p/QmcgpsyWgH8Y8ajJz1Cu72KnS5uo2Aa2LpzU7kinSupNKC"
 * ```
 */
export function withPeerId(ma: MultiaddrInput, peerId: string): Multiaddr {
  const addr = multiaddr(ma);
  const id = base58btc.baseEncode(parsePeerIdText(peerId));
  const existing = addr.getPeerId();
  if (existing === id) return addr;
  if (existing !== undefined) {
    throw new RangeError(`${addr.toString()} already names peer ${existing}, not ${id}`);
  }
  return addr.encapsulate(`/p2p/${id}`);
}

/**
 * The address without a trailing `/p2p/<id>` component (unchanged if it has none).
 *
 * @example
 * ```ts
 * import { multiaddr, withoutPeerId } from "@p2p-edge/libp2p/multiaddr";
 * withoutPeerId(
 *   multiaddr("/ip4/1.2.3.4/tcp/1/p2p/QmcgpsyWgH8Y8ajJz1Cu72KnS5uo2Aa2LpzU7kinSupNKC"),
 * ).toString(); // "/ip4/1.2.3.4/tcp/1"
 * ```
 */
export function withoutPeerId(ma: MultiaddrInput): Multiaddr {
  const addr = multiaddr(ma);
  const codes = addr.protoCodes();
  return codes[codes.length - 1] === CODE_P2P ? addr.decapsulateCode(CODE_P2P) : addr;
}
