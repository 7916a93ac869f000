/**
 * Starts a lab driver (lab_node.ts on the runtime running the tests, or lab_js_node.ts on Deno)
 * inside a lab namespace with `ip netns exec`, and talks to it in JSON lines.
 *
 * The runtime is started by its own executable path (the pinned Deno or Bun that runs the test,
 * `npx -y deno@2.9.6` / `npx -y bun@1.4.5` resolved once on the host): inside a namespace there
 * is no route to the registry, and npx must not try to reach it from there.
 */

import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import process from "node:process";
import { onJsonLines } from "../interop/json_lines.ts";

const ROOT = new URL("../../", import.meta.url).pathname;
const DEBUG = process.env.DEBUG_LAB !== undefined;
/** Longest wait for one driver command (a 10 MiB echo included), ms. */
const CALL_TIMEOUT_MS = 90_000;

/** The runtime running these tests. */
export const RUNTIME: "deno" | "bun" = "Bun" in globalThis ? "bun" : "deno";

let denoPath: string | undefined;
/** The pinned Deno's executable (the js-libp2p drivers run on Deno under either runtime). */
function denoExec(): string {
  const deno = (globalThis as { Deno?: { execPath(): string } }).Deno;
  if (deno !== undefined && RUNTIME === "deno") return deno.execPath();
  denoPath ??= execFileSync("npx", ["-y", "deno@2.9.6", "eval", "console.log(Deno.execPath())"], {
    cwd: ROOT,
    timeout: 120_000,
  }).toString().trim();
  return denoPath;
}

/** A running driver. */
export interface LabProcess {
  /** Its peer id. */
  peerId: string;
  /** Its addresses now (updated on every "addrs" event). */
  addrs: string[];
  /** Resolves once `check(addrs)` holds; rejects after `ms` or when the process exits. */
  addrsMatch(check: (addrs: string[]) => boolean, ms: number): Promise<string[]>;
  /** Resolves with the first other event (e.g. "dcutr") matching `check`; rejects after `ms`. */
  event(
    name: string,
    check: (e: Record<string, unknown>) => boolean,
    ms: number,
  ): Promise<Record<string, unknown>>;
  /** Run one command; resolves with its result, rejects with the driver's error or after 90 s. */
  call(op: string, args?: Record<string, unknown>): Promise<unknown>;
  /** End the process (close stdin; SIGKILL after 5 s) and wait for it. */
  stop(): Promise<void>;
  /** SIGKILL now (a crash, or clean-up after a failure) and wait for it. */
  kill(): Promise<void>;
}

/** Start `kind`'s driver in namespace `ns` with `args`; resolves once it listens. */
export async function startInNs(
  ns: string,
  kind: "ours" | "js",
  args: string[],
  label: string = kind,
): Promise<LabProcess> {
  const script = `tests/natlab/${kind === "ours" ? "lab_node.ts" : "lab_js_node.ts"}`;
  const argv = kind === "ours" && RUNTIME === "bun"
    ? [process.execPath, script, ...args]
    : [denoExec(), "run", "-A", script, ...args];
  const child: ChildProcess = spawn("ip", ["netns", "exec", ns, ...argv], {
    cwd: ROOT,
    stdio: ["pipe", "pipe", "pipe"],
    env: { ...process.env, NO_COLOR: "1" },
  });
  const decoder = new TextDecoder();
  let stderr = "";
  child.stderr!.on("data", (d: Uint8Array) => {
    stderr = (stderr + decoder.decode(d)).slice(-8000);
    if (DEBUG) console.error(`${label} !`, decoder.decode(d).trim().slice(0, 500));
  });
  const calls = new Map<number, { resolve(v: unknown): void; reject(e: Error): void }>();
  const watchers = new Set<() => void>();
  let addrs: string[] = [];
  const events: Record<string, unknown>[] = [];
  let peerId = "";
  let ready: () => void = () => {};
  let failed: (e: Error) => void = () => {};
  const listening = new Promise<void>((resolve, reject) => {
    ready = resolve;
    failed = reject;
  });
  onJsonLines(child, `${label} >`, (obj) => {
    if (obj.event === "listening" || obj.event === "addrs") {
      addrs = obj.addrs as string[];
      if (obj.event === "listening") {
        peerId = String(obj.peerId);
        ready();
      }
      for (const w of [...watchers]) w();
      return;
    }
    if (obj.event !== undefined) {
      events.push(obj);
      for (const w of [...watchers]) w();
      return;
    }
    const waiter = calls.get(Number(obj.id));
    if (waiter === undefined) return;
    calls.delete(Number(obj.id));
    if (obj.ok === true) waiter.resolve(obj.result);
    else waiter.reject(new Error(`${label}: ${String(obj.error)}`));
  });
  let gone = false;
  const exited = new Promise<void>((resolve) => child.on("close", () => resolve()));
  exited.then(() => {
    gone = true;
    const err = new Error(`${label} exited (${child.exitCode}); stderr: ${stderr.slice(-2000)}`);
    failed(err);
    for (const w of calls.values()) w.reject(err);
    calls.clear();
    for (const w of [...watchers]) w();
  });
  const kill = async (): Promise<void> => {
    if (!gone) child.kill("SIGKILL"); // `ip netns exec` execs the runtime: this pid is the node
    await exited;
  };
  const startTimer = setTimeout(() => failed(new Error(`${label} did not start in 60 s`)), 60_000);
  try {
    await listening;
  } catch (e) {
    await kill();
    throw e;
  } finally {
    clearTimeout(startTimer);
  }
  let next = 1;
  return {
    peerId,
    get addrs() {
      return addrs;
    },
    addrsMatch(check, ms) {
      return new Promise((resolve, reject) => {
        const done = (): void => {
          clearTimeout(timer);
          watchers.delete(watch);
        };
        const watch = (): void => {
          if (check(addrs)) {
            done();
            resolve(addrs);
          } else if (gone) {
            done();
            reject(new Error(`${label} exited while waiting for its addresses`));
          }
        };
        const timer = setTimeout(() => {
          done();
          reject(new Error(`${label}: addresses not as expected in ${ms} ms: ${addrs.join(" ")}`));
        }, ms);
        watchers.add(watch);
        watch();
      });
    },
    event(name, check, ms) {
      return new Promise((resolve, reject) => {
        const done = (): void => {
          clearTimeout(timer);
          watchers.delete(watch);
        };
        const watch = (): void => {
          const found = events.find((e) => e.event === name && check(e));
          if (found !== undefined) {
            done();
            resolve(found);
          } else if (gone) {
            done();
            reject(new Error(`${label} exited while waiting for a ${name} event`));
          }
        };
        const timer = setTimeout(() => {
          done();
          reject(new Error(`${label}: no ${name} event in ${ms} ms`));
        }, ms);
        watchers.add(watch);
        watch();
      });
    },
    call(op, args = {}) {
      if (gone) return Promise.reject(new Error(`${label} has exited`));
      const id = next++;
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          calls.delete(id);
          reject(new Error(`${label}: ${op} got no answer in ${CALL_TIMEOUT_MS} ms`));
        }, CALL_TIMEOUT_MS);
        calls.set(id, {
          resolve: (v) => (clearTimeout(timer), resolve(v)),
          reject: (e) => (clearTimeout(timer), reject(e)),
        });
        child.stdin!.write(JSON.stringify({ id, op, ...args }) + "\n");
      });
    },
    async stop() {
      if (!gone) child.stdin!.end();
      const timer = setTimeout(() => child.kill("SIGKILL"), 5_000);
      await exited;
      clearTimeout(timer);
    },
    kill,
  };
}

