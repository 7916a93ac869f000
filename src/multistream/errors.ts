/**
 * multistream-select errors. Every one is a ProtocolNegotiationError; each failure class has its
 * own subclass and a distinct `reason`, so callers and tests can tell them apart. Deadlines and
 * aborts surface as the shared TimeoutError / AbortError instead.
 *
 * @module
 */

import { ProtocolNegotiationError } from "../errors.ts";

/** Why a multistream-select negotiation failed. */
export type MultistreamErrorReason =
  | "invalid-header"
  | "too-long"
  | "missing-newline"
  | "invalid-utf8"
  | "invalid-length"
  | "unexpected-message"
  | "not-supported"
  | "too-many-attempts"
  | "unexpected-eof"
  | "invalid-list";

/**
 * Base class of the multistream-select errors; `reason` names the failure.
 *
 * @example
 * ```ts
 * import { MultistreamError } from "@p2p-edge/libp2p/protocols/multistream";
 * const err = new MultistreamError("bad", "invalid-header");
 * console.log(err.reason); // "invalid-header"
 * ```
 */
export class MultistreamError extends ProtocolNegotiationError {
  /** Which failure this is. */
  readonly reason: MultistreamErrorReason;
  /** Create an error with its reason. */
  constructor(message: string, reason: MultistreamErrorReason, options?: ErrorOptions) {
    super(message, options);
    this.reason = reason;
  }
}

/**
 * The first message was not `/multistream/1.0.0`.
 *
 * @example
 * ```ts
 * import { InvalidHeaderError } from "@p2p-edge/libp2p/protocols/multistream";
 * console.log(new InvalidHeaderError("got /foo").reason); // "invalid-header"
 * ```
 */
export class InvalidHeaderError extends MultistreamError {
  /** Create the error. */
  constructor(message: string, options?: ErrorOptions) {
    super(message, "invalid-header", options);
  }
}

/**
 * A length prefix exceeded the limit (checked before the body is buffered).
 *
 * @example
 * ```ts
 * import { MessageTooLongError } from "@p2p-edge/libp2p/protocols/multistream";
 * console.log(new MessageTooLongError("1025 > 1024").reason); // "too-long"
 * ```
 */
export class MessageTooLongError extends MultistreamError {
  /** Create the error. */
  constructor(message: string, options?: ErrorOptions) {
    super(message, "too-long", options);
  }
}

/**
 * A message did not end with `\n` (or was empty).
 *
 * @example
 * ```ts
 * import { MissingNewlineError } from "@p2p-edge/libp2p/protocols/multistream";
 * console.log(new MissingNewlineError("no newline").reason); // "missing-newline"
 * ```
 */
export class MissingNewlineError extends MultistreamError {
  /** Create the error. */
  constructor(message: string, options?: ErrorOptions) {
    super(message, "missing-newline", options);
  }
}

/**
 * A message was not valid UTF-8.
 *
 * @example
 * ```ts
 * import { InvalidUtf8Error } from "@p2p-edge/libp2p/protocols/multistream";
 * console.log(new InvalidUtf8Error("bad utf-8").reason); // "invalid-utf8"
 * ```
 */
export class InvalidUtf8Error extends MultistreamError {
  /** Create the error. */
  constructor(message: string, options?: ErrorOptions) {
    super(message, "invalid-utf8", options);
  }
}

/**
 * A length prefix was not a valid minimal unsigned varint.
 *
 * @example
 * ```ts
 * import { InvalidLengthError } from "@p2p-edge/libp2p/protocols/multistream";
 * console.log(new InvalidLengthError("not minimal").reason); // "invalid-length"
 * ```
 */
export class InvalidLengthError extends MultistreamError {
  /** Create the error. */
  constructor(message: string, options?: ErrorOptions) {
    super(message, "invalid-length", options);
  }
}

/**
 * The listener answered a proposal with something other than the echo or `na`.
 *
 * @example
 * ```ts
 * import { UnexpectedMessageError } from "@p2p-edge/libp2p/protocols/multistream";
 * console.log(new UnexpectedMessageError("got /bar").reason); // "unexpected-message"
 * ```
 */
export class UnexpectedMessageError extends MultistreamError {
  /** Create the error. */
  constructor(message: string, options?: ErrorOptions) {
    super(message, "unexpected-message", options);
  }
}

/**
 * The listener answered `na` to every protocol the dialer proposed.
 *
 * @example
 * ```ts
 * import { ProtocolNotSupportedError } from "@p2p-edge/libp2p/protocols/multistream";
 * console.log(new ProtocolNotSupportedError("na").reason); // "not-supported"
 * ```
 */
export class ProtocolNotSupportedError extends MultistreamError {
  /** Create the error. */
  constructor(message: string, options?: ErrorOptions) {
    super(message, "not-supported", options);
  }
}

/**
 * The dialer made more proposals than the listener's attempt cap allows.
 *
 * @example
 * ```ts
 * import { TooManyAttemptsError } from "@p2p-edge/libp2p/protocols/multistream";
 * console.log(new TooManyAttemptsError("33 > 32").reason); // "too-many-attempts"
 * ```
 */
export class TooManyAttemptsError extends MultistreamError {
  /** Create the error. */
  constructor(message: string, options?: ErrorOptions) {
    super(message, "too-many-attempts", options);
  }
}

/**
 * The stream ended before the negotiation finished.
 *
 * @example
 * ```ts
 * import { NegotiationEOFError } from "@p2p-edge/libp2p/protocols/multistream";
 * console.log(new NegotiationEOFError("ended").reason); // "unexpected-eof"
 * ```
 */
export class NegotiationEOFError extends MultistreamError {
  /** Create the error. */
  constructor(message: string, options?: ErrorOptions) {
    super(message, "unexpected-eof", options);
  }
}

/**
 * An `ls` response was malformed.
 *
 * @example
 * ```ts
 * import { InvalidListError } from "@p2p-edge/libp2p/protocols/multistream";
 * console.log(new InvalidListError("bad entry").reason); // "invalid-list"
 * ```
 */
export class InvalidListError extends MultistreamError {
  /** Create the error. */
  constructor(message: string, options?: ErrorOptions) {
    super(message, "invalid-list", options);
  }
}
