/**
 * Wire codec of the Kademlia DHT (libp2p/specs `kad-dht/README.md` §RPC messages), as deployed:
 * go's schema is proto3, so default values are absent on the wire and a missing `type` is
 * PUT_VALUE (0). Every message is framed as `uvarint(length) ‖ protobuf`, many per stream.
 *
 * ```proto
 * message Record { bytes key = 1; bytes value = 2; string timeReceived = 5; } // 3, 4 retired
 * message Message {
 *   MessageType type = 1; int32 clusterLevelRaw = 10; bytes key = 2; Record record = 3;
 *   repeated Peer closerPeers = 8; repeated Peer providerPeers = 9;
 *   message Peer { bytes id = 1; repeated bytes addrs = 2; ConnectionType connection = 3; }
 * }
 * ```
 *
 * Limits: the frame length is checked before the body is buffered; `closerPeers`,
 * `providerPeers` and per-peer `addrs` beyond their caps are skipped, not decoded (a response
 * listing thousands of peers is truncated to the cap, never rejected, because go servers answer
 * GET_PROVIDERS with every provider they hold); peer entries with an empty or oversized id and
 * oversized addresses are dropped. Unknown fields are skipped; an unknown message type is a
 * {@link DecodeError}. Peer ids and addresses are copied out of the input (they live long in
 * routing tables); `key` and `record` bytes are views into the input.
 *
 * @module
 */

import { compactCopy } from "../../src/bytes.ts";
import { DecodeError, LimitExceededError } from "../../src/errors.ts";
import { MAX_MULTIADDR_BYTES } from "../../src/multiaddr/codec.ts";
import { ProtobufReader, ProtobufWriter, WireType } from "../../src/protobuf.ts";
import { decodeUvarint, uvarintLength, writeUvarint } from "../../src/varint.ts";
import {
  MAX_ADDRS_PER_PEER,
  MAX_CLOSER_PEERS_PER_MESSAGE,
  MAX_MESSAGE_BYTES,
  MAX_PEER_ID_BYTES,
  MAX_PROVIDER_PEERS_PER_MESSAGE,
} from "./constants.ts";

/** Message types (spec §RPC messages). */
export const MessageType = {
  PUT_VALUE: 0,
  GET_VALUE: 1,
  ADD_PROVIDER: 2,
  GET_PROVIDERS: 3,
  FIND_NODE: 4,
  PING: 5,
} as const;

/** One of the values of {@link MessageType}. */
export type MessageTypeValue = (typeof MessageType)[keyof typeof MessageType];

/** Connection types carried in a peer entry (go `pb/dht.proto`). */
export const ConnectionType = {
  NOT_CONNECTED: 0,
  CONNECTED: 1,
  CAN_CONNECT: 2,
  CANNOT_CONNECT: 3,
} as const;

/** One of the values of {@link ConnectionType}. */
export type ConnectionTypeValue = (typeof ConnectionType)[keyof typeof ConnectionType];

/** A peer entry of `closerPeers` / `providerPeers`. */
export interface KadPeer {
  /** Binary peer id (multihash bytes). */
  id: Uint8Array;
  /** Binary multiaddrs. */
  addrs: Uint8Array[];
  /** What the sender knows of its connection to this peer. */
  connection: ConnectionTypeValue;
}

/** A value record (go-libp2p-record `Record`; fields 3 and 4 are retired, never reused). */
export interface KadRecord {
  /** The record key. */
  key: Uint8Array;
  /** The record value. */
  value: Uint8Array;
  /** RFC 3339 time the receiver stored the record (set by the receiver, empty when absent). */
  timeReceived?: string;
}

/** A DHT RPC message. */
export interface KadMessage {
  /** Message type (absent on the wire when PUT_VALUE). */
  type: MessageTypeValue;
  /** Key of the request (absent on the wire when empty). */
  key?: Uint8Array;
  /** Record of PUT_VALUE / GET_VALUE. */
  record?: KadRecord;
  /** Peers closer to the key. */
  closerPeers: KadPeer[];
  /** Providers of the key. */
  providerPeers: KadPeer[];
}

/** Caps applied while decoding (defaults from constants.ts). */
export interface DecodeLimits {
  /** `closerPeers` kept. Default {@link MAX_CLOSER_PEERS_PER_MESSAGE}. */
  maxCloserPeers?: number;
  /** `providerPeers` kept. Default {@link MAX_PROVIDER_PEERS_PER_MESSAGE}. */
  maxProviderPeers?: number;
  /** Addresses kept per peer. Default {@link MAX_ADDRS_PER_PEER}. */
  maxAddrsPerPeer?: number;
}

const TYPE_NAMES: readonly string[] = [
  "PUT_VALUE",
  "GET_VALUE",
  "ADD_PROVIDER",
  "GET_PROVIDERS",
  "FIND_NODE",
  "PING",
];

