/**
 * Deno listener: a QUIC endpoint serving the current self-signed certificate, HTTP/3 +
 * WebTransport accepted by `Deno.upgradeWebTransport`, libp2p endpoint checked, then the
 * connection handed to the node, which runs the Noise handshake through `selfUpgrade`.
 * Certificates rotate on the {@link CertificateManager} schedule by re-listening on the same
 * endpoint (existing connections keep their certificate).
 *
 * @module
 */

import { clampDelay } from "../../src/abort.ts";
import { dialableHosts } from "../../src/runtime.ts";
import { Libp2pError } from "../../src/errors.ts";
import type { Multiaddr } from "../../src/multiaddr/mod.ts";
import { multiaddr } from "../../src/multiaddr/mod.ts";
import type { Listener, ListenerInit, RawConnection } from "../../src/transport.ts";
import { parseWebTransportAddr, webTransportAddr } from "./address.ts";
import type { CertificateManager, CertificateSet } from "./certificates.ts";
import { ALPN_H3, WEBTRANSPORT_PATH } from "./constants.ts";
import { type DenoQuicApi, DenoRawSession } from "./deno.ts";
import { encodeBidiStreamHeader } from "./h3.ts";
import { upgradeSession } from "./handshake.ts";
import { quicAddr, selfUpgradingConnection } from "./raw.ts";

/** Options of the Deno listener. */
export interface DenoListenerOptions {
  /** The certificate source (shared schedule, injected clock in tests). */
  certificates: CertificateManager;
  /** QUIC idle timeout, ms. */
  idleTimeoutMs: number;
  /** Most concurrent streams a client may open. */
  maxIncomingStreams: number;
  /** Most connections in the QUIC/HTTP/3 stage at once; more are refused. */
  maxPendingSessions: number;
  /** Deadline of the QUIC + HTTP/3 stage, ms. */
  sessionTimeoutMs: number;
}

/**
 * A WebTransport listener on Deno. Prefer `webTransport().createListener()`.
 *
 * @example
 * ```ts
 * import { webTransport } from "@p2p-edge/libp2p/transports/webtransport";
 * import { multiaddr } from "@p2p-edge/libp2p/multiaddr";
 * const listener = webTransport().createListener({ onConnection: (c) => c.abort() });
 * await listener.listen(multiaddr("/ip4/127.0.0.1/udp/0/quic-v1/webtransport"));
 * await listener.close();
 * ```
 */
export class DenoWebTransportListener implements Listener {
  readonly #api: DenoQuicApi;
  readonly #init: ListenerInit;
  readonly #options: DenoListenerOptions;
  #endpoint: Deno.QuicEndpoint | undefined;
  #listener: Deno.QuicListener | undefined;
  /** Replaced listeners stay referenced: collecting one clears the endpoint's config. */
  readonly #retired: Deno.QuicListener[] = [];
  #certs: CertificateSet | undefined;
  #host = "";
  #timer: ReturnType<typeof setTimeout> | undefined;
  #pending = 0;
  #open = new Set<DenoRawSession>();
  #closed = false;

  /** Prefer `webTransport().createListener()`. */
  constructor(api: DenoQuicApi, init: ListenerInit, options: DenoListenerOptions) {
    this.#api = api;
    this.#init = init;
    this.#options = options;
  }

