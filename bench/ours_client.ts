/**
 * Benchmark client, our node: runs one scenario against a server started by bench/run.ts and
 * reports {"event":"result",...} on stdout. The js-libp2p counterpart is
 * bench/thirdparty/client.ts; both do the same thing on the wire, step by step.
 *
 *   deno run -A bench/ours_client.ts --addr <multiaddr> --scenario <name> [options]
 *   bun run bench/ours_client.ts --addr <multiaddr> --scenario <name> [options]
 *
 * Scenarios (options with defaults):
 *   perf      one connection: --transfers 5 uploads and downloads of --bytes 268435456 each,
 *             alternating; the median of each direction
 *   parallel  --streams 10 perf streams uploading --bytes in total, aggregate
 *   upgrades  --count 600 fresh-identity dials (TCP, Noise, yamux, identify), --dialers 8,
 *             after --warm 64 such dials
 *   streams   --count 4000 × (open /echo/1.0.0, 8 bytes, half-close, read to EOF), --dialers 8
 *   rtt       --count 2000 round trips of 32 bytes on one echo stream (after 200 warm-up)
 *   --peer-js (set by bench/run.ts when the server is js-libp2p): perf transfers negotiate fully
 *             before the size header is sent, as bench/thirdparty/client.ts does (see
 *             measureNegotiated)
 *   memory    --warm 20 connections, then for every "go" on stdin another --conns 1000 idle
 *             connections from fresh identities, reports "opened"; holds them until stdin closes
 *
 * @module
 */

import process from "node:process";
import { createNode, type Libp2pNode } from "../src/node/node.ts";
import type { Connection } from "../src/connection.ts";
import { multiaddr } from "../src/multiaddr/mod.ts";
import { tcp } from "../transports/tcp/mod.ts";
import { noise } from "../protocols/noise/mod.ts";
import { plaintext } from "../protocols/plaintext/mod.ts";
import { yamux } from "../protocols/yamux/mod.ts";
import { identify } from "../protocols/identify/mod.ts";
import { perf, type PerfService } from "../protocols/perf/mod.ts";
import {
  flag,
  mbps,
  numFlag,
  quantile,
  report,
  runtimeName,
  sleep,
  stdinLines,
  tcpOptions,
  yamuxOptions,
} from "./worker_lib.ts";

const ECHO = "/echo/1.0.0";
const addrText = flag("addr");
if (addrText === undefined) throw new TypeError("--addr is required");
const addr = multiaddr(addrText);
const scenario = flag("scenario", "perf")!;
const security = flag("security", "noise");

type Services = { perf: PerfService; identify: unknown };

function newNode(): Promise<Libp2pNode<Services>> {
  return createNode<Services>({
    transports: [tcp(tcpOptions())],
    connectionEncrypters: [security === "plaintext" ? plaintext() : noise()],
    streamMuxers: [yamux(yamuxOptions())],
    services: { perf: perf({ timeoutMs: 60_000 }), identify: identify() },
  });
}

/** Dial a fresh connection and resolve once identify of the server finished on it. */
async function dialIdentified(node: Libp2pNode<Services>): Promise<Connection> {
  let done!: () => void;
  const identified = new Promise<void>((r) => (done = r));
  const listener = (): void => done();
  node.addEventListener("peer:identify", listener);
  try {
    const conn = await node.dial(addr);
    await identified;
    return conn;
  } finally {
    node.removeEventListener("peer:identify", listener);
  }
}

const PERF = "/perf/1.0.0";
const PERF_CHUNK = 64 * 1024;

/**
 * One perf exchange (perf.md) on a fully negotiated stream, timed like
 * bench/thirdparty/client.ts's: from the open stream to the end of the download. For js-libp2p
 * servers: our perf service negotiates optimistically, so a download-only request carries its
 * FIN in the first flush with the negotiation, and js-libp2p 3.3.11 loses such a FIN (its
 * handler never sees the end of the upload and never answers; tests/interop/tcp_js_test.ts).
 * Two proposals make the select wait for the answer (lazy select is for one protocol only); js
 * accepts the first.
 */
