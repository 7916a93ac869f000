/**
 * Deno dialer: QUIC with `serverCertificateHashes`, then the HTTP/3 extended CONNECT of
 * WebTransport written by us (h3.ts) over raw QUIC streams, so that libp2p streams keep working
 * FIN semantics (see deno.ts for why Deno's own `WebTransport` client is not used).
 *
 * @module
 */

import { DecodeError, HandshakeError, LimitExceededError } from "../../src/errors.ts";
import { authority, type WebTransportTarget } from "./address.ts";
import {
  ALPN_H3,
  H3_FRAME_HEADERS,
  H3_FRAME_SETTINGS,
  H3_STREAM_CONTROL,
  MAX_H3_FRAME_BYTES,
  WEBTRANSPORT_PATH,
  WEBTRANSPORT_QUERY,
} from "./constants.ts";
import { type DenoQuicApi, DenoRawSession } from "./deno.ts";
import { withSignal } from "./signal.ts";
import {
  decodeH3Frame,
  decodeQuicVarint,
  decodeResponseStatus,
  decodeSettings,
  encodeBidiStreamHeader,
  encodeClientControlStream,
  encodeConnectRequest,
  settingsSupportWebTransport,
} from "./h3.ts";

/** Options of one Deno dial. */
export interface DenoDialOptions {
  /** QUIC idle timeout, ms. */
  idleTimeoutMs: number;
  /** Most concurrent streams the remote may open. */
  maxIncomingStreams: number;
  /** Aborts the dial. */
  signal?: AbortSignal;
}

/** Reads HTTP/3 frames from a stream, bounded by MAX_H3_FRAME_BYTES. */
class FrameReader {
  #reader: ReadableStreamDefaultReader<Uint8Array>;
  #buf = new Uint8Array(0);

  constructor(reader: ReadableStreamDefaultReader<Uint8Array>) {
    this.#reader = reader;
  }

