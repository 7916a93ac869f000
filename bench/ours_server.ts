/**
 * Benchmark server, our node: TCP + (Noise | plaintext) + yamux with identify, echo and perf,
 * listening on 127.0.0.1. Started by bench/run.ts (under Deno or Bun); the js-libp2p
 * counterpart is bench/thirdparty/server.ts.
 *
 *   deno run -A --v8-flags=--expose-gc bench/ours_server.ts --security noise|plaintext
 *   bun run bench/ours_server.ts --security noise|plaintext
 *
 * Reports {"event":"listening","addrs":[...]} on stdout; then reads commands on stdin:
 * "rss" / "rss burst" answer {"event":"rss","rss":bytes,"connections":n} (after settling GCs, see
 * answerRss in worker_lib.ts). It stops when stdin closes.
 *
 * @module
 */

import process from "node:process";
import { createNode } from "../src/node/node.ts";
import { tcp } from "../transports/tcp/mod.ts";
import { noise } from "../protocols/noise/mod.ts";
import { plaintext } from "../protocols/plaintext/mod.ts";
import { yamux } from "../protocols/yamux/mod.ts";
import { identify } from "../protocols/identify/mod.ts";
import { echo } from "../protocols/echo/mod.ts";
import { perf } from "../protocols/perf/mod.ts";
import {
  answerRss,
  flag,
  report,
  runtimeName,
  stdinLines,
  tcpOptions,
  yamuxOptions,
} from "./worker_lib.ts";

const security = flag("security", "noise");
const node = await createNode({
  transports: [tcp({ maxConnections: 8192, ...tcpOptions() })],
  connectionEncrypters: [security === "plaintext" ? plaintext() : noise()],
  streamMuxers: [yamux(yamuxOptions())],
  listen: ["/ip4/127.0.0.1/tcp/0"],
  // The scenarios open up to 1,000 connections from 127.0.0.1 in bursts: lift the per-IP rate
  // and count limits and the pending-upgrade cap (js-libp2p's server gets the same allowances).
  connectionManager: {
    maxConnections: 8192,
    maxPendingInbound: 2048,
    highWatermark: 8192,
    lowWatermark: 8192,
    allowList: ["127.0.0.1"],
  },
  services: {
    identify: identify(),
    echo: echo({ maxInboundStreams: 1024 }),
    // The parallel scenario runs 10 perf streams on one connection.
    perf: perf({ timeoutMs: 60_000, maxInboundStreams: 16 }),
  },
});

report({
  event: "listening",
  impl: "ours",
  runtime: runtimeName(),
  addrs: node.addrs().map(String),
});

const next = stdinLines();
for (;;) {
  const line = await next();
  if (line === null) break;
  await answerRss(line, () => node.getConnections().length);
}
await node.stop();
// A listener or timer left behind must not keep the worker alive.
process.exit(0);
