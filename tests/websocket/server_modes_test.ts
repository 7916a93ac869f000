/**
 * Listener modes: mounted on the application's own Deno.serve / Bun.serve (app routes still
 * answer while the libp2p path upgrades), and TLS (`/tls/ws`, `/wss`) with a throwaway CA and
 * leaf certificate made by openssl at test time.
 *
 * Trusting the test CA: neither runtime lets a standard `new WebSocket(url)` take a CA per
 * connection, so the transport's `createWebSocket` option builds the client with the
 * runtime's non-standard extension: Deno `new WebSocket(url, { client:
 * Deno.createHttpClient({ caCerts }) })`, Bun `new WebSocket(url, { tls: { ca } })`. (The
 * alternatives are process-wide: DENO_CERT / --unsafely-ignore-certificate-errors,
 * NODE_EXTRA_CA_CERTS.) Deno's rustls refuses a self-signed certificate used directly as the
 * server certificate (CaUsedAsEndEntity), hence a CA plus a leaf.
 */

import { afterEach, describe, it } from "node:test";
import assert from "node:assert/strict";
import { web } from "../helpers/conn.ts";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { multiaddr } from "../../src/multiaddr/mod.ts";
import type { RawConnection } from "../../src/transport.ts";
import { websocket, WebSocketDialError } from "../../transports/websocket/mod.ts";
import type { BunServerLike, BunWebSocketHandlers } from "../../transports/websocket/upgrade.ts";

const isBun = "Bun" in globalThis;
const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function echoOnce(conn: RawConnection, size: number): Promise<Uint8Array> {
  const msg = new Uint8Array(size).map((_, i) => (i * 13) & 0xff);
  const writer = web(conn).writable.getWriter();
  await writer.write(msg);
  writer.releaseLock();
  const reader = web(conn).readable.getReader();
  const out = new Uint8Array(size);
  let o = 0;
  while (o < size) {
    const { value, done } = await reader.read();
    if (done) throw new Error("ended early");
    out.set(value, o);
    o += value.byteLength;
  }
  reader.releaseLock();
  assert.deepEqual(out, msg);
  return out;
}

/** Start the app's own server on 127.0.0.1:0 with `route` for plain requests. */
function appServer(
  mount: NonNullable<ReturnType<typeof websocket>["mount"]>,
  route: (req: Request) => Response,
): { port: number; stop(): Promise<void> } {
  if (isBun) {
    const bun = (globalThis as unknown as {
      Bun: {
        serve(o: {
          hostname: string;
          port: number;
          fetch(req: Request, server: BunServerLike): Response | undefined;
          websocket: BunWebSocketHandlers;
        }): { port: number; stop(force?: boolean): Promise<void> };
      };
    }).Bun;
    const server = bun.serve({
      hostname: "127.0.0.1",
      port: 0,
      fetch(req, server) {
        if (mount.upgrade(req, server)) return undefined;
        return route(req);
      },
      websocket: mount.websocket,
    });
    return { port: server.port, stop: () => server.stop(true) };
  }
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen() {} },
    (req, info) => mount.handleRequest(req, info) ?? route(req),
  );
  return { port: server.addr.port, stop: () => server.shutdown() };
}

