/**
 * multistream-select over byte channels: the only file here that touches I/O and timers.
 *
 * The node negotiates on channels ({@link selectChannel}, {@link handleChannel}): the result is
 * the same channel, with the bytes read past the negotiation replayed first (prefixChannel), or,
 * for a lazy select, one thin channel layer that checks the answer on the first read. The web
 * duplex functions ({@link select}, {@link handle}, {@link ls}) serve users of
 * `protocols/multistream` with their own web streams: they convert the duplex to a channel once,
 * negotiate on it, and hand back fresh web streams over the result.
 *
 * Reads go through {@link ByteReader} (length prefixes checked before any body is buffered).
 *
 * Every negotiation has a deadline ({@link DEFAULT_NEGOTIATION_TIMEOUT_MS}) and honours an
 * AbortSignal; timers and listeners are released when it settles. On failure the reader is
 * cancelled and the writable aborted with the error; the caller then resets the (muxed) stream.
 *
 * @module
 */

import { concat } from "../bytes.ts";
import { abortReason, deadlineSignal, raceSignal } from "../abort.ts";
import { DecodeError, LimitExceededError } from "../errors.ts";
import { ByteReader, UnexpectedEOFError } from "../stream/byte_reader.ts";
import {
  type ByteChannel,
  channelReadable,
  channelWritable,
  ForwardingChannel,
  streamChannel,
} from "../stream/channel.ts";
import type { Duplex } from "../stream/types.ts";
import { decodeLsResponse, decodeMessagePayload, encodeMessages } from "./codec.ts";
import {
  DEFAULT_NEGOTIATION_TIMEOUT_MS,
  LS,
  MAX_LS_RESPONSE_LENGTH,
  MAX_PROTOCOL_LENGTH,
  PROTOCOL_ID,
} from "./constants.ts";
import {
  InvalidHeaderError,
  InvalidLengthError,
  MessageTooLongError,
  NegotiationEOFError,
} from "./errors.ts";
import { DialerNegotiation, ListenerNegotiation } from "./negotiation.ts";

/** Options for {@link select}. */
export interface SelectOptions {
  /** Aborts the negotiation (or, in lazy mode, the verification on first read). */
  signal?: AbortSignal;
  /**
   * Optimistic ("lazy") select: send the header and the proposal in one write and return at once;
   * the returned stream's first read verifies the listener's answer. Default: true when exactly
   * one protocol is given, false otherwise. Only valid with exactly one protocol.
   */
  lazy?: boolean;
  /**
   * Deadline for the negotiation in ms (in lazy mode: for the verification, counted from the
   * first read). Default {@link DEFAULT_NEGOTIATION_TIMEOUT_MS}; `Infinity` disables it.
   */
  timeoutMs?: number;
  /**
   * Lazy mode: send our FIN only after the listener's answer arrived. js-libp2p loses a FIN that
   * reaches it together with the proposal (see `LazySelectChannel.closeWrite`); a relay's splice
   * delivers them so, which is why the node sets this on relayed connections. Default false.
   */
  holdFinUntilAnswer?: boolean;
}

/** Options for {@link handle}. */
export interface HandleOptions {
  /** Aborts the negotiation. */
  signal?: AbortSignal;
  /** Deadline for the negotiation in ms. Default {@link DEFAULT_NEGOTIATION_TIMEOUT_MS}. */
  timeoutMs?: number;
  /**
   * Unsuccessful proposals (and `ls` requests) answered before failing with
   * TooManyAttemptsError. Default {@link MAX_NEGOTIATION_ATTEMPTS}.
   */
  maxAttempts?: number;
}

/** Options for {@link ls}. */
export interface LsOptions {
  /** Aborts the request. */
  signal?: AbortSignal;
  /** Deadline in ms. Default {@link DEFAULT_NEGOTIATION_TIMEOUT_MS}. */
  timeoutMs?: number;
}

function checkTimeout(timeoutMs: number | undefined): number {
  const ms = timeoutMs ?? DEFAULT_NEGOTIATION_TIMEOUT_MS;
  if (typeof ms !== "number" || Number.isNaN(ms) || ms <= 0) {
    throw new RangeError(`timeoutMs must be a positive number of milliseconds, got ${ms}`);
  }
  return ms;
}

