/**
 * Errors of the WebSocket transport. Limit violations use LimitExceededError, remote closes
 * ConnectionClosedError, deadlines TimeoutError (all from src/errors.ts).
 *
 * @module
 */

import { Libp2pError } from "../../src/errors.ts";

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
 * Listening failed or is not possible on this runtime (a browser has no WebSocket server).
 *
 * @example
 * ```ts
 * import { WebSocketListenError } from "@p2p-edge/libp2p/transports/websocket";
 * console.log(new WebSocketListenError("no WebSocket server on this runtime").name);
 * ```
 */
export class WebSocketListenError extends Libp2pError {}
