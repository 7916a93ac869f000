/**
 * Physical limit: raw TCP loopback throughput of the runtime, with the runtime's own socket API
 * (Deno.listen/Deno.connect, Bun.listen/Bun.connect), server and client in separate processes.
 * The client sends an 8-byte big-endian length, then that many bytes in 64 KiB writes (the
 * chunk size of the perf scenarios); the server counts them and answers one byte; the client
 * times from its first write to that byte.
 *
 *   deno run -A bench/raw_tcp.ts --role server          -> {"event":"listening","port":p}
 *   deno run -A bench/raw_tcp.ts --role client --port p [--bytes 268435456]
 *   bun run bench/raw_tcp.ts ...                        (same, Bun's sockets)
 *
 * @module
 */

import process from "node:process";
import { flag, mbps, numFlag, report, runtimeName } from "./worker_lib.ts";

const CHUNK = 64 * 1024;
const HOST = "127.0.0.1";

interface DenoConn {
  read(p: Uint8Array): Promise<number | null>;
  write(p: Uint8Array): Promise<number>;
  close(): void;
  setNoDelay?(on: boolean): void;
}
interface DenoApi {
  listen(o: { hostname: string; port: number }): {
    addr: { port: number };
    accept(): Promise<DenoConn>;
    close(): void;
  };
  connect(o: { hostname: string; port: number }): Promise<DenoConn>;
}
interface BunSocket {
  write(data: Uint8Array): number;
  end(): void;
  setNoDelay?(on: boolean): void;
}
interface BunApi {
  listen(o: unknown): { port: number; stop(force?: boolean): void };
  connect(o: unknown): Promise<BunSocket>;
}

const g = globalThis as { Deno?: DenoApi; Bun?: BunApi };
const bun = g.Bun;
const deno = bun === undefined ? g.Deno : undefined;

/** Server: count the bytes of one connection (after the 8-byte length), answer one byte. */
async function serve(): Promise<void> {
  if (deno !== undefined) {
    const listener = deno.listen({ hostname: HOST, port: 0 });
    report({ event: "listening", port: listener.addr.port });
    const conn = await listener.accept();
    const buf = new Uint8Array(256 * 1024);
    let got = 0;
    let want = Infinity;
    const header = new Uint8Array(8);
    while (got < want + 8) {
      const n = await conn.read(buf);
      if (n === null) throw new Error("client closed early");
      if (got < 8) {
        const take = Math.min(8 - got, n);
        header.set(buf.subarray(0, take), got);
        if (got + take === 8) want = Number(new DataView(header.buffer).getBigUint64(0));
      }
      got += n;
    }
    await conn.write(new Uint8Array([1]));
    conn.close();
    listener.close();
    return;
  }
  if (bun === undefined) throw new Error("needs Deno or Bun");
  await new Promise<void>((resolve) => {
    let got = 0;
    let want = Infinity;
    const header = new Uint8Array(8);
    const server = bun.listen({
      hostname: HOST,
      port: 0,
      socket: {
        data(socket: BunSocket, data: Uint8Array) {
          if (got < 8) {
            const take = Math.min(8 - got, data.byteLength);
            header.set(data.subarray(0, take), got);
            if (got + take === 8) want = Number(new DataView(header.buffer).getBigUint64(0));
          }
          got += data.byteLength;
          if (got >= want + 8) {
            socket.write(new Uint8Array([1]));
            socket.end();
            server.stop(true);
            resolve();
          }
        },
      },
    });
    report({ event: "listening", port: server.port });
  });
}

/** Client: send the length and the bytes, wait for the answer; report Mbit/s. */
async function client(): Promise<void> {
  const port = numFlag("port", 0);
  const bytes = numFlag("bytes", 256 * 1024 * 1024);
  const header = new Uint8Array(8);
  new DataView(header.buffer).setBigUint64(0, BigInt(bytes));
  const chunk = new Uint8Array(CHUNK).fill(5);
  let ms: number;
  if (deno !== undefined) {
    const conn = await deno.connect({ hostname: HOST, port });
    conn.setNoDelay?.(true);
    const t0 = performance.now();
    await writeAll(conn, header);
    let left = bytes;
    while (left > 0) {
      const n = Math.min(left, CHUNK);
      await writeAll(conn, n === CHUNK ? chunk : chunk.subarray(0, n));
      left -= n;
    }
    const ack = new Uint8Array(1);
    if ((await conn.read(ack)) === null) throw new Error("server closed without answering");
    ms = performance.now() - t0;
    conn.close();
  } else if (bun !== undefined) {
    let t0 = 0;
    ms = await new Promise<number>((resolve, reject) => {
      let left = bytes;
      let pending: Uint8Array | undefined = header;
      // Write until the socket takes less than offered; drain() resumes.
      const pump = (socket: BunSocket): void => {
        for (;;) {
          if (pending === undefined) {
            if (left === 0) return;
            const n = Math.min(left, CHUNK);
            pending = n === CHUNK ? chunk : chunk.subarray(0, n);
            left -= n;
          }
          const written: number = socket.write(pending);
          if (written < pending.byteLength) {
            pending = written > 0 ? pending.subarray(written) : pending;
            return;
          }
          pending = undefined;
        }
      };
      bun.connect({
        hostname: HOST,
        port,
        socket: {
          open(socket: BunSocket) {
            socket.setNoDelay?.(true);
            t0 = performance.now();
            pump(socket);
          },
          drain: pump,
          data(socket: BunSocket) {
            resolve(performance.now() - t0);
            socket.end();
          },
          error(_socket: BunSocket, err: Error) {
            reject(err);
          },
        },
      }).catch(reject);
    });
  } else {
    throw new Error("needs Deno or Bun");
  }
  report({ event: "result", runtime: runtimeName(), scenario: "raw-tcp", mbps: mbps(bytes, ms) });
}

async function writeAll(conn: DenoConn, data: Uint8Array): Promise<void> {
  let off = 0;
  while (off < data.byteLength) off += await conn.write(data.subarray(off));
}

if (flag("role") === "server") await serve();
else await client();
process.exit(0);
