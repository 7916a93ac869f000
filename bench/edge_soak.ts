/**
 * Soak run of the edge node (issue 21): the CLI as an edge node (relay, DHT server, AutoNAT,
 * gossipsub on one topic, metrics; loopback peers allowed) in its own process, under a mixed load
 * of our nodes (in this process) and js-libp2p nodes (separate Deno processes) for `--minutes`
 * (default 10):
 *
 * - churn: a fresh node connects, pings and leaves every 500 ms;
 * - DHT: 4 of our DHT servers and 2 js ones look up random keys and each other through it;
 * - relay: a node (ours) and a js node hold reservations; fresh nodes open a circuit to ours, echo
 *   8 KiB and leave every second, and a js node pings the js target through it every 3 s;
 * - pubsub: 2 of our nodes publish 5 messages of 256 bytes a second each on the topic.
 *
 * Every 15 s it scrapes the edge node's /metrics (RSS, heap, event-loop lag, connections,
 * reservations, DHT table, peer store) and counts the load's successes and failures. At the end
 * it prints the samples and a verdict: the last third's RSS against the middle third's (bounded
 * when within 25%), the peer store within its cap, the error share and the largest event-loop lag.
 *
 *   deno run -A bench/edge_soak.ts [--minutes 10] [--runtime deno|bun]
 *
 * Not part of the test suite (README "Soak run").
 */

import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import process from "node:process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createNode, type Libp2pNode } from "../src/node/node.ts";
import { multiaddr } from "../src/multiaddr/mod.ts";
import { tcp } from "../transports/tcp/mod.ts";
import { circuitRelayTransport } from "../transports/circuit-relay/mod.ts";
import { noise } from "../protocols/noise/mod.ts";
import { yamux } from "../protocols/yamux/mod.ts";
import { identify } from "../protocols/identify/mod.ts";
import { ping, type PingService } from "../protocols/ping/mod.ts";
import { kadDHT } from "../protocols/kad-dht/mod.ts";
import type { KadDHT } from "../protocols/kad-dht/operations.ts";
import { gossipsub } from "../protocols/gossipsub/mod.ts";
import type { PubsubService } from "../protocols/pubsub/mod.ts";
import { ECHO_PROTOCOL_ID } from "../protocols/echo/mod.ts";
import { type JsCommandPeer, startJsCommandPeer } from "../tests/interop/js_command_peer.ts";
import { parseExposition, sampleSum, sampleValue } from "../tests/metrics/prom_parse.ts";

const ROOT = new URL("../", import.meta.url).pathname;
const arg = (name: string, fallback: string): string => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : fallback;
};
const MINUTES = Number(arg("minutes", "10"));
const RUNTIME = arg("runtime", "deno") as "deno" | "bun";
const SAMPLE_MS = 15_000;
/** The edge node's peer store cap (MemoryPeerStore's default maxPeers). */
const PEER_STORE_CAP = 10_000;
const TOPIC = "soak";

type Ours = Libp2pNode<{ ping: PingService; dht?: KadDHT; pubsub?: PubsubService }>;

function ourNode(extra: Record<string, unknown> = {}, listen: string[] = []): Promise<Ours> {
  return createNode({
    transports: [tcp(), circuitRelayTransport()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    listen,
    ...extra,
    services: {
      identify: identify(),
      ping: ping(),
      ...(extra.services as Record<string, unknown> ?? {}),
    },
  } as never) as Promise<Ours>;
}

/** The runtime's executable, resolved once (the edge node runs without npx in between). */
function runtimeExec(): string[] {
  if (RUNTIME === "bun") {
    const bun = execFileSync("npx", ["-y", "bun@1.4.5", "-e", "console.log(process.execPath)"], {
      cwd: ROOT,
    }).toString().trim();
    return [bun, "cli.ts"];
  }
  return [process.execPath, "run", "-A", "cli.ts"];
}

interface Edge {
  child: ChildProcess;
  addr: string;
  metrics: string;
}

async function startEdge(dir: string): Promise<Edge> {
  const [cmd, ...pre] = runtimeExec();
  const child = spawn(cmd, [
    ...pre,
    "--relay",
    "--relay-private-addrs",
    "--dht-server",
    "--dht-private-addrs",
    "--autonat",
    "--autonat-private-addrs",
    "--subscribe",
    TOPIC,
    "--listen",
    "/ip4/127.0.0.1/tcp/0",
    "--key",
    join(dir, "edge.key"),
    "--metrics",
    "127.0.0.1:0",
  ], { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] });
  child.stderr!.resume();
  let addr = "";
  let metrics = "";
  let buf = "";
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("the edge node did not start")), 60_000);
    child.on("exit", (code) => reject(new Error(`the edge node exited (${code})`)));
    child.stdout!.on("data", (d: Uint8Array) => {
      if (addr !== "" && metrics !== "") return; // message lines: drained, not kept
      buf += new TextDecoder().decode(d);
      for (const line of buf.split("\n")) {
        if (addr === "" && /^listening \/ip4\/127\.0\.0\.1\/tcp\/\d+\/p2p\//.test(line)) {
          addr = line.split(" ")[1];
        }
        if (metrics === "" && line.startsWith("metrics http")) metrics = line.split(" ")[1];
      }
      if (addr !== "" && metrics !== "") {
        clearTimeout(timer);
        resolve();
      }
    });
  });
  return { child, addr, metrics };
}

