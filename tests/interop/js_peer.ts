/**
 * A js-libp2p 3.x node run as a separate Deno process: the interop peer for tests over real
 * loopback sockets. It is driven by command-line flags and reports on stdout, one JSON object a
 * line, so tests can read its addresses and results.
 *
 *   deno run -A tests/interop/js_peer.ts --listen /ip4/127.0.0.1/tcp/0 [--muxer yamux|mplex]
 *       [--transport tcp|ws] [--dial <multiaddr> --ping N --echo N]
 *
 * `--transport ws` uses @libp2p/websockets instead of @libp2p/tcp (listen on `.../tcp/0/ws`).
 *
 * Output lines: {"event":"listening","addrs":[...],"peerId":"..."},
 * {"event":"ping","rtt":ms}, {"event":"echo","ok":n}, {"event":"error","message":"..."}.
 * It exits when stdin closes (the test ends it) or after a dial run.
 */

import process from "node:process";
import { createLibp2p } from "libp2p";
import { tcp } from "@libp2p/tcp";
import { webSockets } from "@libp2p/websockets";
import { noise } from "@chainsafe/libp2p-noise";
import { yamux } from "@chainsafe/libp2p-yamux";
import { mplex } from "@libp2p/mplex";
import { identify } from "@libp2p/identify";
import { ping } from "@libp2p/ping";
import { echo } from "@libp2p/echo";
import { multiaddr } from "@multiformats/multiaddr";

function flag(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

function report(obj: Record<string, unknown>): void {
  process.stdout.write(JSON.stringify(obj) + "\n");
}

const muxerName = flag("muxer") ?? "yamux";
const node = await createLibp2p({
  addresses: { listen: flag("listen") !== undefined ? [flag("listen")!] : [] },
  transports: [flag("transport") === "ws" ? webSockets() : tcp()],
  connectionEncrypters: [noise()],
  streamMuxers: [muxerName === "mplex" ? mplex() : yamux()],
  services: { identify: identify(), ping: ping(), echo: echo() },
});

report({
  event: "listening",
  peerId: node.peerId.toString(),
  addrs: node.getMultiaddrs().map((a) => a.toString()),
});

const dial = flag("dial");
if (dial !== undefined) {
  try {
    const target = multiaddr(dial);
    const pings = Number(flag("ping") ?? "0");
    for (let i = 0; i < pings; i++) {
      const rtt = await node.services.ping.ping(target);
      report({ event: "ping", rtt });
    }
  } catch (err) {
    report({ event: "error", message: String((err as Error)?.stack ?? err) });
  }
  await node.stop();
  process.exit(0);
}

// Serve until stdin closes.
for await (const _ of process.stdin) { /* ignore input */ }
await node.stop();
process.exit(0);