async function measureNegotiated(conn: Connection, upload: number, download: number) {
  const stream = await conn.newStream([PERF, `${PERF}-unused`]);
  const t0 = performance.now();
  const header = new Uint8Array(8);
  new DataView(header.buffer).setBigUint64(0, BigInt(download));
  const send = async (): Promise<void> => {
    const writer = stream.writable.getWriter();
    await writer.write(header);
    let chunk = new Uint8Array(PERF_CHUNK);
    for (let left = upload; left > 0;) {
      if (chunk.byteLength === 0) chunk = new Uint8Array(PERF_CHUNK); // transferred below
      const piece = left >= chunk.byteLength ? chunk : chunk.subarray(0, left);
      await writer.write(piece);
      left -= piece.byteLength;
    }
    await writer.close();
  };
  const receive = async (): Promise<number> => {
    const sink = new Uint8Array(PERF_CHUNK);
    let got = 0;
    for (;;) {
      const n = await stream.readInto(sink);
      if (n === null) return got;
      got += n;
    }
  };
  const [, got] = await Promise.all([send(), receive()]);
  if (got !== download) throw new Error(`perf server sent ${got} of ${download} bytes`);
  return { totalMs: performance.now() - t0 };
}

/** CPU µs (user + system) per MiB of `bytes`, from a process.cpuUsage() difference. */
function cpuPerMiB(used: { user: number; system: number }, bytes: number): number {
  return (used.user + used.system) / (bytes / (1024 * 1024));
}

async function perfScenario(): Promise<Record<string, unknown>> {
  const bytes = numFlag("bytes", 256 * 1024 * 1024);
  const transfers = numFlag("transfers", 5);
  const node = await newNode();
  const conn = await node.dial(addr);
  const peerJs = process.argv.includes("--peer-js");
  const measure = (o: { upload: number; download: number }): Promise<{ totalMs: number }> =>
    peerJs ? measureNegotiated(conn, o.upload, o.download) : node.services.perf.measure(conn, o);
  // Warm-up: JIT, window growth and buffers, in both directions.
  const warm = Math.min(bytes, 16 * 1024 * 1024);
  await measure({ upload: warm, download: warm });
  // Several transfers each way, alternating, and their median: one 256 MiB transfer takes
  // ~0.2 s here, short enough for a scheduling hiccup to move it by a third.
  const up: number[] = [];
  const down: number[] = [];
  // This process's CPU time per MiB moved (user + system, µs): what a transfer costs this
  // side, which a loaded machine's scheduling does not change as much as the rate.
  const upCpu: number[] = [];
  const downCpu: number[] = [];
  for (let i = 0; i < transfers; i++) {
    let cpu = process.cpuUsage();
    up.push(mbps(bytes, (await measure({ upload: bytes, download: 0 })).totalMs));
    upCpu.push(cpuPerMiB(process.cpuUsage(cpu), bytes));
    cpu = process.cpuUsage();
    down.push(mbps(bytes, (await measure({ upload: 0, download: bytes })).totalMs));
    downCpu.push(cpuPerMiB(process.cpuUsage(cpu), bytes));
  }
  await node.stop();
  return {
    uploadMbps: quantile(up, 0.5),
    downloadMbps: quantile(down, 0.5),
    uploadCpuUsPerMiB: quantile(upCpu, 0.5),
    downloadCpuUsPerMiB: quantile(downCpu, 0.5),
    bytes,
    transfers,
  };
}

async function parallelScenario(): Promise<Record<string, unknown>> {
  const bytes = numFlag("bytes", 256 * 1024 * 1024);
  const streams = numFlag("streams", 10);
  const each = Math.floor(bytes / streams);
  const node = await newNode();
  const conn = await node.dial(addr);
  const warm = Math.min(each, 4 * 1024 * 1024);
  await Promise.all(
    Array.from(
      { length: streams },
      () => node.services.perf.measure(conn, { upload: warm, download: 0 }),
    ),
  );
  const t0 = performance.now();
  await Promise.all(
    Array.from(
      { length: streams },
      () => node.services.perf.measure(conn, { upload: each, download: 0 }),
    ),
  );
  const ms = performance.now() - t0;
  await node.stop();
  return { aggregateMbps: mbps(each * streams, ms), streams, bytes: each * streams };
}

async function upgradesScenario(): Promise<Record<string, unknown>> {
  const count = numFlag("count", 600);
  const dialers = numFlag("dialers", 8);
  const warmCount = numFlag("warm", 64);
  // Nodes (and their fresh identities) are made before the clock starts: what is timed is the
  // dial, the TCP connect, Noise XX, yamux and identify of the server. A warm-up round of the
  // same dials first, so both processes run optimised code when the clock starts.
  const dialAll = async (
    nodes: Libp2pNode<Services>[],
  ): Promise<{ ms: number; closing: Promise<void>[] }> => {
    const closing: Promise<void>[] = [];
    let nextIndex = 0;
    const t0 = performance.now();
    await Promise.all(Array.from({ length: dialers }, async () => {
      while (nextIndex < nodes.length) {
        const node = nodes[nextIndex++];
        const conn = await dialIdentified(node);
        closing.push(conn.close().catch(() => {}));
      }
    }));
    return { ms: performance.now() - t0, closing };
  };
  const warmNodes = await Promise.all(Array.from({ length: warmCount }, () => newNode()));
  await Promise.all((await dialAll(warmNodes)).closing);
  const nodes = await Promise.all(Array.from({ length: count }, () => newNode()));
  const { ms, closing } = await dialAll(nodes);
  await Promise.all(closing);
  await Promise.all([...warmNodes, ...nodes].map((n) => n.stop()));
  return { upgradesPerSec: count / (ms / 1000), count, dialers };
}

