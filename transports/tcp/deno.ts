/**
 * TCP on Deno: `Deno.connect` / `Deno.listen`, as primitives for the core (backend.ts): a pulled
 * read into the core's buffer, an async write, FIN, close, the accept loop.
 *
 * Why not `conn.readable` / `conn.writable`: Deno's own streams close the whole resource when the
 * readable reaches EOF and when the writable is closed, so a half-closed connection can neither
 * answer after reading the request to its end nor read the reply after closing its writable
 * (measured on Deno 2.9.6: a write after reading EOF fails with BadResource). libp2p needs both
 * (multistream, perf, every half-closed stream on top), so the core drives the socket itself.
 *
 * @module
 */

import { abortReason } from "../../src/abort.ts";
import type { TcpEndpoint } from "./address.ts";
import type { TcpPeer, TcpRuntime, TcpServer, TcpSocket } from "./backend.ts";
import { dialError, TcpListenError } from "./errors.ts";

/** Delay before accepting again after a transient accept failure (EMFILE...), ms. */
const ACCEPT_RETRY_DELAY_MS = 100;

function netAddr(addr: Deno.Addr): Deno.NetAddr | undefined {
  return addr.transport === "tcp" ? addr as Deno.NetAddr : undefined;
}

/** Whether `error` is what Deno raises for an operation on a closed resource. */
function isClosedResource(error: unknown): boolean {
  return error instanceof Deno.errors.BadResource || error instanceof Deno.errors.Interrupted;
}

function closeQuietly(conn: Deno.TcpConn): void {
  try {
    conn.close();
  } catch {
    // Already closed by Deno (e.g. after an error); nothing left to free.
  }
}

/**
 * The primitives of one Deno connection: one small object per connection, its methods on the
 * prototype (an object of closures would cost every idle connection ~0.5 KiB more).
 */
class DenoSocket implements TcpSocket {
  readonly #conn: Deno.TcpConn;

  constructor(conn: Deno.TcpConn) {
    this.#conn = conn;
  }

  read(buffer: Uint8Array): Promise<number | null> {
    return this.#conn.read(buffer);
  }

  /** Deno's write may take only part of a chunk; the core calls again for the rest, in order. */
  write(chunk: Uint8Array): Promise<number> {
    return this.#conn.write(chunk);
  }

  async closeWrite(): Promise<void> {
    try {
      await this.#conn.closeWrite();
    } catch (error) {
      if (!isClosedResource(error) && !(error instanceof Deno.errors.NotConnected)) throw error;
    }
  }

  close(): void {
    closeQuietly(this.#conn);
  }

  reset(): void {
    closeQuietly(this.#conn);
  }

  isClosedError(error: unknown): boolean {
    return isClosedResource(error);
  }

  setNoDelay(on: boolean): void {
    this.#conn.setNoDelay(on);
  }

  setKeepAlive(on: boolean): void {
    this.#conn.setKeepAlive(on);
  }
}

function peerOf(conn: Deno.TcpConn): TcpPeer {
  const remote = netAddr(conn.remoteAddr)!;
  const local = netAddr(conn.localAddr);
  return {
    remoteHost: remote.hostname,
    remotePort: remote.port,
    localHost: local?.hostname,
    localPort: local?.port,
  };
}

function connectError(target: TcpEndpoint, error: unknown): Error {
  return dialError(target, error, error instanceof Deno.errors.ConnectionRefused);
}

/**
 * Deno's TCP primitives. Internal: `tcp()` loads them on Deno.
 *
 * @example
 * ```ts ignore
 * const peer = await denoTcp.connect({ family: 4, host: "127.0.0.1", port: 4001 }, signal, channel);
 * ```
 */
export const denoTcp: TcpRuntime = {
  name: "deno",

  async connect(target, signal, events): Promise<TcpPeer> {
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
      throw connectError(target, error);
    }
    if (signal.aborted) {
      closeQuietly(conn);
      throw abortReason(signal);
    }
    events.attach(new DenoSocket(conn));
    return peerOf(conn);
  },

  listen(bind, handlers): Promise<TcpServer> {
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
    let retryTimer: ReturnType<typeof setTimeout> | undefined;
    let wakeRetry: (() => void) | undefined;

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
        if (closed) {
          closeQuietly(conn);
          continue;
        }
        let peer: TcpPeer;
        try {
          peer = peerOf(conn);
        } catch (error) {
          closeQuietly(conn);
          handlers.onError(
            new TcpListenError("could not set up a TCP connection", { cause: error }),
          );
          continue;
        }
        handlers.accept(new DenoSocket(conn), peer);
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
