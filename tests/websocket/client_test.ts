/**
 * Our own WebSocket client (transports/websocket/client.ts), called directly so that it runs on
 * both runtimes (dial.ts uses it on Deno only): against our listener (Deno.serve under deno
 * test, Bun.serve under bun test), and against a scripted server over node:net for what a real
 * server does not do (refused upgrades, bad frames, pings, fragments, silence).
 */

import { afterEach, describe, it } from "node:test";
import assert from "node:assert/strict";
import net from "node:net";
import { ConnectionClosedError, LimitExceededError, TimeoutError } from "../../src/errors.ts";
import { type Multiaddr, multiaddr } from "../../src/multiaddr/mod.ts";
import type { RawConnection } from "../../src/transport.ts";
import { parseWebSocketAddr } from "../../transports/websocket/address.ts";
import { dialWebSocketClient } from "../../transports/websocket/client.ts";
import type { WebSocketConnection } from "../../transports/websocket/connection.ts";
import {
  websocket,
  WebSocketDialError,
  WebSocketHandshakeError,
  WebSocketProtocolError,
} from "../../transports/websocket/mod.ts";
import {
  closePayload,
  encodeFrame,
  type FrameEvent,
  FrameReader,
  OPCODE_BINARY,
  OPCODE_CLOSE,
  OPCODE_CONTINUATION,
  OPCODE_PING,
} from "../../transports/websocket/frame.ts";
import { acceptFor } from "../../transports/websocket/handshake.ts";
import {
  resolveWebSocketOptions,
  type WebSocketOptions,
} from "../../transports/websocket/options.ts";

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function dial(addr: Multiaddr, options: WebSocketOptions = {}, signal?: AbortSignal) {
  return dialWebSocketClient(addr, parseWebSocketAddr(addr)!, resolveWebSocketOptions(options), {
    signal,
  });
}

async function readBytes(conn: RawConnection, n: number): Promise<Uint8Array> {
  const out = new Uint8Array(n);
  let at = 0;
  while (at < n) {
    const chunk = await conn.channel.read();
    if (chunk === null) throw new Error(`ended after ${at} of ${n} bytes`);
    out.set(chunk, at);
    at += chunk.byteLength;
  }
  return out;
}

/** One scripted server connection: the request head, and frames from the client (unmasked). */
interface Scripted {
  readonly socket: net.Socket;
  readonly request: string;
  /** The upgrade answer for the request's key, with `extra` lines. */
  accept(extra?: string[]): Promise<string>;
  /** Frames from the client, in order (resolves as they arrive). */
  frame(): Promise<FrameEvent>;
  /** The TCP connection ended or closed. */
  readonly ended: Promise<void>;
}

