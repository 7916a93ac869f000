/**
 * Backpressure and limits of the WebSocket transport, counted in bytes (no timing assertions):
 * a peer that stops reading stalls our writer within bufferedAmountHighWaterMark + one message;
 * an application that stops reading gets the connection closed at maxBufferedIncoming; a message
 * above maxPayloadLength closes the connection; connect deadlines and aborts.
 */

import { afterEach, describe, it } from "node:test";
import assert from "node:assert/strict";
import { web } from "../helpers/conn.ts";
import { ConnectionClosedError, LimitExceededError, TimeoutError } from "../../src/errors.ts";
import { multiaddr } from "../../src/multiaddr/mod.ts";
import type { Listener, RawConnection } from "../../src/transport.ts";
import {
  websocket,
  WebSocketDialError,
  type WebSocketOptions,
} from "../../transports/websocket/mod.ts";
import type { WebSocketConnection } from "../../transports/websocket/connection.ts";
import { rawClient, rawServer, until } from "./raw_peer.ts";

const HWM = 256 * 1024;
const CHUNK = 64 * 1024;
const TOTAL = 32 * 1024 * 1024;
const isBun = "Bun" in globalThis;

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function listen(options: WebSocketOptions = {}): Promise<{
  listener: Listener;
  addr: ReturnType<typeof multiaddr>;
  accepted(): Promise<WebSocketConnection>;
}> {
  const queue: RawConnection[] = [];
  const waiters: ((c: RawConnection) => void)[] = [];
  const listener = websocket(options).createListener({
    onConnection(c) {
      const w = waiters.shift();
      if (w) w(c);
      else queue.push(c);
    },
  });
  await listener.listen(multiaddr("/ip4/127.0.0.1/tcp/0/ws"));
  cleanups.push(() => listener.close());
  return {
    listener,
    addr: listener.getAddrs()[0],
    accepted: () =>
      (queue.length > 0
        ? Promise.resolve(queue.shift()!)
        : new Promise<RawConnection>((r) => waiters.push(r))) as Promise<WebSocketConnection>,
  };
}

/** Write TOTAL bytes in CHUNKs; `state` shows progress. */
function writeLoop(conn: RawConnection): {
  state: { accepted: number; pending: boolean };
  done: Promise<void>;
} {
  const state = { accepted: 0, pending: false };
  const chunk = new Uint8Array(CHUNK).fill(7);
  const writer = web(conn).writable.getWriter();
  const done = (async () => {
    for (let i = 0; i < TOTAL; i += CHUNK) {
      state.pending = true;
      await writer.write(chunk);
      state.pending = false;
      state.accepted += CHUNK;
    }
    writer.releaseLock();
  })();
  return { state, done };
}

/**
 * Wait until a write has stayed pending while nothing was accepted for 10 checks, or the writer
 * finished (then the caller's `accepted < TOTAL` assertion fails).
 */
async function stalled(state: { accepted: number; pending: boolean }): Promise<void> {
  let last = -1;
  let same = 0;
  while (same < 10 && state.accepted < TOTAL) {
    await new Promise((r) => setTimeout(r, 20));
    if (state.pending && state.accepted === last) same++;
    else same = 0;
    last = state.accepted;
  }
}

