/**
 * Gossipsub v1.2 (libp2p/specs pubsub/gossipsub/gossipsub-v1.0.md, -v1.1.md, -v1.2.md), the
 * pubsub router of IPFS, Ethereum and Filecoin: a mesh of D peers per topic, gossip about the
 * rest, peer scoring, IDONTWANT. Register `gossipsub(options)` as `services.pubsub` (it needs
 * identify); it advertises /meshsub/1.2.0, /meshsub/1.1.0, /meshsub/1.0.0 and
 * /floodsub/1.0.0, and talks to js-libp2p's `@libp2p/gossipsub` and go/rust gossipsub.
 *
 * @example
 * ```ts
 * import { createNode } from "@p2p-edge/libp2p";
 * import { tcp } from "@p2p-edge/libp2p/transports/tcp";
 * import { noise } from "@p2p-edge/libp2p/protocols/noise";
 * import { yamux } from "@p2p-edge/libp2p/protocols/yamux";
 * import { identify } from "@p2p-edge/libp2p/protocols/identify";
 * import { gossipsub } from "@p2p-edge/libp2p/protocols/gossipsub";
 * const node = await createNode({
 *   transports: [tcp()],
 *   connectionEncrypters: [noise()],
 *   streamMuxers: [yamux()],
 *   listen: ["/ip4/127.0.0.1/tcp/0"],
 *   services: { identify: identify(), pubsub: gossipsub({ allowPublishToZeroTopicPeers: true }) },
 * });
 * node.services.pubsub.subscribe("blocks");
 * node.services.pubsub.topicValidators.set("blocks", (_peer, msg) =>
 *   msg.data.byteLength > 0 ? "accept" : "reject");
 * node.services.pubsub.addEventListener("message", (e) => console.log(e.detail.topic));
 * await node.services.pubsub.publish("blocks", new Uint8Array([1, 2, 3]));
 * await node.stop();
 * ```
 *
 * @module
 */

export {
  type DirectPeer,
  gossipsub,
  type GossipsubOptions,
  type GossipsubScoreParams,
  GossipsubService,
  MAX_PX_DIALS,
} from "./service.ts";
export {
  DEFAULT_GOSSIPSUB_PARAMS,
  DEFAULT_SCORE_THRESHOLDS,
  type GossipsubParams,
  type GossipsubThresholds,
} from "./params.ts";
export type { PeerScoreParamsInit, TopicScoreParams } from "./score_params.ts";
export type { PeerScoreParams } from "./score_params.ts";
export {
  FLOODSUB_PROTOCOL,
  GOSSIPSUB_V10_PROTOCOL,
  GOSSIPSUB_V11_PROTOCOL,
  GOSSIPSUB_V12_PROTOCOL,
  PublishError,
  type PublishResult,
  type PubsubMessageDetail,
  type PubsubServiceOptions,
  type PubsubTopicValidator as TopicValidator,
  type SignaturePolicy,
  type SubscriptionChangeDetail,
} from "../pubsub/mod.ts";
export type { GossipsubRouter } from "./router.ts";
export type {
  PubsubClock,
  PubsubEvents,
  PubsubMessage,
  PubsubRouter,
  PubsubStats,
  RpcLimits,
  ValidationResult,
} from "../pubsub/mod.ts";