/**
 * The name of a message type, for logs.
 *
 * @example
 * ```ts
 * import { messageTypeName } from "@p2p-edge/libp2p/protocols/kad-dht";
 * messageTypeName(4); // "FIND_NODE"
 * ```
 */
export function messageTypeName(type: number): string {
  return TYPE_NAMES[type] ?? `UNKNOWN(${type})`;
}

function encodePeer(peer: KadPeer): ProtobufWriter {
  const w = new ProtobufWriter();
  if (peer.id.byteLength > 0) w.bytes(1, peer.id);
  for (const addr of peer.addrs) w.bytes(2, addr);
  if (peer.connection !== ConnectionType.NOT_CONNECTED) w.uint(3, peer.connection);
  return w;
}

/**
 * Encode a record (proto3: empty fields are omitted).
 *
 * @example
 * ```ts
 * import { encodeRecord } from "@p2p-edge/libp2p/protocols/kad-dht";
 * encodeRecord({ key: new Uint8Array([1]), value: new Uint8Array([2]) });
 * // Uint8Array [0x0a, 0x01, 0x01, 0x12, 0x01, 0x02]
 * ```
 */
export function encodeRecord(record: KadRecord): Uint8Array {
  const w = new ProtobufWriter();
  if (record.key.byteLength > 0) w.bytes(1, record.key);
  if (record.value.byteLength > 0) w.bytes(2, record.value);
  if (record.timeReceived !== undefined && record.timeReceived !== "") {
    w.string(5, record.timeReceived);
  }
  return w.finish();
}

/**
 * Encode a message body (no length prefix), fields in field-number order with proto3 defaults
 * omitted, as go and js write them.
 *
 * @example
 * ```ts
 * import { encodeMessage, MessageType } from "@p2p-edge/libp2p/protocols/kad-dht";
 * encodeMessage({
 *   type: MessageType.FIND_NODE,
 *   key: new Uint8Array([1, 2, 3]),
 *   closerPeers: [],
 *   providerPeers: [],
 * }); // Uint8Array [0x08, 0x04, 0x12, 0x03, 0x01, 0x02, 0x03]
 * ```
 */
export function encodeMessage(message: KadMessage): Uint8Array {
  const w = new ProtobufWriter();
  if (message.type !== MessageType.PUT_VALUE) w.uint(1, message.type);
  if (message.key !== undefined && message.key.byteLength > 0) w.bytes(2, message.key);
  if (message.record !== undefined) w.bytes(3, encodeRecord(message.record));
  for (const p of message.closerPeers) w.message(8, encodePeer(p));
  for (const p of message.providerPeers) w.message(9, encodePeer(p));
  return w.finish();
}

/**
 * Encode a message with its uvarint length prefix, ready to write to a stream.
 *
 * @example
 * ```ts
 * import { encodeFrame, MessageType } from "@p2p-edge/libp2p/protocols/kad-dht";
 * encodeFrame({ type: MessageType.PING, closerPeers: [], providerPeers: [] });
 * // Uint8Array [0x02, 0x08, 0x05]
 * ```
 */
export function encodeFrame(message: KadMessage): Uint8Array {
  const body = encodeMessage(message);
  if (body.byteLength > MAX_MESSAGE_BYTES) {
    throw new LimitExceededError(
      `DHT message of ${body.byteLength} bytes exceeds ${MAX_MESSAGE_BYTES}`,
      "MAX_MESSAGE_BYTES",
    );
  }
  const out = new Uint8Array(uvarintLength(body.byteLength) + body.byteLength);
  const at = writeUvarint(body.byteLength, out, 0);
  out.set(body, at);
  return out;
}

/**
 * Decode a record. Unknown fields (including the retired `author`/`signature`) are skipped.
 *
 * @example
 * ```ts
 * import { decodeRecord } from "@p2p-edge/libp2p/protocols/kad-dht";
 * decodeRecord(new Uint8Array([0x0a, 0x01, 0x01, 0x12, 0x01, 0x02])).value; // Uint8Array [2]
 * ```
 */
export function decodeRecord(bytes: Uint8Array): KadRecord {
  const r = new ProtobufReader(bytes);
  const record: KadRecord = { key: new Uint8Array(0), value: new Uint8Array(0) };
  for (let tag = r.readTag(); tag !== undefined; tag = r.readTag()) {
    if (tag.field === 1) {
      r.expect(tag, WireType.LENGTH_DELIMITED);
      record.key = r.readBytes();
    } else if (tag.field === 2) {
      r.expect(tag, WireType.LENGTH_DELIMITED);
      record.value = r.readBytes();
    } else if (tag.field === 5) {
      r.expect(tag, WireType.LENGTH_DELIMITED);
      record.timeReceived = r.readString();
    } else {
      r.skip(tag.wireType);
    }
  }
  return record;
}

