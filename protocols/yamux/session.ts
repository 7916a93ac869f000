/**
 * The sans-IO Yamux session: bytes from the connection, local commands and the current time go
 * in; encoded frames (in an {@link Outbox}) and stream events come out. It never reads a clock,
 * a socket or a timer: the service passes `now` and drives {@link YamuxSession.tick}.
 *
 * Flow control (hashicorp/yamux spec.md, "Flow Control"): every stream has a send window (what
 * the remote lets us send) and a receive window (what we let it send). Received data is counted
 * as `buffered` until the application reads it; consumed bytes are credited back with a
 * WindowUpdate once at least an eighth of the window is consumed ({@link CREDIT_STEP}), so a
 * reader that stops reading stops the sender. Windows auto-tune towards twice the
 * bandwidth-delay product the stream achieves: the rate at which the application consumed the
 * stream is measured over periods of at least one round trip (a period ends at a WindowUpdate,
 * so a reader's stall falls inside one), and while {@link TUNING_FACTOR} x (the last period's
 * rate, at most twice the one before) x RTT exceeds the window, the window grows (at most
 * doubling), bounded by `maxStreamWindow` and by the per-connection budget. A window-limited
 * stream so grows by about 1.75x per period; one limited by the link stops near 2 x BDP instead of
 * growing on, so a bulk sender cannot queue more than about one round trip of data ahead of the
 * other streams' frames (in the kernel, the outbox and the link's queue); a burst of data that a
 * stall held back counts at most twice the rate of the period before. The RTT is the
 * least seen (pings, and the SYN -> ACK of streams we opened), at least
 * {@link MIN_TUNING_RTT_MS}, so loopback and LAN streams still grow to the largest windows.
 *
 * @module
 */

import {
  LimitExceededError,
  StreamClosedError,
  StreamResetError,
  TimeoutError,
} from "../../src/errors.ts";
import type { MuxerMemory } from "../../src/muxer.ts";
import { decodeHeader, type FrameHeader } from "./codec.ts";
import {
  CREDIT_STEP,
  Flag,
  FrameType,
  GoAwayCode,
  HEADER_LENGTH,
  INITIAL_STREAM_WINDOW,
  LOSS_TUNING_FACTOR,
  MAX_STREAM_ID,
  MAX_WINDOW,
  MIN_TUNING_RTT_MS,
  STALL_GAP,
  STARTUP_RTT_SAMPLES,
  TUNING_FACTOR,
} from "./constants.ts";
import { YamuxProtocolError } from "./errors.ts";
import type { ResolvedYamuxOptions } from "./options.ts";
import { Outbox } from "./outbox.ts";

/** What the session reports to its driver. Callbacks run synchronously inside session calls. */
export interface SessionEvents {
  /** The outbox went from empty to non-empty: schedule a flush. */
  onOutput(): void;
  /** The remote opened stream `id` and we accepted (and ACKed) it. */
  onStreamOpened(id: number): void;
  /** Payload for stream `id` (a view into the received chunk; not copied). */
  onStreamData(id: number, data: Uint8Array): void;
  /** The remote half-closed stream `id` (FIN). */
  onStreamFin(id: number): void;
  /** The remote reset stream `id` (RST). */
  onStreamReset(id: number): void;
  /** The send window of stream `id` grew. */
  onSendWindow(id: number): void;
  /** Stream `id` left the session (both directions closed, or reset). */
  onStreamFreed(id: number): void;
  /** The ACK backlog shrank: a waiting newStream() may proceed. */
  onAckBacklog(): void;
  /** The remote sent GoAway with `code`: open no more streams. */
  onGoAway(code: number): void;
  /** The session failed; a GoAway was queued when the remote broke the protocol. */
  onError(error: Error): void;
}

