/**
 * Runs one js-libp2p peer script as a separate Deno process and talks to it in JSON lines: the
 * script prints `{"event":"listening","peerId","addrs"}` first, then answers each command
 * `{"id","op",...}` with `{"id","ok","result"|"error"}`, and exits when its stdin closes. Under
 * `bun test` the js side is still a Deno process, started through the pinned `npx -y deno@2.9.6`
 * (see js_process.ts for why js-libp2p runs under Deno). The DHT, relay, AutoNAT and DCUtR
 * interop tests each wrap it for their peer script.
 */

import { type ChildProcess, spawn } from "node:child_process";
import process from "node:process";
import { onJsonLines } from "./json_lines.ts";

const DEBUG = process.env.DEBUG_JS !== undefined;

/** Which script to run, how to name it in logs, and its arguments and extra environment. */
export interface JsCommandPeerOptions {
  /** Path of the peer script. */
  script: string;
  /** Short name for logs and errors ("kad", "relay", ...). */
  label: string;
  /** Command-line arguments after the script. */
  args?: string[];
  /** Extra environment variables. */
  env?: Record<string, string>;
}

/** A running js-libp2p peer process. */
export interface JsCommandPeer {
  /** Its peer id. */
  peerId: string;
  /** Its listen addresses with `/p2p/`. */
  addrs: string[];
  /** Run one command; resolves with its result, rejects with js's error. */
  call(op: string, args?: Record<string, unknown>): Promise<unknown>;
  /** End the process (closes its stdin) and wait for it. */
  stop(): Promise<void>;
}

/** Start the peer script and wait until it listens. */
export async function startJsCommandPeer(options: JsCommandPeerOptions): Promise<JsCommandPeer> {
  const deno = (globalThis as { Deno?: { execPath(): string } }).Deno;
  const [cmd, pre] = deno !== undefined && !("Bun" in globalThis)
    ? [deno.execPath(), ["run", "-A"]]
    : ["npx", ["-y", "deno@2.9.6", "run", "-A"]];
  const child: ChildProcess = spawn(cmd, [...pre, options.script, ...(options.args ?? [])], {
    stdio: ["pipe", "pipe", "pipe"],
    env: options.env === undefined ? process.env : { ...process.env, ...options.env },
  });
  const decoder = new TextDecoder();
  let stderr = "";
  child.stderr!.on("data", (d: Uint8Array) => {
    stderr = (stderr + decoder.decode(d)).slice(-8000);
    if (DEBUG) console.error(`${options.label} js stderr>`, decoder.decode(d).trim().slice(0, 500));
  });
  const calls = new Map<number, { resolve(v: unknown): void; reject(e: Error): void }>();
  let listening: (v: { peerId: string; addrs: string[] }) => void = () => {};
  let failed: (e: Error) => void = () => {};
  const ready = new Promise<{ peerId: string; addrs: string[] }>((resolve, reject) => {
    listening = resolve;
    failed = reject;
  });
  onJsonLines(child, `${options.label} js>`, (obj) => {
    if (obj.event === "listening") {
      listening({ peerId: String(obj.peerId), addrs: obj.addrs as string[] });
      return;
    }
    const waiter = calls.get(Number(obj.id));
    if (waiter === undefined) return;
    calls.delete(Number(obj.id));
    if (obj.ok === true) waiter.resolve(obj.result);
    else waiter.reject(new Error(`js: ${String(obj.error)}`));
  });
  const exited = new Promise<void>((resolve) => child.on("exit", () => resolve()));
  exited.then(() => {
    const err = new Error(`js ${options.label} peer exited; stderr: ${stderr.slice(-2000)}`);
    failed(err);
    for (const w of calls.values()) w.reject(err);
    calls.clear();
  });
  const { peerId, addrs } = await ready;
  let next = 1;
  return {
    peerId,
    addrs: addrs.map((a) => a.includes("/p2p/") ? a : `${a}/p2p/${peerId}`),
    call(op, args = {}) {
      const id = next++;
      return new Promise((resolve, reject) => {
        calls.set(id, { resolve, reject });
        child.stdin!.write(JSON.stringify({ id, op, ...args }) + "\n");
      });
    },
    async stop() {
      if (child.exitCode === null) child.stdin!.end();
      const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);
      await exited;
      clearTimeout(timer);
    },
  };
}
