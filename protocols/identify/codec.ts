/**
 * The identify message codec: pure, synchronous protobuf encode/decode of
 *
 * ```protobuf
 * message Identify {
 *   optional bytes publicKey = 1;
 *   repeated bytes listenAddrs = 2;
 *   repeated string protocols = 3;
 *   optional bytes observedAddr = 4;
 *   optional string protocolVersion = 5;
 *   optional string agentVersion = 6;
 *   optional bytes signedPeerRecord = 8; // sent by go, rust and js though the spec omits it
 * }
 * ```
 *
 * (libp2p/specs identify/README.md "The Identify Message"), framed on the wire with a uvarint
 * length prefix as go (`pbio.NewDelimitedWriter`), rust and js (`pbStream`) do.
 *
 * @module
 */

import { DecodeError, LimitExceededError } from "../../src/errors.ts";
import { MAX_MULTIADDR_BYTES } from "../../src/multiaddr/mod.ts";
import { ProtobufReader, ProtobufWriter, WireType } from "../../src/protobuf.ts";
import { utf8Decode } from "../../src/bytes.ts";
import { decodeUvarint, uvarintLength, writeUvarint } from "../../src/varint.ts";
import {
  MAX_IDENTIFY_MESSAGE_BYTES,
  MAX_LISTEN_ADDRS,
  MAX_PROTOCOL_ID_BYTES,
  MAX_PROTOCOLS,
} from "./constants.ts";

/**
 * One identify message. Byte fields are as on the wire (decoded ones are views into the input:
 * copy them to keep them beyond the input's lifetime).
 */
export interface IdentifyMessage {
  /** The sender's public key, protobuf-encoded (peer-ids spec). */
  publicKey?: Uint8Array;
  /** Addresses the sender listens on, binary multiaddrs. */
  listenAddrs: Uint8Array[];
  /** Protocols the sender supports. */
  protocols: string[];
  /** Our address as the sender sees it, binary multiaddr. */
  observedAddr?: Uint8Array;
  /** Family of protocols, e.g. `ipfs/0.1.0`. */
  protocolVersion?: string;
  /** Implementation, e.g. `go-libp2p/0.41.0`. */
  agentVersion?: string;
  /** A signed envelope holding the sender's peer record (RFC 0003). */
  signedPeerRecord?: Uint8Array;
}

/** Limits of {@link decodeIdentify}; entries past a count cap are ignored, not an error. */
export interface IdentifyDecodeLimits {
  /** Listen addresses kept. Default {@link MAX_LISTEN_ADDRS}. */
  maxListenAddrs?: number;
  /** Protocols kept. Default {@link MAX_PROTOCOLS}. */
  maxProtocols?: number;
}

/** A decoded message and how many entries were ignored by the caps. */
export interface DecodedIdentify {
  /** The message (capped). */
  message: IdentifyMessage;
  /** Listen addresses ignored (over the count cap or longer than a multiaddr may be). */
  droppedListenAddrs: number;
  /** Protocols ignored (over the count cap or longer than a protocol id may be). */
  droppedProtocols: number;
}

const textEncoder = new TextEncoder();

/**
 * Encode an identify message body (no length prefix), fields in field-number order.
 *
 * @example
 * ```ts
 * import { encodeIdentify } from "@p2p-edge/libp2p/protocols/identify";
 * const body = encodeIdentify({ listenAddrs: [], protocols: ["/ipfs/ping/1.0.0"] });
 * body[0]; // 0x1a: field 3, length-delimited
 * ```
 */
export function encodeIdentify(message: IdentifyMessage): Uint8Array {
  const w = new ProtobufWriter();
  if (message.publicKey !== undefined) w.bytes(1, message.publicKey);
  for (const a of message.listenAddrs) w.bytes(2, a);
  for (const p of message.protocols) w.string(3, p);
  if (message.observedAddr !== undefined) w.bytes(4, message.observedAddr);
  if (message.protocolVersion !== undefined) w.string(5, message.protocolVersion);
  if (message.agentVersion !== undefined) w.string(6, message.agentVersion);
  if (message.signedPeerRecord !== undefined) w.bytes(8, message.signedPeerRecord);
  return w.finish();
}

