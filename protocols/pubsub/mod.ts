/**
 * Pubsub internals shared by floodsub and gossipsub (not a package export): the wire shapes and
 * router contract (types.ts), the RPC codec and its limits, signing policies and message ids,
 * splitting outbound RPCs to the receivers' size limits, the seen cache and the validation
 * pipeline. Other protocols import pubsub only through this
 * file (tools/check_layers.ts).
 *
 * @example
 * ```ts
 * import { decodeRpc, encodeRpcFrame, SeenCache } from "./mod.ts";
 * const frame = encodeRpcFrame({ subscriptions: [{ subscribe: true, topic: "a" }], messages: [] });
 * decodeRpc(frame.subarray(1)).subscriptions[0].topic; // "a"
 * new SeenCache().add("id", 0); // true
 * ```
 *
 * @module
 */

export {
  type ControlGraft,
  type ControlIDontWant,
  type ControlIHave,
  type ControlIWant,
  type ControlMessage,
  type ControlPrune,
  FLOODSUB_PROTOCOL,
  GOSSIPSUB_V10_PROTOCOL,
  GOSSIPSUB_V11_PROTOCOL,
  GOSSIPSUB_V12_PROTOCOL,
  type IncomingMessage,
  messageIdKey,
  type PeerInfo,
  type PeerScoreApi,
  type PrunePeerInfo,
  type PubsubMessage,
  type PubsubRouter,
  type PubsubRouterSink,
  type Rpc,
  type SubOpts,
  type ValidationResult,
} from "./types.ts";
export { decodeRpc, encodeMessage, encodeRpc, encodeRpcFrame } from "./rpc_codec.ts";
export { splitRpc } from "./rpc_split.ts";
export {
  DEFAULT_RPC_LIMITS,
  MAX_IDONTWANT_IDS,
  MAX_IHAVE_IDS,
  MAX_IWANT_IDS,
  MAX_MESSAGE_ID_BYTES,
  MAX_PRUNE_PEERS,
  MAX_RPC_CONTROL_ENTRIES,
  MAX_RPC_FRAME_BYTES,
  MAX_RPC_MESSAGE_IDS,
  MAX_RPC_MESSAGES,
  MAX_RPC_SEND_BYTES,
  MAX_RPC_SUBSCRIPTIONS,
  MAX_TOPIC_BYTES,
  resolveRpcLimits,
  type RpcLimits,
} from "./rpc_limits.ts";
export {
  checkSignaturePolicy,
  DEFAULT_SIGNATURE_POLICY,
  defaultMessageIdFn,
  MessageAuthor,
  type MessageAuthorOptions,
  type MessageIdFn,
  messageIdFromContent,
  messageIdFromSeqno,
  messageIdJsDefault,
  SEQNO_BYTES,
  SeqnoGenerator,
  SIGN_PREFIX,
  type SignatureCheck,
  type SignaturePolicy,
  type SignatureRejection,
  signedBytes,
} from "./signing.ts";
export {
  DEFAULT_SEEN_MAX_ENTRIES,
  DEFAULT_SEEN_TTL_MS,
  SeenCache,
  type SeenCacheOptions,
} from "./seen_cache.ts";
export {
  DEFAULT_MAX_VALIDATIONS_IN_FLIGHT,
  DEFAULT_MAX_VALIDATIONS_PER_TOPIC,
  DEFAULT_VALIDATION_TIMEOUT_MS,
  MAX_TOPIC_VALIDATORS,
  type TopicValidator,
  type ValidationOutcome,
  ValidationPipeline,
  type ValidationPipelineOptions,
  type ValidationReason,
  type ValidationStats,
  type ValidationTimers,
} from "./validation.ts";
export {
  DEFAULT_HEARTBEAT_INITIAL_DELAY_MS,
  DEFAULT_HEARTBEAT_INTERVAL_MS,
  ipOf,
  PubsubService,
  REAL_CLOCK,
} from "./service.ts";
export {
  PublishError,
  type PublishResult,
  type PubsubAuthor,
  type PubsubClock,
  type PubsubEvents,
  type PubsubMessageDetail,
  type PubsubServiceOptions,
  type PubsubStats,
  type SubscriptionChangeDetail,
  type TopicValidator as PubsubTopicValidator,
} from "./service_types.ts";
export { DEFAULT_MAX_FRAME_BYTES, DEFAULT_MAX_QUEUED_BYTES } from "./streams.ts";
