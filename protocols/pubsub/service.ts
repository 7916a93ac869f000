/**
 * The pubsub node service: it wires any sans-IO {@link PubsubRouter} (floodsub, gossipsub) to
 * a node. Peers that list one of the router's protocols (identify, through the node's
 * topologies) get one outbound stream that only writes, starting with the router's hello; their
 * inbound streams are only read, frame by frame (size checked before allocation), decoded and
 * handed to the router; first-seen messages go through the validation pipeline (signature
 * policy, then the topic's validator) and the outcome back to the router, which forwards
 * accepted ones and hands them back for the `message` event. A heartbeat timer drives the
 * router; it is the only place a clock is read, and both are injectable.
 *
 * The public surface follows js-libp2p's pubsub services: `subscribe`, `unsubscribe`,
 * `publish`, `getTopics`, `getSubscribers`, `getMeshPeers`, `getPeers`, `topicValidators`, and
 * the `message` and `subscription-change` events.
 *
 * @module
 */

import { Libp2pError } from "../../src/errors.ts";
import type { Connection, Stream } from "../../src/connection.ts";
import type { Libp2pNode, Startable } from "../../src/node/node.ts";
import { TypedEventTarget } from "../../src/node/events.ts";
import type { PeerId } from "../../src/peer_id.ts";
import { PeerStreams, type PeerStreamsHost } from "./peer_streams.ts";
import { DEFAULT_MAX_FRAME_BYTES, FrameReader } from "./streams.ts";
import type {
  IncomingMessage,
  PubsubMessage,
  PubsubRouter,
  PubsubRouterSink,
  Rpc,
  ValidationResult,
} from "./types.ts";
import { decodeRpc, encodeRpcFrame } from "./rpc_codec.ts";
import { MAX_RPC_SEND_BYTES } from "./rpc_limits.ts";
import { splitRpc } from "./rpc_split.ts";
import {
  PublishError,
  type PublishResult,
  type PubsubAuthor,
  type PubsubClock,
  type PubsubEvents,
  type PubsubMessageDetail,
  type PubsubServiceOptions,
  type PubsubStats,
  type TopicValidator,
} from "./service_types.ts";
import { MessagePipeline } from "./pipeline.ts";
import { createAuthor } from "./author.ts";

/**
 * How long a publication waits for room in a slow peer's queue before that copy is dropped,
 * ms (HARDENING.md rule 4: a peer that does not read holds a publisher this long once; after
 * that its copies are dropped at once until its queue drains).
 */
export const DEFAULT_PUBLISH_QUEUE_WAIT_MS = 2_000;

/** Heartbeat period (gossipsub-v1.0.md: 1 s in go, rust and js). */
export const DEFAULT_HEARTBEAT_INTERVAL_MS = 1_000;

/** First heartbeat after start (go and js: 100 ms). */
export const DEFAULT_HEARTBEAT_INITIAL_DELAY_MS = 100;

/** Inbound streams of a pubsub protocol per connection (one, plus one replacing it). */
const MAX_INBOUND_STREAMS = 2;

/** The real clock: `performance.now()` and the global timers. */
export const REAL_CLOCK: PubsubClock = {
  now: () => performance.now(),
  setInterval: (fn, ms) => setInterval(fn, ms),
  clearInterval: (h) => clearInterval(h as number),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (h) => clearTimeout(h as number),
};

/**
 * A pubsub service over a router. Built by `floodsub()` / `gossipsub()`; see their modules.
 *
 * @example
 * ```ts
 * import type { PubsubService } from "./service.ts";
 * function chat(pubsub: PubsubService): void {
 *   pubsub.subscribe("chat");
 *   pubsub.addEventListener("message", (e) => console.log(new TextDecoder().decode(e.detail.data)));
 * }
 * ```
 */
