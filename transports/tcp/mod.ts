/**
 * TCP transport for Deno (`Deno.connect` / `Deno.listen`) and Bun (`Bun.connect` /
 * `Bun.listen`), picked by feature detection. Addresses: `/ip4|ip6|dns|dns4|dns6/<host>/tcp/<port>`,
 * plus a trailing `/p2p/<id>` when dialling.
 *
 * Each connection's bytes are one byte channel on the socket (`conn.channel`), with real
 * backpressure both ways (a reader that stops reading stops the sender through TCP flow control;
 * writes wait for the socket), half-close (`closeWrite()` sends FIN and reading goes on),
 * TCP_NODELAY and keep-alive on by default. `readable`/`writable` web streams are built on the
 * channel on first access. One core serves both runtimes (channel.ts, connection.ts, the listener
 * below); deno.ts and bun.ts supply only the socket primitives (backend.ts) and are loaded by
 * dynamic import on their runtime.
 *
 * @example
 * ```ts
 * import { tcp } from "@p2p-edge/libp2p/transports/tcp";
 * import { multiaddr } from "@p2p-edge/libp2p";
 * const transport = tcp({ connectTimeoutMs: 5_000 });
 * const listener = transport.createListener({
 *   onConnection: (conn) => void conn.readable.pipeTo(conn.writable), // echo
 * });
 * await listener.listen(multiaddr("/ip4/127.0.0.1/tcp/0"));
 * const addr = listener.getAddrs()[0]; // e.g. /ip4/127.0.0.1/tcp/40211
 * const conn = await transport.dial(addr);
 * await conn.close();
 * await listener.close();
 * ```
 *
 * @module
 */

import { abortReason, deadlineSignal } from "../../src/abort.ts";
import type { Multiaddr } from "../../src/multiaddr/mod.ts";
import { isBun, isDeno, runtimeInfo } from "../../src/runtime.ts";
import type { AbortOptions } from "../../src/stream/types.ts";
import type { Listener, ListenerInit, RawConnection, Transport } from "../../src/transport.ts";
import { boundAddrs, LocalAddrMemo, tcpEndpoint } from "./address.ts";
import type { TcpPeer, TcpRuntime, TcpServer, TcpSocket, TcpSocketEvents } from "./backend.ts";
import { TcpChannel } from "./channel.ts";
import { TcpConnection } from "./connection.ts";
import { TcpListenError, TcpUnsupportedError } from "./errors.ts";
import { type ResolvedTcpOptions, resolveTcpOptions, type TcpOptions } from "./options.ts";

export { TcpDialError, TcpListenError, TcpUnsupportedError } from "./errors.ts";
export type { TcpOptions } from "./options.ts";

/**
 * The runtime's adapter, loaded by dynamic import behind feature detection: a web-only file never
 * imports an adapter statically (tools/check_web.ts), so bundles for other runtimes leave it out.
 * Throws TcpUnsupportedError at once on a runtime without TCP sockets.
 */
function loadRuntime(): Promise<TcpRuntime> {
  let loading: Promise<TcpRuntime>;
  if (isDeno()) loading = import("./deno.ts").then((m) => m.denoTcp);
  else if (isBun()) loading = import("./bun.ts").then((m) => m.bunTcp);
  else throw unsupported();
  loading.catch(() => {}); // reported by the first dial or listen that awaits it
  return loading;
}

function unsupported(): TcpUnsupportedError {
  const { name, version } = runtimeInfo();
  return new TcpUnsupportedError(
    `the TCP transport needs Deno or Bun; this runtime is ${name}${version ? " " + version : ""}` +
      " (use the WebSocket or WebTransport transport here)",
  );
}

/**
 * A listener, once for every runtime: the adapter binds and accepts; this counts the open
 * connections against `maxConnections` (a socket over the cap is reset before anyone sees it),
 * builds each connection and hands it to the owner.
 */
