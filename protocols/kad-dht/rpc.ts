/**
 * The DHT's stream I/O: reading `uvarint(len) ‖ Message` frames from a libp2p stream with a size
 * limit checked before allocation and a deadline per message, sending one request and reading
 * its answer, and the per-peer admission of inbound requests (in-flight cap and token-bucket
 * rate limit) that keeps a FIND_NODE flood from one peer from starving the others.
 *
 * @module
 */

import { LimitExceededError, StreamClosedError, TimeoutError } from "../../src/errors.ts";
import { decodeMessage, encodeFrame, FrameDecoder, type KadMessage } from "./codec.ts";
import { MAX_MESSAGE_BYTES } from "./constants.ts";

/**
 * Deadline of one incoming message once its first byte arrived, and of an answer to our
 * request (js-libp2p `incomingMessageTimeout`, 10 s; wave-2 research §1.1).
 */
export const MESSAGE_TIMEOUT_MS = 10_000;

/** An inbound DHT stream with no request for this long is reset (go `dhtStreamIdleTimeout`). */
export const STREAM_IDLE_TIMEOUT_MS = 60_000;

/** Requests of one peer handled at once, over all its streams (HARDENING.md rule 4). */
export const MAX_INFLIGHT_PER_PEER = 16;

/** Burst of requests one peer may send before the rate limit applies (HARDENING.md rule 4). */
export const PEER_REQUEST_BURST = 100;

/** Sustained requests per second of one peer (HARDENING.md rule 4). */
export const PEER_REQUESTS_PER_SECOND = 50;

/** Peers the limiter remembers; the least recently active is forgotten first (rule 4). */
export const MAX_LIMITED_PEERS = 4096;

/** The part of a libp2p stream the DHT uses. */
export interface KadStream {
  /** Bytes from the remote. */
  readonly readable: ReadableStream<Uint8Array>;
  /** Bytes to the remote. */
  readonly writable: WritableStream<Uint8Array>;
  /** Reset the stream with a reason. */
  abort(reason?: unknown): void;
}

/**
 * Reads DHT frames from a stream: `next` resolves with the next message, or `undefined` at a
 * clean end of stream. A declared length over the limit throws LimitExceededError before any
 * body byte is buffered; a message not complete within its deadline throws TimeoutError.
 *
 * @example
 * ```ts
 * import { encodeFrame, MessageReader, MessageType } from "@p2p-edge/libp2p/protocols/kad-dht";
 * const frame = encodeFrame({ type: MessageType.PING, closerPeers: [], providerPeers: [] });
 * const reader = new MessageReader(new Blob([frame]).stream());
 * (await reader.next({ firstByteMs: 1000, messageMs: 1000 }))?.type; // 5
 * ```
 */
export class MessageReader {
  readonly #reader: ReadableStreamDefaultReader<Uint8Array>;
  readonly #decoder: FrameDecoder;

  /** Read from `readable` (locked until {@link release}), frames up to `maxBytes`. */
  constructor(readable: ReadableStream<Uint8Array>, maxBytes: number = MAX_MESSAGE_BYTES) {
    this.#reader = readable.getReader();
    this.#decoder = new FrameDecoder(maxBytes);
  }

  /**
   * The next message. `firstByteMs` bounds the wait for a new message to start (the idle
   * deadline), `messageMs` the time from its first byte to its last.
   */
  async next(
    timeouts: { firstByteMs: number; messageMs: number },
  ): Promise<KadMessage | undefined> {
    let body = this.#decoder.next();
    let deadline = performance.now() +
      (this.#decoder.buffered > 0 ? timeouts.messageMs : timeouts.firstByteMs);
    let started = this.#decoder.buffered > 0;
    while (body === undefined) {
      const left = deadline - performance.now();
      const chunk = await this.#readWithin(left);
      if (chunk === undefined) {
        if (this.#decoder.buffered > 0) {
          throw new StreamClosedError("DHT stream ended inside a message");
        }
        return undefined;
      }
      this.#decoder.push(chunk);
      if (!started) {
        started = true;
        deadline = performance.now() + timeouts.messageMs;
      }
      body = this.#decoder.next();
    }
    return decodeMessage(body);
  }

  /** Release the lock on the readable. */
  release(): void {
    try {
      this.#reader.releaseLock();
    } catch {
      // A pending read keeps the lock; the stream is being reset anyway.
    }
  }

  async #readWithin(ms: number): Promise<Uint8Array | undefined> {
    if (ms <= 0) throw new TimeoutError("DHT message deadline passed");
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new TimeoutError("DHT message deadline passed")), ms);
    });
    try {
      const r = await Promise.race([this.#reader.read(), timeout]);
      return r.done ? undefined : r.value;
    } finally {
      clearTimeout(timer);
    }
  }
}

