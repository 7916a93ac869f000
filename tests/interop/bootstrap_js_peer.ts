/**
 * A js-libp2p node with `@libp2p/bootstrap` 12.0.32 run as a separate Deno process: the js half
 * of the bootstrap interop test. Arguments: the bootstrap list (multiaddrs with /p2p/), maybe
 * empty (then the node has no bootstrap service and only listens). It listens on loopback TCP
 * and answers commands on stdin, one JSON object a line:
 *
 *   {"id":1,"op":"discovered"}   -> {"id":1,"ok":true,"result":["12D3…", …]}  (peer:discovery ids)
 *   {"id":2,"op":"connections"}  -> {"id":2,"ok":true,"result":["12D3…", …]}  (connected peers)
 *   {"id":3,"op":"tags","peer":"12D3…"} -> {"id":3,"ok":true,"result":{"bootstrap":50}}
 *
 * The first line is {"event":"listening","peerId":"…","addrs":[…]}. It exits when stdin closes.
 */

import process from "node:process";
import { createLibp2p } from "libp2p";
import { tcp } from "@libp2p/tcp";
import { noise } from "@chainsafe/libp2p-noise";
import { yamux } from "@chainsafe/libp2p-yamux";
import { identify } from "@libp2p/identify";
import { bootstrap } from "@libp2p/bootstrap";
import { peerIdFromString } from "@libp2p/peer-id";

function report(obj: Record<string, unknown>): void {
  process.stdout.write(JSON.stringify(obj) + "\n");
}

const list = process.argv.slice(2);
const node = await createLibp2p({
  addresses: { listen: ["/ip4/127.0.0.1/tcp/0"] },
  transports: [tcp()],
  connectionEncrypters: [noise()],
  streamMuxers: [yamux()],
  peerDiscovery: list.length > 0 ? [bootstrap({ list, timeout: 100 })] : [],
  services: { identify: identify() },
});
const discovered = new Set<string>();
node.addEventListener("peer:discovery", (e) => discovered.add(e.detail.id.toString()));
report({
  event: "listening",
  peerId: node.peerId.toString(),
  addrs: node.getMultiaddrs().map(String),
});

let buffer = "";
process.stdin.on("data", async (chunk: Uint8Array) => {
  buffer += new TextDecoder().decode(chunk);
  let nl: number;
  while ((nl = buffer.indexOf("\n")) >= 0) {
    const line = buffer.slice(0, nl);
    buffer = buffer.slice(nl + 1);
    if (line.trim() === "") continue;
    const cmd = JSON.parse(line);
    try {
      let result: unknown;
      if (cmd.op === "discovered") result = [...discovered];
      else if (cmd.op === "connections") {
        result = node.getConnections().map((c) => c.remotePeer.toString());
      } else if (cmd.op === "tags") {
        const peer = await node.peerStore.get(peerIdFromString(cmd.peer));
        result = Object.fromEntries([...peer.tags].map(([k, v]) => [k, v.value]));
      } else throw new Error(`unknown op ${cmd.op}`);
      report({ id: cmd.id, ok: true, result });
    } catch (err) {
      report({ id: cmd.id, ok: false, error: String((err as Error)?.message ?? err) });
    }
  }
});
process.stdin.on("end", async () => {
  await node.stop();
  process.exit(0);
});
