/**
 * The multiaddr protocol table: code, name, value size and the value codec of every protocol
 * this implementation understands. Codes come from the multicodec table
 * (github.com/multiformats/multicodec, `table.csv`, tag `multiaddr`).
 *
 * Where implementations disagree, the table says which one it follows:
 * - `memory` (0x0309): js-multiaddr 13 uses a variable-length UTF-8 value, go-multiaddr a fixed
 *   64-bit integer. We follow js; the value only names an in-process listener.
 * - `http-path` (481): the value bytes are the path without a leading `/` (go-multiaddr and the
 *   spec `protocols/httppath.md`); js-multiaddr 13 stores an extra leading `/`.
 * - `unix` (400): printed as one percent-encoded segment (spec `protocols/unix.md`, js); the
 *   legacy go form that consumes the rest of the string (`/unix/tmp/x.sock`) is also parsed.
 *
 * @module
 */

import { DecodeError } from "../errors.ts";
import { utf8Decode, utf8Encode } from "../bytes.ts";
import { CID, LIBP2P_KEY_CODEC } from "../multiformats/cid.ts";
import { base32, base58btc, base64url, multibaseDecode } from "../multiformats/multibase.ts";
import { decodeMultihash, IDENTITY_CODE, SHA2_256_CODE } from "../multiformats/multihash.ts";
import { formatIPv4, formatIPv6, parseIPv4, parseIPv6 } from "./ip.ts";

/** `size` of a protocol whose value is length-prefixed (varint length, then the bytes). */
export const VARIABLE_SIZE: number = -1;

/** Code of `ip4`. */
export const CODE_IP4 = 4;
/** Code of `tcp`. */
export const CODE_TCP = 6;
/** Code of `dccp`. */
export const CODE_DCCP = 33;
/** Code of `ip6`. */
export const CODE_IP6 = 41;
/** Code of `ip6zone`. */
export const CODE_IP6ZONE = 42;
/** Code of `ipcidr`. */
export const CODE_IPCIDR = 43;
/** Code of `dns`. */
export const CODE_DNS = 53;
/** Code of `dns4`. */
export const CODE_DNS4 = 54;
/** Code of `dns6`. */
export const CODE_DNS6 = 55;
/** Code of `dnsaddr`. */
export const CODE_DNSADDR = 56;
/** Code of `sctp`. */
export const CODE_SCTP = 132;
/** Code of `udp`. */
export const CODE_UDP = 273;
/** Code of `webrtc-direct`. */
export const CODE_WEBRTC_DIRECT = 280;
/** Code of `webrtc`. */
export const CODE_WEBRTC = 281;
/** Code of `p2p-circuit`. */
export const CODE_P2P_CIRCUIT = 290;
/** Code of `unix`. */
export const CODE_UNIX = 400;
/** Code of `p2p` (legacy text name `ipfs`). */
export const CODE_P2P = 421;
/** Code of `https`. */
export const CODE_HTTPS = 443;
/** Code of `onion`. */
export const CODE_ONION = 444;
/** Code of `onion3`. */
export const CODE_ONION3 = 445;
/** Code of `tls`. */
export const CODE_TLS = 448;
/** Code of `sni`. */
export const CODE_SNI = 449;
/** Code of `noise`. */
export const CODE_NOISE = 454;
/** Code of `quic` (draft-29, deprecated). */
export const CODE_QUIC = 460;
/** Code of `quic-v1`. */
export const CODE_QUIC_V1 = 461;
/** Code of `webtransport`. */
export const CODE_WEBTRANSPORT = 465;
/** Code of `certhash`. */
export const CODE_CERTHASH = 466;
/** Code of `ws`. */
export const CODE_WS = 477;
/** Code of `wss`. */
export const CODE_WSS = 478;
/** Code of `http`. */
export const CODE_HTTP = 480;
/** Code of `http-path`. */
export const CODE_HTTP_PATH = 481;
/** Code of `memory`. */
export const CODE_MEMORY = 777;

/**
 * One protocol of the table.
 *
 * @example
 * ```ts
 * import { protocolByName } from "@p2p-edge/libp2p/multiaddr";
 * protocolByName("tcp")?.size; // 16
 * ```
 */
