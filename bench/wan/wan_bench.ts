/**
 * WAN benchmark (issue 22): our node on Deno and on Bun, and js-libp2p 3.3.11 on Deno, each
 * talking to itself across an emulated WAN link (bench/wan/netns.ts: two namespaces joined only
 * to each other through a delay line, TBF rate cap). Root only; not part of the test suite.
 *
 *   deno task bench:wan [--rtts 20,80,200] [--losses 0,0.1,1] [--rate 100] [--dials 5]
 *                       [--impls ours-deno,ours-bun,js-deno] [--json out.json]
 *                       [--notsent-lowat <bytes>] [--skip ttfb,throughput,p99] [--cross 1]
 *                       [--cc reno|bbr] (what the host allows) [--wmem-max 16777216|0]
 *                       [--measure-ms 4000]
 *                       [--reps 1] [--max-window <bytes>] (our clients' yamux maxStreamWindow)
 *                       [--paths direct,relayed] (relayed: through a circuit relay, relayed.ts)
 *   deno task bench:wan --print run1.json,run2.json [--rtts ...]   (tables of saved runs, pooled)
 *
 * For each RTT (jitter ±RTT/40 each way, never reordering):
 *   1. ttfb: `--dials` times dial() -> newStream(/echo/1.0.0) -> 1 byte -> first byte back, over
 *      TCP and WebSocket, fresh connection each time; the median in RTTs, split into dial() and
 *      newStream() time
 *   2. throughput at each loss rate: one /wan/source/1.0.0 stream on a fresh connection, the rate
 *      after a warm-up of max(1.5 s, 12 RTT) over the next 4 s, as a share of the cap; plus a
 *      plain TCP socket (no libp2p) as the baseline of what TCP itself gets on that link
 *   3. p99: while that bulk stream runs, sequential 32-byte echo requests on new streams
 * With `--paths` holding `relayed`, each runs also through a circuit relay next to the server (the
 * topology and the round-trip floor are in bench/wan/relayed.ts): rows "<impl> relayed" (ttfb:
 * the connection to the relay is new each time) and, for ttfb, "<impl> relayed, relay conn open".
 * Prints a markdown table (and JSON with --json). Every step is bounded; the namespaces and the
 * delay line are removed on exit, also on failure or Ctrl-C.
 *
 * @module
 */

import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import process from "node:process";
import { readFileSync, writeFileSync } from "node:fs";
import { buildWan, SERVER_IP, type WanNet, wanUnavailable } from "./netns.ts";
import { flags } from "./wan_common.ts";
import {
  circuitAddr,
  RELAY_PORT_OFFSET,
  relayAddr,
  RELAYED_FLOOR_RTTS,
  RELAYED_WARM_FLOOR_RTTS,
} from "./relayed.ts";

const ROOT = new URL("../../", import.meta.url).pathname;
const args = flags(process.argv.slice(2));
const list = (name: string, fallback: string): number[] =>
  (args.get(name) ?? fallback).split(",").map(Number);
const RTTS = list("rtts", "20,80,200");
const LOSSES = list("losses", "0,0.1,1");
const RATE = Number(args.get("rate") ?? 100);
const DIALS = Number(args.get("dials") ?? 5);
/** Throughput runs per implementation and link (interleaved); the table shows the median. */
const REPS = Number(args.get("reps") ?? 1);
const lowat = args.get("notsent-lowat");
const IMPLS = (args.get("impls") ?? "ours-deno,ours-bun,js-deno").split(",");
const SKIP = new Set((args.get("skip") ?? "").split(","));
const PATHS = (args.get("paths") ?? "direct").split(",");
/** Longest wait for one driver command, ms (bounded). */
const CALL_TIMEOUT_MS = 90_000;
const MEASURE_MS = Number(args.get("measure-ms") ?? 4_000);
const WMEM_MAX = Number(args.get("wmem-max") ?? 16 * 1024 * 1024);
const RAW_PORT = 9000;
const PORTS: Record<string, number> = { "ours-deno": 4001, "ours-bun": 4011, "js-deno": 4021 };

interface Proc {
  peerId: string;
  call(op: string, a?: Record<string, unknown>): Promise<Record<string, number>>;
  kill(): void;
}
const procs: Proc[] = [];