/** Per-stream state. */
export interface StreamState {
  /** Stream id. */
  readonly id: number;
  /** We opened it. */
  readonly outbound: boolean;
  /** The remote acknowledged it (always true for inbound streams: we ACK at once). */
  acked: boolean;
  /** Bytes we may still send. */
  sendWindow: number;
  /** Current receive window size (grows with auto-tuning). */
  recvMax: number;
  /** Bytes the remote may still send before our next WindowUpdate. */
  recvCredit: number;
  /** Bytes received and handed to the application but not read yet. */
  buffered: number;
  /** When we opened it (ms): its SYN -> ACK time is a round-trip sample. */
  readonly openedAt: number;
  /** Start of the current auto-tuning period (ms). */
  tuneStart: number;
  /** Bytes the application consumed in the current auto-tuning period. */
  tuneBytes: number;
  /** Consumption rate of the previous period, bytes/ms (Infinity before the first). */
  lastRate: number;
  /** When data for it last arrived (ms). */
  lastDataAt: number;
  /** The current period saw a gap in arrivals of most of an RTT (see {@link LOSS_TUNING_FACTOR}). */
  stalled: boolean;
  /** Stalled periods in a row before the current one. */
  stalledRun: number;
  /** We sent FIN. */
  localFin: boolean;
  /** The remote sent FIN. */
  remoteFin: boolean;
  /** The application stopped reading: incoming data is dropped and credited back at once. */
  readClosed: boolean;
  /** Reset (either side). */
  reset: boolean;
}

/**
 * One Yamux session's state machine.
 *
 * @example
 * ```ts
 * import { YamuxSession } from "./session.ts";
 * import { resolveYamuxOptions } from "./options.ts";
 * const events = { onOutput() {}, onStreamOpened() {}, onStreamData() {}, onStreamFin() {},
 *   onStreamReset() {}, onSendWindow() {}, onStreamFreed() {}, onAckBacklog() {},
 *   onGoAway() {}, onError() {} };
 * const s = new YamuxSession(true, resolveYamuxOptions(), events, 0);
 * const id = s.openStream(0); // 1
 * s.outbox.take(); // the WindowUpdate(SYN) frame, plus the initial RTT ping
 * ```
 */
export class YamuxSession {
  /** Encoded frames waiting for the connection. */
  readonly outbox: Outbox;
  readonly #client: boolean;
  readonly #opts: ResolvedYamuxOptions;
  readonly #ev: SessionEvents;
  // Made with the first stream and dropped with the last: an idle session holds no empty map.
  #streams: Map<number, StreamState> | undefined;
  #nextId: number;
  #inbound = 0;
  #outbound = 0;
  #ackBacklog = 0;
  /** Sum of recvMax over live streams (all of it reserved from #memory when one is given). */
  #advertised = 0;
  /** The node's memory budget for advertised windows, if any. */
  readonly #memory: MuxerMemory | undefined;
  /** Sum of (recvMax - initialStreamWindow) over live streams. */
  #tuned = 0;
  #localGoAway = false;
  #remoteGoAway: number | undefined;
  #failed: Error | undefined;
  // Parser state: a header split across chunks, then the payload of the current Data frame.
  // The split-header buffer is made on first use: most connections never need it.
  #scratch: Uint8Array | undefined;
  #scratchFill = 0;
  #remaining = 0;
  #frameFlags = 0;
  #frameStream: StreamState | undefined;
  // Pings: one of ours outstanding at a time.
  #pingSeq = 0;
  #pingOut: { id: number; sentAt: number } | undefined;
  #rtt: number | undefined;
  /**
   * The least round trip seen (pings and the SYN -> ACK of streams we opened): what window
   * auto-tuning uses. A sample is never shorter than the path's RTT, only longer (queueing, a
   * busy event loop on either side), so the minimum is the best estimate of the path itself.
   */
  #minRtt: number | undefined;
  /** Pings still to send back to back after the first (see {@link STARTUP_RTT_SAMPLES}). */
  #startupPings = STARTUP_RTT_SAMPLES - 1;
  #nextPingAt: number;

  /**
   * `client` is true on the side that dialled the connection (odd stream ids). `now` is the
   * driver's clock in ms; an RTT ping is sent at once.
   */
  constructor(
    client: boolean,
    opts: ResolvedYamuxOptions,
    events: SessionEvents,
    now: number,
    memory?: MuxerMemory,
  ) {
    this.#memory = memory;
    this.#client = client;
    this.#opts = opts;
    this.#ev = events;
    this.#nextId = client ? 1 : 2;
    this.outbox = new Outbox(events);
    this.#nextPingAt = now + opts.keepAliveIntervalMs;
    this.#sendPing(now);
  }

