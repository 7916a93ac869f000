/**
 * The command loop shared by the relay bench's child processes (bench/relay_ours.ts,
 * bench/relay_js.ts, bench/relay_peers.ts): commands arrive on stdin as JSON lines
 * `{"id":1,"op":"…",…}` and are answered on stdout `{"id":1,"ok":true,"result":…}`; the first
 * line is `{"event":"ready",…}`. The process exits when stdin closes. `stats` and `gc` are
 * answered here for every process: memory (after a collection when asked) and CPU time.
 *
 * @module
 */

import process from "node:process";

/** What every bench process reports about itself. */
export interface ProcStats {
  /** Resident set size, bytes. */
  rss: number;
  /** V8 heap in use, bytes. */
  heapUsed: number;
  /** Memory of ArrayBuffers and other external objects, bytes. */
  external: number;
  /** CPU time (user + system) since the process started, ms. */
  cpuMs: number;
}

/** The process's memory and CPU now (after two full collections when `collect`). */
export function procStats(collect = false): ProcStats {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (collect && gc !== undefined) {
    gc();
    gc();
  }
  const m = process.memoryUsage();
  const c = process.cpuUsage();
  return {
    rss: m.rss,
    heapUsed: m.heapUsed,
    external: m.external,
    cpuMs: (c.user + c.system) / 1000,
  };
}

/** Announce readiness with `ready`, then answer commands with `run` until stdin closes. */
export function serveCommands(
  ready: Record<string, unknown>,
  run: (cmd: Record<string, unknown>) => Promise<unknown>,
  stop: () => Promise<void>,
): void {
  const write = (obj: unknown): void => {
    process.stdout.write(
      JSON.stringify(obj, (_k, v) => typeof v === "bigint" ? v.toString() : v) + "\n",
    );
  };
  write({ event: "ready", ...ready });
  let buf = "";
  const decoder = new TextDecoder();
  process.stdin.on("data", (d: Uint8Array) => {
    buf += decoder.decode(d);
    let i: number;
    while ((i = buf.indexOf("\n")) >= 0) {
      const line = buf.slice(0, i).trim();
      buf = buf.slice(i + 1);
      if (line === "") continue;
      const cmd = JSON.parse(line) as Record<string, unknown>;
      const answer = cmd.op === "stats" ? Promise.resolve(procStats(cmd.gc === true)) : run(cmd);
      answer.then(
        (result) => write({ id: cmd.id, ok: true, result }),
        (err) => write({ id: cmd.id, ok: false, error: String(err?.stack ?? err) }),
      );
    }
  });
  process.stdin.on("end", async () => {
    await stop().catch(() => {});
    process.exit(0);
  });
}
