/**
 * Error classes shared by every layer. Errors are discriminated by class; the original failure,
 * when there is one, is chained through `cause`. Bad arguments from the caller throw the
 * built-in TypeError/RangeError/SyntaxError instead.
 *
 * @module
 */

/**
 * Base class of every error this library raises for a remote or runtime failure.
 *
 * @example
 * ```ts
 * import { Libp2pError } from "@p2p-edge/libp2p";
 * try { throw new Libp2pError("boom"); } catch (e) { console.log(e instanceof Libp2pError); }
 * ```
 */
export class Libp2pError extends Error {
  /** Create an error with a message and an optional cause. */
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
  }
}

/**
 * A byte sequence from a peer could not be decoded (malformed varint, protobuf, frame...).
 *
 * @example
 * ```ts
 * import { DecodeError } from "@p2p-edge/libp2p";
 * const err = new DecodeError("varint is not minimally encoded");
 * console.log(err.name); // "DecodeError"
 * ```
 */
export class DecodeError extends Libp2pError {}

/**
 * A size, count or rate limit was exceeded. `limit` names the limit that was hit.
 *
 * @example
 * ```ts
 * import { LimitExceededError } from "@p2p-edge/libp2p";
 * const err = new LimitExceededError("too many fields", "MAX_REPEATED_FIELDS");
 * console.log(err.limit); // "MAX_REPEATED_FIELDS"
 * ```
 */
export class LimitExceededError extends Libp2pError {
  /** The name of the limit that was exceeded. */
  readonly limit: string;
  /** Create an error naming the limit that was exceeded. */
  constructor(message: string, limit: string, options?: ErrorOptions) {
    super(message, options);
    this.limit = limit;
  }
}

/**
 * A security handshake failed (bad signature, unexpected peer, malformed message, ...).
 *
 * @example
 * ```ts
 * import { HandshakeError } from "@p2p-edge/libp2p";
 * console.log(new HandshakeError("bad signature").name);
 * ```
 */
export class HandshakeError extends Libp2pError {}

/**
 * A handshake failure as a HandshakeError: HandshakeErrors (and subclasses such as
 * PeerIdMismatchError) pass through; other library errors are wrapped with `what` and their
 * message; anything else is wrapped as the cause.
 *
 * @example
 * ```ts
 * import { asHandshakeError, DecodeError } from "@p2p-edge/libp2p";
 * asHandshakeError(new DecodeError("bad payload"), "Noise handshake failed").message;
 * // "Noise handshake failed: bad payload"
 * ```
 */
export function asHandshakeError(err: unknown, what: string): HandshakeError {
  if (err instanceof HandshakeError) return err;
  if (err instanceof Libp2pError) {
    return new HandshakeError(`${what}: ${err.message}`, { cause: err });
  }
  return new HandshakeError(what, { cause: err });
}

/**
 * The remote peer proved an identity other than the one that was dialled.
 *
 * @example
 * ```ts
 * import { PeerIdMismatchError } from "@p2p-edge/libp2p";
 * console.log(new PeerIdMismatchError("expected A, got B") instanceof Error);
 * ```
 */
export class PeerIdMismatchError extends HandshakeError {}

/**
 * Protocol negotiation (multistream-select) found no protocol both sides support, or the remote
 * broke the negotiation protocol.
 *
 * @example
 * ```ts
 * import { ProtocolNegotiationError } from "@p2p-edge/libp2p";
 * console.log(new ProtocolNegotiationError("protocol not supported").message);
 * ```
 */
export class ProtocolNegotiationError extends Libp2pError {}

/**
 * An operation did not finish before its deadline.
 *
 * @example
 * ```ts
 * import { TimeoutError } from "@p2p-edge/libp2p";
 * console.log(new TimeoutError("upgrade timed out").name); // "TimeoutError"
 * ```
 */
export class TimeoutError extends Libp2pError {}

/**
 * The operation was aborted by the caller's AbortSignal.
 *
 * @example
 * ```ts
 * import { AbortError } from "@p2p-edge/libp2p";
 * console.log(new AbortError().message);
 * ```
 */
export class AbortError extends Libp2pError {
  /** Create an abort error; the message defaults to "The operation was aborted". */
  constructor(message = "The operation was aborted", options?: ErrorOptions) {
    super(message, options);
  }
}

/**
 * A stream was reset, locally or by the remote peer; reads and writes reject with this.
 *
 * @example
 * ```ts
 * import { StreamResetError } from "@p2p-edge/libp2p";
 * console.log(new StreamResetError("stream reset by remote").name);
 * ```
 */
export class StreamResetError extends Libp2pError {}

/**
 * A stream or connection was used after it closed.
 *
 * @example
 * ```ts
 * import { StreamClosedError } from "@p2p-edge/libp2p";
 * console.log(new StreamClosedError("write after close").name);
 * ```
 */
export class StreamClosedError extends Libp2pError {}

/**
 * The connection closed (or failed) while an operation on it was pending.
 *
 * @example
 * ```ts
 * import { ConnectionClosedError } from "@p2p-edge/libp2p";
 * console.log(new ConnectionClosedError("connection closed").name);
 * ```
 */
export class ConnectionClosedError extends Libp2pError {}

/**
 * A remote peer broke a wire protocol (yamux, mplex, ...). Carries the layer's name.
 *
 * @example
 * ```ts
 * import { ProtocolError } from "@p2p-edge/libp2p";
 * console.log(new ProtocolError("data on stream 0").name);
 * ```
 */
export class ProtocolError extends Libp2pError {}

/**
 * A key type or encoding this library does not support.
 *
 * @example
 * ```ts
 * import { UnsupportedKeyTypeError } from "@p2p-edge/libp2p";
 * console.log(new UnsupportedKeyTypeError("key type 9").name);
 * ```
 */
export class UnsupportedKeyTypeError extends Libp2pError {}

/**
 * A signature did not verify (signed envelope, peer record, handshake payload...).
 *
 * @example
 * ```ts
 * import { InvalidSignatureError } from "@p2p-edge/libp2p";
 * console.log(new InvalidSignatureError("bad envelope signature").name);
 * ```
 */
export class InvalidSignatureError extends Libp2pError {}

/**
 * An authenticated decryption failed (tampered, truncated or replayed ciphertext). The
 * connection it happened on is aborted; the cipher's nonce is not advanced.
 *
 * @example
 * ```ts
 * import { DecryptError } from "@p2p-edge/libp2p";
 * console.log(new DecryptError("Noise frame failed authentication").name); // "DecryptError"
 * ```
 */
export class DecryptError extends Libp2pError {}
