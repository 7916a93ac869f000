/**
 * The streams of one pubsub peer (libp2p/specs pubsub/README.md "Stream management"): ONE
 * outbound stream that only writes, fed by a byte-bounded {@link OutboundQueue}, and the
 * newest inbound stream, which only reads. An outbound stream that fails (a write error or a
 * reset seen by its read side) is replaced on the same connection, a bounded number of times
 * with a back-off; when that fails the peer is given up (reported through `onGone`), never
 * kept without a working stream. A peer whose queue stays full is reset the same way.
 *
 * @module
 */

import type { Connection, Stream } from "../../src/connection.ts";
import type { PeerId } from "../../src/peer_id.ts";
import { OutboundQueue, type OutboundQueueLimits } from "./streams.ts";

/** Attempts to open an outbound stream each time one is needed (HARDENING.md rule 4). */
export const MAX_OPEN_ATTEMPTS = 3;

/** Outbound streams replaced over a peer's session before it is given up (rule 4). */
export const MAX_STREAM_REPLACEMENTS = 5;

/** Back-off before the second open attempt, doubled for each further one, ms. */
export const OPEN_RETRY_BASE_MS = 100;

/** What a {@link PeerStreams} needs from the service. */
export interface PeerStreamsHost {
  /** The protocols to offer, most preferred first. */
  protocols(): readonly string[];
  /** The first outbound stream of this peer is open (the router's `addPeer`). */
  onOutboundOpen(peer: PeerStreams, protocol: string): void;
  /** A replacement stream is open: the hello (our subscriptions) to send on it first. */
  hello(): Uint8Array | undefined;
  /** The peer has no working outbound stream and will not get one: remove it. */
  onGone(peer: PeerStreams, reason: unknown): void;
  /** A stream was replaced (statistics). */
  onReplaced(peer: PeerStreams): void;
  /** The service's lifetime (aborted at stop). */
  signal(): AbortSignal;
  /** Timers for the retry back-off (the service's injectable clock). */
  readonly timers: {
    setTimeout(fn: () => void, ms: number): unknown;
    clearTimeout(handle: unknown): void;
  };
}

/**
 * The stream state of one peer.
 *
 * @example
 * ```ts
 * import type { PeerStreams } from "./peer_streams.ts";
 * function queued(p: PeerStreams): number {
 *   return p.queue.queuedBytes;
 * }
 * ```
 */
export class PeerStreams {
  /** The peer. */
  readonly peerId: PeerId;
  /** Its id text (the router's peer key). */
  readonly key: string;
  /** Frames to write, bounded in bytes. */
  readonly queue: OutboundQueue;
  /** The negotiated protocol of the first outbound stream (once open). */
  protocol: string | undefined;
  /** Resolves once the first outbound stream is open or the attempt failed. */
  readonly ready: Promise<void>;
  #resolveReady: () => void = () => {};
  readonly #host: PeerStreamsHost;
  #connection: Connection;
  #outbound: Stream | undefined;
  #inbound: Stream | undefined;
  #replacements = 0;
  #opening = false;
  #gone = false;

