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
