/**
 * Our own WebSocket client (RFC 6455) over the TCP transport's connection, for `ws://` dials on
 * Deno. Why: Deno's built-in `WebSocket` exposes no socket options, and its socket delays small
 * writes (Nagle's algorithm) until the previous segment is acknowledged: about two extra round
 * trips from `dial()` to a stream's first response byte on a real link. The TCP transport's
 * sockets set TCP_NODELAY, so the upgrade request, each Noise message and each request leave at
 * once.
 *
 * The pieces: the TCP connection (transports/tcp, through its mod.ts, loaded on first use), the
 * handshake codec (handshake.ts), the frame codec (frame.ts), and the same
 * {@link WebSocketConnection} as the standard path (connection.ts) through a {@link SocketPort}
 * that frames, masks and writes; everything after the dial is one code path.
 *
 * Closing: a Close(1000) from us waits for the peer's Close (within `closeTimeoutMs`), then the
 * TCP connection is closed; any other code (abort, limits) is sent and the connection closed at
 * once. A Close from the peer is echoed, then the TCP connection closed. A framing violation sends
 * Close(1002/1003/1007/1009) and fails reads with the typed error.
 *
 * @module
 */

import { abortReason, deadlineSignal } from "../../src/abort.ts";
import { concat } from "../../src/bytes.ts";
import { LimitExceededError } from "../../src/errors.ts";
import type { Multiaddr } from "../../src/multiaddr/mod.ts";
import { RESOLVED } from "../../src/stream/channel.ts";
import type { AbortOptions } from "../../src/stream/types.ts";
import type { RawConnection } from "../../src/transport.ts";
import type { WebSocketTarget } from "./address.ts";
import type { SocketPort } from "./channel.ts";
import { WebSocketConnection } from "./connection.ts";
import { CLOSE_CODE_ABNORMAL, CLOSE_CODE_NORMAL, CODE_WS } from "./constants.ts";
import { WebSocketDialError, WebSocketHandshakeError, WebSocketProtocolError } from "./errors.ts";
import {
  CLOSE_CODE_TOO_BIG,
  closePayload,
  encodeFrame,
  type FrameEvent,
  FrameReader,
  OPCODE_BINARY,
  OPCODE_CLOSE,
  OPCODE_PONG,
} from "./frame.ts";
import {
  acceptFor,
  checkResponseHead,
  encodeUpgradeRequest,
  newHandshakeKey,
  parseResponseHead,
} from "./handshake.ts";
import type { ResolvedWebSocketOptions } from "./options.ts";
import type * as TcpModule from "../tcp/mod.ts";

/** Masking keys drawn from WebCrypto at once (4 bytes each): one random call per 1024 frames. */
const MASK_POOL_BYTES = 4096;

/**
 * Fresh masking keys (RFC 6455 section 5.3: unpredictable, one per frame), from one pool shared
 * by every connection (an idle connection holds none of it). A key is copied into its frame
 * before the next one is drawn.
 */
const masks = {
  pool: new Uint8Array(0),
  at: 0,
  next(): Uint8Array {
    if (this.at >= this.pool.byteLength) {
      this.pool = crypto.getRandomValues(new Uint8Array(MASK_POOL_BYTES));
      this.at = 0;
    }
    const mask = this.pool.subarray(this.at, this.at + 4);
    this.at += 4;
    return mask;
  },
};

/**
 * The {@link SocketPort} of one client connection, and its read loop: frames out (masked), frames
 * in (through a {@link FrameReader}), the closing handshake.
 */
