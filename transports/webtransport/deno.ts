/**
 * Deno adapter: listener on `Deno.QuicEndpoint` + `Deno.upgradeWebTransport`, dialer on
 * `Deno.connectQuic` with `serverCertificateHashes` and our own HTTP/3 CONNECT (h3.ts).
 * These APIs need `--unstable-net` (or `"unstable": ["net"]` in deno.json).
 *
 * Streams are raw QUIC streams with the WebTransport stream header handled here, not Deno's
 * `WebTransport` stream wrappers: in Deno 2.9.6 closing a `WebTransportSendStream` never sends a
 * FIN (its sink's close() is a no-op for the wrapped resource), so libp2p half-close could not
 * work through them. Raw QUIC send streams FIN on close. They cannot send RESET_STREAM: a local
 * reset ends our write side with a FIN (the remote sees EOF) and STOP_SENDING on the read side.
 *
 * Two more Deno 2.9.6 quirks handled here: reading `QuicIncoming.remoteAddr` consumes the
 * incoming connection (a later accept() throws BadResource), and a `QuicListener` object that
 * is garbage-collected clears the endpoint's server config, so replaced listeners are kept.
 *
 * @module
 */

import { hasDenoQuic } from "../../src/runtime.ts";
import { ConnectionClosedError, DecodeError, TimeoutError } from "../../src/errors.ts";
import { decodeBidiStreamHeader } from "./h3.ts";
import type { NativeBidiStream, NativeSession } from "./session.ts";

/** The unstable Deno QUIC API surface this adapter uses. */
export interface DenoQuicApi {
  /** `Deno.QuicEndpoint`. */
  QuicEndpoint: typeof Deno.QuicEndpoint;
  /** `Deno.connectQuic`. */
  connectQuic: typeof Deno.connectQuic;
  /** `Deno.upgradeWebTransport`. */
  upgradeWebTransport: typeof Deno.upgradeWebTransport;
}

/**
 * Deno's QUIC + WebTransport API when this runtime has it (Deno with `--unstable-net`).
 *
 * @example
 * ```ts
 * import { denoQuic } from "./deno.ts";
 * console.log(denoQuic() !== undefined);
 * ```
 */
export function denoQuic(): DenoQuicApi | undefined {
  if (!hasDenoQuic()) return undefined;
  return {
    QuicEndpoint: Deno.QuicEndpoint,
    connectQuic: Deno.connectQuic,
    upgradeWebTransport: Deno.upgradeWebTransport,
  };
}

/** Longest WebTransport stream header we read (two varints: at most 16 bytes). */
const MAX_STREAM_HEADER = 16;
/** Deadline for a remote-opened stream to deliver its header, ms. */
const STREAM_HEADER_TIMEOUT_MS = 10_000;

/** Read the WebTransport header of an incoming raw stream; extra bytes become the prefix. */
async function readStreamHeader(
  stream: Deno.QuicBidirectionalStream,
): Promise<{ sessionId: number; native: NativeBidiStream }> {
  const reader = stream.readable.getReader();
  let buffered = new Uint8Array(0);
  const timer = setTimeout(() => {
    reader.cancel(new TimeoutError("no WebTransport stream header")).catch(() => {});
  }, STREAM_HEADER_TIMEOUT_MS);
  try {
    for (;;) {
      const header = decodeBidiStreamHeader(buffered);
      if (header !== undefined) {
        reader.releaseLock();
        return {
          sessionId: header.sessionId,
          native: {
            readable: stream.readable,
            writable: stream.writable,
            prefix: buffered.slice(header.length),
          },
        };
      }
      if (buffered.byteLength >= MAX_STREAM_HEADER) {
        throw new DecodeError("WebTransport stream header too long");
      }
      const { value, done } = await reader.read();
      if (done) throw new DecodeError("stream ended inside its WebTransport header");
      const next = new Uint8Array(buffered.byteLength + value.byteLength);
      next.set(buffered);
      next.set(value, buffered.byteLength);
      buffered = next;
    }
  } finally {
    clearTimeout(timer);
  }
}

