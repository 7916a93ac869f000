/**
 * The mplex session as a sans-IO state machine: it takes decoded messages and local commands,
 * keeps the stream table and the receive budgets, and emits frames through a `send` hook. It
 * never touches a stream, a socket or a clock; service.ts wires it to a connection.
 *
 * Stream numbering (spec, "Opening a new stream"): the session initiator (dialer) allocates odd
 * numbers and the receiver even ones, as the spec says. go- and js-libp2p instead count from 0
 * on both sides, which is why incoming messages are routed by flag, never by parity: the flag
 * says whether a message belongs to a stream the sender opened ("Initiator" flags, even) or one
 * it accepted ("Receiver" flags, odd), so the same number may name one stream of each side.
 * Following the spec on our side keeps every number unique within the connection.
 *
 * @module
 */

import { LimitExceededError, StreamClosedError, StreamResetError } from "../../src/errors.ts";
import { utf8Encode } from "../../src/bytes.ts";
import type { MplexMessage } from "./codec.ts";
import {
  DEFAULT_MAX_INBOUND_STREAMS,
  DEFAULT_MAX_OUTBOUND_STREAMS,
  DEFAULT_MAX_SESSION_BUFFER_SIZE,
  DEFAULT_MAX_STREAM_BUFFER_SIZE,
  DEFAULT_SLOW_READER_TIMEOUT,
  MAX_MESSAGE_SIZE,
  MAX_PENDING_RESETS,
  MplexFlag,
  type MplexFlagValue,
} from "./constants.ts";
import { MplexProtocolError } from "./errors.ts";

/** Limits of one session; every field is required here (service.ts fills the defaults). */
export interface MplexLimits {
  /** Streams the remote may have open with us at once. */
  maxInboundStreams: number;
  /** Streams we may have open at once. */
  maxOutboundStreams: number;
  /** Largest data segment sent or accepted in one message. */
  maxMessageSize: number;
  /** Unread bytes one stream may queue before it is reset. */
  maxStreamBufferSize: number;
  /** Unread bytes all streams together may queue; data beyond resets its stream. */
  maxSessionBufferSize: number;
  /**
   * Milliseconds the owner pauses the connection for a "blocked" stream before it resets it
   * (service.ts; the session itself keeps no time).
   */
  slowReaderTimeout: number;
}

/** The limits used when an option is not given. */
export const DEFAULT_MPLEX_LIMITS: Readonly<MplexLimits> = {
  maxInboundStreams: DEFAULT_MAX_INBOUND_STREAMS,
  maxOutboundStreams: DEFAULT_MAX_OUTBOUND_STREAMS,
  maxMessageSize: MAX_MESSAGE_SIZE,
  maxStreamBufferSize: DEFAULT_MAX_STREAM_BUFFER_SIZE,
  maxSessionBufferSize: DEFAULT_MAX_SESSION_BUFFER_SIZE,
  slowReaderTimeout: DEFAULT_SLOW_READER_TIMEOUT,
};

/** The session's record of one stream. */
export interface MplexStreamState {
  /** Stream number on the wire. */
  readonly id: number;
  /** True when we opened the stream (we send "Initiator" flags on it). */
  readonly initiator: boolean;
  /** We sent Close: no more writes. */
  localClosed: boolean;
  /** The remote sent Close: no more data will come. */
  remoteClosed: boolean;
  /** We stopped reading: further data is dropped. */
  readClosed: boolean;
  /** Reset by either side; the stream is gone. */
  reset: boolean;
  /** Removed from the table (both directions done, or reset). */
  freed: boolean;
  /** Unread bytes queued for the application, counted against the budgets. */
  buffered: number;
}

/** What one received message means for the application. */
export type MplexSessionEvent =
  /** The remote opened a stream. */
  | { type: "inbound"; stream: MplexStreamState; name: Uint8Array }
  /** Data for a stream (already counted in `stream.buffered`). */
  | { type: "data"; stream: MplexStreamState; data: Uint8Array }
  /** The remote closed its write side. */
  | { type: "remote-close"; stream: MplexStreamState }
  /** The remote reset the stream. */
  | { type: "remote-reset"; stream: MplexStreamState }
  /**
   * Data that does not fit the stream's or the session's budget now. Nothing was changed: the
   * owner pauses reading the connection until the application reads (see
   * {@link MplexSessionHooks.onDrain}) and then offers the same message again, or gives up and
   * calls {@link MplexSession.overflow}.
   */
  | { type: "blocked"; stream: MplexStreamState }
  /** We reset the stream (a Reset frame was sent) because of `error`. */
  | { type: "local-reset"; stream: MplexStreamState; error: Error };

