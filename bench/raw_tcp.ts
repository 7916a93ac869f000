/**
 * Physical limits of the runtime's own socket API (Deno.listen/Deno.connect,
 * Bun.listen/Bun.connect) on TCP loopback, server and client in separate processes.
 *
 * `--mode throughput` (default): the client sends an 8-byte big-endian length, then that many
 * bytes in 64 KiB writes (the chunk size of the perf scenarios); the server counts them and
 * answers one byte; the client times from its first write to that byte and reports Mbit/s.
 *
 * `--mode rtt`: the floor under the echo-RTT scenario (ours_client.ts `rtt`). The server echoes
 * every byte it receives back at once; the client (Nagle off on both sides) does 200 warm-up then
 * `--count` round trips of 32 bytes (write 32 bytes, read until 32 bytes came back), times each
 * with performance.now() and reports p50/p99 in µs.
 *
 *   deno run -A bench/raw_tcp.ts --role server [--mode rtt]   -> {"event":"listening","port":p}
 *   deno run -A bench/raw_tcp.ts --role client --port p [--bytes 268435456]
 *       -> {"event":"result","mbps":..}
 *   deno run -A bench/raw_tcp.ts --role client --port p --mode rtt [--count 2000]
 *       -> {"event":"result","p50us":..,"p99us":..,"count":..}
 *   bun run bench/raw_tcp.ts ...                              (same, Bun's sockets)
 *
 * @module
 */

import process from "node:process";
import { flag, mbps, numFlag, quantile, report, runtimeName } from "./worker_lib.ts";

const CHUNK = 64 * 1024;
const HOST = "127.0.0.1";
/** rtt mode: payload per round trip and unrecorded round trips first (as ours_client.ts rtt). */
const RTT_BYTES = 32;
const RTT_WARMUP = 200;

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
async function serveCount(): Promise<void> {
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
async function clientThroughput(): Promise<void> {
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

/** Server: echo every byte of one connection back as it arrives, until the client closes. */
async function serveEcho(): Promise<void> {
  if (deno !== undefined) {
    const listener = deno.listen({ hostname: HOST, port: 0 });
    report({ event: "listening", port: listener.addr.port });
    const conn = await listener.accept();
    conn.setNoDelay?.(true);
    const buf = new Uint8Array(CHUNK);
    for (;;) {
      const n = await conn.read(buf);
      if (n === null) break;
      await writeAll(conn, buf.subarray(0, n));
    }
    conn.close();
    listener.close();
    return;
  }
  if (bun === undefined) throw new Error("needs Deno or Bun");
  await new Promise<void>((resolve, reject) => {
    // Bytes the socket did not take yet (only under backpressure; 32-byte echoes never queue).
    // Bun may reuse a `data` chunk after its handler returns, so what stays queued is a copy.
    let queued: Uint8Array | undefined;
    const flush = (socket: BunSocket): void => {
      if (queued === undefined) return;
      const written = Math.max(socket.write(queued), 0);
      queued = written < queued.byteLength ? queued.slice(written) : undefined;
    };
    const server = bun.listen({
      hostname: HOST,
      port: 0,
      socket: {
        open(socket: BunSocket) {
          socket.setNoDelay?.(true);
        },
        data(socket: BunSocket, data: Uint8Array) {
          if (queued === undefined) queued = data;
          else {
            const both = new Uint8Array(queued.byteLength + data.byteLength);
            both.set(queued);
            both.set(data, queued.byteLength);
            queued = both;
          }
          flush(socket);
        },
        drain: flush,
        close() {
          server.stop(true);
          resolve();
        },
        error(_socket: BunSocket, err: Error) {
          server.stop(true);
          reject(err);
        },
      },
    });
    report({ event: "listening", port: server.port });
  });
}

/** Client: 200 warm-up then `--count` timed 32-byte echo round trips; report p50/p99 in µs. */
async function clientRtt(): Promise<void> {
  const port = numFlag("port", 0);
  const count = numFlag("count", 2000);
  if (!Number.isInteger(count) || count < 1) {
    throw new RangeError(`--count must be a positive integer, got ${count}`);
  }
  const payload = new Uint8Array(RTT_BYTES).fill(2);
  const samples: number[] = [];
  if (deno !== undefined) {
    const conn = await deno.connect({ hostname: HOST, port });
    conn.setNoDelay?.(true);
    const buf = new Uint8Array(CHUNK);
    for (let i = 0; i < count + RTT_WARMUP; i++) {
      const t0 = performance.now();
      await writeAll(conn, payload);
      let got = 0;
      while (got < RTT_BYTES) {
        const n = await conn.read(buf);
        if (n === null) throw new Error("server closed during a round trip");
        got += n;
      }
      if (i >= RTT_WARMUP) samples.push((performance.now() - t0) * 1000);
    }
    conn.close();
  } else if (bun !== undefined) {
    await new Promise<void>((resolve, reject) => {
      let i = 0;
      let got = 0;
      let t0 = 0;
      let done = false;
      const send = (socket: BunSocket): void => {
        got = 0;
        t0 = performance.now();
        // 32 bytes on an idle, Nagle-free socket: a short write here would be a broken socket.
        if (socket.write(payload) !== RTT_BYTES) {
          done = true;
          socket.end();
          reject(new Error("short write of a 32-byte echo request"));
        }
      };
      bun.connect({
        hostname: HOST,
        port,
        socket: {
          open(socket: BunSocket) {
            socket.setNoDelay?.(true);
            send(socket);
          },
          data(socket: BunSocket, data: Uint8Array) {
            if (done) return;
            got += data.byteLength;
            if (got < RTT_BYTES) return;
            if (i >= RTT_WARMUP) samples.push((performance.now() - t0) * 1000);
            i++;
            if (i < count + RTT_WARMUP) {
              send(socket);
              return;
            }
            done = true;
            socket.end();
            resolve();
          },
          close() {
            if (!done) reject(new Error("server closed during a round trip"));
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
  report({
    event: "result",
    runtime: runtimeName(),
    scenario: "raw-rtt",
    p50us: quantile(samples, 0.5),
    p99us: quantile(samples, 0.99),
    count,
  });
}

const mode = flag("mode", "throughput");
if (mode !== "throughput" && mode !== "rtt") {
  throw new TypeError(`--mode must be throughput or rtt, got ${mode}`);
}
if (flag("role") === "server") await (mode === "rtt" ? serveEcho() : serveCount());
else await (mode === "rtt" ? clientRtt() : clientThroughput());
process.exit(0);
