/**
 * TCP on Deno: `Deno.connect` / `Deno.listen`.
 *
 * Why not `conn.readable` / `conn.writable` as they are: Deno's own streams close the whole
 * resource when the readable reaches EOF and when the writable is closed, so a half-closed
 * connection can neither answer after reading the request to its end nor read the reply after
 * closing its writable (measured on Deno 2.9.6: a write after reading EOF fails with
 * BadResource). libp2p needs both (multistream, perf, every half-closed stream on top). So the
 * connection is a byte channel built straight on the socket (src/stream/channel.ts): `read()` is
 * one `conn.read`, `write()` queues for one `conn.write` pump, `closeWrite()` sends FIN, and the
 * resource is closed once both directions ended, on `close()` or on `abort()`. Web streams are
 * built on the channel only if someone asks for `readable`/`writable`.
 *
 * @module
 */

import { abortReason } from "../../src/abort.ts";
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
import { MIN_READ_CHUNK_SIZE, READ_CHUNK_SIZE } from "./constants.ts";
import { osErrorCode, TcpDialError, TcpListenError } from "./errors.ts";
import type { ResolvedTcpOptions } from "./options.ts";

/** Delay before accepting again after a transient accept failure (EMFILE...), ms. */
const ACCEPT_RETRY_DELAY_MS = 100;

function netAddr(addr: Deno.Addr): Deno.NetAddr | undefined {
  return addr.transport === "tcp" ? addr as Deno.NetAddr : undefined;
}

/** Whether `error` is what Deno raises for an operation on a closed resource. */
function isClosedResource(error: unknown): boolean {
  return error instanceof Deno.errors.BadResource || error instanceof Deno.errors.Interrupted;
}

/**
 * One Deno TCP connection as a {@link ByteChannel}. Reads go straight into a buffer sized to
 * the traffic; writes are queued and written in order by one pump (Deno's `write` may take only
 * part of a chunk, so two writes must never overlap).
 */
class DenoTcpChannel implements ByteChannel {
  readonly #conn: Deno.TcpConn;
  readonly #options: ResolvedTcpOptions;
  readonly #onRelease: (() => void) | undefined;
  /** Size of the next read buffer: adapts to the traffic (MIN_READ_CHUNK_SIZE). */
  #readSize = MIN_READ_CHUNK_SIZE;
  #readDone = false;
  /** closeWrite() (or close()) was called: no more writes are taken. */
  #writeClosed = false;
  /** Our direction ended: FIN sent, or the socket is gone. */
  #writeDone = false;
  #released = false;
  /** Set by close(): reads interrupted by our own close end the stream instead of failing it. */
  #closingLocally = false;
  /** Set by abort() or an I/O failure: the reason every pending and later operation fails with. */
  #failure: unknown;
  #queue: Uint8Array[] = [];
  /** The buffer of the pending read (one at a time). */
  #target: Uint8Array | undefined;
  /** Whether `#target` is the caller's lent buffer (ByteChannel.read `into`). */
  #targetLent = false;
  #pumping = false;
  readonly #drain = new Deferred<void>();
  #closingWrite: Promise<void> | undefined;

  constructor(conn: Deno.TcpConn, options: ResolvedTcpOptions, onRelease?: () => void) {
    this.#conn = conn;
    this.#options = options;
    this.#onRelease = onRelease;
  }

