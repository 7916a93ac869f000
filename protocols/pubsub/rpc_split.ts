/**
 * Splitting an outbound RPC into frames that fit the receiver's limit. go drops RPCs over
 * 1 MiB and rust over 64 KiB (`max_transmit_size`), whole (research §2.4), so a router that
 * piggybacks gossip on a large publish must split like go's `appendOrMergeRPC`: subscriptions,
 * messages and control entries are packed greedily in order, and IHAVE / IWANT / IDONTWANT
 * entries with too many ids are cut into several entries. An item that alone exceeds the limit
 * (a message larger than it) travels in an RPC of its own; the receiver decides.
 *
 * @module
 */

import { uvarintLength } from "../../src/varint.ts";
import { MAX_RPC_SEND_BYTES } from "./rpc_limits.ts";
import type {
  ControlGraft,
  ControlMessage,
  ControlPrune,
  PubsubMessage,
  Rpc,
  SubOpts,
} from "./types.ts";

/** Size of a length-delimited field whose key is one byte (every field here is < 16). */
function ld(length: number): number {
  return 1 + uvarintLength(length) + length;
}

/** UTF-8 length of `text` without encoding it. */
function utf8Length(text: string): number {
  let n = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < text.length) {
      const d = text.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        n += 4;
        i++;
      } else n += 3; // lone surrogate: TextEncoder writes U+FFFD
    } else n += 3;
  }
  return n;
}

function messageLength(m: PubsubMessage): number {
  let n = ld(utf8Length(m.topic));
  if (m.from !== undefined) n += ld(m.from.byteLength);
  if (m.data !== undefined) n += ld(m.data.byteLength);
  if (m.seqno !== undefined) n += ld(m.seqno.byteLength);
  if (m.signature !== undefined) n += ld(m.signature.byteLength);
  if (m.key !== undefined) n += ld(m.key.byteLength);
  return n;
}

function pruneLength(p: ControlPrune): number {
  let n = ld(utf8Length(p.topic));
  for (const peer of p.peers) {
    let inner = ld(peer.peerId.byteLength);
    if (peer.signedPeerRecord !== undefined) inner += ld(peer.signedPeerRecord.byteLength);
    n += ld(inner);
  }
  if (p.backoff !== undefined) n += 1 + uvarintLength(p.backoff);
  return n;
}

type IdKind = "ihave" | "iwant" | "idontwant";

class Packer {
  readonly out: Rpc[] = [];
  #cur: Rpc = { subscriptions: [], messages: [] };
  #size = 0;
  #empty = true;
  readonly #max: number;
  /** Worst-case bytes of the control field's own key and length (its length is <= max). */
  readonly #controlOverhead: number;

  constructor(max: number) {
    this.#max = max;
    this.#controlOverhead = 1 + uvarintLength(max);
  }

  /** Close the current RPC unless it is empty. */
  flush(): void {
    if (this.#empty) return;
    this.out.push(this.#cur);
    this.#cur = { subscriptions: [], messages: [] };
    this.#size = 0;
    this.#empty = true;
  }

  /** Bytes a control entry adds beyond its own: the control field's, once per RPC. */
  #controlExtra(): number {
    return this.#cur.control === undefined ? this.#controlOverhead : 0;
  }

  #control(): ControlMessage {
    return this.#cur.control ??= { ihave: [], iwant: [], graft: [], prune: [], idontwant: [] };
  }

  /** Make room for `cost` bytes (a new RPC if they do not fit), then count them. */
  #take(cost: number, control: boolean): void {
    if (!this.#empty && this.#size + cost + (control ? this.#controlExtra() : 0) > this.#max) {
      this.flush();
    }
    this.#size += cost + (control ? this.#controlExtra() : 0);
    this.#empty = false;
  }

  subscription(item: SubOpts, cost: number): void {
    this.#take(cost, false);
    this.#cur.subscriptions.push(item);
  }

  message(item: PubsubMessage, cost: number): void {
    this.#take(cost, false);
    this.#cur.messages.push(item);
  }

  graft(item: ControlGraft, cost: number): void {
    this.#take(cost, true);
    this.#control().graft.push(item);
  }

  prune(item: ControlPrune, cost: number): void {
    this.#take(cost, true);
    this.#control().prune.push(item);
  }

  /** An id-list entry, cut into pieces that each fit in what is left of an RPC. */
  ids(kind: IdKind, topic: string | undefined, ids: readonly Uint8Array[]): void {
    const header = topic === undefined ? 0 : ld(utf8Length(topic));
    let i = 0;
    do {
      const first = ld(header + (i < ids.length ? ld(ids[i].byteLength) : 0));
      if (!this.#empty && this.#size + first + this.#controlExtra() > this.#max) this.flush();
      const extra = this.#controlExtra();
      const room = this.#max - this.#size - extra;
      const start = i;
      let inner = header;
      while (i < ids.length) {
        const next = inner + ld(ids[i].byteLength);
        if (ld(next) > room && i > start) break; // at least one id per piece
        inner = next;
        i++;
      }
      this.#size += ld(inner) + extra;
      this.#empty = false;
      const piece = ids.slice(start, i);
      const control = this.#control();
      if (kind === "ihave") control.ihave.push({ topic: topic ?? "", messageIds: piece });
      else control[kind].push({ messageIds: piece });
      if (i < ids.length) this.flush();
    } while (i < ids.length);
  }
}

/**
 * `rpc` as one or more RPCs, each encoding to at most `maxBytes` (unless a single message or
 * entry is larger on its own), with every subscription, message, control entry and id kept in
 * order.
 *
 * @example
 * ```ts
 * import { splitRpc } from "./rpc_split.ts";
 * const big = { subscriptions: [], messages: [1, 2, 3].map(() => ({ topic: "t", data: new Uint8Array(600) })) };
 * splitRpc(big, 1000).length; // 3
 * ```
 */
export function splitRpc(rpc: Rpc, maxBytes: number = MAX_RPC_SEND_BYTES): Rpc[] {
  if (!Number.isSafeInteger(maxBytes) || maxBytes < 64) {
    throw new RangeError(`maxBytes must be an integer >= 64, got ${maxBytes}`);
  }
  const p = new Packer(maxBytes);
  for (const s of rpc.subscriptions) p.subscription(s, ld(2 + ld(utf8Length(s.topic))));
  for (const m of rpc.messages) p.message(m, ld(messageLength(m)));
  const c = rpc.control;
  if (c !== undefined) {
    for (const e of c.ihave) p.ids("ihave", e.topic, e.messageIds);
    for (const e of c.iwant) p.ids("iwant", undefined, e.messageIds);
    for (const e of c.graft) p.graft(e, ld(ld(utf8Length(e.topic))));
    for (const e of c.prune) p.prune(e, ld(pruneLength(e)));
    for (const e of c.idontwant) p.ids("idontwant", undefined, e.messageIds);
  }
  p.flush();
  if (p.out.length === 0) return [rpc]; // nothing to split (an empty RPC or empty control)
  return p.out;
}
