/**
 * WebTransport transport (libp2p/specs webtransport/README.md): listener on Deno, dialer on
 * Deno and on the standard `WebTransport` API.
 *
 * Addresses: `/ip4|ip6/<h>/udp/<p>/quic-v1/webtransport/certhash/<mh>[/certhash/<mh>][/p2p/<id>]`.
 * Connections secure and multiplex themselves (`RawConnection.selfUpgrade`): Noise XX on the
 * first stream the client opens, the server's certhashes in the Noise extension, then every
 * libp2p stream is a native WebTransport bidirectional stream (the "muxer" is WebTransport).
 *
 * What the runtimes offer (probed on Deno 2.9.6 and Bun 1.4.5):
 * - Deno with `--unstable-net`: `Deno.QuicEndpoint`, `QuicListener`, `QuicIncoming`,
 *   `QuicConn`, `Deno.connectQuic` (also takes an undocumented `serverCertificateHashes`),
 *   `Deno.upgradeWebTransport(conn)` (server side: SETTINGS + CONNECT, answers 200 for any
 *   path, returns a `WebTransport` with `url`) and a global `WebTransport` client. Without the
 *   flag none of these exist (`typeof WebTransport === "undefined"`).
 * - Deno 2.9.6 bugs worked around (see deno.ts): `WebTransportSendStream.close()` sends no
 *   FIN; reading `QuicIncoming.remoteAddr` consumes the incoming connection; a collected
 *   `QuicListener` clears the endpoint's server config. Not fixable from user code: a raw QUIC
 *   send stream cannot send RESET_STREAM (abort = FIN), so a local reset reaches the remote
 *   reader as EOF (the remote writer does see STOP_SENDING).
 * - Bun 1.4.5: no `WebTransport`, no QUIC API (only `Bun.udpSocket`): listening and dialling
 *   throw {@link WebTransportUnavailableError}.
 *
 * @example
 * ```ts
 * import { webTransport } from "@p2p-edge/libp2p/transports/webtransport";
 * import { multiaddr } from "@p2p-edge/libp2p/multiaddr";
 * const transport = webTransport();
 * const listener = transport.createListener({ onConnection: (c) => c.abort() });
 * await listener.listen(multiaddr("/ip4/127.0.0.1/udp/0/quic-v1/webtransport"));
 * console.log(listener.getAddrs()[0].toString()); // .../webtransport/certhash/uEi...
 * await listener.close();
 * ```
 *
 * @module
 */

import type { Multiaddr } from "../../src/multiaddr/mod.ts";
import type { AbortOptions } from "../../src/stream/types.ts";
import type { Listener, ListenerInit, RawConnection, Transport } from "../../src/transport.ts";
import { parseWebTransportAddr } from "./address.ts";
import { CertificateManager, type CertificateScheduleOptions } from "./certificates.ts";
import {
  DEFAULT_DIAL_TIMEOUT_MS,
  DEFAULT_IDLE_TIMEOUT_MS,
  DEFAULT_MAX_INCOMING_STREAMS,
} from "./constants.ts";
import { WebTransportUnavailableError } from "./errors.ts";
import { upgradeSession } from "./handshake.ts";
import { quicAddr, selfUpgradingConnection } from "./raw.ts";
import type { NativeSession } from "./session.ts";
import { dialWebApi } from "./web.ts";
import { multiaddr } from "../../src/multiaddr/mod.ts";
import { deadlineSignal } from "../../src/abort.ts";
import { hasDenoQuic } from "../../src/runtime.ts";

export {
  CertificateManager,
  type CertificatePlan,
  type CertificateSchedule,
  type CertificateScheduleOptions,
  type CertificateSet,
  type CertificateWindow,
} from "./certificates.ts";
export { CerthashMismatchError } from "./handshake.ts";
export type { WebTransportCertificate } from "./cert.ts";
export { WebTransportUnavailableError } from "./errors.ts";

/** Options of {@link webTransport}. */
export interface WebTransportOptions extends CertificateScheduleOptions {
  /**
   * Dialler: "auto" (Deno raw QUIC where available, else the global `WebTransport`), "quic"
   * (Deno raw QUIC only) or "web" (the global `WebTransport` only). Default "auto".
   */
  client?: "auto" | "quic" | "web";
  /** Certificate source; default one manager per transport on the real clock. */
  certificates?: CertificateManager;
  /** Clock of the default certificate manager (tests). */
  now?: () => number;
  /** QUIC idle timeout, ms (default 30 s; keep-alives every third of it). */
  idleTimeoutMs?: number;
  /** Most concurrent streams the remote may open per session (default 256). */
  maxIncomingStreams?: number;
  /** Most inbound sessions in the QUIC/HTTP/3 stage at once (default 64). */
  maxPendingSessions?: number;
  /** Deadline of the QUIC + HTTP/3 stage of a dial or accept, ms (default 10 s). */
  sessionTimeoutMs?: number;
}

const UNAVAILABLE = "WebTransport is not available on this runtime" +
  " (Deno needs --unstable-net; Bun has no WebTransport or QUIC API)";

/** A listener whose runtime adapter is loaded when it first listens. */
class LazyListener implements Listener {
  readonly #load: () => Promise<Listener>;
  #loading: Promise<Listener> | undefined;
  #listener: Listener | undefined;
  #closed = false;