export interface Protocol {
  /** Multicodec code. */
  readonly code: number;
  /** Canonical text name. */
  readonly name: string;
  /** Value size in bits; 0 when the protocol has no value; {@link VARIABLE_SIZE} if prefixed. */
  readonly size: number;
  /** True for `unix`: the legacy text form lets its value span the rest of the string. */
  readonly path: boolean;
  /** Other accepted text names (`ipfs` for `p2p`). */
  readonly aliases: readonly string[];
}

/** How a protocol's value converts between its text form and its bytes. */
export interface ValueCodec {
  /** Value text (already unescaped) to bytes; throws SyntaxError. */
  parse(value: string): Uint8Array;
  /** Bytes to value text (not escaped); throws DecodeError. */
  format(bytes: Uint8Array): string;
  /** Check bytes read from the wire without formatting them; throws DecodeError. */
  validate(bytes: Uint8Array): void;
  /** Value text to its string-form segment (percent-encoding for `unix` and `http-path`). */
  escape?(value: string): string;
  /** String-form segment to value text; throws SyntaxError. */
  unescape?(segment: string): string;
}

/** A table entry: the public description plus its value codec (absent when size is 0). */
export interface ProtocolEntry extends Protocol {
  /** The value codec; present exactly when `size !== 0`. */
  readonly codec?: ValueCodec;
}

function codecFrom(
  parse: (value: string) => Uint8Array,
  format: (bytes: Uint8Array) => string,
  validate?: (bytes: Uint8Array) => void,
  escaping?: Pick<ValueCodec, "escape" | "unescape">,
): ValueCodec {
  return {
    parse,
    format,
    validate: validate ?? ((bytes) => void format(bytes)),
    ...escaping,
  };
}

// --- ports (tcp, udp, dccp, sctp): 16-bit big-endian, decimal text without leading zeros ---

function parsePort(value: string, min = 0): number {
  if (!/^(0|[1-9][0-9]{0,4})$/.test(value)) {
    throw new SyntaxError(`invalid port ${JSON.stringify(value)}: expected a decimal integer`);
  }
  const port = Number(value);
  if (port > 65535 || port < min) {
    throw new SyntaxError(`port ${port} is out of range ${min}-65535`);
  }
  return port;
}

const portCodec = codecFrom(
  (value) => {
    const port = parsePort(value);
    return Uint8Array.of(port >> 8, port & 0xff);
  },
  (bytes) => String((bytes[0] << 8) | bytes[1]),
  () => {},
);

// --- IP addresses ---

const ip4Codec = codecFrom(
  (value) => {
    const bytes = parseIPv4(value);
    if (bytes === undefined) throw new SyntaxError(`invalid IPv4 address ${JSON.stringify(value)}`);
    return bytes;
  },
  formatIPv4,
  () => {},
);

const ip6Codec = codecFrom(
  (value) => {
    const bytes = parseIPv6(value);
    if (bytes === undefined) throw new SyntaxError(`invalid IPv6 address ${JSON.stringify(value)}`);
    return bytes;
  },
  formatIPv6,
  () => {},
);

const ipcidrCodec = codecFrom(
  (value) => {
    if (!/^(0|[1-9][0-9]{0,2})$/.test(value) || Number(value) > 255) {
      throw new SyntaxError(`invalid CIDR mask ${JSON.stringify(value)}: expected 0-255`);
    }
    return Uint8Array.of(Number(value));
  },
  (bytes) => String(bytes[0]),
  () => {},
);

// --- UTF-8 names (dns*, sni, ip6zone, memory): non-empty, no "/" (it would split the text) ---

function decodeName(bytes: Uint8Array, what: string): string {
  if (bytes.byteLength === 0) throw new DecodeError(`empty ${what}`);
  let text: string;
  try {
    text = utf8Decode(bytes);
  } catch (cause) {
    throw new DecodeError(`${what} is not valid UTF-8`, { cause });
  }
  if (text.includes("/")) throw new DecodeError(`${what} contains "/"`);
  return text;
}

function nameCodec(what: string): ValueCodec {
  return codecFrom(
    (value) => {
      if (value.length === 0) throw new SyntaxError(`empty ${what}`);
      if (value.includes("/")) throw new SyntaxError(`${what} contains "/"`);
      return utf8Encode(value);
    },
    (bytes) => decodeName(bytes, what),
  );
}

// --- percent-encoded values (unix, http-path): one RFC 3986 segment in text, raw in bytes ---

