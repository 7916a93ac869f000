/**
 * TCP on Bun: `Bun.connect` / `Bun.listen` and their socket handler callbacks, turned into one
 * byte channel per connection (src/stream/channel.ts; web streams only if someone asks).
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
import { ConnectionClosedError, StreamClosedError, TimeoutError } from "../../src/errors.ts";
import { type ByteChannel, READ_END, RESOLVED } from "../../src/stream/channel.ts";
import { Deferred } from "../../src/stream/deferred.ts";
import type { RawConnection } from "../../src/transport.ts";
import { localMultiaddr, socketMultiaddr, type TcpEndpoint } from "./address.ts";
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

/**
 * One Bun socket as a {@link ByteChannel} (the socket's `data` points back here). Received
 * chunks go straight to a pending read, or into a queue that pauses the socket at
 * `readHighWaterMark`; writes go straight to the socket, and what it did not take waits for
 * `drain`, in order.
 */
class BunConnection implements ByteChannel {
  readonly raw: RawConnection;
  #socket: BunSocket | undefined;
  #options: ResolvedTcpOptions;
  #onRelease: (() => void) | undefined;
  #queue: Uint8Array[] = [];
  #queued = 0;
  /** A read waiting for data. */
  readonly #reader = new Deferred<Uint8Array | null>();
  #paused = false;
  /** Remote FIN received, or reading cancelled: `read()` returns null once the queue is empty. */
  #readDone = false;
  /** closeWrite() (or close()) was called: no more writes are taken. */
  #writeClosed = false;
  /** Our direction ended: FIN sent, or the socket is gone. */
  #writeDone = false;
  /** Why writes fail after the remote closed the socket cleanly. */
  #writeError: unknown;
  /** Bytes the socket did not take yet, in order; written on `drain`. */
  #unsent: Uint8Array[] = [];
  readonly #drain = new Deferred<void>();
  #closingWrite: Promise<void> | undefined;
  #released = false;
  #failure: unknown;

  constructor(options: ResolvedTcpOptions, onRelease?: () => void) {
    this.#options = options;
    this.#onRelease = onRelease;
    // Addresses are filled in by attach(); until then the object is not handed out.
    this.raw = {
      channel: this,
      close: () => this.#close(undefined),
      abort: (reason?: unknown) => this.abort(reason),
      remoteAddr: undefined as never,
      localAddr: undefined,
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
      raw.localAddr = localMultiaddr(socket.localAddress, socket.localPort);
    }
  }

  // --- ByteChannel -------------------------------------------------------------------------------

