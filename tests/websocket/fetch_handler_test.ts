/**
 * libp2p over WebSocket from a fetch handler (README "Edge platforms (fetch handler)"): a node
 * whose WebSocket transport is mounted on a `Deno.serve` / `Bun.serve` server on 127.0.0.1 that
 * we start with the edge node's fetch handler (`createEdgeFetch`: libp2p upgrades plus
 * `/metrics`, `/healthz`, `/readyz` and the status page on the same port, plus an app route).
 * Our node dials it over `/ws` (ping, echo); a js-libp2p node (@libp2p/websockets, in a Deno
 * process: tests/interop/js_process.ts) dials it too; plain HTTP keeps working on the port.
 * Refusals: a plain request on the libp2p path (426), a malformed upgrade (400), and, once the
 * socket is open, the node's connection manager (too many upgrades pending, too many sockets
 * from one IP) exactly as on the transport's own listener.
 */

import { afterEach, describe, it } from "node:test";
import assert from "node:assert/strict";
import { createNode, type Libp2pNode } from "../../src/node/node.ts";
import { noise } from "../../protocols/noise/mod.ts";
import { yamux } from "../../protocols/yamux/mod.ts";
import { ping, type PingService } from "../../protocols/ping/mod.ts";
import { echo, type EchoService } from "../../protocols/echo/mod.ts";
import {
  type BunServerLike,
  websocket,
  type WebSocketFetchHandler,
  webSocketFetchHandler,
  type WebSocketMount,
} from "../../transports/websocket/mod.ts";
import { createEdgeFetch, startEdgeHttp } from "../../app/edge/mod.ts";
import { createServer } from "node:net";
import type { AddressInfo } from "node:net";
import { parseExposition } from "../metrics/prom_parse.ts";
import { until } from "../helpers/nodes.ts";
import { web } from "../helpers/conn.ts";
import { multiaddr } from "../../src/multiaddr/mod.ts";
import type { RawConnection } from "../../src/transport.ts";
import { ConnectionClosedError, LimitExceededError } from "../../src/errors.ts";
import { startJsPeer } from "../interop/js_process.ts";

type Services = { ping: PingService; echo: EchoService };
const isBun = "Bun" in globalThis;
const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/**
 * Serve on 127.0.0.1:0 with the runtime's own server; the handler is set once the node (which
 * needs the port) exists: `target.current`. Bun needs the websocket handlers up front.
 */
function serve(mount: WebSocketMount): {
  port: number;
  target: { current?: WebSocketFetchHandler };
} {
  const target: { current?: WebSocketFetchHandler } = {};
  if (isBun) {
    const bun = (globalThis as unknown as {
      Bun: {
        serve(o: Record<string, unknown>): { port: number; stop(force?: boolean): Promise<void> };
      };
    }).Bun;
    const server = bun.serve({
      hostname: "127.0.0.1",
      port: 0,
      fetch: (req: Request, srv: BunServerLike) => target.current!.bun.fetch(req, srv),
      websocket: mount.websocket,
    });
    cleanups.push(() => server.stop(true));
    return { port: server.port, target };
  }
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen() {} },
    (req, info) => target.current!.fetch(req, info),
  );
  cleanups.push(() => server.shutdown());
  return { port: server.addr.port, target };
}

function edgeNode(
  transport: ReturnType<typeof websocket>,
  listen: string,
  extra: Record<string, unknown> = {},
): Promise<Libp2pNode<Services>> {
  return createNode({
    transports: [transport],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    listen: [listen],
    countTraffic: true,
    services: { ping: ping(), echo: echo() },
    ...extra,
  }) as Promise<Libp2pNode<Services>>;
}

/** A raw WebSocket that opened; `closed` settles when it closes. */
async function rawSocket(url: string): Promise<{ ws: WebSocket; closed: Promise<number> }> {
  const ws = new WebSocket(url);
  ws.binaryType = "arraybuffer";
  const closed = new Promise<number>((resolve) =>
    ws.addEventListener("close", (e) => resolve(e.code))
  );
  await new Promise((resolve, reject) => {
    ws.addEventListener("open", resolve, { once: true });
    ws.addEventListener("error", () => reject(new Error(`cannot open ${url}`)), { once: true });
  });
  cleanups.push(() => ws.close());
  return { ws, closed };
}

/** multistream-select header and a /noise proposal: the socket has progressed (not silent). */
const HELLO = new Uint8Array([
  19,
  ...new TextEncoder().encode("/multistream/1.0.0\n"),
  7,
  ...new TextEncoder().encode("/noise\n"),
]);

