/**
 * The gossipsub node service: the pubsub service over the {@link GossipsubRouter}, with the
 * options of js-libp2p's `@libp2p/gossipsub` mapped onto the router's parameters, peer scoring
 * (on by default, like js), direct peers kept connected, and peer-exchange candidates dialled
 * (only when PX is on).
 *
 * @module
 */

import type { Libp2pNode, ServiceFactory } from "../../src/node/node.ts";
import { IDENTIFY_CAPABILITY } from "../../src/node/services.ts";
import { type Multiaddr, multiaddr } from "../../src/multiaddr/mod.ts";
import { type PeerId, peerIdFromBytes, peerIdFromString } from "../../src/peer_id.ts";
import { type PrunePeerInfo, PubsubService, type PubsubServiceOptions } from "../pubsub/mod.ts";
import type { GossipsubParams, GossipsubThresholds } from "./params.ts";
import { GossipsubRouter } from "./router.ts";
import { PeerScore } from "./score.ts";
import { createPeerScoreParams, type PeerScoreParamsInit } from "./score_params.ts";

/** A direct peer (js-libp2p's AddrInfo): its id and where to reach it. */
export interface DirectPeer {
  /** Its peer id. */
  id: PeerId | string;
  /** Addresses to dial it on (with or without `/p2p/`). */
  addrs: (Multiaddr | string)[];
}

/**
 * Score parameters: ours (see score_params.ts), also accepting js-libp2p's capitalised
 * `IPColocationFactor*` names and a Set for the whitelist.
 */
export type GossipsubScoreParams = PeerScoreParamsInit & {
  /** js name of `ipColocationFactorWeight`. */
  IPColocationFactorWeight?: number;
  /** js name of `ipColocationFactorThreshold`. */
  IPColocationFactorThreshold?: number;
  /** js name of `ipColocationFactorWhitelist` (a Set in js). */
  IPColocationFactorWhitelist?: Iterable<string>;
};

/** Options of {@link gossipsub} (js-libp2p `GossipsubOpts` names where js has one). */
export interface GossipsubOptions extends PubsubServiceOptions {
  /** Mesh degree D (6). */
  D?: number;
  /** Below it the heartbeat grafts (5). */
  Dlo?: number;
  /** Above it the heartbeat prunes (12). */
  Dhi?: number;
  /** Peers kept by score when pruning (4). */
  Dscore?: number;
  /** Outbound peers kept in the mesh (2). */
  Dout?: number;
  /** Least peers gossip goes to (6). */
  Dlazy?: number;
  /** Fanout TTL, ms (60 s). */
  fanoutTTL?: number;
  /** Message cache windows (5). */
  mcacheLength?: number;
  /** Windows gossiped in IHAVE (3). */
  mcacheGossip?: number;
  /** Speak /floodsub/1.0.0 to peers that only have it (default true). */
  fallbackToFloodsub?: boolean;
  /** Our messages to every topic peer above the publish threshold (default true). */
  floodPublish?: boolean;
  /** Emit peer exchange in PRUNEs (default false; on for bootstrappers). */
  doPX?: boolean;
  /** Peers offered in one PRUNE (16). */
  prunePeers?: number;
  /** PRUNE backoff, ms (60 s). */
  pruneBackoff?: number;
  /** Unsubscribe backoff, ms (10 s; js spells it `unsubcribeBackoff`). */
  unsubcribeBackoff?: number;
  /** GRAFT flood threshold, ms (10 s). */
  graftFloodThreshold?: number;
  /** Peers grafted opportunistically (2). */
  opportunisticGraftPeers?: number;
  /** Opportunistic grafting period, heartbeats (60). */
  opportunisticGraftTicks?: number;
  /** Gossip factor (0.25). */
  gossipFactor?: number;
  /** IWANT promise deadline, ms (3 s). */
  gossipsubIWantFollowupMs?: number;
  /** Smallest message data that makes us send IDONTWANT (v1.2), bytes (1024, go's value). */
  idontwantMinDataSize?: number;
  /** Any router parameter by our name (applied after the js-named ones). */
  params?: Partial<GossipsubParams>;
  /** Score parameters; scoring is on by default, as in js. */
  scoreParams?: GossipsubScoreParams;
  /** Score thresholds (js defaults: -10 / -50 / -80 / 10 / 20). */
  scoreThresholds?: Partial<GossipsubThresholds>;
  /** Turn scoring off (go's default); every score is then 0. Default false. */
  disableScoring?: boolean;
  /** Peers we always forward to and keep connected, never meshed (v1.1 explicit peering). */
  directPeers?: DirectPeer[];
  /** Heartbeats between reconnect attempts to direct peers (go/js 300). */
  directConnectTicks?: number;
  /** Uniform random in [0, 1) for the router's choices (tests: a seeded one). */
  random?: () => number;
}

