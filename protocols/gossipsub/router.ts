/**
 * The gossipsub router (libp2p/specs `pubsub/gossipsub/gossipsub-v1.0.md`, `-v1.1.md`,
 * `-v1.2.md`): a sans-IO {@link PubsubRouter}. The service feeds it peers, decoded RPCs,
 * validation results and heartbeats, each with `now`; every decision leaves through the sink as
 * one RPC per peer per call. Random choices use the injected `random()`, so a seeded run is
 * reproducible (tests/gossipsub/simulation.ts).
 *
 * Scoring is optional: without a {@link PeerScoreApi} the router uses {@link NO_PEER_SCORE}, a null
 * object under which every score is 0, and the thresholds default to 0 so none of them excludes a
 * peer (go's behaviour with scoring off).
 *
 * @module
 */

import {
  FLOODSUB_PROTOCOL,
  GOSSIPSUB_V10_PROTOCOL,
  GOSSIPSUB_V11_PROTOCOL,
  GOSSIPSUB_V12_PROTOCOL,
  type IncomingMessage,
  messageIdFromSeqno,
  messageIdKey,
  type PeerInfo,
  type PeerScoreApi,
  type PubsubMessage,
  type PubsubRouter,
  type PubsubRouterSink,
  type Rpc,
  type ValidationResult,
} from "../pubsub/mod.ts";
import {
  applyBrokenPromises,
  emitGossip,
  fulfilPromise,
  handleIDontWant,
  handleIHave,
  handleIWant,
  resetPeerCounters,
  sendIDontWant,
} from "./gossip.ts";
import {
  fanoutPeers,
  handleGraft,
  handlePrune,
  join,
  leave,
  maintainFanout,
  maintainMeshes,
} from "./mesh.ts";
import {
  checkThresholds,
  DEFAULT_SCORE_THRESHOLDS,
  type GossipsubParams,
  type GossipsubThresholds,
  NO_SCORE_THRESHOLDS,
  resolveParams,
} from "./params.ts";
import { isGossipsub, type PeerExchangeHooks, type PeerState, RouterState } from "./state.ts";

/**
 * The null peer score: every peer scores 0 and nothing is recorded.
 *
 * @example
 * ```ts
 * NO_PEER_SCORE.score("12D3Koo...", 0); // 0
 * ```
 */
export const NO_PEER_SCORE: PeerScoreApi = Object.freeze({
  addPeer(): void {},
  removePeer(): void {},
  graft(): void {},
  prune(): void {},
  validateMessage(): void {},
  deliverMessage(): void {},
  rejectMessage(): void {},
  duplicateMessage(): void {},
  addPenalty(): void {},
  score(): number {
    return 0;
  },
  refresh(): void {},
});

/** Options of {@link GossipsubRouter}. */
export interface GossipsubRouterOptions extends PeerExchangeHooks {
  /** Where RPCs and deliveries go. */
  sink: PubsubRouterSink;
  /** Overrides of {@link DEFAULT_GOSSIPSUB_PARAMS}. */
  params?: Partial<GossipsubParams>;
  /** The peer score; without it every score is 0 ({@link NO_PEER_SCORE}). */
  score?: PeerScoreApi;
  /** Thresholds (default: DEFAULT_SCORE_THRESHOLDS with a score, NO_SCORE_THRESHOLDS without). */
  thresholds?: Partial<GossipsubThresholds>;
  /** Explicit peers (v1.1 "Explicit Peering Agreements"): always forwarded to, never meshed. */
  directPeers?: Iterable<string>;
  /** Uniform random in [0, 1) (default Math.random); inject a seeded one for reproducible runs. */
  random?: () => number;
  /** The message id function (default go's `from ‖ seqno`, pubsub's `messageIdFromSeqno`). */
  msgId?: (message: PubsubMessage) => Uint8Array;
  /** Also speak /floodsub/1.0.0 (js `fallbackToFloodsub`, default true). */
  floodsubFallback?: boolean;
}

/**
 * A gossipsub v1.2 router (also serving v1.1, v1.0 and floodsub peers).
 *
 * @example
 * ```ts
 * const sent: [string, unknown][] = [];
 * const router = new GossipsubRouter({
 *   sink: { send: (peer, rpc) => sent.push([peer, rpc]), deliver: () => {} },
 * });
 * router.subscribe("chat", 0);
 * router.addPeer("peerA", "/meshsub/1.2.0", { direction: "outbound" }, 0);
 * router.heartbeat(1000);
 * ```
 */
export class GossipsubRouter implements PubsubRouter {
  /** Protocol ids, most preferred first. */
  readonly protocols: readonly string[];
  readonly #s: RouterState;