/**
 * A WebTransport session over a raw Deno QUIC connection. `sessionId` is the stream id of the
 * CONNECT stream; the server learns it from the first stream the client opens.
 *
 * @example
 * ```ts
 * import { encodeBidiStreamHeader } from "@p2p-edge/libp2p/transports/webtransport";
 * import { DenoRawSession } from "./deno.ts";
 * declare const conn: Deno.QuicConn;
 * const session = new DenoRawSession(conn, 0, encodeBidiStreamHeader);
 * const stream = await session.openBidi();
 * await stream.writable.close();
 * ```
 */
export class DenoRawSession implements NativeSession {
  readonly closed: Promise<void>;
  readonly #conn: Deno.QuicConn;
  readonly #header: (id: number) => Uint8Array;
  #sessionId: number | undefined;
  #incoming: ReadableStreamDefaultReader<Deno.QuicBidirectionalStream> | undefined;
  readonly #ready: NativeBidiStream[] = [];
  readonly #waiters: ((s: NativeBidiStream | undefined) => void)[] = [];
  #pending = 0;
  #ended = false;
  readonly #maxPending: number;
  /** Objects that must stay referenced while the session lives (CONNECT and control streams). */
  readonly keepAlive: unknown[] = [];

  /** Wrap `conn`; `header` encodes the stream header for a session id. */
  constructor(
    conn: Deno.QuicConn,
    sessionId: number | undefined,
    header: (id: number) => Uint8Array,
    maxPending = 256,
  ) {
    this.#conn = conn;
    this.#sessionId = sessionId;
    this.#header = header;
    this.#maxPending = maxPending;
    this.closed = conn.closed.then(() => {}, () => {}).finally(() => this.#end());
  }

  async openBidi(): Promise<NativeBidiStream> {
    if (this.#sessionId === undefined) {
      throw new ConnectionClosedError("the session id is not known yet");
    }
    const stream = await this.#conn.createBidirectionalStream({ waitUntilAvailable: true });
    const writer = stream.writable.getWriter();
    await writer.write(this.#header(this.#sessionId));
    writer.releaseLock();
    return { readable: stream.readable, writable: stream.writable };
  }

  acceptBidi(): Promise<NativeBidiStream | undefined> {
    const ready = this.#ready.shift();
    if (ready !== undefined) return Promise.resolve(ready);
    if (this.#ended) return Promise.resolve(undefined);
    this.#pump();
    return new Promise((resolve) => this.#waiters.push(resolve));
  }

  close(code = 0, reason = ""): void {
    try {
      this.#conn.close({ closeCode: code, reason });
    } catch { /* already closed */ }
    this.#end();
  }

  #pump(): void {
    if (this.#incoming !== undefined) return;
    this.#incoming = this.#conn.incomingBidirectionalStreams.getReader();
    (async () => {
      for (;;) {
        let result;
        try {
          result = await this.#incoming!.read();
        } catch {
          break;
        }
        if (result.done) break;
        const stream = result.value;
        if (this.#pending + this.#ready.length >= this.#maxPending) {
          stream.writable.abort().catch(() => {});
          stream.readable.cancel().catch(() => {});
          continue;
        }
        this.#pending++;
        // Each stream's header is read on its own: a silent stream blocks nobody.
        readStreamHeader(stream).then(({ sessionId, native }) => {
          this.#sessionId ??= sessionId;
          if (sessionId !== this.#sessionId) throw new DecodeError("stream of another session");
          const waiter = this.#waiters.shift();
          if (waiter !== undefined) waiter(native);
          else this.#ready.push(native);
        }).catch(() => {
          stream.writable.abort().catch(() => {});
          stream.readable.cancel().catch(() => {});
        }).finally(() => this.#pending--);
      }
      this.#end();
    })();
  }

  #end(): void {
    if (this.#ended) return;
    this.#ended = true;
    for (const w of this.#waiters.splice(0)) w(undefined);
    for (const s of this.#ready.splice(0)) {
      s.writable.abort().catch(() => {});
      s.readable.cancel().catch(() => {});
    }
  }
}
