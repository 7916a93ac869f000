/**
 * What metrics cost (README "Metrics and status page"):
 *
 * 1. Byte counting (`countTraffic`) on the data path: a bulk echo over TCP loopback (Noise,
 *    yamux) with the receiving node counting and not counting, alternated in the same run,
 *    reported as a throughput ratio (counting / baseline).
 * 2. A scrape: `registry.expose()` with the node collector over N open connections, ms per
 *    scrape and bytes of text.
 *
 *   deno run -A bench/metrics_overhead.ts [--mib 64] [--rounds 3] [--conns 200]
 *   npx -y bun@1.4.5 bench/metrics_overhead.ts
 */

import process from "node:process";
import { createNode, type Libp2pNode } from "../src/node/node.ts";
import { noise } from "../protocols/noise/mod.ts";
import { yamux } from "../protocols/yamux/mod.ts";
import { tcp } from "../transports/tcp/mod.ts";
import { collectNodeMetrics, MetricsRegistry } from "../src/metrics/mod.ts";

const args = process.argv.slice(2);
const arg = (name: string, def: number): number => {
  const i = args.indexOf(name);
  return i >= 0 ? Number(args[i + 1]) : def;
};
const MIB = arg("--mib", 64);
const ROUNDS = arg("--rounds", 3);
const CONNS = arg("--conns", 200);
const ECHO = "/bench/echo/1.0.0";

function node(countTraffic: boolean): Promise<Libp2pNode> {
  return createNode({
    transports: [tcp()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    listen: ["/ip4/127.0.0.1/tcp/0"],
    countTraffic,
    connectionManager: { maxConnections: CONNS + 64, allowList: ["127.0.0.0/8"] },
  });
}

/** Send MIB MiB to a sink on `server` from a fresh client; MiB/s. */
async function throughput(countTraffic: boolean): Promise<number> {
  const server = await node(countTraffic);
  const client = await node(false);
  server.handle(ECHO, async (s) => {
    const r = s.readable.getReader();
    while (!(await r.read()).done) { /* drain */ }
    await s.writable.close();
  });
  try {
    const stream = await client.dialProtocol(server.addrs()[0], ECHO);
    const chunk = new Uint8Array(64 * 1024).fill(7);
    const w = stream.writable.getWriter();
    const t0 = performance.now();
    for (let sent = 0; sent < MIB * 1024 * 1024; sent += chunk.byteLength) await w.write(chunk);
    await w.close();
    const r = stream.readable.getReader();
    while (!(await r.read()).done) { /* wait for the sink's close */ }
    const s = (performance.now() - t0) / 1000;
    if (countTraffic) {
      const got = server.traffic!.sum().inbound;
      if (got < MIB * 1024 * 1024) throw new Error(`counted ${got} bytes, fewer than sent`);
    }
    return MIB / s;
  } finally {
    await client.stop();
    await server.stop();
  }
}

async function scrapeCost(): Promise<{ ms: number; bytes: number }> {
  const server = await node(true);
  const clients: Libp2pNode[] = [];
  try {
    for (let i = 0; i < CONNS; i += 20) {
      const batch = await Promise.all(Array.from({ length: 20 }, () => node(false)));
      clients.push(...batch);
      await Promise.all(batch.map((c) => c.dial(server.addrs()[0])));
    }
    const registry = new MetricsRegistry();
    collectNodeMetrics(server, registry);
    let text = await registry.expose();
    const n = 50;
    const t0 = performance.now();
    for (let i = 0; i < n; i++) text = await registry.expose();
    return { ms: (performance.now() - t0) / n, bytes: text.length };
  } finally {
    await Promise.all(clients.map((c) => c.stop()));
    await server.stop();
  }
}

const base: number[] = [];
const counted: number[] = [];
for (let r = 0; r < ROUNDS; r++) {
  base.push(await throughput(false));
  counted.push(await throughput(true));
}
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const runtime = "Bun" in globalThis ? "bun" : "deno";
console.log(
  `${runtime}: ${MIB} MiB echo sink, median of ${ROUNDS}: baseline ${
    median(base).toFixed(1)
  } MiB/s, ` +
    `countTraffic ${median(counted).toFixed(1)} MiB/s, ratio ${
      (median(counted) / median(base)).toFixed(3)
    }`,
);
const scrape = await scrapeCost();
console.log(
  `${runtime}: scrape with ${CONNS} connections: ${scrape.ms.toFixed(2)} ms, ${scrape.bytes} bytes`,
);