function decodePeer(bytes: Uint8Array, maxAddrs: number): KadPeer | undefined {
  const r = new ProtobufReader(bytes);
  let id: Uint8Array | undefined;
  const addrs: Uint8Array[] = [];
  let connection: ConnectionTypeValue = ConnectionType.NOT_CONNECTED;
  for (let tag = r.readTag(); tag !== undefined; tag = r.readTag()) {
    if (tag.field === 1) {
      r.expect(tag, WireType.LENGTH_DELIMITED);
      id = r.readBytes();
    } else if (tag.field === 2) {
      r.expect(tag, WireType.LENGTH_DELIMITED);
      const addr = r.readBytes();
      if (
        addrs.length < maxAddrs && addr.byteLength > 0 && addr.byteLength <= MAX_MULTIADDR_BYTES
      ) {
        addrs.push(compactCopy(addr));
      }
    } else if (tag.field === 3) {
      r.expect(tag, WireType.VARINT);
      const c = r.readUint64();
      // proto3 enums are open: an unknown value reads as the default.
      connection = c <= 3n ? (Number(c) as ConnectionTypeValue) : ConnectionType.NOT_CONNECTED;
    } else {
      r.skip(tag.wireType);
    }
  }
  if (id === undefined || id.byteLength === 0 || id.byteLength > MAX_PEER_ID_BYTES) {
    return undefined;
  }
  return { id: compactCopy(id), addrs, connection };
}

/**
 * Decode a message body (no length prefix). Throws {@link DecodeError} on malformed input or an
 * unknown message type; peer lists are truncated to the limits.
 *
 * @example
 * ```ts
 * import { decodeMessage } from "@p2p-edge/libp2p/protocols/kad-dht";
 * decodeMessage(new Uint8Array([0x08, 0x05])).type; // 5 (PING)
 * decodeMessage(new Uint8Array([])).type; // 0 (PUT_VALUE: absent in proto3)
 * ```
 */
export function decodeMessage(bytes: Uint8Array, limits?: DecodeLimits): KadMessage {
  if (bytes.byteLength > MAX_MESSAGE_BYTES) {
    throw new LimitExceededError(
      `DHT message of ${bytes.byteLength} bytes exceeds ${MAX_MESSAGE_BYTES}`,
      "MAX_MESSAGE_BYTES",
    );
  }
  const maxCloser = limits?.maxCloserPeers ?? MAX_CLOSER_PEERS_PER_MESSAGE;
  const maxProviders = limits?.maxProviderPeers ?? MAX_PROVIDER_PEERS_PER_MESSAGE;
  const maxAddrs = limits?.maxAddrsPerPeer ?? MAX_ADDRS_PER_PEER;
  const r = new ProtobufReader(bytes);
  const message: KadMessage = { type: MessageType.PUT_VALUE, closerPeers: [], providerPeers: [] };
  for (let tag = r.readTag(); tag !== undefined; tag = r.readTag()) {
    switch (tag.field) {
      case 1: {
        r.expect(tag, WireType.VARINT);
        const type = r.readUint64();
        if (type > 5n) throw new DecodeError(`unknown DHT message type ${type}`);
        message.type = Number(type) as MessageTypeValue;
        break;
      }
      case 2:
        r.expect(tag, WireType.LENGTH_DELIMITED);
        message.key = r.readBytes();
        break;
      case 3:
        r.expect(tag, WireType.LENGTH_DELIMITED);
        message.record = decodeRecord(r.readBytes());
        break;
      case 8: {
        r.expect(tag, WireType.LENGTH_DELIMITED);
        const body = r.readBytes();
        if (message.closerPeers.length < maxCloser) {
          const peer = decodePeer(body, maxAddrs);
          if (peer !== undefined) message.closerPeers.push(peer);
        }
        break;
      }
      case 9: {
        r.expect(tag, WireType.LENGTH_DELIMITED);
        const body = r.readBytes();
        if (message.providerPeers.length < maxProviders) {
          const peer = decodePeer(body, maxAddrs);
          if (peer !== undefined) message.providerPeers.push(peer);
        }
        break;
      }
      default:
        // clusterLevelRaw (10) and unknown fields.
        r.skip(tag.wireType);
    }
  }
  return message;
}

/** One frame found by {@link decodeFrame}. */
export interface DecodedFrame {
  /** The message body: a view into the input. */
  body: Uint8Array;
  /** Bytes of the input the frame occupied (prefix and body). */
  consumed: number;
}

