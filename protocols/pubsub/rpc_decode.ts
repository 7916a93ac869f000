/**
 * Decoder of the pubsub RPC (the schema and field numbers are in rpc_codec.ts). One cursor walks
 * the frame; nested messages narrow its end, so no reader object or tag object is allocated per
 * field, and ASCII topics are decoded without a TextDecoder call.
 *
 * Every length and count is checked against an {@link RpcLimits} value before anything is
 * allocated for it (HARDENING.md rule 1); a breach throws {@link LimitExceededError}, malformed
 * bytes throw {@link DecodeError}, and nothing else escapes (HARDENING.md rule 5). Unknown
 * fields of wire types 0, 1, 2 and 5 are skipped (go's partial-message extension, v1.3
 * extensions); groups (3, 4) are malformed, as in src/protobuf.ts.
 *
 * @module
 */

import { compactCopy, utf8Decode } from "../../src/bytes.ts";
import { DecodeError, LimitExceededError } from "../../src/errors.ts";
import { resolveRpcLimits, type RpcLimits } from "./rpc_limits.ts";
import type { ControlMessage, ControlPrune, PrunePeerInfo, PubsubMessage, Rpc } from "./types.ts";

type Limits = Readonly<Required<RpcLimits>>;

const VARINT = 0;
const FIXED64 = 1;
const LD = 2;
const FIXED32 = 5;
/** Protobuf varints are at most 10 bytes. */
const MAX_VARINT_BYTES = 10;
/** Topics up to this length are tried as ASCII before TextDecoder. */
const ASCII_FAST_PATH_BYTES = 256;

function truncated(): DecodeError {
  return new DecodeError("pubsub RPC truncated");
}

function over(what: string, limit: keyof RpcLimits, max: number): LimitExceededError {
  return new LimitExceededError(`pubsub RPC: ${what} over the limit of ${max}`, limit);
}

class Cursor {
  pos = 0;
  end: number;
  readonly buf: Uint8Array;
  readonly limits: Limits;
  /** Message ids still allowed in this RPC (maxMessageIdsPerRpc). */
  idsLeft: number;

  constructor(buf: Uint8Array, limits: Limits) {
    this.buf = buf;
    this.end = buf.byteLength;
    this.limits = limits;
    this.idsLeft = limits.maxMessageIdsPerRpc;
  }

  /** A varint; above 2^53-1 it throws, or with `saturate` returns 2^53-1. */
  varint(saturate = false): number {
    const buf = this.buf;
    let pos = this.pos;
    if (pos >= this.end) throw truncated();
    let b = buf[pos++];
    if (b < 0x80) {
      this.pos = pos;
      return b;
    }
    let value = b & 0x7f;
    let scale = 128;
    for (let i = 1; i < MAX_VARINT_BYTES; i++) {
      if (pos >= this.end) throw truncated();
      b = buf[pos++];
      value += (b & 0x7f) * scale;
      if (b < 0x80) {
        this.pos = pos;
        if (value > Number.MAX_SAFE_INTEGER) {
          if (saturate) return Number.MAX_SAFE_INTEGER;
          throw new DecodeError("pubsub RPC: varint above 2^53-1");
        }
        return value;
      }
      scale *= 128;
    }
    throw new DecodeError("pubsub RPC: varint longer than 10 bytes");
  }

  /** A field key as `field * 8 + wireType`, validated. */
  key(): number {
    const key = this.varint();
    const wireType = key % 8;
    const field = (key - wireType) / 8;
    if (field < 1 || field > 0x1fff_ffff) throw new DecodeError(`invalid protobuf field ${field}`);
    if (wireType === 3 || wireType === 4 || wireType > 5) {
      throw new DecodeError(`unsupported protobuf wire type ${wireType}`);
    }
    return key;
  }

  /** The length of a length-delimited value, checked against `max` and the current end. */
  length(max: number, what: string, limit: keyof RpcLimits | undefined): number {
    const length = this.varint();
    if (limit !== undefined && length > max) throw over(`${what} of ${length} bytes`, limit, max);
    if (length > this.end - this.pos) throw truncated();
    return length;
  }

  /** A length-delimited value as a view. */
  view(max = Infinity, what = "", limit?: keyof RpcLimits): Uint8Array {
    const length = this.length(max, what, limit);
    const start = this.pos;
    this.pos += length;
    return this.buf.subarray(start, this.pos);
  }

  /** A value kept beyond the frame: copied unless it covers at least half of it. */
  kept(): Uint8Array {
    const v = this.view();
    return v.byteLength * 2 >= this.buf.byteLength ? v : compactCopy(v);
  }

