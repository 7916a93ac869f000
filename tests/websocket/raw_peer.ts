/**
 * A hand-rolled WebSocket peer over node:net (works under Deno and Bun) for tests that need
 * what no WebSocket API offers: a peer that completes the upgrade and then stops reading, or
 * never answers the upgrade. It counts payload bytes of the frames it reads (RFC 6455 section
 * 5.2 framing).
 */

import net from "node:net";

const GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

async function acceptKey(key: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-1", new TextEncoder().encode(key + GUID));
  return btoa(String.fromCharCode(...new Uint8Array(digest)));
}

/** Counts payload bytes of data frames and notices Close frames. */
export class FrameCounter {
  payloadBytes = 0;
  closeCode: number | undefined;
  #buf = new Uint8Array(0);

  push(data: Uint8Array): void {
    const joined = new Uint8Array(this.#buf.byteLength + data.byteLength);
    joined.set(this.#buf);
    joined.set(data, this.#buf.byteLength);
    let o = 0;
    for (;;) {
      if (joined.byteLength - o < 2) break;
      const opcode = joined[o] & 0x0f;
      const masked = (joined[o + 1] & 0x80) !== 0;
      let len = joined[o + 1] & 0x7f;
      let h = 2;
      if (len === 126) {
        if (joined.byteLength - o < 4) break;
        len = (joined[o + 2] << 8) | joined[o + 3];
        h = 4;
      } else if (len === 127) {
        if (joined.byteLength - o < 10) break;
        len = 0;
        for (let i = 2; i < 10; i++) len = len * 256 + joined[o + i];
        h = 10;
      }
      if (masked) h += 4;
      if (joined.byteLength - o < h + len) break;
      if (opcode <= 2) this.payloadBytes += len;
      if (opcode === 8 && len >= 2) {
        const m = masked ? joined.subarray(o + h - 4, o + h) : undefined;
        const b0 = joined[o + h] ^ (m ? m[0] : 0);
        const b1 = joined[o + h + 1] ^ (m ? m[1] : 0);
        this.closeCode = (b0 << 8) | b1;
      }
      o += h + len;
    }
    this.#buf = joined.slice(o);
  }
}

/** One raw server-side socket after the upgrade, paused. */
export interface RawServerSocket {
  readonly socket: net.Socket;
  readonly counter: FrameCounter;
  /** Start reading (and counting) frames. */
  resume(): void;
}

/**
 * A server that answers the WebSocket upgrade (unless `answer` is false), then pauses the
 * socket: the dialler's bytes pile up in kernel buffers and then in its send buffer.
 */
export async function rawServer(answer = true): Promise<{
  port: number;
  sockets: RawServerSocket[];
  next(): Promise<RawServerSocket>;
  close(): void;
}> {
  const sockets: RawServerSocket[] = [];
  const waiters: ((s: RawServerSocket) => void)[] = [];
  const all: net.Socket[] = [];
  const server = net.createServer((socket) => {
    all.push(socket);
    socket.on("error", () => {});
    let head = "";
    const onData = async (d: Uint8Array): Promise<void> => {
      head += new TextDecoder("latin1").decode(d);
      if (!head.includes("\r\n\r\n") || !answer) return;
      socket.off("data", onData);
      socket.pause();
      const key = /sec-websocket-key:\s*(\S+)/i.exec(head)![1];
      socket.write(
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
          `Sec-WebSocket-Accept: ${await acceptKey(key)}\r\n\r\n`,
      );
      const counter = new FrameCounter();
      const raw: RawServerSocket = {
        socket,
        counter,
        resume() {
          socket.on("data", (chunk: Uint8Array) => counter.push(chunk));
          socket.resume();
        },
      };
      const w = waiters.shift();
      if (w) w(raw);
      else sockets.push(raw);
    };
    socket.on("data", onData);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    sockets,
    next: () => {
      const s = sockets.shift();
      return s ? Promise.resolve(s) : new Promise((r) => waiters.push(r));
    },
    close() {
      for (const s of all) s.destroy();
      server.close();
    },
  };
}

/** A client that upgrades on `path`, then pauses; `resume()` starts counting frames. */
export async function rawClient(
  port: number,
  host = "127.0.0.1",
  path = "/",
): Promise<{ socket: net.Socket; counter: FrameCounter; status: string; resume(): void }> {
  const socket = net.connect(port, host);
  socket.on("error", () => {});
  await new Promise<void>((resolve) => socket.once("connect", () => resolve()));
  socket.write(
    `GET ${path} HTTP/1.1\r\nHost: ${host}:${port}\r\nUpgrade: websocket\r\n` +
      "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n" +
      "Sec-WebSocket-Version: 13\r\n\r\n",
  );
  const counter = new FrameCounter();
  const status = await new Promise<string>((resolve) => {
    let head = new Uint8Array(0);
    const onData = (d: Uint8Array): void => {
      const joined = new Uint8Array(head.byteLength + d.byteLength);
      joined.set(head);
      joined.set(d, head.byteLength);
      head = joined;
      const text = new TextDecoder("latin1").decode(head);
      const end = text.indexOf("\r\n\r\n");
      if (end < 0) return;
      socket.off("data", onData);
      socket.pause();
      counter.push(head.subarray(end + 4));
      resolve(text.slice(0, text.indexOf("\r\n")));
    };
    socket.on("data", onData);
  });
  return {
    socket,
    counter,
    status,
    resume() {
      socket.on("data", (chunk: Uint8Array) => counter.push(chunk));
      socket.resume();
    },
  };
}

/** Resolve when `cond()` holds, checking every `everyMs` (a wait, not a timing assertion). */
export async function until(cond: () => boolean, everyMs = 10): Promise<void> {
  while (!cond()) await new Promise((r) => setTimeout(r, everyMs));
}