/**
 * Encoded size of a message body, without encoding it.
 *
 * @example
 * ```ts
 * import { encodeIdentify, identifyEncodedLength } from "@p2p-edge/libp2p/protocols/identify";
 * const m = { listenAddrs: [], protocols: ["/a"] };
 * identifyEncodedLength(m) === encodeIdentify(m).byteLength; // true
 * ```
 */
export function identifyEncodedLength(message: IdentifyMessage): number {
  let n = 0;
  if (message.publicKey !== undefined) n += fieldLength(message.publicKey.byteLength);
  for (const a of message.listenAddrs) n += fieldLength(a.byteLength);
  for (const p of message.protocols) n += fieldLength(utf8Length(p));
  if (message.observedAddr !== undefined) n += fieldLength(message.observedAddr.byteLength);
  if (message.protocolVersion !== undefined) n += fieldLength(utf8Length(message.protocolVersion));
  if (message.agentVersion !== undefined) n += fieldLength(utf8Length(message.agentVersion));
  if (message.signedPeerRecord !== undefined) {
    n += fieldLength(message.signedPeerRecord.byteLength);
  }
  return n;
}

/**
 * Decode an identify message body. Malformed protobuf, a known field with the wrong wire type,
 * or a string that is not UTF-8 throws {@link DecodeError}; unknown fields are skipped. Listen
 * addresses and protocols past the caps (and entries too long to be valid) are ignored and
 * counted. A scalar field sent twice keeps the last value (protobuf merge rules).
 *
 * @example
 * ```ts
 * import { decodeIdentify, encodeIdentify } from "@p2p-edge/libp2p/protocols/identify";
 * const body = encodeIdentify({ listenAddrs: [], protocols: ["/x"], agentVersion: "a/1" });
 * decodeIdentify(body).message.agentVersion; // "a/1"
 * ```
 */
export function decodeIdentify(bytes: Uint8Array, limits?: IdentifyDecodeLimits): DecodedIdentify {
  const maxAddrs = limits?.maxListenAddrs ?? MAX_LISTEN_ADDRS;
  const maxProtocols = limits?.maxProtocols ?? MAX_PROTOCOLS;
  const message: IdentifyMessage = { listenAddrs: [], protocols: [] };
  let droppedListenAddrs = 0;
  let droppedProtocols = 0;
  const r = new ProtobufReader(bytes);
  for (let tag = r.readTag(); tag !== undefined; tag = r.readTag()) {
    switch (tag.field) {
      case 1:
        r.expect(tag, WireType.LENGTH_DELIMITED);
        message.publicKey = r.readBytes();
        break;
      case 2: {
        r.expect(tag, WireType.LENGTH_DELIMITED);
        const addr = r.readBytes();
        if (message.listenAddrs.length < maxAddrs && addr.byteLength <= MAX_MULTIADDR_BYTES) {
          message.listenAddrs.push(addr);
        } else droppedListenAddrs++;
        break;
      }
      case 3: {
        r.expect(tag, WireType.LENGTH_DELIMITED);
        // Check the length before decoding the text: an over-long entry costs nothing.
        const raw = r.readBytes();
        if (message.protocols.length < maxProtocols && raw.byteLength <= MAX_PROTOCOL_ID_BYTES) {
          message.protocols.push(text(raw, "protocols"));
        } else droppedProtocols++;
        break;
      }
      case 4:
        r.expect(tag, WireType.LENGTH_DELIMITED);
        message.observedAddr = r.readBytes();
        break;
      case 5:
        r.expect(tag, WireType.LENGTH_DELIMITED);
        message.protocolVersion = text(r.readBytes(), "protocolVersion");
        break;
      case 6:
        r.expect(tag, WireType.LENGTH_DELIMITED);
        message.agentVersion = text(r.readBytes(), "agentVersion");
        break;
      case 8:
        r.expect(tag, WireType.LENGTH_DELIMITED);
        message.signedPeerRecord = r.readBytes();
        break;
      default:
        r.skip(tag.wireType);
    }
  }
  return { message, droppedListenAddrs, droppedProtocols };
}