/**
 * Write one request on a fresh stream and, unless `expectReply` is false (ADD_PROVIDER), read
 * one answer. The stream is closed afterwards, or reset on any failure.
 *
 * @example
 * ```ts
 * import { MessageType, request } from "@p2p-edge/libp2p/protocols/kad-dht";
 * // const answer = await request(stream, { type: MessageType.PING, closerPeers: [], providerPeers: [] }, {});
 * ```
 */
export async function request(
  stream: KadStream & { close?(): Promise<void> },
  message: KadMessage,
  options: { expectReply?: boolean; timeoutMs?: number; signal?: AbortSignal } = {},
): Promise<KadMessage | undefined> {
  const onAbort = (): void => stream.abort(options.signal?.reason);
  options.signal?.addEventListener("abort", onAbort, { once: true });
  const writer = stream.writable.getWriter();
  try {
    options.signal?.throwIfAborted();
    await writer.write(encodeFrame(message));
    if (options.expectReply === false) {
      await writer.close();
      return undefined;
    }
    const reader = new MessageReader(stream.readable);
    const ms = options.timeoutMs ?? MESSAGE_TIMEOUT_MS;
    const answer = await reader.next({ firstByteMs: ms, messageMs: ms });
    if (answer === undefined) throw new StreamClosedError("DHT peer closed without answering");
    writer.releaseLock();
    reader.release();
    // Not awaited: the answer is in, and a remote that is slow to close must not hold us.
    stream.close?.().catch(() => {});
    return answer;
  } catch (err) {
    stream.abort(err);
    throw options.signal?.aborted ? options.signal.reason : err;
  } finally {
    options.signal?.removeEventListener("abort", onAbort);
  }
}

/** Options of {@link PeerRequestLimiter}. */
export interface PeerRequestLimiterOptions {
  /** Requests handled at once per peer. Default {@link MAX_INFLIGHT_PER_PEER}. */
  maxInflight?: number;
  /** Token bucket size. Default {@link PEER_REQUEST_BURST}. */
  burst?: number;
  /** Token refill per second. Default {@link PEER_REQUESTS_PER_SECOND}. */
  perSecond?: number;
  /** Peers remembered. Default {@link MAX_LIMITED_PEERS}. */
  maxPeers?: number;
}

interface PeerBudget {
  inflight: number;
  tokens: number;
  refilledAt: number;
}

/**
 * Per-peer admission of inbound requests, sans-IO (time passed in): at most `maxInflight`
 * requests of one peer in progress, and a token bucket of `burst` refilled at `perSecond`.
 *
 * @example
 * ```ts
 * import { PeerRequestLimiter } from "@p2p-edge/libp2p/protocols/kad-dht";
 * const limiter = new PeerRequestLimiter({ burst: 1, perSecond: 1 });
 * limiter.admit("peer", 0); // true
 * limiter.admit("peer", 0); // false: no tokens left (and one request still in flight)
 * ```
 */
export class PeerRequestLimiter {
  readonly #maxInflight: number;
  readonly #burst: number;
  readonly #perMs: number;
  readonly #maxPeers: number;
  readonly #peers = new Map<string, PeerBudget>();
  /** Requests refused so far. */
  refused = 0;

  /** A limiter with the given limits. */
  constructor(options: PeerRequestLimiterOptions = {}) {
    this.#maxInflight = options.maxInflight ?? MAX_INFLIGHT_PER_PEER;
    this.#burst = options.burst ?? PEER_REQUEST_BURST;
    this.#perMs = (options.perSecond ?? PEER_REQUESTS_PER_SECOND) / 1000;
    this.#maxPeers = options.maxPeers ?? MAX_LIMITED_PEERS;
  }

  /** Admit one request of `peer` at `now` (ms); call {@link done} when it finished. */
  admit(peer: string, now: number): boolean {
    let b = this.#peers.get(peer);
    if (b === undefined) {
      if (this.#peers.size >= this.#maxPeers) {
        for (const [k, v] of this.#peers) {
          if (v.inflight === 0) {
            this.#peers.delete(k);
            break;
          }
        }
        if (this.#peers.size >= this.#maxPeers) {
          this.refused++;
          return false;
        }
      }
      b = { inflight: 0, tokens: this.#burst, refilledAt: now };
    } else this.#peers.delete(peer); // re-inserted below: most recently active last
    this.#peers.set(peer, b);
    b.tokens = Math.min(this.#burst, b.tokens + (now - b.refilledAt) * this.#perMs);
    b.refilledAt = now;
    if (b.inflight >= this.#maxInflight || b.tokens < 1) {
      this.refused++;
      return false;
    }
    b.tokens -= 1;
    b.inflight++;
    return true;
  }

  /** A request admitted for `peer` finished. */
  done(peer: string): void {
    const b = this.#peers.get(peer);
    if (b !== undefined && b.inflight > 0) b.inflight--;
  }
}

/** Reject a request: the limiter refused it (for callers that reset the stream). */
export function refusedError(peer: string): LimitExceededError {
  return new LimitExceededError(`DHT requests of ${peer} over the limit`, "PEER_REQUESTS");
}
