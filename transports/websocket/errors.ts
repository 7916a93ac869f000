/**
 * Errors of the WebSocket transport. Limit violations use LimitExceededError, remote closes
 * ConnectionClosedError, deadlines TimeoutError (all from src/errors.ts).
 *
 * @module
 */

import { Libp2pError, ProtocolError } from "../../src/errors.ts";

/**
 * A WebSocket could not be opened (refused, TLS failure, HTTP upgrade rejected...). The runtime
 * gives no detail beyond its error event's message, which is kept in the message.
 *
 * @example
 * ```ts
 * import { WebSocketDialError } from "@p2p-edge/libp2p/transports/websocket";
 * console.log(new WebSocketDialError("could not connect to ws://127.0.0.1:1/").name);
 * ```
 */
export class WebSocketDialError extends Libp2pError {}

/**
 * The server's answer to the HTTP upgrade request was not a valid WebSocket handshake (RFC 6455
 * section 4.2.2): a status other than 101 (quoted with its status line), a missing or wrong
 * `Upgrade`, `Connection` or `Sec-WebSocket-Accept` header, an extension or subprotocol we did
 * not ask for, a malformed head, or the connection ending before the head did.
 *
 * @example
 * ```ts
 * import { WebSocketHandshakeError } from "@p2p-edge/libp2p/transports/websocket";
 * console.log(new WebSocketHandshakeError('upgrade refused: "HTTP/1.1 404 Not Found"').name);
 * ```
 */
export class WebSocketHandshakeError extends WebSocketDialError {}

/**
 * A peer broke the WebSocket framing rules (RFC 6455 section 5: RSV bits, a masked frame from a
 * server, a fragmented or oversized control frame, a bad close frame, a text message...).
 * `closeCode` is the close code sent back (1002 protocol error, 1003 unsupported data, 1007).
 *
 * @example
 * ```ts
 * import { WebSocketProtocolError } from "@p2p-edge/libp2p/transports/websocket";
 * console.log(new WebSocketProtocolError("websocket frame with RSV bits set", 1002).closeCode);
 * ```
 */
export class WebSocketProtocolError extends ProtocolError {
  /** The close code that tells the peer why (RFC 6455 section 7.4.1). */
  readonly closeCode: number;

  /** An error with the close code to send. */
  constructor(message: string, closeCode: number, options?: ErrorOptions) {
    super(message, options);
    this.closeCode = closeCode;
  }
}

/**
 * Listening failed or is not possible on this runtime (a browser has no WebSocket server).
 *
 * @example
 * ```ts
 * import { WebSocketListenError } from "@p2p-edge/libp2p/transports/websocket";
 * console.log(new WebSocketListenError("no WebSocket server on this runtime").name);
 * ```
 */
export class WebSocketListenError extends Libp2pError {}
