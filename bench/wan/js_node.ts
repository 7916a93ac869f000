/**
 * The WAN bench's driver for js-libp2p 3.3.11 (always on Deno: js-libp2p's Noise fails under Bun,
 * see bench/thirdparty/README.md), same roles and commands as ours_node.ts, library defaults
 * (TCP + WebSockets, Noise, yamux, identify). Uses the root node_modules (the namespaces have no
 * route to a registry).
 *
 *   js_node.ts --role server --ip 192.0.2.2 --port 4021 [--relay <relay addr>/p2p/<relay id>]
 *   js_node.ts --role relay --ip 192.0.2.2 --port 4026
 *   js_node.ts --role client
 *
 * relay: @libp2p/circuit-relay-v2's server with no circuit limit (see bench/wan/relayed.ts); every
 * node has js's relay client transport, and a server given --relay reserves a slot there.
 *
 * @module
 */

import process from "node:process";
import { createLibp2p } from "libp2p";
import { tcp } from "@libp2p/tcp";
import { webSockets } from "@libp2p/websockets";
import { noise } from "@chainsafe/libp2p-noise";
import { yamux } from "@chainsafe/libp2p-yamux";
import { identify } from "@libp2p/identify";
import { echo } from "@libp2p/echo";
import { multiaddr } from "@multiformats/multiaddr";
import { circuitRelayServer, circuitRelayTransport } from "@libp2p/circuit-relay-v2";
import { untilRelayed } from "./relayed.ts";
import {
  BULK_BYTES,
  type Clock,
  ECHO,
  flags,
  onCommands,
  readU64,
  report,
  SOURCE,
  summarize,
  u64,
} from "./wan_common.ts";

const args = flags(process.argv.slice(2));
const role = args.get("role") ?? "client";
const BLOCK = new Uint8Array(64 * 1024);
/** See the source handler: how long a js sender waits for a "drain" that may never come. */
const DRAIN_POLL_MS = 5;
/** Bytes a js source lets queue in its stream before it waits (see the source handler). */
const MAX_QUEUED = 1024 * 1024;
const queued = (s: unknown): number =>
  (s as { writeBuffer?: { byteLength: number } }).writeBuffer?.byteLength ?? 0;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

const relayAddr = args.get("relay");
const node = await createLibp2p({
  addresses: {
    listen: role === "client" ? [] : [
      `/ip4/${args.get("ip")}/tcp/${args.get("port")}`,
      `/ip4/${args.get("ip")}/tcp/${Number(args.get("port")) + 1}/ws`,
      ...(relayAddr === undefined ? [] : [`${relayAddr}/p2p-circuit`]),
    ],
  },
  transports: [tcp(), webSockets(), circuitRelayTransport()],
  connectionEncrypters: [noise()],
  streamMuxers: [yamux()],
  connectionManager: {
    inboundConnectionThreshold: 10_000,
    allow: ["/ip4/192.0.2.1", "/ip4/192.0.2.2"],
  },
  // The p99 scenario opens 20-100 echo streams one after another (js's default allows 32).
  services: {
    identify: identify(),
    ...(role === "relay"
      ? { relay: circuitRelayServer({ reservations: { applyDefaultLimit: false } }) }
      : { echo: echo({ maxInboundStreams: 1024 }) }),
  } as { identify: ReturnType<typeof identify> },
});
if (relayAddr !== undefined) await untilRelayed(() => node.getMultiaddrs().map(String));

type JsStream = Parameters<Parameters<typeof node.handle>[1]>[0];
type Chunk = Uint8Array | { subarray(): Uint8Array };
const bytesOf = (c: Chunk): Uint8Array => c instanceof Uint8Array ? c : c.subarray();

