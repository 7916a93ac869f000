/**
 * The NAT lab's driver for a js-libp2p node (always run by Deno, see tests/interop/js_process.ts
 * for why js-libp2p runs under Deno), same command set as lab_node.ts:
 *
 *   lab_js_node.ts --role relay|client [--listen <multiaddr>]...
 *
 * `relay`: @libp2p/circuit-relay-v2's `circuitRelayServer` with no default limit; `client`: its
 * `circuitRelayTransport`, so a `<relay>/p2p-circuit` listen address reserves there. Both serve
 * echo (also on limited connections). Commands: echo, conns (see lab_node.ts).
 */

import process from "node:process";
import { createLibp2p } from "libp2p";
import { tcp } from "@libp2p/tcp";
import { noise } from "@chainsafe/libp2p-noise";
import { yamux } from "@chainsafe/libp2p-yamux";
import { identify } from "@libp2p/identify";
import { echo } from "@libp2p/echo";
import { circuitRelayServer, circuitRelayTransport } from "@libp2p/circuit-relay-v2";
import { multiaddr } from "@multiformats/multiaddr";
import { flags, onCommands, payload, report, sameBytes } from "./lab_driver.ts";

const args = flags(process.argv.slice(2));
const role = args.get("role")?.[0] ?? "client";

const node = await createLibp2p({
  addresses: { listen: args.get("listen") ?? [] },
  transports: role === "relay" ? [tcp()] : [tcp(), circuitRelayTransport()],
  connectionEncrypters: [noise()],
  streamMuxers: [yamux()],
  connectionManager: { inboundConnectionThreshold: 10_000 },
  services: {
    identify: identify(),
    echo: echo({ runOnLimitedConnection: true, timeout: 60_000 }),
    ...(role === "relay"
      ? { relay: circuitRelayServer({ reservations: { applyDefaultLimit: false } }) }
      : {}),
  },
});

const addrs = (): string[] => node.getMultiaddrs().map((a) => a.toString());
report({ event: "listening", peerId: node.peerId.toString(), addrs: addrs() });
let last = JSON.stringify(addrs());
const watch = setInterval(() => {
  const now = JSON.stringify(addrs());
  if (now === last) return;
  last = now;
  report({ event: "addrs", addrs: addrs() });
}, 50);

await onCommands(async (cmd) => {
  switch (cmd.op) {
    case "echo": {
      const data = payload(Number(cmd.size));
      const start = performance.now();
      // deno-lint-ignore no-explicit-any
      const svc = (node.services as any).echo;
      const back = await svc.echo(multiaddr(String(cmd.addr)), data, {
        signal: AbortSignal.timeout(60_000),
        runOnLimitedConnection: true,
      });
      const ms = performance.now() - start;
      sameBytes(data, back.subarray());
      const target = String(cmd.addr).split("/p2p/").pop();
      const conn = node.getConnections().find((c) => c.remotePeer.toString() === target);
      return { ms, limited: conn?.limits != null, remoteAddr: conn?.remoteAddr.toString() };
    }
    case "conns":
      return node.getConnections().map((c) => ({
        peer: c.remotePeer.toString(),
        remoteAddr: c.remoteAddr.toString(),
        limited: c.limits != null,
        direction: c.direction,
      }));
    default:
      throw new Error(`unknown op ${String(cmd.op)}`);
  }
});
clearInterval(watch);
await node.stop();
process.exit(0);
