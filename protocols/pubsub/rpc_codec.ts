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
 * Unknown fields of any wire type are skipped. Every length and count is checked against an
 * {@link RpcLimits} value before anything is allocated for it (HARDENING.md rule 1); a breach
 * throws {@link LimitExceededError}, malformed bytes throw {@link DecodeError}, and nothing else
 * escapes `decodeRpc` (HARDENING.md rule 5).
 *
 * Encoding is deterministic, in field-number order with minimal varints, so it matches js and go
 * byte for byte. Proto2 presence: `subscribe` and every `topic` are always written (go sets
 * them always; js omits an empty Message topic, the one difference), optional fields when
 * defined.
 *
 * @module
 */

import { compactCopy, utf8Decode, utf8Encode } from "../../src/bytes.ts";
import { DecodeError, LimitExceededError } from "../../src/errors.ts";
import { ProtobufReader, WireType } from "../../src/protobuf.ts";
import { uvarintLength, writeUvarint } from "../../src/varint.ts";
import { resolveRpcLimits, type RpcLimits } from "./rpc_limits.ts";
import type {
  ControlIDontWant,
  ControlIHave,
  ControlIWant,
  ControlMessage,
  ControlPrune,
  PrunePeerInfo,
  PubsubMessage,
  Rpc,
  SubOpts,
} from "./types.ts";

// ---------------------------------------------------------------------------------------------
// Encoding: a size pass records nested lengths and encoded strings in pre-order, then a write
// pass fills one exactly-sized buffer (no intermediate arrays per field).

class Plan {
  readonly sizes: number[] = [];
  readonly strings: Uint8Array[] = [];
  si = 0;
  ti = 0;
  out: Uint8Array = new Uint8Array(0);
  pos = 0;

  /** Size of a length-delimited field (1-byte key: every field number here is < 16). */
  static ld(length: number): number {
    return 1 + uvarintLength(length) + length;
  }

