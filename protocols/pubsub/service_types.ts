/**
 * The public shapes of the pubsub services (js-libp2p names): options, the `message` and
 * `subscription-change` event details, publish results, topic validators, errors.
 *
 * @module
 */

import { Libp2pError } from "../../src/errors.ts";
import type { PeerId } from "../../src/peer_id.ts";
import type { RpcLimits } from "./rpc_limits.ts";
import type { PubsubMessage, ValidationResult } from "./types.ts";

import type { SignaturePolicy } from "./signing.ts";

export type { SignaturePolicy };

/**
 * A message as the application sees it (js-libp2p's `Message`), plus where it came from.
 * Under StrictSign `from`, `sequenceNumber`, `signature` (and `key` for RSA) are set; under
 * StrictNoSign they are absent.
 */
export interface PubsubMessageDetail {
  /** "signed" (StrictSign) or "unsigned". */
  type: "signed" | "unsigned";
  /** The topic it was published on. */
  topic: string;
  /** The payload. */
  data: Uint8Array;
  /** The author. */
  from?: PeerId;
  /** The author's sequence number (8 bytes, big-endian, as a bigint). */
  sequenceNumber?: bigint;
  /** The author's signature (StrictSign). */
  signature?: Uint8Array;
  /** The author's public key (protobuf), when its peer id does not embed it (RSA). */
  key?: Uint8Array;
  /** The message id (the configured id function's output). */
  msgId: Uint8Array;
  /** The peer we received it from (ourselves for our own messages with `emitSelf`). */
  propagationSource: PeerId;
  /** The message as it came off the wire. */
  raw: PubsubMessage;
}

/** The detail of `subscription-change`: a peer's subscription updates (js-libp2p shape). */
export interface SubscriptionChangeDetail {
  /** The peer. */
  peerId: PeerId;
  /** Its changes, in the order it sent them. */
  subscriptions: { topic: string; subscribe: boolean }[];
}

/** Events of a pubsub service. */
export interface PubsubEvents {
  /** An accepted, first-seen message of a topic we subscribe to. */
  message: PubsubMessageDetail;
  /** A peer changed its subscriptions. */
  "subscription-change": SubscriptionChangeDetail;
}

/** What `publish` resolves with: the peers the message was sent to. */
export interface PublishResult {
  /** The peers the message was queued to. */
  recipients: PeerId[];
}

/**
 * A topic validator (js-libp2p's shape): `"accept"` forwards and delivers, `"reject"` drops
 * and penalises the sender (gossipsub P4), `"ignore"` drops without penalty. A throw counts as
 * reject.
 */
export type TopicValidator = (
  peer: PeerId,
  message: PubsubMessageDetail,
) => ValidationResult | Promise<ValidationResult>;

/**
 * Publishing found no peer to send to (js-libp2p's `PublishError.NoPeersSubscribedToTopic`).
 *
 * @example
 * ```ts
 * import { PublishError } from "./service_types.ts";
 * const err = new PublishError("no peers", "NoPeersSubscribedToTopic");
 * err.code; // "NoPeersSubscribedToTopic"
 * ```
 */
export class PublishError extends Libp2pError {
  /** Why (js-libp2p's code names). */
  readonly code: string;
  /** An error with the js-libp2p `code`. */
  constructor(message: string, code: string) {
    super(message);
    this.code = code;
  }
}

/** Options shared by floodsub and gossipsub (js-libp2p names where js has one). */
export interface PubsubServiceOptions {
  /** StrictSign (default) or StrictNoSign. js-libp2p `globalSignaturePolicy`. */
  globalSignaturePolicy?: SignaturePolicy;
  /**
   * The message-id function. Default: `from ‖ seqno` under StrictSign (go-compatible),
   * sha256(data) under StrictNoSign.
   */
  msgIdFn?: (message: PubsubMessage) => Uint8Array;
  /** Deliver our own published messages as `message` events too. Default false. */
  emitSelf?: boolean;
  /** Publish succeeds with no recipient. Default false (js-libp2p). */
  allowPublishToZeroTopicPeers?: boolean;
  /** Largest inbound frame, bytes. Default 4 MiB (js-libp2p `maxInboundDataLength`). */
  maxInboundDataLength?: number;
  /**
   * Bytes queued to one peer before new RPCs to it are dropped (forwarded messages, control)
   * or, for our own publications, wait up to `publishQueueWaitMs`. Default 8 MiB.
   */
  maxOutboundBufferSize?: number;
  /** How long `publish` waits for room in a slow peer's queue, ms. Default 2 s. */
  publishQueueWaitMs?: number;
  /** Count limits of a decoded RPC (the codec's defaults). */
  rpcLimits?: RpcLimits;
  /** Heartbeat period, ms (0 disables the timer). Default 1 s. */
  heartbeatIntervalMs?: number;
  /** First heartbeat after start, ms. Default 100 ms. */
  heartbeatInitialDelayMs?: number;
  /** How long a message id is remembered, ms (js `seenTTL`). Default 2 min. */
  seenTTL?: number;
  /** Validation deadline per message, ms. Default the pipeline's. */
  validateTimeoutMs?: number;
  /** Validations in flight at most; more are ignored. Default the pipeline's. */
  maxInflightValidations?: number;
  /** The clock and timers (tests inject a fake). Default the real ones. */
  clock?: PubsubClock;
}

/** Service counters. */
export interface PubsubStats {
  /** RPC frames decoded. */
  rpcIn: number;
  /** RPC frames queued to peers. */
  rpcOut: number;
  /** Inbound streams reset for a bad frame (too large, undecodable, over a limit). */
  badFrames: number;
  /** Frames dropped because a peer's queue was full. */
  dropped: number;
  /** Outbound streams replaced after failing. */
  streamReplacements: number;
  /** Peers given up (no working outbound stream, or stalled). */
  peersGivenUp: number;
  /** Validation outcomes. */
  validated: { accept: number; reject: number; ignore: number };
}

/** How the service builds, identifies and checks messages (signing policy + id function). */
export interface PubsubAuthor {
  /** The policy. */
  readonly policy: SignaturePolicy;
  /** A new message of ours, signed per the policy. */
  build(topic: string, data: Uint8Array): Promise<PubsubMessage>;
  /** The id of a message. */
  msgId(message: PubsubMessage): Uint8Array;
  /** Check a received message against the policy (signature, key, fields). */
  check(message: PubsubMessage): Promise<boolean>;
  /** The application's view of a message. */
  detail(message: PubsubMessage, id: Uint8Array, source: PeerId): PubsubMessageDetail;
}

/** The clock and timers the service uses; tests inject a fake. */
export interface PubsubClock {
  /** Milliseconds, monotonic. */
  now(): number;
  /** Run `fn` every `ms`. */
  setInterval(fn: () => void, ms: number): unknown;
  /** Cancel a {@link setInterval}. */
  clearInterval(handle: unknown): void;
  /** Run `fn` once after `ms`. */
  setTimeout(fn: () => void, ms: number): unknown;
  /** Cancel a {@link setTimeout}. */
  clearTimeout(handle: unknown): void;
}
