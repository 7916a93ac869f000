/**
 * The gossipsub router's state, shared by its role files (mesh.ts, gossip.ts, control.ts): peers
 * and their topics, the mesh and fanout, backoffs, IWANT promises, and a per-peer outbox that
 * coalesces everything one router call sends to a peer into one RPC.
 *
 * @module
 */

import {
  type ControlMessage,
  GOSSIPSUB_V10_PROTOCOL,
  GOSSIPSUB_V11_PROTOCOL,
  GOSSIPSUB_V12_PROTOCOL,
  type PeerScoreApi,
  type PrunePeerInfo,
  type PubsubMessage,
  type PubsubRouterSink,
  type Rpc,
  SeenCache,
} from "../pubsub/mod.ts";
import { MessageCache } from "./message_cache.ts";
import type { GossipsubParams, GossipsubThresholds } from "./params.ts";

/** What the router knows about one peer. */
export interface PeerState {
  /** The peer id text. */
  readonly id: string;
  /** The protocol its outbound stream speaks. */
  readonly protocol: string;
  /** We dialled it (counts toward D_out). */
  readonly outbound: boolean;
  /** An explicit peer (v1.1 "Explicit Peering Agreements"). */
  readonly direct: boolean;
  /** Topics the peer subscribes to (at most `maxTopicsPerPeer`). */
  readonly topics: Set<string>;
  /** IHAVE messages handled this heartbeat. */
  ihaves: number;
  /** Ids we asked this peer for through IWANT this heartbeat. */
  iasked: number;
  /** IDONTWANT control messages handled this heartbeat. */
  idontwants: number;
  /** idKey -> heartbeat tick at which the IDONTWANT expires. */
  readonly dontSend: Map<string, number>;
}

/** The peer speaks a gossipsub protocol (not floodsub). */
export function isGossipsub(p: PeerState): boolean {
  return p.protocol === GOSSIPSUB_V10_PROTOCOL || p.protocol === GOSSIPSUB_V11_PROTOCOL ||
    p.protocol === GOSSIPSUB_V12_PROTOCOL;
}

/** The peer speaks v1.1 or later (PX, backoff field). */
export function speaksV11(p: PeerState): boolean {
  return p.protocol === GOSSIPSUB_V11_PROTOCOL || p.protocol === GOSSIPSUB_V12_PROTOCOL;
}

/** The peer speaks v1.2 (IDONTWANT). */
export function speaksV12(p: PeerState): boolean {
  return p.protocol === GOSSIPSUB_V12_PROTOCOL;
}

/** Hooks the service gives the router for peer exchange (gossipsub-v1.1.md "Peer Exchange"). */
export interface PeerExchangeHooks {
  /** The PX entry for a peer we offer (peer id bytes and, if we hold one, its signed record). */
  peerInfo?: (peer: string) => PrunePeerInfo | undefined;
  /** PX candidates from a PRUNE by a peer at or above acceptPXThreshold; the service may dial. */
  onPeerExchange?: (from: string, topic: string, peers: PrunePeerInfo[]) => void;
}

/** Everything the role files share. */
export class RouterState {
  /** The resolved parameters. */
  readonly params: GossipsubParams;
  /** The score thresholds in force. */
  readonly thresholds: GossipsubThresholds;
  /** The peer score (or the null score). */
  readonly score: PeerScoreApi;
  /** The injected random source. */
  readonly random: () => number;
  /** Where RPCs and deliveries go. */
  readonly sink: PubsubRouterSink;
  /** Peer-exchange hooks. */
  readonly px: PeerExchangeHooks;
  /** Explicit peers. */
  readonly directPeers: ReadonlySet<string>;
  /** The message id function. */
  readonly msgId: (message: PubsubMessage) => Uint8Array;
  /** Peers with an outbound stream. */
  readonly peers: Map<string, PeerState> = new Map();
  /** topic -> peers subscribed to it (bounded by maxTopics x maxTopicsPerPeer). */
  readonly topics: Map<string, Set<string>> = new Map();
  /** Our topics. */
  readonly subscriptions: Set<string> = new Set();
  /** topic -> mesh peers. */
  readonly mesh: Map<string, Set<string>> = new Map();
  /** topic -> fanout peers (topics we publish to without being in them). */
  readonly fanout: Map<string, Set<string>> = new Map();
  /** topic -> time (ms) of our last publication to a fanout topic. */
  readonly fanoutLastPub: Map<string, number> = new Map();
  /** topic -> peer -> time (ms) the backoff ends. */
  readonly backoff: Map<string, Map<string, number>> = new Map();
  /** Entries in `backoff`. */
  backoffEntries = 0;
  /** idKey -> peer -> time (ms) the IWANT promise expires. */
  readonly promises: Map<string, Map<string, number>> = new Map();
  /** The message cache. */
  readonly mcache: MessageCache;
  /** The seen cache of message ids. */
  readonly seen: SeenCache;
  /** Heartbeats so far. */
  tick = 0;
  readonly #outbox = new Map<string, Rpc>();

  /** State for a router with no peers. */
  constructor(init: {
    params: GossipsubParams;
    thresholds: GossipsubThresholds;
    score: PeerScoreApi;
    random: () => number;
    sink: PubsubRouterSink;
    px: PeerExchangeHooks;
    directPeers: Iterable<string>;
    msgId: (message: PubsubMessage) => Uint8Array;
  }) {
    this.msgId = init.msgId;
    this.params = init.params;
    this.thresholds = init.thresholds;
    this.score = init.score;
    this.random = init.random;
    this.sink = init.sink;
    this.px = init.px;
    this.directPeers = new Set(init.directPeers);
    this.mcache = new MessageCache({
      length: init.params.mcacheLength,
      gossip: init.params.mcacheGossip,
      maxRetransmission: init.params.gossipRetransmission,
      maxEntries: init.params.mcacheMaxEntries,
    });
    this.seen = new SeenCache({
      ttlMs: init.params.seenTtlMs,
      maxEntries: init.params.seenMaxEntries,
    });
  }

