/**
 * The js half of bench/kad_dht_bench.ts: N js-libp2p nodes with `@libp2p/kad-dht` 16.4.5 in
 * this one Deno process, on the bench's delayed memory transport (bench/kad_delay_js.ts), run
 * through the scenario of bench/kad_scenario.ts. Prints one JSON line: the per-operation
 * results. Mirrors bench/kad_ours_net.ts step for step.
 *
 *   deno run -A bench/kad_js_net.ts '<ScenarioParams JSON>'
 *
 * @module
 */

// deno-lint-ignore-file no-explicit-any
import process from "node:process";
import { createLibp2p } from "libp2p";
import { noise } from "@chainsafe/libp2p-noise";
import { yamux } from "@chainsafe/libp2p-yamux";
import { identify } from "@libp2p/identify";
import { ping } from "@libp2p/ping";
import { kadDHT, passthroughMapper } from "@libp2p/kad-dht";
import { generateKeyPairFromSeed } from "@libp2p/crypto/keys";
import { peerIdFromString } from "@libp2p/peer-id";
import { fromHex, toHex } from "../src/bytes.ts";
import { delayedMemoryJs } from "./kad_delay_js.ts";
import {
  buildScenario,
  hopsOf,
  type Op,
  type OpResult,
  recallOf,
  type Referral,
  type ScenarioParams,
} from "./kad_scenario.ts";

const params = JSON.parse(process.argv[2] ?? process.argv.at(-1)!) as ScenarioParams;
const sc = buildScenario(params);

interface Tracking {
  origin: number;
  key: string;
  messages: number;
  referrals: Referral[];
}
let current: Tracking | undefined;

const idHex = (id: any): string => toHex(id.toMultihash().bytes);

const t0 = performance.now();
const nodes: any[] = [];
for (let i = 0; i < params.nodes; i++) {
  const privateKey = await generateKeyPairFromSeed("Ed25519", fromHex(sc.keySeeds[i]));
  const node: any = await createLibp2p({
    privateKey,
    addresses: { listen: [`/memory/kadbench-js-${i}`] },
    transports: [delayedMemoryJs(params.delayMs)],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    connectionManager: {
      inboundConnectionThreshold: 100_000,
      maxIncomingPendingConnections: 1024,
      maxConnections: 4 * params.nodes,
    },
    services: {
      identify: identify(),
      ping: ping(),
      dht: kadDHT({
        clientMode: false,
        peerInfoMapper: passthroughMapper,
        // The bench drives the warm-up: no automatic self query during the run.
        initialQuerySelfInterval: 3_600_000,
        querySelfInterval: 3_600_000,
        allowQueryWithZeroPeers: true,
        ...(params.alpha === undefined ? {} : { alpha: params.alpha }),
      }),
    },
  });
  const index = i;
  const network = node.services.dht.network;
  for (const method of ["sendRequest", "sendMessage"]) {
    const orig = network[method].bind(network);
    network[method] = async function* (to: any, msg: any, options: any) {
      const cur = current;
      const mine = cur !== undefined && cur.origin === index && msg.key != null &&
        toHex(msg.key) === cur.key;
      if (mine) cur!.messages++;
      for await (const ev of orig(to, msg, options)) {
        if (mine && ev.name === "PEER_RESPONSE" && method === "sendRequest") {
          cur!.referrals.push({
            from: idHex(ev.from),
            closer: ev.closer.map((p: any) => idHex(p.id)),
          });
        }
        yield ev;
      }
    };
  }
  nodes.push(node);
}
const ids = nodes.map((n) => idHex(n.peerId));

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
  ([i, j]) => nodes[i].dial(nodes[j].getMultiaddrs()[0], { signal: AbortSignal.timeout(30_000) }),
);
const phase = (what: string): void =>
  console.error(`[${what}] ${((performance.now() - t0) / 1000).toFixed(1)} s`);
phase("dials done");
await new Promise((r) => setTimeout(r, 1000));
for (let round = 0; round < params.warmupRounds; round++) {
  await inBatches(nodes.map((_, i) => i), params.warmupConcurrency, async (i) => {
    for await (
      const _ of nodes[i].services.dht.getClosestPeers(nodes[i].peerId.toMultihash().bytes)
    ) {
      /* drain */
    }
  });
  phase(`self lookups round ${round + 1} done`);
}
await new Promise((r) => setTimeout(r, 2000));
const warmupMs = performance.now() - t0;

const CIDClass = nodes[0].peerId.toCID().constructor as any;

async function runOp(op: Op): Promise<OpResult> {
  const node = nodes[op.from];
  const dht = node.services.dht;
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
      const target = peerIdFromString(nodes[op.target].peerId.toString());
      for await (const ev of dht.findPeer(target, { signal, useCache: false })) {
        if (ev.name === "FINAL_PEER" && ev.peer.multiaddrs.length > 0) {
          ok = true;
          break;
        }
      }
    } else if (op.kind === "closest") {
      const found: string[] = [];
      for await (const ev of dht.getClosestPeers(fromHex(op.key), { signal })) {
        if (ev.name === "FINAL_PEER") found.push(idHex(ev.peer.id));
      }
      recall = recallOf(found, ids.filter((_, i) => i !== op.from), op.key);
      ok = found.length > 0;
    } else if (op.kind === "provide") {
      let took = 0;
      for await (const ev of dht.provide(CIDClass.parse(op.cid), { signal })) {
        if (
          ev.name === "PEER_RESPONSE" &&
          (ev.messageType === "ADD_PROVIDER" || ev.messageType === 2)
        ) took++;
      }
      ok = took > 0;
    } else {
      const want = ids[op.provider];
      outer: for await (const ev of dht.findProviders(CIDClass.parse(op.cid), { signal })) {
        if (ev.name !== "PROVIDER") continue;
        for (const p of ev.providers) {
          if (idHex(p.id) === want) {
            ok = true;
            break outer;
          }
        }
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

const tables: number[] = [];
for (const n of nodes) tables.push(n.services.dht.routingTable.size);
tables.sort((a, b) => a - b);
process.stdout.write(
  JSON.stringify({
    impl: "js",
    warmupMs,
    tableP50: tables[tables.length >> 1],
    rssMiB: Math.round(process.memoryUsage().rss / 2 ** 20),
    results,
  }) + "\n",
);
await Promise.all(nodes.map((n) => Promise.resolve(n.stop()).catch(() => {})));
process.exit(0);
