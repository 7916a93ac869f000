/**
 * The shared pubsub components floodsub and gossipsub are built from (an internal entry, not a
 * package export): the RPC shapes and router contract, the seen cache, the node service.
 *
 * @module
 */

export * from "./types.ts";
export * from "./seen_cache.ts";
export {
  DEFAULT_HEARTBEAT_INITIAL_DELAY_MS,
  DEFAULT_HEARTBEAT_INTERVAL_MS,
  ipOf,
  type PubsubClock,
  PubsubService,
  REAL_CLOCK,
} from "./service.ts";
export {
  type PublishResult,
  PublishError,
  type PubsubAuthor,
  type PubsubEvents,
  type PubsubMessageDetail,
  type PubsubServiceOptions,
  type PubsubStats,
  type SignaturePolicy,
  type SubscriptionChangeDetail,
  type TopicValidator,
} from "./service_types.ts";
export { DEFAULT_MAX_FRAME_BYTES, DEFAULT_MAX_QUEUED_BYTES } from "./streams.ts";