  async listen(addr: Multiaddr): Promise<void> {
    if (this.#endpoint !== undefined) throw new TypeError("this listener is already listening");
    const target = parseWebTransportAddr(addr);
    if (target === undefined || target.family === "dns" || target.certhashes.length > 0) {
      throw new TypeError(`cannot listen on ${addr.toString()}`);
    }
    this.#certs = await this.#options.certificates.update();
    this.#endpoint = new this.#api.QuicEndpoint({ hostname: target.host, port: target.port });
    this.#host = target.host;
    this.#listen();
    this.#accept(this.#listener!);
    this.#schedule();
  }

  getAddrs(): Multiaddr[] {
    if (this.#endpoint === undefined || this.#certs === undefined || this.#closed) return [];
    // A wildcard bind is reported as the interface addresses it is reachable at, as TCP and
    // WebSocket listeners do.
    const port = this.#endpoint.addr.port;
    const hashes = this.#certs.advertised;
    return dialableHosts(this.#host).map((h) => webTransportAddr(h, port, hashes));
  }

  close(): Promise<void> {
    if (this.#closed) return Promise.resolve();
    this.#closed = true;
    clearTimeout(this.#timer);
    try {
      this.#listener?.stop();
    } catch { /* already stopped */ }
    this.#maybeCloseEndpoint();
    return Promise.resolve();
  }

  #listen(): void {
    const certs = this.#certs!;
    if (this.#listener !== undefined) this.#retired.push(this.#listener);
    this.#listener = this.#endpoint!.listen({
      cert: certs.current.certPem,
      key: certs.current.keyPem,
      alpnProtocols: [ALPN_H3],
      maxIdleTimeout: this.#options.idleTimeoutMs,
      keepAliveInterval: Math.floor(this.#options.idleTimeoutMs / 3),
      maxConcurrentBidirectionalStreams: this.#options.maxIncomingStreams,
      maxConcurrentUnidirectionalStreams: 8,
    });
  }

  #schedule(): void {
    if (this.#closed) return;
    const delay = clampDelay(Math.max(1000, this.#certs!.changesAt - Date.now()));
    this.#timer = setTimeout(async () => {
      try {
        this.#certs = await this.#options.certificates.update();
        if (!this.#closed) this.#listen();
      } catch (err) {
        this.#init.onError?.(err instanceof Error ? err : new Libp2pError(String(err)));
      }
      this.#schedule();
    }, delay);
    // A rotation timer must not keep the process alive on its own.
    (this.#timer as unknown as { unref?: () => void }).unref?.();
    Deno.unrefTimer(this.#timer as unknown as number);
  }

  async #accept(listener: Deno.QuicListener): Promise<void> {
    // One loop for the endpoint: re-listening replaces the config, the loop keeps accepting.
    for (;;) {
      let incoming: Deno.QuicIncoming;
      try {
        incoming = await listener.incoming();
      } catch {
        return;
      }
      if (this.#closed || this.#pending >= this.#options.maxPendingSessions) {
        incoming.refuse();
        continue;
      }
      this.#pending++;
      this.#session(incoming).finally(() => this.#pending--);
    }
  }

  async #session(incoming: Deno.QuicIncoming): Promise<void> {
    let conn: Deno.QuicConn | undefined;
    const timer = setTimeout(() => {
      try {
        conn?.close({ closeCode: 0x0100, reason: "timeout" }); // H3_NO_ERROR-range: give up
      } catch { /* closed */ }
    }, this.#options.sessionTimeoutMs);
    try {
      // Never read incoming.remoteAddr: in Deno 2.9.6 that consumes the incoming connection.
      conn = await incoming.accept();
      const wt = await this.#api.upgradeWebTransport(conn);
      const url = new URL(wt.url);
      if (url.pathname !== WEBTRANSPORT_PATH || url.searchParams.get("type") !== "noise") {
        // Deno already answered 200: the best we can do is close (spec endpoint mismatch).
        conn.close({ closeCode: 0x0101, reason: "not the libp2p endpoint" });
        return;
      }
      if (this.#closed) {
        conn.close({ closeCode: 0, reason: "listener closed" });
        return;
      }
      const session = new DenoRawSession(
        conn,
        undefined,
        encodeBidiStreamHeader,
        this.#options.maxIncomingStreams,
      );
      session.keepAlive.push(wt);
      this.#open.add(session);
      session.closed.then(() => {
        this.#open.delete(session);
        this.#maybeCloseEndpoint();
      });
      const remote = conn.remoteAddr;
      const local = this.getAddrs()[0];
      const accepted = this.#certs!.accepted.map((h) => h.bytes);
      const raw: RawConnection = selfUpgradingConnection({
        session,
        remoteAddr: multiaddr(quicAddr(remote.hostname, remote.port)),
        localAddr: local,
        upgrade: (options) =>
          upgradeSession(session, {
            ...options,
            serverCerthashes: accepted,
            maxStreams: this.#options.maxIncomingStreams,
          }),
      });
      this.#init.onConnection(raw);
    } catch (err) {
      try {
        conn?.close({ closeCode: 0x0101, reason: "" });
      } catch { /* closed */ }
      // A client that fails QUIC or HTTP/3 is not a listener failure: nothing to report.
      void err;
    } finally {
      clearTimeout(timer);
    }
  }

  #maybeCloseEndpoint(): void {
    if (this.#closed && this.#open.size === 0 && this.#endpoint !== undefined) {
      try {
        this.#endpoint.close();
      } catch { /* closed */ }
      this.#endpoint = undefined;
      this.#retired.length = 0;
    }
  }
}
