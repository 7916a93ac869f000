/**
 * `--pubsub-topic`: the CLI node (in-process, startCliNode, loopback TCP) serves the topic as a
 * gossipsub bootstrapper. Two peers that know only it (and each other's address, not each
 * other) GRAFT it; it keeps no mesh and prunes them with peer exchange, so the second one learns
 * of the first from the PRUNE and dials it.
 */

import { afterEach, describe, it } from "node:test";
import assert from "node:assert/strict";
import { generateKeyPair } from "../../src/keys/mod.ts";
import { multiaddr } from "../../src/multiaddr/mod.ts";
import type { Libp2pNode } from "../../src/node/node.ts";
import { identify } from "../../protocols/identify/mod.ts";
import { gossipsub } from "../../protocols/gossipsub/mod.ts";
import type { PubsubService } from "../../protocols/floodsub/mod.ts";
import { type CliServices, startCliNode } from "../../app/cli/node.ts";
import { testTcpNode, until } from "../helpers/nodes.ts";

const TOPIC = "edge-bootstrap-test";
const T = { timeout: 60_000 };
const started: Libp2pNode<never>[] = [];

afterEach(async () => {
  await Promise.all(started.splice(0).map((n) => n.stop().catch(() => {})));
});

type Peer = Libp2pNode<{ pubsub: PubsubService }>;

async function peer(): Promise<Peer> {
  const node = await testTcpNode<{ pubsub: PubsubService }>({
    services: {
      identify: identify(),
      // Scoring off: PX is accepted from any peer (acceptPXThreshold 0).
      pubsub: gossipsub({ heartbeatIntervalMs: 200, disableScoring: true }),
    } as never,
  });
  started.push(node as unknown as Libp2pNode<never>);
  return node;
}

describe("--pubsub-topic (gossipsub bootstrapper with PX)", () => {
  it("prunes GRAFTs with peer exchange, and peers find each other through it", T, async () => {
    const edge: Libp2pNode<CliServices> = await startCliNode(
      {
        listen: ["/ip4/127.0.0.1/tcp/0"],
        echo: false,
        perf: false,
        logLevel: "quiet",
        pubsubTopic: [TOPIC],
      },
      await generateKeyPair("Ed25519"),
      { out: () => {}, err: () => {} },
    );
    started.push(edge as unknown as Libp2pNode<never>);
    const edgeAddr = edge.addrs()[0];
    const a = await peer();
    const b = await peer();
    // b knows where a is, not that a is on the topic: only PX can tell it.
    const aAddrs = a.addrs().map((m) => multiaddr(m.toString().replace(/\/p2p\/[^/]+$/, "")));
    await b.peerStore.merge(a.peerId, { addresses: aAddrs, addressSource: "discovered" });

    await a.dial(edgeAddr);
    await until(() => a.services.pubsub.getSubscribers(TOPIC).length > 0, 10_000);
    a.services.pubsub.subscribe(TOPIC);
    await until(
      () => edge.services.pubsub!.getSubscribers(TOPIC).some((p) => p.equals(a.peerId)),
      10_000,
    );

    await b.dial(edgeAddr);
    await until(() => b.services.pubsub.getSubscribers(TOPIC).length > 0, 10_000);
    b.services.pubsub.subscribe(TOPIC);
    // b GRAFTs the edge, gets a PRUNE listing a, and dials a.
    await until(() => b.getConnections(a.peerId).length > 0, 20_000);
    assert.equal(b.getConnections(a.peerId).length > 0, true);
    // The bootstrapper keeps no mesh of its own: both GRAFTs were pruned.
    const { state } = (edge.services.pubsub as unknown as {
      router: { state: { mesh: Map<string, Set<string>> } };
    }).router;
    assert.equal(state.mesh.get(TOPIC)?.size, 0);
  });
});
