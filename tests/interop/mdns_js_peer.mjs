// js-libp2p with @libp2p/mdns 12 on Node (its multicast needs node:dgram's addMembership, a stub
// on Deno: ipfs/helia#73). Prints JSON lines: {"event":"listening","peerId","addrs"} once, then
// {"event":"discovered","id","addrs"} per `peer:discovery`. Runs until stdin closes.
// Usage: node tests/interop/mdns_js_peer.mjs [interval-ms]
import process from "node:process";
import { createLibp2p } from "libp2p";
import { tcp } from "@libp2p/tcp";
import { noise } from "@chainsafe/libp2p-noise";
import { yamux } from "@chainsafe/libp2p-yamux";
import { mdns } from "@libp2p/mdns";

const interval = Number(process.argv[2] ?? 1000);
const node = await createLibp2p({
  addresses: { listen: ["/ip4/127.0.0.1/tcp/0"] },
  transports: [tcp()],
  connectionEncrypters: [noise()],
  streamMuxers: [yamux()],
  peerDiscovery: [mdns({ interval })],
});
const line = (obj) => process.stdout.write(JSON.stringify(obj) + "\n");
node.addEventListener("peer:discovery", (e) => {
  line({ event: "discovered", id: e.detail.id.toString(), addrs: e.detail.multiaddrs.map(String) });
});
line({
  event: "listening",
  peerId: node.peerId.toString(),
  addrs: node.getMultiaddrs().map(String),
});
process.stdin.resume();
process.stdin.on("end", async () => {
  await node.stop();
  process.exit(0);
});
