/**
 * Wire codec of the pubsub RPC (libp2p/specs `pubsub/README.md` "The RPC",
 * `gossipsub-v1.0.md` / `-v1.1.md` / `-v1.2.md` control messages; field numbers as in go
 * `pb/rpc.proto` and js `message/rpc.proto`, research §2.1):
 *
 * ```proto
 * message RPC { repeated SubOpts subscriptions = 1; repeated Message publish = 2;
 *   optional ControlMessage control = 3; }            // 10: partial messages (skipped)
 * message SubOpts { optional bool subscribe = 1; optional string topicid = 2; } // 3, 4 skipped
 * message Message { optional bytes from = 1; optional bytes data = 2; optional bytes seqno = 3;
 *   optional string topic = 4; optional bytes signature = 5; optional bytes key = 6; }
 * message ControlMessage { repeated ControlIHave ihave = 1; repeated ControlIWant iwant = 2;
 *   repeated ControlGraft graft = 3; repeated ControlPrune prune = 4;
 *   repeated ControlIDontWant idontwant = 5; }        // 6: v1.3 extensions (skipped)
 * message ControlIHave { optional string topicID = 1; repeated bytes messageIDs = 2; }
 * message ControlIWant { repeated bytes messageIDs = 1; }
 * message ControlGraft { optional string topicID = 1; }
 * message ControlPrune { optional string topicID = 1; repeated PeerInfo peers = 2;
 *   optional uint64 backoff = 3; }
 * message PeerInfo { optional bytes peerID = 1; optional bytes signedPeerRecord = 2; }
 * message ControlIDontWant { repeated bytes messageIDs = 1; }
 * ```
 *
 * Message ids are bytes (go declares them `string` but emits invalid UTF-8, research §2.1).
 * Decoding, with its limits, is in rpc_decode.ts (`decodeRpc` is re-exported here).
 *
 * Encoding is deterministic, in field-number order with minimal varints, so it matches js and go
 * byte for byte. Proto2 presence: `subscribe` and every `topic` are always written (go sets
 * them always; js omits an empty Message topic, the one difference), optional fields when
 * defined.
 *
 * @module
 */

import { utf8Encode } from "../../src/bytes.ts";
import { WireType } from "../../src/protobuf.ts";
import { uvarintLength, writeUvarint } from "../../src/varint.ts";
import type { ControlMessage, PubsubMessage, Rpc } from "./types.ts";

// ---------------------------------------------------------------------------------------------
// Encoding: a size pass records nested lengths and encoded strings in pre-order, then a write
// pass fills one exactly-sized buffer (no intermediate arrays per field).

/** Strings up to this length are checked for ASCII and written without TextEncoder. */
const ASCII_FAST_PATH_CHARS = 256;

class Plan {
  readonly sizes: number[] = [];
  /** Encoded strings, or the string itself when it is ASCII (written char by char). */
  readonly strings: (Uint8Array | string)[] = [];
  si = 0;
  ti = 0;
  out: Uint8Array = new Uint8Array(0);
  pos = 0;

  /** Size of a length-delimited field (1-byte key: every field number here is < 16). */
  static ld(length: number): number {
    return 1 + uvarintLength(length) + length;
  }

  str(text: string): number {
    // TextEncoder costs more than the whole message for short topics: ASCII is written by hand.
    let ascii = text.length <= ASCII_FAST_PATH_CHARS;
    for (let i = 0; ascii && i < text.length; i++) if (text.charCodeAt(i) >= 0x80) ascii = false;
    if (ascii) {
      this.strings.push(text);
      return Plan.ld(text.length);
    }
    const bytes = utf8Encode(text);
    this.strings.push(bytes);
    return Plan.ld(bytes.byteLength);
  }

  /** Reserve a nested-size slot before recursing; fill it with {@link close}. */
  open(): number {
    this.sizes.push(0);
    return this.sizes.length - 1;
  }

  close(slot: number, size: number): number {
    this.sizes[slot] = size;
    return Plan.ld(size);
  }

  key(byte: number): void {
    this.out[this.pos++] = byte;
  }

