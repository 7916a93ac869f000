/**
 * Errors of the TCP transport. Deadlines use TimeoutError, caller aborts the signal's reason (or
 * AbortError), failures of an open connection ConnectionClosedError (all from src/errors.ts).
 *
 * @module
 */

import { Libp2pError } from "../../src/errors.ts";
import type { TcpEndpoint } from "./address.ts";

/**
 * A TCP connection could not be opened (refused, unreachable, name not resolved...). The
 * runtime's error is chained as `cause`; `osCode` holds its error code when it gave one
 * (`"ECONNREFUSED"`, `"ENETUNREACH"`, ...).
 *
 * @example
 * ```ts
 * import { TcpDialError } from "@p2p-edge/libp2p/transports/tcp";
 * const err = new TcpDialError("connection refused by 127.0.0.1:1", "ECONNREFUSED");
 * console.log(err.osCode); // "ECONNREFUSED"
 * ```
 */
export class TcpDialError extends Libp2pError {
  /** The operating system's error code, e.g. "ECONNREFUSED", when the runtime reported one. */
  readonly osCode: string | undefined;
  /** Create a dial error; `cause` is the runtime's own error. */
  constructor(message: string, osCode?: string, options?: ErrorOptions) {
    super(message, options);
    this.osCode = osCode;
  }
}

/**
 * A TCP listener could not bind (address in use, not permitted, not a local address...), or its
 * accept loop failed. The runtime's error is chained as `cause`.
 *
 * @example
 * ```ts
 * import { TcpListenError } from "@p2p-edge/libp2p/transports/tcp";
 * console.log(new TcpListenError("address in use: 127.0.0.1:4001").name); // "TcpListenError"
 * ```
 */
export class TcpListenError extends Libp2pError {}

/**
 * The TCP transport was created on a runtime with neither Deno's nor Bun's TCP sockets (a
 * browser, a worker, Node).
 *
 * @example
 * ```ts
 * import { tcp, TcpUnsupportedError } from "@p2p-edge/libp2p/transports/tcp";
 * try { tcp(); } catch (e) { if (e instanceof TcpUnsupportedError) console.log(e.message); }
 * ```
 */
export class TcpUnsupportedError extends Libp2pError {}

/**
 * The error code a runtime error carries (`code`: "ECONNREFUSED"...), if any. Internal.
 *
 * @example
 * ```ts
 * osErrorCode(Object.assign(new Error("refused"), { code: "ECONNREFUSED" })); // "ECONNREFUSED"
 * ```
 */
export function osErrorCode(error: unknown): string | undefined {
  if (typeof error !== "object" || error === null) return undefined;
  const code = (error as { code?: unknown }).code;
  return typeof code === "string" && code !== "" ? code : undefined;
}

/**
 * The TcpDialError of a failed connect to `target`; `refused` when the runtime said the port is
 * closed (ECONNREFUSED). Internal: used by the runtime adapters.
 *
 * @example
 * ```ts
 * dialError({ family: 4, host: "127.0.0.1", port: 1 }, new Error("x"), true).message;
 * // "connection refused by 127.0.0.1:1"
 * ```
 */
export function dialError(target: TcpEndpoint, error: unknown, refused: boolean): TcpDialError {
  const code = osErrorCode(error);
  const where = target.family === 6
    ? `[${target.host}]:${target.port}`
    : `${target.host}:${target.port}`;
  const what = refused || code === "ECONNREFUSED"
    ? "connection refused by"
    : "could not connect to";
  return new TcpDialError(`${what} ${where}`, code ?? (error as Error)?.name, { cause: error });
}
