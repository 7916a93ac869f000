/**
 * WebSocket server on Bun: `Bun.serve({ fetch, websocket })`. Only the primitives: start and
 * stop the server, upgrade a routed request (listener.ts does the rest; the socket glue shared
 * with the mount is in upgrade.ts). `Bun` is read from `globalThis` through the local type below,
 * so this file type-checks without Bun's type declarations.
 *
 * @module
 */

import { upgradeRequired, type WebSocketServerAdapter } from "./listener.ts";
import { type BunServerLike, bunUpgradeTo, bunWebSocketHandlers } from "./upgrade.ts";

interface BunServer extends BunServerLike {
  readonly port: number;
  stop(closeActiveConnections?: boolean): Promise<void> | void;
}

interface BunGlobal {
  serve(options: Record<string, unknown>): BunServer;
}

/**
 * Bun's server. `stop` stops accepting at once; sockets already handed out stay open (Bun's
 * `stop()` without force keeps them).
 *
 * @example
 * ```ts ignore
 * const server = bunWebSocketServer.serve(init);
 * ```
 */
export const bunWebSocketServer: WebSocketServerAdapter = {
  serve(init) {
    const bun = (globalThis as unknown as { Bun: BunGlobal }).Bun;
    const server = bun.serve({
      hostname: init.hostname,
      port: init.port,
      ...(init.tls !== undefined ? { tls: { cert: init.tls.cert, key: init.tls.key } } : {}),
      fetch: (req: Request, srv: BunServerLike): Response | undefined => {
        const route = init.route(req);
        if (route instanceof Response) return route;
        return bunUpgradeTo(req, srv, route) ? undefined : upgradeRequired();
      },
      error: (error: Error): Response => init.onError(error),
      websocket: bunWebSocketHandlers(init.options),
    });
    return {
      port: server.port,
      stop() {
        // Without force, stop() stops listening at once and resolves only when the upgraded
        // sockets have closed: do not wait for it.
        Promise.resolve(server.stop(false)).catch(() => {});
      },
    };
  },
};
