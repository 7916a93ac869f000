/**
 * What a runtime adapter (deno.ts, bun.ts) supplies to the TCP core, and what it calls back.
 * The core (channel.ts, connection.ts, mod.ts) does everything else: the connection object,
 * half-close, close and abort, limits, backpressure, listener bookkeeping, addresses. Internal.
 *
 * Two reading styles exist and the core serves both: Deno's sockets are read on demand
 * ({@link TcpSocket.read} into a buffer the core picks: the reader's lent buffer or one sized to
 * the traffic), Bun's push every chunk through a callback ({@link TcpSocketEvents.onData}) and can
 * be paused. Writing: `write` takes what the socket takes now; a promise (Deno) or a short count
 * followed by {@link TcpSocketEvents.onDrain} (Bun).
 *
 * @module
 */

import type { TcpEndpoint } from "./address.ts";

/** The primitives of one open socket. Internal. */
export interface TcpSocket {
  /**
   * Pull reading (Deno): read into `buffer`; the byte count, or null at the remote's FIN. Absent
   * when the socket pushes its data to {@link TcpSocketEvents.onData} instead (Bun).
   */
  read?(buffer: Uint8Array): Promise<number | null>;
  /** Push reading: stop delivering data until `resume` (TCP flow control slows the sender). */
  pause?(): void;
  /** Push reading: deliver data again. */
  resume?(): void;
  /**
   * Write what the socket takes of `chunk` now: the byte count (fewer than asked: call again after
   * {@link TcpSocketEvents.onDrain}; -1: the socket is closed), or a promise of the count (the
   * rest is written by calling again at once). The socket keeps no reference to `chunk`.
   */
  write(chunk: Uint8Array): number | Promise<number>;
  /** Send FIN; reading goes on. Errors that only mean "already closed" are swallowed here. */
  closeWrite(): void | Promise<void>;
  /** Free the socket gracefully (both directions ended). Never throws. */
  close(): void;
  /** Tear the socket down at once (abort). Never throws. */
  reset(): void;
  /** Whether `error` (from `read`) means the socket was closed under the read. */
  isClosedError(error: unknown): boolean;
  /** TCP_NODELAY. */
  setNoDelay(on: boolean): void;
  /** SO_KEEPALIVE. */
  setKeepAlive(on: boolean): void;
}

/** What an adapter calls on the core for one socket (the connection's channel). Internal. */
export interface TcpSocketEvents {
  /** The socket is open: its primitives (called once, before any other event). */
  attach(socket: TcpSocket): void;
  /** Push reading: a received chunk (owned by the core from now on). */
  onData(chunk: Uint8Array): void;
  /** A socket that took part of a write can take more. */
  onDrain(): void;
  /** The remote's FIN: the end of our input; writing goes on. */
  onEnd(): void;
  /** The socket closed (with the error that closed it, if any). */
  onClose(error?: Error): void;
  /** The socket failed. */
  onError(error: Error): void;
}

/** Where a socket connects. Internal. */
export interface TcpPeer {
  /** Remote IP text and port. */
  readonly remoteHost: string;
  readonly remotePort: number;
  /** Local IP text and port, when the runtime reports them. */
  readonly localHost?: string;
  readonly localPort?: number;
}

/** What a listening adapter reports to the core. Internal. */
export interface TcpAcceptHandlers {
  /**
   * An accepted, open socket: the core counts it against `maxConnections` and returns where its
   * events go, or resets it and returns undefined.
   */
  accept(socket: TcpSocket, peer: TcpPeer): TcpSocketEvents | undefined;
  /** The accept loop failed after binding (a transient error; it goes on). */
  onError(error: Error): void;
}

/** A bound TCP server socket. Internal. */
export interface TcpServer {
  /** The bound address as the runtime reports it (IP text). */
  readonly host: string;
  /** The bound port (the real one when 0 was asked for). */
  readonly port: number;
  /** Stop accepting and release the port; accepted connections stay open. */
  close(): Promise<void>;
}

/**
 * A runtime's TCP sockets. `connect` rejects with TcpDialError for a failure (see dialError) and
 * the signal's reason on abort; `listen` with TcpListenError. Internal.
 */
export interface TcpRuntime {
  /** "deno" or "bun". */
  readonly name: string;
  /**
   * Open a connection and call `events.attach` with its socket (before it resolves); `signal`
   * already includes the connect deadline.
   */
  connect(target: TcpEndpoint, signal: AbortSignal, events: TcpSocketEvents): Promise<TcpPeer>;
  /** Bind and start accepting. */
  listen(bind: TcpEndpoint, handlers: TcpAcceptHandlers): Promise<TcpServer>;
}

/**
 * Wait for `flush` to settle, at most `ms` (0: no bound). True when it settled (either way),
 * false when the bound passed first. The timer is always released. Internal.
 *
 * @example
 * ```ts
 * if (!(await settledWithin(writable.close(), 5_000))) conn.abort();
 * ```
 */
export async function settledWithin(flush: Promise<unknown>, ms: number): Promise<boolean> {
  const settled = flush.then(() => true, () => true);
  if (!(ms > 0) || !Number.isFinite(ms)) return await settled;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const expired = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
  });
  try {
    return await Promise.race([settled, expired]);
  } finally {
    clearTimeout(timer);
  }
}
