/**
 * `deno task bench:kad`: the Kademlia DHT side by side with js-libp2p's `@libp2p/kad-dht`
 * 16.4.5 (issue 17, "Must show"). Each implementation runs N nodes in its own Deno process
 * (bench/kad_ours_net.ts, bench/kad_js_net.ts) on the same latency model (in-memory
 * connections, a fixed one-way delay per chunk, a dial costs one round trip: bench/
 * kad_delay_ours.ts, bench/kad_delay_js.ts), with the same seeded Ed25519 identities, the same
 * bootstrap graph, the same warm-up (bootstrap dials, then self lookups in rounds) and the same
 * operations from the same origins (bench/kad_scenario.ts): findPeer of chosen ids,
 * getClosestPeers of random keys, provide then findProviders. Processes run one at a time,
 * interleaved (ours, js, ours, js, ...), so machine noise hits both.
 *
 * Per operation: requests the origin sent for the operation's key, hops to the decisive
 * responder, success, wall-clock duration. Reported: success, mean requests, mean hops, p50/p99
 * duration, and the ratios ours/js, once with each implementation's defaults and once with
 * alpha = 3 for both (`--configs alpha3paths3`: alpha 3 and 3 disjoint paths for both, the same
 * concurrency; js's disjointPaths defaults to alpha, ours to 1).
 *
 *   deno run -A bench/kad_dht_bench.ts [--nodes N] [--reps R] [--delay MS] [--seed S]
 *       [--configs default,alpha3,alpha3paths3] [--raw DIR] [--write]
 *
 * With --raw every repetition's per-operation results are saved as JSON in DIR. With --write
 * the table replaces the part of bench/RESULTS.md between the kad-bench markers.
 *
 * @module
 */

import { spawn } from "node:child_process";
import process from "node:process";
import { readFile, writeFile } from "node:fs/promises";
import { type OpResult, percentile, type ScenarioParams } from "./kad_scenario.ts";

const argv = process.argv.slice(2);
const arg = (name: string): string | undefined => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? argv[i + 1] : undefined;
};
const NODES = Number(arg("nodes") ?? 50);
const REPS = Number(arg("reps") ?? 1);
const DELAY = Number(arg("delay") ?? 20);
const SEED = Number(arg("seed") ?? 17);
const CONFIGS = (arg("configs") ?? "default,alpha3").split(",");
const WRITE = argv.includes("--write");
const RAW = arg("raw");
const RESULTS = new URL("./RESULTS.md", import.meta.url).pathname;
const SCRIPTS = {
  ours: new URL("./kad_ours_net.ts", import.meta.url).pathname,
  js: new URL("./kad_js_net.ts", import.meta.url).pathname,
};

type Impl = "ours" | "js";
interface RunOutput {
  impl: Impl;
  warmupMs: number;
  tableP50: number;
  rssMiB: number;
  results: OpResult[];
}

function denoCommand(): [string, string[]] {
  const d = (globalThis as { Deno?: { execPath(): string; version: { deno: string } } }).Deno;
  if (d !== undefined && d.version.deno === "2.9.6") return [d.execPath(), ["run", "-A"]];
  return ["npx", ["-y", "deno@2.9.6", "run", "-A"]];
}

function runOne(impl: Impl, params: ScenarioParams): Promise<RunOutput> {
  const [cmd, pre] = denoCommand();
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, [...pre, SCRIPTS[impl], JSON.stringify(params)], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    let err = "";
    child.stdout!.on("data", (d: Uint8Array) => (out += new TextDecoder().decode(d)));
    child.stderr!.on("data", (d: Uint8Array) => {
      const text = new TextDecoder().decode(d);
      err = (err + text).slice(-4000);
      // Progress (phases; per operation with KAD_BENCH_TRACE=1) goes on to our stderr.
      for (const line of text.split("\n")) if (line !== "") console.error(`  ${impl}> ${line}`);
    });
    child.on("exit", (code) => {
      const line = out.trim().split("\n").pop() ?? "";
      try {
        resolve(JSON.parse(line) as RunOutput);
      } catch {
        reject(new Error(`${impl} exited ${code}: ${err}`));
      }
    });
  });
}

interface Row {
  kind: string;
  n: number;
  success: number;
  messages: number;
  hops: number;
  p50: number;
  p99: number;
  cpu: number;
  recall?: number;
}

function summarize(results: OpResult[]): Row[] {
  const kinds = ["findPeer", "closest", "provide", "findProviders"];
  return kinds.map((kind) => {
    const rs = results.filter((r) => r.kind === kind);
    const ms = rs.map((r) => r.ms).sort((a, b) => a - b);
    const withHops = rs.filter((r) => r.hops !== undefined);
    const withRecall = rs.filter((r) => r.recall !== undefined);
    const mean = (xs: number[]): number => xs.reduce((s, x) => s + x, 0) / Math.max(1, xs.length);
    return {
      kind,
      n: rs.length,
      success: rs.filter((r) => r.ok).length / Math.max(1, rs.length),
      messages: mean(rs.map((r) => r.messages)),
      hops: mean(withHops.map((r) => r.hops!)),
      p50: percentile(ms, 0.5),
      p99: percentile(ms, 0.99),
      cpu: mean(rs.map((r) => r.cpuMs)),
      recall: withRecall.length === 0 ? undefined : mean(withRecall.map((r) => r.recall!)),
    };
  });
}

