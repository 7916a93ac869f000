/**
 * The shapes shared by floodsub and gossipsub: the wire RPC (libp2p/specs pubsub/README.md
 * "The RPC", gossipsub-v1.0.md / v1.1.md / v1.2.md control messages), the sans-IO router
 * contract the services drive, and the peer-score contract the gossipsub router calls.
 *
 * Peers are named by their peer id text everywhere here (a map key the router can compare
 * without allocating); message ids are bytes on the wire and their latin1
 * text (`messageIdKey`) as map keys.
 *
 * @module
 */

/** A published message as it travels (rpc.proto `Message`, fields 1-6). */
export interface PubsubMessage {
  /** The author's peer id bytes (absent under StrictNoSign). */
  from?: Uint8Array;
  data?: Uint8Array;
  /** 8 bytes, big-endian (absent under StrictNoSign). */
  seqno?: Uint8Array;
  topic: string;
  signature?: Uint8Array;
  /** The author's public key when it cannot be recovered from `from`. */
  key?: Uint8Array;
}

/** A subscription change (rpc.proto `SubOpts`). */
export interface SubOpts {
  subscribe: boolean;
  topic: string;
}

/** IHAVE: ids we hold in the message cache for a topic (gossipsub-v1.0.md). */
export interface ControlIHave {
  topic: string;
  messageIds: Uint8Array[];
}

/** IWANT: ids the sender wants after our IHAVE. */
export interface ControlIWant {
  messageIds: Uint8Array[];
}

/** GRAFT: the sender added us to its mesh for a topic. */
export interface ControlGraft {
  topic: string;
}

/** A peer offered in a PRUNE's peer exchange (gossipsub-v1.1.md "Peer Exchange"). */
export interface PrunePeerInfo {
  peerId: Uint8Array;
  /** A signed peer record envelope (optional on the wire). */
  signedPeerRecord?: Uint8Array;
}

/** PRUNE: the sender removed us from its mesh; `backoff` in seconds (v1.1). */
export interface ControlPrune {
  topic: string;
  peers: PrunePeerInfo[];
  backoff?: number;
}

/** IDONTWANT (v1.2): ids the sender already has; do not send them to it. */
export interface ControlIDontWant {
  messageIds: Uint8Array[];
}

/** The control part of an RPC (rpc.proto `ControlMessage`, fields 1-5). */
export interface ControlMessage {
  ihave: ControlIHave[];
  iwant: ControlIWant[];
  graft: ControlGraft[];
  prune: ControlPrune[];
  idontwant: ControlIDontWant[];
}

/** One RPC frame (rpc.proto `RPC`): subscriptions, messages, control. */
export interface Rpc {
  subscriptions: SubOpts[];
  messages: PubsubMessage[];
  control?: ControlMessage;
}

/** What topic validators return (js-libp2p's TopicValidatorResult, as strings). */
export type ValidationResult = "accept" | "reject" | "ignore";

/** The first-seen, not yet validated message the router hands to the service to validate. */
export interface IncomingMessage {
  /** The message id (the configured id function's output). */
  id: Uint8Array;
  /** `messageIdKey(id)`. */
  idKey: string;
  /** The peer we received it from (not necessarily its author). */
  from: string;
  message: PubsubMessage;
}

/** How a peer joined us: the direction of the connection and the remote IP for colocation. */
export interface PeerInfo {
  direction: "inbound" | "outbound";
  /** The remote IP (v4 or v6 text), when the connection has one. */
  ip?: string;
}

/**
 * The sans-IO router the pubsub service drives (floodsub and gossipsub implement it). Every
 * method takes `now` (ms); no method does I/O or reads a clock. Output goes through the
 * {@link PubsubRouterSink} given at construction.
 */