/** Map ByteReader failures onto the multistream error classes. */
function mapReadError(err: unknown): unknown {
  if (err instanceof UnexpectedEOFError) {
    return new NegotiationEOFError(`stream ended during multistream-select: ${err.message}`, {
      cause: err,
    });
  }
  if (err instanceof LimitExceededError) {
    return new MessageTooLongError(err.message, { cause: err });
  }
  if (err instanceof DecodeError) {
    return new InvalidLengthError(`invalid multistream length prefix: ${err.message}`, {
      cause: err,
    });
  }
  return err;
}

async function readPayload(
  reader: ByteReader,
  signal: AbortSignal,
  maxLength: number = MAX_PROTOCOL_LENGTH,
): Promise<Uint8Array> {
  try {
    return await raceSignal(reader.readLengthPrefixed(maxLength), signal);
  } catch (err) {
    throw mapReadError(err);
  }
}

async function readText(reader: ByteReader, signal: AbortSignal): Promise<string> {
  return decodeMessagePayload(await readPayload(reader, signal));
}

/** Tear down a channel after a failed negotiation (a muxed stream's channel resets it). */
function fail(channel: ByteChannel, reader: ByteReader, err: unknown): void {
  channel.abort(err);
  // Not awaited: the caller's `finally` must release the negotiation deadline now (a pending
  // cancel kept the 10 s timer alive after a failed negotiation, found by the hardening timer
  // checks under load).
  reader.cancel(err).catch(() => {});
}

function write(channel: ByteChannel, bytes: Uint8Array, signal: AbortSignal): Promise<void> {
  channel.write(bytes);
  return raceSignal(channel.drained(), signal);
}

/**
 * Dialer side on a byte channel: propose `protocols` in order until the listener accepts one.
 * Resolves with the protocol and the channel to speak it on (the same channel, replaying what
 * arrived after the answer; for a lazy select, one thin layer that checks the answer on the
 * first read).
 *
 * With one protocol (the default for a single protocol, or `lazy: true`) the header and proposal
 * go out in one write and the result comes at once; the first read of its channel verifies the
 * listener's header and echo and fails with a ProtocolNegotiationError if the listener answered
 * `na` (the channel is then aborted). The application's first write follows the proposal
 * without waiting for a round trip.
 *
 * Rejects with ProtocolNotSupportedError when every proposal got `na`, another MultistreamError
 * for a protocol violation, TimeoutError at the deadline, AbortError when `signal` aborts; the
 * channel is aborted then.
 *
 * @example
 * ```ts
 * import { channelPair } from "@p2p-edge/libp2p/stream";
 * import { handleChannel, selectChannel } from "@p2p-edge/libp2p/protocols/multistream";
 * const [a, b] = channelPair();
 * const [dialed, handled] = await Promise.all([
 *   selectChannel(a.channel, ["/echo/2.0.0", "/echo/1.0.0"]),
 *   handleChannel(b.channel, ["/echo/1.0.0"]),
 * ]);
 * console.log(dialed.protocol, handled.protocol); // "/echo/1.0.0" "/echo/1.0.0"
 * ```
 */
export async function selectChannel(
  channel: ByteChannel,
  protocols: readonly string[],
  options: SelectOptions = {},
): Promise<{ protocol: string; channel: ByteChannel }> {
  const { dialer, lazy, timeoutMs } = checkSelect(protocols, options);
  if (options.signal?.aborted) throw abortAtStart(channel, options.signal);
  if (lazy) {
    return {
      protocol: dialer.proposed,
      channel: selectLazy(
        channel,
        dialer,
        timeoutMs,
        options.signal,
        options.holdFinUntilAnswer === true,
      ),
    };
  }
  const deadline = deadlineSignal(timeoutMs, options.signal, "multistream-select");
  const reader = new ByteReader(channel);
  try {
    await write(channel, dialer.start(), deadline.signal);
    for (;;) {
      const step = dialer.receive(await readText(reader, deadline.signal));
      if (step.send !== undefined) await write(channel, step.send, deadline.signal);
      if (step.protocol !== undefined) {
        return { protocol: step.protocol, channel: reader.restChannel() };
      }
    }
  } catch (err) {
    fail(channel, reader, err);
    throw err;
  } finally {
    deadline.clear();
  }
}

