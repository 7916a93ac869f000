/**
 * A js-libp2p 3.x node run as a separate Deno process: the interop peer for tests over real
 * loopback sockets. It is driven by command-line flags and reports on stdout, one JSON object a
 * line, so tests can read its addresses and results.
 *
 *   deno run -A tests/interop/js_peer.ts --listen /ip4/127.0.0.1/tcp/0 [--muxer yamux|mplex]
 *       [--transport tcp|ws] [--dial <multiaddr> [--ping N] [--echo N] [--echo-size BYTES]
 *       [--perf-up BYTES --perf-down BYTES]]
 *
 * `--transport ws` uses @libp2p/websockets instead of @libp2p/tcp (listen on `.../tcp/0/ws`).
 * It always serves `/perf/1.0.0` (written here against js-libp2p's own stream API, because no
 * js perf package is published to npm) besides identify, ping and echo.
 *
 * Output lines: {"event":"listening","addrs":[...],"peerId":"..."},
 * {"event":"identified",...} for every peer js-libp2p identified,
 * {"event":"ping","rtt":ms}, {"event":"echo","ok":n,"bytes":b},
 * {"event":"perf","uploaded":n,"downloaded":n}, {"event":"perf-served","received":n,"sent":n},
 * {"event":"done"}, {"event":"error","message":"..."}.
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
  // js-libp2p's mplex disconnects a peer that opens more than 5 streams a second (it counts every
  // NewStream against disconnectThreshold) and its echo allows 32 inbound / 64 outbound streams:
  // both are raised so that the 100-stream interop cases measure the protocols, not js's caps.
  streamMuxers: [muxerName === "mplex" ? mplex({ disconnectThreshold: 100_000 }) : yamux()],
  services: {
    identify: identify(),
    ping: ping(),
    echo: echo({ maxInboundStreams: 256, maxOutboundStreams: 256 }),
  },
});

// The identify result of every peer, as js-libp2p saw it.
node.addEventListener("peer:identify", (evt) => {
  const r = evt.detail;
  report({
    event: "identified",
    peerId: r.peerId.toString(),
    agentVersion: r.agentVersion,
    protocolVersion: r.protocolVersion,
    protocols: r.protocols,
    listenAddrs: r.listenAddrs.map((a) => a.toString()),
    signedPeerRecord: r.signedPeerRecord === undefined ? null : {
      seq: String(r.signedPeerRecord.seq),
      addresses: r.signedPeerRecord.addresses.map((a) => a.toString()),
    },
  });
});

const PERF = "/perf/1.0.0";
type JsStream = Awaited<ReturnType<typeof node.dialProtocol>>;

/** Send `total` bytes from one reused buffer, waiting for drain when js says so. */
async function sendBytes(stream: JsStream, total: number): Promise<void> {
  const block = new Uint8Array(64 * 1024);
  let left = total;
  while (left > 0) {
    const n = Math.min(left, block.byteLength);
    if (!stream.send(block.subarray(0, n))) await stream.onDrain();
    left -= n;
  }
}

// perf server (libp2p/specs perf/perf.md): u64 BE byte count, drain the upload to EOF, then
// send that many bytes and close.
await node.handle(PERF, async (stream) => {
  let header: Uint8Array = new Uint8Array(0);
  let received = 0;
  for await (const chunk of stream) {
    const bytes = chunk instanceof Uint8Array ? chunk : chunk.subarray();
    if (header.byteLength < 8) {
      const need = 8 - header.byteLength;
      const merged = new Uint8Array(header.byteLength + Math.min(need, bytes.byteLength));
      merged.set(header);
      merged.set(bytes.subarray(0, need), header.byteLength);
      header = merged;
      received += Math.max(0, bytes.byteLength - need);
    } else {
      received += bytes.byteLength;
    }
  }
  const want = Number(new DataView(header.buffer, header.byteOffset, 8).getBigUint64(0));
  await sendBytes(stream, want);
  await stream.close();
  report({ event: "perf-served", received, sent: want });
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
    const echoes = Number(flag("echo") ?? "0");
    if (echoes > 0) {
      const size = Number(flag("echo-size") ?? "1024");
      const results = await Promise.all(Array.from({ length: echoes }, async (_, i) => {
        const payload = new Uint8Array(size).map((_, j) => (i * 131 + j) & 0xff);
        const stream = await node.dialProtocol(target, "/echo/1.0.0");
        if (!stream.send(payload)) await stream.onDrain();
        // Read back exactly what was sent, then close: the bytes must match.
        let got = 0;
        let same = true;
        for await (const chunk of stream) {
          const bytes = chunk instanceof Uint8Array ? chunk : chunk.subarray();
          for (let k = 0; k < bytes.byteLength; k++) {
            if (bytes[k] !== payload[got + k]) same = false;
          }
          got += bytes.byteLength;
          if (got >= size) break;
        }
        await stream.close();
        return same && got === size;
      }));
      report({ event: "echo", ok: results.filter(Boolean).length, bytes: size });
    }
    const up = flag("perf-up");
    const down = flag("perf-down");
    if (up !== undefined && down !== undefined) {
      const stream = await node.dialProtocol(target, PERF);
      const header = new Uint8Array(8);
      new DataView(header.buffer).setBigUint64(0, BigInt(down));
      stream.send(header);
      await sendBytes(stream, Number(up));
      await stream.close();
      let downloaded = 0;
      for await (const chunk of stream) downloaded += chunk.byteLength;
      report({ event: "perf", uploaded: Number(up), downloaded });
    }
    report({ event: "done" });
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
