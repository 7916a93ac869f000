/**
 * Our half of bench/kad_dht_bench.ts: N of our nodes with the kad-dht service in this one
 * process, on the bench's delayed memory transport (bench/kad_delay_ours.ts), run through the
 * scenario of bench/kad_scenario.ts. Prints one JSON line: the per-operation results. Mirrors
 * bench/kad_js_net.ts step for step.
 *
 *   deno run -A bench/kad_ours_net.ts '<ScenarioParams JSON>'
 *
 * @module
 */

import process from "node:process";
import { fromHex, toHex } from "../src/bytes.ts";
import { generateKeyPairFromSeed } from "../src/keys/mod.ts";
import { createNode, type Libp2pNode } from "../src/node/node.ts";
import { identify, type IdentifyService } from "../protocols/identify/mod.ts";
import { ping, type PingService } from "../protocols/ping/mod.ts";
import { noise } from "../protocols/noise/mod.ts";
import { yamux } from "../protocols/yamux/mod.ts";
import { type KadDHT, kadDHTWithInternals as kadDHT } from "../protocols/kad-dht/operations.ts";
import type { KadMessage } from "../protocols/kad-dht/codec.ts";
import type { QueryPeer } from "../protocols/kad-dht/query.ts";
import { delayedMemory } from "./kad_delay_ours.ts";
import {
  buildScenario,
  hopsOf,
  type Op,
  type OpResult,
  recallOf,
  type Referral,
  type ScenarioParams,
} from "./kad_scenario.ts";

type S = { identify: IdentifyService; ping: PingService; dht: KadDHT };

const params = JSON.parse(process.argv[2] ?? process.argv.at(-1)!) as ScenarioParams;
const sc = buildScenario(params);

interface Tracking {
  origin: number;
  key: string;
  messages: number;
  referrals: Referral[];
}
let current: Tracking | undefined;

const t0 = performance.now();
const nodes: Libp2pNode<S>[] = [];
for (let i = 0; i < params.nodes; i++) {
  const node = await createNode<S>({
    privateKey: generateKeyPairFromSeed("Ed25519", fromHex(sc.keySeeds[i])),
    transports: [delayedMemory(params.delayMs)],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    listen: [`/memory/kadbench-ours-${i}`],
    connectionManager: { maxConnections: 4 * params.nodes },
    services: {
      identify: identify(),
      ping: ping(),
      dht: kadDHT({
        clientMode: false,
        allowPrivateAddresses: true,
        // The bench drives the warm-up: no upkeep during the run.
        refreshIntervalMs: 0,
        reprovideIntervalMs: 0,
        sweepIntervalMs: 0,
        ...(params.alpha === undefined ? {} : { alpha: params.alpha }),
        ...(params.oursDisjointPaths === undefined
          ? {}
          : { disjointPaths: params.oursDisjointPaths }),
      }),
    },
  });
  const index = i;
  const dht = node.services.dht;
  const orig = dht.send.bind(dht);
  dht.send = async (
    peer: QueryPeer,
    message: KadMessage,
    options: { signal?: AbortSignal; expectReply?: boolean },
  ): Promise<KadMessage | undefined> => {
    const cur = current;
    const mine = cur !== undefined && cur.origin === index && message.key !== undefined &&
      toHex(message.key) === cur.key;
    if (mine) cur!.messages++;
    const answer = await orig(peer, message, options);
    if (mine && answer !== undefined && options.expectReply !== false) {
      cur!.referrals.push({
        from: toHex(peer.peerId),
        closer: answer.closerPeers.map((p) => toHex(p.id)),
      });
    }
    return answer;
  };
  nodes.push(node);
}
const ids = nodes.map((n) => toHex(n.peerId.toBytes()));

async function inBatches<T>(items: T[], n: number, run: (x: T) => Promise<unknown>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(n, items.length) }, async () => {
      while (next < items.length) await run(items[next++]).catch(() => {});
    }),
  );
}

// Warm-up: the bootstrap dials, then self lookups in rounds.
const dials: [number, number][] = [];
sc.bootstrap.forEach((peers, i) => peers.forEach((j) => dials.push([i, j])));
await inBatches(
  dials,
  params.warmupConcurrency,
  ([i, j]) => nodes[i].dial(nodes[j].addrs()[0], { signal: AbortSignal.timeout(30_000) }),
);
const phase = (what: string): void =>
  console.error(`[${what}] ${((performance.now() - t0) / 1000).toFixed(1)} s`);
phase("dials done");
await new Promise((r) => setTimeout(r, 1000));
for (let round = 0; round < params.warmupRounds; round++) {
  await inBatches(nodes.map((_, i) => i), params.warmupConcurrency, async (i) => {
    for await (const _ of nodes[i].services.dht.getClosestPeers(nodes[i].peerId.toBytes())) {
      /* drain */
    }
  });
  phase(`self lookups round ${round + 1} done`);
}
await new Promise((r) => setTimeout(r, 2000));
const warmupMs = performance.now() - t0;

async function runOp(op: Op): Promise<OpResult> {
  const dht = nodes[op.from].services.dht;
  const key = op.kind === "findPeer" ? ids[op.target] : op.key;
  const cur: Tracking = { origin: op.from, key, messages: 0, referrals: [] };
  current = cur;
  const signal = AbortSignal.timeout(60_000);
  const start = performance.now();
  const cpu0 = process.cpuUsage();
  let ok = false;
  let recall: number | undefined;
  try {
    if (op.kind === "findPeer") {
      const found = await dht.findPeer(nodes[op.target].peerId, { signal });
      ok = found.multiaddrs.length > 0;
    } else if (op.kind === "closest") {
      const found: string[] = [];
      for await (const ev of dht.getClosestPeers(fromHex(op.key), { signal })) {
        if (ev.name === "FINAL_PEER") found.push(toHex(ev.peer.id.toBytes()));
      }
      recall = recallOf(found, ids.filter((_, i) => i !== op.from), op.key);
      ok = found.length > 0;
    } else if (op.kind === "provide") {
      ok = (await dht.provide(op.cid, { signal })) > 0;
    } else {
      const want = ids[op.provider];
      for await (const p of dht.findProviders(op.cid, { signal, limit: 1 })) {
        if (toHex(p.id.toBytes()) === want) ok = true;
      }
    }
  } catch {
    ok = false;
  }
  const ms = performance.now() - start;
  const cpu = process.cpuUsage(cpu0);
  const cpuMs = (cpu.user + cpu.system) / 1000;
  current = undefined;
  const hops = hopsOf(cur.referrals, key, op.kind === "findPeer" ? key : undefined);
  return { kind: op.kind, ok, ms, cpuMs, messages: cur.messages, hops, recall };
}

const results: OpResult[] = [];
for (const op of sc.ops) {
  const r = await runOp(op);
  results.push(r);
  if (process.env.KAD_BENCH_TRACE !== undefined) console.error(JSON.stringify(r));
}

const tables = nodes.map((n) => n.services.dht.table.size).sort((a, b) => a - b);
process.stdout.write(
  JSON.stringify({
    impl: "ours",
    warmupMs,
    tableP50: tables[tables.length >> 1],
    rssMiB: Math.round(process.memoryUsage().rss / 2 ** 20),
    results,
  }) + "\n",
);
await Promise.all(nodes.map((n) => n.stop().catch(() => {})));
process.exit(0);