  /**
   * One `conn.read` per call, continued by two handlers made once per connection: an idle
   * connection's pending read then holds one promise and its reaction, where an async function
   * held a suspended generator, its registers and two more closures (~0.3 KiB per connection).
   */
  read(into?: Uint8Array): Promise<Uint8Array | null> {
    if (this.#failure !== undefined) return Promise.reject(this.#failure);
    if (this.#readDone) return READ_END;
    if (this.#target !== undefined) {
      return Promise.reject(new TypeError("TCP connection: one read at a time"));
    }
    // A lent buffer (ByteChannel.read) is read into as it is: no allocation, and on Deno the
    // fresh buffer per read is what a bulk receiver spends most on (its allocation, and V8's
    // full collections driven by the external memory: bench/RESULTS.md). Otherwise no
    // autoAllocate-style fixed 64 KiB buffer: this one sits in the pending read of every idle
    // connection. Nothing is read ahead either: the kernel's receive buffer is the only buffer,
    // and a reader that stops reading stops the sender through TCP flow control.
    const lent = into !== undefined && into.byteLength > 0;
    const target = lent ? into : new Uint8Array(this.#readSize);
    this.#target = target;
    this.#targetLent = lent;
    return this.#conn.read(target).then(this.#onRead, this.#onReadError);
  }

  readonly #onRead = (n: number | null): Uint8Array | null | Promise<Uint8Array | null> => {
    const target = this.#target!;
    this.#target = undefined;
    if (this.#failure !== undefined) throw this.#failure;
    if (this.#readDone) return null; // cancelled while the read was pending: dropped
    if (n === null) {
      // Remote FIN: the end of our input; writing goes on (half-close).
      this.#readDone = true;
      this.#maybeRelease();
      return null;
    }
    if (n === 0) return this.read(this.#targetLent ? target : undefined);
    if (this.#targetLent) return target.subarray(0, n);
    if (n === target.byteLength) this.#readSize = Math.min(READ_CHUNK_SIZE, this.#readSize * 2);
    else if (n < target.byteLength / 4) {
      this.#readSize = Math.max(MIN_READ_CHUNK_SIZE, this.#readSize / 2);
    }
    // A mostly empty buffer is copied out so that it can be freed; otherwise it is handed on.
    return n < target.byteLength / 2 ? target.slice(0, n) : target.subarray(0, n);
  };

  readonly #onReadError = (error: unknown): null => {
    this.#target = undefined;
    if (this.#failure !== undefined) throw this.#failure;
    if (this.#readDone) return null; // cancelled, then the socket was closed under the read
    if (this.#closingLocally && isClosedResource(error)) {
      this.#readDone = true;
      this.#maybeRelease();
      return null;
    }
    const err = new ConnectionClosedError("TCP read failed", { cause: error });
    this.abort(err);
    throw err;
  };

  write(chunk: Uint8Array): void {
    if (this.#failure !== undefined) throw this.#failure;
    if (this.#writeClosed) throw new StreamClosedError("TCP connection: write after close");
    if (chunk.byteLength === 0) return;
    this.#queue.push(chunk);
    if (!this.#pumping) void this.#pump();
  }

  async #pump(): Promise<void> {
    this.#pumping = true;
    try {
      while (this.#queue.length > 0) {
        const batch = this.#queue;
        this.#queue = [];
        for (const chunk of batch) {
          let offset = 0;
          while (offset < chunk.byteLength) {
            offset += await this.#conn.write(offset === 0 ? chunk : chunk.subarray(offset));
          }
        }
      }
    } catch (error) {
      this.#pumping = false;
      this.abort(new ConnectionClosedError("TCP write failed", { cause: error }));
      return;
    }
    this.#pumping = false;
    this.#drain.resolve();
  }

  /** Each chunk is written to the socket (the kernel copies it) before `drained()` resolves. */
  get copiesWrites(): boolean {
    return true;
  }

  drained(): Promise<void> {
    if (this.#failure !== undefined) return Promise.reject(this.#failure);
    if (!this.#pumping) return RESOLVED;
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
    if (!this.#released) {
      try {
        await this.#conn.closeWrite(); // FIN: the remote reads EOF, we keep reading
      } catch (error) {
        if (!isClosedResource(error) && !(error instanceof Deno.errors.NotConnected)) {
          this.abort(new ConnectionClosedError("TCP half-close failed", { cause: error }));
          throw this.#failure;
        }
      }
    }
    this.#maybeRelease();
  }

  cancelRead(): void {
    // Unread bytes stay in the kernel and are dropped on release.
    if (this.#readDone) return;
    this.#readDone = true;
    this.#maybeRelease();
  }

  abort(reason?: unknown): void {
    if (this.#failure !== undefined) return;
    this.#failure = reason ?? new ConnectionClosedError("connection aborted");
    this.#readDone = true;
    this.#writeDone = true;
    this.#writeClosed = true;
    this.#queue = [];
    this.#drain.reject(this.#failure);
    this.#release();
  }

  /**
   * Flush what is queued (after `flush`, the closing of a writable stream built on this channel)
   * and send FIN, within closeTimeoutMs, then free the socket.
   */
  async close(flush?: Promise<void>): Promise<void> {
    if (this.#released) return;
    this.#closingLocally = true;
    const flushed = flush ?? this.closeWrite();
    flushed.catch(() => {});
    const ms = this.#options.closeTimeoutMs;
    if (!(await settledWithin(flushed, ms))) {
      this.abort(new TimeoutError(`TCP close: writes not flushed in ${ms} ms`));
      return;
    }
    this.#readDone = true;
    this.#writeDone = true;
    this.#release();
  }

  #maybeRelease(): void {
    if (this.#readDone && this.#writeDone) this.#release();
  }

  #release(): void {
    if (this.#released) return;
    this.#released = true;
    try {
      this.#conn.close();
    } catch {
      // Already closed by Deno (e.g. after an error); nothing left to free.
    }
    this.#onRelease?.();
  }
}

/**
 * Wrap an open Deno TCP connection. `onRelease` runs once, when the resource is closed.
 */
function wrapConn(
  conn: Deno.TcpConn,
  options: ResolvedTcpOptions,
  onRelease?: () => void,
): RawConnection {
  try {
    conn.setNoDelay(options.noDelay);
    if (options.keepAlive) conn.setKeepAlive(true);
  } catch {
    // The peer may already have reset the socket; reads and writes report that.
  }
  const channel = new DenoTcpChannel(conn, options, onRelease);
  const local = netAddr(conn.localAddr);
  const remote = netAddr(conn.remoteAddr)!;
  return {
    channel,
    close: () => channel.close(),
    abort: (reason?: unknown) => channel.abort(reason),
    remoteAddr: socketMultiaddr(remote.hostname, remote.port),
    localAddr: local === undefined ? undefined : localMultiaddr(local.hostname, local.port),
  };
}

function dialError(target: TcpEndpoint, error: unknown): Error {
  const code = osErrorCode(error);
  const where = target.family === 6
    ? `[${target.host}]:${target.port}`
    : `${target.host}:${target.port}`;
  const what = error instanceof Deno.errors.ConnectionRefused
    ? "connection refused by"
    : "could not connect to";
  return new TcpDialError(`${what} ${where}`, code ?? (error as Error)?.name, { cause: error });
}

/**
 * The Deno TCP backend. Internal: use `tcp()` from mod.ts, which picks it on Deno.
 *
 * @example
 * ```ts
 * const conn = await denoTcp.connect({ family: 4, host: "127.0.0.1", port: 4001 }, opts, signal);
 * ```
 */
export const denoTcp: TcpBackend = {
  runtime: "deno",

  async connect(target, options, signal): Promise<RawConnection> {
    if (signal.aborted) throw abortReason(signal);
    let conn: Deno.TcpConn;
    try {
      conn = await Deno.connect({
        hostname: target.host,
        port: target.port,
        transport: "tcp",
        signal,
      });
    } catch (error) {
      if (signal.aborted) throw abortReason(signal);
      throw dialError(target, error);
    }
    if (signal.aborted) {
      conn.close();
      throw abortReason(signal);
    }
    return wrapConn(conn, options);
  },

  listen(bind, options, handlers: TcpServerHandlers): Promise<TcpServer> {
    let listener: Deno.TcpListener;
    try {
      listener = Deno.listen({ hostname: bind.host, port: bind.port, transport: "tcp" });
    } catch (error) {
      return Promise.reject(
        new TcpListenError(`could not listen on ${bind.host}:${bind.port}`, { cause: error }),
      );
    }
    const addr = netAddr(listener.addr)!;
    let closed = false;
    let active = 0;
    let retryTimer: ReturnType<typeof setTimeout> | undefined;
    let wakeRetry: (() => void) | undefined;
    const onRelease = (): void => {
      active--;
    };

    const acceptLoop = async (): Promise<void> => {
      while (!closed) {
        let conn: Deno.TcpConn;
        try {
          conn = await listener.accept();
        } catch (error) {
          if (closed || isClosedResource(error)) return;
          // Transient (EMFILE, ECONNABORTED...): report, pause briefly so we do not spin.
          handlers.onError(new TcpListenError("TCP accept failed", { cause: error }));
          await new Promise<void>((resolve) => {
            wakeRetry = resolve;
            retryTimer = setTimeout(resolve, ACCEPT_RETRY_DELAY_MS);
          });
          retryTimer = undefined;
          wakeRetry = undefined;
          continue;
        }
        if (closed || active >= options.maxConnections) {
          // maxConnections: over the cap, the socket is closed before anyone sees it.
          conn.close();
          continue;
        }
        active++;
        let raw: RawConnection;
        try {
          raw = wrapConn(conn, options, onRelease);
        } catch (error) {
          active--;
          try {
            conn.close();
          } catch { /* already gone */ }
          handlers.onError(
            new TcpListenError("could not set up a TCP connection", { cause: error }),
          );
          continue;
        }
        try {
          handlers.onConnection(raw);
        } catch (error) {
          raw.abort(error);
        }
      }
    };
    const loop = acceptLoop();

    return Promise.resolve({
      host: addr.hostname,
      port: addr.port,
      async close(): Promise<void> {
        if (closed) return loop;
        closed = true;
        if (retryTimer !== undefined) clearTimeout(retryTimer);
        wakeRetry?.();
        try {
          listener.close();
        } catch {
          // Already closed.
        }
        await loop;
      },
    });
  },
};