  readonly #scoreCache = new Map<string, number>();

  /**
   * The peer's score, computed at most once per heartbeat (js-libp2p caches for one heartbeat
   * too, `scoreCacheValidityMs`): penalties take effect from the next heartbeat, which keeps
   * a per-RPC graylist check cheap.
   */
  scoreOf(peer: string, now: number): number {
    let v = this.#scoreCache.get(peer);
    if (v === undefined) {
      v = this.score.score(peer, now);
      this.#scoreCache.set(peer, v);
    }
    return v;
  }

  /** Forget cached scores (each heartbeat, after the score's refresh). */
  clearScoreCache(): void {
    this.#scoreCache.clear();
  }

  /** Fisher-Yates with the injected random source. */
  shuffle<T>(items: T[]): T[] {
    for (let i = items.length - 1; i > 0; i--) {
      const j = Math.floor(this.random() * (i + 1));
      const t = items[i];
      items[i] = items[j];
      items[j] = t;
    }
    return items;
  }

  #rpc(peer: string): Rpc {
    let rpc = this.#outbox.get(peer);
    if (rpc === undefined) {
      rpc = { subscriptions: [], messages: [] };
      this.#outbox.set(peer, rpc);
    }
    return rpc;
  }

  /** The pending control message for a peer. */
  control(peer: string): ControlMessage {
    const rpc = this.#rpc(peer);
    rpc.control ??= { ihave: [], iwant: [], graft: [], prune: [], idontwant: [] };
    return rpc.control;
  }

  /** Queue a message to a peer. */
  sendMessage(peer: string, message: PubsubMessage): void {
    this.#rpc(peer).messages.push(message);
  }

  /** Queue a subscription change to a peer. */
  sendSubscription(peer: string, topic: string, subscribe: boolean): void {
    this.#rpc(peer).subscriptions.push({ topic, subscribe });
  }

  /** Hand every queued RPC to the sink (the end of every router entry point). */
  flush(): void {
    if (this.#outbox.size === 0) return;
    const out = [...this.#outbox];
    this.#outbox.clear();
    for (const [peer, rpc] of out) {
      if (this.peers.has(peer)) this.sink.send(peer, rpc);
    }
  }

  /** Is `peer` in backoff for `topic` at `now`? */
  inBackoff(topic: string, peer: string, now: number): boolean {
    const end = this.backoff.get(topic)?.get(peer);
    return end !== undefined && end > now;
  }

  /** Set (or extend, never shorten) a backoff, within the global cap (HARDENING.md rule 4). */
  addBackoff(topic: string, peer: string, durationMs: number, now: number): void {
    let byPeer = this.backoff.get(topic);
    const end = now + durationMs;
    const old = byPeer?.get(peer);
    if (old !== undefined) {
      if (old < end) byPeer!.set(peer, end);
      return;
    }
    if (this.backoffEntries >= this.params.maxBackoffEntries) return;
    if (byPeer === undefined) {
      byPeer = new Map();
      this.backoff.set(topic, byPeer);
    }
    byPeer.set(peer, end);
    this.backoffEntries++;
  }

  /**
   * Forget expired backoffs. An entry is kept for one heartbeat past its end (the spec's slack,
   * gossipsub-v1.1.md "PRUNE Backoff"), so that a peer regrafting right at the end is not penalised.
   */
  clearBackoffs(now: number): void {
    const slack = this.params.heartbeatIntervalMs;
    for (const [topic, byPeer] of this.backoff) {
      for (const [peer, end] of byPeer) {
        if (end + slack <= now) {
          byPeer.delete(peer);
          this.backoffEntries--;
        }
      }
      if (byPeer.size === 0) this.backoff.delete(topic);
    }
  }

  /** Queue a PRUNE for `topic` to `peer` with a backoff, and PX when asked for and enabled. */
  prune(peer: string, topic: string, backoffMs: number, withPX: boolean, now: number): void {
    const p = this.peers.get(peer);
    if (p === undefined) return;
    const peersOut: PrunePeerInfo[] = [];
    // No PX towards negative-score peers, and only non-negative peers offered (v1.1 "Score Thresholds").
    if (
      withPX && this.params.doPX && speaksV11(p) && this.px.peerInfo !== undefined &&
      this.scoreOf(peer, now) >= 0
    ) {
      const candidates = [...(this.topics.get(topic) ?? [])].filter((q) =>
        q !== peer && this.scoreOf(q, now) >= 0
      );
      for (const q of this.shuffle(candidates)) {
        if (peersOut.length >= this.params.prunePeers) break;
        const info = this.px.peerInfo(q);
        if (info !== undefined) peersOut.push(info);
      }
    }
    const ctl = this.control(peer);
    if (speaksV11(p)) {
      ctl.prune.push({ topic, peers: peersOut, backoff: Math.ceil(backoffMs / 1000) });
    } else {
      ctl.prune.push({ topic, peers: [] });
    }
    this.addBackoff(topic, peer, backoffMs, now);
  }

  /** Queue a GRAFT. */
  graft(peer: string, topic: string): void {
    this.control(peer).graft.push({ topic });
  }
}