/**
 * Encode a message with its uvarint length prefix, as it goes on the wire.
 *
 * @example
 * ```ts
 * import { encodeIdentifyFrame } from "@p2p-edge/libp2p/protocols/identify";
 * const frame = encodeIdentifyFrame({ listenAddrs: [], protocols: [] });
 * frame; // Uint8Array [0]: an empty message
 * ```
 */
export function encodeIdentifyFrame(message: IdentifyMessage): Uint8Array {
  const body = encodeIdentify(message);
  const out = new Uint8Array(uvarintLength(body.byteLength) + body.byteLength);
  const offset = writeUvarint(body.byteLength, out, 0);
  out.set(body, offset);
  return out;
}

/**
 * Decode one length-prefixed message at `offset`: `undefined` when more bytes are needed,
 * LimitExceededError when the prefix announces more than `maxBytes` (checked before anything
 * else), DecodeError for a malformed prefix or body.
 *
 * @example
 * ```ts
 * import { decodeIdentifyFrame, encodeIdentifyFrame } from "@p2p-edge/libp2p/protocols/identify";
 * const frame = encodeIdentifyFrame({ listenAddrs: [], protocols: ["/p"] });
 * decodeIdentifyFrame(frame)?.length === frame.byteLength; // true
 * decodeIdentifyFrame(frame.subarray(0, 2)); // undefined
 * ```
 */
export function decodeIdentifyFrame(
  bytes: Uint8Array,
  offset = 0,
  maxBytes: number = MAX_IDENTIFY_MESSAGE_BYTES,
  limits?: IdentifyDecodeLimits,
): (DecodedIdentify & { length: number }) | undefined {
  const prefix = decodeUvarint(bytes, offset);
  if (prefix === undefined) return undefined;
  checkMessageLength(prefix.value, maxBytes);
  const start = offset + prefix.length;
  const end = start + prefix.value;
  if (end > bytes.byteLength) return undefined;
  const decoded = decodeIdentify(bytes.subarray(start, end), limits);
  return { ...decoded, length: end - offset };
}

/**
 * Throw LimitExceededError when a length prefix passes the read limit.
 *
 * @example
 * ```ts
 * import { checkMessageLength } from "@p2p-edge/libp2p/protocols/identify";
 * checkMessageLength(100, 8192); // ok
 * ```
 */
export function checkMessageLength(length: number, maxBytes: number): void {
  if (length > maxBytes) {
    throw new LimitExceededError(
      `identify message of ${length} bytes exceeds the limit of ${maxBytes}`,
      "MAX_IDENTIFY_MESSAGE_BYTES",
    );
  }
}

/** What {@link fitIdentify} removed to make a message fit. */
export interface FittedIdentify {
  /** The message that fits (a new object; the input is not changed). */
  message: IdentifyMessage;
  /** Listen addresses dropped from the end. */
  droppedListenAddrs: number;
  /** Protocols dropped from the end. */
  droppedProtocols: number;
  /** Whether the signed peer record had to go too. */
  droppedSignedPeerRecord: boolean;
}

/**
 * Trim a message we are about to send so its body is at most `maxBytes`: drop listen
 * addresses and protocols from the end (the longer list first), then the signed peer record.
 * Throws RangeError when even that does not fit (the fixed fields alone are too big).
 *
 * @example
 * ```ts
 * import { fitIdentify } from "@p2p-edge/libp2p/protocols/identify";
 * const protocols = Array.from({ length: 1000 }, (_, i) => `/p/${i}`);
 * const fitted = fitIdentify({ listenAddrs: [], protocols }, 4096);
 * fitted.droppedProtocols > 0; // true
 * ```
 */
