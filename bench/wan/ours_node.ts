/**
 * The WAN bench's driver for OUR node (Deno or Bun), run inside a bench namespace by
 * bench/wan/wan_bench.ts. Library defaults everywhere (TCP + WebSocket, Noise, yamux).
 *
 *   ours_node.ts --role server --ip 192.0.2.2 --port 4001 [--raw-port 9000] [--relay <addr>]
 *   ours_node.ts --role relay --ip 192.0.2.2 --port 4006
 *   ours_node.ts --role client
 *
 * server: serves /echo/1.0.0 and /wan/source/1.0.0 (reads a u64 BE byte count, then sends that
 * many bytes), on TCP `port` and WebSocket `port + 1`; with --raw-port also a plain TCP source (the
 * same u64 request, no libp2p) as the TCP baseline. client: commands from stdin (see
 * wan_common.ts runCommands), one JSON line each: ttfb, throughput, p99, raw. relay: a circuit
 * relay v2 server on TCP `port` and WebSocket `port + 1`, with no circuit limit (see
 * bench/wan/relayed.ts); a server given `--relay <relay addr>/p2p/<relay id>` also reserves a slot
 * there and reports "listening" once its relayed address is up. Every node has the relay client
 * transport, so the client dials `/p2p-circuit` addresses like any other.
 *
 * @module
 */

import process from "node:process";
import net from "node:net";
import { createNode } from "../../src/node/node.ts";
import { multiaddr } from "../../src/multiaddr/mod.ts";
import { tcp } from "../../transports/tcp/mod.ts";
import { websocket } from "../../transports/websocket/mod.ts";
import { noise } from "../../protocols/noise/mod.ts";
import { yamux } from "../../protocols/yamux/mod.ts";
import type { YamuxMuxer } from "../../protocols/yamux/service.ts";
import type { StreamMuxerFactory } from "../../src/muxer.ts";
import { identify } from "../../protocols/identify/mod.ts";
import { circuitRelayTransport } from "../../transports/circuit-relay/mod.ts";
import { circuitRelayServer } from "../../protocols/circuit-relay/mod.ts";
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
const runtime = "Bun" in globalThis ? "bun" : "deno";
const BLOCK = new Uint8Array(64 * 1024);

/** The newest yamux session (the client has one connection at a time): its RTT estimate and
 * advertised receive window are reported with each throughput/p99 result. */
let lastMuxer: YamuxMuxer | undefined;
// --max-window <bytes>: cap the yamux stream window (an experiment: what a BDP-sized window buys).
const maxWindow = args.get("max-window");
const base = yamux(maxWindow === undefined ? {} : { maxStreamWindow: Number(maxWindow) });
const muxerFactory = {
  protocol: base.protocol,
  createStreamMuxer(conn, init) {
    const m = base.createStreamMuxer(conn, init) as YamuxMuxer;
    lastMuxer = m;
    return m;
  },
} as StreamMuxerFactory;

const relayAddr = args.get("relay");
/** The bench relay: reservations may carry TEST-NET-1 addresses, circuits get no data or duration
 * limit (see relayed.ts). */
const RELAY_OPTIONS = { reservations: { addressFilter: () => true, applyDefaultLimit: false } };
const node = await createNode({
  transports: [tcp(), websocket(), circuitRelayTransport()],
  connectionEncrypters: [noise()],
  streamMuxers: [muxerFactory],
  listen: role === "client" ? [] : [
    `/ip4/${args.get("ip")}/tcp/${args.get("port")}`,
    `/ip4/${args.get("ip")}/tcp/${Number(args.get("port")) + 1}/ws`,
    ...(relayAddr === undefined ? [] : [`${relayAddr}/p2p-circuit`]),
  ],
  // The bench dials the server ~100 times in a few minutes from one address.
  connectionManager: { allowList: ["192.0.2.0/24"] },
  services: {
    identify: identify(),
    ...(role === "relay" ? { relay: circuitRelayServer(RELAY_OPTIONS) } : {}),
  },
});

type WebStream = { readable: ReadableStream<Uint8Array>; writable: WritableStream<Uint8Array> };

/** Send `total` bytes from one reused block. */
async function sendBytes(writer: WritableStreamDefaultWriter<Uint8Array>, total: number) {
  for (let left = total; left > 0; left -= BLOCK.byteLength) {
    await writer.write(left >= BLOCK.byteLength ? BLOCK : BLOCK.subarray(0, left));
  }
}

