/**
 * `deno task bench:relay`: our circuit relay v2 server against js-libp2p's
 * (`@libp2p/circuit-relay-v2` 4.2.13) over loopback TCP (issue 19, "Must show"). Each relay runs
 * alone in its own Deno process (bench/relay_ours.ts, bench/relay_js.ts) with the same raised
 * limits (bench/relay_limits.ts); the SAME clients drive both: our nodes in two further
 * processes (bench/relay_peers.ts: one holds the receivers and reserved peers, the other the
 * senders and circuit sources), so only the relay differs. Per run:
 *
 * 1. Relayed throughput: one circuit, `--bulk` MiB one way (a warm-up transfer, then `--reps`
 *    timed ones, median), and the same between the same two clients over a direct TCP
 *    connection as the reference; the relay's CPU time per relayed MiB.
 * 2. Capacity: `--reservations` reservations (after 16 warm-up ones), then `--circuits`
 *    circuits (8 per source peer) each moving 16 KiB; the relay's RSS and JS heap growth per
 *    reservation and per circuit (each measured after two full collections), its CPU time per
 *    reservation; then every circuit moves `--blast` KiB at once: aggregate throughput and the
 *    relay's CPU time per MiB.
 *
 * Runs are interleaved ours, js, js, ours (`--rounds` times), so machine noise hits both.
 *
 *   deno run -A bench/relay_bench.ts [--bulk 64] [--reps 3] [--reservations 200]
 *       [--circuits 200] [--blast 256] [--rounds 1] [--json FILE] [--only ours|js]
 *       [--prof DIR]
 *
 * @module
 */

import { type ChildProcess, spawn } from "node:child_process";
import process from "node:process";
import { writeFile } from "node:fs/promises";
import type { ProcStats } from "./relay_proc.ts";

const argv = process.argv.slice(2);
const arg = (name: string, dflt: number): number => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? Number(argv[i + 1]) : dflt;
};
const BULK_MIB = arg("bulk", 64);
const REPS = arg("reps", 3);
const RESERVATIONS = arg("reservations", 200);
const CIRCUITS = arg("circuits", 200);
const BLAST_KIB = arg("blast", 256);
const ROUNDS = arg("rounds", 1);
const JSON_OUT = argv.includes("--json") ? argv[argv.indexOf("--json") + 1] : undefined;
/** `--prof <dir>`: the relay processes write CPU profiles there (bench/prof_summary.ts). */
const PROF = argv.includes("--prof") ? argv[argv.indexOf("--prof") + 1] : undefined;
/** `--only ours|js`: run one implementation (for profiling), `--rounds` times. */
const ONLY = argv.includes("--only") ? argv[argv.indexOf("--only") + 1] : undefined;
const WARMUP_RESERVATIONS = 16;
const CIRCUITS_PER_SOURCE = 8;
const MIB = 1024 * 1024;

const script = (name: string): string => new URL(`./${name}`, import.meta.url).pathname;

interface Proc {
  ready: Record<string, unknown>;
  call<T = unknown>(op: string, args?: Record<string, unknown>): Promise<T>;
  stop(): Promise<void>;
}

function denoCommand(): [string, string[]] {
  const d = (globalThis as { Deno?: { execPath(): string; version: { deno: string } } }).Deno;
  if (d !== undefined && d.version.deno === "2.9.6") return [d.execPath(), ["run", "-A"]];
  return ["npx", ["-y", "deno@2.9.6", "run", "-A"]];
}

