/**
 * Support for tests/gossipsub/simulation.ts: the event queue of the virtual clock and RPC sizes
 * from the pubsub codec.
 */

import { encodeRpc } from "../../protocols/pubsub/rpc_codec.ts";
import type { PubsubMessage, Rpc } from "../../protocols/pubsub/types.ts";

/** The encoded size of an RPC (protocols/pubsub/rpc_codec.ts), without the varint frame prefix. */
export function rpcBytes(rpc: Rpc): number {
  if (rpc.messages.length === 0) return encodeRpc(rpc).byteLength;
  // Protobuf fields concatenate: the RPC without its messages, plus each message's field,
  // encoded once per message object (a forwarded message is the same object on every link).
  let size = encodeRpc({ ...rpc, messages: [] }).byteLength;
  for (const m of rpc.messages) {
    let n = messageBytes.get(m);
    if (n === undefined) {
      n = encodeRpc({ subscriptions: [], messages: [m] }).byteLength;
      messageBytes.set(m, n);
    }
    size += n;
  }
  return size;
}

const messageBytes = new WeakMap<PubsubMessage, number>();

/** A min-heap of events by time, ties in insertion order. */
export class EventQueue<E> {
  readonly #h: { t: number; n: number; v: E }[] = [];
  #seq = 0;
  get size(): number {
    return this.#h.length;
  }
  push(t: number, v: E): void {
    const h = this.#h;
    const item = { t, n: this.#seq++, v };
    let i = h.length;
    h.push(item);
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!before(item, h[p])) break;
      h[i] = h[p];
      i = p;
    }
    h[i] = item;
  }
  peekTime(): number {
    return this.#h[0].t;
  }
  pop(): { t: number; v: E } {
    const h = this.#h;
    const top = h[0];
    const last = h.pop()!;
    if (h.length > 0) {
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        if (l >= h.length) break;
        const m = l + 1 < h.length && before(h[l + 1], h[l]) ? l + 1 : l;
        if (!before(h[m], last)) break;
        h[i] = h[m];
        i = m;
      }
      h[i] = last;
    }
    return top;
  }
}

function before(a: { t: number; n: number }, b: { t: number; n: number }): boolean {
  return a.t < b.t || (a.t === b.t && a.n < b.n);
}