/** Successes and failures of each kind of load. */
const ops = new Map<string, { ok: number; failed: number; lastError?: string }>();
async function op(kind: string, fn: () => Promise<unknown>): Promise<void> {
  const entry = ops.get(kind) ?? { ok: 0, failed: 0 };
  ops.set(kind, entry);
  try {
    await fn();
    entry.ok++;
  } catch (err) {
    entry.failed++;
    entry.lastError = String(err).slice(0, 160);
  }
}

/** Run `fn` every `ms` until `until`, never two at once. */
function every(ms: number, until: number, fn: () => Promise<void>): Promise<void> {
  return (async () => {
    while (Date.now() < until) {
      const started = Date.now();
      await fn();
      await new Promise((r) => setTimeout(r, Math.max(0, ms - (Date.now() - started))));
    }
  })();
}

async function echo8k(node: Ours, addr: string): Promise<void> {
  const conn = await node.dial(multiaddr(addr), { signal: AbortSignal.timeout(15_000) });
  const stream = await conn.newStream(ECHO_PROTOCOL_ID, { runOnLimitedConnection: true });
  const data = new Uint8Array(8192).map((_, i) => i & 0xff);
  const writer = stream.writable.getWriter();
  const reading = new Response(stream.readable).arrayBuffer();
  await writer.write(data);
  await writer.close();
  const back = new Uint8Array(await reading);
  if (back.byteLength !== data.byteLength) throw new Error(`echoed ${back.byteLength} bytes`);
}

interface Sample {
  minute: number;
  rssMiB: number;
  heapMiB: number;
  lagMaxMs: number;
  connections: number;
  reservations: number;
  circuits: number;
  dhtTable: number;
  peerStore: number;
}

