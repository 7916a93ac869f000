/**
 * The relay bench's clients: our nodes (TCP + Noise + yamux, `circuitRelayTransport`) in one
 * process, driven by bench/relay_bench.ts. The same clients drive both relays, so only the relay
 * differs between the two implementations. Every node serves a sink protocol: it reads a stream
 * to its end and answers with the byte count (8 bytes), so a transfer is timed from the
 * stream's opening to that answer.
 *
 *   deno run -A bench/relay_peers.ts
 *
 * Commands (bench/relay_proc.ts):
 *   {"op":"spawn","n":N,"relay":"<addr>","reserve":true,"concurrency":C}
 *       start N nodes; each reserves on the relay (listens on `<relay>/p2p-circuit`) or, with
 *       reserve false, only connects to it. Result: {"first":i,"circuit":[…],"direct":[…]}.
 *   {"op":"bulk","node":i,"addr":"…","bytes":B,"reps":R}  R transfers of B bytes, ms each.
 *   {"op":"circuits","nodes":[i…],"targets":[addr…],"bytes":B}
 *       open one relayed connection per target (node nodes[k % n] dials targets[k]) and move B
 *       bytes over each; the connections stay open. Result: {ms, failed, error}.
 *   {"op":"blast","bytes":B}  every open circuit moves B bytes at once. Result: {ms, failed,
 *       error} (failed: circuits whose transfer failed; error: the first reason).
 *
 * @module
 */

import { createNode, type Libp2pNode } from "../src/node/node.ts";
import type { Connection } from "../src/connection.ts";
import { multiaddr } from "../src/multiaddr/mod.ts";
import { tcp } from "../transports/tcp/mod.ts";
import { noise } from "../protocols/noise/mod.ts";
import { yamux } from "../protocols/yamux/mod.ts";
import { identify } from "../protocols/identify/mod.ts";
import { circuitRelayTransport } from "../transports/circuit-relay/mod.ts";
import { serveCommands } from "./relay_proc.ts";

const SINK = "/bench/relay-sink/1.0.0";
const CHUNK = 64 * 1024;
const payload = new Uint8Array(CHUNK).fill(0x5a);

const nodes: Libp2pNode[] = [];
const circuits: Connection[] = [];

async function newNode(listen: string[]): Promise<Libp2pNode> {
  const node = await createNode({
    transports: [tcp(), circuitRelayTransport()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    listen,
    connectionManager: { maxConnections: 8192, allowList: ["127.0.0.0/8"] },
    services: { identify: identify() },
  });
  node.handle(SINK, async (stream) => {
    let n = 0;
    const reader = stream.readable.getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      n += value.byteLength;
    }
    const writer = stream.writable.getWriter();
    const answer = new Uint8Array(8);
    new DataView(answer.buffer).setBigUint64(0, BigInt(n));
    await writer.write(answer);
    await writer.close();
  }, { runOnLimitedConnection: true });
  return node;
}

/** Send `bytes` on a new sink stream of `conn`; resolves with ms until the answer. */
async function transfer(conn: Connection, bytes: number): Promise<number> {
  const start = performance.now();
  const stream = await conn.newStream(SINK, { runOnLimitedConnection: true });
  const writer = stream.writable.getWriter();
  for (let sent = 0; sent < bytes; sent += CHUNK) {
    await writer.write(sent + CHUNK <= bytes ? payload : payload.subarray(0, bytes - sent));
  }
  await writer.close();
  const reader = stream.readable.getReader();
  let got = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    got += value.byteLength;
  }
  if (got !== 8) throw new Error(`sink answered ${got} bytes`);
  return performance.now() - start;
}

function circuitAddrs(node: Libp2pNode): string[] {
  return node.getMultiaddrs().map(String).filter((a) => a.includes("/p2p-circuit"));
}

async function waitFor(check: () => boolean, ms: number): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error("condition not met in time");
    await new Promise((r) => setTimeout(r, 10));
  }
}

async function spawn(n: number, relay: string, reserve: boolean, concurrency: number) {
  const first = nodes.length;
  const made: Libp2pNode[] = [];
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < n) {
      next++;
      const listen = ["/ip4/127.0.0.1/tcp/0"];
      if (reserve) listen.push(`${relay}/p2p-circuit`);
      const node = await newNode(listen);
      if (reserve) await waitFor(() => circuitAddrs(node).length > 0, 60_000);
      else await node.dial(multiaddr(relay));
      made.push(node);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, concurrency) }, worker));
  nodes.push(...made);
  return {
    first,
    circuit: made.map((m) => circuitAddrs(m)[0] ?? ""),
    direct: made.map((m) => `${m.addrs()[0]}`),
  };
}

/** How many of `done` failed, and the first reason. */
function failures(done: PromiseSettledResult<unknown>[]): { failed: number; error?: string } {
  const failed = done.filter((d) => d.status === "rejected") as PromiseRejectedResult[];
  return { failed: failed.length, error: failed[0] && String(failed[0].reason) };
}

async function run(cmd: Record<string, unknown>): Promise<unknown> {
  switch (cmd.op) {
    case "spawn":
      return await spawn(
        Number(cmd.n),
        String(cmd.relay),
        cmd.reserve === true,
        Number(cmd.concurrency ?? 8),
      );
    case "bulk": {
      const node = nodes[Number(cmd.node)];
      // Both relays announce a (raised) limit, so a relayed connection is a limited one.
      const conn = await node.dial(multiaddr(String(cmd.addr)), { runOnLimitedConnection: true });
      const ms: number[] = [];
      for (let i = 0; i < Number(cmd.reps ?? 1); i++) {
        ms.push(await transfer(conn, Number(cmd.bytes)));
      }
      return { ms, limited: conn.limited };
    }
    case "circuits": {
      const from = (cmd.nodes as number[]).map((i) => nodes[i]);
      const targets = cmd.targets as string[];
      const start = performance.now();
      const done = await Promise.allSettled(targets.map(async (t, k) => {
        const conn = await from[k % from.length].dial(multiaddr(t), {
          runOnLimitedConnection: true,
        });
        circuits.push(conn);
        await transfer(conn, Number(cmd.bytes));
      }));
      return { ms: performance.now() - start, ...failures(done) };
    }
    case "blast": {
      const start = performance.now();
      const done = await Promise.allSettled(circuits.map((c) => transfer(c, Number(cmd.bytes))));
      return { ms: performance.now() - start, ...failures(done) };
    }
    default:
      throw new Error(`unknown op ${String(cmd.op)}`);
  }
}

serveCommands({ impl: "peers" }, run, async () => {
  await Promise.all(nodes.map((n) => n.stop().catch(() => {})));
});
