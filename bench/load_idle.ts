/**
 * Load: N idle established connections (default 1,024) between two processes over TCP
 * loopback, full stack (Noise + yamux). Reports the server's RSS growth per connection (target
 * from HARDENING.md: <= 100 KiB), checks that connection N+1 is refused when maxConnections is N,
 * then closes everything and reports the server's counters.
 *
 *   deno run -A bench/load_idle.ts [--connections 1024] [--heap-snapshots <dir>]
 *   npx -y bun@1.4.5 bench/load_idle.ts [--connections 1024]
 *
 * The client opens the connections through one Upgrader (the node API reuses one connection
 * per peer), the server is a normal node with maxConnections = N.
 */

import { spawn } from "node:child_process";
import process from "node:process";
import { createInterface } from "node:readline";
import { createNode } from "../src/node/node.ts";
import { Upgrader } from "../src/upgrader.ts";
import type { Connection } from "../src/connection.ts";
import { generateKeyPair } from "../src/keys/mod.ts";
import { multiaddr } from "../src/multiaddr/mod.ts";
import { noise } from "../protocols/noise/mod.ts";
import { yamux } from "../protocols/yamux/mod.ts";
import { tcp } from "../transports/tcp/mod.ts";
import { fullGc } from "./worker_lib.ts";
import { NoiseEncrypter } from "../protocols/noise/service.ts";

const args = process.argv.slice(2);
const arg = (name: string, fallback: number): number => {
  const i = args.indexOf(name);
  return i >= 0 ? Number(args[i + 1]) : fallback;
};
const argText = (name: string): string | undefined => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};
const N = arg("--connections", 1024);
const MiB = 1024 * 1024;

async function serve(): Promise<void> {
  const node = await createNode({
    transports: [tcp()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    listen: ["/ip4/127.0.0.1/tcp/0"],
    connectionManager: {
      maxConnections: N,
      highWatermark: N,
      lowWatermark: N,
      maxPendingInbound: 256,
      maxInboundPerIp: N + 256,
      inboundRatePerIp: 1e9,
      inboundBurstPerIp: 1e9,
    },
  });
  const report = (): void => {
    fullGc();
    const m = process.memoryUsage();
    console.log(JSON.stringify({
      rss: m.rss,
      heapUsed: m.heapUsed,
      heapTotal: m.heapTotal,
      external: m.external,
      stats: node.stats(),
    }));
  };
  console.log(JSON.stringify({ addr: node.addrs()[0].toString() }));
  for await (const line of createInterface({ input: process.stdin })) {
    if (line === "stats") report();
    if (line.startsWith("snapshot ")) {
      fullGc();
      // node:v8 heap snapshots work on Deno; Bun has its own format through bun:jsc.
      const v8 = await import("node:v8");
      console.log(JSON.stringify({ snapshot: v8.writeHeapSnapshot(line.slice(9)) }));
    }
    if (line === "quit") break;
  }
  await node.stop();
  process.exit(0);
}

async function client(): Promise<void> {
  const self = new URL(import.meta.url).pathname;
  const isDeno = "Deno" in globalThis;
  const child = spawn(
    process.execPath,
    isDeno
      ? ["run", "-A", "--v8-flags=--expose-gc", self, "--serve", "--connections", String(N)]
      : [
        self,
        "--serve",
        "--connections",
        String(N),
      ],
    { stdio: ["pipe", "pipe", "inherit"] },
  );
  const lines = createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
  const next = async (): Promise<Record<string, unknown>> =>
    JSON.parse((await lines.next()).value as string);
  type Sample = {
    rss: number;
    heapUsed: number;
    heapTotal: number;
    external: number;
    stats: unknown;
  };
  const ask = async (): Promise<Sample> => {
    child.stdin!.write("stats\n");
    return await next() as Sample;
  };
  const { addr } = await next() as { addr: string };
  const target = multiaddr(addr);
  const remotePeer = undefined;
  const privateKey = await generateKeyPair("Ed25519");
  const upgrader = new Upgrader({
    encrypters: [new NoiseEncrypter({ privateKey })],
    muxers: [yamux()],
  });
  const transport = tcp();
  const open = async (): Promise<Connection> =>
    await upgrader.upgradeOutbound(await transport.dial(target.decapsulateCode(421)), {
      remotePeer,
    });

  // Warm-up connection, then the baseline.
  (await open()).abort();
  await new Promise((r) => setTimeout(r, 500));
  const snapshots = argText("--heap-snapshots");
  const snapshot = async (name: string): Promise<void> => {
    if (snapshots === undefined) return;
    child.stdin!.write(`snapshot ${snapshots}/${name}.heapsnapshot\n`);
    await next();
  };
  await snapshot("before");
  const before = await ask();
  fullGc();
  const clientBefore = process.memoryUsage().rss;
  const conns: Connection[] = [];
  const t0 = performance.now();
  for (let i = 0; i < N; i += 64) {
    const batch = Math.min(64, N - i);
    conns.push(...await Promise.all(Array.from({ length: batch }, open)));
  }
  const elapsed = performance.now() - t0;
  await new Promise((r) => setTimeout(r, 1000));
  const after = await ask();
  await snapshot("after");
  fullGc();
  const clientAfter = process.memoryUsage().rss;

  // Connection N+1: refused (the upgrade fails or the connection is closed at once).
  let extra = "accepted (unexpected)";
  try {
    const c = await open();
    await Promise.race([c.closed, new Promise((r) => setTimeout(r, 2000))]);
    extra = c.status === "closed" ? "refused (closed after upgrade)" : "still open (unexpected)";
    c.abort();
  } catch (err) {
    extra = `refused (${(err as Error).name})`;
  }

  for (const c of conns) c.abort();
  await new Promise((r) => setTimeout(r, 1000));
  const end = await ask();
  child.stdin!.write("quit\n");

  const perConn = (after.rss - before.rss) / N;
  console.log(`runtime            ${isDeno ? "deno" : "bun"} ${process.version}`);
  console.log(
    `connections        ${N} idle (noise + yamux, tcp loopback) in ${elapsed.toFixed(0)} ms`,
  );
  console.log(
    `server RSS         ${(before.rss / MiB).toFixed(1)} -> ${(after.rss / MiB).toFixed(1)} MiB, ` +
      `${(perConn / 1024).toFixed(1)} KiB per connection`,
  );
  console.log(
    `server heap        ${(before.heapUsed / MiB).toFixed(1)} -> ` +
      `${(after.heapUsed / MiB).toFixed(1)} MiB, ` +
      `${((after.heapUsed - before.heapUsed) / N / 1024).toFixed(1)} KiB per connection`,
  );
  const kib = (key: "heapTotal" | "external"): string =>
    `${((after[key] - before[key]) / N / 1024).toFixed(1)} KiB per connection`;
  console.log(`server heapTotal   ${kib("heapTotal")}`);
  console.log(`server external    ${kib("external")}`);
  console.log(
    `client RSS         ${((clientAfter - clientBefore) / N / 1024).toFixed(1)} KiB per connection`,
  );
  console.log(`connection ${N + 1}    ${extra}`);
  console.log(
    `server stats after ${JSON.stringify((after.stats as { manager: unknown }).manager)}`,
  );
  console.log(`server stats end   ${JSON.stringify(end.stats)}`);
  process.exit(0);
}

if (args.includes("--serve")) await serve();
else await client();