function percentCodec(what: string): ValueCodec {
  return codecFrom(
    (value) => {
      if (value.length === 0) throw new SyntaxError(`empty ${what}`);
      return utf8Encode(value);
    },
    (bytes) => {
      if (bytes.byteLength === 0) throw new DecodeError(`empty ${what}`);
      try {
        return utf8Decode(bytes);
      } catch (cause) {
        throw new DecodeError(`${what} is not valid UTF-8`, { cause });
      }
    },
    undefined,
    {
      escape: encodeURIComponent,
      unescape: (segment) => {
        try {
          return decodeURIComponent(segment);
        } catch (cause) {
          throw new SyntaxError(`invalid percent-encoding in ${what}`, { cause });
        }
      },
    },
  );
}

// --- p2p: a peer id multihash (identity or sha2-256); text base58btc or a libp2p-key CID ---

function checkPeerIdMultihash(bytes: Uint8Array): void {
  const mh = decodeMultihash(bytes);
  if (mh.code !== IDENTITY_CODE && mh.code !== SHA2_256_CODE) {
    throw new DecodeError(`peer id multihash has code ${mh.code}, expected identity or sha2-256`);
  }
}

/**
 * Parse peer id text (base58btc multihash `12D3KooW...`/`Qm...`, or a CIDv1 with the
 * libp2p-key codec in any supported multibase, e.g. `bafz...`, `k51...`) into the multihash
 * bytes. Throws SyntaxError.
 *
 * @example
 * ```ts
 * import { parsePeerIdText } from "@p2p-edge/libp2p/multiaddr";
 * parsePeerIdText("QmcgpsyWgH8Y8ajJz1Cu72KnS5uo2Aa2LpzU7kinSupNKC").length; // 34
 * ```
 */
export function parsePeerIdText(text: string): Uint8Array {
  let bytes: Uint8Array;
  // peer-ids spec "String representation": base58btc multihashes start with "1" (identity)
  // or "Q" (sha2-256); anything else is multibase CID text.
  if (text.startsWith("1") || text.startsWith("Q")) {
    bytes = base58btc.baseDecode(text);
  } else {
    const cid = CID.parse(text);
    if (cid.code !== LIBP2P_KEY_CODEC) {
      throw new SyntaxError(`CID ${JSON.stringify(text)} does not have the libp2p-key codec`);
    }
    bytes = cid.multihash.bytes;
  }
  try {
    checkPeerIdMultihash(bytes);
  } catch (cause) {
    throw new SyntaxError(`invalid peer id ${JSON.stringify(text)}`, { cause });
  }
  return bytes;
}

const p2pCodec = codecFrom(
  parsePeerIdText,
  (bytes) => {
    checkPeerIdMultihash(bytes);
    return base58btc.baseEncode(bytes);
  },
  checkPeerIdMultihash,
);

// --- certhash: multibase text of a multihash; printed in base64url like js and go ---

const certhashCodec = codecFrom(
  (value) => {
    const bytes = multibaseDecode(value);
    try {
      decodeMultihash(bytes);
    } catch (cause) {
      throw new SyntaxError(`certhash ${JSON.stringify(value)} is not a multihash`, { cause });
    }
    return bytes;
  },
  (bytes) => {
    decodeMultihash(bytes);
    return base64url.prefix + base64url.baseEncode(bytes);
  },
  (bytes) => void decodeMultihash(bytes),
);

// --- onion (v2: 10-byte hash + port) and onion3 (35-byte key + port): "<base32>:<port>" ---

function onionCodec(hashChars: number, hashBytes: number): ValueCodec {
  return codecFrom(
    (value) => {
      const colon = value.indexOf(":");
      const host = value.slice(0, colon);
      if (colon < 0 || host.length !== hashChars || !/^[a-z2-7]+$/i.test(host)) {
        throw new SyntaxError(`invalid onion address ${JSON.stringify(value)}`);
      }
      const port = parsePort(value.slice(colon + 1), 1);
      const out = new Uint8Array(hashBytes + 2);
      out.set(base32.baseDecode(host.toLowerCase()));
      out[hashBytes] = port >> 8;
      out[hashBytes + 1] = port & 0xff;
      return out;
    },
    (bytes) => {
      const port = (bytes[hashBytes] << 8) | bytes[hashBytes + 1];
      if (port === 0) throw new DecodeError("onion port must not be 0");
      return `${base32.baseEncode(bytes.subarray(0, hashBytes))}:${port}`;
    },
  );
}

