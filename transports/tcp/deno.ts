/**
 * TCP on Deno: `Deno.connect` / `Deno.listen`.
 *
 * Why not `conn.readable` / `conn.writable` as they are: Deno's own streams close the whole
 * resource when the readable reaches EOF and when the writable is closed, so a half-closed
 * connection can neither answer after reading the request to its end nor read the reply after
 * closing its writable (measured on Deno 2.9.6: a write after reading EOF fails with
 * BadResource). libp2p needs both (multistream, perf, every half-closed stream on top). So each
 * direction here is one stream built straight on the socket, exactly as Deno builds its own
 * (a byte ReadableStream pulling `conn.read` into the reader's buffer, a WritableStream calling
 * `conn.write`), with no transform in between: writable close sends FIN (`closeWrite`) and the
 * resource is closed once both directions ended, on `close()` or on `abort()`.
 *
 * @module
 */

import { abortReason } from "../../src/abort.ts";
import { ConnectionClosedError, TimeoutError } from "../../src/errors.ts";
import type { RawConnection } from "../../src/transport.ts";
import { socketMultiaddr, type TcpEndpoint } from "./address.ts";
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
  let readController!: ReadableByteStreamController;
  let writeController!: WritableStreamDefaultController;
  let readDone = false;
  let writeDone = false;
  let released = false;
  /** Set by close(): reads interrupted by our own close end the stream instead of erroring it. */
  let closingLocally = false;
  /** Set by abort(): the reason every pending and later operation fails with. */
  let failure: unknown;
  /** The socket write in progress, so that close() can wait for it. */
  let inflight: Promise<void> | undefined;

  const release = (): void => {
    if (released) return;
    released = true;
    try {
      conn.close();
    } catch {
      // Already closed by Deno (e.g. after an error); nothing left to free.
    }
    onRelease?.();
  };
  const maybeRelease = (): void => {
    if (readDone && writeDone) release();
  };
  const endRead = (): void => {
    if (readDone) return;
    readDone = true;
    try {
      readController.close();
      readController.byobRequest?.respond(0);
    } catch {
      // Already closed or errored.
    }
  };
  const destroy = (reason: unknown): void => {
    if (failure === undefined) failure = reason ?? new ConnectionClosedError("connection aborted");
    readDone = true;
    writeDone = true;
    readController.error(failure);
    writeController.error(failure);
    release();
  };

  // Size of the next buffer for a default reader: adapts to the traffic (MIN_READ_CHUNK_SIZE).
  let readSize = MIN_READ_CHUNK_SIZE;
  const readable: ReadableStream<Uint8Array> = new ReadableStream({
    type: "bytes",
    start(controller) {
      readController = controller;
    },
    async pull(controller) {
      // highWaterMark 0: pull runs only for a pending read. BYOB readers get bytes straight into
      // their buffer; default readers into one of `readSize` bytes (no autoAllocateChunkSize: a
      // fixed 64 KiB buffer would sit in the pending read of every idle connection). Nothing is
      // read ahead: the kernel's receive buffer is the only buffer, and a reader that stops
      // reading stops the sender through TCP flow control.
      const request = controller.byobRequest;
      const view = request?.view;
      const target = view
        ? new Uint8Array(view.buffer, view.byteOffset, view.byteLength)
        : new Uint8Array(readSize);
      let n: number | null;
      try {
        n = await conn.read(target);
      } catch (error) {
        if (failure !== undefined) return; // aborted: the stream is already errored
        if (closingLocally && isClosedResource(error)) {
          endRead();
          maybeRelease();
          return;
        }
        destroy(new ConnectionClosedError("TCP read failed", { cause: error }));
        return;
      }
      if (n === null) {
        // Remote FIN: end of the readable; the writable stays usable (half-close).
        endRead();
        maybeRelease();
        return;
      }
      if (request) {
        request.respond(n);
        return;
      }
      if (n === target.byteLength) readSize = Math.min(READ_CHUNK_SIZE, readSize * 2);
      else if (n < target.byteLength / 4) readSize = Math.max(MIN_READ_CHUNK_SIZE, readSize / 2);
      // A mostly empty buffer is copied out so that it can be freed; otherwise it is handed on.
      controller.enqueue(n < target.byteLength / 2 ? target.slice(0, n) : target.subarray(0, n));
    },
    cancel() {
      // The reader lost interest; unread bytes stay in the kernel and are dropped on release.
      readDone = true;
      maybeRelease();
    },
  }, { highWaterMark: 0 });

  const writeAll = async (chunk: Uint8Array): Promise<void> => {
    let offset = 0;
    while (offset < chunk.byteLength) {
      offset += await conn.write(offset === 0 ? chunk : chunk.subarray(offset));
    }
  };

  const writable = new WritableStream<Uint8Array>({
    start(controller) {
      writeController = controller;
    },
    async write(chunk) {
      if (!(chunk instanceof Uint8Array)) throw new TypeError("TCP writes take Uint8Array chunks");
      if (failure !== undefined) throw failure;
      if (writeDone) throw new ConnectionClosedError("TCP connection closed");
      const p = writeAll(chunk);
      inflight = p;
      try {
        await p;
      } catch (error) {
        if (failure !== undefined) throw failure;
        const err = new ConnectionClosedError("TCP write failed", { cause: error });
        destroy(err);
        throw err;
      } finally {
        if (inflight === p) inflight = undefined;
      }
    },
    async close() {
      if (failure !== undefined) throw failure;
      writeDone = true;
      if (!released) {
        try {
          await conn.closeWrite(); // FIN: the remote reads EOF, we keep reading
        } catch (error) {
          if (!isClosedResource(error) && !(error instanceof Deno.errors.NotConnected)) {
            destroy(new ConnectionClosedError("TCP half-close failed", { cause: error }));
            throw failure;
          }
        }
      }
      maybeRelease();
    },
    abort(reason) {
      destroy(reason);
    },
  }, new ByteLengthQueuingStrategy({ highWaterMark: options.writeHighWaterMark }));

  const local = netAddr(conn.localAddr);
  const remote = netAddr(conn.remoteAddr)!;
  return {
    readable,
    writable,
    remoteAddr: socketMultiaddr(remote.hostname, remote.port),
    localAddr: local === undefined ? undefined : socketMultiaddr(local.hostname, local.port),
    async close(): Promise<void> {
      if (released) return;
      closingLocally = true;
      // Flush what the writable queued, then FIN; when a writer holds the writable, only let
      // the chunk being written finish (what is queued behind it is dropped).
      const flush = !writeDone && !writable.locked ? writable.close() : inflight;
      if (flush !== undefined && !(await settledWithin(flush, options.closeTimeoutMs))) {
        destroy(new TimeoutError(`TCP close: writes not flushed in ${options.closeTimeoutMs} ms`));
        return;
      }
      if (released) return;
      writeDone = true;
      endRead();
      release();
      writeController.error(new ConnectionClosedError("TCP connection closed"));
    },
    abort(reason?: unknown): void {
      if (released && failure !== undefined) return;
      destroy(reason);
    },
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
