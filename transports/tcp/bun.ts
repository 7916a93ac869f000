/**
 * TCP on Bun: `Bun.connect` / `Bun.listen` and their socket callbacks, as primitives for the core
 * (backend.ts): data pushed through callbacks (with pause/resume), a synchronous write that takes
 * what it can, FIN, end, terminate.
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
import type { TcpPeer, TcpRuntime, TcpServer, TcpSocket, TcpSocketEvents } from "./backend.ts";
import { dialError, TcpListenError } from "./errors.ts";

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

/** Where a socket's events go: the core's channel, kept in `socket.data`. */
interface Wired {
  readonly events: TcpSocketEvents;
}

function eventsOf(socket: BunSocket): TcpSocketEvents | undefined {
  return (socket.data as Wired | undefined)?.events;
}

/** The primitives of one Bun socket (methods on the prototype: one small object each). */
class BunTcpSocket implements TcpSocket {
  readonly #socket: BunSocket;

  constructor(socket: BunSocket) {
    this.#socket = socket;
  }

  pause(): void {
    this.#socket.pause();
  }

  resume(): void {
    this.#socket.resume();
  }

  write(chunk: Uint8Array): number {
    return this.#socket.write(chunk);
  }

  closeWrite(): void {
    this.#socket.shutdown(); // FIN; reading goes on
  }

  close(): void {
    try {
      this.#socket.end();
    } catch {
      // Already closed.
    }
  }

  reset(): void {
    try {
      this.#socket.terminate();
    } catch {
      // Already closed.
    }
  }

  isClosedError(): boolean {
    return false; // reads are pushed: no read can fail
  }

  setNoDelay(on: boolean): void {
    this.#socket.setNoDelay?.(on);
  }

  setKeepAlive(on: boolean): void {
    this.#socket.setKeepAlive?.(on);
  }
}

function peerOf(socket: BunSocket): TcpPeer {
  return {
    remoteHost: socket.remoteAddress,
    remotePort: socket.remotePort ?? 0,
    localHost: socket.localAddress,
    localPort: socket.localPort,
  };
}

/** Callbacks shared by every socket; each finds its channel through `socket.data`. */
const COMMON_HANDLERS: BunSocketHandler = {
  data(socket, data) {
    // A plain Uint8Array over the same memory (Bun hands a fresh Buffer per callback).
    eventsOf(socket)?.onData(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
  },
  drain(socket) {
    eventsOf(socket)?.onDrain();
  },
  end(socket) {
    eventsOf(socket)?.onEnd();
  },
  close(socket, error) {
    eventsOf(socket)?.onClose(error);
  },
  error(socket, error) {
    eventsOf(socket)?.onError(error);
  },
};

/**
 * Dialled sockets carry their wiring from connect(); `open` attaches them and notes the
 * addresses while the socket has them (a socket the remote resets at once has none by the time
 * Bun.connect resolves).
 */
interface DialWiring extends Wired {
  peer: TcpPeer | undefined;
}

function attachDialled(socket: BunSocket): void {
  const wiring = socket.data as DialWiring | undefined;
  if (wiring === undefined || wiring.peer !== undefined) return;
  wiring.peer = peerOf(socket);
  wiring.events.attach(new BunTcpSocket(socket));
}

const DIAL_HANDLERS: BunSocketHandler = {
  ...COMMON_HANDLERS,
  open: attachDialled,
  connectError() {
    // Bun.connect's promise rejects with the same error; the dial reports it there.
  },
};

/**
 * Bun's TCP primitives. Internal: `tcp()` loads them on Bun.
 *
 * @example
 * ```ts ignore
 * const peer = await bunTcp.connect({ family: 4, host: "127.0.0.1", port: 4001 }, signal, channel);
 * ```
 */
export const bunTcp: TcpRuntime = {
  name: "bun",

  async connect(target, signal, events): Promise<TcpPeer> {
    if (signal.aborted) throw abortReason(signal);
    const wiring: DialWiring = { events, peer: undefined };
    const pending = bun().connect({
      hostname: target.host,
      port: target.port,
      allowHalfOpen: true,
      socket: DIAL_HANDLERS,
      data: wiring,
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
      throw dialError(target, error, false);
    }
    attachDialled(socket);
    const peer = wiring.peer!;
    // Reset before we looked: the address we dialled is the remote one.
    if (peer.remoteHost === undefined) return { remoteHost: target.host, remotePort: target.port };
    return peer;
  },

  listen(bind, handlers): Promise<TcpServer> {
    let closed = false;
    const socketHandlers: BunSocketHandler = {
      ...COMMON_HANDLERS,
      open(socket) {
        const primitives = new BunTcpSocket(socket);
        if (closed) {
          primitives.reset();
          return;
        }
        const events = handlers.accept(primitives, peerOf(socket));
        if (events !== undefined) socket.data = { events } satisfies Wired;
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