const f1 = (x: number): string => Number.isFinite(x) ? x.toFixed(1) : "n/a";
const f0 = (x: number): string => Number.isFinite(x) ? x.toFixed(0) : "n/a";
const ratio = (a: number, b: number): string => b > 0 ? `${(a / b).toFixed(2)}x` : "n/a";
const pct = (x: number): string => `${(100 * x).toFixed(0)}%`;

function table(label: string, ours: Row[], js: Row[], meta: string): string {
  const lines = [
    `**${label}** — ${meta}`,
    "",
    "| operation | n | success ours / js | requests ours / js | ratio | hops ours / js | p50 ms ours / js | ratio | p99 ms ours / js | CPU ms ours / js | recall@20 ours / js |",
    "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
  ];
  for (let i = 0; i < ours.length; i++) {
    const o = ours[i];
    const j = js[i];
    lines.push(
      `| ${o.kind} | ${o.n} | ${pct(o.success)} / ${pct(j.success)} | ${f1(o.messages)} / ${
        f1(j.messages)
      } | ${ratio(o.messages, j.messages)} | ${f1(o.hops)} / ${f1(j.hops)} | ${f0(o.p50)} / ${
        f0(j.p50)
      } | ${ratio(o.p50, j.p50)} | ${f0(o.p99)} / ${f0(j.p99)} | ${f0(o.cpu)} / ${f0(j.cpu)} | ${
        o.recall === undefined ? "" : `${f1(o.recall)} / ${f1(j.recall ?? NaN)}`
      } |`,
    );
  }
  return lines.join("\n");
}

const sections: string[] = [];
const started = Date.now();
for (const config of CONFIGS) {
  const params: ScenarioParams = {
    nodes: NODES,
    seed: SEED,
    bootstrapDegree: 3,
    findPeer: Number(arg("find-peer") ?? 30),
    closest: Number(arg("closest") ?? 30),
    providers: Number(arg("providers") ?? 10),
    delayMs: DELAY,
    alpha: config === "alpha3" || config === "alpha3paths3" ? 3 : undefined,
    oursDisjointPaths: config === "alpha3paths3" ? 3 : undefined,
    warmupRounds: 2,
    warmupConcurrency: 10,
  };
  const label = config === "alpha3"
    ? "alpha = 3 for both (js: 3 disjoint paths, its default of disjointPaths = alpha; ours: 1 path)"
    : config === "alpha3paths3"
    ? "alpha = 3 and 3 disjoint paths for both (up to 9 requests in flight on each side)"
    : "each implementation's defaults (k = 20, alpha = 10; js: 10 disjoint paths, ours: 1 path)";
  for (let rep = 1; rep <= REPS; rep++) {
    const runs: Partial<Record<Impl, RunOutput>> = {};
    // Interleaved; the order flips every repetition.
    const order: Impl[] = rep % 2 === 1 ? ["ours", "js"] : ["js", "ours"];
    for (const impl of order) {
      const t = performance.now();
      runs[impl] = await runOne(impl, params);
      console.error(
        `[kad-bench] ${config} rep ${rep} ${impl}: ${
          ((performance.now() - t) / 1000).toFixed(0)
        } s`,
      );
    }
    if (RAW !== undefined) {
      await writeFile(`${RAW}/kad_${config}_${rep}.json`, JSON.stringify({ params, runs }) + "\n");
    }
    const o = runs.ours!;
    const j = runs.js!;
    const meta = `${NODES} nodes each, ${DELAY} ms one way, seed ${SEED}, run ${rep}/${REPS}; ` +
      `warm-up ${f0(o.warmupMs / 1000)} s / ${f0(j.warmupMs / 1000)} s, routing table p50 ` +
      `${o.tableP50} / ${j.tableP50}, RSS ${o.rssMiB} / ${j.rssMiB} MiB (ours / js)`;
    const text = table(label, summarize(o.results), summarize(j.results), meta);
    console.log(text + "\n");
    sections.push(text);
  }
}

if (WRITE) {
  const when = new Date(started).toISOString();
  const body = [
    `Run ${when}: \`deno run -A bench/kad_dht_bench.ts ${argv.join(" ")}\` ` +
    `(${((Date.now() - started) / 1000).toFixed(0)} s).`,
    "",
    ...sections.flatMap((s) => [s, ""]),
  ].join("\n");
  const md = await readFile(RESULTS, "utf8");
  const begin = "<!-- kad-bench:begin (generated by bench/kad_dht_bench.ts) -->";
  const end = "<!-- kad-bench:end -->";
  const i = md.indexOf(begin);
  const k = md.indexOf(end);
  if (i < 0 || k < i) throw new Error("RESULTS.md has no kad-bench markers");
  await writeFile(RESULTS, md.slice(0, i + begin.length) + "\n\n" + body + "\n" + md.slice(k));
}
