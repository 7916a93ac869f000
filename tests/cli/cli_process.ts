/**
 * Starts the CLI node the way the README says: `npx -y deno@2.9.6 task start -- <flags>` under
 * `deno test`, `npx -y bun@1.4.5 run start -- <flags>` under `bun test`, and reads its output.
 *
 * Signals go to the CLI process itself, found by walking the process tree below npx (`ps`):
 * npm does not pass a SIGINT sent to npx on to its child, and a SIGTERM kills npx at once and
 * orphans the node. (A terminal's Ctrl-C reaches the whole process group, CLI included.)
 */

import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import process from "node:process";

const ROOT = new URL("../../", import.meta.url).pathname;
/** Set DEBUG_CLI=1 to echo the CLI's output to stderr. */
const DEBUG = process.env.DEBUG_CLI !== undefined;

/** Which runtime runs the CLI: the one running the tests. */
export const CLI_RUNTIME: "deno" | "bun" = "Bun" in globalThis ? "bun" : "deno";

/** A running CLI. */
export interface CliRun {
  /** The npx process. */
  child: ChildProcess;
  /** Every stdout line so far. */
  stdout: string[];
  /** Every stderr line so far (npm and task runner chatter included). */
  stderr: string[];
  /** The first stdout line (so far or later) matching `re`; rejects when the CLI exits first. */
  line(re: RegExp): Promise<string>;
  /** Settles with the exit code of npx (which passes the CLI's on). */
  exited: Promise<number | null>;
  /** Send `signal` to the CLI process itself. */
  signal(signal: "SIGINT" | "SIGTERM" | "SIGKILL"): void;
  /** Kill everything still running (test clean-up). */
  kill(): Promise<void>;
}

/** The command line that starts the CLI with `args` on `runtime` (default the current one). */
export function cliCommand(
  args: readonly string[],
  runtime: "deno" | "bun" = CLI_RUNTIME,
): [string, string[]] {
  return runtime === "bun"
    ? ["npx", ["-y", "bun@1.4.5", "run", "start", "--", ...args]]
    : ["npx", ["-y", "deno@2.9.6", "task", "start", "--", ...args]];
}

/**
 * Start the CLI with `args`; `stdin: true` gives it a pipe (`child.stdin`) as its input;
 * `runtime` runs it on the other runtime than the tests' (cross-runtime tests).
 */
export function startCli(
  args: readonly string[],
  options: { stdin?: boolean; runtime?: "deno" | "bun" } = {},
): CliRun {
  const [cmd, argv] = cliCommand(args, options.runtime);
  const child = spawn(cmd, argv, {
    cwd: ROOT,
    stdio: [options.stdin === true ? "pipe" : "ignore", "pipe", "pipe"],
    env: { ...process.env, NO_COLOR: "1" },
  });
  const stdout: string[] = [];
  const stderr: string[] = [];
  const waiters: { re: RegExp; resolve(l: string): void; reject(e: Error): void }[] = [];
  let exitedAlready = false;
  const decoder = new TextDecoder();
  const splitter = (sink: string[], onLine?: (l: string) => void) => {
    let buf = "";
    return (d: Uint8Array) => {
      buf += decoder.decode(d, { stream: true });
      let i: number;
      while ((i = buf.indexOf("\n")) >= 0) {
        const line = buf.slice(0, i).replace(/\r$/, "");
        buf = buf.slice(i + 1);
        sink.push(line);
        if (DEBUG) console.error(`cli ${sink === stdout ? ">" : "!"} ${line}`);
        onLine?.(line);
      }
    };
  };
  child.stdout!.on(
    "data",
    splitter(stdout, (line) => {
      for (const w of [...waiters]) {
        if (w.re.test(line)) {
          waiters.splice(waiters.indexOf(w), 1);
          w.resolve(line);
        }
      }
    }),
  );
  child.stderr!.on("data", splitter(stderr));
  const exited = new Promise<number | null>((resolve) => {
    child.on("close", (code) => {
      exitedAlready = true;
      for (const w of waiters.splice(0)) {
        w.reject(
          new Error(`the CLI exited (${code}) before ${w.re}; stderr:\n${stderr.join("\n")}`),
        );
      }
      resolve(code);
    });
  });
  let cliPid: number | undefined;
  return {
    child,
    stdout,
    stderr,
    exited,
    line(re) {
      const found = stdout.find((l) => re.test(l));
      if (found !== undefined) return Promise.resolve(found);
      if (exitedAlready) return Promise.reject(new Error(`the CLI exited before ${re}`));
      return new Promise((resolve, reject) => waiters.push({ re, resolve, reject }));
    },
    signal(signal) {
      cliPid ??= findCliPid(child.pid!);
      if (cliPid === undefined) throw new Error("no cli.ts process below npx");
      process.kill(cliPid, signal);
    },
    async kill() {
      if (exitedAlready) return;
      for (const pid of [...descendants(child.pid!), child.pid!]) {
        try {
          process.kill(pid, "SIGKILL");
        } catch { /* gone already */ }
      }
      await exited;
    },
  };
}

/** Every process below `root` (children first), from one `ps` listing. */
function descendants(root: number): number[] {
  return processTree(root).map((p) => p.pid);
}

function processTree(root: number): { pid: number; args: string }[] {
  const text = execFileSync("ps", ["-A", "-o", "pid=,ppid=,args="]).toString();
  const rows = text.split("\n").map((l) => /^\s*(\d+)\s+(\d+)\s+(.*)$/.exec(l)).filter((m) =>
    m !== null
  ).map((m) => ({ pid: Number(m![1]), ppid: Number(m![2]), args: m![3] }));
  const out: { pid: number; args: string }[] = [];
  const walk = (pid: number): void => {
    for (const r of rows) {
      if (r.ppid === pid) {
        walk(r.pid);
        out.push({ pid: r.pid, args: r.args });
      }
    }
  };
  walk(root);
  return out;
}

/** The runtime process running cli.ts below `root` (not a shell wrapping it). */
function findCliPid(root: number): number | undefined {
  return processTree(root).find((p) =>
    / cli\.ts( |$)/.test(p.args) && !/^(\/bin\/)?sh /.test(p.args)
  )
    ?.pid;
}
