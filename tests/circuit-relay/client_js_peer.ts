/**
 * A js-libp2p node for the relay client's interop test, run as a separate Deno process:
 *
 *   client_js_peer.ts relay [--key <hex protobuf private key>] [--port N] [--limit]
 *     a circuit relay v2 server (@libp2p/circuit-relay-v2 4.2.13, `circuitRelayServer`), with
 *     js's default limit (2 min / 128 KiB) when --limit is given, else none;
 *   client_js_peer.ts client
 *     a node with `circuitRelayTransport()` and `echo({ runOnLimitedConnection: true })`.
 *
 * It listens on loopback TCP and takes commands on stdin, one JSON object a line:
 *   {"id":1,"op":"echo","addr":"<circuit multiaddr>","size":N} -> {"id":1,"ok":true,"result":N}
 *     (the echoed bytes are compared with what was sent; a mismatch fails the command)
 *   {"id":2,"op":"reservations"}                              -> {"id":2,"ok":true,"result":n}
 * The first line is {"event":"listening","peerId":"…","addrs":[…]}. It exits when stdin closes.
 */

import process from "node:process";
import { createLibp2p } from "libp2p";
import { tcp } from "@libp2p/tcp";
import { noise } from "@chainsafe/libp2p-noise";
import { yamux } from "@chainsafe/libp2p-yamux";
import { identify } from "@libp2p/identify";
import { echo } from "@libp2p/echo";
import { circuitRelayServer, circuitRelayTransport } from "@libp2p/circuit-relay-v2";
import { privateKeyFromProtobuf } from "@libp2p/crypto/keys";
import { multiaddr } from "@multiformats/multiaddr";
import { serveJsonCommands } from "../interop/json_commands.ts";

function flag(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

const fromHex = (s: string): Uint8Array =>
  new Uint8Array(s.match(/../g)?.map((b) => parseInt(b, 16)) ?? []);

const mode = process.argv.includes("relay") ? "relay" : "client";
const key = flag("key");
const base = {
  privateKey: key === undefined ? undefined : privateKeyFromProtobuf(fromHex(key)),
  addresses: { listen: [`/ip4/127.0.0.1/tcp/${flag("port") ?? "0"}`] },
  connectionEncrypters: [noise()],
  streamMuxers: [yamux()],
  connectionManager: { inboundConnectionThreshold: 10_000, maxIncomingPendingConnections: 256 },
};
const node = mode === "relay"
  ? await createLibp2p({
    ...base,
    transports: [tcp()],
    services: {
      identify: identify(),
      relay: circuitRelayServer({
        reservations: {
          maxReservations: 128,
          applyDefaultLimit: process.argv.includes("--limit"),
        },
      }),
    },
  })
  : await createLibp2p({
    ...base,
    transports: [tcp(), circuitRelayTransport()],
    services: {
      identify: identify(),
      echo: echo({ runOnLimitedConnection: true, timeout: 60_000 }),
    },
  });

async function run(cmd: Record<string, unknown>): Promise<unknown> {
  const signal = AbortSignal.timeout(Number(cmd.timeoutMs ?? 60_000));
  switch (cmd.op) {
    case "echo": {
      const size = Number(cmd.size ?? 1024);
      const data = new Uint8Array(size);
      for (let i = 0; i < size; i++) data[i] = (i * 31 + 7) & 0xff;
      // deno-lint-ignore no-explicit-any
      const svc = (node.services as any).echo;
      const back = (await svc.echo(multiaddr(String(cmd.addr)), data, {
        signal,
        runOnLimitedConnection: true,
      })).subarray();
      if (back.byteLength !== size) throw new Error(`echoed ${back.byteLength} of ${size} bytes`);
      for (let i = 0; i < size; i++) if (back[i] !== data[i]) throw new Error(`byte ${i} differs`);
      return size;
    }
    case "reservations": {
      // deno-lint-ignore no-explicit-any
      const relay = (node.services as any).relay;
      return relay?.reservations?.size ?? -1;
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