const dir = await mkdtemp(join(tmpdir(), "p2p-edge-soak-"));
const edge = await startEdge(dir);
console.log(`edge node on ${RUNTIME}: ${edge.addr}, ${edge.metrics}; soak for ${MINUTES} min`);
const nodes: Ours[] = [];
const js: JsCommandPeer[] = [];
const samples: Sample[] = [];
const start = Date.now();
const end = start + MINUTES * 60_000;
try {
  // Long-lived load nodes.
  const dhtNodes = await Promise.all(
    Array.from({ length: 4 }, () =>
      ourNode({
        services: { dht: kadDHT({ clientMode: false, allowPrivateAddresses: true }) },
      }, ["/ip4/127.0.0.1/tcp/0"])),
  );
  const pubsubNodes = await Promise.all(
    Array.from({ length: 2 }, () => ourNode({ services: { pubsub: gossipsub() } })),
  );
  const target = await ourNode({}, [`${edge.addr}/p2p-circuit`]);
  target.handle(ECHO_PROTOCOL_ID, (s) => s.readable.pipeTo(s.writable).catch(() => {}), {
    runOnLimitedConnection: true,
  });
  nodes.push(...dhtNodes, ...pubsubNodes, target);
  for (const n of [...dhtNodes, ...pubsubNodes]) await n.dial(multiaddr(edge.addr));
  for (const n of pubsubNodes) n.services.pubsub!.subscribe(TOPIC);
  const script = new URL("../tests/edge/edge_js_peer.ts", import.meta.url).pathname;
  const [jsTarget, jsSource] = await Promise.all([
    startJsCommandPeer({ script, label: "soak", args: [edge.addr] }),
    startJsCommandPeer({ script, label: "soak", args: [""] }),
  ]);
  js.push(jsTarget, jsSource);
  await jsSource.call("dial", { addr: edge.addr });
  let circuit = "";
  let jsCircuit = "";
  for (let i = 0; i < 300 && (circuit === "" || jsCircuit === ""); i++) {
    circuit = target.getMultiaddrs().map(String).find((a) => a.includes("/p2p-circuit")) ?? "";
    jsCircuit = ((await jsTarget.call("addrs")) as string[]).find((a) =>
      a.includes("/p2p-circuit")
    ) ?? "";
    await new Promise((r) => setTimeout(r, 100));
  }
  if (circuit === "" || jsCircuit === "") throw new Error("reservations not made in 30 s");

  const payload = new Uint8Array(256);
  const loops = [
    every(500, end, () =>
      op("churn", async () => {
        const n = await ourNode();
        try {
          await n.services.ping.ping(multiaddr(edge.addr), { signal: AbortSignal.timeout(10_000) });
        } finally {
          await n.stop();
        }
      })),
    ...dhtNodes.map((n, i) =>
      every(2_000, end, () =>
        op("dht", async () => {
          const other = dhtNodes[(i + 1) % dhtNodes.length].peerId;
          await n.services.dht!.findPeer(other, { signal: AbortSignal.timeout(20_000) });
        }))
    ),
    every(1_000, end, () =>
      op("circuit", async () => {
        const n = await ourNode();
        try {
          await echo8k(n, circuit);
        } finally {
          await n.stop();
        }
      })),
    every(3_000, end, () =>
      op("js", async () => {
        await jsSource.call("ping", { addr: jsCircuit, timeoutMs: 15_000 });
        await jsSource.call("findPeer", { peer: dhtNodes[0].peerId.toString() });
      })),
    ...pubsubNodes.map((n) =>
      every(200, end, () =>
        op("publish", async () => {
          crypto.getRandomValues(payload);
          await n.services.pubsub!.publish(TOPIC, payload);
        }))
    ),
    every(SAMPLE_MS, end + 1, async () => {
      const text = await (await fetch(edge.metrics)).text();
      const m = parseExposition(text);
      const s: Sample = {
        minute: Math.round((Date.now() - start) / 6_000) / 10,
        rssMiB: Math.round((sampleValue(m, "process_resident_memory_bytes") ?? 0) / 2 ** 20),
        heapMiB: Math.round((sampleValue(m, "process_heap_used_bytes") ?? 0) / 2 ** 20),
        lagMaxMs: Math.round((sampleValue(m, "process_event_loop_lag_max_seconds") ?? 0) * 1000),
        connections: sampleSum(m, "libp2p_node_connections"),
        reservations: sampleValue(m, "libp2p_relaysvc_active", { kind: "reservations" }) ?? 0,
        circuits: sampleValue(m, "libp2p_relaysvc_connections_total", { type: "opened" }) ?? 0,
        dhtTable: sampleValue(m, "libp2p_kad_dht_routing_table_size") ?? 0,
        peerStore: sampleValue(m, "libp2p_peerstore_peers") ?? 0,
      };
      samples.push(s);
      const load = [...ops].map(([k, v]) => `${k} ${v.ok}/${v.ok + v.failed}`).join(", ");
      console.log(JSON.stringify(s), load);
    }),
  ];
  await Promise.all(loops);
} finally {
  await Promise.all(js.map((p) => p.stop().catch(() => {})));
  await Promise.all(nodes.map((n) => n.stop().catch(() => {})));
  edge.child.kill("SIGTERM");
  await rm(dir, { recursive: true, force: true });
}

const third = Math.max(1, Math.floor(samples.length / 3));
const mean = (xs: Sample[], f: (s: Sample) => number): number =>
  xs.reduce((a, s) => a + f(s), 0) / Math.max(1, xs.length);
const middle = samples.slice(third, 2 * third);
const last = samples.slice(samples.length - third);
const growth = (f: (s: Sample) => number): number => mean(last, f) / Math.max(1, mean(middle, f));
const total = [...ops.values()].reduce((a, v) => a + v.ok + v.failed, 0);
const failed = [...ops.values()].reduce((a, v) => a + v.failed, 0);
const verdict = {
  runtime: RUNTIME,
  minutes: MINUTES,
  operations: Object.fromEntries(ops),
  opsPerSecond: Math.round(total / (MINUTES * 60)),
  errorShare: failed / Math.max(1, total),
  rssGrowth: growth((s) => s.rssMiB),
  peerStoreGrowth: growth((s) => s.peerStore),
  maxLagMs: Math.max(...samples.map((s) => s.lagMaxMs)),
  maxRssMiB: Math.max(...samples.map((s) => s.rssMiB)),
  maxPeerStore: Math.max(...samples.map((s) => s.peerStore)),
  // Every churned node is a new peer id: the peer store grows towards its cap (10,000 by
  // default, least recently updated evicted), which bounds it; memory must level off.
  bounded: growth((s) => s.rssMiB) < 1.25 &&
    Math.max(...samples.map((s) => s.peerStore)) <= PEER_STORE_CAP,
};
console.log(JSON.stringify(verdict, null, 2));
process.exit(0);