  varint(value: number): void {
    this.pos = writeUvarint(value, this.out, this.pos);
  }

  bytes(keyByte: number, value: Uint8Array): void {
    this.out[this.pos++] = keyByte;
    this.pos = writeUvarint(value.byteLength, this.out, this.pos);
    this.out.set(value, this.pos);
    this.pos += value.byteLength;
  }

  nextString(keyByte: number): void {
    const value = this.strings[this.ti++];
    if (typeof value !== "string") return this.bytes(keyByte, value);
    const out = this.out;
    out[this.pos++] = keyByte;
    let pos = writeUvarint(value.length, out, this.pos);
    for (let i = 0; i < value.length; i++) out[pos++] = value.charCodeAt(i);
    this.pos = pos;
  }

  nested(keyByte: number): void {
    this.out[this.pos++] = keyByte;
    this.pos = writeUvarint(this.sizes[this.si++], this.out, this.pos);
  }
}

const key = (field: number, wireType: number): number => (field << 3) | wireType;
const LD = WireType.LENGTH_DELIMITED;

function sizeMessage(p: Plan, m: PubsubMessage, forSigning: boolean): number {
  let n = 0;
  if (m.from !== undefined) n += Plan.ld(m.from.byteLength);
  if (m.data !== undefined) n += Plan.ld(m.data.byteLength);
  if (m.seqno !== undefined) n += Plan.ld(m.seqno.byteLength);
  n += p.str(m.topic);
  if (!forSigning) {
    if (m.signature !== undefined) n += Plan.ld(m.signature.byteLength);
    if (m.key !== undefined) n += Plan.ld(m.key.byteLength);
  }
  return n;
}

function writeMessage(p: Plan, m: PubsubMessage, forSigning: boolean): void {
  if (m.from !== undefined) p.bytes(key(1, LD), m.from);
  if (m.data !== undefined) p.bytes(key(2, LD), m.data);
  if (m.seqno !== undefined) p.bytes(key(3, LD), m.seqno);
  p.nextString(key(4, LD));
  if (!forSigning) {
    if (m.signature !== undefined) p.bytes(key(5, LD), m.signature);
    if (m.key !== undefined) p.bytes(key(6, LD), m.key);
  }
}

function sizeIds(ids: readonly Uint8Array[]): number {
  let n = 0;
  for (const id of ids) n += Plan.ld(id.byteLength);
  return n;
}

function writeIds(p: Plan, keyByte: number, ids: readonly Uint8Array[]): void {
  for (const id of ids) p.bytes(keyByte, id);
}

function checkBackoff(backoff: number): void {
  if (!Number.isSafeInteger(backoff) || backoff < 0) {
    throw new RangeError(`PRUNE backoff must be a non-negative safe integer, got ${backoff}`);
  }
}

function sizeControl(p: Plan, c: ControlMessage): number {
  let n = 0;
  for (const e of c.ihave) {
    const slot = p.open();
    n += p.close(slot, p.str(e.topic) + sizeIds(e.messageIds));
  }
  for (const e of c.iwant) {
    const slot = p.open();
    n += p.close(slot, sizeIds(e.messageIds));
  }
  for (const e of c.graft) {
    const slot = p.open();
    n += p.close(slot, p.str(e.topic));
  }
  for (const e of c.prune) {
    const slot = p.open();
    let inner = p.str(e.topic);
    for (const peer of e.peers) {
      const peerSlot = p.open();
      let pn = Plan.ld(peer.peerId.byteLength);
      if (peer.signedPeerRecord !== undefined) pn += Plan.ld(peer.signedPeerRecord.byteLength);
      inner += p.close(peerSlot, pn);
    }
    if (e.backoff !== undefined) {
      checkBackoff(e.backoff);
      inner += 1 + uvarintLength(e.backoff);
    }
    n += p.close(slot, inner);
  }
  for (const e of c.idontwant) {
    const slot = p.open();
    n += p.close(slot, sizeIds(e.messageIds));
  }
  return n;
}

