/**
 * One WebSocket's bytes as a {@link ByteChannel}: binary messages in, `send()` out. This is the
 * one conversion of this stream-based transport: messages become channel chunks here, and web
 * streams exist only if someone asks a connection for `readable`/`writable`.
 *
 * Semantics (a WebSocket is not a TCP socket):
 * - No half-close. WebSocket has one closing handshake for both directions, and runtimes drop
 *   messages that arrive after the local side sent its Close frame. `closeWrite()` is therefore a
 *   full close: the send buffer drains, then Close(1000) is sent; reading ends when the peer's
 *   Close arrives. Muxers (yamux, mplex) carry their own per-stream half-close.
 * - No read backpressure. A WebSocket cannot be paused; it delivers every message whether or not
 *   anyone reads. Received bytes queue up to `maxBufferedIncoming` (HARDENING.md: every buffer a
 *   peer can grow is capped); past that the connection is closed (code 4001) and reads fail with a
 *   LimitExceededError.
 * - Write backpressure: `write()` sends at once (in messages of at most `sendMessageBytes`) while
 *   the send buffer is at or below `bufferedAmountHighWaterMark`, and queues the chunk here
 *   otherwise; `drained()` resolves once the queue is sent and `bufferedAmount` is at or below
 *   the mark
 *   (polled every {@link BUFFERED_AMOUNT_POLL_MS} ms; Bun server sockets also wake on `drain`).
 *   Whether a runtime copies a message on `send()` is not specified, so `copiesWrites` is unset.
 * - abort() closes with code 4000; a peer's close other than 1000/1001/1005 fails our reads
 *   with a ConnectionClosedError.
 *
 * @module
 */

import { utf8Encode } from "../../src/bytes.ts";
import { ConnectionClosedError, LimitExceededError, StreamClosedError } from "../../src/errors.ts";
import { type ByteChannel, READ_END, RESOLVED } from "../../src/stream/channel.ts";
import { Deferred } from "../../src/stream/deferred.ts";
import {
  BUFFERED_AMOUNT_POLL_MS,
  CLOSE_CODE_ABORTED,
  CLOSE_CODE_GOING_AWAY,
  CLOSE_CODE_INCOMING_OVERFLOW,
  CLOSE_CODE_MESSAGE_TOO_BIG,
  CLOSE_CODE_NO_STATUS,
  CLOSE_CODE_NORMAL,
  CLOSE_CODE_SEND_DROPPED,
} from "./constants.ts";

/** What the channel needs from a socket (a standard WebSocket, a Bun server socket). */
export interface SocketPort {
  /** Queue one binary message; false when the runtime dropped it or the socket is closed. */
  send(data: Uint8Array): boolean;
  /** Bytes queued by `send` and not yet handed to the network. */
  bufferedAmount(): number;
  /** Start the closing handshake. Never throws. */
  close(code: number, reason: string): void;
}

/** Limits of one connection (resolved options). */
export interface ConnectionLimits {
  /** Largest message accepted from the peer. */
  maxPayloadLength: number;
  /** Hard cap on received bytes queued for the reader. */
  maxBufferedIncoming: number;
  /** Writes wait while more than this many bytes are buffered for sending. */
  bufferedAmountHighWaterMark: number;
  /** Outgoing chunks are split into messages of at most this size. */
  sendMessageBytes: number;
  /** Bound on a graceful close, ms. */
  closeTimeoutMs: number;
}

function isCleanCode(code: number): boolean {
  return code === CLOSE_CODE_NORMAL || code === CLOSE_CODE_GOING_AWAY ||
    code === CLOSE_CODE_NO_STATUS;
}

/**
 * The channel of one WebSocket. Socket adapters call `onMessage`, `onClose` and `onDrain`.
 * Internal: reached through a connection's `channel`.
 */
export class WebSocketChannel implements ByteChannel {
  readonly #port: SocketPort;
  readonly #limits: ConnectionLimits;
  /** Set once the socket is finished (closed by either side, aborted or failed). */
  #finished: Error | undefined;
  /** Finished by a failure (not a clean close): reads fail with `#finished`. */
  #failed = false;
  #readDone = false;
  #received: Uint8Array[] = [];
  #receivedBytes = 0;
  readonly #reader = new Deferred<Uint8Array | null>();
  #writeClosing: Promise<void> | undefined;
  /** Chunks written while the send buffer was above the high-water mark, in order. */
  #pending: Uint8Array[] = [];
  #pumping = false;
  /** Settles when the pump sent `#pending` (or failed). */
  readonly #pumped = new Deferred<void>();
  readonly #wakers = new Set<() => void>();
  readonly #closed: Promise<void>;
  #resolveClosed!: () => void;