/** Most PX candidates dialled from one PRUNE (go PrunePeers 16; HARDENING.md rule 4). */
export const MAX_PX_DIALS = 16;

/**
 * Gossipsub as a node service (`node.services.pubsub`).
 *
 * @example
 * ```ts
 * import type { GossipsubService } from "./service.ts";
 * function watch(pubsub: GossipsubService): void {
 *   pubsub.subscribe("blocks");
 *   console.log(pubsub.getMeshPeers("blocks").length, pubsub.getScore("12D3Koo..."));
 * }
 * ```
 */
export class GossipsubService extends PubsubService<GossipsubRouter> {
  readonly #score: PeerScore | undefined;
  readonly #direct: { id: PeerId; addrs: Multiaddr[] }[];
  readonly #directTicks: number;
  #ticks = 0;

  /** Prefer {@link gossipsub}. */
  constructor(node: Libp2pNode, options: GossipsubOptions = {}) {
    const score = options.disableScoring === true
      ? undefined
      : new PeerScore(createPeerScoreParams(scoreInit(options.scoreParams)));
    const direct = (options.directPeers ?? []).map((p) => ({
      id: typeof p.id === "string" ? peerIdFromString(p.id) : p.id,
      addrs: p.addrs.map((a) => typeof a === "string" ? multiaddr(a) : a),
    }));
    const ref: { self?: GossipsubService } = {};
    super(node, (sink, author) =>
      new GossipsubRouter({
        sink,
        params: routerParams(options),
        score,
        thresholds: options.scoreThresholds,
        directPeers: direct.map((d) => d.id.toString()),
        random: options.random,
        msgId: (m) => author.msgId(m),
        floodsubFallback: options.fallbackToFloodsub,
        peerInfo: (peer) => ({ peerId: peerIdFromString(peer).toBytes() }),
        onPeerExchange: (_from, _topic, peers) => {
          if (ref.self !== undefined) ref.self.#dialExchanged(peers);
        },
      }), options);
    ref.self = this;
    this.#score = score;
    this.#direct = direct;
    this.#directTicks = options.directConnectTicks ?? 300;
  }

  /** A peer's score now (0 with scoring off or for unknown peers). */
  getScore(peer: PeerId | string): number {
    return this.#score?.score(peer.toString(), this.clock.now()) ?? 0;
  }

  /** Start, then connect to the direct peers. */
  override start(): void {
    super.start();
    this.#connectDirect();
  }

  /** One router heartbeat; every `directConnectTicks` also redial lost direct peers. */
  override heartbeat(): void {
    super.heartbeat();
    if (this.#direct.length > 0 && ++this.#ticks % this.#directTicks === 0) this.#connectDirect();
  }

  #connectDirect(): void {
    if (!this.isStarted) return;
    for (const d of this.#direct) {
      if (this.node.getConnections(d.id).length > 0) continue;
      const target = d.addrs.length > 0
        ? d.addrs[0].toString().includes("/p2p/")
          ? d.addrs[0]
          : d.addrs[0].encapsulate(`/p2p/${d.id.toString()}`)
        : d.id;
      this.node.dial(target).catch(() => {});
    }
  }

