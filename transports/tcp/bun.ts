/**
 * TCP on Bun: `Bun.connect` / `Bun.listen` and their socket handler callbacks, turned into one
 * ReadableStream and one WritableStream per connection.
 *
 * Bun facts this relies on (Bun 1.4.5, checked against its reference docs and by experiment):
 * - `socket.write(bytes)` returns how many bytes it took (-1 when closed) and keeps nothing of
 *   the rest: a short write means "wait for `drain`, then write the remainder".
 * - `socket.pause()` / `resume()` stop and restart reading the socket, so TCP flow control slows
 *   the sender; a data callback already under way may still arrive after `pause()`.
 * - With `allowHalfOpen: true`, a remote FIN fires `end` and the socket stays writable;
 *   `socket.shutdown()` (no argument) sends our FIN and keeps reading (`shutdown(true)` would stop
 *   reading instead, and `end()` closes both directions); `terminate()` resets at once.
 * - Data arrives as a fresh Buffer per callback; it is handed on as a plain Uint8Array view.
 *
 * `Bun` is read from `globalThis` through the local types below, so this file type-checks
 * without Bun's type declarations.
 *
 * @module
 */

import { abortReason, raceSignal } from "../../src/abort.ts";
import { ConnectionClosedError, TimeoutError } from "../../src/errors.ts";
import type { RawConnection } from "../../src/transport.ts";
import { socketMultiaddr, type TcpEndpoint } from "./address.ts";
import {
  settledWithin,
  type TcpBackend,
  type TcpServer,
  type TcpServerHandlers,
} from "./backend.ts";
import { osErrorCode, TcpDialError, TcpListenError } from "./errors.ts";
import type { ResolvedTcpOptions } from "./options.ts";

/** The part of Bun's TCP socket used here. */
interface BunSocket {
  data: unknown;
  readonly remoteAddress: string;
  readonly remotePort?: number;
  readonly localAddress?: string;
  readonly localPort?: number;
  write(data: Uint8Array): number;
  shutdown(halfClose?: boolean): void;
  end(): void;
  terminate(): void;
  pause(): void;
  resume(): void;
  setNoDelay?(noDelay: boolean): boolean;
  setKeepAlive?(enable: boolean, initialDelay?: number): boolean;
}

/** Bun's socket handler callbacks. */
interface BunSocketHandler {
  open?(socket: BunSocket): void;
  data?(socket: BunSocket, data: Uint8Array): void;
  drain?(socket: BunSocket): void;
  end?(socket: BunSocket): void;
  close?(socket: BunSocket, error?: Error): void;
  error?(socket: BunSocket, error: Error): void;
  connectError?(socket: BunSocket, error: Error): void;
}

interface BunTcpListener {
  readonly hostname: string;
  readonly port: number;
  stop(closeActiveConnections?: boolean): void;
}

interface BunTcpApi {
  connect(options: {
    hostname: string;
    port: number;
    allowHalfOpen?: boolean;
    socket: BunSocketHandler;
    data?: unknown;
  }): Promise<BunSocket>;
  listen(options: {
    hostname: string;
    port: number;
    allowHalfOpen?: boolean;
    socket: BunSocketHandler;
  }): BunTcpListener;
}

function bun(): BunTcpApi {
  return (globalThis as unknown as { Bun: BunTcpApi }).Bun;
}

/** One Bun socket as a {@link RawConnection}; the socket's `data` points back here. */
class BunConnection {
  readonly raw: RawConnection;
  #socket: BunSocket | undefined;
  #options: ResolvedTcpOptions;
  #onRelease: (() => void) | undefined;
  #readController!: ReadableStreamDefaultController<Uint8Array>;
  #writeController!: WritableStreamDefaultController;
  #paused = false;
  #readDone = false;
  #writeDone = false;
  #released = false;
  #failure: unknown;
  #drain: { resolve(): void; reject(error: unknown): void } | undefined;
  #inflight: Promise<void> | undefined;