  async #more(): Promise<void> {
    const { value, done } = await this.#reader.read();
    if (done) throw new HandshakeError("HTTP/3 stream ended early");
    if (this.#buf.byteLength + value.byteLength > MAX_H3_FRAME_BYTES + 16) {
      throw new LimitExceededError("HTTP/3 frame too large", "MAX_H3_FRAME_BYTES");
    }
    const next = new Uint8Array(this.#buf.byteLength + value.byteLength);
    next.set(this.#buf);
    next.set(value, this.#buf.byteLength);
    this.#buf = next;
  }

  async varint(): Promise<number> {
    for (;;) {
      const v = decodeQuicVarint(this.#buf, 0);
      if (v !== undefined) {
        this.#buf = this.#buf.subarray(v.length);
        return v.value;
      }
      await this.#more();
    }
  }

  async frame(): Promise<{ type: number; payload: Uint8Array }> {
    for (;;) {
      const f = decodeH3Frame(this.#buf, 0);
      if (f !== undefined) {
        this.#buf = this.#buf.subarray(f.length);
        return { type: f.type, payload: f.payload };
      }
      await this.#more();
    }
  }
}

/** Accept the server's unidirectional streams; resolve with its SETTINGS once they arrive. */
function serverSettings(conn: Deno.QuicConn, keep: unknown[]): Promise<Map<number, number>> {
  const reader = conn.incomingUnidirectionalStreams.getReader();
  keep.push(reader);
  return new Promise((resolve, reject) => {
    (async () => {
      for (;;) {
        const { value: stream, done } = await reader.read();
        if (done) {
          reject(new HandshakeError("the server sent no HTTP/3 SETTINGS"));
          return;
        }
        // Critical streams (control, QPACK) must stay open: keep them referenced.
        keep.push(stream);
        const frames = new FrameReader(stream.getReader());
        const type = await frames.varint().catch(() => -1);
        if (type !== H3_STREAM_CONTROL) continue;
        const first = await frames.frame();
        if (first.type !== H3_FRAME_SETTINGS) {
          reject(new HandshakeError("the HTTP/3 control stream does not start with SETTINGS"));
          return;
        }
        resolve(decodeSettings(first.payload));
        // Later control frames (GOAWAY, ...) are read and dropped.
        for (;;) await frames.frame();
      }
    })().catch(reject);
  });
}

/**
 * Connect to `target` and establish the WebTransport session (QUIC, SETTINGS, CONNECT).
 *
 * @example
 * ```ts
 * import { parseWebTransportAddr } from "@p2p-edge/libp2p/transports/webtransport";
 * import { denoQuic } from "./deno.ts";
 * import { dialDeno } from "./deno_dial.ts";
 * import { multiaddr } from "@p2p-edge/libp2p/multiaddr";
 * const target = parseWebTransportAddr(multiaddr("/ip4/127.0.0.1/udp/4433/quic-v1/webtransport"))!;
 * const session = await dialDeno(denoQuic()!, target, { idleTimeoutMs: 30_000, maxIncomingStreams: 256 });
 * session.close();
 * ```
 */
export async function dialDeno(
  api: DenoQuicApi,
  target: WebTransportTarget,
  options: DenoDialOptions,
): Promise<DenoRawSession> {
  const connectOptions = {
    hostname: target.host,
    port: target.port,
    alpnProtocols: [ALPN_H3],
    maxIdleTimeout: options.idleTimeoutMs,
    keepAliveInterval: Math.floor(options.idleTimeoutMs / 3),
    maxConcurrentBidirectionalStreams: options.maxIncomingStreams,
    // Not in Deno's type declarations but honoured by connectQuic (2.9.6): pins the
    // certificate by its SHA-256 instead of WebPKI verification.
    ...(target.certhashes.length > 0
      ? {
        serverCertificateHashes: target.certhashes.map((h) => ({
          algorithm: "sha-256",
          value: h.digest.slice(),
        })),
      }
      : {}),
  } as Deno.ConnectQuicOptions<false>;
  const conn = await withSignal(
    api.connectQuic(connectOptions),
    options.signal,
    (late) => late.close({ closeCode: 0, reason: "" }),
  );
  const keep: unknown[] = [];
  try {
    const control = await conn.createUnidirectionalStream();
    const controlWriter = control.getWriter();
    keep.push(controlWriter);
    await controlWriter.write(encodeClientControlStream());
    // RFC 9220 §3: extended CONNECT only after the server's SETTINGS allowed it.
    const settings = await withSignal(serverSettings(conn, keep), options.signal, () => {});
    if (!settingsSupportWebTransport(settings)) {
      throw new HandshakeError("the server does not support WebTransport");
    }
    const connect = await conn.createBidirectionalStream();
    const sessionId = Number(connect.writable.id);
    const connectWriter = connect.writable.getWriter();
    keep.push(connectWriter);
    await connectWriter.write(
      encodeConnectRequest(authority(target), WEBTRANSPORT_PATH + WEBTRANSPORT_QUERY),
    );
    const response = new FrameReader(connect.readable.getReader());
    const frame = await withSignal(response.frame(), options.signal, () => {});
    if (frame.type !== H3_FRAME_HEADERS) {
      throw new DecodeError(`CONNECT answered with frame type ${frame.type}`);
    }
    const status = decodeResponseStatus(frame.payload);
    if (status < 200 || status > 299) {
      throw new HandshakeError(`the server answered the WebTransport CONNECT with ${status}`);
    }
    const session = new DenoRawSession(
      conn,
      sessionId,
      encodeBidiStreamHeader,
      options.maxIncomingStreams,
    );
    session.keepAlive.push(...keep, response);
    // The session ends when the CONNECT stream ends (draft-ietf-webtrans-http3 §6).
    (async () => {
      for (;;) await response.frame();
    })().catch(() => session.close(0, "CONNECT stream ended"));
    return session;
  } catch (err) {
    try {
      conn.close({ closeCode: 0x010c, reason: "" }); // H3_REQUEST_CANCELLED
    } catch { /* already closed */ }
    throw err;
  }
}