async function start(file: string, prof = false): Promise<Proc> {
  const [cmd, pre] = denoCommand();
  const flags = ["--v8-flags=--expose-gc"];
  if (prof && PROF !== undefined) flags.push("--cpu-prof", `--cpu-prof-dir=${PROF}`);
  const child: ChildProcess = spawn(cmd, [...pre, ...flags, script(file)], {
    stdio: ["pipe", "pipe", "pipe"],
  });
  let err = "";
  child.stderr!.on(
    "data",
    (d: Uint8Array) => (err = (err + new TextDecoder().decode(d)).slice(-4000)),
  );
  const waiting = new Map<number, { resolve(v: unknown): void; reject(e: Error): void }>();
  let onReady: (v: Record<string, unknown>) => void = () => {};
  let onFail: (e: Error) => void = () => {};
  const ready = new Promise<Record<string, unknown>>((res, rej) => {
    onReady = res;
    onFail = rej;
  });
  let buf = "";
  child.stdout!.on("data", (d: Uint8Array) => {
    buf += new TextDecoder().decode(d);
    let i: number;
    while ((i = buf.indexOf("\n")) >= 0) {
      const line = buf.slice(0, i).trim();
      buf = buf.slice(i + 1);
      if (!line.startsWith("{")) continue;
      const obj = JSON.parse(line) as Record<string, unknown>;
      if (obj.event === "ready") {
        onReady(obj);
        continue;
      }
      const w = waiting.get(Number(obj.id));
      if (w === undefined) continue;
      waiting.delete(Number(obj.id));
      if (obj.ok === true) w.resolve(obj.result);
      else w.reject(new Error(`${file}: ${String(obj.error)}`));
    }
  });
  const exited = new Promise<void>((res) => child.on("exit", () => res()));
  exited.then(() => {
    const e = new Error(`${file} exited: ${err}`);
    onFail(e);
    for (const w of waiting.values()) w.reject(e);
  });
  let next = 1;
  return {
    ready: await ready,
    call<T>(op: string, args: Record<string, unknown> = {}): Promise<T> {
      const id = next++;
      return new Promise<T>((resolve, reject) => {
        waiting.set(id, { resolve: resolve as (v: unknown) => void, reject });
        child.stdin!.write(JSON.stringify({ id, op, ...args }) + "\n");
      });
    },
    async stop() {
      if (child.exitCode === null) child.stdin!.end();
      const t = setTimeout(() => child.kill("SIGKILL"), 15_000);
      await exited;
      clearTimeout(t);
    },
  };
}