function bunExec(): string {
  return execFileSync("npx", ["-y", "bun@1.4.5", "-e", "console.log(process.execPath)"], {
    cwd: ROOT,
    timeout: 120_000,
  }).toString().trim();
}

async function start(ns: string, impl: string, driverArgs: string[], bun: string): Promise<Proc> {
  const script = impl === "js-deno" ? "bench/wan/js_node.ts" : "bench/wan/ours_node.ts";
  const argv = impl === "ours-bun"
    ? [bun, script, ...driverArgs]
    : [process.execPath, "run", "-A", script, ...driverArgs];
  const child: ChildProcess = spawn("ip", ["netns", "exec", ns, ...argv], {
    cwd: ROOT,
    stdio: ["pipe", "pipe", "pipe"],
    env: { ...process.env, NO_COLOR: "1" },
  });
  let stderr = "";
  child.stderr!.on("data", (d: Uint8Array) => (stderr = (stderr + String(d)).slice(-4000)));
  const waiting = new Map<number, (o: Record<string, unknown>) => void>();
  let onListen!: (o: Record<string, unknown>) => void;
  const listening = new Promise<Record<string, unknown>>((r) => (onListen = r));
  let buf = "";
  child.stdout!.on("data", (d: Uint8Array) => {
    buf += String(d);
    let i: number;
    while ((i = buf.indexOf("\n")) >= 0) {
      const line = buf.slice(0, i).trim();
      buf = buf.slice(i + 1);
      if (!line.startsWith("{")) continue;
      const o = JSON.parse(line) as Record<string, unknown>;
      if (o.event === "listening") onListen(o);
      else waiting.get(Number(o.id))?.(o);
    }
  });
  const exited = new Promise<never>((_r, reject) =>
    child.on("close", (code) => reject(new Error(`${impl} exited (${code}): ${stderr}`)))
  );
  exited.catch(() => {});
  const hello = await Promise.race([listening, exited, timeout(60_000, `${impl} start`)]);
  let next = 1;
  const proc: Proc = {
    peerId: String(hello.peerId),
    async call(op, a = {}) {
      const id = next++;
      const answer = new Promise<Record<string, unknown>>((r) => waiting.set(id, r));
      child.stdin!.write(JSON.stringify({ id, op, ...a }) + "\n");
      const o = await Promise.race([answer, exited, timeout(CALL_TIMEOUT_MS, `${impl} ${op}`)]);
      waiting.delete(id);
      if (o.ok !== true) throw new Error(`${impl} ${op}: ${String(o.error)}`);
      return o.result as Record<string, number>;
    },
    kill() {
      try {
        child.kill("SIGKILL");
      } catch { /* gone */ }
    },
  };
  procs.push(proc);
  return proc;
}

function timeout(ms: number, what: string): Promise<never> {
  return new Promise((_r, reject) => {
    const t = setTimeout(() => reject(new Error(`timeout: ${what}`)), ms);
    (t as { unref?: () => void }).unref?.();
  });
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? NaN : s[Math.floor((s.length - 1) / 2)];
};
const f = (x: number, d = 1): string => Number.isFinite(x) ? x.toFixed(d) : "–";

