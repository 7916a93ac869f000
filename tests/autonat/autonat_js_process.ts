/**
 * Spawns tests/autonat/autonat_js_peer.ts (js-libp2p with AutoNAT v2 and v1) as a separate Deno
 * process and sends it commands. Under `bun test` the js side is still a Deno process, started
 * through the pinned `npx -y deno@2.9.6` (as tests/interop/kad_js_process.ts does).
 */

import { type ChildProcess, spawn } from "node:child_process";
import process from "node:process";
import { onJsonLines } from "../interop/json_lines.ts";

const PEER = new URL("./autonat_js_peer.ts", import.meta.url).pathname;
const DEBUG = process.env.DEBUG_JS !== undefined;

/** A running js-libp2p AutoNAT peer. */
export interface AutoNATJsPeer {
  /** Its peer id. */
  peerId: string;
  /** Its listen addresses with `/p2p/`. */
  addrs: string[];
  /** Run one command; resolves with its result, rejects with js's error. */
  call(op: string, args?: Record<string, unknown>): Promise<unknown>;
  /** End the process and wait for it. */
  stop(): Promise<void>;
}

/** Start one js AutoNAT peer listening on `listen` and wait until it listens. */
export async function startAutoNATJsPeer(listen = "/ip4/127.0.0.1/tcp/0"): Promise<AutoNATJsPeer> {
  const deno = (globalThis as { Deno?: { execPath(): string } }).Deno;
  const [cmd, pre] = deno !== undefined && !("Bun" in globalThis)
    ? [deno.execPath(), ["run", "-A"]]
    : ["npx", ["-y", "deno@2.9.6", "run", "-A"]];
  const child: ChildProcess = spawn(cmd, [...pre, PEER], {
    stdio: ["pipe", "pipe", "pipe"],
    env: { ...process.env, LISTEN: listen },
  });
  const decoder = new TextDecoder();
  let stderr = "";
  child.stderr!.on("data", (d: Uint8Array) => {
    stderr = (stderr + decoder.decode(d)).slice(-8000);
    if (DEBUG) console.error("autonat js stderr>", decoder.decode(d).trim().slice(0, 500));
  });
  const calls = new Map<number, { resolve(v: unknown): void; reject(e: Error): void }>();
  let listening: (v: { peerId: string; addrs: string[] }) => void = () => {};
  let failed: (e: Error) => void = () => {};
  const ready = new Promise<{ peerId: string; addrs: string[] }>((resolve, reject) => {
    listening = resolve;
    failed = reject;
  });
  onJsonLines(child, "autonat js>", (obj) => {
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
    const err = new Error(`js AutoNAT peer exited; stderr: ${stderr.slice(-2000)}`);
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
