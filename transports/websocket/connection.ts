/**
 * One WebSocket as a {@link RawConnection}: its byte channel (channel.ts: messages in, `send()`
 * out, the limits and the closing rules), its addresses, `close()` and `abort()`. The same core
 * serves the standard `WebSocket` (dialling everywhere; Deno's server side, which hands out a
 * standard WebSocket too), Bun's `ServerWebSocket` and our own client (client.ts, `ws://` dials
 * on Deno) through a small {@link SocketPort}.
 *
 * @module
 */

import { ConnectionClosedError } from "../../src/errors.ts";
import type { Multiaddr } from "../../src/multiaddr/mod.ts";
import type { ByteChannel } from "../../src/stream/channel.ts";
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
    return this.#close();
  }

  async #close(): Promise<void> {
    const timer = setTimeout(
      () => this.abort(new ConnectionClosedError("websocket close timed out")),
      this.#limits.closeTimeoutMs,
    );
    try {
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
