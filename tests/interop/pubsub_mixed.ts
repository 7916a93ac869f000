/**
 * A mixed pubsub network for the interop tests: half js-libp2p peers (separate Deno processes,
 * pubsub_js_peer.ts), half ours (on the runtime running the test), over loopback TCP, in a
 * sparse topology: a ring that alternates js and ours, plus a few chords, so every message
 * crosses both implementations on its way. Each member is driven through one interface.
 */

import type { Libp2pNode, ServiceFactory } from "../../src/node/node.ts";
import { identify, type IdentifyService } from "../../protocols/identify/mod.ts";
import type { PubsubService } from "../../protocols/floodsub/mod.ts";
import { testTcpNode } from "../helpers/nodes.ts";
import { type PubsubJsPeer, startPubsubJsPeer } from "./pubsub_js_process.ts";

/** One node of the network, ours or js. */
export interface Member {
  readonly kind: "ours" | "js";
  readonly index: number;
  readonly peerId: string;
  readonly addr: string;
  /** Data (UTF-8) of every message delivered to the application, in order. */
  received(): string[];
  subscribe(topic: string): Promise<void>;
  /** Publish; js members resolve to the number of peers js sent it to (ours: undefined). */
  publish(topic: string, data: string): Promise<number | undefined>;
  /** Peer ids this member knows to be subscribed to `topic`. */
  subscribers(topic: string): Promise<string[]>;
  /** Peers it has a writable outbound pubsub stream to. */
  writable(): Promise<string[]>;
  /** Mesh peers (gossipsub; floodsub: subscribers). */
  mesh(topic: string): Promise<string[]>;
  dial(addr: string): Promise<void>;
  stop(): Promise<void>;
}

type S = { identify: IdentifyService; pubsub: PubsubService };

/** Our node as a member. */
export async function ourMember(
  index: number,
  factory: ServiceFactory<PubsubService>,
): Promise<Member & { node: Libp2pNode<S> }> {
  const node = await testTcpNode<S>({
    // Every peer of this network connects from 127.0.0.1: the per-IP inbound limits, meant
    // for distinct hosts, are lifted.
    connectionManager: {
      maxInboundPerIp: 1024,
      inboundRatePerIp: Infinity,
      inboundBurstPerIp: 1024,
    },
    services: { identify: identify(), pubsub: factory },
  });
  const got: string[] = [];
  const dec = new TextDecoder();
  node.services.pubsub.addEventListener("message", (e) => got.push(dec.decode(e.detail.data)));
  return {
    kind: "ours",
    index,
    node,
    peerId: node.peerId.toString(),
    addr: node.addrs()[0].toString(),
    received: () => got,
    subscribe: (topic) => Promise.resolve(node.services.pubsub.subscribe(topic)),
    publish: async (topic, data) => {
      await node.services.pubsub.publish(topic, new TextEncoder().encode(data));
      return undefined;
    },
    subscribers: (topic) => Promise.resolve(node.services.pubsub.getSubscribers(topic).map(String)),
    mesh: (topic) => Promise.resolve(node.services.pubsub.getMeshPeers(topic).map(String)),
    // The router knows a peer once our outbound stream to it is open.
    writable: () => Promise.resolve(node.services.pubsub.getPeers().map(String)),
    dial: async (addr) => void await node.dial(addr),
    stop: () => node.stop(),
  };
}

/** A js peer as a member. */
export async function jsMember(
  index: number,
  kind: "floodsub" | "gossipsub",
): Promise<Member & { js: PubsubJsPeer }> {
  const js = await startPubsubJsPeer(kind);
  return {
    kind: "js",
    index,
    js,
    peerId: js.peerId,
    addr: js.addrs[0],
    received: () => js.messages.map((m) => m.data),
    subscribe: async (topic) => void await js.call("subscribe", { topic }),
    publish: async (topic, data) => await js.call("publish", { topic, data }) as number,
    subscribers: async (topic) => await js.call("subscribers", { topic }) as string[],
    mesh: async (topic) => await js.call("mesh", { topic }) as string[],
    writable: async () => await js.call("writable") as string[],
    dial: async (addr) => void await js.call("dial", { addr }),
    stop: () => js.stop(),
  };
}

/**
 * The edges of the sparse topology over `n` members: ring i — i+1, and a chord i — i+7 from
 * every fourth member. Members alternate ours (even) and js (odd), so ring neighbours are
 * always of the other implementation.
 */
export function sparseEdges(n: number): [number, number][] {
  const edges: [number, number][] = [];
  for (let i = 0; i < n; i++) edges.push([i, (i + 1) % n]);
  for (let i = 0; i < n; i += 4) {
    const j = (i + 7) % n;
    if (!edges.some(([a, b]) => (a === i && b === j) || (a === j && b === i))) edges.push([i, j]);
  }
  return edges;
}

/** Poll `check` until true; throw `what` after `ms`. */
export async function waitFor(
  check: () => boolean | Promise<boolean>,
  ms: number,
  what: string,
): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out: ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
