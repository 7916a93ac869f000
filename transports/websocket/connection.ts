/**
 * One WebSocket as a {@link RawConnection}: its byte channel (channel.ts: messages in, `send()`
 * out, the limits and the closing rules), its addresses, `close()` and `abort()`. The same core
 * serves the standard `WebSocket` (dialling everywhere; Deno's server side, which hands out a
 * standard WebSocket too) and Bun's `ServerWebSocket` through a small {@link SocketPort}.
 *
 * @module
 */

import { ConnectionClosedError } from "../../src/errors.ts";
import type { Multiaddr } from "../../src/multiaddr/mod.ts";
import {
  type ByteChannel,
  type ChannelDuplex,
  channelDuplex,
  channelKey,
} from "../../src/stream/channel.ts";
import type { RawConnection } from "../../src/transport.ts";
import { type ConnectionLimits, type SocketPort, WebSocketChannel } from "./channel.ts";

export type { ConnectionLimits, SocketPort } from "./channel.ts";

/** Addresses of one connection. */
export interface ConnectionAddrs {
  /** The peer's address (no `/p2p`). */
  remoteAddr: Multiaddr;
  /** Our address, when known. */
  localAddr?: Multiaddr;
}

/**
 * The connection core. Socket adapters call `onMessage`, `onClose` and `onDrain`; everything
 * else is the {@link RawConnection} surface.
 *
 * @example
 * ```ts ignore
 * const conn = new WebSocketConnection(standardSocketPort(ws), limits, { remoteAddr });
 * conn.channel.write(new Uint8Array([1, 2, 3]));
 * ```
 */
export class WebSocketConnection implements RawConnection {
  /** The connection's bytes (taken by the upgrader). No half-close: see channel.ts. */
  readonly channel: ByteChannel;
  readonly #channel: WebSocketChannel;
  /** The peer's address. */
  readonly remoteAddr: Multiaddr;
  /** Our address, when known. */
  readonly localAddr?: Multiaddr;
  readonly #limits: ConnectionLimits;

  /** Wrap an open socket. */
  constructor(port: SocketPort, limits: ConnectionLimits, addrs: ConnectionAddrs) {
    this.#channel = new WebSocketChannel(port, limits);
    this.channel = this.#channel;
    this.#limits = limits;
    this.remoteAddr = addrs.remoteAddr;
    if (addrs.localAddr !== undefined) this.localAddr = addrs.localAddr;
  }

  /** Bytes queued in the socket's send buffer right now (diagnostics, tests). */
  get bufferedAmount(): number {
    return this.#channel.bufferedAmount;
  }

  /** Resolves once the socket has closed (either side, any reason). Never rejects. */
  get closed(): Promise<void> {
    return this.#channel.closed;
  }

  /** A message arrived (ArrayBuffer, a byte view, or text, which is taken as UTF-8 bytes). */
  onMessage(data: ArrayBuffer | ArrayBufferView | string): void {
    this.#channel.onMessage(data);
  }

  /** The socket closed (the closing handshake finished, or the TCP connection dropped). */
  onClose(code: number, reason: string, wasClean: boolean): void {
    this.#channel.onClose(code, reason, wasClean);
  }

  /** The socket's send buffer drained (Bun's `drain`). */
  onDrain(): void {
    this.#channel.onDrain();
  }

  /**
   * Close gracefully: let queued writes finish, drain the send buffer, send Close(1000), then
   * wait for the peer's Close, all within `closeTimeoutMs` (then abort).
   */
  close(): Promise<void> {
    // LEGACY (see below): a writable stream built on the channel is flushed first.
    if (this.#legacy !== undefined) return this.#legacy.close();
    return this.#close(undefined);
  }

  async #close(flush: Promise<void> | undefined): Promise<void> {
    const timer = setTimeout(
      () => this.abort(new ConnectionClosedError("websocket close timed out")),
      this.#limits.closeTimeoutMs,
    );
    try {
      await (flush ?? this.channel.closeWrite()).catch(() => {});
      await this.channel.closeWrite().catch(() => {});
      await this.#channel.closed;
    } finally {
      clearTimeout(timer);
    }
  }

  /** Tear down at once (Close 4000); reads and writes reject with `reason`. Idempotent. */
  abort(reason?: unknown): void {
    this.channel.abort(reason);
  }

  // --- LEGACY: web streams on the connection and the channelKey hand-over. --------------------
  // RawConnection carries `channel` after issue 16 (CONTRACT.md); until the upgrader and its
  // tests take `conn.channel`, the old surface stays: `readable`/`writable` built on the channel
  // on first access and `[channelKey]` for takeChannel(). Delete from here to the end of the
  // class, and the `#legacy` branch of close(), once RawConnection has no readable/writable.
  #legacy: ChannelDuplex | undefined;
  /** The channel was handed over through `[channelKey]`: the web streams are refused. */
  #taken = false;

  #duplex(): ChannelDuplex {
    return this.#legacy ??= channelDuplex(this.channel, (flush) => this.#close(flush));
  }

  /** LEGACY: bytes from the peer as a web stream (built on the channel on first access). */
  get readable(): ReadableStream<Uint8Array> {
    this.#checkNotTaken();
    return this.#duplex().readable;
  }

  /** LEGACY: bytes to the peer; closing it closes the whole WebSocket (no half-close). */
  get writable(): WritableStream<Uint8Array> {
    this.#checkNotTaken();
    return this.#duplex().writable;
  }

  /**
   * LEGACY: the channel for takeChannel(), unless the web streams were used (no stream object is
   * built for a connection whose channel is taken: the node's path).
   */
  [channelKey](): ByteChannel | undefined {
    if (this.#legacy !== undefined || this.#taken) return undefined;
    this.#taken = true;
    return this.channel;
  }

  #checkNotTaken(): void {
    if (this.#taken) {
      throw new TypeError("this connection is read and written through its byte channel");
    }
  }
  // --- end LEGACY -----------------------------------------------------------------------------
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
