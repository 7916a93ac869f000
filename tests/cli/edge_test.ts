/**
 * `--preset edge` as a real process on the runtime running the tests (deno test: Deno, bun
 * test: Bun; spawned through npx as README says), on loopback with --allow-private-addresses:
 * a test node dials it, reads the identify protocols (relay HOP, DHT, AutoNAT v1 and v2,
 * gossipsub for --pubsub-topic), reserves a relay slot on it; a js-libp2p node (a Deno process,
 * tests/interop/js_process.ts) reads the same protocols; SIGTERM stops it with exit 0.
 */

import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { multiaddr } from "../../src/multiaddr/mod.ts";
import type { Libp2pNode } from "../../src/node/node.ts";
import { identify } from "../../protocols/identify/mod.ts";
import { HOP_PROTOCOL } from "../../protocols/circuit-relay/mod.ts";
import { DIAL_REQUEST_PROTOCOL, V1_PROTOCOL } from "../../protocols/autonat/mod.ts";
import { KAD_PROTOCOL_ID } from "../../protocols/kad-dht/mod.ts";
import { circuitRelayTransport } from "../../transports/circuit-relay/mod.ts";
import { tcp } from "../../transports/tcp/mod.ts";
import { CLI_RUNTIME, type CliRun, startCli } from "./cli_process.ts";
import { nextEvent, testTcpNode } from "../helpers/nodes.ts";
import { startJsPeer } from "../interop/js_process.ts";

const T = { timeout: 120_000 };
let dir: string;
const running: CliRun[] = [];
const nodes: Libp2pNode[] = [];

before(async () => {
  dir = await mkdtemp(join(tmpdir(), "p2p-edge-cli-edge-"));
});
after(async () => {
  await Promise.all(nodes.map((n) => n.stop().catch(() => {})));
  await Promise.all(running.map((r) => r.kill()));
  await rm(dir, { recursive: true, force: true });
});

describe(`--preset edge on ${CLI_RUNTIME} (spawned through npx)`, () => {
  it(
    "serves relay HOP, DHT, AutoNAT and gossipsub; a peer reserves on it; SIGTERM stops it",
    T,
    async () => {
      const run = startCli([
        "--preset",
        "edge",
        "--allow-private-addresses",
        "--pubsub-topic",
        "edge-test",
        "--listen",
        "/ip4/127.0.0.1/tcp/0",
        "--key",
        join(dir, "edge.key"),
      ]);
      running.push(run);
      const listening = await run.line(/^listening /);
      const addr = listening.slice("listening ".length);
      const edgeId = addr.slice(addr.lastIndexOf("/p2p/") + 5);

      // A peer that listens through the edge relay once connected.
      const peer = await testTcpNode({
        transports: [tcp(), circuitRelayTransport()],
        services: { identify: identify() },
        listen: ["/ip4/127.0.0.1/tcp/0", `${addr}/p2p-circuit`],
        start: false,
      } as never);
      nodes.push(peer);
      const identified = nextEvent(
        peer,
        "peer:identify",
        (d) => d.peerId.toString() === edgeId,
        60_000,
      );
      const reserved = nextEvent(
        peer,
        "self:peer:update",
        () => peer.addrs().some((a) => a.toString().includes(`/p2p/${edgeId}/p2p-circuit`)),
        60_000,
      );
      await peer.start();
      await peer.dial(multiaddr(addr));
      const { protocols } = await identified;
      const expected = [
        HOP_PROTOCOL,
        KAD_PROTOCOL_ID,
        DIAL_REQUEST_PROTOCOL,
        V1_PROTOCOL,
        "/meshsub/1.1.0",
        "/ipfs/id/1.0.0",
        "/ipfs/ping/1.0.0",
      ];
      for (const p of expected) {
        assert.ok(protocols.includes(p), `${p} in ${protocols.join(",")}`);
      }
      // The relay took the loopback peer's reservation (--allow-private-addresses).
      await reserved;
      await peer.stop();

      // js-libp2p sees the same roles.
      const js = startJsPeer(["--dial", addr, "--ping", "3"]);
      try {
        const jsIdentified = await js.next("identified");
        assert.equal(jsIdentified.peerId, edgeId, JSON.stringify(jsIdentified));
        const jsProtocols = jsIdentified.protocols as string[];
        for (const p of expected) {
          assert.ok(jsProtocols.includes(p), `${p} in ${jsProtocols.join(",")}`);
        }
      } finally {
        await js.stop();
      }

      run.signal("SIGTERM");
      assert.equal(await run.exited, 0, run.stderr.join("\n"));
      assert.equal(run.stdout.at(-1), "stopped");
    },
  );
});