describe("libp2p over WebSocket from a fetch handler (edge platforms)", () => {
  it(
    "one port: libp2p upgrades on /, the edge HTTP paths and an app route; we and js-libp2p dial, ping, echo",
    { timeout: 90_000 },
    async () => {
      const ws = websocket({ mount: true });
      const server = serve(ws.mount!);
      const announced = `/ip4/127.0.0.1/tcp/${server.port}/ws`;
      const node = await edgeNode(ws, `/ip4/127.0.0.1/tcp/${server.port}/ws`, {
        addresses: { announce: [announced] },
      });
      cleanups.push(() => node.stop());
      const edge = createEdgeFetch({
        node: node as unknown as Libp2pNode,
        webSocket: ws.mount!,
        routes: [
          (req) =>
            new URL(req.url).pathname === "/hello" ? new Response("hello from the app") : undefined,
        ],
      });
      cleanups.push(() => edge.close());
      server.target.current = edge;
      assert.deepEqual(
        node.getMultiaddrs().map(String),
        [`${announced}/p2p/${node.peerId.toString()}`],
        "the node announces what the operator configured",
      );

      const base = `http://127.0.0.1:${server.port}`;
      assert.equal(await (await fetch(`${base}/hello`)).text(), "hello from the app");
      const health = await fetch(`${base}/healthz`);
      assert.equal(health.status, 200);
      await health.body?.cancel();
      const ready = await fetch(`${base}/readyz`);
      assert.equal(ready.status, 200, "listening through the mount counts as listening");
      await ready.body?.cancel();
      const page = await fetch(`${base}/`);
      assert.equal(page.status, 200, "a plain GET on / is the status page");
      assert.match(page.headers.get("content-type") ?? "", /text\/html/);
      await page.body?.cancel();
      const missing = await fetch(`${base}/nope`);
      assert.equal(missing.status, 404);
      await missing.body?.cancel();

      // Our node dials the announced /ws address: ping and echo.
      const client = await createNode({
        transports: [websocket()],
        connectionEncrypters: [noise()],
        streamMuxers: [yamux()],
        services: { ping: ping(), echo: echo() },
      }) as Libp2pNode<Services>;
      cleanups.push(() => client.stop());
      const target = node.getMultiaddrs()[0];
      const rtt = await client.services.ping.ping(target);
      assert.ok(rtt >= 0);
      const data = new Uint8Array(100_000).map((_, i) => (i * 7) & 0xff);
      assert.deepEqual(await client.services.echo.echo(target, data), data);
      assert.equal(node.getConnections(client.peerId).length, 1);
      assert.ok(
        node.getConnections(client.peerId)[0].remoteAddr.toString().startsWith("/ip4/127.0.0.1/"),
        "the peer's real address reaches the node (per-IP limits)",
      );

      // A js-libp2p node (@libp2p/websockets) dials it too.
      const js = startJsPeer([
        "--transport",
        "ws",
        "--dial",
        target.toString(),
        "--ping",
        "2",
        "--echo",
        "2",
        "--echo-size",
        "50000",
      ]);
      cleanups.push(() => js.stop());
      const jsPing = await js.next("ping");
      assert.equal(jsPing.event, "ping", String(jsPing.message));
      const jsEcho = await js.next("echo");
      assert.equal(jsEcho.event, "echo", String(jsEcho.message));
      assert.equal(jsEcho.ok, 2);

      // The metrics on the same port saw the WebSocket connections.
      const metrics = await (await fetch(`${base}/metrics`)).text();
      const families = parseExposition(metrics);
      const opened = families.get("libp2p_swarm_connections_opened_total")?.samples
        .filter((x) => x.labels.dir === "inbound" && x.labels.transport === "websocket")
        .reduce((n, x) => n + x.value, 0);
      assert.ok(opened !== undefined && opened >= 2, "ours and js's inbound WebSocket connections");
      // Plain HTTP still works on the port while libp2p connections are open.
      assert.equal(await (await fetch(`${base}/hello`)).text(), "hello from the app");
    },
  );

  it("startEdgeHttp({ webSocket }) serves libp2p and the edge paths on one port", async () => {
    // The node's listen address must name the server's port before the server runs: take a
    // free one from the kernel (bind, read, release).
    const port = await new Promise<number>((resolve, reject) => {
      const probe = createServer();
      probe.once("error", reject);
      probe.listen(0, "127.0.0.1", () => {
        const { port } = probe.address() as AddressInfo;
        probe.close(() => resolve(port));
      });
    });
    const ws = websocket({ mount: true });
    const node = await edgeNode(ws, `/ip4/127.0.0.1/tcp/${port}/ws`);
    cleanups.push(() => node.stop());
    const served = await startEdgeHttp({
      node: node as unknown as Libp2pNode,
      hostname: "127.0.0.1",
      port,
      webSocket: ws.mount!,
    });
    cleanups.push(() => served.close());
    assert.equal(served.port, port);
    const health = await fetch(`${served.url}/healthz`);
    assert.equal(health.status, 200);
    await health.body?.cancel();
    const client = await createNode({
      transports: [websocket()],
      connectionEncrypters: [noise()],
      streamMuxers: [yamux()],
      services: { ping: ping() },
    }) as Libp2pNode<{ ping: PingService }>;
    cleanups.push(() => client.stop());
    assert.ok((await client.services.ping.ping(node.getMultiaddrs()[0])) >= 0);
    const page = await fetch(`${served.url}/`);
    assert.match(page.headers.get("content-type") ?? "", /text\/html/);
    await page.body?.cancel();
  });

  it("refuses a plain request on a libp2p path (426) and a malformed upgrade (400)", async () => {
    const ws = websocket({ mount: true });
    const server = serve(ws.mount!);
    const node = await edgeNode(
      ws,
      `/ip4/127.0.0.1/tcp/${server.port}/ws/http-path/${encodeURIComponent("/libp2p")}`,
    );
    cleanups.push(() => node.stop());
    const handler = webSocketFetchHandler(ws.mount!, {
      routes: [() => new Response("app")],
    });
    server.target.current = handler;
    const base = `http://127.0.0.1:${server.port}`;

    const plain = await fetch(`${base}/libp2p`);
    assert.equal(plain.status, 426, "the libp2p path is not the app's");
    assert.equal(plain.headers.get("upgrade"), "websocket");
    await plain.body?.cancel();
    assert.equal(await (await fetch(`${base}/other`)).text(), "app");

    // An upgrade header without a WebSocket handshake (no Sec-WebSocket-Key), straight to the
    // handler (fetch() drops the Upgrade header).
    const bad = new Request(`${base}/libp2p`, { headers: { upgrade: "websocket" } });
    const refused = isBun
      ? await handler.bun.fetch(bad, { upgrade: () => false })
      : await handler.fetch(bad, { remoteAddr: { hostname: "127.0.0.1", port: 1 } });
    assert.equal(refused?.status, 400);

    // The dial to the path works; after the node stops, the path is no longer libp2p's.
    const client = await createNode({
      transports: [websocket()],
      connectionEncrypters: [noise()],
      streamMuxers: [yamux()],
      services: { ping: ping() },
    }) as Libp2pNode<{ ping: PingService }>;
    cleanups.push(() => client.stop());
    const addr = node.getMultiaddrs()[0];
    assert.ok((await client.services.ping.ping(addr)) >= 0);
    await node.stop();
    assert.equal(await (await fetch(`${base}/libp2p`)).text(), "app");
  });

  it("caps message size as the transport's own listener does (maxPayloadLength)", async () => {
    const max = 4096;
    const ws = websocket({ mount: true, maxPayloadLength: max });
    const server = serve(ws.mount!);
    server.target.current = webSocketFetchHandler(ws.mount!);
    const accepted: RawConnection[] = [];
    const listener = ws.createListener({ onConnection: (c) => accepted.push(c) });
    await listener.listen(multiaddr(`/ip4/127.0.0.1/tcp/${server.port}/ws`));
    cleanups.push(() => listener.close());
    const client = await websocket().dial(listener.getAddrs()[0]);
    cleanups.push(() => client.close());
    await until(() => accepted.length === 1);
    const writer = web(client).writable.getWriter();
    await writer.write(new Uint8Array(max).fill(1));
    const reader = web(accepted[0]).readable.getReader();
    let got = 0;
    while (got < max) got += (await reader.read()).value!.byteLength;
    assert.equal(got, max, "a message of maxPayloadLength is accepted");
    // A bigger message is not split by a raw socket: the connection closes (Deno: our check,
    // LimitExceededError; Bun: its native limit, reported as a closed connection).
    const raw = await rawSocket(`ws://127.0.0.1:${server.port}/`);
    await until(() => accepted.length === 2);
    raw.ws.send(new Uint8Array(max + 1));
    await raw.closed;
    await assert.rejects(
      web(accepted[1]).readable.getReader().read(),
      (e: unknown) =>
        isBun ? e instanceof ConnectionClosedError : (
          e instanceof LimitExceededError && e.limit === "maxPayloadLength"
        ),
    );
  });

  for (
    const [name, limits] of [
      ["too many upgrades pending", { maxPendingInbound: 2 }],
      ["too many sockets from one IP", { maxPendingInbound: 8, maxInboundPerIp: 2 }],
    ] as const
  ) {
    it(`the node's connection manager refuses a socket at once: ${name}`, async () => {
      const ws = websocket({ mount: true });
      const server = serve(ws.mount!);
      const node = await edgeNode(ws, `/ip4/127.0.0.1/tcp/${server.port}/ws`, {
        connectionManager: limits,
      });
      cleanups.push(() => node.stop());
      server.target.current = webSocketFetchHandler(ws.mount!);
      const url = `ws://127.0.0.1:${server.port}/`;

      // Two sockets mid-handshake (never evicted) take the pending slots or the IP's quota.
      const a = await rawSocket(url);
      const b = await rawSocket(url);
      a.ws.send(HELLO);
      b.ws.send(HELLO);
      await until(() =>
        node.stats().manager.pendingInbound === 2 && node.stats().manager.silentInbound === 0
      );
      const c = await rawSocket(url);
      c.ws.send(HELLO);
      await c.closed; // refused: closed by the node, not by the deadline (the test would time out)
      assert.equal(node.stats().manager.pendingInbound, 2, "nobody mid-handshake was evicted");
      assert.equal(node.stats().manager.evictedInbound, 0);
      assert.equal(a.ws.readyState, WebSocket.OPEN);
      assert.equal(b.ws.readyState, WebSocket.OPEN);
    });
  }
});