  constructor(options: ResolvedTcpOptions, onRelease?: () => void) {
    this.#options = options;
    this.#onRelease = onRelease;
    const readable = new ReadableStream<Uint8Array>({
      start: (controller) => {
        this.#readController = controller;
      },
      pull: () => {
        // The reader drained the queue below the high-water mark: read the socket again.
        if (this.#paused && !this.#readDone && !this.#released) {
          this.#paused = false;
          this.#socket?.resume();
        }
      },
      cancel: () => {
        this.#readDone = true;
        this.#maybeRelease();
      },
    }, { highWaterMark: options.readHighWaterMark, size: (chunk) => chunk.byteLength });

    const writable = new WritableStream<Uint8Array>({
      start: (controller) => {
        this.#writeController = controller;
      },
      write: async (chunk) => {
        if (!(chunk instanceof Uint8Array)) {
          throw new TypeError("TCP writes take Uint8Array chunks");
        }
        const p = this.#write(chunk);
        this.#inflight = p;
        try {
          await p;
        } finally {
          if (this.#inflight === p) this.#inflight = undefined;
        }
      },
      close: () => {
        if (this.#failure !== undefined) throw this.#failure;
        this.#writeDone = true;
        if (!this.#released) this.#socket?.shutdown(); // FIN; reading goes on
        this.#maybeRelease();
      },
      abort: (reason) => {
        this.destroy(reason);
      },
    }, new ByteLengthQueuingStrategy({ highWaterMark: options.writeHighWaterMark }));

    // Addresses are filled in by attach(); until then the object is not handed out.
    this.raw = {
      readable,
      writable,
      remoteAddr: undefined as never,
      localAddr: undefined,
      close: () => this.#close(),
      abort: (reason?: unknown) => this.destroy(reason),
    };
  }

  /** Bind to the open socket (from the `open` callback or when connect resolved). */
  attach(socket: BunSocket): void {
    if (this.#socket !== undefined) return;
    this.#socket = socket;
    socket.data = this;
    try {
      socket.setNoDelay?.(this.#options.noDelay);
      if (this.#options.keepAlive) socket.setKeepAlive?.(true);
    } catch {
      // A socket reset during set-up reports that through its callbacks.
    }
    const raw = this.raw as { remoteAddr: unknown; localAddr: unknown };
    raw.remoteAddr = socketMultiaddr(socket.remoteAddress, socket.remotePort ?? 0);
    if (socket.localAddress !== undefined && socket.localPort !== undefined) {
      raw.localAddr = socketMultiaddr(socket.localAddress, socket.localPort);
    }
  }

  onData(data: Uint8Array): void {
    if (this.#readDone) return; // cancelled by the reader: drop
    // A plain Uint8Array over the same memory (Bun hands a fresh Buffer per callback).
    this.#readController.enqueue(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
    const desired = this.#readController.desiredSize;
    if (desired !== null && desired <= 0 && !this.#paused) {
      // The reader is behind: stop reading the socket until pull() says there is room again.
      this.#paused = true;
      this.#socket?.pause();
    }
  }

  onDrain(): void {
    const d = this.#drain;
    this.#drain = undefined;
    d?.resolve();
  }

  /** Remote FIN: end of the readable; our writable stays usable (half-close). */
  onEnd(): void {
    this.#endRead();
    this.#maybeRelease();
  }

  onClose(error?: Error): void {
    if (
      error !== undefined && this.#failure === undefined && !(this.#readDone && this.#writeDone)
    ) {
      this.destroy(new ConnectionClosedError("TCP connection failed", { cause: error }));
      return;
    }
    // A clean close: queued bytes are still delivered, then EOF. Writes fail from now on.
    this.#endRead();
    if (!this.#writeDone) {
      this.#writeDone = true;
      const closed = new ConnectionClosedError("TCP connection closed by the remote peer");
      this.#writeController.error(closed);
      this.#rejectDrain(closed);
    }
    this.#release(false);
  }

  onError(error: Error): void {
    this.destroy(new ConnectionClosedError("TCP connection failed", { cause: error }));
  }

  /** Tear down at once: reset the socket, fail pending reads and writes with `reason`. */
  destroy(reason: unknown): void {
    if (this.#failure !== undefined) return;
    this.#failure = reason ?? new ConnectionClosedError("connection aborted");
    this.#readDone = true;
    this.#writeDone = true;
    this.#readController.error(this.#failure);
    this.#writeController.error(this.#failure);
    this.#rejectDrain(this.#failure);
    if (!this.#released) this.#socket?.terminate();
    this.#release(false);
  }

  async #write(chunk: Uint8Array): Promise<void> {
    let rest = chunk;
    for (;;) {
      if (this.#failure !== undefined) throw this.#failure;
      const socket = this.#socket;
      if (socket === undefined || this.#released) {
        throw new ConnectionClosedError("TCP connection closed");
      }
      const n = socket.write(rest);
      if (n < 0) throw new ConnectionClosedError("TCP connection closed");
      if (n >= rest.byteLength) return;
      // Short write: Bun kept nothing of the rest. Wait for drain, then write the remainder.
      rest = rest.subarray(n);
      await new Promise<void>((resolve, reject) => {
        this.#drain = { resolve, reject };
      });
    }
  }

  async #close(): Promise<void> {
    if (this.#released) return;
    // Flush what the writable queued, then FIN; when a writer holds the writable, only let the
    // chunk being written finish (what is queued behind it is dropped).
    const flush = !this.#writeDone && !this.raw.writable.locked
      ? this.raw.writable.close()
      : this.#inflight;
    const ms = this.#options.closeTimeoutMs;
    if (flush !== undefined && !(await settledWithin(flush, ms))) {
      this.destroy(new TimeoutError(`TCP close: writes not flushed in ${ms} ms`));
      return;
    }
    if (this.#released) return;
    this.#writeDone = true;
    this.#writeController.error(new ConnectionClosedError("TCP connection closed"));
    this.#endRead();
    this.#release(true);
  }

  #endRead(): void {
    if (this.#readDone) return;
    this.#readDone = true;
    try {
      this.#readController.close();
    } catch {
      // Already errored.
    }
  }

  #maybeRelease(): void {
    if (this.#readDone && this.#writeDone) this.#release(true);
  }

  #rejectDrain(reason: unknown): void {
    const d = this.#drain;
    this.#drain = undefined;
    d?.reject(reason);
  }

  /** Free the socket once; `end` closes it gracefully (false: it is already closed or reset). */
  #release(end: boolean): void {
    if (this.#released) return;
    this.#released = true;
    if (end) {
      try {
        this.#socket?.end();
      } catch {
        // Already closed.
      }
    }
    this.#onRelease?.();
  }
}

function connection(socket: BunSocket): BunConnection | undefined {
  return socket.data instanceof BunConnection ? socket.data : undefined;
}

/** Callbacks shared by every socket; each finds its connection through `socket.data`. */
const COMMON_HANDLERS: BunSocketHandler = {
  data(socket, data) {
    connection(socket)?.onData(data);
  },
  drain(socket) {
    connection(socket)?.onDrain();
  },
  end(socket) {
    connection(socket)?.onEnd();
  },
  close(socket, error) {
    connection(socket)?.onClose(error);
  },
  error(socket, error) {
    connection(socket)?.onError(error);
  },
};

const DIAL_HANDLERS: BunSocketHandler = {
  ...COMMON_HANDLERS,
  open(socket) {
    connection(socket)?.attach(socket);
  },
  connectError() {
    // Bun.connect's promise rejects with the same error; the dial reports it there.
  },
};

function dialError(target: TcpEndpoint, error: unknown): Error {
  const code = osErrorCode(error);
  const where = target.family === 6
    ? `[${target.host}]:${target.port}`
    : `${target.host}:${target.port}`;
  const what = code === "ECONNREFUSED" ? "connection refused by" : "could not connect to";
  return new TcpDialError(`${what} ${where}`, code, { cause: error });
}

/**
 * The Bun TCP backend. Internal: use `tcp()` from mod.ts, which picks it on Bun.
 *
 * @example
 * ```ts
 * const conn = await bunTcp.connect({ family: 4, host: "127.0.0.1", port: 4001 }, opts, signal);
 * ```
 */
export const bunTcp: TcpBackend = {
  runtime: "bun",

  async connect(target, options, signal): Promise<RawConnection> {
    if (signal.aborted) throw abortReason(signal);
    const conn = new BunConnection(options);
    const pending = bun().connect({
      hostname: target.host,
      port: target.port,
      allowHalfOpen: true,
      socket: DIAL_HANDLERS,
      data: conn,
    });
    let socket: BunSocket;
    try {
      // Bun.connect takes no signal: race it, and reset a socket that opens after the abort.
      socket = await raceSignal(pending, signal);
    } catch (error) {
      if (signal.aborted) {
        pending.then((s) => s.terminate(), () => {});
        throw abortReason(signal);
      }
      throw dialError(target, error);
    }
    conn.attach(socket);
    return conn.raw;
  },

  listen(bind, options, handlers: TcpServerHandlers): Promise<TcpServer> {
    let active = 0;
    let closed = false;
    const onRelease = (): void => {
      active--;
    };
    const socketHandlers: BunSocketHandler = {
      ...COMMON_HANDLERS,
      open(socket) {
        if (closed || active >= options.maxConnections) {
          // maxConnections: over the cap, the socket is reset before anyone sees it.
          socket.terminate();
          return;
        }
        active++;
        const conn = new BunConnection(options, onRelease);
        conn.attach(socket);
        try {
          handlers.onConnection(conn.raw);
        } catch (error) {
          conn.destroy(error);
        }
      },
    };
    let server: BunTcpListener;
    try {
      server = bun().listen({
        hostname: bind.host,
        port: bind.port,
        allowHalfOpen: true,
        socket: socketHandlers,
      });
    } catch (error) {
      return Promise.reject(
        new TcpListenError(`could not listen on ${bind.host}:${bind.port}`, { cause: error }),
      );
    }
    return Promise.resolve({
      host: server.hostname,
      port: server.port,
      close(): Promise<void> {
        if (!closed) {
          closed = true;
          server.stop(false); // stop accepting, free the port; accepted sockets stay open
        }
        return Promise.resolve();
      },
    });
  },
};
