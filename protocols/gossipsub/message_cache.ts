/**
 * The gossipsub message cache (`mcache`, libp2p/specs `gossipsub-v1.0.md` "Message Cache"): the
 * messages of the last `mcache_len` heartbeat windows, served on IWANT, and the ids of the last
 * `mcache_gossip` windows per topic, advertised in IHAVE. Each message is served at most
 * `gossipRetransmission` times to one peer (gossipsub-v1.1.md "Spam Protection Measures").
 *
 * Sans-IO: the heartbeat calls {@link MessageCache.shift}.
 *
 * @module
 */

import type { PubsubMessage } from "../pubsub/mod.ts";

interface CacheEntry {
  id: Uint8Array;
  message: PubsubMessage;
  /** peer -> times served through IWANT. */
  served?: Map<string, number>;
}

interface WindowEntry {
  idKey: string;
  topic: string;
}

/** Options of {@link MessageCache}. */
export interface MessageCacheOptions {
  /** History windows kept (mcache_len). */
  length: number;
  /** Windows advertised in gossip (mcache_gossip). */
  gossip: number;
  /** Times one message is served to one peer through IWANT. */
  maxRetransmission: number;
  /** Most messages held; `put` refuses more (HARDENING.md rule 4). */
  maxEntries: number;
}

/**
 * A sliding window of recent messages.
 *
 * @example
 * ```ts
 * const mc = new MessageCache({ length: 5, gossip: 3, maxRetransmission: 3, maxEntries: 1000 });
 * mc.put("k", new Uint8Array([1]), { topic: "t" });
 * mc.gossipIds("t").length; // 1
 * mc.shift();
 * ```
 */
export class MessageCache {
  readonly #entries = new Map<string, CacheEntry>();
  /** Newest window first. */
  readonly #windows: WindowEntry[][] = [];
  readonly #opts: MessageCacheOptions;

  /** An empty cache. */
  constructor(options: MessageCacheOptions) {
    this.#opts = options;
    for (let i = 0; i < options.length; i++) this.#windows.push([]);
  }

  /** Messages held. */
  get size(): number {
    return this.#entries.size;
  }

  /**
   * Add a message to the newest window. Returns false if it is already held or the cache is
   * full (the message is then still forwarded, just not served on IWANT).
   */
  put(idKey: string, id: Uint8Array, message: PubsubMessage): boolean {
    if (this.#entries.has(idKey) || this.#entries.size >= this.#opts.maxEntries) return false;
    this.#entries.set(idKey, { id, message });
    this.#windows[0].push({ idKey, topic: message.topic });
    return true;
  }

  /** True if the message is held. */
  has(idKey: string): boolean {
    return this.#entries.has(idKey);
  }

  /** The held message, without counting a retransmission. */
  get(idKey: string): PubsubMessage | undefined {
    return this.#entries.get(idKey)?.message;
  }

  /**
   * The message for an IWANT from `peer`, counting one retransmission; undefined if it is not
   * held or was already served `maxRetransmission` times to that peer.
   */
  getForPeer(idKey: string, peer: string): PubsubMessage | undefined {
    const entry = this.#entries.get(idKey);
    if (entry === undefined) return undefined;
    entry.served ??= new Map();
    const count = (entry.served.get(peer) ?? 0) + 1;
    if (count > this.#opts.maxRetransmission) return undefined;
    entry.served.set(peer, count);
    return entry.message;
  }

  /** Ids of the gossip windows for `topic`, newest first. */
  gossipIds(topic: string): Uint8Array[] {
    const out: Uint8Array[] = [];
    for (let w = 0; w < this.#opts.gossip && w < this.#windows.length; w++) {
      for (const e of this.#windows[w]) {
        if (e.topic !== topic) continue;
        const entry = this.#entries.get(e.idKey);
        if (entry !== undefined) out.push(entry.id);
      }
    }
    return out;
  }

  /** Drop the oldest window and open a new one (once per heartbeat). */
  shift(): void {
    const last = this.#windows.pop() ?? [];
    for (const e of last) this.#entries.delete(e.idKey);
    this.#windows.unshift([]);
  }
}
