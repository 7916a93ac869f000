/**
 * Floodsub (`/floodsub/1.0.0`, libp2p/specs pubsub/README.md): every message goes to every
 * peer subscribed to its topic. Register `floodsub(options)` as `services.pubsub` (it needs
 * identify, which tells it which peers speak floodsub); js-libp2p's `@libp2p/floodsub` and
 * gossipsub's floodsub fallback speak the same protocol.
 *
 * @example
 * ```ts
 * import { createNode } from "@p2p-edge/libp2p";
 * import { tcp } from "@p2p-edge/libp2p/transports/tcp";
 * import { noise } from "@p2p-edge/libp2p/protocols/noise";
 * import { yamux } from "@p2p-edge/libp2p/protocols/yamux";
 * import { identify } from "@p2p-edge/libp2p/protocols/identify";
 * import { floodsub } from "@p2p-edge/libp2p/protocols/floodsub";
 * const node = await createNode({
 *   transports: [tcp()],
 *   connectionEncrypters: [noise()],
 *   streamMuxers: [yamux()],
 *   listen: ["/ip4/127.0.0.1/tcp/0"],
 *   services: { identify: identify(), pubsub: floodsub({ allowPublishToZeroTopicPeers: true }) },
 * });
 * node.services.pubsub.subscribe("chat");
 * node.services.pubsub.addEventListener("message", (e) => {
 *   console.log(e.detail.from?.toString(), new TextDecoder().decode(e.detail.data));
 * });
 * await node.services.pubsub.publish("chat", new TextEncoder().encode("hello"));
 * await node.stop();
 * ```
 *
 * @module
 */

import type { ServiceFactory } from "../../src/node/node.ts";
import { IDENTIFY_CAPABILITY } from "../../src/node/services.ts";
import { PubsubService, type PubsubServiceOptions } from "../pubsub/mod.ts";
import { FloodsubRouter, type FloodsubRouterOptions } from "./router.ts";

export { MAX_TOPICS_PER_PEER } from "./router.ts";
export {
  FLOODSUB_PROTOCOL,
  PublishError,
  type PublishResult,
  type PubsubMessageDetail,
  type PubsubService,
  type PubsubServiceOptions,
  type PubsubTopicValidator as TopicValidator,
  type SignaturePolicy,
  type SubscriptionChangeDetail,
} from "../pubsub/mod.ts";

/** Options of {@link floodsub}: the pubsub service's, plus relaying and topic caps. */
export interface FloodsubOptions
  extends
    PubsubServiceOptions,
    Pick<FloodsubRouterOptions, "canRelayMessage" | "maxTopicsPerPeer"> {
}

/** The floodsub service (`node.services.pubsub`). */
export type FloodsubService = PubsubService<FloodsubRouter>;

/**
 * The floodsub service factory; register it as `services.pubsub` next to `identify()`.
 *
 * @example
 * ```ts
 * import { floodsub } from "@p2p-edge/libp2p/protocols/floodsub";
 * const factory = floodsub({ emitSelf: false }); // services: { identify: identify(), pubsub: factory }
 * ```
 */
export function floodsub(options: FloodsubOptions = {}): ServiceFactory<FloodsubService> {
  const build = (node: Parameters<ServiceFactory<FloodsubService>>[0]): FloodsubService =>
    new PubsubService(node, (sink, author) =>
      new FloodsubRouter(sink, {
        msgIdFn: (m) => author.msgId(m),
        seenTtlMs: options.seenTTL,
        canRelayMessage: options.canRelayMessage,
        maxTopicsPerPeer: options.maxTopicsPerPeer,
      }), options);
  return Object.assign(build, {
    serviceCapabilities: Object.freeze(["@libp2p/pubsub", "@libp2p/floodsub"]),
    serviceDependencies: Object.freeze([IDENTIFY_CAPABILITY]),
  });
}
export type { FloodsubRouter, FloodsubRouterOptions } from "./router.ts";
export type {
  PubsubClock,
  PubsubEvents,
  PubsubMessage,
  PubsubRouter,
  PubsubStats,
  RpcLimits,
  ValidationResult,
} from "../pubsub/mod.ts";
