/**
 * One WebSocket as a {@link RawConnection}: binary messages in -> a ReadableStream of
 * Uint8Array views; writes -> `send()` with backpressure from the socket's send buffer.
 *
 * The same core serves the standard `WebSocket` (dialling everywhere; Deno's server side, which
 * hands out a standard WebSocket too) and Bun's `ServerWebSocket` through a small
 * {@link SocketPort}.
 *
 * Semantics a user of the connection must know:
 * - No half-close. WebSocket has one closing handshake for both directions, and runtimes drop
 *   messages that arrive after the local side sent its Close frame. Closing the writable is a
 *   full close: the send buffer drains, then Close(1000) is sent; the readable ends when the
 *   peer's Close arrives. Muxers (yamux, mplex) carry their own per-stream half-close, so the
 *   libp2p stack does not need it from the transport.
 * - No read backpressure. A standard WebSocket cannot be paused; it delivers every message
 *   whether or not anyone reads. Received bytes queue up to `maxBufferedIncoming`; past that
 *   the connection is closed (code 4001) and reads fail with a LimitExceededError.
 * - Write backpressure: a write resolves once `bufferedAmount` is at or below
 *   `bufferedAmountHighWaterMark` (polled every {@link BUFFERED_AMOUNT_POLL_MS} ms; Bun server
 *   sockets also wake on `drain`).
 * - abort() closes with code 4000; a peer's close other than 1000/1001/1005 errors our reads
 *   with a ConnectionClosedError.
 *
 * @module
 */

import { ConnectionClosedError, LimitExceededError } from "../../src/errors.ts";
import { utf8Encode } from "../../src/bytes.ts";
import type { Multiaddr } from "../../src/multiaddr/mod.ts";
import type { RawConnection } from "../../src/transport.ts";
import { type ByteChannel, streamChannel } from "../../src/stream/channel.ts";
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

/** What the core needs from a socket. */
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

/** Addresses of one connection. */
export interface ConnectionAddrs {
  /** The peer's address (no `/p2p`). */
  remoteAddr: Multiaddr;
  /** Our address, when known. */
  localAddr?: Multiaddr;
}

function isCleanCode(code: number): boolean {
  return code === CLOSE_CODE_NORMAL || code === CLOSE_CODE_GOING_AWAY ||
    code === CLOSE_CODE_NO_STATUS;
}

/**
 * The connection core. Socket adapters call `onMessage`, `onClose` and `onDrain`; everything
 * else is the {@link RawConnection} surface.
 */
export class WebSocketConnection implements RawConnection {
  /** Bytes from the peer. */
  readonly readable: ReadableStream<Uint8Array>;
  /** Bytes to the peer; closing it closes the whole WebSocket (no half-close). */
  readonly writable: WritableStream<Uint8Array>;
  /** The peer's address. */
  readonly remoteAddr: Multiaddr;
  /** Our address, when known. */
  readonly localAddr?: Multiaddr;
  #channel: ByteChannel | undefined;

  readonly #port: SocketPort;
  readonly #limits: ConnectionLimits;
  #readController!: ReadableStreamDefaultController<Uint8Array>;
  #writeController!: WritableStreamDefaultController;
  /** Set once the socket is finished (closed by either side, aborted or failed). */
  #finished: Error | undefined;
  #readDone = false;
  #readCancelled = false;
  #writeClosing = false;
  #inflightWrite: Promise<void> = Promise.resolve();
  readonly #wakers = new Set<() => void>();
  readonly #closed: Promise<void>;
  #resolveClosed!: () => void;

  /** Wrap an open socket. */
  constructor(port: SocketPort, limits: ConnectionLimits, addrs: ConnectionAddrs) {
    this.#port = port;
    this.#limits = limits;
    this.remoteAddr = addrs.remoteAddr;
    if (addrs.localAddr !== undefined) this.localAddr = addrs.localAddr;
    this.#closed = new Promise((resolve) => (this.#resolveClosed = resolve));
    this.readable = new ReadableStream<Uint8Array>(
      {
        start: (controller) => {
          this.#readController = controller;
        },
        cancel: () => {
          // The reader lost interest; the peer cannot be told (no half-close), so later
          // messages are dropped without being queued.
          this.#readCancelled = true;
          this.#readDone = true;
        },
      },
      // The queue is the reader's buffer; its high-water mark is the hard cap.
      { highWaterMark: limits.maxBufferedIncoming, size: (chunk) => chunk.byteLength },
    );
    this.writable = new WritableStream<Uint8Array>({
      start: (controller) => {
        this.#writeController = controller;
      },
      write: (chunk) => {
        const p = this.#send(chunk);
        this.#inflightWrite = p.catch(() => {});
        return p;
      },
      close: () => this.#closeWrite(),
      abort: (reason) => this.abort(reason),
    });
  }

  /** Bytes queued in the socket's send buffer right now (diagnostics, tests). */
  /** The connection's bytes: its web streams converted once (the upgrader takes it). */
  get channel(): ByteChannel {
    return this.#channel ??= streamChannel(this);
  }

  get bufferedAmount(): number {
    return this.#port.bufferedAmount();
  }

