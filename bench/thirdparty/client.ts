/**
 * Benchmark client, js-libp2p 3.3.11: the same scenarios, flags and reports as
 * bench/ours_client.ts (see there), doing the same thing on the wire step by step through
 * js-libp2p's stream API. Runs under Deno from this folder.
 *
 *   cd bench/thirdparty && deno run -A client.ts --addr <multiaddr> --scenario <name> [options]
 */

import process from "node:process";
import { createLibp2p, type Libp2p } from "libp2p";
import { tcp } from "@libp2p/tcp";
import { noise } from "@chainsafe/libp2p-noise";
import { plaintext } from "@libp2p/plaintext";
import { yamux } from "@chainsafe/libp2p-yamux";
import { identify } from "@libp2p/identify";
import { multiaddr } from "@multiformats/multiaddr";
import {
  flag,
  mbps,
  numFlag,
  quantile,
  report,
  runtimeName,
  sleep,
  stdinLines,
} from "../worker_lib.ts";

const PERF = "/perf/1.0.0";
const ECHO = "/echo/1.0.0";
const addrText = flag("addr");
if (addrText === undefined) throw new TypeError("--addr is required");
const addr = multiaddr(addrText);
const scenario = flag("scenario", "perf")!;
const security = flag("security", "noise");

function newNode(): Promise<Libp2p> {
  return createLibp2p({
    transports: [tcp()],
    connectionEncrypters: [security === "plaintext" ? plaintext() : noise()],
    streamMuxers: [yamux()],
    services: { identify: identify() },
  });
}

type JsConnection = Awaited<ReturnType<Libp2p["dial"]>>;
type JsStream = Awaited<ReturnType<JsConnection["newStream"]>>;

/** Dial a fresh connection and resolve once identify of the server finished on it. */
async function dialIdentified(node: Libp2p): Promise<JsConnection> {
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

/** Send `total` bytes from one reused 64 KiB buffer, waiting for drain when js says so. */
async function sendBytes(stream: JsStream, total: number): Promise<void> {
  const block = new Uint8Array(64 * 1024);
  let left = total;
  while (left > 0) {
    const n = Math.min(left, block.byteLength);
    if (!stream.send(n === block.byteLength ? block : block.subarray(0, n))) {
      await stream.onDrain();
    }
    left -= n;
  }
}

/** One perf exchange (perf.md), timed from the open stream to the end of the download. */
async function measure(conn: JsConnection, upload: number, download: number): Promise<number> {
  const stream = await conn.newStream(PERF);
  const t0 = performance.now();
  const header = new Uint8Array(8);
  new DataView(header.buffer).setBigUint64(0, BigInt(download));
  const receive = (async () => {
    let got = 0;
    for await (const chunk of stream) got += chunk.byteLength;
    return got;
  })();
  stream.send(header);
  await sendBytes(stream, upload);
  await stream.close();
  const got = await receive;
  if (got !== download) throw new Error(`perf server sent ${got} of ${download} bytes`);
  return performance.now() - t0;
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
  const warm = Math.min(bytes, 16 * 1024 * 1024);
  await measure(conn, warm, warm);
  const up: number[] = [];
  const down: number[] = [];
  // This process's CPU time per MiB moved (user + system, µs): what a transfer costs this
  // side, which a loaded machine's scheduling does not change as much as the rate.
  const upCpu: number[] = [];
  const downCpu: number[] = [];
  // `--directions down` (or up): only one direction, for profiling a receiver or a sender.
  const directions = flag("directions", "up,down")!;
  for (let i = 0; i < transfers; i++) {
    let cpu = process.cpuUsage();
    if (directions.includes("up")) {
      up.push(mbps(bytes, await measure(conn, bytes, 0)));
      upCpu.push(cpuPerMiB(process.cpuUsage(cpu), bytes));
    }
    if (!directions.includes("down")) continue;
    cpu = process.cpuUsage();
    down.push(mbps(bytes, await measure(conn, 0, bytes)));
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
  await Promise.all(Array.from({ length: streams }, () => measure(conn, warm, 0)));
  const t0 = performance.now();
  await Promise.all(Array.from({ length: streams }, () => measure(conn, each, 0)));
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
  const dialAll = async (nodes: Libp2p[]): Promise<{ ms: number; closing: Promise<void>[] }> => {
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
async function echoOnce(conn: JsConnection, payload: Uint8Array): Promise<number> {
  const stream = await conn.newStream(ECHO);
  if (!stream.send(payload)) await stream.onDrain();
  await stream.close();
  let got = 0;
  for await (const chunk of stream) got += chunk.byteLength;
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
  const it = stream[Symbol.asyncIterator]();
  const payload = new Uint8Array(32).fill(2);
  const samples: number[] = [];
  for (let i = 0; i < count + 200; i++) {
    const t0 = performance.now();
    if (!stream.send(payload)) await stream.onDrain();
    let got = 0;
    while (got < payload.byteLength) {
      const { value, done } = await it.next();
      if (done) throw new Error("echo stream ended early");
      got += value.byteLength;
    }
    if (i >= 200) samples.push((performance.now() - t0) * 1000);
  }
  await stream.close();
  await node.stop();
  return { p50us: quantile(samples, 0.5), p99us: quantile(samples, 0.99), count };
}

async function memoryScenario(): Promise<Record<string, unknown>> {
  const conns = numFlag("conns", 1000);
  const warmCount = numFlag("warm", 20);
  const next = stdinLines();
  const open = async (n: number): Promise<Libp2p[]> => {
    const nodes = await Promise.all(Array.from({ length: n }, () => newNode()));
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
  report({
    event: "result",
    impl: "js-libp2p",
    runtime: runtimeName(),
    scenario,
    security,
    ...result,
  });
} catch (err) {
  report({ event: "error", message: String((err as Error)?.stack ?? err) });
  process.exitCode = 1;
}
setTimeout(() => process.exit(), 500);