if (role === "server") {
  node.handle(ECHO, (s) => s.readable.pipeTo(s.writable).catch(() => {}));
  node.handle(SOURCE, async (s) => {
    const reader = s.readable.getReader();
    const writer = s.writable.getWriter();
    try {
      const want = await readU64(async () => {
        const r = await reader.read();
        return r.done ? null : r.value;
      });
      await sendBytes(writer, want);
      await writer.close();
    } catch {
      s.writable.abort().catch(() => {});
    }
  });
  const rawPort = args.get("raw-port");
  if (rawPort !== undefined) {
    net.createServer((sock) => {
      sock.once("data", (d: Uint8Array) => {
        let left = Number(new DataView(d.buffer, d.byteOffset, 8).getBigUint64(0));
        const pump = (): void => {
          while (left > 0) {
            const n = Math.min(left, BLOCK.byteLength);
            left -= n;
            if (!sock.write(BLOCK.subarray(0, n))) return void sock.once("drain", pump);
          }
          sock.end();
        };
        pump();
      });
      sock.on("error", () => {});
    }).listen(Number(rawPort), args.get("ip"));
  }
}

if (relayAddr !== undefined) await untilRelayed(() => node.getMultiaddrs().map(String));

report({
  event: "listening",
  impl: `ours-${runtime}`,
  peerId: node.peerId.toString(),
  addrs: node.getMultiaddrs().map(String),
});

/** Read everything from `reader`, calling `clock.bytes(n)` per chunk, until done or stopped. */
async function drain(
  reader: ReadableStreamDefaultReader<Uint8Array>,
  clock: Clock,
): Promise<void> {
  while (!clock.stopped) {
    const r = await reader.read();
    if (r.done) return;
    clock.bytes(r.value.byteLength);
  }
}

async function request(stream: WebStream, size: number): Promise<void> {
  const writer = stream.writable.getWriter();
  await writer.write(new Uint8Array(size));
  const reader = stream.readable.getReader();
  let got = 0;
  while (got < size) {
    const r = await reader.read();
    if (r.done) throw new Error("echo ended early");
    got += r.value.byteLength;
  }
  await writer.close();
  reader.releaseLock();
}

await onCommands(async (cmd) => {
  switch (cmd.op) {
    case "ttfb": {
      const t0 = performance.now();
      const conn = await node.dial(multiaddr(String(cmd.addr)));
      const t1 = performance.now();
      const stream = await conn.newStream(ECHO);
      const t2 = performance.now();
      const writer = stream.writable.getWriter();
      const reader = stream.readable.getReader();
      await writer.write(new Uint8Array([7]));
      await reader.read();
      const t3 = performance.now();
      const limited = conn.limited ? 1 : 0;
      // Not close(): a graceful close (WebSocket closing handshake included) takes round trips
      // that are not part of the measurement.
      conn.abort();
      // cold: also drop the connection to the relay a relayed dial opened (the next dial pays
      // for it again); otherwise it stays open and the next relayed dial reuses it.
      if (cmd.cold === true) { for (const c of node.getConnections()) c.abort(); }
      return { dial: t1 - t0, open: t2 - t1, first: t3 - t0, limited };
    }
    case "throughput":
    case "p99": {
      const conn = await node.dial(multiaddr(String(cmd.addr)));
      const clock = summarize.start(Number(cmd.warmMs), Number(cmd.measureMs));
      const bulk = await conn.newStream(SOURCE);
      const w = bulk.writable.getWriter();
      await w.write(u64(BULK_BYTES));
      const draining = drain(bulk.readable.getReader(), clock).catch(() => {});
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
      const yamuxRtt = lastMuxer?.session.rtt ?? NaN;
      const window = lastMuxer?.session.advertisedWindow ?? NaN;
      conn.abort();
      await draining;
      return { ...summarize.result(clock, lat), yamuxRtt, window };
    }
    case "raw": {
      const clock = summarize.start(Number(cmd.warmMs), Number(cmd.measureMs));
      const sock = net.connect(Number(cmd.port), String(cmd.host));
      sock.on("error", () => {});
      sock.once("connect", () => sock.write(u64(BULK_BYTES)));
      sock.on("data", (d: Uint8Array) => clock.bytes(d.byteLength));
      await clock.done;
      sock.destroy();
      return summarize.result(clock, []);
    }
    default:
      throw new Error(`unknown op ${String(cmd.op)}`);
  }
});
await node.stop();
process.exit(0);