  constructor(load: () => Promise<Listener>) {
    this.#load = load;
  }

  async listen(addr: Multiaddr): Promise<void> {
    if (this.#closed) throw new TypeError("this WebTransport listener is closed");
    this.#loading ??= this.#load().then((listener) => (this.#listener = listener));
    await (await this.#loading).listen(addr);
  }

  getAddrs(): Multiaddr[] {
    return this.#listener?.getAddrs() ?? [];
  }

  async close(): Promise<void> {
    this.#closed = true;
    if (this.#loading === undefined) return;
    await (await this.#loading).close();
  }
}

class WebTransportTransport implements Transport {
  readonly name = "webtransport";
  readonly #options: WebTransportOptions;
  #certificates: CertificateManager | undefined;

  constructor(options: WebTransportOptions) {
    for (
      const key of [
        "idleTimeoutMs",
        "maxIncomingStreams",
        "maxPendingSessions",
        "sessionTimeoutMs",
      ] as const
    ) {
      const v = options[key];
      if (v !== undefined && (!Number.isInteger(v) || v < 1)) {
        throw new RangeError(`webTransport(): ${key} must be a positive integer`);
      }
    }
    this.#options = options;
    this.#certificates = options.certificates;
  }

  get #idle(): number {
    return this.#options.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS;
  }

  get #maxStreams(): number {
    return this.#options.maxIncomingStreams ?? DEFAULT_MAX_INCOMING_STREAMS;
  }

  async dial(addr: Multiaddr, options?: AbortOptions): Promise<RawConnection> {
    const target = parseWebTransportAddr(addr);
    if (target === undefined) throw new TypeError(`not a WebTransport address: ${addr.toString()}`);
    options?.signal?.throwIfAborted();
    const client = this.#options.client ?? "auto";
    const quic = hasDenoQuic();
    const hasWeb = typeof (globalThis as { WebTransport?: unknown }).WebTransport === "function";
    const deadline = deadlineSignal(
      this.#options.sessionTimeoutMs ?? DEFAULT_DIAL_TIMEOUT_MS,
      options?.signal,
      "WebTransport dial",
    );
    let session: NativeSession;
    try {
      if (quic && client !== "web") {
        // The Deno adapter is loaded only where Deno's QUIC API exists (tools/check_web.ts).
        const [{ denoQuic }, { dialDeno }] = await Promise.all([
          import("./deno.ts"),
          import("./deno_dial.ts"),
        ]);
        session = await dialDeno(denoQuic()!, target, {
          idleTimeoutMs: this.#idle,
          maxIncomingStreams: this.#maxStreams,
          signal: deadline.signal,
        });
      } else if (hasWeb && client !== "quic") {
        session = await dialWebApi(target, deadline.signal);
      } else {
        throw new WebTransportUnavailableError(UNAVAILABLE);
      }
    } finally {
      deadline.clear();
    }
    const dialled = target.certhashes.map((h) => h.bytes);
    return selfUpgradingConnection({
      session,
      remoteAddr: multiaddr(
        target.family === "dns"
          ? `/dns/${target.host}/udp/${target.port}/quic-v1/webtransport`
          : quicAddr(target.host, target.port),
      ),
      upgrade: (o) =>
        upgradeSession(session, { ...o, dialledCerthashes: dialled, maxStreams: this.#maxStreams }),
    });
  }

  createListener(init: ListenerInit): Listener {
    if (!hasDenoQuic()) {
      return {
        listen: () => Promise.reject(new WebTransportUnavailableError(UNAVAILABLE)),
        getAddrs: () => [],
        close: () => Promise.resolve(),
      };
    }
    this.#certificates ??= new CertificateManager({ ...this.#options, now: this.#options.now });
    const options = {
      certificates: this.#certificates,
      idleTimeoutMs: this.#idle,
      maxIncomingStreams: this.#maxStreams,
      maxPendingSessions: this.#options.maxPendingSessions ?? 64,
      sessionTimeoutMs: this.#options.sessionTimeoutMs ?? DEFAULT_DIAL_TIMEOUT_MS,
    };
    // The Deno adapter is loaded on first listen (tools/check_web.ts).
    return new LazyListener(async () => {
      const [{ denoQuic }, { DenoWebTransportListener }] = await Promise.all([
        import("./deno.ts"),
        import("./deno_listener.ts"),
      ]);
      return new DenoWebTransportListener(denoQuic()!, init, options);
    });
  }

  listenFilter(addrs: readonly Multiaddr[]): Multiaddr[] {
    return addrs.filter((a) => {
      const t = parseWebTransportAddr(a);
      return t !== undefined && t.family !== "dns" && t.certhashes.length === 0 &&
        t.peerId === undefined;
    });
  }

  dialFilter(addrs: readonly Multiaddr[]): Multiaddr[] {
    return addrs.filter((a) => parseWebTransportAddr(a) !== undefined);
  }
}

/**
 * Create the WebTransport transport.
 *
 * @example
 * ```ts
 * import { webTransport } from "@p2p-edge/libp2p/transports/webtransport";
 * const transport = webTransport({ maxIncomingStreams: 128 });
 * console.log(transport.name); // "webtransport"
 * ```
 */
export function webTransport(options: WebTransportOptions = {}): Transport {
  return new WebTransportTransport(options);
}
