/**
 * Sans-IO multistream-select 1.0 state machines. They take decoded messages and return the bytes
 * to send and the outcome; they never read a stream or a clock (service.ts does).
 *
 * Flow (multistream-select README, "Protocol"; libp2p/specs connections/README.md, "Protocol
 * Negotiation"): both sides send `/multistream/1.0.0` at once; the dialer coalesces the header
 * with its first proposal; the listener answers each proposal with the proposal itself (accepted)
 * or `na`, and `ls` with its protocol list.
 *
 * @module
 */

import { encodeLsResponse, encodeMessage, encodeMessages } from "./codec.ts";
import { LS, MAX_NEGOTIATION_ATTEMPTS, NA, PROTOCOL_ID } from "./constants.ts";
import {
  InvalidHeaderError,
  ProtocolNotSupportedError,
  TooManyAttemptsError,
  UnexpectedMessageError,
} from "./errors.ts";

/** What a state machine wants done after an event. */
export interface NegotiationStep {
  /** Bytes to write to the remote, if any (already framed; one write). */
  send?: Uint8Array;
  /** Set once a protocol was agreed on; the negotiation is then over. */
  protocol?: string;
}

function checkProtocols(protocols: readonly string[], allowEmpty = false): void {
  if (!Array.isArray(protocols) || (protocols.length === 0 && !allowEmpty)) {
    throw new TypeError("at least one protocol must be given");
  }
  for (const p of protocols) {
    if (typeof p !== "string" || p.length === 0) {
      throw new TypeError("protocol ids must be non-empty strings");
    }
    if (p === NA || p === LS || p === PROTOCOL_ID) {
      throw new TypeError(`"${p}" is reserved by multistream-select`);
    }
    encodeMessage(p); // throws RangeError when too long
  }
}

/**
 * The dialer (initiator) side: proposes protocols one by one until one is echoed.
 *
 * @example
 * ```ts
 * import { DialerNegotiation, PROTOCOL_ID } from "@p2p-edge/libp2p/protocols/multistream";
 * const dialer = new DialerNegotiation(["/a", "/b"]);
 * const hello = dialer.start(); // header + "/a" in one buffer
 * dialer.receive(PROTOCOL_ID); // {}
 * dialer.receive("na"); // { send: <"/b"> }
 * dialer.receive("/b"); // { protocol: "/b" }
 * ```
 */
export class DialerNegotiation {
  #protocols: readonly string[];
  #index = 0;
  #state: "idle" | "header" | "response" | "done" = "idle";

  /** Propose `protocols` in order. Throws TypeError/RangeError for unusable protocol ids. */
  constructor(protocols: readonly string[]) {
    checkProtocols(protocols);
    this.#protocols = [...protocols];
  }

  /** The protocol currently proposed. */
  get proposed(): string {
    return this.#protocols[this.#index];
  }