  /** PX candidates (only reached when we accept PX): dial those the peer store can reach. */
  #dialExchanged(peers: PrunePeerInfo[]): void {
    if (!this.isStarted) return;
    for (const p of peers.slice(0, MAX_PX_DIALS)) {
      let id: PeerId;
      try {
        id = peerIdFromBytes(p.peerId);
      } catch {
        continue;
      }
      if (id.equals(this.node.peerId) || this.node.getConnections(id).length > 0) continue;
      this.node.dial(id).catch(() => {});
    }
  }
}

/** The router parameters from the js-named options (then `params`). */
function routerParams(o: GossipsubOptions): Partial<GossipsubParams> {
  const p: Partial<GossipsubParams> = {};
  const set = <K extends keyof GossipsubParams>(k: K, v: GossipsubParams[K] | undefined): void => {
    if (v !== undefined) p[k] = v;
  };
  set("D", o.D);
  set("Dlo", o.Dlo);
  set("Dhi", o.Dhi);
  set("Dscore", o.Dscore);
  set("Dout", o.Dout);
  set("Dlazy", o.Dlazy);
  // 0 turns the service's timer off (tests drive heartbeats); the router keeps its period.
  if ((o.heartbeatIntervalMs ?? 0) > 0) set("heartbeatIntervalMs", o.heartbeatIntervalMs);
  set("fanoutTtlMs", o.fanoutTTL);
  set("mcacheLength", o.mcacheLength);
  set("mcacheGossip", o.mcacheGossip);
  set("seenTtlMs", o.seenTTL);
  set("floodPublish", o.floodPublish);
  set("doPX", o.doPX);
  set("prunePeers", o.prunePeers);
  set("pruneBackoffMs", o.pruneBackoff);
  set("unsubscribeBackoffMs", o.unsubcribeBackoff);
  set("graftFloodThresholdMs", o.graftFloodThreshold);
  set("opportunisticGraftPeers", o.opportunisticGraftPeers);
  set("opportunisticGraftTicks", o.opportunisticGraftTicks);
  set("gossipFactor", o.gossipFactor);
  set("iwantFollowupTimeMs", o.gossipsubIWantFollowupMs);
  set("idontwantMessageThreshold", o.idontwantMinDataSize);
  return { ...p, ...o.params };
}

/** Our score parameters from ours or js's names. */
function scoreInit(s: GossipsubScoreParams | undefined): PeerScoreParamsInit {
  if (s === undefined) return {};
  const {
    IPColocationFactorWeight,
    IPColocationFactorThreshold,
    IPColocationFactorWhitelist,
    ...rest
  } = s;
  const out: PeerScoreParamsInit = { ...rest };
  if (IPColocationFactorWeight !== undefined) {
    out.ipColocationFactorWeight = IPColocationFactorWeight;
  }
  if (IPColocationFactorThreshold !== undefined) {
    out.ipColocationFactorThreshold = IPColocationFactorThreshold;
  }
  if (IPColocationFactorWhitelist !== undefined) {
    out.ipColocationFactorWhitelist = [...IPColocationFactorWhitelist];
  }
  return out;
}

/**
 * The gossipsub service factory; register it as `services.pubsub` next to `identify()`. It
 * advertises /meshsub/1.2.0, /meshsub/1.1.0, /meshsub/1.0.0 and /floodsub/1.0.0.
 *
 * @example
 * ```ts
 * import { gossipsub } from "@p2p-edge/libp2p/protocols/gossipsub";
 * const factory = gossipsub({ D: 8, Dlo: 6, Dhi: 12, allowPublishToZeroTopicPeers: true });
 * ```
 */
export function gossipsub(options: GossipsubOptions = {}): ServiceFactory<GossipsubService> {
  const build = (node: Libp2pNode): GossipsubService => new GossipsubService(node, options);
  return Object.assign(build, {
    serviceCapabilities: Object.freeze(["@libp2p/pubsub", "@libp2p/gossipsub"]),
    serviceDependencies: Object.freeze([IDENTIFY_CAPABILITY]),
  });
}