async function main(net: WanNet): Promise<void> {
  const bun = IMPLS.includes("ours-bun") ? bunExec() : "";
  const servers: Record<string, Proc> = {};
  const clients: Record<string, Proc> = {};
  const relays: Record<string, Proc> = {};
  for (const impl of IMPLS) {
    const port = String(PORTS[impl]);
    const extra = impl === "ours-deno" ? ["--raw-port", String(RAW_PORT)] : [];
    if (PATHS.includes("relayed")) {
      const relayPort = PORTS[impl] + RELAY_PORT_OFFSET;
      relays[impl] = await start(net.ns.s, impl, [
        "--role",
        "relay",
        "--ip",
        SERVER_IP,
        "--port",
        String(relayPort),
      ], bun);
      extra.push("--relay", relayAddr(SERVER_IP, relayPort, relays[impl].peerId, false));
    }
    servers[impl] = await start(net.ns.s, impl, [
      "--role",
      "server",
      "--ip",
      SERVER_IP,
      "--port",
      port,
      ...extra,
    ], bun);
    const cap = args.get("max-window");
    clients[impl] = await start(net.ns.c, impl, [
      "--role",
      "client",
      ...(cap !== undefined && impl !== "js-deno" ? ["--max-window", cap] : []),
    ], bun);
  }
  const addr = (impl: string, ws: boolean): string =>
    `/ip4/${SERVER_IP}/tcp/${PORTS[impl] + (ws ? 1 : 0)}${ws ? "/ws" : ""}/p2p/${
      servers[impl].peerId
    }`;
  const relayed = (impl: string, ws: boolean): string =>
    circuitAddr(
      SERVER_IP,
      PORTS[impl] + RELAY_PORT_OFFSET,
      relays[impl].peerId,
      servers[impl].peerId,
      ws,
    );
  /** What the measurements dial: each row's label, its client and address, and for ttfb whether
   * the client drops every connection after each sample (a new relay connection each time). */
  interface Target {
    label: string;
    impl: string;
    addr: (ws: boolean) => string;
    cold: boolean;
  }
  const direct = PATHS.includes("direct");
  const viaRelay = PATHS.includes("relayed");
  const bulkTargets: Target[] = IMPLS.flatMap((impl) => [
    ...(direct ? [{ label: impl, impl, addr: (ws: boolean) => addr(impl, ws), cold: false }] : []),
    ...(viaRelay
      ? [{ label: `${impl} relayed`, impl, addr: (ws: boolean) => relayed(impl, ws), cold: true }]
      : []),
  ]);
  const ttfbTargets: Target[] = bulkTargets.flatMap((t) =>
    t.label === t.impl ? [t] : [t, { ...t, label: `${t.label}, relay conn open`, cold: false }]
  );
  const out: Record<string, unknown>[] = [];
  for (const rtt of RTTS) {
    const link = { rttMs: rtt, jitterMs: rtt / 40, loss: 0, rateMbit: RATE };
    await net.shape(link);
    // 1. round trips to the first byte
    for (const { label, impl, addr: to, cold } of SKIP.has("ttfb") ? [] : ttfbTargets) {
      for (const ws of [false, true]) {
        const runs: Record<string, number>[] = [];
        const began = performance.now();
        try {
          const cmd = { addr: to(ws), cold };
          await clients[impl].call("ttfb", cmd); // warm-up (JIT), not counted
          for (let i = 0; i < DIALS; i++) runs.push(await clients[impl].call("ttfb", cmd));
        } catch (e) {
          console.error(`ttfb ${label} ${ws ? "ws" : "tcp"} ${rtt}: ${(e as Error).message}`);
        }
        const row = {
          kind: "ttfb",
          impl: label,
          limited: Math.max(0, ...runs.map((r) => r.limited ?? 0)),
          transport: ws ? "ws" : "tcp",
          rtt,
          firstMs: median(runs.map((r) => r.first)),
          dialMs: median(runs.map((r) => r.dial)),
          openMs: median(runs.map((r) => r.open)),
          n: runs.length,
          wallMs: performance.now() - began,
        };
        out.push(row);
        console.error(JSON.stringify(row));
      }
    }
    // --cross: our Deno client against our Bun server and back (which runtime adds a round trip)
    if (
      args.get("cross") !== undefined && IMPLS.includes("ours-deno") && IMPLS.includes("ours-bun")
    ) {
      for (const [c, s] of [["ours-deno", "ours-bun"], ["ours-bun", "ours-deno"]]) {
        for (const ws of [false, true]) {
          const runs: Record<string, number>[] = [];
          for (let i = 0; i <= DIALS; i++) {
            const r = await clients[c].call("ttfb", { addr: addr(s, ws) });
            if (i > 0) runs.push(r); // the first is a warm-up
          }
          const row = {
            kind: "ttfb-cross",
            impl: `${c} -> ${s}`,
            transport: ws ? "ws" : "tcp",
            rtt,
            firstMs: median(runs.map((r) => r.first)),
            dialMs: median(runs.map((r) => r.dial)),
            openMs: median(runs.map((r) => r.open)),
            n: runs.length,
          };
          out.push(row);
          console.error(JSON.stringify(row));
        }
      }
    }
    // 2. + 3. throughput at each loss rate; p99 at 0% loss
    const warmMs = Math.max(1500, 12 * rtt);
    for (const loss of LOSSES) {
      await net.shape({ ...link, loss: loss / 100 });
      const runners: [string, () => Promise<Record<string, number>>][] = [
        ...(SKIP.has("throughput") ? [] : IMPLS.includes("ours-deno")
          ? [[
            "tcp-raw",
            () =>
              clients["ours-deno"].call("raw", {
                host: SERVER_IP,
                port: RAW_PORT,
                warmMs,
                measureMs: MEASURE_MS,
              }),
          ] as [string, () => Promise<Record<string, number>>]]
          : []),
        ...(SKIP.has("throughput") ? [] : bulkTargets).map(({ label, impl, addr: to }) =>
          [
            label,
            () =>
              clients[impl].call("throughput", {
                addr: to(false),
                warmMs,
                measureMs: MEASURE_MS,
              }),
          ] as [string, () => Promise<Record<string, number>>]
        ),
      ];
      for (const [impl, go] of Array.from({ length: REPS }, () => runners).flat()) {
        try {
          const r = await go();
          const row = { kind: "throughput", impl, rtt, loss, ...r, share: r.mbit / RATE };
          out.push(row);
          console.error(JSON.stringify(row));
        } catch (e) {
          console.error(`throughput ${impl} ${rtt} ${loss}: ${(e as Error).message}`);
        }
      }
      if (loss !== 0 || SKIP.has("p99")) continue;
      const count = Math.max(20, Math.min(100, Math.floor(6000 / rtt)));
      for (const { label, impl, addr: to } of bulkTargets) {
        try {
          const r = await clients[impl].call("p99", {
            addr: to(false),
            warmMs,
            measureMs: 60_000,
            count,
          });
          const row = { kind: "p99", impl: label, rtt, ...r };
          out.push(row);
          console.error(JSON.stringify(row));
        } catch (e) {
          console.error(`p99 ${label} ${rtt}: ${(e as Error).message}`);
        }
      }
    }
  }
  console.error("delay line:", JSON.stringify(await net.stats()));
  if (args.get("json") !== undefined) {
    writeFileSync(args.get("json")!, JSON.stringify(out, null, 1));
  }
  printTables(out);
}