export function fitIdentify(message: IdentifyMessage, maxBytes: number): FittedIdentify {
  const out: IdentifyMessage = {
    ...message,
    listenAddrs: [...message.listenAddrs],
    protocols: [...message.protocols],
  };
  let size = identifyEncodedLength(out);
  let droppedListenAddrs = 0;
  let droppedProtocols = 0;
  let droppedSignedPeerRecord = false;
  while (size > maxBytes) {
    const addrs = out.listenAddrs.length;
    const protocols = out.protocols.length;
    if (addrs > 0 && addrs >= protocols) {
      size -= fieldLength(out.listenAddrs.pop()!.byteLength);
      droppedListenAddrs++;
    } else if (protocols > 0) {
      size -= fieldLength(utf8Length(out.protocols.pop()!));
      droppedProtocols++;
    } else if (out.signedPeerRecord !== undefined) {
      size -= fieldLength(out.signedPeerRecord.byteLength);
      out.signedPeerRecord = undefined;
      droppedSignedPeerRecord = true;
    } else {
      throw new RangeError(`identify message cannot be made to fit in ${maxBytes} bytes`);
    }
  }
  return { message: out, droppedListenAddrs, droppedProtocols, droppedSignedPeerRecord };
}

/**
 * Merge the messages read from one stream into one (go-libp2p sends the signed record in a
 * second message when the first would be big; libp2p/specs PR 709): later scalar fields win,
 * listen addresses are appended, protocols appended without duplicates, both within the caps.
 *
 * @example
 * ```ts
 * import { mergeIdentify } from "@p2p-edge/libp2p/protocols/identify";
 * const m = mergeIdentify([
 *   { listenAddrs: [], protocols: ["/a"] },
 *   { listenAddrs: [], protocols: ["/a", "/b"], agentVersion: "x/1" },
 * ]);
 * m.protocols; // ["/a", "/b"]
 * ```
 */
export function mergeIdentify(
  messages: readonly IdentifyMessage[],
  limits?: IdentifyDecodeLimits,
): IdentifyMessage {
  const maxAddrs = limits?.maxListenAddrs ?? MAX_LISTEN_ADDRS;
  const maxProtocols = limits?.maxProtocols ?? MAX_PROTOCOLS;
  const out: IdentifyMessage = { listenAddrs: [], protocols: [] };
  const seen = new Set<string>();
  for (const m of messages) {
    if (m.publicKey !== undefined) out.publicKey = m.publicKey;
    if (m.observedAddr !== undefined) out.observedAddr = m.observedAddr;
    if (m.protocolVersion !== undefined) out.protocolVersion = m.protocolVersion;
    if (m.agentVersion !== undefined) out.agentVersion = m.agentVersion;
    if (m.signedPeerRecord !== undefined) out.signedPeerRecord = m.signedPeerRecord;
    for (const a of m.listenAddrs) {
      if (out.listenAddrs.length < maxAddrs) out.listenAddrs.push(a);
    }
    for (const p of m.protocols) {
      if (out.protocols.length < maxProtocols && !seen.has(p)) {
        seen.add(p);
        out.protocols.push(p);
      }
    }
  }
  return out;
}

function text(bytes: Uint8Array, field: string): string {
  try {
    return utf8Decode(bytes);
  } catch (cause) {
    throw new DecodeError(`identify ${field} is not valid UTF-8`, { cause });
  }
}

/** Bytes of a length-delimited field numbered below 16 (one-byte key). */
function fieldLength(valueLength: number): number {
  return 1 + uvarintLength(valueLength) + valueLength;
}

function utf8Length(s: string): number {
  // ASCII fast path; protocol ids and versions are nearly always ASCII.
  // deno-lint-ignore no-control-regex
  return /^[\x00-\x7f]*$/.test(s) ? s.length : textEncoder.encode(s).byteLength;
}
