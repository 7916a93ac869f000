/**
 * Spawns tests/interop/js_peer.ts (js-libp2p 3.x) as a separate Deno process and reads its
 * JSON-lines reports. js-libp2p runs under Deno only (it needs Promise.withResolvers and its
 * Noise fails under Bun's node:crypto), so under `bun test` the js side is still a Deno process,
 * started through the pinned `npx -y deno@2.9.6`.
 */

import { type ChildProcess, spawn } from "node:child_process";
import process from "node:process";
import { onJsonLines } from "./json_lines.ts";

const JS_PEER = new URL("./js_peer.ts", import.meta.url).pathname;
/** Set DEBUG_JS=1 to echo every report of the js peer to stderr. */
const DEBUG = process.env.DEBUG_JS !== undefined;

/** A running js-libp2p peer. */
export interface JsPeer {
  /** The child process. */
  child: ChildProcess;
  /** The next report with this `event` (an `error` report or the process exit also resolves). */
  next(event: string): Promise<Record<string, unknown>>;
  /** Every report seen so far that nobody waited for. */
  pending(): Record<string, unknown>[];
  /** Settles with the exit code. */
  exited: Promise<number | null>;
  /** End the peer (closes its stdin) and wait for it to exit. */
  stop(): Promise<void>;
}

/** Start js_peer.ts with `args`. */
export function startJsPeer(args: string[]): JsPeer {
  const deno = (globalThis as { Deno?: { execPath(): string } }).Deno;
  const [cmd, pre] = deno !== undefined && !("Bun" in globalThis)
    ? [deno.execPath(), ["run", "-A"]]
    : ["npx", ["-y", "deno@2.9.6", "run", "-A"]];
  const child = spawn(cmd, [...pre, JS_PEER, ...args], { stdio: ["pipe", "pipe", "pipe"] });
  const lines: Record<string, unknown>[] = [];
  const waiters: { event: string; resolve(v: Record<string, unknown>): void }[] = [];
  let stderr = "";
  const decoder = new TextDecoder();
  child.stderr!.on("data", (d: Uint8Array) => {
    stderr = (stderr + decoder.decode(d)).slice(-8000);
    if (DEBUG) console.error("js stderr>", decoder.decode(d).trim().slice(0, 500));
  });
  onJsonLines(child, "js peer>", (obj) => {
    const w = waiters.findIndex((x) => x.event === obj.event || obj.event === "error");
    if (w >= 0) waiters.splice(w, 1)[0].resolve(obj);
    else lines.push(obj);
  });
  const exited = new Promise<number | null>((resolve) => child.on("exit", resolve));
  exited.then(() => {
    for (const w of waiters.splice(0)) {
      w.resolve({ event: "error", message: `js peer exited; stderr: ${stderr.slice(-2000)}` });
    }
  });
  return {
    child,
    exited,
    pending: () => [...lines],
    next(event) {
      const i = lines.findIndex((x) => x.event === event || x.event === "error");
      if (i >= 0) return Promise.resolve(lines.splice(i, 1)[0]);
      return new Promise((resolve) => waiters.push({ event, resolve }));
    },
    async stop() {
      if (child.exitCode === null) child.stdin!.end();
      const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);
      await exited;
      clearTimeout(timer);
    },
  };
}