// --- the table ---

function entry(
  code: number,
  name: string,
  size = 0,
  codec?: ValueCodec,
  extra?: { path?: boolean; aliases?: readonly string[] },
): ProtocolEntry {
  return Object.freeze({
    code,
    name,
    size,
    path: extra?.path ?? false,
    aliases: Object.freeze([...(extra?.aliases ?? [])]),
    codec,
  });
}

const V = VARIABLE_SIZE;

/** Every protocol this implementation knows, in multicodec table order. */
export const PROTOCOL_TABLE: readonly ProtocolEntry[] = Object.freeze([
  entry(CODE_IP4, "ip4", 32, ip4Codec),
  entry(CODE_TCP, "tcp", 16, portCodec),
  entry(CODE_DCCP, "dccp", 16, portCodec),
  entry(CODE_IP6, "ip6", 128, ip6Codec),
  entry(CODE_IP6ZONE, "ip6zone", V, nameCodec("IPv6 zone")),
  entry(CODE_IPCIDR, "ipcidr", 8, ipcidrCodec),
  entry(CODE_DNS, "dns", V, nameCodec("DNS name")),
  entry(CODE_DNS4, "dns4", V, nameCodec("DNS name")),
  entry(CODE_DNS6, "dns6", V, nameCodec("DNS name")),
  entry(CODE_DNSADDR, "dnsaddr", V, nameCodec("DNS name")),
  entry(CODE_SCTP, "sctp", 16, portCodec),
  entry(CODE_UDP, "udp", 16, portCodec),
  entry(275, "p2p-webrtc-star"),
  entry(276, "p2p-webrtc-direct"),
  entry(277, "p2p-stardust"),
  entry(CODE_WEBRTC_DIRECT, "webrtc-direct"),
  entry(CODE_WEBRTC, "webrtc"),
  entry(CODE_P2P_CIRCUIT, "p2p-circuit"),
  entry(301, "udt"),
  entry(302, "utp"),
  entry(CODE_UNIX, "unix", V, percentCodec("unix path"), { path: true }),
  entry(CODE_P2P, "p2p", V, p2pCodec, { aliases: ["ipfs"] }),
  entry(CODE_HTTPS, "https"),
  entry(CODE_ONION, "onion", 96, onionCodec(16, 10)),
  entry(CODE_ONION3, "onion3", 296, onionCodec(56, 35)),
  entry(CODE_TLS, "tls"),
  entry(CODE_SNI, "sni", V, nameCodec("SNI host name")),
  entry(CODE_NOISE, "noise"),
  entry(CODE_QUIC, "quic"),
  entry(CODE_QUIC_V1, "quic-v1"),
  entry(CODE_WEBTRANSPORT, "webtransport"),
  entry(CODE_CERTHASH, "certhash", V, certhashCodec),
  entry(CODE_WS, "ws"),
  entry(CODE_WSS, "wss"),
  entry(479, "p2p-websocket-star"),
  entry(CODE_HTTP, "http"),
  entry(CODE_HTTP_PATH, "http-path", V, percentCodec("HTTP path")),
  entry(CODE_MEMORY, "memory", V, nameCodec("memory address")),
  entry(0x706c61, "plaintextv2"),
]);

const byCode: ReadonlyMap<number, ProtocolEntry> = new Map(
  PROTOCOL_TABLE.map((p) => [p.code, p]),
);
const byName: ReadonlyMap<string, ProtocolEntry> = new Map(
  PROTOCOL_TABLE.flatMap((p) => [[p.name, p], ...p.aliases.map((a) => [a, p] as const)]),
);

/**
 * The protocol with this code, if known.
 *
 * @example
 * ```ts
 * import { protocolByCode } from "@p2p-edge/libp2p/multiaddr";
 * protocolByCode(421)?.name; // "p2p"
 * ```
 */
export function protocolByCode(code: number): ProtocolEntry | undefined {
  return byCode.get(code);
}

/**
 * The protocol with this text name or alias, if known.
 *
 * @example
 * ```ts
 * import { protocolByName } from "@p2p-edge/libp2p/multiaddr";
 * protocolByName("ipfs")?.code; // 421
 * ```
 */
export function protocolByName(name: string): ProtocolEntry | undefined {
  return byName.get(name);
}