/** A running CLI (cli.ts) in a lab namespace. */
export interface LabCli {
  /** Every stdout line so far. */
  stdout: string[];
  /** The first stdout line matching `re` (so far or later); rejects after `ms` or on exit. */
  line(re: RegExp, ms: number): Promise<string>;
  /** SIGKILL it (if still running) and wait for it. */
  kill(): Promise<void>;
}

/** Start the CLI (`cli.ts <args>`) on the test's runtime in namespace `ns`. */
export function startCliInNs(ns: string, args: string[], label = "cli"): LabCli {
  const argv = RUNTIME === "bun"
    ? [process.execPath, "cli.ts", ...args]
    : [denoExec(), "run", "-A", "cli.ts", ...args];
  const child = spawn("ip", ["netns", "exec", ns, ...argv], {
    cwd: ROOT,
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, NO_COLOR: "1" },
  });
  const stdout: string[] = [];
  let stderr = "";
  const watchers = new Set<() => void>();
  let gone = false;
  const decoder = new TextDecoder();
  let buf = "";
  child.stdout!.on("data", (d: Uint8Array) => {
    buf += decoder.decode(d, { stream: true });
    let i: number;
    while ((i = buf.indexOf("\n")) >= 0) {
      stdout.push(buf.slice(0, i));
      if (DEBUG) console.error(`${label} >`, buf.slice(0, i));
      buf = buf.slice(i + 1);
    }
    for (const w of [...watchers]) w();
  });
  child.stderr!.on("data", (d: Uint8Array) => {
    stderr = (stderr + decoder.decode(d)).slice(-4000);
  });
  const exited = new Promise<void>((resolve) => child.on("close", () => resolve()));
  exited.then(() => {
    gone = true;
    for (const w of [...watchers]) w();
  });
  return {
    stdout,
    line(re, ms) {
      return new Promise((resolve, reject) => {
        const done = (): void => {
          clearTimeout(timer);
          watchers.delete(watch);
        };
        const watch = (): void => {
          const found = stdout.find((l) => re.test(l));
          if (found !== undefined) {
            done();
            resolve(found);
          } else if (gone) {
            done();
            reject(new Error(`${label} exited before ${re}; stderr: ${stderr}`));
          }
        };
        const timer = setTimeout(() => {
          done();
          reject(new Error(`${label}: no line ${re} in ${ms} ms; stdout: ${stdout.join(" | ")}`));
        }, ms);
        watchers.add(watch);
        watch();
      });
    },
    async kill() {
      if (!gone) child.kill("SIGKILL");
      await exited;
    },
  };
}