  str(text: string): number {
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
    this.bytes(keyByte, this.strings[this.ti++]);
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

// ---------------------------------------------------------------------------------------------
// Decoding.

type Limits = Readonly<Required<RpcLimits>>;

function over(what: string, limit: keyof RpcLimits, max: number): LimitExceededError {
  return new LimitExceededError(`pubsub RPC: ${what} over the limit of ${max}`, limit);
}

/** A length-delimited field's view, its length checked against `max` before it is read. */
function readBounded(
  r: ProtobufReader,
  max: number,
  what: string,
  limit: keyof RpcLimits,
): Uint8Array {
  const start = r.offset;
  const length = r.readUint();
  if (length > max) throw over(`${what} of ${length} bytes`, limit, max);
  r.offset = start;
  return r.readBytes();
}

function readTopic(r: ProtobufReader, limits: Limits): string {
  const bytes = readBounded(r, limits.maxTopicBytes, "topic", "maxTopicBytes");
  try {
    return utf8Decode(bytes);
  } catch (cause) {
    throw new DecodeError("pubsub RPC: topic is not valid UTF-8", { cause });
  }
}

/** Keep small fields (and fields that are a small part of the frame) without the frame. */
function keep(view: Uint8Array, frame: Uint8Array): Uint8Array {
  return view.byteLength * 2 >= frame.byteLength ? view : compactCopy(view);
}

interface IdBudget {
  left: number;
}

function readId(r: ProtobufReader, limits: Limits, budget: IdBudget): Uint8Array {
  if (budget.left === 0) {
    throw over("message ids in one RPC", "maxMessageIdsPerRpc", limits.maxMessageIdsPerRpc);
  }
  budget.left--;
  return readBounded(r, limits.maxMessageIdBytes, "message id", "maxMessageIdBytes");
}

function decodeSubOpts(bytes: Uint8Array, limits: Limits): SubOpts | undefined {
  const r = new ProtobufReader(bytes);
  let subscribe = false;
  let topic: string | undefined;
  for (let tag = r.readTag(); tag !== undefined; tag = r.readTag()) {
    if (tag.field === 1 && tag.wireType === WireType.VARINT) subscribe = r.readBool();
    else if (tag.field === 2 && tag.wireType === LD) topic = readTopic(r, limits);
    else r.skip(tag.wireType);
  }
  return topic === undefined ? undefined : { subscribe, topic };
}

function decodeMessage(bytes: Uint8Array, frame: Uint8Array, limits: Limits): PubsubMessage {
  const r = new ProtobufReader(bytes);
  const m: PubsubMessage = { topic: "" };
  for (let tag = r.readTag(); tag !== undefined; tag = r.readTag()) {
    if (tag.wireType !== LD) {
      r.skip(tag.wireType);
      continue;
    }
    switch (tag.field) {
      case 1:
        m.from = keep(r.readBytes(), frame);
        break;
      case 2:
        m.data = keep(r.readBytes(), frame);
        break;
      case 3:
        m.seqno = keep(r.readBytes(), frame);
        break;
      case 4:
        m.topic = readTopic(r, limits);
        break;
      case 5:
        m.signature = keep(r.readBytes(), frame);
        break;
      case 6:
        m.key = keep(r.readBytes(), frame);
        break;
      default:
        r.skip(tag.wireType);
    }
  }
  return m;
}

function decodeIds(
  bytes: Uint8Array,
  idField: number,
  maxIds: number,
  limitName: keyof RpcLimits,
  limits: Limits,
  budget: IdBudget,
  onTopic?: (r: ProtobufReader) => void,
): Uint8Array[] {
  const r = new ProtobufReader(bytes);
  const ids: Uint8Array[] = [];
  for (let tag = r.readTag(); tag !== undefined; tag = r.readTag()) {
    if (tag.field === idField && tag.wireType === LD) {
      if (ids.length === maxIds) throw over("message ids in one entry", limitName, maxIds);
      ids.push(readId(r, limits, budget));
    } else if (tag.field === 1 && tag.wireType === LD && onTopic !== undefined) {
      onTopic(r);
    } else {
      r.skip(tag.wireType);
    }
  }
  return ids;
}

function decodeIHave(bytes: Uint8Array, limits: Limits, budget: IdBudget): ControlIHave {
  let topic = "";
  const messageIds = decodeIds(bytes, 2, limits.maxIHaveIds, "maxIHaveIds", limits, budget, (r) => {
    topic = readTopic(r, limits);
  });
  return { topic, messageIds };
}

function decodeTopicOnly(bytes: Uint8Array, limits: Limits): string {
  const r = new ProtobufReader(bytes);
  let topic = "";
  for (let tag = r.readTag(); tag !== undefined; tag = r.readTag()) {
    if (tag.field === 1 && tag.wireType === LD) topic = readTopic(r, limits);
    else r.skip(tag.wireType);
  }
  return topic;
}

function decodePeerInfo(bytes: Uint8Array, frame: Uint8Array): PrunePeerInfo {
  const r = new ProtobufReader(bytes);
  const info: PrunePeerInfo = { peerId: new Uint8Array(0) };
  for (let tag = r.readTag(); tag !== undefined; tag = r.readTag()) {
    if (tag.field === 1 && tag.wireType === LD) info.peerId = keep(r.readBytes(), frame);
    else if (tag.field === 2 && tag.wireType === LD) {
      info.signedPeerRecord = keep(r.readBytes(), frame);
    } else r.skip(tag.wireType);
  }
  return info;
}

function decodePrune(bytes: Uint8Array, frame: Uint8Array, limits: Limits): ControlPrune {
  const r = new ProtobufReader(bytes);
  const prune: ControlPrune = { topic: "", peers: [] };
  for (let tag = r.readTag(); tag !== undefined; tag = r.readTag()) {
    if (tag.field === 1 && tag.wireType === LD) prune.topic = readTopic(r, limits);
    else if (tag.field === 2 && tag.wireType === LD) {
      if (prune.peers.length === limits.maxPrunePeers) {
        throw over("PRUNE peers", "maxPrunePeers", limits.maxPrunePeers);
      }
      prune.peers.push(decodePeerInfo(r.readBytes(), frame));
    } else if (tag.field === 3 && tag.wireType === WireType.VARINT) {
      // u64 seconds; saturated at 2^53-1 (HARDENING.md rule 2 and 3: the router clamps it
      // further before it becomes a timer).
      const backoff = r.readUint64();
      prune.backoff = backoff > BigInt(Number.MAX_SAFE_INTEGER)
        ? Number.MAX_SAFE_INTEGER
        : Number(backoff);
    } else r.skip(tag.wireType);
  }
  return prune;
}

/** Decode a ControlMessage into `c` (a repeated `control` field merges, as protobuf requires). */
function decodeControl(
  bytes: Uint8Array,
  frame: Uint8Array,
  limits: Limits,
  budget: IdBudget,
  c: ControlMessage,
): void {
  const r = new ProtobufReader(bytes);
  const max = limits.maxControlEntries;
  for (let tag = r.readTag(); tag !== undefined; tag = r.readTag()) {
    if (tag.wireType !== LD || tag.field > 5) {
      r.skip(tag.wireType);
      continue;
    }
    switch (tag.field) {
      case 1:
        if (c.ihave.length === max) throw over("IHAVE entries", "maxControlEntries", max);
        c.ihave.push(decodeIHave(r.readBytes(), limits, budget));
        break;
      case 2: {
        if (c.iwant.length === max) throw over("IWANT entries", "maxControlEntries", max);
        const ids = decodeIds(r.readBytes(), 1, limits.maxIWantIds, "maxIWantIds", limits, budget);
        c.iwant.push({ messageIds: ids } satisfies ControlIWant);
        break;
      }
      case 3:
        if (c.graft.length === max) throw over("GRAFT entries", "maxControlEntries", max);
        c.graft.push({ topic: decodeTopicOnly(r.readBytes(), limits) });
        break;
      case 4:
        if (c.prune.length === max) throw over("PRUNE entries", "maxControlEntries", max);
        c.prune.push(decodePrune(r.readBytes(), frame, limits));
        break;
      case 5: {
        if (c.idontwant.length === max) throw over("IDONTWANT entries", "maxControlEntries", max);
        const ids = decodeIds(
          r.readBytes(),
          1,
          limits.maxIDontWantIds,
          "maxIDontWantIds",
          limits,
          budget,
        );
        c.idontwant.push({ messageIds: ids } satisfies ControlIDontWant);
        break;
      }
    }
  }
}

/**
 * Decode one RPC frame body. Throws {@link LimitExceededError} (its `limit` names the
 * {@link RpcLimits} field) when a size or count is over its limit, checked before allocating,
 * and {@link DecodeError} when the bytes are not a valid RPC; nothing else.
 *
 * SubOpts without a topic are dropped; a Message without a topic gets `""`. Message fields are
 * copied out of `bytes` unless they cover at least half of it (so a kept message never pins a
 * much larger frame); message ids in control entries are views into `bytes`.
 *
 * @example
 * ```ts
 * import { decodeRpc } from "./rpc_codec.ts";
 * const rpc = decodeRpc(new Uint8Array([0x0a, 0x05, 0x08, 0x01, 0x12, 0x01, 0x61]));
 * rpc.subscriptions; // [{ subscribe: true, topic: "a" }]
 * ```
 */
export function decodeRpc(bytes: Uint8Array, limits?: RpcLimits): Rpc {
  const l = resolveRpcLimits(limits);
  if (bytes.byteLength > l.maxFrameBytes) {
    throw over(`RPC of ${bytes.byteLength} bytes`, "maxFrameBytes", l.maxFrameBytes);
  }
  const r = new ProtobufReader(bytes);
  const rpc: Rpc = { subscriptions: [], messages: [] };
  let subscriptions = 0;
  const budget: IdBudget = { left: l.maxMessageIdsPerRpc };
  for (let tag = r.readTag(); tag !== undefined; tag = r.readTag()) {
    if (tag.wireType !== LD || tag.field > 3) {
      r.skip(tag.wireType);
      continue;
    }
    if (tag.field === 1) {
      if (subscriptions === l.maxSubscriptions) {
        throw over("subscriptions", "maxSubscriptions", l.maxSubscriptions);
      }
      subscriptions++;
      const sub = decodeSubOpts(r.readBytes(), l);
      if (sub !== undefined) rpc.subscriptions.push(sub);
    } else if (tag.field === 2) {
      if (rpc.messages.length === l.maxMessages) {
        throw over("messages", "maxMessages", l.maxMessages);
      }
      rpc.messages.push(decodeMessage(r.readBytes(), bytes, l));
    } else {
      rpc.control ??= { ihave: [], iwant: [], graft: [], prune: [], idontwant: [] };
      decodeControl(r.readBytes(), bytes, l, budget, rpc.control);
    }
  }
  return rpc;
}