  read(): Promise<Uint8Array | null> {
    if (this.#failure !== undefined) return Promise.reject(this.#failure);
    const chunk = this.#queue.shift();
    if (chunk !== undefined) {
      this.#queued -= chunk.byteLength;
      if (this.#paused && this.#queued < this.#options.readHighWaterMark) this.#resume();
      return Promise.resolve(chunk);
    }
    if (this.#readDone) return READ_END;
    return this.#reader.promise;
  }

  write(chunk: Uint8Array): void {
    if (this.#failure !== undefined) throw this.#failure;
    if (this.#writeError !== undefined) throw this.#writeError;
    if (this.#writeClosed) throw new StreamClosedError("TCP connection: write after close");
    if (chunk.byteLength === 0) return;
    if (this.#unsent.length > 0) {
      this.#unsent.push(chunk); // behind bytes waiting for drain
      return;
    }
    const socket = this.#socket;
    if (socket === undefined || this.#released) {
      throw new ConnectionClosedError("TCP connection closed");
    }
    const n = socket.write(chunk);
    if (n < 0) {
      const err = new ConnectionClosedError("TCP connection closed");
      this.destroy(err);
      throw err;
    }
    // Short write: Bun kept nothing of the rest. It goes out on drain.
    if (n < chunk.byteLength) this.#unsent.push(chunk.subarray(n));
  }

  /** `socket.write` copies what it takes; the rest waits here until `drained()` resolves. */
  get copiesWrites(): boolean {
    return true;
  }

  drained(): Promise<void> {
    if (this.#failure !== undefined) return Promise.reject(this.#failure);
    if (this.#unsent.length === 0) return RESOLVED;
    if (this.#writeError !== undefined) return Promise.reject(this.#writeError);
    return this.#drain.promise;
  }

  closeWrite(): Promise<void> {
    if (this.#failure !== undefined) return Promise.reject(this.#failure);
    this.#writeClosed = true;
    return this.#closingWrite ??= this.#finishWrite();
  }

  async #finishWrite(): Promise<void> {
    await this.drained();
    if (this.#writeDone) return;
    this.#writeDone = true;
    if (!this.#released) this.#socket?.shutdown(); // FIN; reading goes on
    this.#maybeRelease();
  }

  cancelRead(): void {
    this.#queue = [];
    this.#queued = 0;
    this.#endRead();
    this.#maybeRelease();
  }

  abort(reason?: unknown): void {
    this.destroy(reason);
  }

  // --- socket callbacks ----------------------------------------------------------------------------

  onData(data: Uint8Array): void {
    if (this.#readDone) return; // cancelled by the reader: drop
    // A plain Uint8Array over the same memory (Bun hands a fresh Buffer per callback).
    const chunk = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    if (this.#reader.waiting) {
      this.#reader.resolve(chunk);
      return;
    }
    this.#queue.push(chunk);
    this.#queued += chunk.byteLength;
    if (this.#queued >= this.#options.readHighWaterMark && !this.#paused) {
      // The reader is behind: stop reading the socket until it catches up.
      this.#paused = true;
      this.#socket?.pause();
    }
  }

  onDrain(): void {
    const socket = this.#socket;
    while (this.#unsent.length > 0 && socket !== undefined && !this.#released) {
      const chunk = this.#unsent[0];
      const n = socket.write(chunk);
      if (n < 0) {
        this.destroy(new ConnectionClosedError("TCP connection closed"));
        return;
      }
      if (n < chunk.byteLength) {
        this.#unsent[0] = chunk.subarray(n);
        return; // the next drain continues
      }
      this.#unsent.shift();
    }
    this.#drain.resolve();
  }

  /** Remote FIN: the end of our input; our writing stays usable (half-close). */
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
      this.#writeError = new ConnectionClosedError("TCP connection closed by the remote peer");
      this.#unsent = [];
      this.#drain.reject(this.#writeError);
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
    this.#writeClosed = true;
    this.#queue = [];
    this.#queued = 0;
    this.#unsent = [];
    this.#reader.reject(this.#failure);
    this.#drain.reject(this.#failure);
    if (!this.#released) this.#socket?.terminate();
    this.#release(false);
  }

  /**
   * Flush what is unsent (after `flush`, the closing of a writable stream built on this
   * channel) and send FIN, within closeTimeoutMs, then close the socket.
   */
  async #close(flush: Promise<void> | undefined): Promise<void> {
    if (this.#released) return;
    const flushed = flush ?? this.closeWrite();
    flushed.catch(() => {});
    const ms = this.#options.closeTimeoutMs;
    if (!(await settledWithin(flushed, ms))) {
      this.destroy(new TimeoutError(`TCP close: writes not flushed in ${ms} ms`));
      return;
    }
    if (this.#released) return;
    this.#writeDone = true;
    this.#writeClosed = true;
    this.#endRead();
    this.#release(true);
  }

  #resume(): void {
    this.#paused = false;
    if (!this.#readDone && !this.#released) this.#socket?.resume();
  }

  #endRead(): void {
    if (this.#readDone) return;
    this.#readDone = true;
    if (this.#queue.length > 0) return; // read() hands out the queue first, then null
    this.#reader.resolve(null);
  }

  #maybeRelease(): void {
    if (this.#readDone && this.#writeDone) this.#release(true);
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