  /** Wrap an open socket. */
  constructor(port: SocketPort, limits: ConnectionLimits) {
    this.#port = port;
    this.#limits = limits;
    this.#closed = new Promise((resolve) => (this.#resolveClosed = resolve));
  }

  /** Bytes queued in the socket's send buffer right now. */
  get bufferedAmount(): number {
    return this.#port.bufferedAmount();
  }

  /** Resolves once the socket has closed (either side, any reason). Never rejects. */
  get closed(): Promise<void> {
    return this.#closed;
  }

  // --- ByteChannel ----------------------------------------------------------------------------

  read(): Promise<Uint8Array | null> {
    if (this.#failed) return Promise.reject(this.#finished);
    const chunk = this.#received.shift();
    if (chunk !== undefined) {
      this.#receivedBytes -= chunk.byteLength;
      return Promise.resolve(chunk);
    }
    if (this.#readDone) return READ_END;
    return this.#reader.promise;
  }

  write(chunk: Uint8Array): void {
    if (this.#finished !== undefined) throw this.#finished;
    if (this.#writeClosing !== undefined) {
      throw new StreamClosedError("websocket write after close");
    }
    if (chunk.byteLength === 0) return;
    if (!this.#pumping && this.#port.bufferedAmount() <= this.#limits.bufferedAmountHighWaterMark) {
      this.#send(chunk);
      return;
    }
    // Above the high-water mark: the chunk waits here, not in the runtime's send buffer (which
    // then stays within the mark plus one chunk, as with one write at a time; a runtime's send
    // buffer filled far beyond it costs it measurably more CPU per byte, tools/tcp_loopback.ts).
    this.#pending.push(chunk);
    if (!this.#pumping) {
      this.#pumping = true;
      void this.#pump();
    }
  }

  /** Send `chunk` now, in messages of at most `sendMessageBytes`. */
  #send(chunk: Uint8Array): void {
    const max = this.#limits.sendMessageBytes;
    for (let offset = 0; offset < chunk.byteLength; offset += max) {
      const piece = offset === 0 && chunk.byteLength <= max
        ? chunk
        : chunk.subarray(offset, offset + max);
      if (!this.#port.send(piece)) {
        const error = this.#finished ?? new LimitExceededError(
          "the runtime dropped a websocket message (send buffer above backpressureLimit)",
          "backpressureLimit",
        );
        this.#fail(error, CLOSE_CODE_SEND_DROPPED);
        throw error;
      }
    }
  }

  drained(): Promise<void> {
    if (this.#finished !== undefined) return Promise.reject(this.#finished);
    const mark = this.#limits.bufferedAmountHighWaterMark;
    if (!this.#pumping && this.#port.bufferedAmount() <= mark) return RESOLVED;
    return this.#drainedSlow();
  }

  async #drainedSlow(): Promise<void> {
    if (this.#pumping) await this.#pumped.promise;
    await this.#waitBuffered(this.#limits.bufferedAmountHighWaterMark);
  }

  /** Send the queued chunks, each once the send buffer is back at the high-water mark. */
  async #pump(): Promise<void> {
    try {
      while (this.#pending.length > 0) {
        await this.#waitBuffered(this.#limits.bufferedAmountHighWaterMark);
        this.#send(this.#pending.shift()!);
      }
    } catch (error) {
      this.#pumping = false;
      this.#pending = [];
      this.#pumped.reject(this.#finished ?? error);
      return;
    }
    this.#pumping = false;
    this.#pumped.resolve();
  }

  /** A full close (no half-close on a WebSocket): drain the send buffer, then Close(1000). */
  closeWrite(): Promise<void> {
    return this.#writeClosing ??= this.#closeWrite();
  }

  /** We read no more: later messages are dropped (the peer cannot be told). */
  cancelRead(): void {
    this.#received = [];
    this.#receivedBytes = 0;
    this.#endRead();
  }

  /** Tear down at once (Close 4000); reads and writes fail with `reason`. Idempotent. */
  abort(reason?: unknown): void {
    if (this.#finished !== undefined) return;
    const error = reason instanceof Error ? reason : new ConnectionClosedError(
      "websocket connection aborted",
      reason === undefined ? undefined : { cause: reason },
    );
    this.#fail(error, CLOSE_CODE_ABORTED);
  }

  // --- socket events --------------------------------------------------------------------------

  /** A message arrived (ArrayBuffer, a byte view, or text, which is taken as UTF-8 bytes). */
  onMessage(data: ArrayBuffer | ArrayBufferView | string): void {
    if (this.#finished !== undefined) return;
    let bytes: Uint8Array;
    if (typeof data === "string") bytes = utf8Encode(data);
    else if (data instanceof ArrayBuffer) bytes = new Uint8Array(data);
    else bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    if (bytes.byteLength > this.#limits.maxPayloadLength) {
      this.#fail(
        new LimitExceededError(
          `websocket message of ${bytes.byteLength} bytes exceeds maxPayloadLength ` +
            `${this.#limits.maxPayloadLength}`,
          "maxPayloadLength",
        ),
        CLOSE_CODE_MESSAGE_TOO_BIG,
      );
      return;
    }
    if (this.#readDone || bytes.byteLength === 0) return;
    if (this.#reader.waiting) {
      this.#reader.resolve(bytes);
      return;
    }
    this.#received.push(bytes);
    this.#receivedBytes += bytes.byteLength;
    if (this.#receivedBytes > this.#limits.maxBufferedIncoming) {
      this.#fail(
        new LimitExceededError(
          `more than maxBufferedIncoming (${this.#limits.maxBufferedIncoming}) bytes received ` +
            "and not read; a WebSocket cannot be paused",
          "maxBufferedIncoming",
        ),
        CLOSE_CODE_INCOMING_OVERFLOW,
      );
    }
  }

  /** The socket closed (the closing handshake finished, or the TCP connection dropped). */
  onClose(code: number, reason: string, wasClean: boolean): void {
    if (this.#finished === undefined) {
      const error = new ConnectionClosedError(
        `websocket closed by the remote (code ${code}${reason ? `: ${reason}` : ""})`,
      );
      this.#finished = error;
      // Clean: queued bytes are still read, then the end; writes fail from now on.
      if (wasClean && isCleanCode(code)) this.#endRead();
      else this.#failRead();
    }
    this.#wake();
    this.#resolveClosed();
  }

  /** The socket's send buffer drained (Bun's `drain`). */
  onDrain(): void {
    this.#wake();
  }

  // --- internals ------------------------------------------------------------------------------

  async #closeWrite(): Promise<void> {
    if (this.#finished !== undefined) return;
    const timer = setTimeout(
      () => this.abort(new ConnectionClosedError("websocket send buffer did not drain")),
      this.#limits.closeTimeoutMs,
    );
    try {
      if (this.#pumping) await this.#pumped.promise;
      await this.#waitBuffered(0);
    } finally {
      clearTimeout(timer);
    }
    this.#port.close(CLOSE_CODE_NORMAL, "");
  }

  #endRead(): void {
    if (this.#readDone) return;
    this.#readDone = true;
    if (this.#received.length === 0) this.#reader.resolve(null);
  }

  #failRead(): void {
    if (this.#readDone) return; // ended cleanly (or cancelled) before: queued bytes stay readable
    this.#failed = true;
    this.#readDone = true;
    this.#received = [];
    this.#receivedBytes = 0;
    this.#reader.reject(this.#finished);
  }

  #wake(): void {
    for (const wake of [...this.#wakers]) wake();
  }

  #fail(error: Error, code: number): void {
    if (this.#finished !== undefined) return;
    this.#finished = error;
    this.#failRead();
    this.#port.close(code, error.message.slice(0, 100));
    this.#wake();
  }

  /** Resolve once at most `limit` bytes are buffered; reject when the socket finishes. */
  async #waitBuffered(limit: number): Promise<void> {
    while (this.#port.bufferedAmount() > limit) {
      if (this.#finished !== undefined) throw this.#finished;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(done, BUFFERED_AMOUNT_POLL_MS);
        const wakers = this.#wakers;
        function done(): void {
          clearTimeout(timer);
          wakers.delete(done);
          resolve();
        }
        wakers.add(done);
      });
    }
    if (this.#finished !== undefined) throw this.#finished;
  }
}
