/**
 * Dialling: on Deno, `ws://` goes through our own client (client.ts: TCP with TCP_NODELAY, two
 * round trips fewer to the first byte than Deno's `WebSocket`); `wss://`, Bun and browsers use the
 * standard `WebSocket`, as does every dial when `createWebSocket` is given. Either way the result
 * is a {@link WebSocketConnection}.
 *
 * @module
 */

import { abortReason, deadlineSignal } from "../../src/abort.ts";
import type { Multiaddr } from "../../src/multiaddr/mod.ts";
import type { AbortOptions } from "../../src/stream/types.ts";
import { isDeno } from "../../src/runtime.ts";
import { parseWebSocketAddr } from "./address.ts";
import { dialWebSocketClient } from "./client.ts";
import { fromStandardWebSocket, type WebSocketConnection } from "./connection.ts";
import { WebSocketDialError } from "./errors.ts";
import type { ResolvedWebSocketOptions } from "./options.ts";

/**
 * Open a WebSocket to `addr` (a trailing `/p2p/<id>` is ignored). Rejects with a TypeError for
 * an address that is not a WebSocket address, WebSocketDialError when the socket fails to open,
 * TimeoutError at `connectTimeoutMs`, or the signal's reason.
 *
 * @example
 * ```ts ignore
 * import { dialWebSocket, resolveWebSocketOptions } from "@p2p-edge/libp2p/transports/websocket";
 * import { multiaddr } from "@p2p-edge/libp2p";
 * const conn = await dialWebSocket(multiaddr("/ip4/127.0.0.1/tcp/4001/ws"), resolveWebSocketOptions());
 * ```
 */
export function dialWebSocket(
  addr: Multiaddr,
  options: ResolvedWebSocketOptions,
  dialOptions: AbortOptions = {},
): Promise<WebSocketConnection> {
  if (dialOptions.signal?.aborted) return Promise.reject(abortReason(dialOptions.signal));
  const target = parseWebSocketAddr(addr);
  if (target === undefined) {
    return Promise.reject(new TypeError(`not a websocket address: ${addr.toString()}`));
  }
  if (options.createWebSocket === undefined && !target.secure && isDeno()) {
    return dialWebSocketClient(addr, target, options, dialOptions);
  }
  const remoteAddr = addr.decapsulateCode(421);
  let ws: WebSocket;
  try {
    ws = options.createWebSocket !== undefined
      ? options.createWebSocket(target.url)
      : new WebSocket(target.url);
    ws.binaryType = "arraybuffer";
  } catch (err) {
    return Promise.reject(
      new WebSocketDialError(`could not open ${target.url}: ${String(err)}`, { cause: err }),
    );
  }
  const deadline = deadlineSignal(
    options.connectTimeoutMs,
    dialOptions.signal,
    `websocket connect to ${target.url}`,
  );
  return new Promise<WebSocketConnection>((resolve, reject) => {
    let failure = "";
    const cleanup = (): void => {
      deadline.clear();
      deadline.signal.removeEventListener("abort", onAbort);
      ws.removeEventListener("open", onOpen);
      ws.removeEventListener("error", onError);
      ws.removeEventListener("close", onClose);
    };
    const onOpen = (): void => {
      cleanup();
      // Wrapped synchronously inside the open event: no message can slip past.
      resolve(fromStandardWebSocket(ws, options, { remoteAddr }));
    };
    const onError = (event: Event): void => {
      const message = (event as ErrorEvent).message;
      if (typeof message === "string" && message !== "") failure = message;
    };
    const onClose = (event: CloseEvent): void => {
      cleanup();
      reject(
        new WebSocketDialError(
          `could not connect to ${target.url}` +
            (failure !== "" ? `: ${failure}` : ` (close code ${event.code})`),
        ),
      );
    };
    const onAbort = (): void => {
      cleanup();
      try {
        ws.close();
      } catch { /* already closing */ }
      reject(abortReason(deadline.signal));
    };
    ws.addEventListener("open", onOpen);
    ws.addEventListener("error", onError);
    ws.addEventListener("close", onClose);
    if (deadline.signal.aborted) onAbort();
    else deadline.signal.addEventListener("abort", onAbort, { once: true });
  });
}
