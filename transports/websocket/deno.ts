/**
 * WebSocket server on Deno: `Deno.serve` + `Deno.upgradeWebSocket`. Only the primitives: start
 * and stop the server, upgrade a request (listener.ts does the rest). The server-side socket Deno
 * hands out is a standard WebSocket, so it shares {@link fromStandardWebSocket} with dialling.
 *
 * @module
 */

import { webSocketMultiaddr } from "./address.ts";
import { fromStandardWebSocket } from "./connection.ts";
import { type AcceptContext, isUpgradeRequest } from "./listener_common.ts";
import type { WebSocketServerAdapter } from "./listener.ts";
import type { DenoRequestInfo } from "./upgrade.ts";

/**
 * Upgrade `req` when it asks for a WebSocket on `path`; undefined otherwise (the request is not
 * ours). The connection is handed to `ctx.accept` once the socket opens. Used by the mount.
 *
 * @example
 * ```ts ignore
 * Deno.serve((req, info) => denoUpgrade(req, info, "/", ctx) ?? new Response("app"));
 * ```
 */
export function denoUpgrade(
  req: Request,
  info: DenoRequestInfo | undefined,
  path: string,
  ctx: AcceptContext,
): Response | undefined {
  return isUpgradeRequest(req, path) ? upgradeTo(req, info, ctx) : undefined;
}

function upgradeTo(req: Request, info: DenoRequestInfo | undefined, ctx: AcceptContext): Response {
  // Read the peer's address first: Deno refuses `info.remoteAddr` after the upgrade.
  const remote = info?.remoteAddr;
  const remoteAddr = webSocketMultiaddr(
    remote?.hostname ?? "0.0.0.0",
    remote?.port ?? 0,
    ctx.secure,
  );
  const { socket, response } = Deno.upgradeWebSocket(req, {
    idleTimeout: ctx.options.idleTimeoutSeconds,
  });
  socket.binaryType = "arraybuffer";
  socket.addEventListener("open", () => {
    ctx.accept(
      fromStandardWebSocket(socket, ctx.options, { remoteAddr, localAddr: ctx.localAddr }),
    );
  }, { once: true });
  return response;
}

/**
 * Deno's server. Deno.serve's shutdown would also close the WebSockets it upgraded (with 1001),
 * and the Listener contract keeps handed-out connections open: so `stop` shuts the server down
 * (and releases the port) when the last of them closed; the listener refuses upgrades (503)
 * until then.
 *
 * @example
 * ```ts ignore
 * const server = denoWebSocketServer.serve(init);
 * ```
 */
export const denoWebSocketServer: WebSocketServerAdapter = {
  serve(init) {
    const server = Deno.serve({
      hostname: init.hostname,
      port: init.port,
      ...(init.tls !== undefined ? { cert: init.tls.cert, key: init.tls.key } : {}),
      onListen() {},
      onError: (error) => init.onError(error),
    }, (req, info) => {
      const route = init.route(req);
      return route instanceof Response ? route : upgradeTo(req, info, route);
    });
    return {
      port: server.addr.port,
      stop(whenIdle) {
        whenIdle(() => {
          server.shutdown().catch(() => {});
        });
      },
    };
  },
};