  /** Live streams. */
  get streamCount(): number {
    return this.#streams?.size ?? 0;
  }

  /** Streams we opened that the remote has not acknowledged. */
  get ackBacklog(): number {
    return this.#ackBacklog;
  }

  /** Sum of the receive windows advertised across live streams. */
  get advertisedWindow(): number {
    return this.#advertised;
  }

  /** Last measured round-trip time (ms), if any. */
  get rtt(): number | undefined {
    return this.#rtt;
  }

  /** The error the session failed with, if it did. */
  get failure(): Error | undefined {
    return this.#failed;
  }

  /** We sent GoAway (or failed). */
  get localGoAway(): boolean {
    return this.#localGoAway;
  }

  /** The code of the remote's GoAway, if it sent one. */
  get remoteGoAway(): number | undefined {
    return this.#remoteGoAway;
  }

  /** State of a live stream (tests and the service read it; do not mutate). */
  stream(id: number): StreamState | undefined {
    return this.#streams?.get(id);
  }

  /** Whether newStream() would have to wait for the ACK backlog to shrink. */
  get ackBacklogFull(): boolean {
    return this.#ackBacklog >= this.#opts.maxAckBacklog;
  }

  // ---------------------------------------------------------------------------------------------
  // Input: bytes from the connection.

  /**
   * Feed bytes from the connection, split anywhere. Protocol violations do not throw: they fail
   * the session (GoAway queued, `onError` called) and later input is ignored.
   */
  receive(chunk: Uint8Array, now: number): void {
    if (this.#failed !== undefined) return;
    try {
      this.#parse(chunk, now);
    } catch (err) {
      this.#fail(
        err instanceof YamuxProtocolError ? err : new YamuxProtocolError(
          "internal error while handling a frame",
          GoAwayCode.InternalError,
          { cause: err },
        ),
      );
    }
  }

