/**
 * No leaked resources after stop(): two full nodes over real loopback TCP (Noise, Yamux,
 * identify, ping, echo, perf) connect both ways, exchange data, then stop.
 *
 * Deno: registered with Deno.test and its resource and op sanitizers explicitly on (Deno 2.9
 * has them off by default and never runs them for node:test cases), so any socket, listener,
 * timer or pending op left behind fails the test. Bun has no equivalent (its
 * process.getActiveResourcesInfo() always returns []), so there the test checks the nodes' own
 * counters and that both listeners released their ports.
 */

import { test } from "node:test";
import assert from "node:assert/strict";
import { createNode, type Libp2pNode } from "../../src/node/node.ts";
import { tcp } from "../../transports/tcp/mod.ts";
import { noise } from "../../protocols/noise/mod.ts";
import { yamux } from "../../protocols/yamux/mod.ts";
import { identify, type IdentifyService } from "../../protocols/identify/mod.ts";
import { ping, type PingService } from "../../protocols/ping/mod.ts";
import { echo, type EchoService } from "../../protocols/echo/mod.ts";
import { perf, type PerfService } from "../../protocols/perf/mod.ts";
import { until } from "../helpers/nodes.ts";

type Services = {
  identify: IdentifyService;
  ping: PingService;
  echo: EchoService;
  perf: PerfService;
};

function node(): Promise<Libp2pNode<Services>> {
  return createNode<Services>({
    transports: [tcp()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    listen: ["/ip4/127.0.0.1/tcp/0"],
    services: { identify: identify(), ping: ping(), echo: echo(), perf: perf() },
  });
}

async function exercise(): Promise<{ ports: number[]; nodes: Libp2pNode<Services>[] }> {
  const a = await node();
  const b = await node();
  const ports = [a, b].map((n) => Number(n.addrs()[0].toNodeAddress()!.port));
  // Both directions: a dials b, b dials a (a second connection), identify runs on each.
  await a.services.ping.ping(b.addrs()[0]);
  await b.services.ping.ping(a.addrs()[0]);
  await until(async () => (await a.peerStore.get(b.peerId))?.agentVersion !== undefined);
  const payload = new Uint8Array(100_000).fill(7);
  const echoed = await a.services.echo.echo(b.peerId, payload);
  assert.equal(echoed.byteLength, payload.byteLength);
  const measured = await b.services.perf.measure(a.peerId, { upload: 1 << 20, download: 1 << 20 });
  assert.equal(measured.downloadBytes, 1 << 20);
  await a.stop();
  await b.stop();
  return { ports, nodes: [a, b] };
}

const deno = (globalThis as { Deno?: typeof Deno }).Deno;
if (deno !== undefined && !("Bun" in globalThis)) {
  deno.test({
    name: "two nodes over TCP leave no resource or op behind after stop() (sanitizers on)",
    sanitizeResources: true,
    sanitizeOps: true,
    async fn() {
      const { nodes } = await exercise();
      for (const n of nodes) {
        const s = n.stats();
        assert.equal(s.connections, 0);
        assert.equal(s.pendingDials, 0);
        assert.equal(s.pendingUpgrades, 0);
        assert.equal(s.guardedStreams, 0);
      }
    },
  });
} else {
  test("two nodes over TCP: counters at zero and ports released after stop()", async () => {
    const { ports, nodes } = await exercise();
    for (const n of nodes) {
      const s = n.stats();
      assert.equal(s.connections, 0);
      assert.equal(s.peers, 0);
      assert.equal(s.pendingDials, 0);
      assert.equal(s.pendingUpgrades, 0);
      assert.equal(s.guardedStreams, 0);
    }
    // The listening sockets are gone: the same ports can be listened on again.
    for (const port of ports) {
      const again = await createNode({
        transports: [tcp()],
        connectionEncrypters: [noise()],
        streamMuxers: [yamux()],
        listen: [`/ip4/127.0.0.1/tcp/${port}`],
      });
      await again.stop();
    }
  });
}