  topic(): string {
    const length = this.length(this.limits.maxTopicBytes, "topic", "maxTopicBytes");
    const buf = this.buf;
    const start = this.pos;
    const end = start + length;
    this.pos = end;
    if (length <= ASCII_FAST_PATH_BYTES) {
      let text = "";
      let i = start;
      for (; i < end; i++) {
        const b = buf[i];
        if (b >= 0x80) break;
        text += String.fromCharCode(b);
      }
      if (i === end) return text;
    }
    try {
      return utf8Decode(buf.subarray(start, end));
    } catch (cause) {
      throw new DecodeError("pubsub RPC: topic is not valid UTF-8", { cause });
    }
  }

  id(): Uint8Array {
    if (this.idsLeft === 0) {
      const max = this.limits.maxMessageIdsPerRpc;
      throw over("message ids in one RPC", "maxMessageIdsPerRpc", max);
    }
    this.idsLeft--;
    return this.view(this.limits.maxMessageIdBytes, "message id", "maxMessageIdBytes");
  }

  skip(key: number): void {
    switch (key % 8) {
      case VARINT:
        this.varint(true);
        return;
      case FIXED64:
        if (this.end - this.pos < 8) throw truncated();
        this.pos += 8;
        return;
      case LD: {
        // Not `this.pos += this.length(...)`: that reads `pos` before `length` moves it.
        const length = this.length(0, "", undefined);
        this.pos += length;
        return;
      }
      case FIXED32:
        if (this.end - this.pos < 4) throw truncated();
        this.pos += 4;
        return;
    }
  }

  /** Enter a nested message: returns the outer end to restore with {@link leave}. */
  enter(): number {
    const length = this.length(0, "", undefined);
    const outer = this.end;
    this.end = this.pos + length;
    return outer;
  }

  leave(outer: number): void {
    this.pos = this.end;
    this.end = outer;
  }
}

/** key bytes of the fields read below: field * 8 + wire type. */
const K1_VARINT = 8;
const K1 = 10;
const K2 = 18;
const K3 = 26;
const K3_VARINT = 24;
const K4 = 34;
const K5 = 42;
const K6 = 50;

function subOpts(c: Cursor, rpc: Rpc): void {
  const outer = c.enter();
  let subscribe = false;
  let topic: string | undefined;
  while (c.pos < c.end) {
    const key = c.key();
    if (key === K1_VARINT) subscribe = c.varint(true) !== 0;
    else if (key === K2) topic = c.topic();
    else c.skip(key);
  }
  c.leave(outer);
  if (topic !== undefined) rpc.subscriptions.push({ subscribe, topic });
}

function message(c: Cursor): PubsubMessage {
  const outer = c.enter();
  const m: PubsubMessage = { topic: "" };
  while (c.pos < c.end) {
    const key = c.key();
    switch (key) {
      case K1:
        m.from = c.kept();
        break;
      case K2:
        m.data = c.kept();
        break;
      case K3:
        m.seqno = c.kept();
        break;
      case K4:
        m.topic = c.topic();
        break;
      case K5:
        m.signature = c.kept();
        break;
      case K6:
        m.key = c.kept();
        break;
      default:
        c.skip(key);
    }
  }
  c.leave(outer);
  return m;
}

/** Ids of field `idKey` (and, with `topic`, the topic of field 1) of one control entry. */
function ids(
  c: Cursor,
  idKey: number,
  max: number,
  limit: keyof RpcLimits,
  out: Uint8Array[],
  topic?: { value: string },
): void {
  const outer = c.enter();
  while (c.pos < c.end) {
    const key = c.key();
    if (key === idKey) {
      if (out.length === max) throw over("message ids in one entry", limit, max);
      out.push(c.id());
    } else if (key === K1 && topic !== undefined) {
      topic.value = c.topic();
    } else {
      c.skip(key);
    }
  }
  c.leave(outer);
}

function topicOnly(c: Cursor): string {
  const outer = c.enter();
  let topic = "";
  while (c.pos < c.end) {
    const key = c.key();
    if (key === K1) topic = c.topic();
    else c.skip(key);
  }
  c.leave(outer);
  return topic;
}

function peerInfo(c: Cursor): PrunePeerInfo {
  const outer = c.enter();
  const info: PrunePeerInfo = { peerId: new Uint8Array(0) };
  while (c.pos < c.end) {
    const key = c.key();
    if (key === K1) info.peerId = c.kept();
    else if (key === K2) info.signedPeerRecord = c.kept();
    else c.skip(key);
  }
  c.leave(outer);
  return info;
}

