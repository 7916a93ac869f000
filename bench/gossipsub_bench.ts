/**
 * `deno task bench:gossipsub`: our gossipsub side by side with js-libp2p's `@libp2p/gossipsub`
 * 17.1.1 (issue 18, "Must show"). Each implementation runs all N nodes in its own process
 * (bench/gossipsub_ours_net.ts on Deno, optionally Bun; bench/gossipsub_js_net.ts on Deno) over
 * loopback TCP with Noise and Yamux: the same seeded Ed25519 identities, the same seeded graph
 * (a ring plus random chords; node i dials node j for every edge i < j), StrictSign, go's
 * `from ‖ seqno` message ids on both (js's msgIdFn set to it), D/Dlo/Dhi and the heartbeat set
 * the same, loopback whitelisted for IP colocation on both. The phases are in
 * bench/gossipsub_scenario.ts. Processes run one at a time, interleaved ours, js, js, ours per
 * repetition, so machine noise hits both; medians over all runs are compared.
 *
 *   deno run -A bench/gossipsub_bench.ts [--nodes N] [--reps R] [--seed S] [--bun]
 *       [--raw FILE] [--write]
 *
 * With --write the table replaces the part of bench/RESULTS.md between the gossipsub-bench
 * markers.
 *
 * @module
 */

import { spawn } from "node:child_process";
import process from "node:process";
import { readFile, writeFile } from "node:fs/promises";
import type { GsParams, GsRunOutput, PhaseResult } from "./gossipsub_scenario.ts";

const argv = process.argv.slice(2);
const arg = (name: string): string | undefined => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? argv[i + 1] : undefined;
};
const REPS = Number(arg("reps") ?? 1);
const WRITE = argv.includes("--write");
const BUN = argv.includes("--bun");
const RAW = arg("raw");
const RESULTS = new URL("./RESULTS.md", import.meta.url).pathname;
const SCRIPTS = {
  ours: new URL("./gossipsub_ours_net.ts", import.meta.url).pathname,
  js: new URL("./gossipsub_js_net.ts", import.meta.url).pathname,
};

const params: GsParams = {
  nodes: Number(arg("nodes") ?? 10),
  chords: 1,
  seed: Number(arg("seed") ?? 18),
  sizes: [1024, 65536],
  latencyMessages: Number(arg("latency-messages") ?? 100),
  paces: [50, 250],
  throughputMessages: Number(arg("throughput-messages") ?? 400),
  windows: [32, 8],
  phaseCapMs: 60_000,
  D: 6,
  Dlo: 4,
  Dhi: 12,
  heartbeatMs: 1000,
  idontwantMinDataSize: 512,
};

type Label = "ours" | "ours-bun" | "js";

function command(label: Label): [string, string[]] {
  const d = (globalThis as { Deno?: { execPath(): string; version: { deno: string } } }).Deno;
  if (label === "ours-bun") return ["npx", ["-y", "bun@1.4.5", "run"]];
  if (d !== undefined && d.version.deno === "2.9.6") return [d.execPath(), ["run", "-A"]];
  return ["npx", ["-y", "deno@2.9.6", "run", "-A"]];
}

function runOne(label: Label): Promise<GsRunOutput> {
  const [cmd, pre] = command(label);
  const script = label === "js" ? SCRIPTS.js : SCRIPTS.ours;
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, [...pre, script, JSON.stringify(params)], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    let err = "";
    child.stdout!.on("data", (d: Uint8Array) => (out += new TextDecoder().decode(d)));
    child.stderr!.on("data", (d: Uint8Array) => {
      const text = new TextDecoder().decode(d);
      err = (err + text).slice(-4000);
      for (const line of text.split("\n")) {
        if (line !== "") console.error(`  ${label}> ${line.slice(0, 160)}`);
      }
    });
    child.on("exit", (code) => {
      const line = out.trim().split("\n").pop() ?? "";
      try {
        resolve(JSON.parse(line) as GsRunOutput);
      } catch {
        reject(new Error(`${label} exited ${code}: ${err}`));
      }
    });
  });
}

