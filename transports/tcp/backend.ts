/**
 * What mod.ts needs from a runtime adapter (deno.ts, bun.ts). Internal.
 *
 * @module
 */

import type { RawConnection } from "../../src/transport.ts";
import type { TcpEndpoint } from "./address.ts";
import type { ResolvedTcpOptions } from "./options.ts";

/** Callbacks of a bound server. Internal. */
export interface TcpServerHandlers {
  /** An accepted connection, already counted against `maxConnections`. */
  onConnection(conn: RawConnection): void;
  /** The accept loop failed after binding. */
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
 * A runtime's TCP sockets. `connect` rejects with TcpDialError for a failure, TimeoutError at
 * the deadline and the signal's reason on abort; `listen` with TcpListenError. Internal.
 */
export interface TcpBackend {
  /** "deno" or "bun". */
  readonly runtime: string;
  /** Open a connection; `signal` already includes the connect deadline. */
  connect(
    target: TcpEndpoint,
    options: ResolvedTcpOptions,
    signal: AbortSignal,
  ): Promise<RawConnection>;
  /** Bind and start accepting. */
  listen(
    bind: TcpEndpoint,
    options: ResolvedTcpOptions,
    handlers: TcpServerHandlers,
  ): Promise<TcpServer>;
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
