/**
 * The protocol-stream hot path: two nodes in ONE process over real TCP loopback with Noise and
 * yamux. (1) round trips of 32 bytes on one open /echo/1.0.0 stream (p50/p99 after 500 warm-up),
 * (2) one perf stream uploading 64 MiB (throughput, median of --uploads). No assertions: it
 * prints one JSON line per repetition (fresh nodes each), with wall-clock figures and the
 * process's CPU time per round trip and per MiB (steadier on a loaded machine).
 *
 *   deno run -A bench/stream_path_bench.ts [--reps 3] [--count 5000] [--bytes 67108864]
 *     [--uploads 3]
 *   npx -y bun@1.4.5 bench/stream_path_bench.ts [...]
 *
 * STREAM_IDLE_MS=<ms> sets both nodes' `streamIdleTimeoutMs` (0: no inactivity deadline), to
 * compare the path with and without the deadline machinery. To compare two commits, run this
 * file from a checkout of each, interleaved (a, b, a, b, ...), and compare medians.
 *
 * @module
 */

import process from "node:process";
import { createNode, type Libp2pNode } from "../src/node/node.ts";
import { noise } from "../protocols/noise/mod.ts";
import { yamux } from "../protocols/yamux/mod.ts";
import { echo } from "../protocols/echo/mod.ts";
import { perf, type PerfService } from "../protocols/perf/mod.ts";
import { tcp } from "../transports/tcp/mod.ts";

const args = process.argv.slice(2);
function num(name: string, dflt: number): number {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : dflt;
}
const REPS = num("reps", 3);
const COUNT = num("count", 5000);
const WARMUP = 500;
const BYTES = num("bytes", 64 * 1024 * 1024);
const UPLOADS = num("uploads", 3);
const idleEnv = process.env.STREAM_IDLE_MS;
const IDLE = idleEnv === undefined || idleEnv === "" ? undefined : Number(idleEnv);

type Services = { perf: PerfService; echo: unknown };

function node(listen: string[] = []): Promise<Libp2pNode<Services>> {
  return createNode<Services>({
    transports: [tcp()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    listen,
    services: { perf: perf({ timeoutMs: 60_000 }), echo: echo() },
    ...(IDLE === undefined ? {} : { streamIdleTimeoutMs: IDLE }),
  });
}

function quantile(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}

async function rep(): Promise<Record<string, number>> {
  const server = await node(["/ip4/127.0.0.1/tcp/0"]);
  const client = await node();
  try {
    const conn = await client.dial(server.addrs()[0]);
    // (1) echo round trips on one stream.
    const stream = await conn.newStream("/echo/1.0.0");
    const writer = stream.writable.getWriter();
    const reader = stream.readable.getReader();
    const payload = new Uint8Array(32).fill(7);
    const samples: number[] = [];
    let cpu0 = process.cpuUsage();
    for (let i = 0; i < COUNT + WARMUP; i++) {
      if (i === WARMUP) cpu0 = process.cpuUsage();
      const t0 = performance.now();
      await writer.write(payload);
      let got = 0;
      while (got < payload.byteLength) {
        const { value, done } = await reader.read();
        if (done) throw new Error("echo stream ended early");
        got += value.byteLength;
      }
      if (i >= WARMUP) samples.push((performance.now() - t0) * 1000);
    }
    const rttCpu = process.cpuUsage(cpu0);
    await writer.close();
    reader.releaseLock();
    samples.sort((a, b) => a - b);
    // (2) one stream at a time, upload only (a warm-up of 4 MiB first); median of UPLOADS.
    await client.services.perf.measure(conn, { upload: 4 << 20, download: 0 });
    const rates: number[] = [];
    const cpu1 = process.cpuUsage();
    for (let i = 0; i < UPLOADS; i++) {
      const up = await client.services.perf.measure(conn, { upload: BYTES, download: 0 });
      rates.push((BYTES / (1 << 20)) / (up.uploadMs / 1000));
    }
    const upCpu = process.cpuUsage(cpu1);
    rates.sort((a, b) => a - b);
    return {
      rttP50us: +quantile(samples, 0.5).toFixed(1),
      rttP99us: +quantile(samples, 0.99).toFixed(1),
      uploadMiBps: +quantile(rates, 0.5).toFixed(1),
      // CPU time (user + system, both nodes) per round trip and per MiB uploaded: less
      // sensitive than wall-clock time to other load on the machine.
      rttCpuUs: +((rttCpu.user + rttCpu.system) / COUNT).toFixed(2),
      uploadCpuMsPerMiB: +((upCpu.user + upCpu.system) / 1000 / (UPLOADS * BYTES / (1 << 20)))
        .toFixed(3),
    };
  } finally {
    await client.stop();
    await server.stop();
  }
}

const runtime = "Bun" in globalThis ? "bun" : "deno";
for (let i = 0; i < REPS; i++) {
  const r = await rep();
  console.log(JSON.stringify({ runtime, idle: IDLE ?? "default", rep: i, ...r }));
}
