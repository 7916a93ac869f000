/**
 * Dialer on the standard W3C `WebTransport` API (browsers; also Deno's client, see below), with
 * `serverCertificateHashes` pinning the listener's self-signed certificates.
 *
 * Deno 2.9.6's `WebTransport` client never sends a FIN when a send stream is closed, so libp2p
 * half-close does not work through it; the transport therefore prefers the raw-QUIC dialer on
 * Deno and uses this one where the runtime's WebTransport behaves (browsers).
 *
 * @module
 */

import { HandshakeError } from "../../src/errors.ts";
import { type WebTransportTarget, webTransportUrl } from "./address.ts";
import { withSignal } from "./signal.ts";
import type { NativeBidiStream, NativeSession } from "./session.ts";

/**
 * A NativeSession over a standard `WebTransport` object.
 *
 * @example
 * ```ts
 * import { WebApiSession } from "@p2p-edge/libp2p/transports/webtransport";
 * declare const wt: WebTransport;
 * const session = new WebApiSession(wt);
 * session.close();
 * ```
 */
export class WebApiSession implements NativeSession {
  readonly closed: Promise<void>;
  readonly #wt: WebTransport;
  #incoming: ReadableStreamDefaultReader<WebTransportBidirectionalStream> | undefined;

  /** Wrap a ready `WebTransport`. */
  constructor(wt: WebTransport) {
    this.#wt = wt;
    this.closed = wt.closed.then(() => {}, () => {});
  }

  async openBidi(): Promise<NativeBidiStream> {
    const s = await this.#wt.createBidirectionalStream();
    return { readable: s.readable, writable: s.writable };
  }

  async acceptBidi(): Promise<NativeBidiStream | undefined> {
    this.#incoming ??= this.#wt.incomingBidirectionalStreams.getReader();
    try {
      const { value, done } = await this.#incoming.read();
      if (done) return undefined;
      return { readable: value.readable, writable: value.writable };
    } catch {
      return undefined;
    }
  }

  close(code = 0, reason = ""): void {
    try {
      this.#wt.close({ closeCode: code, reason });
    } catch { /* not connected or already closed */ }
  }
}

/**
 * Open a WebTransport session with the global `WebTransport` constructor.
 *
 * @example
 * ```ts
 * import { dialWebApi, parseWebTransportAddr } from "@p2p-edge/libp2p/transports/webtransport";
 * import { multiaddr } from "@p2p-edge/libp2p/multiaddr";
 * const target = parseWebTransportAddr(multiaddr("/ip4/127.0.0.1/udp/4433/quic-v1/webtransport"))!;
 * const session = await dialWebApi(target);
 * session.close();
 * ```
 */
export async function dialWebApi(
  target: WebTransportTarget,
  signal?: AbortSignal,
): Promise<WebApiSession> {
  const options: WebTransportOptions = {};
  if (target.certhashes.length > 0) {
    options.serverCertificateHashes = target.certhashes.map((h) => ({
      algorithm: "sha-256",
      value: h.digest.slice(),
    }));
  }
  const wt = new WebTransport(webTransportUrl(target), options);
  try {
    await withSignal(wt.ready, signal, () => {});
  } catch (cause) {
    try {
      wt.close();
    } catch { /* never connected */ }
    if (signal?.aborted) throw cause;
    throw new HandshakeError("WebTransport session failed", { cause });
  }
  return new WebApiSession(wt);
}