async function scriptedServer(handle: (s: Scripted) => void | Promise<void>): Promise<Multiaddr> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    let head = "";
    let headDone = false;
    const reader = new FrameReader({ maxPayloadLength: 1 << 24, masked: true });
    const waiting: ((e: FrameEvent) => void)[] = [];
    const frames: FrameEvent[] = [];
    let endedResolve!: () => void;
    const ended = new Promise<void>((r) => (endedResolve = r));
    socket.on("close", () => endedResolve());
    socket.on("end", () => endedResolve());
    socket.on("error", () => {});
    const pump = (): void => {
      for (let e = reader.next(); e !== undefined; e = reader.next()) {
        const w = waiting.shift();
        if (w) w(e);
        else frames.push(e);
      }
    };
    socket.on("data", (data: Uint8Array) => {
      if (headDone) {
        reader.push(new Uint8Array(data));
        pump();
        return;
      }
      head += new TextDecoder("latin1").decode(data);
      const end = head.indexOf("\r\n\r\n");
      if (end < 0) return;
      headDone = true;
      const request = head.slice(0, end);
      const key = /sec-websocket-key: *(\S+)/i.exec(request)?.[1] ?? "";
      const rest = new TextEncoder().encode(head.slice(end + 4)); // ASCII only before frames
      if (rest.byteLength > 0) reader.push(rest);
      void handle({
        socket,
        request,
        async accept(extra = []) {
          return [
            "HTTP/1.1 101 Switching Protocols",
            "Upgrade: websocket",
            "Connection: Upgrade",
            `Sec-WebSocket-Accept: ${await acceptFor(key)}`,
            ...extra,
          ].join("\r\n") + "\r\n\r\n";
        },
        frame: () =>
          frames.length > 0
            ? Promise.resolve(frames.shift()!)
            : new Promise<FrameEvent>((r) => waiting.push(r)),
        ended,
      });
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  cleanups.push(() => {
    for (const s of sockets) s.destroy();
    return new Promise<void>((r) => server.close(() => r()));
  });
  const port = (server.address() as net.AddressInfo).port;
  return multiaddr(`/ip4/127.0.0.1/tcp/${port}/ws`);
}

function writeAll(socket: net.Socket, ...parts: (string | Uint8Array)[]): void {
  const bytes = parts.map((p) => typeof p === "string" ? new TextEncoder().encode(p) : p);
  const joined = new Uint8Array(bytes.reduce((n, b) => n + b.byteLength, 0));
  let at = 0;
  for (const b of bytes) {
    joined.set(b, at);
    at += b.byteLength;
  }
  socket.write(joined);
}

describe("websocket client against our listener", () => {
  it("echoes bytes both ways, 4 MiB included, then closes cleanly", async () => {
    const listener = websocket().createListener({
      onConnection: (c) => {
        void (async () => {
          for (let chunk = await c.channel.read(); chunk !== null; chunk = await c.channel.read()) {
            c.channel.write(chunk.slice());
            await c.channel.drained();
          }
          await c.close();
        })().catch(() => {});
      },
    });
    await listener.listen(multiaddr("/ip4/127.0.0.1/tcp/0/ws"));
    cleanups.push(() => listener.close());
    const conn = await dial(listener.getAddrs()[0]);
    assert.equal(conn.remoteAddr.toString(), listener.getAddrs()[0].toString());
    conn.channel.write(new Uint8Array([1, 2, 3]));
    assert.deepEqual([...await readBytes(conn, 3)], [1, 2, 3]);
    const big = new Uint8Array(4 * 1024 * 1024).map((_, i) => (i * 31) & 0xff);
    const reading = readBytes(conn, big.byteLength);
    conn.channel.write(big);
    await conn.channel.drained();
    assert.ok((await reading).every((b, i) => b === big[i]));
    await conn.close();
    assert.equal(await conn.channel.read(), null);
  });

  it("is what websocket() dials ws:// with on Deno (only our client reports a localAddr)", async () => {
    const listener = websocket().createListener({ onConnection: () => {} });
    await listener.listen(multiaddr("/ip4/127.0.0.1/tcp/0/ws"));
    cleanups.push(() => listener.close());
    const conn = await websocket().dial(listener.getAddrs()[0]);
    cleanups.push(() => conn.abort());
    const isDeno = "Deno" in globalThis;
    assert.equal(conn.localAddr !== undefined, isDeno);
    if (isDeno) assert.match(conn.localAddr!.toString(), /^\/ip4\/127\.0\.0\.1\/tcp\/\d+\/ws$/);
  });
});

describe("websocket client against a scripted server", () => {
  it("sends a well-formed upgrade request", async () => {
    let request = "";
    const addr = await scriptedServer(async (s) => {
      request = s.request;
      writeAll(s.socket, await s.accept());
    });
    const conn = await dial(addr);
    cleanups.push(() => conn.abort());
    const [line, ...headers] = request.split("\r\n");
    assert.equal(line, "GET / HTTP/1.1");
    const h = new Map(
      headers.map((l) => [l.split(":")[0].toLowerCase(), l.slice(l.indexOf(":") + 1).trim()]),
    );
    assert.equal(h.get("host"), `127.0.0.1:${addr.toString().split("/")[4]}`);
    assert.equal(h.get("upgrade"), "websocket");
    assert.equal(h.get("connection"), "Upgrade");
    assert.equal(h.get("sec-websocket-version"), "13");
    assert.equal(atob(h.get("sec-websocket-key")!).length, 16);
  });

  it("keeps frame bytes that arrive with the 101 head, masks its frames with fresh keys", async () => {
    let seen: FrameEvent[] = [];
    const masks = new Set<string>();
    const addr = await scriptedServer(async (s) => {
      writeAll(s.socket, await s.accept(), encodeFrame(OPCODE_BINARY, new Uint8Array([9, 9])));
      s.socket.on("data", (d: Uint8Array) => {
        if (d[0] === 0x82) masks.add([...d.subarray(2, 6)].join());
      });
      seen = [await s.frame(), await s.frame()];
    });
    const conn = await dial(addr);
    cleanups.push(() => conn.abort());
    assert.deepEqual([...await readBytes(conn, 2)], [9, 9]);
    conn.channel.write(new Uint8Array([1]));
    await conn.channel.drained();
    await new Promise((r) => setTimeout(r, 20));
    conn.channel.write(new Uint8Array([2]));
    while (seen.length < 2) await new Promise((r) => setTimeout(r, 5));
    assert.deepEqual(seen, [
      { kind: "message", data: new Uint8Array([1]) },
      { kind: "message", data: new Uint8Array([2]) },
    ]);
    assert.equal(masks.size, 2);
  });

  it("answers a ping with a pong of the same payload, reassembles fragments", async () => {
    let pong: FrameEvent | undefined;
    const addr = await scriptedServer(async (s) => {
      writeAll(
        s.socket,
        await s.accept(),
        encodeFrame(OPCODE_BINARY, new Uint8Array([1, 2]), undefined, false),
        encodeFrame(OPCODE_PING, new Uint8Array([7, 7, 7])),
        encodeFrame(OPCODE_CONTINUATION, new Uint8Array([3])),
      );
      pong = await s.frame();
    });
    const conn = await dial(addr);
    cleanups.push(() => conn.abort());
    assert.deepEqual([...(await conn.channel.read())!], [1, 2, 3]);
    while (pong === undefined) await new Promise((r) => setTimeout(r, 5));
    assert.deepEqual(pong, { kind: "pong", data: new Uint8Array([7, 7, 7]) });
  });

  it("echoes the server's close, then reads end", async () => {
    let echoed: FrameEvent | undefined;
    const addr = await scriptedServer(async (s) => {
      writeAll(
        s.socket,
        await s.accept(),
        encodeFrame(OPCODE_BINARY, new Uint8Array([5])),
        encodeFrame(OPCODE_CLOSE, closePayload(1000, "bye")),
      );
      echoed = await s.frame();
      await s.ended;
    });
    const conn = await dial(addr);
    assert.deepEqual([...(await conn.channel.read())!], [5]);
    assert.equal(await conn.channel.read(), null);
    await (conn as WebSocketConnection).closed;
    while (echoed === undefined) await new Promise((r) => setTimeout(r, 5));
    assert.deepEqual(echoed, { kind: "close", code: 1000, reason: "bye" });
  });

  it("fails reads with a typed error and sends Close(1002) on a masked server frame", async () => {
    let close: FrameEvent | undefined;
    const addr = await scriptedServer(async (s) => {
      writeAll(
        s.socket,
        await s.accept(),
        encodeFrame(OPCODE_BINARY, new Uint8Array([1]), new Uint8Array(4)),
      );
      close = await s.frame();
    });
    const conn = await dial(addr);
    await assert.rejects(conn.channel.read(), WebSocketProtocolError);
    while (close === undefined) await new Promise((r) => setTimeout(r, 5));
    assert.equal(close.kind, "close");
    assert.equal((close as { code: number }).code, 1002);
  });

  it("fails reads with LimitExceededError on a frame above maxPayloadLength", async () => {
    const addr = await scriptedServer(async (s) => {
      writeAll(s.socket, await s.accept(), new Uint8Array([0x82, 127, 0, 0, 0, 1, 0, 0, 0, 0]));
    });
    const conn = await dial(addr);
    await assert.rejects(conn.channel.read(), LimitExceededError);
  });

  it("refuses a text message with Close(1003)", async () => {
    let close: FrameEvent | undefined;
    const addr = await scriptedServer(async (s) => {
      writeAll(s.socket, await s.accept(), new Uint8Array([0x81, 0x02, 0x68, 0x69]));
      close = await s.frame();
    });
    const conn = await dial(addr);
    await assert.rejects(
      conn.channel.read(),
      (e: unknown) => e instanceof WebSocketProtocolError && e.closeCode === 1003,
    );
    while (close === undefined) await new Promise((r) => setTimeout(r, 5));
    assert.equal((close as { code: number }).code, 1003);
  });

  it("fails reads on a dropped connection and on an abnormal close code", async () => {
    const dropping = await scriptedServer(async (s) => {
      writeAll(s.socket, await s.accept());
      s.socket.destroy();
    });
    const dropped = await dial(dropping);
    await assert.rejects(dropped.channel.read(), ConnectionClosedError);
    const aborting = await scriptedServer(async (s) => {
      writeAll(s.socket, await s.accept(), encodeFrame(OPCODE_CLOSE, closePayload(4000, "gone")));
    });
    const aborted = await dial(aborting);
    await assert.rejects(aborted.channel.read(), /code 4000: gone/);
  });

  it("ends a close whose echo never comes at closeTimeoutMs", async () => {
    let close: FrameEvent | undefined;
    const addr = await scriptedServer(async (s) => {
      writeAll(s.socket, await s.accept());
      close = await s.frame(); // and never answered
    });
    const conn = await dial(addr, { closeTimeoutMs: 100 });
    await conn.close();
    await (conn as WebSocketConnection).closed;
    assert.deepEqual(close, { kind: "close", code: 1000, reason: "" });
  });

  it("rejects a refused upgrade with its status line, and a wrong accept", async () => {
    const refusing = await scriptedServer((s) => {
      writeAll(s.socket, "HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n");
    });
    await assert.rejects(
      dial(refusing),
      (e: unknown) =>
        e instanceof WebSocketHandshakeError && /"HTTP\/1\.1 403 Forbidden"/.test(e.message),
    );
    const wrong = await scriptedServer((s) => {
      writeAll(
        s.socket,
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
          "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n",
      );
    });
    await assert.rejects(dial(wrong), WebSocketHandshakeError);
    const closing = await scriptedServer((s) => {
      s.socket.end("HTTP/1.1 101 Swi");
    });
    await assert.rejects(dial(closing), WebSocketHandshakeError);
  });

  it("rejects an endless response head at the cap", async () => {
    const addr = await scriptedServer((s) => {
      writeAll(s.socket, "HTTP/1.1 101 Switching Protocols\r\n", "X-Pad: " + "a".repeat(20_000));
    });
    await assert.rejects(dial(addr), LimitExceededError);
  });

  it("times out a silent server at connectTimeoutMs, aborts on the signal and closes the socket", async () => {
    const ends: Promise<void>[] = [];
    const addr = await scriptedServer((s) => {
      ends.push(s.ended);
    });
    await assert.rejects(dial(addr, { connectTimeoutMs: 100 }), TimeoutError);
    const controller = new AbortController();
    const reason = new Error("stop");
    const dialing = dial(addr, {}, controller.signal);
    while (ends.length < 2) await new Promise((r) => setTimeout(r, 5));
    controller.abort(reason);
    await assert.rejects(dialing, (e: unknown) => e === reason);
    await Promise.all(ends); // both sockets were closed by the client
  });

  it("rejects a refused TCP connection with WebSocketDialError", async () => {
    const addr = await scriptedServer(() => {});
    const port = addr.toString().split("/")[4];
    cleanups.splice(0).reverse().forEach((c) => c());
    await new Promise((r) => setTimeout(r, 20));
    await assert.rejects(dial(multiaddr(`/ip4/127.0.0.1/tcp/${port}/ws`)), WebSocketDialError);
  });
});