/** What the session needs from its owner. */
export interface MplexSessionHooks {
  /**
   * Queue a frame for the connection. The promise settles once the connection took it; it must
   * not reject unhandled (the session only observes it).
   */
  send(id: number, flag: MplexFlagValue, data?: Uint8Array): Promise<void>;
  /** A stream left the table (both directions closed, or reset). */
  onFree?(stream: MplexStreamState): void;
  /** Queued bytes were released (read, dropped or freed): blocked data may fit now. */
  onDrain?(): void;
}

/**
 * The mplex protocol state of one connection.
 *
 * @example
 * ```ts
 * import { MplexSession, DEFAULT_MPLEX_LIMITS } from "@p2p-edge/libp2p/protocols/mplex";
 * const sent: number[] = [];
 * const s = new MplexSession(DEFAULT_MPLEX_LIMITS, {
 *   send: (id, flag) => { sent.push(id, flag); return Promise.resolve(); },
 * });
 * const st = s.openStream();
 * s.closeWrite(st); // sent: [0, 0, 0, 4] (NewStream 0, CloseInitiator 0; a receiver's first id)
 * ```
 */
export class MplexSession {
  /** The limits this session enforces. */
  readonly limits: Readonly<MplexLimits>;
  #hooks: MplexSessionHooks;
  #inbound = new Map<number, MplexStreamState>();
  #outbound = new Map<number, MplexStreamState>();
  #nextId: number;
  #buffered = 0;
  #pendingResets = 0;
  #closing = false;

  /**
   * Create a session with `limits`, emitting frames through `hooks.send`. `initiator` is true
   * on the side that dialled the connection (it numbers its streams 1, 3, 5, ...; the other
   * side 0, 2, 4, ...).
   */
  constructor(limits: Readonly<MplexLimits>, hooks: MplexSessionHooks, initiator = false) {
    this.limits = limits;
    this.#hooks = hooks;
    this.#nextId = initiator ? 1 : 0;
  }

  /** Streams in the table (opened by us or by the remote and not yet freed). */
  get size(): number {
    return this.#inbound.size + this.#outbound.size;
  }

  /** Streams the remote opened that are still in the table. */
  get inboundCount(): number {
    return this.#inbound.size;
  }

  /** Streams we opened that are still in the table. */
  get outboundCount(): number {
    return this.#outbound.size;
  }

  /** Unread bytes queued across all streams. */
  get buffered(): number {
    return this.#buffered;
  }

  /** Reset frames sent that the connection has not taken yet. */
  get pendingResets(): number {
    return this.#pendingResets;
  }

  /** True once {@link MplexSession.startClosing} was called. */
  get closing(): boolean {
    return this.#closing;
  }