export interface PubsubRouter {
  /** Protocol ids, most preferred first. */
  readonly protocols: readonly string[];
  /** A peer's outbound stream speaking `protocol` is open: send it our subscriptions. */
  addPeer(peer: string, protocol: string, info: PeerInfo, now: number): void;
  /** The peer's connection (or its last stream) is gone. */
  removePeer(peer: string, now: number): void;
  /**
   * One decoded RPC from `peer`. Handles subscriptions and control at once; returns the
   * messages that are new (not in the seen cache, topic subscribed or relayed) and must be
   * validated. The service validates each and calls {@link reportValidation}.
   */
  handleRpc(peer: string, rpc: Rpc, now: number): IncomingMessage[];
  /** The outcome of validating an {@link IncomingMessage}; on accept the router forwards it. */
  reportValidation(incoming: IncomingMessage, result: ValidationResult, now: number): void;
  /** Publish our own (already signed) message; returns how many peers it was sent to. */
  publish(message: PubsubMessage, id: Uint8Array, now: number): number;
  subscribe(topic: string, now: number): void;
  unsubscribe(topic: string, now: number): void;
  /** Periodic upkeep (gossipsub's heartbeat; floodsub: seen-cache expiry only). */
  heartbeat(now: number): void;
  getTopics(): string[];
  getSubscribers(topic: string): string[];
  /** Mesh peers of a topic (floodsub: every subscriber). */
  getMeshPeers(topic: string): string[];
  /** Peers the router knows (have an outbound stream added). */
  getPeers(): string[];
}

/** Where a router's decisions go. */
export interface PubsubRouterSink {
  /** Queue this RPC to the peer's outbound stream (the service frames and writes it). */
  send(peer: string, rpc: Rpc): void;
  /** A validated, accepted, first-seen message for the application. */
  deliver(incoming: IncomingMessage): void;
}

/**
 * The peer-score contract (gossipsub-v1.1.md "Peer Scoring", P1-P7) the gossipsub router
 * calls. Time is injected; `refresh(now)` decays counters once per decay interval.
 */
export interface PeerScoreApi {
  addPeer(peer: string, ip: string | undefined, now: number): void;
  removePeer(peer: string, now: number): void;
  graft(peer: string, topic: string, now: number): void;
  prune(peer: string, topic: string, now: number): void;
  /** A first-seen message entered validation (starts the P3 delivery window). */
  validateMessage(idKey: string, now: number): void;
  /** The first delivery of an accepted message, by `peer` (P2, P3). */
  deliverMessage(peer: string, idKey: string, topic: string, now: number): void;
  /** A message failed validation (`reject`: P4; `ignore`: no penalty). */
  rejectMessage(
    peer: string,
    idKey: string,
    topic: string,
    reason: "reject" | "ignore" | "duplicate-invalid",
    now: number,
  ): void;
  /** A copy of a message we already saw (P3 near-first deliveries). */
  duplicateMessage(peer: string, idKey: string, topic: string, now: number): void;
  /** Behaviour penalty P7 (broken promises, GRAFT in backoff, ...). */
  addPenalty(peer: string, count: number, reason: string): void;
  /** The current score. */
  score(peer: string, now: number): number;
  /** Decay and expire; call once per heartbeat. */
  refresh(now: number): void;
}

/** Map key of a message id: its bytes as latin1 text (no allocation beyond the string). */
export function messageIdKey(id: Uint8Array): string {
  let text = "";
  for (let i = 0; i < id.length; i++) text += String.fromCharCode(id[i]);
  return text;
}

/** Floodsub's protocol id (libp2p/specs pubsub/README.md). */
export const FLOODSUB_PROTOCOL = "/floodsub/1.0.0";
/** Gossipsub v1.0 (gossipsub-v1.0.md): no peer exchange, no IDONTWANT. */
export const GOSSIPSUB_V10_PROTOCOL = "/meshsub/1.0.0";
/** Gossipsub v1.1 (gossipsub-v1.1.md): scoring, peer exchange, backoff. */
export const GOSSIPSUB_V11_PROTOCOL = "/meshsub/1.1.0";
/** Gossipsub v1.2 (gossipsub-v1.2.md): IDONTWANT. */
export const GOSSIPSUB_V12_PROTOCOL = "/meshsub/1.2.0";
