/**
 * A js-libp2p node with `@libp2p/autonat-v2` 2.0.15 and `@libp2p/autonat` 3.0.28 (v1), both
 * server and client, run as a separate Deno process: the js half of the AutoNAT interop test.
 * It listens on TCP at `$LISTEN` (default /ip4/127.0.0.1/tcp/0) and takes commands on stdin,
 * one JSON object a line, answering on stdout with the same `id`:
 *
 *   {"id":1,"op":"dial","addr":"/ip4/…/tcp/…/p2p/…"}   -> {"id":1,"ok":true}
 *   {"id":2,"op":"addresses"}                          -> {"id":2,"ok":true,"result":[{"addr":"…","verified":false}]}
 *
 * The first line is {"event":"listening","peerId":"…","addrs":[…]}. It exits when stdin closes.
 * js has no option to allow private addresses in either AutoNAT version (see the test).
 */

import process from "node:process";
import { createLibp2p } from "libp2p";
import { tcp } from "@libp2p/tcp";
import { noise } from "@chainsafe/libp2p-noise";
import { yamux } from "@chainsafe/libp2p-yamux";
import { identify } from "@libp2p/identify";
import { autoNATv2 } from "@libp2p/autonat-v2";
import { autoNAT } from "@libp2p/autonat";
import { multiaddr } from "@multiformats/multiaddr";

function report(obj: Record<string, unknown>): void {
  process.stdout.write(JSON.stringify(obj) + "\n");
}

const node = await createLibp2p({
  addresses: { listen: [process.env.LISTEN ?? "/ip4/127.0.0.1/tcp/0"] },
  transports: [tcp()],
  connectionEncrypters: [noise()],
  streamMuxers: [yamux()],
  connectionManager: { inboundConnectionThreshold: 10_000, maxIncomingPendingConnections: 256 },
  services: {
    identify: identify(),
    autonat: autoNATv2({ startupDelay: 100, refreshInterval: 1_000 }),
    autonatV1: autoNAT({ startupDelay: 100, refreshInterval: 1_000 }),
  },
});

async function run(cmd: Record<string, unknown>): Promise<unknown> {
  const signal = AbortSignal.timeout(Number(cmd.timeoutMs ?? 30_000));
  switch (cmd.op) {
    case "dial":
      await node.dial(multiaddr(String(cmd.addr)), { signal });
      return null;
    case "addresses": {
      // deno-lint-ignore no-explicit-any
      const am = (node as any).components?.addressManager;
      if (am?.getAddressesWithMetadata === undefined) return [];
      // deno-lint-ignore no-explicit-any
      return am.getAddressesWithMetadata().map((a: any) => ({
        addr: a.multiaddr.toString(),
        verified: a.verified === true,
      }));
    }
    default:
      throw new Error(`unknown op ${String(cmd.op)}`);
  }
}

// js announces a public-looking address only once verified: report what it listens on.
// deno-lint-ignore no-explicit-any
const tm = (node as any).components?.transportManager;
const listening: string[] = tm?.getAddrs?.().map((a: unknown) => String(a)) ?? [];
report({
  event: "listening",
  peerId: node.peerId.toString(),
  addrs: listening.length > 0 ? listening : node.getMultiaddrs().map((a) => a.toString()),
});

let buffered = "";
process.stdin.on("data", (chunk: Uint8Array) => {
  buffered += new TextDecoder().decode(chunk);
  let nl: number;
  while ((nl = buffered.indexOf("\n")) >= 0) {
    const line = buffered.slice(0, nl);
    buffered = buffered.slice(nl + 1);
    if (line.trim() === "") continue;
    const cmd = JSON.parse(line);
    run(cmd).then(
      (result) => report({ id: cmd.id, ok: true, result }),
      (err) => report({ id: cmd.id, ok: false, error: String(err?.message ?? err) }),
    );
  }
});
process.stdin.on("end", async () => {
  await node.stop();
  process.exit(0);
});
