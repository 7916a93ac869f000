/**
 * Interop with js-libp2p 3.x over WebSocket: a js node (libp2p + @libp2p/websockets +
 * @chainsafe/libp2p-noise + @chainsafe/libp2p-yamux) in a separate Deno process
 * (tests/interop/js_peer.ts --transport ws), and our node (websocket + noise + yamux) in this
 * process, both directions: ping, and 1 MB through js's echo handler, over real loopback WebSockets.
 *
 * js-libp2p runs under Deno only (it needs Promise.withResolvers and its Noise fails under
 * Bun's node:crypto), so under `bun test` the js side is still a Deno process, spawned through
 * `npx deno`: our side then runs the Bun listener and the Bun WebSocket client.
 */

import { afterEach, describe, it } from "node:test";
import assert from "node:assert/strict";
import { createNode, type Libp2pNode } from "../../src/node/node.ts";
import { multiaddr } from "../../src/multiaddr/mod.ts";
import { noise } from "../../protocols/noise/mod.ts";
import { yamux } from "../../protocols/yamux/mod.ts";
import { ping, type PingService } from "../../protocols/ping/mod.ts";
import { websocket } from "../../transports/websocket/mod.ts";
import { startJsPeer } from "../interop/js_process.ts";

type Node = Libp2pNode<{ ping: PingService }>;

function ourNode(listen: string[]): Promise<Node> {
  return createNode({
    transports: [websocket()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    listen,
    services: { ping: ping() },
  }) as Promise<Node>;
}

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

describe("websocket interop with js-libp2p (@libp2p/websockets, noise, yamux)", () => {
  it(
    "we dial a js-libp2p WebSocket listener: ping and 1 MB echoed",
    { timeout: 60_000 },
    async () => {
      const js = startJsPeer(["--listen", "/ip4/127.0.0.1/tcp/0/ws", "--transport", "ws"]);
      cleanups.push(async () => {
        js.child.stdin!.end();
        await js.exited;
      });
      const listening = await js.next("listening");
      assert.equal(listening.event, "listening", String(listening.message));
      const addr = multiaddr((listening.addrs as string[])[0]);
      assert.match(addr.toString(), /\/tcp\/\d+\/ws\/p2p\//);

      const node = await ourNode([]);
      cleanups.push(() => node.stop());
      const rtts: number[] = [];
      for (let i = 0; i < 3; i++) rtts.push(await node.services.ping.ping(addr));
      assert.equal(rtts.length, 3);
      for (const rtt of rtts) assert.ok(rtt >= 0);
      const conn = node.getConnections()[0];
      assert.equal(conn.remotePeer.toString(), listening.peerId);
      assert.match(conn.remoteAddr.toString(), /\/ws/);
      // Bulk data through js's /echo/1.0.0 handler: read back exactly what was sent before
      // closing (js-libp2p's echo does not reliably end its side after our half-close, on TCP as
      // well, so EchoService.echo, which reads to the end, times out against it now and then).
      const payload = new Uint8Array(1_000_000).map((_, i) => (i * 7) & 0xff);
      const stream = await conn.newStream("/echo/1.0.0");
      const writer = stream.writable.getWriter();
      const writing = writer.write(payload);
      const reader = stream.readable.getReader();
      const back = new Uint8Array(payload.byteLength);
      let got = 0;
      while (got < payload.byteLength) {
        const { value, done } = await reader.read();
        if (done) break;
        back.set(value, got);
        got += value.byteLength;
      }
      await writing;
      assert.equal(got, payload.byteLength);
      assert.deepEqual(back, payload);
      stream.abort();
    },
  );

  it(
    "a js-libp2p node dials our WebSocket listener and pings it",
    { timeout: 60_000 },
    async () => {
      const node = await ourNode(["/ip4/127.0.0.1/tcp/0/ws"]);
      cleanups.push(() => node.stop());
      const ours = node.addrs().find((a) => a.toString().includes("/ws"))!;
      assert.ok(ours !== undefined, "our node listens on a /ws address");
      const target = ours.toString().includes("/p2p/")
        ? ours.toString()
        : `${ours.toString()}/p2p/${node.peerId.toString()}`;
      const js = startJsPeer(["--transport", "ws", "--dial", target, "--ping", "3"]);
      cleanups.push(() => js.exited);
      await js.next("listening");
      const results: Record<string, unknown>[] = [];
      for (let i = 0; i < 3; i++) results.push(await js.next("ping"));
      for (const r of results) {
        assert.equal(r.event, "ping", String(r.message));
        assert.equal(typeof r.rtt, "number");
      }
      assert.equal(await js.exited, 0);
    },
  );
});