/** Validate a select's arguments (before anything is sent or any stream is locked). */
function checkSelect(
  protocols: readonly string[],
  options: SelectOptions,
): { dialer: DialerNegotiation; lazy: boolean; timeoutMs: number } {
  const dialer = new DialerNegotiation(protocols);
  const lazy = options.lazy ?? protocols.length === 1;
  if (lazy && protocols.length !== 1) {
    throw new RangeError("lazy multistream-select takes exactly one protocol");
  }
  return { dialer, lazy, timeoutMs: checkTimeout(options.timeoutMs) };
}

/**
 * A web duplex handed to a negotiation: validated arguments first (a bad call locks nothing);
 * with an already aborted signal the duplex is torn down (its `abort` when it has one, otherwise
 * its streams) and the signal's reason thrown; otherwise its streams become a channel, once.
 */
function duplexChannel(
  stream: Duplex & { abort?(reason?: unknown): void },
  signal: AbortSignal | undefined,
): ByteChannel {
  if (signal?.aborted) {
    const err = abortReason(signal);
    if (stream.abort !== undefined) stream.abort(err);
    else {
      if (!stream.readable.locked) stream.readable.cancel(err).catch(() => {});
      if (!stream.writable.locked) stream.writable.abort(err).catch(() => {});
    }
    throw err;
  }
  return streamChannel(stream);
}

/** A negotiation asked to run with an already aborted signal: nothing was sent; tear down. */
function abortAtStart(channel: ByteChannel, signal: AbortSignal): unknown {
  const err = abortReason(signal);
  channel.abort(err);
  return err;
}

/**
 * Lazy select: the proposal goes out now, the first read verifies the answer, and every later
 * read goes straight to the channel below (a function call, no layer and no stream object).
 */
function selectLazy(
  channel: ByteChannel,
  dialer: DialerNegotiation,
  timeoutMs: number,
  signal: AbortSignal | undefined,
  holdFin: boolean,
): ByteChannel {
  // Not awaited: the caller's writes queue behind it, and a failure shows on its next call.
  channel.write(dialer.start());
  return new LazySelectChannel(channel, dialer, timeoutMs, signal, holdFin);
}

/**
 * The channel of a lazy select: the first read checks the listener's answer (under the
 * negotiation deadline, counted from that read) and continues on the channel with what followed
 * the answer; later reads go to that channel. Everything else goes to the channel below. One
 * object per outbound stream, its methods on the prototype.
 */
class LazySelectChannel extends ForwardingChannel {
  #dialer: DialerNegotiation | undefined;
  readonly #timeoutMs: number;
  readonly #signal: AbortSignal | undefined;
  /** The answer check, started by the first read; a failure fails every read after it. */
  #verifying: Promise<ByteChannel> | undefined;
  #verified: ByteChannel | undefined;
  #reader: ByteReader | undefined;
  readonly #holdFin: boolean;

  constructor(
    below: ByteChannel,
    dialer: DialerNegotiation,
    timeoutMs: number,
    signal: AbortSignal | undefined,
    holdFin: boolean,
  ) {
    super(below);
    this.#dialer = dialer;
    this.#timeoutMs = timeoutMs;
    this.#signal = signal;
    this.#holdFin = holdFin;
  }