function printTables(out: Record<string, unknown>[]): void {
  const rows = (kind: string) => out.filter((r) => r.kind === kind) as Record<string, number>[];
  /** Row labels of one kind, in the order measured (implementations, relayed rows after). */
  const labels = (kind: string): string[] => [
    ...new Set(out.filter((r) => r.kind === kind).map((r) => String(r.impl))),
  ];
  const get = (kind: string, m: (r: Record<string, unknown>) => boolean) =>
    (out.find((r) => r.kind === kind && m(r)) ?? {}) as Record<string, number>;
  const lines: string[] = [];
  lines.push(
    `Link: ${RATE} Mbit/s TBF cap, RTT as listed (jitter ±RTT/40 each way)` +
      (lowat === undefined ? "" : `, tcp_notsent_lowat ${lowat}`) +
      (args.get("cc") === undefined ? "" : `, congestion control ${args.get("cc")}`) +
      (WMEM_MAX === 0 ? "" : `, tcp_wmem max ${WMEM_MAX}`) +
      `, ${MEASURE_MS} ms samples.`,
    "",
  );
  lines.push(
    "| RTTs to first byte (dial / newStream / total) | " +
      RTTS.map((r) => `${r} ms TCP | ${r} ms WS`).join(" | ") + " |",
  );
  lines.push("|---|" + RTTS.map(() => "---|---").join("|") + "|");
  for (const impl of labels("ttfb")) {
    const cells = RTTS.flatMap((rtt) =>
      ["tcp", "ws"].map((t) => {
        const rs = out.filter((x) =>
          x.kind === "ttfb" && x.impl === impl && x.rtt === rtt && x.transport === t
        ) as Record<string, number>[];
        const m = (k: string): number => median(rs.map((x) => x[k]));
        const limited = rs.some((x) => x.limited === 1) ? " (LIMITED)" : "";
        return `${f(m("dialMs") / rtt)} / ${f(m("openMs") / rtt)} / **${f(m("firstMs") / rtt)}**` +
          limited;
      })
    );
    lines.push(`| ${impl} | ${cells.join(" | ")} |`);
  }
  for (const impl of [...new Set(out.filter((r) => r.kind === "ttfb-cross").map((r) => r.impl))]) {
    const cells = RTTS.flatMap((rtt) =>
      ["tcp", "ws"].map((t) => {
        const r = get("ttfb-cross", (x) => x.impl === impl && x.rtt === rtt && x.transport === t);
        return `${f(r.dialMs / rtt)} / ${f(r.openMs / rtt)} / **${f(r.firstMs / rtt)}**`;
      })
    );
    lines.push(`| ${impl} | ${cells.join(" | ")} |`);
  }
  if (labels("ttfb").some((l) => l.includes("relayed"))) {
    lines.push(
      "",
      `Relayed floor: ${RELAYED_FLOOR_RTTS} RTT over TCP, ${RELAYED_WARM_FLOOR_RTTS} with the ` +
        "relay connection open (bench/wan/relayed.ts); WebSocket adds 1 for the upgrade.",
    );
  }
  lines.push("");
  lines.push(
    "| throughput, share of the cap (Mbit/s) | " +
      RTTS.flatMap((r) => LOSSES.map((l) => `${r} ms ${l}%`)).join(" | ") + " |",
  );
  lines.push("|---|" + RTTS.flatMap(() => LOSSES.map(() => "---")).join("|") + "|");
  for (const impl of labels("throughput")) {
    const cells = RTTS.flatMap((rtt) =>
      LOSSES.map((loss) => {
        const runs = out.filter((x) =>
          x.kind === "throughput" && x.impl === impl && x.rtt === rtt && x.loss === loss
        ).map((x) => x.mbit as number);
        const m = median(runs);
        return `${f(100 * m / RATE, 0)}% (${f(m)}${runs.length > 1 ? `, n=${runs.length}` : ""})`;
      })
    );
    lines.push(`| ${impl} | ${cells.join(" | ")} |`);
  }
  lines.push("");
  lines.push(
    "| 32 B echo on a new stream during a bulk stream: p50 / p99 ms (n) | " +
      RTTS.map((r) => `${r} ms (target ${2 * r + 10})`).join(" | ") + " |",
  );
  lines.push("|---|" + RTTS.map(() => "---").join("|") + "|");
  for (const impl of labels("p99")) {
    const cells = RTTS.map((rtt) => {
      const r = get("p99", (x) => x.impl === impl && x.rtt === rtt);
      return `${f(r.p50)} / **${f(r.p99)}** (${r.n ?? 0}; bulk ${f(r.mbit)} Mbit/s)`;
    });
    lines.push(`| ${impl} | ${cells.join(" | ")} |`);
  }
  void rows;
  console.log(lines.join("\n"));
}

// --print a.json,b.json: only print the tables of saved runs (their rows pooled: medians).
if (args.get("print") !== undefined) {
  const rows = args.get("print")!.split(",").flatMap((file) =>
    JSON.parse(readFileSync(file, "utf8")) as Record<string, unknown>[]
  );
  printTables(rows);
  process.exit(0);
}
const why = wanUnavailable();
if (why !== false) {
  console.error(`bench:wan cannot run here: ${why}`);
  process.exit(1);
}
const net = await buildWan({
  ...(lowat === undefined ? {} : { notsentLowat: Number(lowat) }),
  ...(args.get("cc") === undefined ? {} : { congestionControl: args.get("cc") }),
  // 16 MiB by default (`--wmem-max 0`: the host's): a 200 ms, 100 Mbit/s path needs more in
  // flight than the host's 4 MiB send buffer allows, whichever stack runs over TCP.
  ...(WMEM_MAX === 0 ? {} : { wmemMax: WMEM_MAX }),
});
const cleanup = (): void => {
  for (const p of procs) p.kill();
  net.destroy();
};
process.on("SIGINT", () => {
  cleanup();
  process.exit(130);
});
try {
  await main(net);
} finally {
  cleanup();
}
process.exit(0);