/**
 * Find one `uvarint(length) ‖ body` frame at the start of `bytes`. Returns `undefined` when more
 * bytes are needed; throws {@link LimitExceededError} as soon as the prefix declares more than
 * `maxBytes` (before any body byte is buffered), {@link DecodeError} on a malformed prefix.
 *
 * @example
 * ```ts
 * import { decodeFrame } from "@p2p-edge/libp2p/protocols/kad-dht";
 * decodeFrame(new Uint8Array([0x02, 0x08, 0x05]))?.consumed; // 3
 * decodeFrame(new Uint8Array([0x02, 0x08])); // undefined: incomplete
 * ```
 */
export function decodeFrame(
  bytes: Uint8Array,
  maxBytes: number = MAX_MESSAGE_BYTES,
): DecodedFrame | undefined {
  const length = frameLength(bytes, maxBytes);
  if (length === undefined) return undefined;
  const end = length.prefix + length.body;
  if (bytes.byteLength < end) return undefined;
  return { body: bytes.subarray(length.prefix, end), consumed: end };
}

/**
 * Read the length prefix of a frame and check it against `maxBytes`. Returns `undefined` while
 * the prefix is incomplete.
 *
 * @example
 * ```ts
 * import { frameLength } from "@p2p-edge/libp2p/protocols/kad-dht";
 * frameLength(new Uint8Array([0xac, 0x02])); // { prefix: 2, body: 300 }
 * ```
 */
export function frameLength(
  bytes: Uint8Array,
  maxBytes: number = MAX_MESSAGE_BYTES,
): { prefix: number; body: number } | undefined {
  const v = decodeUvarint(bytes, 0);
  if (v === undefined) {
    // A prefix of a 4 MiB frame is at most 4 bytes: more means an oversized declaration.
    if (bytes.byteLength > uvarintLength(maxBytes)) {
      throw new LimitExceededError("DHT frame length prefix too long", "MAX_MESSAGE_BYTES");
    }
    return undefined;
  }
  if (v.value > maxBytes) {
    throw new LimitExceededError(
      `DHT frame declares ${v.value} bytes, more than ${maxBytes}`,
      "MAX_MESSAGE_BYTES",
    );
  }
  return { prefix: v.length, body: v.value };
}

/**
 * Sans-IO reassembly of frames from stream chunks: `push` each chunk, then call `next` until it
 * returns `undefined`. The declared length is checked before the body is buffered (HARDENING.md
 * rule 1); only then is a buffer of exactly that length allocated.
 *
 * @example
 * ```ts
 * import { FrameDecoder } from "@p2p-edge/libp2p/protocols/kad-dht";
 * const d = new FrameDecoder();
 * d.push(new Uint8Array([0x02, 0x08]));
 * d.next(); // undefined
 * d.push(new Uint8Array([0x05]));
 * d.next(); // Uint8Array [0x08, 0x05]
 * ```
 */
export class FrameDecoder {
  readonly #maxBytes: number;
  #pending: Uint8Array[] = [];
  #pendingBytes = 0;
  #header = new Uint8Array(10);
  #headerUsed = 0;
  #body: Uint8Array | undefined;
  #bodyUsed = 0;

  /** A decoder accepting frames of at most `maxBytes`. */
  constructor(maxBytes: number = MAX_MESSAGE_BYTES) {
    this.#maxBytes = maxBytes;
  }

  /** Bytes received and not yet returned by {@link next}. */
  get buffered(): number {
    return this.#pendingBytes + this.#headerUsed + this.#bodyUsed;
  }

  /** Queue a chunk read from the stream (kept by reference until consumed). */
  push(chunk: Uint8Array): void {
    if (chunk.byteLength === 0) return;
    this.#pending.push(chunk);
    this.#pendingBytes += chunk.byteLength;
  }

  /** The next complete body, or `undefined` when more bytes are needed. */
  next(): Uint8Array | undefined {
    while (this.#pending.length > 0) {
      const chunk = this.#pending[0];
      let used: number;
      if (this.#body === undefined) {
        // Read header bytes one at a time until the varint completes.
        this.#header[this.#headerUsed++] = chunk[0];
        used = 1;
        const length = frameLength(this.#header.subarray(0, this.#headerUsed), this.#maxBytes);
        if (length !== undefined) {
          this.#body = new Uint8Array(length.body);
          this.#bodyUsed = 0;
          this.#headerUsed = 0;
        }
      } else {
        used = Math.min(chunk.byteLength, this.#body.byteLength - this.#bodyUsed);
        this.#body.set(chunk.subarray(0, used), this.#bodyUsed);
        this.#bodyUsed += used;
      }
      this.#consume(used);
      if (this.#body !== undefined && this.#bodyUsed === this.#body.byteLength) {
        const out = this.#body;
        this.#body = undefined;
        this.#bodyUsed = 0;
        return out;
      }
    }
    return undefined;
  }

  #consume(n: number): void {
    const chunk = this.#pending[0];
    this.#pendingBytes -= n;
    if (n === chunk.byteLength) this.#pending.shift();
    else this.#pending[0] = chunk.subarray(n);
  }
}