const median = (xs: number[]): number => {
  const s = xs.filter(Number.isFinite).sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const fmt = (x: number): string =>
  !Number.isFinite(x) ? "n/a" : x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x.toFixed(2);
const ratio = (a: number, b: number): string =>
  Number.isFinite(a) && b > 0 ? `${(a / b).toFixed(2)}x` : "n/a";
const kib = (size: number): string => `${size / 1024} KiB`;

const order: Label[] = BUN ? ["ours", "js", "ours-bun", "js", "ours", "ours-bun"] : [
  "ours",
  "js",
  "js",
  "ours",
];
const runs: Record<Label, GsRunOutput[]> = { ours: [], "ours-bun": [], js: [] };
const started = Date.now();
for (let r = 0; r < REPS; r++) {
  for (const label of order) {
    console.error(`rep ${r + 1}/${REPS}: ${label}`);
    runs[label].push(await runOne(label));
  }
}
const seconds = Math.round((Date.now() - started) / 1000);

// Same identities on both sides, or the comparison is void.
const ids = JSON.stringify(runs.js[0].peerIds);
for (const l of ["ours", "ours-bun"] as Label[]) {
  for (const o of runs[l]) {
    if (JSON.stringify(o.peerIds) !== ids) throw new Error(`${l}: peer ids differ from js`);
  }
}

const pick = (l: Label, kind: "latency" | "throughput", si: number, f: keyof PhaseResult) =>
  runs[l].map((o) => Number(o[kind][si][f]));
const ourLabels: Label[] = BUN ? ["ours", "ours-bun"] : ["ours"];
const rtName = (l: Label): string => l === "ours-bun" ? "Bun" : "Deno";

const rows: string[] = [
  "| metric | size | ours on | ours (median) | js-libp2p gossipsub 17.1.1 on Deno (median) | ours/js | target | |",
  "| --- | --- | --- | --- | --- | --- | --- | --- |",
];
const verdict = (ok: boolean | undefined): string => ok === undefined ? "" : ok ? "PASS" : "MISS";
for (const [si, size] of params.sizes.entries()) {
  for (const l of ourLabels) {
    const line = (
      metric: string,
      kind: "latency" | "throughput",
      f: keyof PhaseResult,
      unit: string,
      target: string,
      ok: (r: number) => boolean | undefined,
    ): void => {
      const o = median(pick(l, kind, si, f));
      const j = median(pick("js", kind, si, f));
      rows.push(
        `| ${metric} | ${kib(size)} | ${rtName(l)} | ${fmt(o)} ${unit} | ${fmt(j)} ${unit} | ${
          ratio(o, j)
        } | ${target} | ${verdict(ok(o / j))} |`,
      );
    };
    line("throughput", "throughput", "msgsPerSec", "msg/s", ">= 2x js", (r) => r >= 2);
    line("latency p50 (paced)", "latency", "p50Ms", "ms", "<= 0.5x js", (r) => r <= 0.5);
    line("latency p99 (paced)", "latency", "p99Ms", "ms", "<= 0.5x js", (r) => r <= 0.5);
    line("CPU per delivery", "throughput", "cpuUsPerDelivery", "µs", "(none)", () => undefined);
    line("latency p50 (saturated)", "throughput", "p50Ms", "ms", "(none)", () => undefined);
    line("latency p99 (saturated)", "throughput", "p99Ms", "ms", "(none)", () => undefined);
  }
}

const deliveryNotes: string[] = [];
for (const l of [...ourLabels, "js"] as Label[]) {
  for (const kind of ["latency", "throughput"] as const) {
    for (const [si, size] of params.sizes.entries()) {
      const d = runs[l].map((o) => o[kind][si]);
      const got = d.reduce((s, x) => s + x.delivered, 0);
      const exp = d.reduce((s, x) => s + x.expected, 0);
      const dup = d.reduce((s, x) => s + x.duplicates, 0);
      deliveryNotes.push(
        `${l} ${kind} ${kib(size)}: ${got}/${exp} delivered, ${dup} duplicates to the app`,
      );
    }
  }
}

const samples: string[] = [];
for (const l of [...ourLabels, "js"] as Label[]) {
  for (const [si, size] of params.sizes.entries()) {
    samples.push(
      `- ${l} ${kib(size)} msg/s: ${pick(l, "throughput", si, "msgsPerSec").map(fmt).join(", ")}`,
      `- ${l} ${kib(size)} paced p50/p99 ms: ${
        runs[l].map((o) => `${fmt(o.latency[si].p50Ms)}/${fmt(o.latency[si].p99Ms)}`).join(", ")
      }`,
      `- ${l} ${kib(size)} CPU µs/delivery: ${
        pick(l, "throughput", si, "cpuUsPerDelivery").map(fmt).join(", ")
      }`,
    );
  }
}

const meta = `Run ${new Date().toISOString()}: ${params.nodes} nodes per process, ${
  runs.js[0].edges
} edges (ring + ${params.chords} random chord per node, seed ${params.seed}), ${REPS} repetition(s) of ${
  order.join(", ")
}, ${seconds} s in all. Paced phase: ${params.latencyMessages} messages ${
  params.paces.join(" / ")
} ms apart (1 / 64 KiB); throughput phase: ${params.throughputMessages} messages, window ${
  params.windows.join(" / ")
}.`;
const report = [
  meta,
  "",
  ...rows,
  "",
  `Deliveries (all runs): ${deliveryNotes.join("; ")}.`,
  "",
  "<details><summary>All samples</summary>",
  "",
  ...samples,
  "",
  "</details>",
].join("\n");
console.log(report);
if (RAW !== undefined) await writeFile(RAW, JSON.stringify(runs, null, 1));

if (WRITE) {
  const begin = "<!-- gossipsub-bench:begin (generated by bench/gossipsub_bench.ts) -->";
  const end = "<!-- gossipsub-bench:end -->";
  const text = await readFile(RESULTS, "utf8");
  const a = text.indexOf(begin);
  const b = text.indexOf(end);
  if (a < 0 || b < a) throw new Error("RESULTS.md has no gossipsub-bench markers");
  await writeFile(
    RESULTS,
    text.slice(0, a + begin.length) + "\n\n" + report + "\n\n" + text.slice(b),
  );
}
process.exit(0);