  override read(into?: Uint8Array): Promise<Uint8Array | null> {
    if (this.#verified !== undefined) return this.#verified.read(into);
    return this.#verifyThenRead(into);
  }

  override cancelRead(reason?: unknown): void {
    if (this.#verified === undefined && this.#reader !== undefined) {
      this.#reader.cancel(reason).catch(() => {});
    } else {
      (this.#verified ?? this.below).cancelRead(reason);
    }
  }

  /**
   * With `holdFinUntilAnswer`, our FIN goes out only after the listener's answer arrived:
   * js-libp2p (@libp2p/utils 7.4's AbstractMessageStream) loses a remote close that arrives while
   * its handler is not iterating yet and data is buffered, so a proposal, data and FIN that reach
   * it in one chunk (through a relay's splice) hang its handler until its own timeout. Sending FIN
   * at once is valid multistream-select (rust's lazy select does) and stays the default: holding
   * it on every connection changed js's timing elsewhere (a js floodsub node's message was lost
   * now and then in the interop suite). Waiting costs at most one round trip, and only to a
   * stream closed before any read. The verification reads just the answer; what follows, or its
   * failure, stays for the caller's reads.
   */
  override async closeWrite(): Promise<void> {
    if (this.#holdFin && this.#verified === undefined) {
      this.#verifying ??= this.#verify();
      // A failed negotiation shows on reads, as it always has; the half-close goes ahead.
      await this.#verifying.catch(() => {});
    }
    return this.below.closeWrite();
  }

  async #verifyThenRead(into: Uint8Array | undefined): Promise<Uint8Array | null> {
    this.#verifying ??= this.#verify();
    return (await this.#verifying).read(into);
  }

  async #verify(): Promise<ByteChannel> {
    const dialer = this.#dialer!;
    this.#dialer = undefined;
    const deadline = deadlineSignal(this.#timeoutMs, this.#signal, "multistream-select");
    const reader = this.#reader = new ByteReader(this.below);
    try {
      for (;;) {
        const step = dialer.receive(await readText(reader, deadline.signal));
        if (step.protocol !== undefined) break;
      }
    } catch (err) {
      fail(this.below, reader, err);
      throw err;
    } finally {
      deadline.clear();
    }
    this.#reader = undefined;
    this.#verified = reader.restChannel();
    return this.#verified;
  }
}

/**
 * Listener side on a byte channel: send our header, answer `na` to unsupported proposals and
 * `ls` with our list, and echo the first supported proposal. `protocols` may be a predicate
 * instead of a list. Resolves with the protocol and the channel to speak it on (replaying what
 * arrived after the proposal).
 *
 * Rejects with TooManyAttemptsError past `maxAttempts` unsuccessful proposals, another
 * MultistreamError for a protocol violation, TimeoutError at the deadline, AbortError when
 * `signal` aborts; the channel is aborted then.
 *
 * @example
 * ```ts
 * import { channelPair } from "@p2p-edge/libp2p/stream";
 * import { handleChannel, selectChannel } from "@p2p-edge/libp2p/protocols/multistream";
 * const [a, b] = channelPair();
 * const handled = handleChannel(b.channel, (id) => id.startsWith("/echo/"));
 * await selectChannel(a.channel, ["/echo/1.0.0"]); // lazy: returns at once
 * console.log((await handled).protocol); // "/echo/1.0.0"
 * ```
 */
export async function handleChannel(
  channel: ByteChannel,
  protocols: readonly string[] | ((id: string) => boolean),
  options: HandleOptions = {},
): Promise<{ protocol: string; channel: ByteChannel }> {
  const listener = new ListenerNegotiation(protocols, { maxAttempts: options.maxAttempts });
  const timeoutMs = checkTimeout(options.timeoutMs);
  if (options.signal?.aborted) throw abortAtStart(channel, options.signal);
  const deadline = deadlineSignal(timeoutMs, options.signal, "multistream-select");
  const reader = new ByteReader(channel);
  try {
    // Our header goes out once the dialer has spoken, coalesced with our first answer when the
    // dialer's proposal came in the same read (one write instead of two, same latency: the
    // dialer waits for our answer anyway). Sending it at accept time lets it reach a dialer
    // before that dialer listens: js-libp2p's WebSocket client loses such early bytes under
    // load and then fails with "could not negotiate". A dialer that waits for our header before
    // proposing still gets it right after its own header.
    let header: Uint8Array | undefined = listener.start();
    for (;;) {
      const step = listener.receive(await readText(reader, deadline.signal));
      let out = step.send;
      if (header !== undefined && (out !== undefined || reader.buffered === 0)) {
        out = out === undefined ? header : concat([header, out]);
        header = undefined;
      }
      if (out !== undefined) await write(channel, out, deadline.signal);
      if (step.protocol !== undefined) {
        return { protocol: step.protocol, channel: reader.restChannel() };
      }
    }
  } catch (err) {
    fail(channel, reader, err);
    throw err;
  } finally {
    deadline.clear();
  }
}

/**
 * Fresh web streams over a negotiated channel (the web duplex edge), closable and abortable like
 * the duplex they came from.
 */
function webDuplex(
  channel: ByteChannel,
): Duplex & { close(): Promise<void>; abort(reason?: unknown): void } {
  const writable = channelWritable(channel);
  return {
    readable: channelReadable(channel),
    writable,
    async close() {
      if (!writable.locked) await writable.close();
      else await channel.closeWrite();
    },
    abort: (reason) => channel.abort(reason),
  };
}

/**
 * Dialer side over a web duplex (see {@link selectChannel}): the duplex is converted to a byte
 * channel once (its streams are locked from then on) and the result carries fresh web streams
 * over the negotiated channel. On failure the duplex's streams are cancelled and aborted (and its
 * `abort` called when it has one).
 *
 * @example
 * ```ts
 * import { duplexPair } from "@p2p-edge/libp2p/stream";
 * import { handle, select } from "@p2p-edge/libp2p/protocols/multistream";
 * const [a, b] = duplexPair();
 * const [dialed, handled] = await Promise.all([
 *   select(a, ["/echo/2.0.0", "/echo/1.0.0"]),
 *   handle(b, ["/echo/1.0.0"]),
 * ]);
 * console.log(dialed.protocol, handled.protocol); // "/echo/1.0.0" "/echo/1.0.0"
 * ```
 */
export async function select(
  stream: Duplex & { abort?(reason?: unknown): void },
  protocols: readonly string[],
  options: SelectOptions = {},
): Promise<{ protocol: string; stream: Duplex }> {
  checkSelect(protocols, options);
  const result = await selectChannel(duplexChannel(stream, options.signal), protocols, options);
  return { protocol: result.protocol, stream: webDuplex(result.channel) };
}

/**
 * Listener side over a web duplex (see {@link handleChannel} and {@link select}).
 *
 * @example
 * ```ts
 * import { duplexPair } from "@p2p-edge/libp2p/stream";
 * import { handle, select } from "@p2p-edge/libp2p/protocols/multistream";
 * const [a, b] = duplexPair();
 * const handled = handle(b, (id) => id.startsWith("/echo/"));
 * const dialed = await select(a, ["/echo/1.0.0"]); // lazy: returns at once
 * console.log((await handled).protocol); // "/echo/1.0.0"
 * ```
 */
export async function handle(
  stream: Duplex & { abort?(reason?: unknown): void },
  protocols: readonly string[] | ((id: string) => boolean),
  options: HandleOptions = {},
): Promise<{ protocol: string; stream: Duplex }> {
  new ListenerNegotiation(protocols, { maxAttempts: options.maxAttempts });
  checkTimeout(options.timeoutMs);
  const result = await handleChannel(duplexChannel(stream, options.signal), protocols, options);
  return { protocol: result.protocol, stream: webDuplex(result.channel) };
}

/**
 * Dialer side: ask the listener for its protocol list (`ls`). This consumes the stream: its
 * readable stays locked and the negotiation is left open, so close or reset the stream afterwards.
 *
 * @example
 * ```ts
 * import { duplexPair } from "@p2p-edge/libp2p/stream";
 * import { handle, ls } from "@p2p-edge/libp2p/protocols/multistream";
 * const [a, b] = duplexPair();
 * handle(b, ["/a", "/b"]).catch(() => {});
 * console.log(await ls(a)); // ["/a", "/b"]
 * ```
 */
export async function ls(
  stream: Duplex & { abort?(reason?: unknown): void },
  options: LsOptions = {},
): Promise<string[]> {
  const timeoutMs = checkTimeout(options.timeoutMs);
  const channel = duplexChannel(stream, options.signal);
  const deadline = deadlineSignal(timeoutMs, options.signal, "multistream-select ls");
  const reader = new ByteReader(channel);
  try {
    await write(channel, encodeMessages([PROTOCOL_ID, LS]), deadline.signal);
    const header = await readText(reader, deadline.signal);
    if (header !== PROTOCOL_ID) {
      throw new InvalidHeaderError(`expected ${PROTOCOL_ID} as the first message`);
    }
    return decodeLsResponse(await readPayload(reader, deadline.signal, MAX_LS_RESPONSE_LENGTH));
  } catch (err) {
    fail(channel, reader, err);
    throw err;
  } finally {
    deadline.clear();
  }
}