  /** Every stream in the table. */
  streams(): MplexStreamState[] {
    return [...this.#outbound.values(), ...this.#inbound.values()];
  }

  /**
   * Refuse new streams from now on: openStream() throws and a remote NewStream is reset
   * (mplex has no GoAway).
   */
  startClosing(): void {
    this.#closing = true;
  }

  /**
   * Open an outbound stream: allocates the next number of our parity and sends NewStream with the number in
   * decimal as the stream name (names are informational, spec "Opening a new stream").
   * Throws StreamClosedError when closing, LimitExceededError at maxOutboundStreams.
   */
  openStream(): MplexStreamState {
    if (this.#closing) throw new StreamClosedError("mplex session is closing");
    if (this.#outbound.size >= this.limits.maxOutboundStreams) {
      throw new LimitExceededError(
        `mplex: ${this.#outbound.size} outbound streams open, the limit`,
        "maxOutboundStreams",
      );
    }
    // Skip numbers whose previous stream is still open (only after 2^49 streams: never).
    let id = this.#nextId;
    while (this.#outbound.has(id)) id += 2;
    this.#nextId = id + 2;
    const st = newState(id, true);
    this.#outbound.set(id, st);
    this.#hooks.send(id, MplexFlag.NewStream, utf8Encode(String(id)));
    return st;
  }

  /**
   * Check that `stream` may still be written and return the flag its data messages carry.
   * Throws StreamResetError after a reset, StreamClosedError after closeWrite.
   */
  messageFlag(stream: MplexStreamState): MplexFlagValue {
    if (stream.reset) throw new StreamResetError(`mplex stream ${label(stream)} was reset`);
    if (stream.localClosed) {
      throw new StreamClosedError(`mplex stream ${label(stream)} is closed for writing`);
    }
    return stream.initiator ? MplexFlag.MessageInitiator : MplexFlag.MessageReceiver;
  }

  /**
   * Send one data message (at most maxMessageSize bytes; service.ts splits larger writes).
   * Throws like {@link MplexSession.messageFlag}.
   */
  write(stream: MplexStreamState, data: Uint8Array): Promise<void> {
    const flag = this.messageFlag(stream);
    if (data.byteLength > this.limits.maxMessageSize) {
      throw new RangeError(`mplex message of ${data.byteLength} bytes exceeds maxMessageSize`);
    }
    return this.#hooks.send(stream.id, flag, data);
  }

  /** Half-close: send Close once. Returns the send promise, or undefined if nothing was sent. */
  closeWrite(stream: MplexStreamState): Promise<void> | undefined {
    if (stream.reset || stream.localClosed) return undefined;
    stream.localClosed = true;
    const p = this.#hooks.send(
      stream.id,
      stream.initiator ? MplexFlag.CloseInitiator : MplexFlag.CloseReceiver,
    );
    this.#maybeFree(stream);
    return p;
  }

  /** Stop reading: drop the queued count and discard further data (mplex sends nothing). */
  closeRead(stream: MplexStreamState): void {
    if (stream.readClosed) return;
    stream.readClosed = true;
    this.consumed(stream, stream.buffered);
    this.#maybeFree(stream);
  }

  /** Reset the stream (sends Reset once). Returns false if it was already reset. */
  reset(stream: MplexStreamState): boolean {
    if (stream.reset) return false;
    stream.reset = true;
    if (!stream.freed) {
      this.#hooks.send(
        stream.id,
        stream.initiator ? MplexFlag.ResetInitiator : MplexFlag.ResetReceiver,
      );
    }
    this.#maybeFree(stream);
    return true;
  }

  /** The application read `n` queued bytes of `stream`. */
  consumed(stream: MplexStreamState, n: number): void {
    if (n <= 0) return;
    n = Math.min(n, stream.buffered);
    stream.buffered -= n;
    if (!stream.freed) this.#buffered -= n;
    this.#hooks.onDrain?.();
  }

  /** Whether `n` more unread bytes for `stream` fit both budgets. */
  fits(stream: MplexStreamState, n: number): boolean {
    return stream.buffered + n <= this.limits.maxStreamBufferSize &&
      this.#buffered + n <= this.limits.maxSessionBufferSize;
  }

  /**
   * Give up on data that stayed blocked: reset the stream (a Reset frame is sent) and report
   * which budget it overran.
   */
  overflow(stream: MplexStreamState, n: number): MplexSessionEvent {
    const error = stream.buffered + n > this.limits.maxStreamBufferSize
      ? new LimitExceededError(
        `mplex stream ${
          label(stream)
        } has more than ${this.limits.maxStreamBufferSize} unread bytes`,
        "maxStreamBufferSize",
      )
      : new LimitExceededError(
        `mplex session has more than ${this.limits.maxSessionBufferSize} unread bytes`,
        "maxSessionBufferSize",
      );
    return this.#localReset(stream, error);
  }

  /** Mark every stream reset and empty the table (the connection is gone). */
  resetAll(): MplexStreamState[] {
    const all = this.streams();
    for (const st of all) {
      st.reset = true;
      this.#free(st);
    }
    return all;
  }

  /**
   * Apply one received message. Returns what it means for the application, or undefined when
   * it needs no action (messages for unknown streams are dropped: they are normal after a
   * reset). Throws MplexProtocolError when the connection must close: NewStream for a number
   * in use, or a peer that provokes more than MAX_PENDING_RESETS resets without reading them.
   */
  receive(msg: MplexMessage): MplexSessionEvent | undefined {
    const { id, flag } = msg;
    if (flag === MplexFlag.NewStream) return this.#newStream(id, msg.data);
    // Odd flags are sent by a stream's receiver, so they name a stream we opened.
    const st = (flag & 1) === 1 ? this.#outbound.get(id) : this.#inbound.get(id);
    if (st === undefined) return undefined;
    switch (flag) {
      case MplexFlag.MessageInitiator:
      case MplexFlag.MessageReceiver:
        return this.#data(st, msg.data);
      case MplexFlag.CloseInitiator:
      case MplexFlag.CloseReceiver:
        if (st.remoteClosed) return undefined;
        st.remoteClosed = true;
        this.#maybeFree(st);
        return { type: "remote-close", stream: st };
      default: // ResetInitiator, ResetReceiver
        st.reset = true;
        this.#maybeFree(st);
        return { type: "remote-reset", stream: st };
    }
  }

  #newStream(id: number, name: Uint8Array): MplexSessionEvent | undefined {
    if (this.#inbound.has(id)) {
      // HARDENING.md, mplex: NewStream for an id in use closes the connection.
      throw new MplexProtocolError(`mplex NewStream for stream ${id}, which is already open`);
    }
    if (this.#closing || this.#inbound.size >= this.limits.maxInboundStreams) {
      // Refuse: reset it. The table does not grow, the reply queue is bounded by #track.
      this.#track(this.#hooks.send(id, MplexFlag.ResetReceiver));
      return undefined;
    }
    const st = newState(id, false);
    this.#inbound.set(id, st);
    return { type: "inbound", stream: st, name };
  }

