/**
 * multistream-select over streams: the only file here that touches streams and timers.
 *
 * Reads go through {@link ByteReader} (length prefixes checked before any body is buffered).
 * A connection backed by a byte channel (src/stream/channel.ts) is negotiated on its channel and
 * handed back as one; any other duplex through its streams: `rest()` hands back the original
 * readable when nothing is buffered, and writes take the writer only for the write, so the
 * returned `writable` is the caller's original one. Either way the data path gains no layer.
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
import { readIntoFrom } from "../stream/read_into.ts";
import {
  type ByteChannel,
  channelDuplex,
  ForwardingChannel,
  layeredClose,
  takeOwnChannel,
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

/** The result of a negotiation: the agreed protocol and the stream to speak it on. */
export interface NegotiatedStream {
  /** The protocol both sides agreed on. */
  protocol: string;
  /** The stream positioned after the negotiation; `writable` is the original writable. */
  stream: Duplex;
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

/**
 * How a negotiation reads and writes one stream. Connections backed by a byte channel (TCP and
 * the layers above it) are negotiated on the channel and handed on as one, so the data path
 * gains no stream layer; any other duplex (muxed streams, WebSocket) through its web streams,
 * handing back its original writable.
 */
interface NegotiationIo {
  readonly reader: ByteReader;
  write(bytes: Uint8Array, signal: AbortSignal): Promise<void>;
  /** The stream positioned after the negotiation (replays what was read past it). */
  rest(): Duplex;
  /** Tear down after a failed negotiation: cancel our read side, abort the write side. */
  fail(err: unknown): void;
}

/**
 * A negotiation asked to run with an already aborted signal: nothing was sent, so tear the stream
 * down the way a failed negotiation would (its `abort` when it has one: a connection or a muxed
 * stream is reset) and return the signal's reason to throw.
 */
function abortAtStart(stream: Duplex, signal: AbortSignal): unknown {
  const err = abortReason(signal);
  const abort = (stream as { abort?: (reason?: unknown) => void }).abort;
  if (abort !== undefined) {
    abort.call(stream, err);
  } else {
    stream.readable.cancel(err).catch(() => {});
    stream.writable.abort(err).catch(() => {});
  }
  return err;
}

function negotiationIo(stream: Duplex): NegotiationIo {
  const channel = takeOwnChannel(stream);
  return channel !== undefined ? channelIo(stream, channel) : streamIo(stream);
}

function channelIo(stream: Duplex, channel: ByteChannel): NegotiationIo {
  const reader = new ByteReader(channel);
  return {
    reader,
    write(bytes, signal) {
      channel.write(bytes);
      return raceSignal(channel.drained(), signal);
    },
    rest: () => {
      const rest = reader.restChannel();
      return channelDuplex(rest, layeredClose(rest, stream));
    },
    fail(err) {
      channel.abort(err);
      reader.cancel(err).catch(() => {});
    },
  };
}

function streamIo(stream: Duplex): NegotiationIo {
  const reader = new ByteReader(stream.readable);
  return {
    reader,
    async write(bytes, signal) {
      const writer = stream.writable.getWriter();
      try {
        await raceSignal(writer.write(bytes), signal);
      } finally {
        writer.releaseLock();
      }
    },
    rest: () => withReadInto(stream, reader.rest()),
    fail(err) {
      // Not awaited: cancelling a muxed stream's reader may wait on the muxer, and the caller's
      // `finally` must release the negotiation deadline now (a pending cancel kept the 10 s
      // timer alive after a failed negotiation, found by the hardening timer checks under load).
      reader.cancel(err).catch(() => {});
      if (!stream.writable.locked) {
        stream.writable.abort(err).catch(() => {});
        return;
      }
      // Lazy mode: the application already holds the writer, so the write side cannot be
      // aborted through it. Reset the whole stream when it can be (muxed streams, connections):
      // a refused stream must not stay half-open until some deadline.
      (stream as { abort?: (reason?: unknown) => void }).abort?.(err);
    },
  };
}

/**
 * Dialer side: propose `protocols` in order until the listener accepts one.
 *
 * With one protocol (the default for a single protocol, or `lazy: true`) the header and proposal
 * go out in one write and the stream is returned at once; its first read verifies the listener's
 * header and echo and errors with a ProtocolNegotiationError if the listener answered `na`. The
 * application's first write follows the proposal without waiting for a round trip.
 *
 * Rejects with ProtocolNotSupportedError when every proposal got `na`, another MultistreamError
 * for a protocol violation, TimeoutError at the deadline, AbortError when `signal` aborts.
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
  stream: Duplex,
  protocols: readonly string[],
  options: SelectOptions = {},
): Promise<NegotiatedStream> {
  const dialer = new DialerNegotiation(protocols);
  const lazy = options.lazy ?? protocols.length === 1;
  if (lazy && protocols.length !== 1) {
    throw new RangeError("lazy multistream-select takes exactly one protocol");
  }
  const timeoutMs = checkTimeout(options.timeoutMs);
  if (options.signal?.aborted) throw abortAtStart(stream, options.signal);
  if (lazy) return selectLazy(stream, dialer, timeoutMs, options.signal);

  const deadline = deadlineSignal(timeoutMs, options.signal, "multistream-select");
  const io = negotiationIo(stream);
  try {
    await io.write(dialer.start(), deadline.signal);
    for (;;) {
      const step = dialer.receive(await readText(io.reader, deadline.signal));
      if (step.send !== undefined) await io.write(step.send, deadline.signal);
      if (step.protocol !== undefined) return { protocol: step.protocol, stream: io.rest() };
    }
  } catch (err) {
    io.fail(err);
    throw err;
  } finally {
    deadline.clear();
  }
}

function selectLazy(
  stream: Duplex,
  dialer: DialerNegotiation,
  timeoutMs: number,
  signal: AbortSignal | undefined,
): NegotiatedStream {
  const channel = takeOwnChannel(stream);
  if (channel !== undefined) {
    return {
      protocol: dialer.proposed,
      stream: selectLazyChannel(stream, channel, dialer, timeoutMs, signal),
    };
  }
  // One write, not awaited: the application's writes queue behind it on the same writable and
  // a failed write surfaces on the application's own writes and reads.
  const writer = stream.writable.getWriter();
  writer.write(dialer.start()).catch(() => {});
  writer.releaseLock();

  let byteReader: ByteReader | undefined;
  let inner: ReadableStreamDefaultReader<Uint8Array> | undefined;

  const check = async (): Promise<Duplex> => {
    const deadline = deadlineSignal(timeoutMs, signal, "multistream-select");
    const io = streamIo(stream);
    const reader = byteReader = io.reader;
    try {
      for (;;) {
        const step = dialer.receive(await readText(reader, deadline.signal));
        if (step.protocol !== undefined) return io.rest();
      }
    } catch (err) {
      io.fail(err);
      throw err;
    } finally {
      deadline.clear();
    }
  };
  let checked: Promise<Duplex> | undefined;
  const verify = (): Promise<Duplex> => checked ??= check();
  let rest: ((view: Uint8Array) => Promise<number | null>) | undefined;

  // The listener's answer is checked on the first read; afterwards each read is passed through
  // (readInto too, straight to the stream's own when nothing followed the answer).
  const readInto = async (view: Uint8Array): Promise<number | null> => {
    if (rest === undefined) {
      const after = await verify();
      rest ??= after.readInto?.bind(after) ?? readIntoFrom(after.readable);
    }
    return rest(view);
  };
  const readable = new ReadableStream<Uint8Array>({
    async pull(controller) {
      if (inner === undefined) inner = (await verify()).readable.getReader();
      const { value, done } = await inner.read();
      if (done) controller.close();
      else controller.enqueue(value);
    },
    async cancel(reason) {
      if (inner !== undefined) await inner.cancel(reason);
      else if (byteReader !== undefined) await byteReader.cancel(reason);
      else await stream.readable.cancel(reason).catch(() => {});
    },
  }, { highWaterMark: 0 });

  return { protocol: dialer.proposed, stream: { readable, writable: stream.writable, readInto } };
}

/**
 * `stream`'s remainder after negotiation, with `stream.readInto` passed on when `readable` is the
 * stream's own (nothing of the protocol's bytes was read ahead).
 */
function withReadInto(stream: Duplex, readable: ReadableStream<Uint8Array>): Duplex {
  const own = readable === stream.readable ? stream.readInto : undefined;
  return own === undefined
    ? { readable, writable: stream.writable }
    : { readable, writable: stream.writable, readInto: (view) => own.call(stream, view) };
}

/**
 * Lazy select on a connection's channel: the proposal goes out now, the first read verifies the
 * answer, and every later read goes straight to the channel below (a function call, no layer).
 */
function selectLazyChannel(
  stream: Duplex,
  channel: ByteChannel,
  dialer: DialerNegotiation,
  timeoutMs: number,
  signal: AbortSignal | undefined,
): Duplex {
  // Not awaited: the caller's writes queue behind it, and a failure shows on its next call.
  channel.write(dialer.start());
  const reader = new ByteReader(channel);
  const verify = async (): Promise<ByteChannel> => {
    const deadline = deadlineSignal(timeoutMs, signal, "multistream-select");
    try {
      for (;;) {
        const step = dialer.receive(await readText(reader, deadline.signal));
        if (step.protocol !== undefined) break;
      }
    } catch (err) {
      channel.abort(err);
      throw err;
    } finally {
      deadline.clear();
    }
    return reader.restChannel();
  };
  const lazy = new LazySelectChannel(channel, verify);
  return channelDuplex(lazy, layeredClose(lazy, stream));
}

/**
 * The channel of a lazy select: the first read runs `verify` (reads the answer, hands back the
 * channel with what followed it); later reads go to that channel. Everything else goes to the
 * channel below.
 */
class LazySelectChannel extends ForwardingChannel {
  #verify: (() => Promise<ByteChannel>) | undefined;
  /** The answer check, started by the first read; a failure fails every read after it. */
  #verifying: Promise<ByteChannel> | undefined;
  #verified: ByteChannel | undefined;

