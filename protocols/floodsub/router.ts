/**
 * The floodsub router (libp2p/specs pubsub/README.md; `/floodsub/1.0.0`), sans-IO: every
 * accepted message is forwarded to every peer subscribed to its topic except the one it came
 * from; a seen cache drops copies. No control messages. Time comes in as `now` (ms).
 *
 * @module
 */

import {
  FLOODSUB_PROTOCOL,
  type IncomingMessage,
  messageIdKey,
  type PeerInfo,
  type PubsubMessage,
  type PubsubRouter,
  type PubsubRouterSink,
  type Rpc,
  SeenCache,
  type ValidationResult,
} from "../pubsub/mod.ts";

/**
 * Topics one peer may be subscribed to at once; subscriptions past it are ignored
 * (HARDENING.md rule 4: a peer announcing 100,000 topics costs us a bounded amount).
 */
export const MAX_TOPICS_PER_PEER = 5_000;

/** Options of {@link FloodsubRouter}. */
export interface FloodsubRouterOptions {
  /** The message-id function (the service passes the configured one). */
  msgIdFn: (message: PubsubMessage) => Uint8Array;
  /** How long a message id is remembered, ms. Default the seen cache's (2 min, like js/go). */
  seenTtlMs?: number;
  /** Cap on remembered ids. Default the seen cache's. */
  seenMaxEntries?: number;
  /** Forward messages of topics we are not subscribed to (go and js floodsub do). Default true. */
  canRelayMessage?: boolean;
  /** Topics a peer may hold. Default {@link MAX_TOPICS_PER_PEER}. */
  maxTopicsPerPeer?: number;
}

interface FloodPeer {
  readonly protocol: string;
  readonly topics: Set<string>;
}

/**
 * Floodsub as a {@link PubsubRouter}.
 *
 * @example
 * ```ts
 * import { FloodsubRouter } from "./router.ts";
 * const sent: string[] = [];
 * const router = new FloodsubRouter(
 *   { send: (peer) => void sent.push(peer), deliver: () => {} },
 *   { msgIdFn: (m) => m.data ?? new Uint8Array() },
 * );
 * router.subscribe("news", 0);
 * router.addPeer("peer-a", "/floodsub/1.0.0", { direction: "outbound" }, 0); // hello to peer-a
 * ```
 */
export class FloodsubRouter implements PubsubRouter {
  /** The protocol floodsub speaks. */
  readonly protocols: readonly string[] = [FLOODSUB_PROTOCOL];
  readonly #sink: PubsubRouterSink;
  readonly #msgIdFn: (message: PubsubMessage) => Uint8Array;
  readonly #seen: SeenCache;
  readonly #relay: boolean;
  readonly #maxTopics: number;
  readonly #peers = new Map<string, FloodPeer>();
  /** topic -> subscribed peers. */
  readonly #topics = new Map<string, Set<string>>();
  readonly #subscriptions = new Set<string>();

  /** A router sending through `sink`. */
  constructor(sink: PubsubRouterSink, options: FloodsubRouterOptions) {
    this.#sink = sink;
    this.#msgIdFn = options.msgIdFn;
    this.#seen = new SeenCache({ ttlMs: options.seenTtlMs, maxEntries: options.seenMaxEntries });
    this.#relay = options.canRelayMessage ?? true;
    this.#maxTopics = options.maxTopicsPerPeer ?? MAX_TOPICS_PER_PEER;
  }

  addPeer(peer: string, protocol: string, _info: PeerInfo, _now: number): void {
    if (!this.#peers.has(peer)) this.#peers.set(peer, { protocol, topics: new Set() });
    if (this.#subscriptions.size > 0) {
      this.#sink.send(peer, {
        subscriptions: [...this.#subscriptions].map((topic) => ({ subscribe: true, topic })),
        messages: [],
      });
    }
  }

  removePeer(peer: string, _now: number): void {
    const state = this.#peers.get(peer);
    if (state === undefined) return;
    this.#peers.delete(peer);
    for (const topic of state.topics) this.#unsubscribePeer(peer, topic);
  }

  handleRpc(peer: string, rpc: Rpc, now: number): IncomingMessage[] {
    const state = this.#peers.get(peer);
    if (state !== undefined) {
      for (const sub of rpc.subscriptions) {
        if (sub.subscribe) {
          if (state.topics.has(sub.topic) || state.topics.size >= this.#maxTopics) continue;
          state.topics.add(sub.topic);
          let set = this.#topics.get(sub.topic);
          if (set === undefined) this.#topics.set(sub.topic, set = new Set());
          set.add(peer);
        } else if (state.topics.delete(sub.topic)) {
          this.#unsubscribePeer(peer, sub.topic);
        }
      }
    }
    const out: IncomingMessage[] = [];
    for (const message of rpc.messages) {
      if (!this.#relay && !this.#subscriptions.has(message.topic)) continue;
      const id = this.#msgIdFn(message);
      const idKey = messageIdKey(id);
      if (!this.#seen.add(idKey, now)) continue;
      out.push({ id, idKey, from: peer, message });
    }
    return out;
  }

  reportValidation(incoming: IncomingMessage, result: ValidationResult, _now: number): void {
    if (result !== "accept") return;
    this.#forward(incoming.message, incoming.from);
    if (this.#subscriptions.has(incoming.message.topic)) this.#sink.deliver(incoming);
  }

  publish(message: PubsubMessage, id: Uint8Array, now: number): number {
    this.#seen.add(messageIdKey(id), now);
    return this.#forward(message, undefined);
  }

  subscribe(topic: string, _now: number): void {
    if (this.#subscriptions.has(topic)) return;
    this.#subscriptions.add(topic);
    this.#announce(topic, true);
  }

  unsubscribe(topic: string, _now: number): void {
    if (!this.#subscriptions.delete(topic)) return;
    this.#announce(topic, false);
  }

  heartbeat(now: number): void {
    this.#seen.prune(now);
  }

  getTopics(): string[] {
    return [...this.#subscriptions];
  }

  getSubscribers(topic: string): string[] {
    return [...(this.#topics.get(topic) ?? [])];
  }

  getMeshPeers(topic: string): string[] {
    return this.getSubscribers(topic);
  }

  getPeers(): string[] {
    return [...this.#peers.keys()];
  }

  /** Send `message` to every subscriber of its topic but `except`; returns how many. */
  #forward(message: PubsubMessage, except: string | undefined): number {
    const peers = this.#topics.get(message.topic);
    if (peers === undefined) return 0;
    let n = 0;
    for (const peer of peers) {
      if (peer === except) continue;
      this.#sink.send(peer, { subscriptions: [], messages: [message] });
      n++;
    }
    return n;
  }

  #announce(topic: string, subscribe: boolean): void {
    for (const peer of this.#peers.keys()) {
      this.#sink.send(peer, { subscriptions: [{ subscribe, topic }], messages: [] });
    }
  }

  #unsubscribePeer(peer: string, topic: string): void {
    const set = this.#topics.get(topic);
    if (set === undefined) return;
    set.delete(peer);
    if (set.size === 0) this.#topics.delete(topic);
  }
}
