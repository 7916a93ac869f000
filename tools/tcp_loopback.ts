/**
 * A quick A/B of TCP transport implementations on loopback: each module given (a path to a
 * `transports/tcp/mod.ts`-like module exporting `tcp()`) transfers `--mib` MiB through the
 * connections' byte channels (64 KiB writes, 4 buffers in turn, `drained()` before a buffer is
 * reused; the receiver reads into one lent 64 KiB buffer), in one process, alternating between
 * the modules `--rounds` times; prints the median and best Gbit/s of each and the ratio of the
 * medians to the first (on a shared machine the best is the steadier figure: interference only
 * slows a run down), and the CPU time per GiB of both ends (user + system, from
 * `process.cpuUsage()`), which other processes disturb much less than the wall clock.
 *
 *   deno run -A tools/tcp_loopback.ts transports/tcp_before/mod.ts transports/tcp/mod.ts
 *   bun run tools/tcp_loopback.ts transports/tcp_before/mod.ts transports/tcp/mod.ts
 *   deno run -A tools/tcp_loopback.ts --factory websocket a/mod.ts transports/websocket/mod.ts
 *
 * @module
 */

import nodeProcess from "node:process";
import { multiaddr } from "../src/multiaddr/mod.ts";
import type { RawConnection, Transport } from "../src/transport.ts";

const CHUNK = 64 * 1024;

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i === -1 ? fallback : Number(process.argv[i + 1]);
}

/** One transfer: Gbit/s (wall clock) and CPU ms per GiB (user + system, both ends). */
async function transfer(transport: Transport, bytes: number): Promise<[number, number]> {
  let accepted!: (conn: RawConnection) => void;
  const inbound = new Promise<RawConnection>((resolve) => (accepted = resolve));
  const listener = transport.createListener({ onConnection: (conn) => accepted(conn) });
  await listener.listen(multiaddr(LISTEN));
  const client = await transport.dial(listener.getAddrs()[0]);
  const server = await inbound;
  const tx = client.channel;
  const rx = server.channel;
  const start = performance.now();
  const cpu = nodeProcess.cpuUsage();
  const receiving = (async () => {
    const buffer = new Uint8Array(CHUNK);
    let got = 0;
    for (let chunk = await rx.read(buffer); chunk !== null; chunk = await rx.read(buffer)) {
      got += chunk.byteLength;
    }
    return got;
  })();
  const buffers = [0, 1, 2, 3].map((k) => new Uint8Array(CHUNK).fill(k));
  for (let sent = 0, k = 0; sent < bytes; sent += CHUNK, k++) {
    tx.write(buffers[k % 4]);
    if (k % EVERY === EVERY - 1) await tx.drained();
  }
  await tx.closeWrite();
  const got = await receiving;
  const seconds = (performance.now() - start) / 1000;
  const used = nodeProcess.cpuUsage(cpu);
  const cpuMsPerGiB = (used.user + used.system) / 1000 / (bytes / 2 ** 30);
  if (got !== bytes) throw new Error(`received ${got} of ${bytes} bytes`);
  await Promise.all([client.close(), server.close()]);
  await listener.close();
  return [(bytes * 8) / seconds / 1e9, cpuMsPerGiB];
}

const process = nodeProcess;
/** `--factory websocket` compares WebSocket transports (`websocket()` on `/ws`) instead. */
const FACTORY = process.argv.includes("--factory")
  ? process.argv[process.argv.indexOf("--factory") + 1]
  : "tcp";
/** `--every n`: await drained() after every n-th write (default 4; at most 4 buffers). */
const EVERY = Math.min(4, Math.max(1, arg("every", 4)));
const LISTEN = FACTORY === "websocket" ? "/ip4/127.0.0.1/tcp/0/ws" : "/ip4/127.0.0.1/tcp/0";
const modules = process.argv.slice(2).filter((a, i, all) =>
  !a.startsWith("--") &&
  !(all[i - 1] ?? "").startsWith("--")
);
const mib = arg("mib", 256);
const rounds = arg("rounds", 5);
const transports: Transport[] = [];
for (const path of modules) {
  const mod = await import(new URL(`../${path}`, import.meta.url).href) as Record<
    string,
    () => Transport
  >;
  transports.push(mod[FACTORY]());
}
for (const t of transports) await transfer(t, 32 * 1024 * 1024); // warm-up
const results: number[][] = transports.map(() => []);
const cpus: number[][] = transports.map(() => []);
for (let r = 0; r < rounds; r++) {
  for (let m = 0; m < transports.length; m++) {
    const [gbps, cpuMs] = await transfer(transports[m], mib * 1024 * 1024);
    results[m].push(gbps);
    cpus[m].push(cpuMs);
  }
}
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const base = median(results[0]);
const baseCpu = median(cpus[0]);
modules.forEach((path, m) => {
  const med = median(results[m]);
  console.log(
    `${path}: median ${med.toFixed(2)} Gbit/s, best ${Math.max(...results[m]).toFixed(2)} (runs ${
      results[m].map((x) => x.toFixed(2)).join(", ")
    }), ratio to first ${(med / base).toFixed(3)}; CPU ms/GiB median ${
      median(cpus[m]).toFixed(0)
    } (ratio ${(median(cpus[m]) / baseCpu).toFixed(3)})`,
  );
});