  /** A router with no peers and no subscriptions. */
  constructor(options: GossipsubRouterOptions) {
    const params = resolveParams(options.params);
    const thresholds = {
      ...(options.score === undefined ? NO_SCORE_THRESHOLDS : DEFAULT_SCORE_THRESHOLDS),
      ...options.thresholds,
    };
    checkThresholds(thresholds);
    this.#s = new RouterState({
      params,
      thresholds,
      score: options.score ?? NO_PEER_SCORE,
      random: options.random ?? Math.random,
      sink: options.sink,
      px: { peerInfo: options.peerInfo, onPeerExchange: options.onPeerExchange },
      directPeers: options.directPeers ?? [],
      msgId: options.msgId ?? messageIdFromSeqno,
    });
    const ids = [GOSSIPSUB_V12_PROTOCOL, GOSSIPSUB_V11_PROTOCOL, GOSSIPSUB_V10_PROTOCOL];
    if (options.floodsubFallback !== false) ids.push(FLOODSUB_PROTOCOL);
    this.protocols = Object.freeze(ids);
  }

  /** The resolved parameters. */
  get params(): Readonly<GossipsubParams> {
    return this.#s.params;
  }

  /** Internal state, for tests and the simulation (not a stable API). */
  get state(): RouterState {
    return this.#s;
  }

  /** A peer's outbound stream is open: remember it and send it our subscriptions (hello). */
  addPeer(peer: string, protocol: string, info: PeerInfo, now: number): void {
    const s = this.#s;
    if (s.peers.has(peer)) return;
    const state: PeerState = {
      id: peer,
      protocol,
      outbound: info.direction === "outbound",
      direct: s.directPeers.has(peer),
      topics: new Set(),
      ihaves: 0,
      iasked: 0,
      idontwants: 0,
      dontSend: new Map(),
    };
    s.peers.set(peer, state);
    s.score.addPeer(peer, info.ip, now);
    for (const topic of s.subscriptions) s.sendSubscription(peer, topic, true);
    s.flush();
  }

  /** Forget a peer: its topics, mesh and fanout slots, promises (backoffs stay until expiry). */
  removePeer(peer: string, now: number): void {
    const s = this.#s;
    const p = s.peers.get(peer);
    if (p === undefined) return;
    for (const topic of p.topics) this.#dropTopicPeer(topic, peer);
    for (const [topic, mesh] of s.mesh) if (mesh.delete(peer)) s.score.prune(peer, topic, now);
    for (const fanout of s.fanout.values()) fanout.delete(peer);
    s.peers.delete(peer);
    s.score.removePeer(peer, now);
    s.clearScoreCache();
  }

  #dropTopicPeer(topic: string, peer: string): void {
    const set = this.#s.topics.get(topic);
    if (set === undefined) return;
    set.delete(peer);
    if (set.size === 0) this.#s.topics.delete(topic);
  }

  /** One RPC from a peer: subscriptions and control at once; returns new messages to validate. */
  handleRpc(peer: string, rpc: Rpc, now: number): IncomingMessage[] {
    const s = this.#s;
    const p = s.peers.get(peer);
    if (p === undefined) return [];
    // Graylisted peers are ignored entirely (v1.1 "Score Thresholds"); direct peers never are.
    if (!p.direct && s.scoreOf(peer, now) < s.thresholds.graylistThreshold) return [];
    this.#handleSubscriptions(p, rpc, now);
    const out: IncomingMessage[] = [];
    for (const message of rpc.messages) {
      const incoming = this.#handleMessage(p, message, now);
      if (incoming !== undefined) out.push(incoming);
    }
    const ctl = rpc.control;
    if (ctl !== undefined && isGossipsub(p)) {
      handleIHave(s, peer, ctl.ihave, now);
      handleIWant(s, peer, ctl.iwant, now);
      handleGraft(s, peer, ctl.graft, now);
      handlePrune(s, peer, ctl.prune, now);
      handleIDontWant(s, peer, ctl.idontwant);
    }
    s.flush();
    return out;
  }

  #handleSubscriptions(p: PeerState, rpc: Rpc, now: number): void {
    const s = this.#s;
    const subs = rpc.subscriptions;
    const n = Math.min(subs.length, s.params.maxSubscriptionsPerRpc);
    for (let i = 0; i < n; i++) {
      const { topic, subscribe } = subs[i];
      if (subscribe) {
        if (p.topics.has(topic) || p.topics.size >= s.params.maxTopicsPerPeer) continue;
        let set = s.topics.get(topic);
        if (set === undefined) {
          // Unknown topics beyond the cap are not tracked unless we are in them (rule 4).
          if (s.topics.size >= s.params.maxTopics && !s.subscriptions.has(topic)) continue;
          set = new Set();
          s.topics.set(topic, set);
        }
        set.add(p.id);
        p.topics.add(topic);
      } else {
        if (!p.topics.delete(topic)) continue;
        this.#dropTopicPeer(topic, p.id);
        const mesh = s.mesh.get(topic);
        if (mesh?.delete(p.id)) s.score.prune(p.id, topic, now);
        s.fanout.get(topic)?.delete(p.id);
      }
    }
  }

  #handleMessage(p: PeerState, message: PubsubMessage, now: number): IncomingMessage | undefined {
    const s = this.#s;
    if (!s.subscriptions.has(message.topic)) return undefined;
    const id = s.msgId(message);
    const idKey = messageIdKey(id);
    if (!s.seen.add(idKey, now)) {
      s.score.duplicateMessage(p.id, idKey, message.topic, now);
      return undefined;
    }
    fulfilPromise(s, idKey);
    s.score.validateMessage(idKey, now);
    sendIDontWant(s, p.id, message.topic, id, message.data?.byteLength ?? 0);
    return { id, idKey, from: p.id, message };
  }

  /** The validation outcome: on accept, cache, forward and deliver; otherwise score it. */
  reportValidation(incoming: IncomingMessage, result: ValidationResult, now: number): void {
    const s = this.#s;
    const { idKey, from, message } = incoming;
    if (result !== "accept") {
      s.score.rejectMessage(from, idKey, message.topic, result, now);
      return;
    }
    s.score.deliverMessage(from, idKey, message.topic, now);
    s.mcache.put(idKey, incoming.id, message);
    this.#forward(message, idKey, from);
    s.flush();
    s.sink.deliver(incoming);
  }

  /** Forward an accepted message: mesh, direct and floodsub peers of the topic, minus the source and IDONTWANTs. */
  #forward(message: PubsubMessage, idKey: string, from: string): number {
    const s = this.#s;
    let sent = 0;
    const send = (id: string): void => {
      if (id === from) return;
      const p = s.peers.get(id);
      if (p === undefined || p.dontSend.has(idKey)) return;
      s.sendMessage(id, message);
      sent++;
    };
    const mesh = s.mesh.get(message.topic);
    if (mesh !== undefined) { for (const id of mesh) send(id); }
    for (const id of s.topics.get(message.topic) ?? []) {
      const p = s.peers.get(id);
      if (p !== undefined && (p.direct || !isGossipsub(p)) && !mesh?.has(id)) send(id);
    }
    return sent;
  }

  /** Publish our own message (flood publish, or mesh / fanout); returns the peers it went to. */
  publish(message: PubsubMessage, id: Uint8Array, now: number): number {
    const s = this.#s;
    const idKey = messageIdKey(id);
    s.seen.add(idKey, now);
    s.mcache.put(idKey, id, message);
    const topic = message.topic;
    const targets = new Set<string>();
    const subscribers = s.topics.get(topic) ?? new Set<string>();
    for (const peer of subscribers) {
      const p = s.peers.get(peer)!;
      if (p.direct || !isGossipsub(p)) targets.add(peer);
      else if (s.params.floodPublish && s.scoreOf(peer, now) >= s.thresholds.publishThreshold) {
        targets.add(peer);
      }
    }
    if (!s.params.floodPublish) {
      const meshOrFanout = s.mesh.get(topic) ?? fanoutPeers(s, topic, now);
      for (const peer of meshOrFanout) targets.add(peer);
    }
    for (const peer of targets) s.sendMessage(peer, message);
    s.flush();
    return targets.size;
  }

  /** Join a topic: announce it to every peer and build its mesh. */
  subscribe(topic: string, now: number): void {
    const s = this.#s;
    if (s.subscriptions.has(topic)) return;
    s.subscriptions.add(topic);
    for (const peer of s.peers.keys()) s.sendSubscription(peer, topic, true);
    join(s, topic, now);
    s.flush();
  }

  /** Leave a topic: announce it and PRUNE the mesh with the unsubscribe backoff. */
  unsubscribe(topic: string, now: number): void {
    const s = this.#s;
    if (!s.subscriptions.delete(topic)) return;
    for (const peer of s.peers.keys()) s.sendSubscription(peer, topic, false);
    leave(s, topic, now);
    s.flush();
  }

  /** The heartbeat (gossipsub-v1.0.md "Heartbeat", v1.1 additions), once per heartbeat interval. */
  heartbeat(now: number): void {
    const s = this.#s;
    s.tick++;
    resetPeerCounters(s);
    s.clearBackoffs(now);
    applyBrokenPromises(s, now);
    s.score.refresh(now);
    s.clearScoreCache();
    maintainMeshes(s, now);
    maintainFanout(s, now);
    emitGossip(s, now);
    s.mcache.shift();
    s.seen.prune(now);
    s.flush();
  }

  /** Topics we are subscribed to. */
  getTopics(): string[] {
    return [...this.#s.subscriptions];
  }

  /** Peers subscribed to a topic. */
  getSubscribers(topic: string): string[] {
    return [...(this.#s.topics.get(topic) ?? [])];
  }

  /** Our mesh peers of a topic. */
  getMeshPeers(topic: string): string[] {
    return [...(this.#s.mesh.get(topic) ?? [])];
  }

  /** Peers with an outbound stream. */
  getPeers(): string[] {
    return [...this.#s.peers.keys()];
  }
}