  /** Resolves once the socket has closed (either side, any reason). Never rejects. */
  get closed(): Promise<void> {
    return this.#closed;
  }

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
    this.#readController.enqueue(bytes);
    if ((this.#readController.desiredSize ?? 0) < 0) {
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
      const clean = wasClean && isCleanCode(code);
      const error = new ConnectionClosedError(
        `websocket closed by the remote (code ${code}${reason ? `: ${reason}` : ""})`,
      );
      this.#finished = error;
      if (clean) {
        if (!this.#readDone) {
          this.#readDone = true;
          this.#readController.close();
        }
        // The writable is left alone so a pipe can still close it cleanly; a later write
        // rejects with the ConnectionClosedError.
      } else {
        this.#errorRead(error);
        this.#errorWrite(error);
      }
    }
    this.#wake();
    this.#resolveClosed();
  }

  /** The socket's send buffer drained (Bun's `drain`). */
  onDrain(): void {
    this.#wake();
  }

  /**
   * Close gracefully: let queued writes finish, drain the send buffer, send Close(1000), then
   * wait for the peer's Close, all within `closeTimeoutMs` (then abort).
   */
  async close(): Promise<void> {
    const timer = setTimeout(
      () => this.abort(new ConnectionClosedError("websocket close timed out")),
      this.#limits.closeTimeoutMs,
    );
    try {
      if (!this.#writeClosing && this.#finished === undefined) {
        if (!this.writable.locked) {
          await this.writable.close().catch(() => {});
        } else {
          await this.#inflightWrite;
          await this.#closeWrite().catch(() => {});
        }
      }
      await this.#closed;
    } finally {
      clearTimeout(timer);
    }
  }

  /** Tear down at once (Close 4000); reads and writes reject with `reason`. Idempotent. */
  abort(reason?: unknown): void {
    if (this.#finished !== undefined) return;
    const error = reason instanceof Error ? reason : new ConnectionClosedError(
      "websocket connection aborted",
      reason === undefined ? undefined : { cause: reason },
    );
    this.#fail(error, CLOSE_CODE_ABORTED);
  }

  async #send(chunk: Uint8Array): Promise<void> {
    const max = this.#limits.sendMessageBytes;
    for (let offset = 0; offset < chunk.byteLength; offset += max) {
      if (this.#finished !== undefined) throw this.#finished;
      if (this.#writeClosing) throw new ConnectionClosedError("websocket write after close");
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
      await this.#waitBuffered(this.#limits.bufferedAmountHighWaterMark);
    }
  }

  async #closeWrite(): Promise<void> {
    if (this.#writeClosing) return;
    this.#writeClosing = true;
    if (this.#finished !== undefined) return;
    const timer = setTimeout(
      () => this.abort(new ConnectionClosedError("websocket send buffer did not drain")),
      this.#limits.closeTimeoutMs,
    );
    try {
      await this.#waitBuffered(0);
    } finally {
      clearTimeout(timer);
    }
    this.#port.close(CLOSE_CODE_NORMAL, "");
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

  #wake(): void {
    for (const wake of [...this.#wakers]) wake();
  }

  #fail(error: Error, code: number): void {
    if (this.#finished !== undefined) return;
    this.#finished = error;
    this.#errorRead(error);
    this.#errorWrite(error);
    this.#port.close(code, error.message.slice(0, 100));
    this.#wake();
  }

  #errorRead(error: Error): void {
    if (this.#readDone && !this.#readCancelled) {
      // Already ended cleanly: queued bytes stay readable.
      return;
    }
    this.#readDone = true;
    try {
      this.#readController.error(error);
    } catch { /* cancelled */ }
  }

  #errorWrite(error: Error): void {
    try {
      this.#writeController.error(error);
    } catch { /* already closed or errored */ }
  }
}

/**
 * A {@link SocketPort} over a standard `WebSocket` (browsers, Deno, Bun clients, Deno's server
 * side).
 */
export function standardSocketPort(ws: WebSocket): SocketPort {
  return {
    send(data: Uint8Array): boolean {
      if (ws.readyState !== 1 /* OPEN */) return false;
      ws.send(data as Uint8Array<ArrayBuffer>);
      return true;
    },
    bufferedAmount: () => ws.bufferedAmount,
    close(code: number, reason: string): void {
      try {
        ws.close(code, reason);
      } catch { /* already closing */ }
    },
  };
}

/**
 * Wrap an OPEN standard WebSocket (binaryType must be "arraybuffer"): the message and close
 * listeners are attached here, synchronously, so no message is missed.
 */
export function fromStandardWebSocket(
  ws: WebSocket,
  limits: ConnectionLimits,
  addrs: ConnectionAddrs,
): WebSocketConnection {
  const conn = new WebSocketConnection(standardSocketPort(ws), limits, addrs);
  const onMessage = (event: MessageEvent): void => conn.onMessage(event.data);
  ws.addEventListener("message", onMessage);
  ws.addEventListener("close", (event: CloseEvent) => {
    ws.removeEventListener("message", onMessage);
    conn.onClose(event.code, event.reason, event.wasClean);
  }, { once: true });
  if (ws.readyState >= 2 /* CLOSING or CLOSED */) {
    // Closed between open and wrapping: no close event will reach us if it already fired.
    if (ws.readyState === 3) conn.onClose(1006, "closed before use", false);
  }
  return conn;
}