  #parse(chunk: Uint8Array, now: number): void {
    const len = chunk.byteLength;
    let off = 0;
    while (off < len && this.#failed === undefined) {
      if (this.#remaining > 0) {
        const n = Math.min(this.#remaining, len - off);
        const view = chunk.subarray(off, off + n);
        off += n;
        this.#remaining -= n;
        this.#deliver(view, now);
        if (this.#remaining === 0) this.#endData();
        continue;
      }
      let header: FrameHeader;
      if (this.#scratchFill > 0 || len - off < HEADER_LENGTH) {
        const n = Math.min(HEADER_LENGTH - this.#scratchFill, len - off);
        const scratch = this.#scratch ??= new Uint8Array(HEADER_LENGTH);
        scratch.set(chunk.subarray(off, off + n), this.#scratchFill);
        this.#scratchFill += n;
        off += n;
        if (this.#scratchFill < HEADER_LENGTH) return;
        this.#scratchFill = 0;
        header = decodeHeader(scratch)!;
      } else {
        header = decodeHeader(chunk, off)!;
        off += HEADER_LENGTH;
      }
      this.#onHeader(header, now);
    }
  }

  #onHeader(h: FrameHeader, now: number): void {
    const { type, flags, streamId: id, length } = h;
    if (type === FrameType.Ping || type === FrameType.GoAway) {
      // spec.md: Ping and GoAway address the session, stream id 0.
      if (id !== 0) throw new YamuxProtocolError(`${frameName(type)} frame on stream ${id}`);
      if (type === FrameType.Ping) this.#onPing(flags, length, now);
      else {
        this.#remoteGoAway = length;
        this.#ev.onGoAway(length);
      }
      return;
    }
    // Data and WindowUpdate address a stream; there is no session-level window in yamux.
    if (id === 0) throw new YamuxProtocolError(`${frameName(type)} frame on stream 0`);
    let s = this.#streams?.get(id);
    if (flags & Flag.SYN) s = this.#onSyn(id, now);
    if (s !== undefined && flags & Flag.ACK && s.outbound && !s.acked) {
      s.acked = true;
      this.#rttSample(now - s.openedAt);
      this.#ackBacklogShrank();
    }
    if (type === FrameType.WindowUpdate) {
      if (s !== undefined && length > 0 && !s.reset) {
        // HARDENING rule 3: a credit that would pass 2^32-1 is an error, not a wraparound.
        const next = s.sendWindow + length;
        if (next > MAX_WINDOW) {
          throw new YamuxProtocolError(`window update overflows the send window of stream ${id}`);
        }
        s.sendWindow = next;
        this.#ev.onSendWindow(id);
      }
      this.#endFlags(s, flags);
      return;
    }
    // Data. No legitimate frame exceeds the largest window we can ever grant.
    if (length > this.#opts.maxStreamWindow) {
      throw new YamuxProtocolError(`data frame of ${length} bytes exceeds any receive window`);
    }
    if (s !== undefined && length > 0) {
      if (s.remoteFin) throw new YamuxProtocolError(`data after FIN on stream ${id}`);
      if (length > s.recvCredit) {
        throw new YamuxProtocolError(
          `data beyond the receive window on stream ${id} (${length} > ${s.recvCredit})`,
        );
      }
      s.recvCredit -= length;
    }
    // Data for an unknown (already freed or refused) stream is skipped without buffering.
    this.#frameStream = s;
    this.#frameFlags = flags;
    this.#remaining = length;
    if (length === 0) this.#endData();
  }

  #onSyn(id: number, now: number): StreamState | undefined {
    // Client streams are odd, server streams even (spec.md, "StreamID Field").
    const remoteParity = this.#client ? 0 : 1;
    if ((id & 1) !== remoteParity) {
      throw new YamuxProtocolError(`remote opened stream ${id} with our id parity`);
    }
    if (this.#streams?.has(id) === true) {
      throw new YamuxProtocolError(`duplicate SYN for stream ${id}`);
    }
    const initial = this.#opts.initialStreamWindow;
    if (
      this.#localGoAway || this.#inbound >= this.#opts.maxStreams ||
      this.#advertised + initial > this.#opts.perConnectionBudget ||
      !this.#reserve(initial)
    ) {
      // Refuse the stream, not the session.
      this.outbox.frame(FrameType.WindowUpdate, Flag.RST, id, 0);
      return undefined;
    }
    this.#newState(id, false, now);
    this.#inbound++;
    this.outbox.frame(FrameType.WindowUpdate, Flag.ACK, id, initial - INITIAL_STREAM_WINDOW);
    this.#ev.onStreamOpened(id);
    // The handler may have reset it already.
    return this.#streams?.get(id);
  }

  #deliver(view: Uint8Array, now: number): void {
    const s = this.#frameStream;
    if (s === undefined || s.reset) return;
    if (s.readClosed) {
      // Nobody will read it: drop it and give the credit back so the sender is not stuck.
      this.#grant(s, now);
      return;
    }
    s.buffered += view.byteLength;
    if (this.#minRtt !== undefined && now - s.lastDataAt >= STALL_GAP * tuningRtt(this.#minRtt)) {
      s.stalled = true;
    }
    s.lastDataAt = now;
    this.#ev.onStreamData(s.id, view);
  }

  #endData(): void {
    const s = this.#frameStream;
    this.#frameStream = undefined;
    this.#endFlags(s, this.#frameFlags);
  }

  /** FIN and RST take effect after the frame's payload. */
  #endFlags(s: StreamState | undefined, flags: number): void {
    if (s === undefined || s.reset || this.#streams?.get(s.id) !== s) return;
    if (flags & Flag.RST) {
      s.reset = true;
      this.#ev.onStreamReset(s.id);
      this.#free(s);
      return;
    }
    if (flags & Flag.FIN && !s.remoteFin) {
      s.remoteFin = true;
      this.#ev.onStreamFin(s.id);
      if (s.localFin) this.#free(s);
    }
  }