  /** State for `connection`'s peer; call {@link open} to start. */
  constructor(host: PeerStreamsHost, connection: Connection, limits: OutboundQueueLimits) {
    this.#host = host;
    this.#connection = connection;
    this.peerId = connection.remotePeer;
    this.key = this.peerId.toString();
    this.ready = new Promise((resolve) => this.#resolveReady = resolve);
    this.queue = new OutboundQueue({
      ...limits,
      onError: (err) => this.#failed(this.#outbound, err),
      onStall: () => this.#giveUp(new Error("peer stalled: its outbound queue stayed full")),
    });
  }

  /** The connection the streams run on. */
  get connection(): Connection {
    return this.#connection;
  }

  /** The open outbound stream, if any. */
  get outbound(): Stream | undefined {
    return this.#outbound;
  }

  /** The current inbound stream, if any. */
  get inbound(): Stream | undefined {
    return this.#inbound;
  }

  /** True once the peer was given up or closed. */
  get gone(): boolean {
    return this.#gone;
  }

  /** Open the first outbound stream. */
  open(): void {
    this.#openStream(true);
  }

  /** Use `connection` for replacement streams (the old one closed, the peer is still up). */
  useConnection(connection: Connection): void {
    this.#connection = connection;
  }

  /** A new inbound stream: it replaces the previous one (reset), like go and js. */
  setInbound(stream: Stream): void {
    const old = this.#inbound;
    this.#inbound = stream;
    if (old !== undefined && old !== stream) old.abort(new Error("replaced by a newer stream"));
  }

  /** The inbound stream ended; forget it if it is still the current one. */
  clearInbound(stream: Stream): void {
    if (this.#inbound === stream) this.#inbound = undefined;
  }

  /** Close everything (peer disconnected or service stopped). */
  close(reason?: unknown): void {
    if (this.#gone) return;
    this.#gone = true;
    this.queue.close();
    this.#outbound?.abort(reason);
    this.#inbound?.abort(reason);
    this.#outbound = undefined;
    this.#inbound = undefined;
    this.#resolveReady();
  }

  async #openStream(first: boolean): Promise<void> {
    if (this.#opening || this.#gone) return;
    this.#opening = true;
    let lastError: unknown;
    try {
      for (let attempt = 0; attempt < MAX_OPEN_ATTEMPTS; attempt++) {
        if (this.#gone || this.#host.signal().aborted) return;
        if (attempt > 0) {
          await sleep(
            OPEN_RETRY_BASE_MS * 2 ** (attempt - 1),
            this.#host.signal(),
            this.#host.timers,
          );
        }
        if (this.#connection.status !== "open") {
          lastError = new Error("connection closed");
          break;
        }
        try {
          const stream = await this.#connection.newStream(this.#host.protocols(), {
            signal: this.#host.signal(),
            idleTimeoutMs: 0, // long-lived and quiet between messages (pubsub streams)
          });
          if (this.#gone) {
            stream.abort(new Error("peer gone"));
            return;
          }
          this.#attach(stream, first);
          return;
        } catch (err) {
          lastError = err;
        }
      }
      this.#giveUp(lastError ?? new Error("no outbound stream"));
    } finally {
      this.#opening = false;
    }
  }

  #attach(stream: Stream, first: boolean): void {
    this.#outbound = stream;
    if (first) {
      this.protocol = stream.protocol;
      this.#host.onOutboundOpen(this, stream.protocol);
      this.#resolveReady();
    } else {
      const hello = this.#host.hello();
      if (hello !== undefined) this.queue.unshift(hello);
    }
    const writer = stream.writable.getWriter();
    this.queue.attach({ write: (bytes) => writer.write(bytes) });
    // The read side of an outbound stream carries nothing; reading it tells us when the
    // remote resets it. A clean end (the remote closed its side) is not a failure: writes
    // still go through until they fail.
    this.#watch(stream);
  }

  async #watch(stream: Stream): Promise<void> {
    try {
      const reader = stream.readable.getReader();
      for (;;) {
        const r = await reader.read();
        if (r.done) return;
      }
    } catch (err) {
      this.#failed(stream, err);
    }
  }

  #failed(stream: Stream | undefined, err: unknown): void {
    if (this.#gone || stream === undefined || stream !== this.#outbound) return;
    this.#outbound = undefined;
    this.queue.detach();
    stream.abort(err);
    if (++this.#replacements > MAX_STREAM_REPLACEMENTS) {
      this.#giveUp(err);
      return;
    }
    this.#host.onReplaced(this);
    this.#openStream(false);
  }

  #giveUp(reason: unknown): void {
    if (this.#gone) return;
    this.close(reason);
    this.#host.onGone(this, reason);
  }
}

function sleep(
  ms: number,
  signal: AbortSignal,
  timers: PeerStreamsHost["timers"],
): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      timers.clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    };
    const timer = timers.setTimeout(done, ms);
    signal.addEventListener("abort", done, { once: true });
  });
}