describe("websocket backpressure and limits", () => {
  it("a dialler's writes stall within the high-water mark when the peer stops reading", async () => {
    const server = await rawServer();
    cleanups.push(() => server.close());
    const conn = await websocket({ bufferedAmountHighWaterMark: HWM }).dial(
      multiaddr(`/ip4/127.0.0.1/tcp/${server.port}/ws`),
    ) as WebSocketConnection;
    const peer = await server.next();
    const { state, done } = writeLoop(conn);
    await stalled(state);
    assert.ok(state.accepted < TOTAL, "the writer stalled before writing everything");
    const buffered = conn.bufferedAmount;
    assert.ok(buffered > HWM, `waiting because ${buffered} > ${HWM}`);
    assert.ok(buffered <= HWM + CHUNK, `send buffer ${buffered} <= HWM + one chunk`);
    peer.resume();
    await done;
    await until(() => peer.counter.payloadBytes >= TOTAL);
    assert.equal(peer.counter.payloadBytes, TOTAL);
    conn.abort();
  });

  it("a listener's writes stall within the high-water mark when the client stops reading", async () => {
    const { addr, accepted } = await listen({ bufferedAmountHighWaterMark: HWM });
    const port = addr.toNodeAddress()!.port;
    const client = await rawClient(port);
    cleanups.push(() => client.socket.destroy());
    assert.match(client.status, /^HTTP\/1\.1 101/);
    const conn = await accepted();
    const { state, done } = writeLoop(conn);
    await stalled(state);
    assert.ok(state.accepted < TOTAL, "the writer stalled before writing everything");
    const buffered = conn.bufferedAmount;
    assert.ok(buffered > HWM, `waiting because ${buffered} > ${HWM}`);
    assert.ok(buffered <= HWM + CHUNK, `send buffer ${buffered} <= HWM + one chunk`);
    client.resume();
    await done;
    await until(() => client.counter.payloadBytes >= TOTAL);
    assert.equal(client.counter.payloadBytes, TOTAL);
    conn.abort();
  });

  it("closes at maxBufferedIncoming when the application does not read", async () => {
    const cap = 512 * 1024;
    const { addr, accepted } = await listen({ maxBufferedIncoming: cap });
    const client = await websocket().dial(addr);
    const server = await accepted();
    const writer = web(client).writable.getWriter();
    const writing = (async () => {
      for (let i = 0; i < 4 * cap; i += CHUNK) await writer.write(new Uint8Array(CHUNK));
    })().catch(() => {});
    await server.closed;
    await assert.rejects(
      web(server).readable.getReader().read(),
      (e: unknown) => e instanceof LimitExceededError && e.limit === "maxBufferedIncoming",
    );
    // The dialler sees a ConnectionClosedError: code 4001 when the Close frame reaches it, or
    // an abnormal close when the server's runtime drops the TCP connection under the flood.
    await assert.rejects(web(client).readable.getReader().read(), ConnectionClosedError);
    await writing;
  });

  it("accepts a message of maxPayloadLength and closes on a bigger one", async () => {
    const max = 4096;
    const { addr, accepted } = await listen({ maxPayloadLength: max });
    const client = await websocket().dial(addr);
    const server = await accepted();
    const writer = web(client).writable.getWriter();
    await writer.write(new Uint8Array(max).fill(1));
    const reader = web(server).readable.getReader();
    let got = 0;
    while (got < max) got += (await reader.read()).value!.byteLength;
    assert.equal(got, max);
    await writer.write(new Uint8Array(max + 1)).catch(() => {});
    await assert.rejects(reader.read(), (e: unknown) =>
      // Deno's server checks the size itself; Bun enforces maxPayloadLength natively and
      // reports the close as 1006.
      isBun ? e instanceof ConnectionClosedError : (
        e instanceof LimitExceededError && e.limit === "maxPayloadLength"
      ));
    await assert.rejects(web(client).readable.getReader().read(), ConnectionClosedError);
  });

  it("times out, aborts and reports refused dials", async () => {
    const silent = await rawServer(false);
    cleanups.push(() => silent.close());
    const addr = multiaddr(`/ip4/127.0.0.1/tcp/${silent.port}/ws`);
    await assert.rejects(websocket({ connectTimeoutMs: 100 }).dial(addr), TimeoutError);
    const controller = new AbortController();
    const dialing = websocket().dial(addr, { signal: controller.signal });
    setTimeout(() => controller.abort(), 20);
    await assert.rejects(dialing, (e: unknown) => (e as Error).name === "AbortError");
    // A port nothing listens on: bind one, note it, close it.
    const { listener, addr: gone } = await listen();
    await listener.close();
    await assert.rejects(websocket().dial(gone), WebSocketDialError);
    await assert.rejects(websocket().dial(multiaddr("/ip4/127.0.0.1/tcp/1")), TypeError);
  });

  it("refuses to listen without a certificate on /tls/ws, or on non-websocket addresses", async () => {
    const l = websocket().createListener({ onConnection: (c) => c.abort() });
    await assert.rejects(l.listen(multiaddr("/ip4/127.0.0.1/tcp/0/tls/ws")), TypeError);
    await assert.rejects(l.listen(multiaddr("/ip4/127.0.0.1/tcp/0")), TypeError);
    await assert.rejects(l.listen(multiaddr("/dns4/localhost/tcp/0/ws")), TypeError);
  });
});