/** One run's measurements for one relay implementation. */
interface RunResult {
  impl: "ours" | "js";
  relayedMiBs: number;
  directMiBs: number;
  relayCpuMsPerMiBBulk: number;
  relayCpuBusyBulk: number;
  senderBusyBulk: number;
  receiverBusyBulk: number;
  relayMiBsPerCoreBulk: number;
  reserveMs: number;
  rssPerReservation: number;
  heapPerReservation: number;
  cpuMsPerReservation: number;
  circuitsMs: number;
  circuitsFailed: number;
  blastFailed: number;
  rssPerCircuit: number;
  heapPerCircuit: number;
  blastMiBs: number;
  relayCpuMsPerMiBBlast: number;
  relayRssEnd: number;
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

async function runOnce(impl: "ours" | "js"): Promise<RunResult> {
  const relay = await start(impl === "ours" ? "relay_ours.ts" : "relay_js.ts", true);
  const recv = await start("relay_peers.ts");
  const send = await start("relay_peers.ts");
  const relayAddr = (relay.ready.addrs as string[])[0];
  const stats = (gc = true): Promise<ProcStats> => relay.call<ProcStats>("stats", { gc });
  const log = (s: string): void => console.error(`  ${impl}> ${s}`);
  type Spawned = { first: number; circuit: string[]; direct: string[] };
  try {
    // 1. Bulk, relayed and direct, between the same two clients.
    const a = await recv.call<Spawned>("spawn", { n: 1, relay: relayAddr, reserve: true });
    const b = await send.call<Spawned>("spawn", { n: 1, relay: relayAddr, reserve: false });
    const bytes = BULK_MIB * MIB;
    await send.call("bulk", { node: b.first, addr: a.circuit[0], bytes: 8 * MIB, reps: 1 });
    const c0 = await stats(false);
    const [sa0, sb0] = await Promise.all([
      recv.call<ProcStats>("stats"),
      send.call<ProcStats>("stats"),
    ]);
    const relayed = await send.call<{ ms: number[] }>("bulk", {
      node: b.first,
      addr: a.circuit[0],
      bytes,
      reps: REPS,
    });
    const c1 = await stats(false);
    const [sa1, sb1] = await Promise.all([
      recv.call<ProcStats>("stats"),
      send.call<ProcStats>("stats"),
    ]);
    const wall = relayed.ms.reduce((s, x) => s + x, 0);
    const relayedMiBs = BULK_MIB / (median(relayed.ms) / 1000);
    log(`relayed ${relayedMiBs.toFixed(1)} MiB/s (${relayed.ms.map((x) => x.toFixed(0))} ms)`);
    await send.call("bulk", { node: b.first, addr: a.direct[0], bytes: 8 * MIB, reps: 1 });
    const direct = await send.call<{ ms: number[] }>("bulk", {
      node: b.first,
      addr: a.direct[0],
      bytes,
      reps: REPS,
    });
    const directMiBs = BULK_MIB / (median(direct.ms) / 1000);
    log(`direct ${directMiBs.toFixed(1)} MiB/s`);

    // 2. Capacity: reservations, then circuits, then all circuits at once.
    const warm = await recv.call<Spawned>("spawn", {
      n: WARMUP_RESERVATIONS,
      relay: relayAddr,
      reserve: true,
    });
    const s1 = await stats();
    const t0 = performance.now();
    const res = await recv.call<Spawned>("spawn", {
      n: RESERVATIONS,
      relay: relayAddr,
      reserve: true,
    });
    const reserveMs = performance.now() - t0;
    const s2 = await stats();
    log(`${RESERVATIONS} reservations in ${reserveMs.toFixed(0)} ms`);
    const sources = Math.ceil(CIRCUITS / CIRCUITS_PER_SOURCE);
    const src = await send.call<Spawned>("spawn", { n: sources, relay: relayAddr, reserve: false });
    const s3 = await stats();
    const targets = [...res.circuit, ...warm.circuit];
    const circuitTargets = Array.from({ length: CIRCUITS }, (_, k) => targets[k % targets.length]);
    type Outcome = { ms: number; failed: number; error?: string };
    const opened = await send.call<Outcome>("circuits", {
      nodes: Array.from({ length: sources }, (_, k) => src.first + k),
      targets: circuitTargets,
      bytes: 16 * 1024,
    });
    const s4 = await stats();
    const circuitsMs = opened.ms;
    const open = CIRCUITS - opened.failed;
    log(`${open} of ${CIRCUITS} circuits in ${circuitsMs.toFixed(0)} ms ${opened.error ?? ""}`);
    const blast = await send.call<Outcome>("blast", { bytes: BLAST_KIB * 1024 });
    const s5 = await stats(false);
    const blastMs = blast.ms;
    // Only transfers that completed count towards the aggregate.
    const blastMiB = ((open - blast.failed) * BLAST_KIB) / 1024;
    log(
      `blast ${(blastMiB / (blastMs / 1000)).toFixed(1)} MiB/s, ${blast.failed} of ${open} ` +
        `failed ${blast.error ?? ""}`,
    );
    return {
      impl,
      relayedMiBs,
      directMiBs,
      relayCpuMsPerMiBBulk: (c1.cpuMs - c0.cpuMs) / (BULK_MIB * REPS),
      relayCpuBusyBulk: (c1.cpuMs - c0.cpuMs) / wall,
      senderBusyBulk: (sb1.cpuMs - sb0.cpuMs) / wall,
      receiverBusyBulk: (sa1.cpuMs - sa0.cpuMs) / wall,
      relayMiBsPerCoreBulk: 1000 / ((c1.cpuMs - c0.cpuMs) / (BULK_MIB * REPS)),
      reserveMs,
      rssPerReservation: (s2.rss - s1.rss) / RESERVATIONS,
      heapPerReservation: (s2.heapUsed - s1.heapUsed) / RESERVATIONS,
      cpuMsPerReservation: (s2.cpuMs - s1.cpuMs) / RESERVATIONS,
      circuitsMs,
      circuitsFailed: opened.failed,
      rssPerCircuit: (s4.rss - s3.rss) / open,
      heapPerCircuit: (s4.heapUsed - s3.heapUsed) / open,
      blastFailed: blast.failed,
      blastMiBs: blastMiB / (blastMs / 1000),
      relayCpuMsPerMiBBlast: (s5.cpuMs - s4.cpuMs) / blastMiB,
      relayRssEnd: s5.rss,
    };
  } finally {
    await Promise.all([send.stop(), recv.stop()]);
    await relay.stop();
  }
}

const KIB = (x: number): string => `${(x / 1024).toFixed(1)} KiB`;
const f1 = (x: number): string => x.toFixed(1);
const f2 = (x: number): string => x.toFixed(2);

type Metric = [label: string, key: keyof RunResult, fmt: (x: number) => string, target?: string];
const METRICS: Metric[] = [
  ["relayed throughput, 1 circuit (MiB/s)", "relayedMiBs", f1, ">= 2x js"],
  ["direct throughput, same clients (MiB/s)", "directMiBs", f1],
  ["relay CPU per relayed MiB, bulk (ms)", "relayCpuMsPerMiBBulk", f2],
  ["relay CPU busy during bulk (share of one core)", "relayCpuBusyBulk", f2],
  ["sending client's CPU busy during bulk (share of one core)", "senderBusyBulk", f2],
  ["receiving client's CPU busy during bulk (share of one core)", "receiverBusyBulk", f2],
  ["relay's MiB/s per core of CPU, bulk (1000 / CPU per MiB)", "relayMiBsPerCoreBulk", f1],
  [`${RESERVATIONS} reservations, wall (ms)`, "reserveMs", (x) => x.toFixed(0)],
  ["relay RSS per reservation", "rssPerReservation", KIB],
  ["relay JS heap per reservation", "heapPerReservation", KIB],
  ["relay CPU per reservation (ms)", "cpuMsPerReservation", f2],
  [`${CIRCUITS} circuits opened + 16 KiB each, wall (ms)`, "circuitsMs", (x) => x.toFixed(0)],
  ["circuits that failed to open", "circuitsFailed", (x) => x.toFixed(0)],
  ["relay RSS per circuit", "rssPerCircuit", KIB, "<= 0.5x js"],
  ["relay JS heap per circuit", "heapPerCircuit", KIB],
  [`aggregate, ${CIRCUITS} circuits x ${BLAST_KIB} KiB at once (MiB/s)`, "blastMiBs", f1],
  ["circuits whose aggregate transfer failed", "blastFailed", (x) => x.toFixed(0)],
  ["relay CPU per relayed MiB, aggregate (ms)", "relayCpuMsPerMiBBlast", f2],
  ["relay RSS at the end (MiB)", "relayRssEnd", (x) => (x / MIB).toFixed(1)],
];

function table(results: RunResult[]): string {
  const ours = results.filter((r) => r.impl === "ours");
  const js = results.filter((r) => r.impl === "js");
  const lines = [
    `| metric | ours (${ours.length} runs) | js-libp2p (${js.length} runs) | ours/js (medians) | target |`,
    "| --- | --- | --- | --- | --- |",
  ];
  for (const [label, key, fmt, target] of METRICS) {
    const o = ours.map((r) => r[key] as number);
    const j = js.map((r) => r[key] as number);
    const ratio = median(j) === 0 ? NaN : median(o) / median(j);
    let verdict = "";
    if (!Number.isFinite(ratio)) verdict = "n/a";
    else if (target?.startsWith(">=")) verdict = ratio >= 2 ? "PASS" : "MISS";
    else if (target?.startsWith("<=")) verdict = ratio <= 0.5 ? "PASS" : "MISS";
    lines.push(
      `| ${label} | ${o.map(fmt).join(", ")} | ${j.map(fmt).join(", ")} | ${
        Number.isFinite(ratio) ? `${f2(ratio)}x` : "n/a"
      } | ${target === undefined ? "" : `${target}: ${verdict}`} |`,
    );
  }
  return lines.join("\n");
}

const results: RunResult[] = [];
for (let round = 0; round < ROUNDS; round++) {
  const order: ("ours" | "js")[] = ONLY === "ours" || ONLY === "js"
    ? [ONLY]
    : ["ours", "js", "js", "ours"];
  for (const impl of order) {
    console.error(`round ${round + 1}/${ROUNDS}: ${impl}`);
    results.push(await runOnce(impl));
  }
}
if (JSON_OUT !== undefined) await writeFile(JSON_OUT, JSON.stringify(results, null, 2));
console.log(
  `Run ${
    new Date().toISOString()
  }: --bulk ${BULK_MIB} --reps ${REPS} --reservations ${RESERVATIONS} ` +
    `--circuits ${CIRCUITS} --blast ${BLAST_KIB} --rounds ${ROUNDS}\n`,
);
console.log(table(results));