function writeControl(p: Plan, c: ControlMessage): void {
  for (const e of c.ihave) {
    p.nested(key(1, LD));
    p.nextString(key(1, LD));
    writeIds(p, key(2, LD), e.messageIds);
  }
  for (const e of c.iwant) {
    p.nested(key(2, LD));
    writeIds(p, key(1, LD), e.messageIds);
  }
  for (const _ of c.graft) {
    p.nested(key(3, LD));
    p.nextString(key(1, LD));
  }
  for (const e of c.prune) {
    p.nested(key(4, LD));
    p.nextString(key(1, LD));
    for (const peer of e.peers) {
      p.nested(key(2, LD));
      p.bytes(key(1, LD), peer.peerId);
      if (peer.signedPeerRecord !== undefined) p.bytes(key(2, LD), peer.signedPeerRecord);
    }
    if (e.backoff !== undefined) {
      p.key(key(3, WireType.VARINT));
      p.varint(e.backoff);
    }
  }
  for (const e of c.idontwant) {
    p.nested(key(5, LD));
    writeIds(p, key(1, LD), e.messageIds);
  }
}

/**
 * Encode one RPC (without the uvarint length prefix of its frame).
 *
 * @example
 * ```ts
 * import { encodeRpc } from "./rpc_codec.ts";
 * const bytes = encodeRpc({ subscriptions: [{ subscribe: true, topic: "a" }], messages: [] });
 * // 0a 05 08 01 12 01 61
 * ```
 */
export function encodeRpc(rpc: Rpc): Uint8Array {
  return encodeRpcInto(rpc, false);
}

/**
 * Encode one RPC as a stream frame, `uvarint(length) ‖ RPC` (pubsub/README.md "The RPC"), in
 * one buffer.
 *
 * @example
 * ```ts
 * import { encodeRpcFrame } from "./rpc_codec.ts";
 * encodeRpcFrame({ subscriptions: [{ subscribe: true, topic: "a" }], messages: [] });
 * // 07 0a 05 08 01 12 01 61
 * ```
 */
export function encodeRpcFrame(rpc: Rpc): Uint8Array {
  return encodeRpcInto(rpc, true);
}

function encodeRpcInto(rpc: Rpc, framed: boolean): Uint8Array {
  const p = new Plan();
  let total = 0;
  for (const s of rpc.subscriptions) {
    const slot = p.open();
    total += p.close(slot, 2 + p.str(s.topic));
  }
  for (const m of rpc.messages) {
    const slot = p.open();
    total += p.close(slot, sizeMessage(p, m, false));
  }
  if (rpc.control !== undefined) {
    const slot = p.open();
    total += p.close(slot, sizeControl(p, rpc.control));
  }
  if (framed) {
    p.out = new Uint8Array(uvarintLength(total) + total);
    p.varint(total);
  } else {
    p.out = new Uint8Array(total);
  }
  for (const s of rpc.subscriptions) {
    p.nested(key(1, LD));
    p.key(key(1, WireType.VARINT));
    p.key(s.subscribe ? 1 : 0);
    p.nextString(key(2, LD));
  }
  for (const m of rpc.messages) {
    p.nested(key(2, LD));
    writeMessage(p, m, false);
  }
  if (rpc.control !== undefined) {
    p.nested(key(3, LD));
    writeControl(p, rpc.control);
  }
  return p.out;
}

/**
 * Encode one `Message` (rpc.proto field order). With `forSigning`, `signature` and `key` are
 * left out: these are the bytes StrictSign signs after the `"libp2p-pubsub:"` prefix
 * (pubsub/README.md "Message Signing").
 *
 * @example
 * ```ts
 * import { encodeMessage } from "./rpc_codec.ts";
 * encodeMessage({ topic: "t", data: new Uint8Array([1]) }); // 12 01 01 22 01 74
 * ```
 */
export function encodeMessage(
  message: PubsubMessage,
  options?: { forSigning?: boolean },
): Uint8Array {
  const p = new Plan();
  const forSigning = options?.forSigning === true;
  p.out = new Uint8Array(sizeMessage(p, message, forSigning));
  writeMessage(p, message, forSigning);
  return p.out;
}

export { decodeRpc } from "./rpc_decode.ts";