  #data(st: MplexStreamState, data: Uint8Array): MplexSessionEvent | undefined {
    if (st.remoteClosed) {
      return this.#localReset(
        st,
        new MplexProtocolError(`mplex data on stream ${label(st)} after the remote closed it`),
      );
    }
    if (st.readClosed || data.byteLength === 0) return undefined;
    const n = data.byteLength;
    if (!this.fits(st, n)) return { type: "blocked", stream: st };
    st.buffered += n;
    this.#buffered += n;
    return { type: "data", stream: st, data };
  }

  #localReset(st: MplexStreamState, error: Error): MplexSessionEvent {
    st.reset = true;
    this.#track(this.#hooks.send(
      st.id,
      st.initiator ? MplexFlag.ResetInitiator : MplexFlag.ResetReceiver,
    ));
    this.#maybeFree(st);
    return { type: "local-reset", stream: st, error };
  }

  /**
   * Count a reset we send in reply to the remote until the connection takes it; past
   * MAX_PENDING_RESETS the peer is not reading and the session closes.
   */
  #track(sent: Promise<void>): void {
    this.#pendingResets++;
    if (this.#pendingResets > MAX_PENDING_RESETS) {
      throw new MplexProtocolError(
        `mplex peer leaves more than ${MAX_PENDING_RESETS} control frames unread`,
      );
    }
    sent.then(() => this.#pendingResets--, () => this.#pendingResets--);
  }

  #maybeFree(st: MplexStreamState): void {
    if (st.freed) return;
    if (st.reset || (st.localClosed && (st.remoteClosed || st.readClosed))) this.#free(st);
  }

  #free(st: MplexStreamState): void {
    if (st.freed) return;
    st.freed = true;
    this.#buffered -= st.buffered;
    if (st.buffered > 0) this.#hooks.onDrain?.();
    const table = st.initiator ? this.#outbound : this.#inbound;
    if (table.get(st.id) === st) table.delete(st.id);
    this.#hooks.onFree?.(st);
  }
}

function newState(id: number, initiator: boolean): MplexStreamState {
  return {
    id,
    initiator,
    localClosed: false,
    remoteClosed: false,
    readClosed: false,
    reset: false,
    freed: false,
    buffered: 0,
  };
}

/** Text id of a stream as js-libp2p prints it: "i<n>" if we opened it, else "r<n>". */
export function label(st: Pick<MplexStreamState, "id" | "initiator">): string {
  return `${st.initiator ? "i" : "r"}${st.id}`;
}