export class PubsubService<R extends PubsubRouter = PubsubRouter>
  extends TypedEventTarget<PubsubEvents>
  implements Startable {
  /** The node the service runs on. */
  readonly node: Libp2pNode;
  /** The router. */
  readonly router: R;
  /** Per-topic validators (js-libp2p's `topicValidators`). */
  readonly topicValidators: Map<string, TopicValidator> = new Map();
  /** Options as given. */
  protected readonly options: PubsubServiceOptions;
  /** The clock (real unless injected). */
  protected readonly clock: PubsubClock;
  readonly #author: PubsubAuthor;
  readonly #pipeline: MessagePipeline;
  readonly #peers = new Map<string, PeerStreams>();
  readonly #host: PeerStreamsHost;
  #topologies: string[] = [];
  #timers: unknown[] = [];
  #lifetime = new AbortController();
  #started = false;
  /** Peers that got the message being published (set only inside publish). */
  #capture: string[] | undefined;
  /** Frames of the message being published that wait for room in a slow peer's queue. */
  #waiting: { peer: PeerStreams; frames: Uint8Array[] }[] = [];
  readonly #stats: PubsubStats = {
    rpcIn: 0,
    rpcOut: 0,
    badFrames: 0,
    dropped: 0,
    streamReplacements: 0,
    peersGivenUp: 0,
    validated: { accept: 0, reject: 0, ignore: 0 },
  };

  /** Prefer the `floodsub()` / `gossipsub()` factories. */
  constructor(
    node: Libp2pNode,
    makeRouter: (sink: PubsubRouterSink, author: PubsubAuthor) => R,
    options: PubsubServiceOptions = {},
  ) {
    super();
    this.node = node;
    this.options = options;
    this.clock = options.clock ?? REAL_CLOCK;
    this.#author = createAuthor(node, options);
    const sink: PubsubRouterSink = {
      send: (peer, rpc) => this.#send(peer, rpc),
      deliver: (incoming) => this.#deliver(incoming),
    };
    this.router = makeRouter(sink, this.#author);
    this.#pipeline = new MessagePipeline({
      author: this.#author,
      validators: this.topicValidators,
      peerIdOf: (key) => this.#peers.get(key)?.peerId,
      options,
      clock: this.clock,
    });
    this.#host = {
      protocols: () => this.router.protocols,
      signal: () => this.#lifetime.signal,
      timers: this.clock,
      onOutboundOpen: (peer, protocol) => this.#onOutboundOpen(peer, protocol),
      hello: () => this.#hello(),
      onGone: (peer) => this.#onGone(peer),
      onReplaced: () => void this.#stats.streamReplacements++,
    };
  }

  /** Counters (messages in and out, drops, replaced streams, validation outcomes). */
  stats(): PubsubStats {
    let dropped = 0;
    for (const p of this.#peers.values()) dropped += p.queue.dropped;
    return {
      ...this.#stats,
      dropped: this.#stats.dropped + dropped,
      validated: { ...this.#stats.validated },
    };
  }

  /** True between start and stop. */
  get isStarted(): boolean {
    return this.#started;
  }

  /** Serve the router's protocols, register topologies, arm the heartbeat. */
  start(): void {
    if (this.#started) return;
    this.#started = true;
    this.#lifetime = new AbortController();
    for (const protocol of this.router.protocols) {
      this.node.handle(protocol, (stream) => this.#onInbound(stream), {
        maxInboundStreams: MAX_INBOUND_STREAMS,
        idleTimeoutMs: 0, // pubsub streams are long-lived and may be quiet
      });
      this.#topologies.push(this.node.register(protocol, {
        onConnect: (_peer, conn) => void this.#ensurePeer(conn),
        onDisconnect: (peer) => this.#onDisconnect(peer),
      }));
    }
    const interval = this.options.heartbeatIntervalMs ?? DEFAULT_HEARTBEAT_INTERVAL_MS;
    const first = this.options.heartbeatInitialDelayMs ?? DEFAULT_HEARTBEAT_INITIAL_DELAY_MS;
    if (interval > 0) {
      this.#timers.push(this.clock.setTimeout(() => {
        if (!this.#started) return;
        this.heartbeat();
        this.#timers.push(this.clock.setInterval(() => this.heartbeat(), interval));
      }, first));
    }
  }

  /** Stop serving; close every stream; release the timers. */
  stop(): void {
    if (!this.#started) return;
    this.#started = false;
    for (const t of this.#timers) {
      this.clock.clearTimeout(t);
      this.clock.clearInterval(t);
    }
    this.#timers = [];
    this.#lifetime.abort(new Libp2pError("pubsub stopped"));
    for (const id of this.#topologies) this.node.unregister(id);
    this.#topologies = [];
    for (const protocol of this.router.protocols) this.node.unhandle(protocol);
    const now = this.clock.now();
    for (const peer of this.#peers.values()) {
      peer.close(new Libp2pError("pubsub stopped"));
      this.router.removePeer(peer.key, now);
    }
    this.#peers.clear();
    this.#pipeline.clear();
  }

  /** One heartbeat of the router now (the timer calls it; tests may too). */
  heartbeat(): void {
    if (!this.#started) return;
    this.router.heartbeat(this.clock.now());
  }

  /** Subscribe to a topic: tell our peers, and deliver its messages as `message` events. */
  subscribe(topic: string): void {
    if (typeof topic !== "string" || topic.length === 0) {
      throw new TypeError("a topic is a non-empty string");
    }
    this.router.subscribe(topic, this.clock.now());
  }

  /** Unsubscribe from a topic. */
  unsubscribe(topic: string): void {
    this.router.unsubscribe(topic, this.clock.now());
  }

  /** Topics we are subscribed to. */
  getTopics(): string[] {
    return this.router.getTopics();
  }

  /** Peers known to be subscribed to `topic`. */
  getSubscribers(topic: string): PeerId[] {
    return this.#toPeerIds(this.router.getSubscribers(topic));
  }

  /** Mesh peers of `topic` (floodsub: every subscriber). */
  getMeshPeers(topic: string): PeerId[] {
    return this.#toPeerIds(this.router.getMeshPeers(topic));
  }

  /** Peers we exchange pubsub messages with. */
  getPeers(): PeerId[] {
    return this.#toPeerIds(this.router.getPeers());
  }

  /**
   * Publish `data` on `topic`: the message is built and signed per the signing policy, handed
   * to the router, and sent. Resolves with the peers it went to; with none, rejects with
   * PublishError (`NoPeersSubscribedToTopic`) unless `allowPublishToZeroTopicPeers`.
   */
  async publish(
    topic: string,
    data: Uint8Array,
    options: { signal?: AbortSignal } = {},
  ): Promise<PublishResult> {
    options.signal?.throwIfAborted();
    if (!this.#started) throw new Libp2pError("pubsub is not started");
    const message = await this.#author.build(topic, data);
    options.signal?.throwIfAborted();
    const id = this.#author.msgId(message);
    this.#capture = [];
    this.#waiting = [];
    let recipients: string[];
    let waiting: { peer: PeerStreams; frames: Uint8Array[] }[];
    try {
      this.router.publish(message, id, this.clock.now());
    } finally {
      recipients = this.#capture;
      waiting = this.#waiting;
      this.#capture = undefined;
      this.#waiting = [];
    }
    if (waiting.length > 0) {
      recipients.push(...await this.#flushWaiting(waiting, options.signal));
    }
    if (this.options.emitSelf === true && this.router.getTopics().includes(topic)) {
      this.dispatch("message", this.#detail(message, id, this.node.peerId));
    }
    if (recipients.length === 0 && this.options.allowPublishToZeroTopicPeers !== true) {
      throw new PublishError(`no peers subscribed to ${topic}`, "NoPeersSubscribedToTopic");
    }
    return { recipients: this.#toPeerIds(recipients) };
  }

  // --- peers and streams ------------------------------------------------------------------

  /** The peer's stream state for `conn`, created (and its outbound stream opened) if new. */
  #ensurePeer(conn: Connection): PeerStreams | undefined {
    if (!this.#started || conn.status !== "open") return undefined;
    const key = conn.remotePeer.toString();
    let peer = this.#peers.get(key);
    if (peer !== undefined && !peer.gone) {
      if (peer.connection.status !== "open") peer.useConnection(conn);
      return peer;
    }
    peer = new PeerStreams(this.#host, conn, {
      maxQueuedBytes: this.options.maxOutboundBufferSize,
    });
    this.#peers.set(key, peer);
    peer.open();
    return peer;
  }

  #onOutboundOpen(peer: PeerStreams, protocol: string): void {
    const conn = peer.connection;
    this.router.addPeer(peer.key, protocol, {
      direction: conn.direction,
      ip: ipOf(conn.remoteAddr.toString()),
    }, this.clock.now());
  }

  #onGone(peer: PeerStreams): void {
    this.#stats.peersGivenUp++;
    this.#stats.dropped += peer.queue.dropped;
    if (this.#peers.get(peer.key) === peer) this.#peers.delete(peer.key);
    if (peer.protocol !== undefined) this.router.removePeer(peer.key, this.clock.now());
  }

  #onDisconnect(peerId: PeerId): void {
    const key = peerId.toString();
    const peer = this.#peers.get(key);
    if (peer === undefined) return;
    // Another connection may still be open (the topology fires when the last one closes,
    // or when the peer stops listing the protocol).
    const open = this.node.getConnections(peerId).find((c) => c.status === "open");
    if (open !== undefined && peer.outbound !== undefined) return;
    this.#peers.delete(key);
    this.#stats.dropped += peer.queue.dropped;
    peer.close(new Libp2pError("peer disconnected"));
    if (peer.protocol !== undefined) this.router.removePeer(key, this.clock.now());
  }

  /** Our subscriptions as a framed RPC (a replacement stream starts with it). */
  #hello(): Uint8Array | undefined {
    const topics = this.router.getTopics();
    if (topics.length === 0) return undefined;
    return encodeRpcFrame({
      subscriptions: topics.map((topic) => ({ subscribe: true, topic })),
      messages: [],
    });
  }

  #send(peerKey: string, rpc: Rpc): void {
    const peer = this.#peers.get(peerKey);
    if (peer === undefined || peer.gone) return;
    let frames: Uint8Array[];
    const whole = encodeRpcFrame(rpc);
    if (whole.byteLength <= MAX_RPC_SEND_BYTES) {
      frames = [whole];
    } else {
      // Over what go accepts (1 MiB): parts within it (id lists cut, messages kept whole).
      frames = splitRpc(rpc, MAX_RPC_SEND_BYTES - 8).map(encodeRpcFrame);
    }
    const own = this.#capture !== undefined && rpc.messages.length > 0;
    if (own) {
      // Our own publication waits for room in a slow peer's queue rather than being dropped
      // (publish awaits it), unless the peer already made a publication wait in vain.
      const bytes = frames.reduce((n, f) => n + f.byteLength, 0);
      if (!peer.queue.hasRoom(bytes) && !peer.queue.congested) {
        this.#waiting.push({ peer, frames });
        return;
      }
    }
    let queued = true;
    for (const f of frames) {
      if (peer.queue.push(f)) this.#stats.rpcOut++;
      else queued = false;
    }
    if (own && queued) this.#capture!.push(peerKey);
  }

  /** Queue the frames that waited for room; returns the peers they were queued to. */
  async #flushWaiting(
    waiting: { peer: PeerStreams; frames: Uint8Array[] }[],
    signal: AbortSignal | undefined,
  ): Promise<string[]> {
    const ms = this.options.publishQueueWaitMs ?? DEFAULT_PUBLISH_QUEUE_WAIT_MS;
    const done = await Promise.all(waiting.map(async ({ peer, frames }) => {
      const bytes = frames.reduce((n, f) => n + f.byteLength, 0);
      const deadline = new AbortController();
      const timer = this.clock.setTimeout(() => deadline.abort(), ms);
      const both = signal === undefined
        ? deadline.signal
        : AbortSignal.any([signal, deadline.signal]);
      try {
        // Woken waiters race for the room freed: whoever finds none waits again.
        while (!peer.queue.hasRoom(bytes) && !peer.gone) {
          await peer.queue.waitForRoom(bytes, both);
        }
      } catch {
        signal?.throwIfAborted();
        peer.queue.congested = true; // later publications drop at once until it drains
      } finally {
        this.clock.clearTimeout(timer);
      }
      let queued = true;
      for (const f of frames) {
        if (peer.queue.push(f)) this.#stats.rpcOut++;
        else queued = false;
      }
      return queued ? peer.key : undefined;
    }));
    return done.filter((k): k is string => k !== undefined);
  }

  async #onInbound(stream: Stream): Promise<void> {
    const peer = this.#ensurePeer(stream.connection);
    if (peer === undefined) {
      stream.abort(new Libp2pError("pubsub is not running"));
      return;
    }
    peer.setInbound(stream);
    const reader = new FrameReader(
      stream.readable,
      this.options.maxInboundDataLength ?? DEFAULT_MAX_FRAME_BYTES,
    );
    try {
      // The router must know the peer before its RPCs count (subscriptions, control).
      await peer.ready;
      for (;;) {
        const body = await reader.next();
        if (body === undefined) break;
        if (peer.gone || !this.#started) break;
        const rpc = decodeRpc(body, this.options.rpcLimits);
        this.#stats.rpcIn++;
        this.#handleRpc(peer, rpc);
      }
    } catch (err) {
      this.#stats.badFrames++;
      stream.abort(err);
    } finally {
      reader.release();
      peer.clearInbound(stream);
    }
  }

  #handleRpc(peer: PeerStreams, rpc: Rpc): void {
    const fresh = this.router.handleRpc(peer.key, rpc, this.clock.now());
    if (rpc.subscriptions.length > 0) {
      this.dispatch("subscription-change", {
        peerId: peer.peerId,
        subscriptions: rpc.subscriptions.map((s) => ({ topic: s.topic, subscribe: s.subscribe })),
      });
    }
    for (const incoming of fresh) this.#validate(incoming);
  }

  #validate(incoming: IncomingMessage): void {
    this.#pipeline.validate(incoming).then((result) => this.#report(incoming, result));
  }

  #report(incoming: IncomingMessage, result: ValidationResult): void {
    if (!this.#started) return;
    this.#stats.validated[result]++;
    this.router.reportValidation(incoming, result, this.clock.now());
  }

  #deliver(incoming: IncomingMessage): void {
    const source = this.#peers.get(incoming.from)?.peerId ?? this.node.peerId;
    this.dispatch("message", this.#detail(incoming.message, incoming.id, source));
  }

  #detail(message: PubsubMessage, id: Uint8Array, source: PeerId): PubsubMessageDetail {
    return this.#author.detail(message, id, source);
  }

  #toPeerIds(keys: string[]): PeerId[] {
    const out: PeerId[] = [];
    for (const k of keys) {
      const p = this.#peers.get(k);
      if (p !== undefined) out.push(p.peerId);
    }
    return out;
  }
}

/** The IP of a multiaddr's text (`/ip4/…` or `/ip6/…`), if it has one. */
export function ipOf(addr: string): string | undefined {
  const m = /^\/ip[46]\/([^/]+)/.exec(addr);
  return m === null ? undefined : m[1];
}