  #onPing(flags: number, opaque: number, now: number): void {
    if (flags & Flag.SYN) {
      // Bounded: replies beyond the limit are dropped until the connection takes the outbox.
      if (this.outbox.pingReplies < this.#opts.maxPendingPingReplies) {
        this.outbox.pingReplies++;
        this.outbox.frame(FrameType.Ping, Flag.ACK, 0, opaque);
      }
    } else if (flags & Flag.ACK) {
      const out = this.#pingOut;
      if (out !== undefined && out.id === opaque) {
        this.#rtt = Math.max(0, now - out.sentAt);
        this.#rttSample(this.#rtt);
        this.#pingOut = undefined;
        if (this.#startupPings > 0 && this.#failed === undefined) {
          this.#startupPings--;
          this.#sendPing(now);
        }
      }
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Local commands.

  /**
   * Open an outbound stream: queues WindowUpdate(SYN) and returns its id. Throws
   * LimitExceededError at the stream cap, the budget or the ACK backlog (check
   * {@link ackBacklogFull} first to wait instead), StreamClosedError once the session is
   * closing.
   */
  openStream(now: number): number {
    if (this.#failed !== undefined || this.#localGoAway || this.#remoteGoAway !== undefined) {
      throw new StreamClosedError("yamux session is closing: no new streams");
    }
    if (this.#outbound >= this.#opts.maxStreams) {
      throw new LimitExceededError("too many outbound yamux streams", "maxStreams");
    }
    const initial = this.#opts.initialStreamWindow;
    if (this.#advertised + initial > this.#opts.perConnectionBudget) {
      throw new LimitExceededError("yamux receive budget exhausted", "perConnectionBudget");
    }
    if (this.ackBacklogFull) {
      throw new LimitExceededError("too many unacknowledged yamux streams", "maxAckBacklog");
    }
    if (!this.#reserve(initial)) {
      throw new LimitExceededError("node memory budget exhausted for a yamux window", "memory");
    }
    const id = this.#nextId;
    if (id > MAX_STREAM_ID) throw new LimitExceededError("yamux stream ids exhausted", "streamId");
    this.#nextId += 2;
    this.#newState(id, true, now);
    this.#outbound++;
    this.#ackBacklog++;
    this.outbox.frame(FrameType.WindowUpdate, Flag.SYN, id, initial - INITIAL_STREAM_WINDOW);
    return id;
  }

  /**
   * Queue as much of `data` as the send window allows, in Data frames of at most
   * `maxMessageSize` (a write queued right after one of the same stream extends its frame, see
   * Outbox.data); returns the number of bytes queued (0 when the window is empty).
   */
  write(id: number, data: Uint8Array): number {
    const s = this.#writable(id);
    const n = Math.min(data.byteLength, s.sendWindow);
    const max = this.#opts.maxMessageSize;
    for (let off = 0; off < n; off += max) {
      this.outbox.data(0, id, data.subarray(off, Math.min(n, off + max)), max);
    }
    s.sendWindow -= n;
    return n;
  }

  /** Send window of a live stream (0 when unknown). */
  sendWindow(id: number): number {
    return this.#streams?.get(id)?.sendWindow ?? 0;
  }

  /** Half-close: queue FIN. Idempotent. Frees the stream if the remote closed too. */
  closeWrite(id: number): void {
    const s = this.#streams?.get(id);
    if (s === undefined || s.localFin) return;
    s.localFin = true;
    this.outbox.frame(FrameType.WindowUpdate, Flag.FIN, id, 0);
    if (s.remoteFin) this.#free(s);
  }

  /** Reset: queue RST and free the stream. Idempotent. */
  resetStream(id: number): void {
    const s = this.#streams?.get(id);
    if (s === undefined) return;
    s.reset = true;
    this.outbox.frame(FrameType.WindowUpdate, Flag.RST, id, 0);
    this.#free(s);
  }

  /** The application read `n` bytes of stream `id`: credit them back when worthwhile. */
  consume(id: number, n: number, now: number): void {
    const s = this.#streams?.get(id);
    if (s === undefined || n <= 0) return;
    s.buffered = Math.max(0, s.buffered - n);
    s.tuneBytes += n;
    this.#grant(s, now);
  }

  /** The application stopped reading stream `id`: drop what it buffered and future data. */
  closeRead(id: number, now: number): void {
    const s = this.#streams?.get(id);
    if (s === undefined || s.readClosed) return;
    s.readClosed = true;
    s.buffered = 0;
    this.#grant(s, now);
  }

  /** Send GoAway(`code`) once; refuse new streams from both sides from now on. */
  goAway(code: GoAwayCode = GoAwayCode.Normal): void {
    if (this.#localGoAway || this.#failed !== undefined) return;
    this.#localGoAway = true;
    this.outbox.frame(FrameType.GoAway, 0, 0, code);
  }

  /** Drop all state without sending anything (the connection is gone). */
  destroy(error: Error): void {
    if (this.#failed === undefined) this.#failed = error;
    this.#localGoAway = true;
    if (this.#streams !== undefined) {
      for (const s of this.#streams.values()) s.reset = true;
      this.#streams = undefined;
    }
    if (this.#advertised > 0) this.#memory?.release(this.#advertised);
    this.#inbound =
      this.#outbound =
      this.#ackBacklog =
      this.#advertised =
      this.#tuned =
        0;
    this.#pingOut = undefined;
  }

  // ---------------------------------------------------------------------------------------------
  // Time.

  /** Drive keep-alive: send a ping when due, fail the session when one timed out. */
  tick(now: number): void {
    if (this.#failed !== undefined || this.#opts.keepAliveIntervalMs === 0) return;
    const out = this.#pingOut;
    if (out !== undefined) {
      if (now - out.sentAt >= this.#opts.pingTimeoutMs) {
        this.#fail(new TimeoutError(`yamux keep-alive ping unanswered for ${now - out.sentAt} ms`));
      }
      return;
    }
    if (now >= this.#nextPingAt) {
      this.#sendPing(now);
      this.#nextPingAt = now + this.#opts.keepAliveIntervalMs;
    }
  }

  /** When {@link tick} next has something to do, or undefined (keep-alive disabled / failed). */
  nextTimeout(): number | undefined {
    if (this.#failed !== undefined || this.#opts.keepAliveIntervalMs === 0) return undefined;
    const out = this.#pingOut;
    return out !== undefined ? out.sentAt + this.#opts.pingTimeoutMs : this.#nextPingAt;
  }

  // ---------------------------------------------------------------------------------------------

  #newState(id: number, outbound: boolean, now: number): StreamState {
    const initial = this.#opts.initialStreamWindow;
    const s: StreamState = {
      id,
      outbound,
      acked: !outbound,
      sendWindow: INITIAL_STREAM_WINDOW,
      recvMax: initial,
      recvCredit: initial,
      buffered: 0,
      openedAt: now,
      tuneStart: now,
      tuneBytes: 0,
      lastRate: Infinity,
      lastDataAt: now,
      stalled: false,
      stalledRun: 0,
      localFin: false,
      remoteFin: false,
      readClosed: false,
      reset: false,
    };
    (this.#streams ??= new Map()).set(id, s);
    this.#advertised += initial;
    return s;
  }

  #writable(id: number): StreamState {
    const s = this.#streams?.get(id);
    if (s === undefined || s.reset) throw new StreamResetError(`yamux stream ${id} was reset`);
    if (s.localFin) throw new StreamClosedError(`yamux stream ${id} is closed for writing`);
    return s;
  }

  #rttSample(ms: number): void {
    const sample = Math.max(0, ms);
    if (this.#minRtt === undefined || sample < this.#minRtt) this.#minRtt = sample;
  }

  /**
   * Send a WindowUpdate once at least 1/{@link CREDIT_STEP} of the window was consumed;
   * auto-tune first.
   */
  #grant(s: StreamState, now: number): void {
    if (s.remoteFin || s.reset) return;
    if (s.recvMax - s.recvCredit - s.buffered < s.recvMax / CREDIT_STEP) return;
    const rtt = this.#minRtt;
    if (rtt !== undefined && s.recvMax < this.#opts.maxStreamWindow) {
      const period = tuningRtt(rtt);
      const elapsed = now - s.tuneStart;
      if (elapsed >= period) {
        const rate = s.tuneBytes / elapsed;
        // A burst held back by a stall (in the network or either event loop) arrives within one
        // period: it may look at most twice as fast as the period before it.
        const steady = Math.min(rate, s.lastRate * 2);
        s.lastRate = rate;
        s.tuneStart = now;
        s.tuneBytes = 0;
        // Credit goes back in eighths of the window, so a window-limited stream moves about 7/8
        // of its window per RTT: 2 x rate x RTT is 1.75 x the window then, and 2 x BDP once the
        // link is the limit (8/7 x BDP already fills the link). A period with a stall in
        // arrivals (a loss held the data back in the kernel) aims higher.
        // Stalls period after period (steady loss) make the rate a measure of the window itself,
        // not of the link: the window doubles then (as TCP's does while nothing says it is too
        // large), within maxStreamWindow and the budget. One stall now and then (a busy event
        // loop) does not.
        let target = (s.stalled ? LOSS_TUNING_FACTOR : TUNING_FACTOR) * steady * period;
        if (s.stalled && s.stalledRun >= 1) target = Math.max(target, 2 * s.recvMax);
        s.stalledRun = s.stalled ? s.stalledRun + 1 : 0;
        s.stalled = false;
        if (target > s.recvMax) this.#autoTune(s, target);
      }
    }
    const delta = s.recvMax - s.recvCredit - s.buffered;
    s.recvCredit += delta;
    this.outbox.frame(FrameType.WindowUpdate, 0, s.id, delta);
  }

  /**
   * Grow the window towards `target` (at most doubling), within maxStreamWindow and the budget's
   * auto-tuning pool: what is left after reserving initialStreamWindow for maxStreams streams.
   */
  #autoTune(s: StreamState, target: number): void {
    const o = this.#opts;
    const pool = o.perConnectionBudget - o.maxStreams * o.initialStreamWindow;
    const want = Math.min(s.recvMax * 2, o.maxStreamWindow, Math.ceil(target)) - s.recvMax;
    const grow = Math.min(want, pool - this.#tuned, o.perConnectionBudget - this.#advertised);
    if (grow <= 0 || !this.#reserve(grow)) return;
    s.recvMax += grow;
    this.#tuned += grow;
    this.#advertised += grow;
  }

  /** Reserve window memory from the node's budget (always true without one). */
  #reserve(bytes: number): boolean {
    return this.#memory === undefined || this.#memory.reserve(bytes);
  }

  #free(s: StreamState): void {
    const streams = this.#streams;
    if (streams?.get(s.id) !== s) return;
    streams.delete(s.id);
    if (streams.size === 0) this.#streams = undefined;
    if (s.outbound) this.#outbound--;
    else this.#inbound--;
    this.#advertised -= s.recvMax;
    this.#memory?.release(s.recvMax);
    this.#tuned -= s.recvMax - this.#opts.initialStreamWindow;
    this.#ev.onStreamFreed(s.id);
    if (s.outbound && !s.acked) {
      s.acked = true;
      this.#ackBacklogShrank();
    }
  }

  #ackBacklogShrank(): void {
    this.#ackBacklog--;
    this.#ev.onAckBacklog();
  }

  #sendPing(now: number): void {
    this.#pingSeq = (this.#pingSeq + 1) >>> 0;
    this.#pingOut = { id: this.#pingSeq, sentAt: now };
    this.outbox.frame(FrameType.Ping, Flag.SYN, 0, this.#pingSeq);
  }

  #fail(err: Error): void {
    if (this.#failed !== undefined) return;
    if (err instanceof YamuxProtocolError) this.outbox.frame(FrameType.GoAway, 0, 0, err.code);
    this.#failed = err;
    this.#localGoAway = true;
    this.#ev.onError(err);
  }
}

/** The RTT auto-tuning works with: the least seen, at least {@link MIN_TUNING_RTT_MS}. */
function tuningRtt(minRtt: number): number {
  return Math.max(minRtt, MIN_TUNING_RTT_MS);
}

function frameName(type: number): string {
  return ["Data", "WindowUpdate", "Ping", "GoAway"][type] ?? `type ${type}`;
}