class TcpListener implements Listener {
  readonly #runtime: Promise<TcpRuntime>;
  readonly #options: ResolvedTcpOptions;
  readonly #init: ListenerInit;
  #server: TcpServer | undefined;
  #starting = false;
  #closed = false;
  #active = 0;
  #addrs: Multiaddr[] = [];
  /** The local Multiaddr its accepted connections share. */
  readonly #local = new LocalAddrMemo();
  readonly #onRelease = (): void => {
    this.#active--;
  };

  constructor(runtime: Promise<TcpRuntime>, options: ResolvedTcpOptions, init: ListenerInit) {
    this.#runtime = runtime;
    this.#options = options;
    this.#init = init;
  }

  async listen(addr: Multiaddr): Promise<void> {
    const bind = tcpEndpoint(addr, false);
    if (bind === undefined) throw new TypeError(`not a TCP listen address: ${addr.toString()}`);
    if (this.#server !== undefined || this.#starting) {
      throw new TcpListenError("this TCP listener is already listening");
    }
    this.#starting = true;
    this.#closed = false;
    try {
      const init = this.#init;
      this.#server = await (await this.#runtime).listen(bind, {
        accept: (socket, peer) => this.#accept(socket, peer),
        onError: (error) => init.onError?.(error),
      });
      this.#addrs = boundAddrs(this.#server.host, this.#server.port);
    } finally {
      this.#starting = false;
    }
  }

  #accept(socket: TcpSocket, peer: TcpPeer): TcpSocketEvents | undefined {
    if (this.#closed || this.#active >= this.#options.maxConnections) {
      socket.reset(); // maxConnections: over the cap, closed before anyone sees it
      return undefined;
    }
    this.#active++;
    const channel = new TcpChannel(this.#options, this.#onRelease);
    channel.attach(socket);
    let conn: TcpConnection;
    try {
      conn = new TcpConnection(channel, peer, this.#local);
    } catch (error) {
      channel.abort(error);
      this.#init.onError?.(
        new TcpListenError("could not set up a TCP connection", { cause: error }),
      );
      return undefined;
    }
    try {
      this.#init.onConnection(conn);
    } catch (error) {
      conn.abort(error);
    }
    return channel;
  }

  getAddrs(): Multiaddr[] {
    return [...this.#addrs];
  }

  async close(): Promise<void> {
    const server = this.#server;
    this.#server = undefined;
    this.#closed = true;
    this.#addrs = [];
    await server?.close();
  }
}

/**
 * Create a TCP transport on the current runtime (Deno or Bun). Throws
 * {@link TcpUnsupportedError} elsewhere, TypeError/RangeError for invalid options.
 *
 * Dials reject with a `TcpDialError` (cause chained; `osCode` e.g. "ECONNREFUSED") when the
 * connection cannot be opened, a TimeoutError after `connectTimeoutMs`, and the signal's reason
 * (or an AbortError) when `options.signal` aborts.
 *
 * @example
 * ```ts
 * import { tcp } from "@p2p-edge/libp2p/transports/tcp";
 * import { multiaddr } from "@p2p-edge/libp2p";
 * const transport = tcp({ noDelay: true, maxConnections: 1024 });
 * transport.dialFilter([multiaddr("/ip4/127.0.0.1/tcp/4001/ws")]).length; // 0: that is WebSocket
 * ```
 */
export function tcp(options: TcpOptions = {}): Transport {
  const resolved = resolveTcpOptions(options);
  const runtime = loadRuntime();
  return {
    name: "tcp",
    async dial(addr: Multiaddr, dialOptions?: AbortOptions): Promise<RawConnection> {
      const signal = dialOptions?.signal;
      if (signal?.aborted) throw abortReason(signal);
      const target = tcpEndpoint(addr, true);
      if (target === undefined) throw new TypeError(`not a TCP dial address: ${addr.toString()}`);
      const deadline = deadlineSignal(resolved.connectTimeoutMs, signal, "TCP connect");
      const channel = new TcpChannel(resolved);
      try {
        const peer = await (await runtime).connect(target, deadline.signal, channel);
        return new TcpConnection(channel, peer);
      } finally {
        deadline.clear();
      }
    },
    createListener(init: ListenerInit): Listener {
      return new TcpListener(runtime, resolved, init);
    },
    listenFilter(addrs: readonly Multiaddr[]): Multiaddr[] {
      return addrs.filter((a) => tcpEndpoint(a, false) !== undefined);
    },
    dialFilter(addrs: readonly Multiaddr[]): Multiaddr[] {
      return addrs.filter((a) => tcpEndpoint(a, true) !== undefined);
    },
  };
}
