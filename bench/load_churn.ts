/**
 * Load: churn. Thousands of cycles of connect (TCP loopback, Noise, yamux), identify, ping,
 * disconnect between two nodes in one process; prints heap, RSS, the runtime's handle count
 * (where it has one) and every internal counter of both nodes at baseline and after, so leaks
 * show as growth. HARDENING.md "Load": everything returns to baseline.
 *
 *   deno run -A --v8-flags=--expose-gc bench/load_churn.ts [--cycles 2000]
 *   npx -y bun@1.4.5 bench/load_churn.ts [--cycles 2000]
 */

import process from "node:process";
import { createNode, type Libp2pNode } from "../src/node/node.ts";
import { noise } from "../protocols/noise/mod.ts";
import { yamux } from "../protocols/yamux/mod.ts";
import { identify, type IdentifyService } from "../protocols/identify/mod.ts";
import { ping, type PingService } from "../protocols/ping/mod.ts";
import { tcp } from "../transports/tcp/mod.ts";

const args = process.argv.slice(2);
const i = args.indexOf("--cycles");
const CYCLES = i >= 0 ? Number(args[i + 1]) : 2000;
const MiB = 1024 * 1024;

type Services = { identify: IdentifyService; ping: PingService };

function gc(): void {
  const g = globalThis as { gc?: () => void; Bun?: { gc(force: boolean): void } };
  if (g.Bun !== undefined) g.Bun.gc(true);
  else g.gc?.();
}

function handles(): number | string {
  const p = process as unknown as { getActiveResourcesInfo?: () => string[] };
  try {
    return p.getActiveResourcesInfo?.().length ?? "n/a";
  } catch {
    return "n/a";
  }
}

function node(listen: string[]): Promise<Libp2pNode<Services>> {
  return createNode<Services>({
    transports: [tcp()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    listen,
    services: { identify: identify(), ping: ping() },
    // One client IP churning thousands of times: lift the per-IP rate for the bench.
    connectionManager: { allowList: ["127.0.0.1"] },
  });
}

async function snapshot(nodes: Libp2pNode<Services>[]): Promise<Record<string, unknown>> {
  await new Promise((r) => setTimeout(r, 200));
  gc();
  const m = process.memoryUsage();
  return {
    heapMiB: +(m.heapUsed / MiB).toFixed(2),
    rssMiB: +(m.rss / MiB).toFixed(1),
    handles: handles(),
    nodes: nodes.map((n) => {
      const s = n.stats();
      return {
        connections: s.connections,
        peers: s.peers,
        pendingDials: s.pendingDials,
        pendingUpgrades: s.pendingUpgrades,
        guardedStreams: s.guardedStreams,
        manager: s.manager,
        streams: s.resources.streams,
        scopes: s.resources.connections,
      };
    }),
  };
}

const server = await node(["/ip4/127.0.0.1/tcp/0"]);
const client = await node([]);
const addr = server.addrs()[0];

async function cycle(): Promise<number> {
  const conn = await client.dial(addr);
  await client.services.identify.identify(conn);
  const rtt = await client.services.ping.ping(conn);
  await conn.close();
  return rtt;
}

for (let k = 0; k < 50; k++) await cycle(); // warm-up
const baseline = await snapshot([server, client]);
const t0 = performance.now();
let rtt = 0;
for (let k = 0; k < CYCLES; k++) rtt += await cycle();
const elapsed = performance.now() - t0;
const after = await snapshot([server, client]);

console.log(`runtime   ${"Deno" in globalThis ? "deno" : "bun"}`);
console.log(
  `cycles    ${CYCLES} x (connect + noise + yamux + identify + ping + close) in ` +
    `${(elapsed / 1000).toFixed(1)} s (${(elapsed / CYCLES).toFixed(2)} ms/cycle, ` +
    `ping ${(rtt / CYCLES).toFixed(2)} ms avg)`,
);
console.log(`baseline  ${JSON.stringify(baseline)}`);
console.log(`after     ${JSON.stringify(after)}`);
await client.stop();
await server.stop();
process.exit(0);