  /** The opening bytes: the header and the first proposal, coalesced into one write. */
  start(): Uint8Array {
    if (this.#state !== "idle") throw new TypeError("negotiation already started");
    this.#state = "header";
    return encodeMessages([PROTOCOL_ID, this.#protocols[0]]);
  }

  /**
   * Feed one message from the listener. Throws InvalidHeaderError if the first one is not the
   * header, ProtocolNotSupportedError when the last proposal got `na`, UnexpectedMessageError
   * for any other answer.
   */
  receive(text: string): NegotiationStep {
    switch (this.#state) {
      case "header":
        if (text !== PROTOCOL_ID) {
          throw new InvalidHeaderError(
            `expected ${PROTOCOL_ID} as the first message, got ${
              JSON.stringify(text.slice(0, 64))
            }`,
          );
        }
        this.#state = "response";
        return {};
      case "response": {
        const proposed = this.#protocols[this.#index];
        if (text === proposed) {
          this.#state = "done";
          return { protocol: proposed };
        }
        if (text !== NA) {
          throw new UnexpectedMessageError(
            `proposed ${proposed}, got ${JSON.stringify(text.slice(0, 64))}`,
          );
        }
        this.#index++;
        if (this.#index >= this.#protocols.length) {
          this.#state = "done";
          throw new ProtocolNotSupportedError(
            `remote supports none of ${this.#protocols.join(", ")}`,
          );
        }
        return { send: encodeMessage(this.#protocols[this.#index]) };
      }
      default:
        throw new TypeError(`dialer negotiation cannot receive in state ${this.#state}`);
    }
  }
}

/** Options for {@link ListenerNegotiation}. */
export interface ListenerNegotiationOptions {
  /**
   * How many proposals (including `ls` requests) may be answered before the negotiation fails
   * with TooManyAttemptsError. Default {@link MAX_NEGOTIATION_ATTEMPTS}.
   */
  maxAttempts?: number;
}

/**
 * The listener (responder) side: answers the header, `na` to unsupported proposals, `ls` with its
 * list, and echoes the first supported proposal.
 *
 * @example
 * ```ts
 * import { ListenerNegotiation, PROTOCOL_ID } from "@p2p-edge/libp2p/protocols/multistream";
 * const listener = new ListenerNegotiation(["/b"]);
 * const header = listener.start(); // our header, sent at once
 * listener.receive(PROTOCOL_ID); // {}
 * listener.receive("/a"); // { send: <na> }
 * listener.receive("/b"); // { send: <"/b">, protocol: "/b" }
 * ```
 */
export class ListenerNegotiation {
  #match: (id: string) => boolean;
  #list: readonly string[];
  #maxAttempts: number;
  #attempts = 0;
  #state: "idle" | "header" | "proposal" | "done" = "idle";

  /**
   * Accept the listed protocols, or those a predicate accepts (an `ls` is then answered with an
   * empty list).
   */
  constructor(
    protocols: readonly string[] | ((id: string) => boolean),
    options: ListenerNegotiationOptions = {},
  ) {
    if (typeof protocols === "function") {
      this.#match = protocols;
      this.#list = [];
    } else {
      // A listener with nothing to offer is valid: it answers `na` to every proposal.
      checkProtocols(protocols, true);
      const set = new Set(protocols);
      this.#match = (id) => set.has(id);
      this.#list = [...protocols];
    }
    const max = options.maxAttempts ?? MAX_NEGOTIATION_ATTEMPTS;
    if (!Number.isSafeInteger(max) || max < 0) {
      throw new RangeError(`maxAttempts must be a non-negative integer, got ${max}`);
    }
    this.#maxAttempts = max;
  }

  /** Proposals and `ls` requests answered so far. */
  get attempts(): number {
    return this.#attempts;
  }

  /** Our header, sent without waiting for the dialer's. */
  start(): Uint8Array {
    if (this.#state !== "idle") throw new TypeError("negotiation already started");
    this.#state = "header";
    return encodeMessage(PROTOCOL_ID);
  }

  /**
   * Feed one message from the dialer. Throws InvalidHeaderError if the first one is not the
   * header and TooManyAttemptsError past the attempt cap.
   */
  receive(text: string): NegotiationStep {
    switch (this.#state) {
      case "header":
        if (text !== PROTOCOL_ID) {
          throw new InvalidHeaderError(
            `expected ${PROTOCOL_ID} as the first message, got ${
              JSON.stringify(text.slice(0, 64))
            }`,
          );
        }
        this.#state = "proposal";
        return {};
      case "proposal": {
        if (text !== LS && text !== NA && text !== PROTOCOL_ID && this.#match(text)) {
          this.#state = "done";
          return { send: encodeMessage(text), protocol: text };
        }
        if (this.#attempts >= this.#maxAttempts) {
          this.#state = "done";
          throw new TooManyAttemptsError(
            `dialer made more than ${this.#maxAttempts} unsuccessful proposals`,
          );
        }
        this.#attempts++;
        if (text === LS) return { send: encodeLsResponse(this.#list) };
        return { send: encodeMessage(NA) };
      }
      default:
        throw new TypeError(`listener negotiation cannot receive in state ${this.#state}`);
    }
  }
}
