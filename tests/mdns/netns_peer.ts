/**
 * One of our nodes with mDNS discovery, for the network-namespace test (netns_test.ts): runs on
 * Deno or Bun, listens on 127.0.0.1, prints JSON lines `{"event":"listening","peerId","runtime"}`
 * once and `{"event":"discovered","id","addrs"}` per `peer:discovery`, `{"event":"error",...}` if
 * mDNS cannot start, and stops when stdin closes.
 * Usage: deno run -A tests/mdns/netns_peer.ts [interval-ms] | bun tests/mdns/netns_peer.ts [interval-ms]
 */

import process from "node:process";
import { createNode } from "../../src/node/node.ts";
import { tcp } from "../../transports/tcp/mod.ts";
import { noise } from "../../protocols/noise/mod.ts";
import { yamux } from "../../protocols/yamux/mod.ts";
import { mdns } from "../../protocols/mdns/mod.ts";

const interval = Number(process.argv[2] ?? 1000);
const line = (obj: Record<string, unknown>): void => {
  process.stdout.write(JSON.stringify(obj) + "\n");
};
const runtime = "Bun" in globalThis ? "bun" : "deno";
try {
  const node = await createNode({
    transports: [tcp()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    listen: ["/ip4/127.0.0.1/tcp/0"],
    peerDiscovery: [mdns({ interval })],
  });
  node.addEventListener("peer:discovery", (e) => {
    line({
      event: "discovered",
      id: e.detail.id.toString(),
      addrs: e.detail.multiaddrs.map(String),
    });
  });
  line({ event: "listening", peerId: node.peerId.toString(), runtime });
  process.stdin.resume();
  process.stdin.on("end", async () => {
    await node.stop();
    process.exit(0);
  });
} catch (err) {
  line({ event: "error", runtime, error: String(err), name: (err as Error).name });
  process.exit(1);
}