class ClientSocket implements SocketPort {
  readonly #raw: RawConnection;
  readonly #options: ResolvedWebSocketOptions;
  readonly #reader: FrameReader;
  #conn: WebSocketConnection | undefined;
  /** Frame bytes written and not yet taken by the TCP connection (an over-estimate). */
  #buffered = 0;
  #writeGeneration = 0;
  #closeSent = false;
  #finished = false;
  #closeTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(raw: RawConnection, options: ResolvedWebSocketOptions) {
    this.#raw = raw;
    this.#options = options;
    this.#reader = new FrameReader({ maxPayloadLength: options.maxPayloadLength, masked: false });
  }

  /** Bind the connection and start reading; `first` are the bytes that followed the 101 head. */
  start(conn: WebSocketConnection, first: Uint8Array): void {
    this.#conn = conn;
    this.#reader.push(first);
    if (this.#deliver()) void this.#readLoop();
  }

  // --- SocketPort ------------------------------------------------------------------------------

  send(data: Uint8Array): boolean {
    if (this.#closeSent || this.#finished) return false;
    return this.#write(encodeFrame(OPCODE_BINARY, data, masks.next()));
  }

  bufferedAmount(): number {
    return this.#buffered;
  }

  close(code: number, reason: string): void {
    if (this.#finished) return;
    if (this.#closeSent) {
      // Our Close(1000) is waiting for the peer's, and now an abort: do not wait any longer.
      if (code !== CLOSE_CODE_NORMAL) this.#finish(code, reason, false);
      return;
    }
    this.#sendClose(code, reason);
    if (this.#finished) return; // the TCP connection failed under the write
    if (code !== CLOSE_CODE_NORMAL) {
      // Abort or a limit: the peer is told why, and the connection ends now.
      this.#finish(code, reason, false);
      return;
    }
    this.#closeTimer = setTimeout(
      () => this.#finish(CLOSE_CODE_ABNORMAL, "websocket closing handshake timed out", false),
      this.#options.closeTimeoutMs,
    );
  }

  // --- internals --------------------------------------------------------------------------------

  #write(frame: Uint8Array): boolean {
    try {
      this.#raw.channel.write(frame);
    } catch (error) {
      // The TCP connection failed: the connection learns it as a close (its writes then fail
      // with a ConnectionClosedError, not as a dropped message).
      this.#finish(CLOSE_CODE_ABNORMAL, `TCP write failed: ${String(error)}`, false);
      return false;
    }
    const drained = this.#raw.channel.drained();
    if (drained === RESOLVED) return true;
    this.#buffered += frame.byteLength;
    const generation = ++this.#writeGeneration;
    drained.then(() => {
      if (generation !== this.#writeGeneration) return; // a later write is still under way
      this.#buffered = 0;
      this.#conn?.onDrain();
    }, () => {/* the read loop or close reports the failure */});
    return true;
  }

  #sendClose(code: number, reason: string): void {
    this.#closeSent = true;
    this.#write(encodeFrame(OPCODE_CLOSE, closePayload(code, reason), masks.next()));
  }

  async #readLoop(): Promise<void> {
    const channel = this.#raw.channel;
    for (;;) {
      let chunk: Uint8Array | null;
      try {
        chunk = await channel.read();
      } catch (error) {
        this.#finish(CLOSE_CODE_ABNORMAL, `TCP read failed: ${String(error)}`, false);
        return;
      }
      if (this.#finished) return;
      if (chunk === null) {
        this.#finish(CLOSE_CODE_ABNORMAL, "connection ended without a close frame", false);
        return;
      }
      this.#reader.push(chunk);
      if (!this.#deliver()) return;
    }
  }

  /** Hand every complete frame on; false once the connection is finished. */
  #deliver(): boolean {
    const conn = this.#conn!;
    for (;;) {
      let event: FrameEvent | undefined;
      try {
        event = this.#reader.next();
      } catch (error) {
        this.#protocolFailure(error as Error);
        return false;
      }
      if (event === undefined) return !this.#finished;
      switch (event.kind) {
        case "message":
          conn.onMessage(event.data);
          break;
        case "ping":
          if (!this.#closeSent) {
            this.#write(encodeFrame(OPCODE_PONG, event.data, masks.next()));
          }
          break;
        case "pong":
          break;
        case "close":
          // Echo the peer's close (RFC 6455 section 5.5.1), then end.
          if (!this.#closeSent) this.#sendClose(event.code, event.reason);
          this.#finish(event.code, event.reason, true);
          return false;
      }
      if (this.#finished) return false;
    }
  }

  /** A framing violation: tell the peer, fail reads with the typed error, close. */
  #protocolFailure(error: Error): void {
    const code = error instanceof WebSocketProtocolError
      ? error.closeCode
      : error instanceof LimitExceededError
      ? CLOSE_CODE_TOO_BIG
      : 1011;
    if (!this.#closeSent) this.#sendClose(code, error.message);
    this.#conn!.abort(error); // reaches close() above with #closeSent set: no second frame
    this.#finish(code, error.message, false);
  }

  /** Release the TCP connection and report the close to the connection (once). */
  #finish(code: number, reason: string, clean: boolean): void {
    if (this.#finished) return;
    this.#finished = true;
    if (this.#closeTimer !== undefined) clearTimeout(this.#closeTimer);
    this.#raw.close().catch(() => {}); // flushes our close frame, FIN, frees the socket
    this.#conn?.onClose(code, reason, clean);
  }
}

/** A TCP dialer: what the client needs of the TCP transport. */
type TcpDial = (addr: Multiaddr, options: AbortOptions) => Promise<RawConnection>;

/** The TCP transport, loaded on first use (a browser bundle never loads it). */
let tcpDial: Promise<TcpDial> | undefined;

/**
 * Computed, so that bundlers leave the import alone: a literal specifier would pull the whole TCP
 * transport into the browser bundle (tests/browser: "no TCP transport"), which only Deno dials need.
 */
const TCP_MODULE = new URL("../tcp/mod.ts", import.meta.url).href;

function loadTcp(): Promise<TcpDial> {
  return tcpDial ??= (import(TCP_MODULE) as Promise<typeof TcpModule>).then((m) => {
    // Our own deadline covers TCP + upgrade; TCP_NODELAY is the point of this client.
    const transport = m.tcp({ noDelay: true, keepAlive: true, connectTimeoutMs: 2 ** 31 - 1 });
    return (addr, options) => transport.dial(addr, options);
  });
}

/** Read until the response head is complete; the head's check result and the bytes after it. */
async function readUpgradeResponse(raw: RawConnection, accept: string): Promise<Uint8Array> {
  let received: Uint8Array = new Uint8Array(0);
  for (;;) {
    const chunk = await raw.channel.read();
    if (chunk === null) {
      throw new WebSocketHandshakeError(
        `websocket upgrade: the server closed the connection after ${received.byteLength} ` +
          "bytes of its response",
      );
    }
    received = received.byteLength === 0 ? chunk.slice() : concat([received, chunk]);
    const parsed = parseResponseHead(received);
    if (parsed === undefined) continue;
    checkResponseHead(parsed.head, accept);
    return parsed.rest;
  }
}

/**
 * Dial `target` (a `ws://` target, as parsed from `addr`) with our own client: TCP with
 * TCP_NODELAY, the HTTP upgrade, then a {@link WebSocketConnection}. `connectTimeoutMs` covers TCP
 * and the upgrade; the signal aborts and closes the socket. Rejects with TcpDialError when TCP
 * fails, WebSocketHandshakeError for a bad answer, LimitExceededError for an oversized head,
 * TimeoutError, or the signal's reason. Works on any runtime with the TCP transport (Deno, Bun);
 * dial.ts uses it on Deno.
 *
 * @example
 * ```ts ignore
 * const conn = await dialWebSocketClient(addr, parseWebSocketAddr(addr)!, resolveWebSocketOptions());
 * ```
 */
export async function dialWebSocketClient(
  addr: Multiaddr,
  target: WebSocketTarget,
  options: ResolvedWebSocketOptions,
  dialOptions: AbortOptions = {},
): Promise<WebSocketConnection> {
  if (dialOptions.signal?.aborted) throw abortReason(dialOptions.signal);
  if (target.secure) throw new TypeError(`not a ws:// address: ${target.url}`);
  const url = new URL(target.url);
  const deadline = deadlineSignal(
    options.connectTimeoutMs,
    dialOptions.signal,
    `websocket connect to ${target.url}`,
  );
  let raw: RawConnection | undefined;
  const onAbort = (): void => raw?.abort(abortReason(deadline.signal));
  deadline.signal.addEventListener("abort", onAbort, { once: true });
  try {
    const dial = await loadTcp();
    raw = await dial(addr.decapsulateCode(CODE_WS), { signal: deadline.signal });
    if (deadline.signal.aborted) throw abortReason(deadline.signal);
    const key = newHandshakeKey();
    const accepting = acceptFor(key);
    raw.channel.write(
      encodeUpgradeRequest({ host: url.host, path: url.pathname + url.search, key }),
    );
    const first = await readUpgradeResponse(raw, await accepting);
    if (deadline.signal.aborted) throw abortReason(deadline.signal);
    const socket = new ClientSocket(raw, options);
    const conn = new WebSocketConnection(socket, options, {
      remoteAddr: addr.decapsulateCode(421),
      ...(raw.localAddr !== undefined ? { localAddr: raw.localAddr.encapsulate("/ws") } : {}),
    });
    socket.start(conn, first);
    return conn;
  } catch (error) {
    raw?.abort(error);
    if (deadline.signal.aborted) throw abortReason(deadline.signal);
    if (error instanceof WebSocketDialError || error instanceof LimitExceededError) throw error;
    // TCP failures (TcpDialError, a connection closed under the handshake) keep their cause.
    throw new WebSocketDialError(`could not connect to ${target.url}: ${String(error)}`, {
      cause: error,
    });
  } finally {
    deadline.signal.removeEventListener("abort", onAbort);
    deadline.clear();
  }
}
