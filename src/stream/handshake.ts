/**
 * Running a security handshake over a raw connection: one deadline (joined with the caller's
 * signal), the socket torn down the moment either fires so a read blocked on a silent peer ends
 * (HARDENING.md rule 8), failures reported as HandshakeError, and the connection's channel handed
 * back afterwards with its unread bytes. Shared by every security protocol (Noise, plaintext).
 *
 * @module
 */

import { abortReason, deadlineSignal, raceSignal } from "../abort.ts";
import { asHandshakeError } from "../errors.ts";
import { ByteReader } from "./byte_reader.ts";
import type { ByteChannel, ChannelConnection } from "./channel.ts";

/** How a handshake sends: each write resolves once the bytes left for the socket. */
export interface HandshakeWriter {
  /** Send `bytes`; keep them unchanged until the returned promise resolves. */
  write(bytes: Uint8Array): Promise<void>;
}

/** Options of {@link runHandshake}. */
export interface RunHandshakeOptions {
  /** Deadline for the whole handshake, ms. */
  timeoutMs: number;
  /** The caller's signal; aborting it fails the handshake with its reason. */
  signal?: AbortSignal;
  /** Name for the deadline's TimeoutError and the failure message, e.g. "Noise handshake". */
  what: string;
}

/**
 * Run `handshake` with a reader and a writer on `conn` (through its {@link ByteChannel}). On
 * success, returns its result and the connection's channel, which first replays any bytes read
 * past the handshake. On failure the connection is aborted and the promise rejects with the
 * signal's reason (deadline or caller) or a HandshakeError.
 *
 * @example
 * ```ts
 * import { channelPair, runHandshake } from "@p2p-edge/libp2p/stream";
 * const [a] = channelPair();
 * const { result } = await runHandshake(a, { timeoutMs: 1000, what: "demo" }, async (_r, w) => {
 *   await w.write(new Uint8Array([1]));
 *   return "sent";
 * });
 * ```
 */
export async function runHandshake<T>(
  conn: ChannelConnection,
  options: RunHandshakeOptions,
  handshake: (reader: ByteReader, writer: HandshakeWriter) => Promise<T>,
): Promise<{ result: T; channel: ByteChannel }> {
  const deadline = deadlineSignal(options.timeoutMs, options.signal, options.what);
  const signal = deadline.signal;
  let reader: ByteReader | undefined;
  const onAbort = (): void => conn.abort(abortReason(signal));
  signal.addEventListener("abort", onAbort, { once: true });
  try {
    signal.throwIfAborted();
    const channel = conn.channel;
    reader = new ByteReader(channel);
    const writer: HandshakeWriter = {
      write(bytes: Uint8Array): Promise<void> {
        channel.write(bytes);
        return channel.drained();
      },
    };
    const result = await raceSignal(handshake(reader, writer), signal);
    return { result, channel: reader.restChannel() };
  } catch (err) {
    const reason = signal.aborted
      ? abortReason(signal)
      : asHandshakeError(err, `${options.what} failed`);
    // When the signal fired, onAbort already aborted the connection.
    if (!signal.aborted) conn.abort(reason);
    await reader?.cancel(reason);
    throw reason;
  } finally {
    signal.removeEventListener("abort", onAbort);
    deadline.clear();
  }
}
