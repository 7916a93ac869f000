/**
 * A js-libp2p node with `@libp2p/circuit-relay-v2` 4.2.13's client transport, run as a separate
 * Deno process: the js half of the relay interop. Argument 1, when given, is a relay address:
 * the node then listens on `<relay>/p2p-circuit` (a static reservation) besides loopback TCP.
 * Commands come on stdin, one JSON object a line, each answered on stdout with the same `id`:
 *
 *   {"id":1,"op":"addrs"}                                  -> {"id":1,"ok":true,"result":["/ip4/…/p2p-circuit/p2p/…"]}
 *   {"id":2,"op":"ping","addr":"<relay>/p2p-circuit/p2p/…"} -> {"id":2,"ok":true,"result":{"rtt":3,"limited":true}}
 *   {"id":3,"op":"echo","addr":"…","hex":"0102"}           -> {"id":3,"ok":true,"result":"0102"}
 *
 * Failures answer {"id":…,"ok":false,"error":"…"}. The first line is
 * {"event":"listening","peerId":"…","addrs":[…]}. It exits when stdin closes.
 */

import process from "node:process";
import { createLibp2p } from "libp2p";
import { tcp } from "@libp2p/tcp";
import { noise } from "@chainsafe/libp2p-noise";
import { yamux } from "@chainsafe/libp2p-yamux";
import { identify } from "@libp2p/identify";
import { ping } from "@libp2p/ping";
import { echo } from "@libp2p/echo";
import { circuitRelayTransport } from "@libp2p/circuit-relay-v2";
import { multiaddr } from "@multiformats/multiaddr";
import { serveJsonCommands } from "../interop/json_commands.ts";

const fromHex = (s: string): Uint8Array =>
  new Uint8Array(s.match(/../g)?.map((b) => parseInt(b, 16)) ?? []);
const toHex = (b: Uint8Array): string =>
  Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");

const relay = process.argv[2];
const listen = ["/ip4/127.0.0.1/tcp/0"];
if (relay !== undefined && relay !== "") listen.push(`${relay}/p2p-circuit`);

const node = await createLibp2p({
  addresses: { listen },
  transports: [tcp(), circuitRelayTransport()],
  connectionEncrypters: [noise()],
  streamMuxers: [yamux()],
  connectionManager: { inboundConnectionThreshold: 10_000 },
  services: {
    identify: identify(),
    ping: ping(),
    echo: echo({ runOnLimitedConnection: true }),
  },
});

async function run(cmd: Record<string, unknown>): Promise<unknown> {
  const signal = AbortSignal.timeout(Number(cmd.timeoutMs ?? 30_000));
  switch (cmd.op) {
    case "addrs":
      return node.getMultiaddrs().map((a) => a.toString());
    case "ping": {
      const target = multiaddr(String(cmd.addr));
      const rtt = await node.services.ping.ping(target, { signal });
      const conns = node.getConnections().filter((c) =>
        c.remoteAddr.toString().includes("/p2p-circuit")
      );
      return { rtt, limited: conns.some((c) => c.limits != null) };
    }
    case "echo": {
      const out = await node.services.echo.echo(
        multiaddr(String(cmd.addr)),
        fromHex(String(cmd.hex)),
        {
          signal,
          runOnLimitedConnection: true,
        },
      );
      return toHex(out.subarray());
    }
    default:
      throw new Error(`unknown op ${String(cmd.op)}`);
  }
}

serveJsonCommands(
  { peerId: node.peerId.toString(), addrs: () => node.getMultiaddrs().map(String) },
  run,
  () => node.stop(),
);
