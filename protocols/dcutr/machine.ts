/**
 * The DCUtR exchange as sans-IO state machines with an injected clock (libp2p/specs
 * relay/DCUtR.md, "The protocol"). Names follow the spec: A dialled B through a relay; B, the
 * side that received the relayed connection, is the **initiator** here: it sends CONNECT,
 * measures the round trip until A's CONNECT, sends SYNC and dials after RTT/2. A, the
 * **responder**, answers CONNECT with its own addresses and dials as soon as SYNC arrives. The
 * initiator repeats the whole exchange (RTT measured afresh) up to {@link MAX_ATTEMPTS} times,
 * pausing `retryBackoffMs × attempt` in between.
 *
 * The machines only return actions; the service (service.ts) performs them (writes a frame,
 * opens a stream, dials) and feeds back what happened together with the current time. Timers are
 * a single deadline the service reads with `deadline()` and reports with `tick(now)`.
 *
 * @module
 */

import { type HolePunch, HolePunchType } from "./codec.ts";
import {
  DEFAULT_EXCHANGE_TIMEOUT_MS,
  DEFAULT_RETRY_BACKOFF_MS,
  MAX_ATTEMPTS,
} from "./constants.ts";

/** What a machine asks the service to do. */
export type DcutrAction =
  /** Open a fresh DCUtR stream on the relayed connection, then call `streamOpened(now)`. */
  | { type: "open-stream"; attempt: number }
  /** Write this message on the current stream. */
  | { type: "send"; message: HolePunch }
  /** Dial the other side on these binary multiaddrs, then call `dialResult`. */
  | { type: "dial"; addrs: Uint8Array[]; attempt: number }
  /** Close (initiator: the current attempt's) stream. */
  | { type: "close-stream" }
  /** The machine finished: `ok` when a direct connection was made (initiator) or a dial was made (responder). */
  | { type: "done"; ok: boolean; reason: string };

/** Options shared by both machines. */
export interface MachineOptions {
  /** Our addresses to send in CONNECT (binary multiaddrs, already filtered). */
  ourAddrs: Uint8Array[];
  /** Deadline for the other side's message, ms. Default 10 s. */
  exchangeTimeoutMs?: number;
}

/** Options of {@link InitiatorMachine}. */
export interface InitiatorOptions extends MachineOptions {
  /** Attempts at most. Default 3 (DCUtR.md). */
  maxAttempts?: number;
  /** Pause before attempt n+1 is n × this, ms. Default 1 s. */
  retryBackoffMs?: number;
}

type InitiatorState =
  | { s: "idle" }
  | { s: "opening"; attempt: number }
  | { s: "await-connect"; attempt: number; sentAt: number; deadline: number }
  | { s: "wait-dial"; attempt: number; rtt: number; dialAt: number; addrs: Uint8Array[] }
  | { s: "dialling"; attempt: number; rtt: number }
  | { s: "backoff"; attempt: number; until: number }
  | { s: "done" };

/**
 * B's side: CONNECT, RTT, SYNC, dial at RTT/2; retries.
 *
 * @example
 * ```ts
 * import { InitiatorMachine } from "@p2p-edge/libp2p/protocols/dcutr";
 * const m = new InitiatorMachine({ ourAddrs: [] });
 * m.start(0); // [{ type: "open-stream", attempt: 1 }]
 * ```
 */
export class InitiatorMachine {
  readonly #ourAddrs: Uint8Array[];
  readonly #timeoutMs: number;
  readonly #maxAttempts: number;
  readonly #backoffMs: number;
  #state: InitiatorState = { s: "idle" };
  #attempt = 0;
  /** Round-trip times measured, one per attempt that got an answer, ms. */
  readonly rtts: number[] = [];

