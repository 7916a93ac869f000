/**
 * A js-libp2p node with @libp2p/dcutr 3.0.28 for the DCUtR interop test, run as a separate Deno
 * process:
 *
 *   dcutr_js_peer.ts a
 *     listens nowhere (A: dials through a relay, has no address of its own);
 *   dcutr_js_peer.ts b --relay <relay multiaddr with /p2p/>
 *     listens on loopback TCP and through the relay (B: receives the relayed connection, so its
 *     DCUtR initiates); reports "listening" once the relay granted a reservation.
 *
 * Both run tcp, circuitRelayTransport, noise, yamux, identify and dcutr. Commands on stdin, one
 * JSON object a line:
 *   {"id":1,"op":"dial","addr":"<multiaddr>"}  -> {"id":1,"ok":true,"result":{limited,remoteAddr}}
 *   {"id":2,"op":"conns","peer":"<peer id>"}   -> [{limited,direction,remoteAddr,status}]
 * The first line is {"event":"listening","peerId":"…","addrs":[…]}. It exits when stdin closes.
 */

import process from "node:process";
import { createLibp2p } from "libp2p";
import { tcp } from "@libp2p/tcp";
import { noise } from "@chainsafe/libp2p-noise";
import { yamux } from "@chainsafe/libp2p-yamux";
import { identify } from "@libp2p/identify";
import { dcutr } from "@libp2p/dcutr";
import { circuitRelayTransport } from "@libp2p/circuit-relay-v2";
import { peerIdFromString } from "@libp2p/peer-id";
import { multiaddr } from "@multiformats/multiaddr";
import { serveJsonCommands } from "../interop/json_commands.ts";

function flag(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

const mode = process.argv.includes("b") ? "b" : "a";
const relay = flag("relay");
const node = await createLibp2p({
  addresses: {
    listen: mode === "b" ? ["/ip4/127.0.0.1/tcp/0", `${relay}/p2p-circuit`] : [],
  },
  transports: [tcp(), circuitRelayTransport()],
  connectionEncrypters: [noise()],
  streamMuxers: [yamux()],
  services: { identify: identify(), dcutr: dcutr() },
});

if (mode === "b") {
  const deadline = Date.now() + 20_000;
  while (!node.getMultiaddrs().some((a) => a.toString().includes("/p2p-circuit"))) {
    if (Date.now() > deadline) throw new Error("no reservation on the relay");
    await new Promise((r) => setTimeout(r, 50));
  }
}

// deno-lint-ignore no-explicit-any
function describe(c: any): Record<string, unknown> {
  return {
    limited: c.limits !== undefined,
    direction: c.direction,
    remoteAddr: c.remoteAddr.toString(),
    status: c.status,
  };
}

async function run(cmd: Record<string, unknown>): Promise<unknown> {
  const signal = AbortSignal.timeout(Number(cmd.timeoutMs ?? 30_000));
  switch (cmd.op) {
    case "dial":
      return describe(await node.dial(multiaddr(String(cmd.addr)), { signal }));
    case "conns":
      return node.getConnections(peerIdFromString(String(cmd.peer))).map(describe);
    default:
      throw new Error(`unknown op ${String(cmd.op)}`);
  }
}

serveJsonCommands(
  { peerId: node.peerId.toString(), addrs: () => node.getMultiaddrs().map(String) },
  run,
  () => node.stop(),
);