if (role === "server") {
  await node.handle(SOURCE, async (stream: JsStream) => {
    try {
      // As bench/thirdparty/server.ts: read the request to its end (the client half-closes), then
      // send; a js stream whose reader stops iterating mid-way stalled the transfer at its
      // first window (256 KiB).
      const chunks: Uint8Array[] = [];
      for await (const c of stream as unknown as AsyncIterable<Chunk>) chunks.push(bytesOf(c));
      const want = await readU64(() => Promise.resolve(chunks.shift() ?? null));
      for (let left = want; left > 0; left -= BLOCK.byteLength) {
        const n = Math.min(left, BLOCK.byteLength);
        if (!stream.send(n === BLOCK.byteLength ? BLOCK : BLOCK.subarray(0, n))) {
          await Promise.race([stream.onDrain(), sleep(DRAIN_POLL_MS)]);
        }
        // js-libp2p 3.3.11's send() kept returning true while it only queued (an endless source
        // then never yields and its event loop starves, so nothing goes out): bound what is
        // queued in the stream and yield to the event loop.
        while (queued(stream) > MAX_QUEUED) await sleep(DRAIN_POLL_MS);
        if (left % (16 * BLOCK.byteLength) === 0) await sleep(0); // every 1 MiB
      }
      await stream.close();
    } catch (err) {
      stream.abort(err as Error);
    }
  });
}

report({
  event: "listening",
  impl: "js-deno",
  peerId: node.peerId.toString(),
  addrs: node.getMultiaddrs().map(String),
});

async function drain(stream: JsStream, clock: Clock): Promise<void> {
  for await (const c of stream as unknown as AsyncIterable<Chunk>) {
    if (clock.stopped) return;
    clock.bytes(bytesOf(c).byteLength);
  }
}

async function request(stream: JsStream, size: number): Promise<void> {
  stream.send(new Uint8Array(size));
  let got = 0;
  for await (const c of stream as unknown as AsyncIterable<Chunk>) {
    got += bytesOf(c).byteLength;
    if (got >= size) break;
  }
  await stream.close().catch(() => {});
}

await onCommands(async (cmd) => {
  switch (cmd.op) {
    case "ttfb": {
      const t0 = performance.now();
      const conn = await node.dial(multiaddr(String(cmd.addr)));
      const t1 = performance.now();
      const stream = await conn.newStream(ECHO);
      const t2 = performance.now();
      stream.send(new Uint8Array([7]));
      const it = (stream as unknown as AsyncIterable<Chunk>)[Symbol.asyncIterator]();
      await it.next();
      const t3 = performance.now();
      const limited = conn.limits === undefined ? 0 : 1;
      // Not close(): a graceful close (WebSocket closing handshake included) takes round trips
      // that are not part of the measurement.
      conn.abort(new Error("sample over"));
      // cold: also drop the connection to the relay (see ours_node.ts)
      if (cmd.cold === true) { for (const c of node.getConnections()) c.abort(new Error("cold")); }
      return { dial: t1 - t0, open: t2 - t1, first: t3 - t0, limited };
    }
    case "throughput":
    case "p99": {
      const conn = await node.dial(multiaddr(String(cmd.addr)));
      const clock = summarize.start(Number(cmd.warmMs), Number(cmd.measureMs));
      const bulk = await conn.newStream(SOURCE);
      const draining = drain(bulk, clock).catch(() => {});
      bulk.send(u64(BULK_BYTES));
      await bulk.close(); // half-close: the server sends once the request ended
      const lat: number[] = [];
      if (cmd.op === "p99") {
        await clock.warmed;
        for (let i = 0; i < Number(cmd.count); i++) {
          const t = performance.now();
          await request(await conn.newStream(ECHO), 32);
          lat.push(performance.now() - t);
        }
        clock.stop();
      }
      await clock.done;
      conn.abort(new Error("measurement over"));
      await draining;
      return summarize.result(clock, lat);
    }
    default:
      throw new Error(`unknown op ${String(cmd.op)}`);
  }
});
await node.stop();
process.exit(0);
