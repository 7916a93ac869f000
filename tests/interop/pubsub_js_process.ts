/**
 * Spawns tests/interop/pubsub_js_peer.ts (js-libp2p with @libp2p/floodsub or @libp2p/gossipsub)
 * as a separate Deno process, sends it commands and collects the messages it reports. Under
 * `bun test` the js side is still a Deno process, started through the pinned
 * `npx -y deno@2.9.6` (see js_process.ts for why js-libp2p runs under Deno).
 */

import { type ChildProcess, spawn } from "node:child_process";
import process from "node:process";
import { onJsonLines } from "./json_lines.ts";

const PUBSUB_JS_PEER = new URL("./pubsub_js_peer.ts", import.meta.url).pathname;
const DEBUG = process.env.DEBUG_JS !== undefined;

/** A message a js peer received (its `message` event). */
export interface JsMessage {
  topic: string;
  data: string;
  from?: string;
  seqno?: string;
}

/** A running js-libp2p pubsub peer. */
export interface PubsubJsPeer {
  /** Its peer id. */
  peerId: string;
  /** Its listen addresses with `/p2p/`. */
  addrs: string[];
  /** Messages received so far, in order. */
  messages: JsMessage[];
  /** Run one command; resolves with its result, rejects with js's error. */
  call(op: string, args?: Record<string, unknown>): Promise<unknown>;
  /** End the process (closes its stdin) and wait for it. */
  stop(): Promise<void>;
}

/** Start one js pubsub peer (`floodsub` or `gossipsub`) and wait until it listens. */
export async function startPubsubJsPeer(kind: "floodsub" | "gossipsub"): Promise<PubsubJsPeer> {
  const deno = (globalThis as { Deno?: { execPath(): string } }).Deno;
  const [cmd, pre] = deno !== undefined && !("Bun" in globalThis)
    ? [deno.execPath(), ["run", "-A"]]
    : ["npx", ["-y", "deno@2.9.6", "run", "-A"]];
  const child: ChildProcess = spawn(cmd, [...pre, PUBSUB_JS_PEER, kind], {
    stdio: ["pipe", "pipe", "pipe"],
  });
  const decoder = new TextDecoder();
  let stderr = "";
  child.stderr!.on("data", (d: Uint8Array) => {
    stderr = (stderr + decoder.decode(d)).slice(-8000);
    if (DEBUG) console.error(`${kind} js stderr>`, decoder.decode(d).trim().slice(0, 500));
  });
  const calls = new Map<number, { resolve(v: unknown): void; reject(e: Error): void }>();
  const messages: JsMessage[] = [];
  let listening: (v: { peerId: string; addrs: string[] }) => void = () => {};
  let failed: (e: Error) => void = () => {};
  const ready = new Promise<{ peerId: string; addrs: string[] }>((resolve, reject) => {
    listening = resolve;
    failed = reject;
  });
  onJsonLines(child, `${kind} js>`, (obj) => {
    if (obj.event === "listening") {
      listening({ peerId: String(obj.peerId), addrs: obj.addrs as string[] });
      return;
    }
    if (obj.event === "message") {
      messages.push(obj as unknown as JsMessage);
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
    const err = new Error(`js ${kind} peer exited; stderr: ${stderr.slice(-2000)}`);
    failed(err);
    for (const w of calls.values()) w.reject(err);
    calls.clear();
  });
  const { peerId, addrs } = await ready;
  let next = 1;
  return {
    peerId,
    addrs: addrs.map((a) => a.includes("/p2p/") ? a : `${a}/p2p/${peerId}`),
    messages,
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