  /** Validate the options. */
  constructor(options: InitiatorOptions) {
    this.#ourAddrs = options.ourAddrs;
    this.#timeoutMs = options.exchangeTimeoutMs ?? DEFAULT_EXCHANGE_TIMEOUT_MS;
    this.#maxAttempts = options.maxAttempts ?? MAX_ATTEMPTS;
    this.#backoffMs = options.retryBackoffMs ?? DEFAULT_RETRY_BACKOFF_MS;
    if (!(this.#timeoutMs > 0)) throw new RangeError("exchangeTimeoutMs must be > 0");
    if (!Number.isInteger(this.#maxAttempts) || this.#maxAttempts < 1) {
      throw new RangeError("maxAttempts must be an integer >= 1");
    }
    if (!(this.#backoffMs >= 0)) throw new RangeError("retryBackoffMs must be >= 0");
  }

  /** The current state's name (for tests and logs). */
  get state(): string {
    return this.#state.s;
  }

  /** The attempt in progress, or the last one once done (1-based); 0 before start. */
  get attempt(): number {
    return this.#attempt;
  }

  /** Begin attempt 1. */
  start(_now: number): DcutrAction[] {
    if (this.#state.s !== "idle") return [];
    this.#state = { s: "opening", attempt: 1 };
    this.#attempt = 1;
    return [{ type: "open-stream", attempt: 1 }];
  }

  /** The stream of the current attempt is open: send CONNECT and start the RTT clock. */
  streamOpened(now: number): DcutrAction[] {
    if (this.#state.s !== "opening") return [];
    const attempt = this.#state.attempt;
    this.#state = { s: "await-connect", attempt, sentAt: now, deadline: now + this.#timeoutMs };
    return [{ type: "send", message: { type: HolePunchType.CONNECT, obsAddrs: this.#ourAddrs } }];
  }

  /** Opening the stream failed: this attempt failed. */
  streamFailed(now: number, reason: string): DcutrAction[] {
    if (this.#state.s !== "opening") return [];
    return this.#attemptFailed(now, `stream: ${reason}`);
  }

  /** A message arrived on the current stream. */
  message(message: HolePunch, now: number): DcutrAction[] {
    const st = this.#state;
    if (st.s !== "await-connect") {
      return this.#fail(`unexpected HolePunch type ${message.type} in state ${st.s}`);
    }
    if (message.type !== HolePunchType.CONNECT) {
      return this.#fail(`expected CONNECT, got HolePunch type ${message.type}`);
    }
    // No addresses: we have nothing to dial, but the SYNC still tells the other side to dial
    // ours, so the exchange goes on (the service then waits for its connection).
    const rtt = Math.max(0, now - st.sentAt);
    this.rtts.push(rtt);
    this.#state = {
      s: "wait-dial",
      attempt: st.attempt,
      rtt,
      dialAt: now + rtt / 2,
      addrs: message.obsAddrs,
    };
    return [{ type: "send", message: { type: HolePunchType.SYNC, obsAddrs: [] } }];
  }

  /** The stream ended or failed before the exchange finished. */
  streamEnded(now: number, reason: string): DcutrAction[] {
    if (this.#state.s !== "await-connect") return [];
    return this.#attemptFailed(now, reason);
  }

  /** The dial of the current attempt ended. */
  dialResult(ok: boolean, now: number, reason = "dial failed"): DcutrAction[] {
    if (this.#state.s !== "dialling") return [];
    if (ok) {
      this.#state = { s: "done" };
      return [{ type: "done", ok: true, reason: "direct connection established" }];
    }
    return this.#attemptFailed(now, reason);
  }

  /** When {@link tick} should be called next, or undefined. */
  deadline(): number | undefined {
    const st = this.#state;
    if (st.s === "await-connect") return st.deadline;
    if (st.s === "wait-dial") return st.dialAt;
    if (st.s === "backoff") return st.until;
    return undefined;
  }

  /** Time passed: fire what is due. */
  tick(now: number): DcutrAction[] {
    const st = this.#state;
    if (st.s === "await-connect" && now >= st.deadline) {
      return this.#attemptFailed(now, "no CONNECT answer before the deadline");
    }
    if (st.s === "wait-dial" && now >= st.dialAt) {
      this.#state = { s: "dialling", attempt: st.attempt, rtt: st.rtt };
      return [{ type: "close-stream" }, { type: "dial", addrs: st.addrs, attempt: st.attempt }];
    }
    if (st.s === "backoff" && now >= st.until) {
      const attempt = st.attempt + 1;
      this.#state = { s: "opening", attempt };
      this.#attempt = attempt;
      return [{ type: "open-stream", attempt }];
    }
    return [];
  }

  /** Stop: the relayed connection closed or the service stopped. */
  cancel(reason: string): DcutrAction[] {
    if (this.#state.s === "done") return [];
    return this.#fail(reason);
  }

  #attemptFailed(now: number, reason: string): DcutrAction[] {
    const attempt = this.attempt;
    if (attempt >= this.#maxAttempts) {
      return this.#fail(`${attempt} attempts failed; last: ${reason}`);
    }
    this.#state = { s: "backoff", attempt, until: now + this.#backoffMs * attempt };
    return [{ type: "close-stream" }];
  }

  #fail(reason: string): DcutrAction[] {
    this.#state = { s: "done" };
    return [{ type: "close-stream" }, { type: "done", ok: false, reason }];
  }
}

type ResponderState =
  | { s: "await-connect"; deadline: number }
  | { s: "await-sync"; deadline: number; addrs: Uint8Array[] }
  | { s: "done" };

/**
 * A's side of one inbound DCUtR stream: answer CONNECT with our addresses, dial on SYNC.
 *
 * @example
 * ```ts
 * import { HolePunchType, ResponderMachine } from "@p2p-edge/libp2p/protocols/dcutr";
 * const m = new ResponderMachine({ ourAddrs: [] }, 0);
 * m.message({ type: HolePunchType.CONNECT, obsAddrs: [new Uint8Array([4, 1, 2, 3, 4])] }, 5);
 * ```
 */
export class ResponderMachine {
  readonly #ourAddrs: Uint8Array[];
  readonly #timeoutMs: number;
  #state: ResponderState;

  /** A stream opened at `now`; the CONNECT is due within the exchange timeout. */
  constructor(options: MachineOptions, now: number) {
    this.#ourAddrs = options.ourAddrs;
    this.#timeoutMs = options.exchangeTimeoutMs ?? DEFAULT_EXCHANGE_TIMEOUT_MS;
    if (!(this.#timeoutMs > 0)) throw new RangeError("exchangeTimeoutMs must be > 0");
    this.#state = { s: "await-connect", deadline: now + this.#timeoutMs };
  }

  /** The current state's name. */
  get state(): string {
    return this.#state.s;
  }

  /** A message arrived. */
  message(message: HolePunch, now: number): DcutrAction[] {
    const st = this.#state;
    if (st.s === "await-connect" && message.type === HolePunchType.CONNECT) {
      // Without addresses we dial nothing on SYNC; the initiator's own dial may still work.
      this.#state = { s: "await-sync", deadline: now + this.#timeoutMs, addrs: message.obsAddrs };
      return [{
        type: "send",
        message: { type: HolePunchType.CONNECT, obsAddrs: this.#ourAddrs },
      }];
    }
    if (st.s === "await-sync" && message.type === HolePunchType.SYNC) {
      this.#state = { s: "done" };
      return [
        { type: "close-stream" },
        { type: "dial", addrs: st.addrs, attempt: 1 },
        { type: "done", ok: true, reason: "SYNC received, dialling" },
      ];
    }
    return this.#fail(`unexpected HolePunch type ${message.type} in state ${st.s}`);
  }

  /** The stream ended before the exchange finished. */
  streamEnded(reason: string): DcutrAction[] {
    if (this.#state.s === "done") return [];
    return this.#fail(reason);
  }

  /** When {@link tick} should be called next. */
  deadline(): number | undefined {
    return this.#state.s === "done" ? undefined : this.#state.deadline;
  }

  /** Time passed: a missing CONNECT or SYNC fails the exchange at its deadline. */
  tick(now: number): DcutrAction[] {
    const st = this.#state;
    if (st.s === "done" || now < st.deadline) return [];
    const what = st.s === "await-connect" ? "CONNECT" : "SYNC";
    return this.#fail(`no ${what} before the deadline`);
  }

  #fail(reason: string): DcutrAction[] {
    this.#state = { s: "done" };
    return [{ type: "close-stream" }, { type: "done", ok: false, reason }];
  }
}