/** Open an echo stream, send `payload`, half-close, read everything back to EOF. */
async function echoOnce(conn: Connection, payload: Uint8Array): Promise<number> {
  const stream = await conn.newStream(ECHO);
  const writer = stream.writable.getWriter();
  await writer.write(payload);
  await writer.close();
  let got = 0;
  const reader = stream.readable.getReader();
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    got += value.byteLength;
  }
  if (got !== payload.byteLength) throw new Error(`echo returned ${got} of ${payload.byteLength}`);
  return got;
}

async function streamsScenario(): Promise<Record<string, unknown>> {
  const count = numFlag("count", 4000);
  const dialers = numFlag("dialers", 8);
  const node = await newNode();
  const conn = await node.dial(addr);
  const payload = new Uint8Array(8).fill(1);
  for (let i = 0; i < 100; i++) await echoOnce(conn, payload);
  let started = 0;
  const t0 = performance.now();
  await Promise.all(Array.from({ length: dialers }, async () => {
    while (started < count) {
      started++;
      await echoOnce(conn, payload);
    }
  }));
  const ms = performance.now() - t0;
  await node.stop();
  return { streamsPerSec: count / (ms / 1000), count, concurrency: dialers };
}

async function rttScenario(): Promise<Record<string, unknown>> {
  const count = numFlag("count", 2000);
  const node = await newNode();
  const conn = await node.dial(addr);
  const stream = await conn.newStream(ECHO);
  const writer = stream.writable.getWriter();
  const reader = stream.readable.getReader();
  const payload = new Uint8Array(32).fill(2);
  const samples: number[] = [];
  for (let i = 0; i < count + 200; i++) {
    const t0 = performance.now();
    await writer.write(payload);
    let got = 0;
    while (got < payload.byteLength) {
      const { value, done } = await reader.read();
      if (done) throw new Error("echo stream ended early");
      got += value.byteLength;
    }
    if (i >= 200) samples.push((performance.now() - t0) * 1000);
  }
  await writer.close();
  await node.stop();
  return { p50us: quantile(samples, 0.5), p99us: quantile(samples, 0.99), count };
}

async function memoryScenario(): Promise<Record<string, unknown>> {
  const conns = numFlag("conns", 1000);
  const warmCount = numFlag("warm", 20);
  const next = stdinLines();
  const open = async (n: number): Promise<Libp2pNode<Services>[]> => {
    const nodes = await Promise.all(Array.from({ length: n }, () => newNode()));
    // 16 at a time: the server's pending-upgrade limits are not what is measured.
    let i = 0;
    await Promise.all(Array.from({ length: 16 }, async () => {
      while (i < nodes.length) await dialIdentified(nodes[i++]);
    }));
    return nodes;
  };
  const held = await open(warmCount);
  report({ event: "warm", connections: warmCount });
  // Every "go" opens another batch and holds it: the runner measures the server after each, so
  // the second batch shows the marginal cost of a connection without the one-time costs (code
  // warm-up) that the first batch pays.
  let line: string | null;
  while ((line = await next()) === "go") {
    held.push(...await open(conns));
    await sleep(1000);
    report({ event: "opened", connections: conns, held: held.length });
  }
  if (line !== null) throw new Error(`expected go, got ${line}`);
  await Promise.all(held.map((n) => n.stop()));
  return { conns };
}

const scenarios: Record<string, () => Promise<Record<string, unknown>>> = {
  perf: perfScenario,
  parallel: parallelScenario,
  upgrades: upgradesScenario,
  streams: streamsScenario,
  rtt: rttScenario,
  memory: memoryScenario,
};

const run = scenarios[scenario];
if (run === undefined) throw new RangeError(`unknown scenario ${scenario}`);
try {
  const result = await run();
  report({ event: "result", impl: "ours", runtime: runtimeName(), scenario, security, ...result });
} catch (err) {
  report({ event: "error", message: String((err as Error)?.stack ?? err) });
  process.exitCode = 1;
}
setTimeout(() => process.exit(), 500);