  constructor(below: ByteChannel, verify: () => Promise<ByteChannel>) {
    super(below);
    this.#verify = verify;
  }

  override read(into?: Uint8Array): Promise<Uint8Array | null> {
    if (this.#verified !== undefined) return this.#verified.read(into);
    return this.#verifyThenRead(into);
  }

  async #verifyThenRead(into: Uint8Array | undefined): Promise<Uint8Array | null> {
    if (this.#verifying === undefined) {
      this.#verifying = this.#verify!();
      this.#verify = undefined;
    }
    this.#verified = await this.#verifying;
    this.#verifying = undefined;
    return this.#verified.read(into);
  }
}

/**
 * Listener side: send our header at once, answer `na` to unsupported proposals and `ls` with our
 * list, and echo the first supported proposal. `protocols` may be a predicate instead of a list.
 *
 * Rejects with TooManyAttemptsError past `maxAttempts` unsuccessful proposals, another
 * MultistreamError for a protocol violation, TimeoutError at the deadline, AbortError when
 * `signal` aborts; the caller then resets the stream.
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
  stream: Duplex,
  protocols: readonly string[] | ((id: string) => boolean),
  options: HandleOptions = {},
): Promise<NegotiatedStream> {
  const listener = new ListenerNegotiation(protocols, { maxAttempts: options.maxAttempts });
  const timeoutMs = checkTimeout(options.timeoutMs);
  if (options.signal?.aborted) throw abortAtStart(stream, options.signal);
  const deadline = deadlineSignal(timeoutMs, options.signal, "multistream-select");
  const io = negotiationIo(stream);
  const reader = io.reader;
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
      if (out !== undefined) await io.write(out, deadline.signal);
      if (step.protocol !== undefined) return { protocol: step.protocol, stream: io.rest() };
    }
  } catch (err) {
    io.fail(err);
    throw err;
  } finally {
    deadline.clear();
  }
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
export async function ls(stream: Duplex, options: LsOptions = {}): Promise<string[]> {
  const timeoutMs = checkTimeout(options.timeoutMs);
  if (options.signal?.aborted) throw abortAtStart(stream, options.signal);
  const deadline = deadlineSignal(timeoutMs, options.signal, "multistream-select ls");
  const io = negotiationIo(stream);
  const reader = io.reader;
  try {
    await io.write(encodeMessages([PROTOCOL_ID, LS]), deadline.signal);
    const header = await readText(reader, deadline.signal);
    if (header !== PROTOCOL_ID) {
      throw new InvalidHeaderError(`expected ${PROTOCOL_ID} as the first message`);
    }
    const list = decodeLsResponse(
      await readPayload(reader, deadline.signal, MAX_LS_RESPONSE_LENGTH),
    );
    return list;
  } catch (err) {
    io.fail(err);
    throw err;
  } finally {
    deadline.clear();
  }
}
