/**
 * Test helpers for protocol services: nodes over the memory transport with the real stack
 * (Noise + Yamux), waiting for events, and raw stream reads.
 */

import { createNode, type Libp2pNode, type NodeInit } from "../../src/node/node.ts";
import type { NodeEventMap } from "../../src/node/events.ts";
import { memory } from "../../transports/memory/mod.ts";
import { tcp } from "../../transports/tcp/mod.ts";
import { noise } from "../../protocols/noise/mod.ts";
import { yamux } from "../../protocols/yamux/mod.ts";

/** A started node over the memory transport (listening unless `listen: []`). */
export function testNode<S extends Record<string, unknown> = Record<string, unknown>>(
  init: Partial<NodeInit<S>> = {},
): Promise<Libp2pNode<S>> {
  return createNode<S>({
    transports: [memory()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    listen: ["/memory/0"],
    ...init,
  } as NodeInit<S>);
}

/** A started node over TCP on loopback (an ephemeral port), for interop with other stacks. */
export function testTcpNode<S extends Record<string, unknown> = Record<string, unknown>>(
  init: Partial<NodeInit<S>> = {},
): Promise<Libp2pNode<S>> {
  return createNode<S>({
    transports: [tcp()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    listen: ["/ip4/127.0.0.1/tcp/0"],
    ...init,
  } as NodeInit<S>);
}

/** Resolve with the detail of the first `type` event matching `filter`; reject after `ms`. */
export function nextEvent<K extends keyof NodeEventMap & string>(
  node: Libp2pNode<never> | Libp2pNode,
  type: K,
  filter: (detail: NodeEventMap[K]) => boolean = () => true,
  ms = 5000,
): Promise<NodeEventMap[K]> {
  return new Promise((resolve, reject) => {
    const target = node as Libp2pNode;
    const timer = setTimeout(() => {
      target.removeEventListener(type, listener);
      reject(new Error(`no ${type} event within ${ms} ms`));
    }, ms);
    const listener = (e: CustomEvent<NodeEventMap[K]>): void => {
      if (!filter(e.detail)) return;
      clearTimeout(timer);
      target.removeEventListener(type, listener);
      resolve(e.detail);
    };
    target.addEventListener(type, listener);
  });
}

/** Poll `check` until it returns true; reject after `ms`. */
export async function until(check: () => boolean | Promise<boolean>, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error("condition not met in time");
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** Read a stream to its end; resolves with the bytes, rejects when the stream errors. */
export async function readAll(readable: ReadableStream<Uint8Array>): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  let n = 0;
  for await (const c of readable) {
    chunks.push(c);
    n += c.byteLength;
  }
  const out = new Uint8Array(n);
  let o = 0;
  for (const c of chunks) {
    out.set(c, o);
    o += c.byteLength;
  }
  return out;
}

/** "eof" with the bytes when the stream ended, "error" with the reason when it errored. */
export async function outcome(
  readable: ReadableStream<Uint8Array>,
): Promise<{ kind: "eof"; bytes: Uint8Array } | { kind: "error"; error: unknown }> {
  try {
    return { kind: "eof", bytes: await readAll(readable) };
  } catch (error) {
    return { kind: "error", error };
  }
}

/** Stop every node, ignoring failures. */
export async function stopAll(...nodes: { stop(): Promise<void> }[]): Promise<void> {
  await Promise.all(nodes.map((n) => n.stop().catch(() => {})));
}