function prune(c: Cursor): ControlPrune {
  const outer = c.enter();
  const p: ControlPrune = { topic: "", peers: [] };
  const max = c.limits.maxPrunePeers;
  while (c.pos < c.end) {
    const key = c.key();
    if (key === K1) p.topic = c.topic();
    else if (key === K2) {
      if (p.peers.length === max) throw over("PRUNE peers", "maxPrunePeers", max);
      p.peers.push(peerInfo(c));
    } else if (key === K3_VARINT) {
      // u64 seconds, saturated at 2^53-1 (HARDENING.md rules 2 and 3: never wrapped or
      // rounded down; the router clamps it before it becomes a timer).
      p.backoff = c.varint(true);
    } else c.skip(key);
  }
  c.leave(outer);
  return p;
}

function control(c: Cursor, ctl: ControlMessage): void {
  const outer = c.enter();
  const l = c.limits;
  const max = l.maxControlEntries;
  while (c.pos < c.end) {
    const key = c.key();
    switch (key) {
      case K1: {
        if (ctl.ihave.length === max) throw over("IHAVE entries", "maxControlEntries", max);
        const topic = { value: "" };
        const messageIds: Uint8Array[] = [];
        ids(c, K2, l.maxIHaveIds, "maxIHaveIds", messageIds, topic);
        ctl.ihave.push({ topic: topic.value, messageIds });
        break;
      }
      case K2: {
        if (ctl.iwant.length === max) throw over("IWANT entries", "maxControlEntries", max);
        const messageIds: Uint8Array[] = [];
        ids(c, K1, l.maxIWantIds, "maxIWantIds", messageIds);
        ctl.iwant.push({ messageIds });
        break;
      }
      case K3:
        if (ctl.graft.length === max) throw over("GRAFT entries", "maxControlEntries", max);
        ctl.graft.push({ topic: topicOnly(c) });
        break;
      case K4:
        if (ctl.prune.length === max) throw over("PRUNE entries", "maxControlEntries", max);
        ctl.prune.push(prune(c));
        break;
      case K5: {
        if (ctl.idontwant.length === max) {
          throw over("IDONTWANT entries", "maxControlEntries", max);
        }
        const messageIds: Uint8Array[] = [];
        ids(c, K1, l.maxIDontWantIds, "maxIDontWantIds", messageIds);
        ctl.idontwant.push({ messageIds });
        break;
      }
      default:
        c.skip(key); // 6: v1.3 ControlExtensions, and anything newer
    }
  }
  c.leave(outer);
}

/**
 * Decode one RPC frame body. Throws {@link LimitExceededError} (its `limit` names the
 * {@link RpcLimits} field) when a size or count is over its limit, checked before allocating,
 * and {@link DecodeError} when the bytes are not a valid RPC; nothing else.
 *
 * SubOpts without a topic are dropped; a Message without a topic gets `""`. Repeated `control`
 * fields merge (protobuf rules) under the same caps. Message fields and PX entries are copied
 * out of `bytes` unless they cover at least half of it (so a kept message never pins a much
 * larger frame); message ids in control entries are views into `bytes`.
 *
 * @example
 * ```ts
 * import { decodeRpc } from "./rpc_decode.ts";
 * const rpc = decodeRpc(new Uint8Array([0x0a, 0x05, 0x08, 0x01, 0x12, 0x01, 0x61]));
 * rpc.subscriptions; // [{ subscribe: true, topic: "a" }]
 * ```
 */
export function decodeRpc(bytes: Uint8Array, limits?: RpcLimits): Rpc {
  const l = resolveRpcLimits(limits);
  if (bytes.byteLength > l.maxFrameBytes) {
    throw over(`RPC of ${bytes.byteLength} bytes`, "maxFrameBytes", l.maxFrameBytes);
  }
  const c = new Cursor(bytes, l);
  const rpc: Rpc = { subscriptions: [], messages: [] };
  let subscriptions = 0;
  while (c.pos < c.end) {
    const key = c.key();
    switch (key) {
      case K1:
        if (subscriptions === l.maxSubscriptions) {
          throw over("subscriptions", "maxSubscriptions", l.maxSubscriptions);
        }
        subscriptions++;
        subOpts(c, rpc);
        break;
      case K2:
        if (rpc.messages.length === l.maxMessages) {
          throw over("messages", "maxMessages", l.maxMessages);
        }
        rpc.messages.push(message(c));
        break;
      case K3:
        rpc.control ??= { ihave: [], iwant: [], graft: [], prune: [], idontwant: [] };
        control(c, rpc.control);
        break;
      default:
        c.skip(key); // 10: go's partial messages, and anything newer
    }
  }
  return rpc;
}
