/**
 * Benchmark server, js-libp2p 3.3.11: TCP + (Noise | plaintext) + yamux with identify, echo and
 * a hand-written /perf/1.0.0 handler (no js perf package is published to npm; same approach as
 * tests/interop/js_peer.ts). Runs under Deno only (js-libp2p's Noise fails under Bun), from this
 * folder so that its own node_modules are used. Same stdin/stdout protocol as
 * bench/ours_server.ts.
 *
 *   cd bench/thirdparty && deno run -A --v8-flags=--expose-gc server.ts --security noise
 */

import process from "node:process";
import { createLibp2p } from "libp2p";
import { tcp } from "@libp2p/tcp";
import { noise } from "@chainsafe/libp2p-noise";
import { plaintext } from "@libp2p/plaintext";
import { yamux } from "@chainsafe/libp2p-yamux";
import { identify } from "@libp2p/identify";
import { echo } from "@libp2p/echo";
import { flag, report, runtimeName, answerRss, stdinLines } from "../worker_lib.ts";

const PERF = "/perf/1.0.0";
const security = flag("security", "noise");

const node = await createLibp2p({
  addresses: { listen: ["/ip4/127.0.0.1/tcp/0"] },
  transports: [tcp()],
  connectionEncrypters: [security === "plaintext" ? plaintext() : noise()],
  streamMuxers: [yamux()],
  // Lift the limits the scenarios would hit (1,000 connections from one host): the same
  // allowances bench/ours_server.ts gives our node.
  connectionManager: {
    maxConnections: 8192,
    maxIncomingPendingConnections: 2048,
    inboundConnectionThreshold: 1_000_000,
    allow: ["/ip4/127.0.0.1"],
  },
  services: {
    identify: identify(),
    echo: echo({ maxInboundStreams: 1024 }),
  },
});

type JsStream = Parameters<Parameters<typeof node.handle>[1]>[0];

/** Send `total` bytes from one reused 64 KiB buffer, waiting for drain when js says so. */
async function sendBytes(stream: JsStream, total: number): Promise<void> {
  const block = new Uint8Array(64 * 1024);
  let left = total;
  while (left > 0) {
    const n = Math.min(left, block.byteLength);
    if (!stream.send(n === block.byteLength ? block : block.subarray(0, n))) {
      await stream.onDrain();
    }
    left -= n;
  }
}

// perf server (libp2p/specs perf/perf.md): u64 BE byte count, drain the upload to EOF (counting
// only), then send that many bytes and close.
await node.handle(PERF, async (stream) => {
  const header = new Uint8Array(8);
  let have = 0;
  try {
    for await (const chunk of stream) {
      const bytes = chunk instanceof Uint8Array ? chunk : chunk.subarray();
      if (have < 8) {
        const take = Math.min(8 - have, bytes.byteLength);
        header.set(bytes.subarray(0, take), have);
        have += take;
      }
    }
    const want = Number(new DataView(header.buffer).getBigUint64(0));
    await sendBytes(stream, want);
    await stream.close();
  } catch (err) {
    stream.abort(err as Error);
  }
}, { maxInboundStreams: 16 });

report({
  event: "listening",
  impl: "js-libp2p",
  runtime: runtimeName(),
  addrs: node.getMultiaddrs().map(String),
});

const next = stdinLines();
for (;;) {
  const line = await next();
  if (line === null) break;
  await answerRss(line, () => node.getConnections().length);
}
await node.stop();
process.exit(0);