describe("websocket listener modes", () => {
  it("mounts on the app's server: app routes answer, /libp2p upgrades", async () => {
    const transport = websocket({ mount: true });
    assert.ok(transport.mount !== undefined);
    const app = appServer(
      transport.mount,
      (req) => new Response(`app ${new URL(req.url).pathname}`),
    );
    cleanups.push(() => app.stop());
    const accepted: RawConnection[] = [];
    const listener = transport.createListener({
      onConnection(c) {
        accepted.push(c);
        web(c).readable.pipeTo(web(c).writable).catch(() => {});
      },
    });
    await listener.listen(
      multiaddr(`/ip4/127.0.0.1/tcp/${app.port}/ws/http-path/${encodeURIComponent("/libp2p")}`),
    );
    cleanups.push(() => listener.close());
    const addr = listener.getAddrs()[0];
    assert.equal(addr.toString(), `/ip4/127.0.0.1/tcp/${app.port}/ws/http-path/%2Flibp2p`);

    const home = await fetch(`http://127.0.0.1:${app.port}/hello`);
    assert.equal(await home.text(), "app /hello");
    const plain = await fetch(`http://127.0.0.1:${app.port}/libp2p`);
    assert.equal(await plain.text(), "app /libp2p", "a plain GET on the path is the app's");

    const conn = await websocket().dial(addr);
    await echoOnce(conn, 50_000);
    assert.equal(accepted.length, 1);
    assert.ok(accepted[0].remoteAddr.toString().startsWith("/ip4/127.0.0.1/tcp/"));
    await conn.close();

    // An upgrade on another path is not ours: the app answers 200, the dial fails.
    await assert.rejects(
      websocket().dial(multiaddr(`/ip4/127.0.0.1/tcp/${app.port}/ws`)),
      WebSocketDialError,
    );
    // After the listener closed, upgrades on its path are no longer taken.
    await listener.close();
    await assert.rejects(websocket().dial(addr), WebSocketDialError);
    assert.equal(accepted.length, 1);
  });

  it("refuses a mounted listen address with port 0", async () => {
    const l = websocket({ mount: true }).createListener({ onConnection: (c) => c.abort() });
    await assert.rejects(l.listen(multiaddr("/ip4/127.0.0.1/tcp/0/ws")), TypeError);
  });

  let hasOpenssl = false;
  try {
    execFileSync("openssl", ["version"], { stdio: "ignore" });
    hasOpenssl = true;
  } catch { /* skipped below */ }

  it("serves /tls/ws and /wss with a certificate (throwaway CA from openssl)", {
    skip: hasOpenssl ? false : "openssl is not installed: no way to make a certificate here",
  }, async () => {
    const dir = mkdtempSync(join(tmpdir(), "ws-tls-"));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const run = (...args: string[]): void => {
      execFileSync("openssl", args, { cwd: dir, stdio: "ignore" });
    };
    const ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];
    run(
      "req",
      "-x509",
      ...ec,
      "-keyout",
      "ca_key.pem",
      "-out",
      "ca.pem",
      "-days",
      "1",
      "-subj",
      "/CN=libp2p test CA",
      "-addext",
      "basicConstraints=critical,CA:TRUE",
      "-addext",
      "keyUsage=critical,keyCertSign",
    );
    run("req", ...ec, "-keyout", "key.pem", "-out", "leaf.csr", "-subj", "/CN=localhost");
    writeFileSync(
      join(dir, "ext.cnf"),
      "subjectAltName=IP:127.0.0.1,IP:::1,DNS:localhost\nbasicConstraints=critical,CA:FALSE\n",
    );
    run(
      "x509",
      "-req",
      "-in",
      "leaf.csr",
      "-CA",
      "ca.pem",
      "-CAkey",
      "ca_key.pem",
      "-CAcreateserial",
      "-days",
      "1",
      "-out",
      "cert.pem",
      "-extfile",
      "ext.cnf",
    );
    const ca = readFileSync(join(dir, "ca.pem"), "utf8");
    const cert = readFileSync(join(dir, "cert.pem"), "utf8");
    const key = readFileSync(join(dir, "key.pem"), "utf8");
    const trusting = (url: string): WebSocket => {
      const init: unknown = isBun
        ? { tls: { ca } }
        : { client: Deno.createHttpClient({ caCerts: [ca] }) };
      return new WebSocket(url, init as string[]);
    };

    for (const form of ["/ip4/127.0.0.1/tcp/0/tls/ws", "/ip4/127.0.0.1/tcp/0/wss"]) {
      const server = websocket({ tls: { cert, key } });
      const listener = server.createListener({
        onConnection: (c) => void web(c).readable.pipeTo(web(c).writable).catch(() => {}),
      });
      await listener.listen(multiaddr(form));
      cleanups.push(() => listener.close());
      const addr = listener.getAddrs()[0];
      assert.match(addr.toString(), /^\/ip4\/127\.0\.0\.1\/tcp\/\d+\/tls\/ws$/);
      const conn = await websocket({ createWebSocket: trusting }).dial(addr);
      await echoOnce(conn, 100_000);
      await conn.close();
      // Without the CA the TLS handshake fails: the socket really speaks TLS.
      await assert.rejects(websocket().dial(addr), WebSocketDialError);
      // And a plain ws:// dial to it fails too.
      const port = addr.toNodeAddress()!.port;
      await assert.rejects(
        websocket().dial(multiaddr(`/ip4/127.0.0.1/tcp/${port}/ws`)),
        WebSocketDialError,
      );
    }
  });
});
