/**
 * Pubsub peer discovery over gossipsub on the memory transport: in a line a - b - c, a and c
 * learn of each other through b's relaying (addresses in the peer store, a `peer` event, a dial
 * with `dial: true`); an announcement carrying someone else's key is dropped; the codec
 * round-trips and refuses more addresses than its limit.
 */

import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import type { Libp2pNode } from "../../src/node/node.ts";
import { identify, type IdentifyService } from "../../protocols/identify/mod.ts";
import { gossipsub, type GossipsubService } from "../../protocols/gossipsub/mod.ts";
import {
  decodeAnnouncement,
  encodeAnnouncement,
  MAX_ANNOUNCED_ADDRS,
  PUBSUB_DISCOVERY_TOPIC,
  type PubsubPeerDiscovery,
  pubsubPeerDiscovery,
} from "../../protocols/pubsub-peer-discovery/mod.ts";
import { generateKeyPair, publicKeyToProtobuf } from "../../src/keys/mod.ts";
import { LimitExceededError } from "../../src/errors.ts";
import { stopAll, testNode, until } from "../helpers/nodes.ts";

type S = { identify: IdentifyService; pubsub: GossipsubService; discovery: PubsubPeerDiscovery };

function node(dial: boolean): Promise<Libp2pNode<S>> {
  return testNode<S>({
    services: {
      identify: identify(),
      pubsub: gossipsub({ heartbeatIntervalMs: 100, allowPublishToZeroTopicPeers: true }),
      discovery: pubsubPeerDiscovery({ interval: 500, dial }),
    },
  });
}

describe("pubsub peer discovery (gossipsub, memory transport)", () => {
  const nodes: Libp2pNode<S>[] = [];
  before(async () => {
    nodes.push(await node(true), await node(false), await node(false));
  });
  after(() => stopAll(...nodes));

  it("a and c discover each other through b; a dials c", async () => {
    const [a, b, c] = nodes;
    const seenByC = new Set<string>();
    c.services.discovery.addEventListener("peer", (e) => seenByC.add(e.detail.id.toString()));
    const nodeSawAtC = new Set<string>();
    c.addEventListener("peer:discovery", (e) => nodeSawAtC.add(e.detail.id.toString()));
    await a.dial(b.addrs()[0]);
    await c.dial(b.addrs()[0]);
    await until(() => seenByC.has(a.peerId.toString()), 15_000);
    await until(() => nodeSawAtC.has(a.peerId.toString()), 5_000); // the node's event too
    const info = await c.peerStore.get(a.peerId);
    assert.ok(info !== undefined && info.addresses.length > 0, "a's addresses stored at c");
    // a dials what it discovers (dial: true).
    await until(() => a.getConnections(c.peerId).length > 0, 15_000);
    assert.equal(seenByC.has(c.peerId.toString()), false, "our own announcement is ignored");
  });

  it("an announcement with someone else's key is dropped", async () => {
    const [a, b] = nodes;
    const before = b.services.discovery.rejected;
    const other = await generateKeyPair("Ed25519");
    const forged = encodeAnnouncement({
      publicKey: publicKeyToProtobuf(other.publicKey),
      addrs: [a.addrs()[0].bytes],
    });
    await a.services.pubsub.publish(PUBSUB_DISCOVERY_TOPIC, forged);
    await until(() => b.services.discovery.rejected > before, 10_000);
  });
});

describe("pubsub peer discovery codec", () => {
  it("round-trips and bounds the address count", () => {
    const a = {
      publicKey: new Uint8Array([8, 1, 18, 0]),
      addrs: [new Uint8Array([4, 127, 0, 0, 1])],
    };
    assert.deepEqual(decodeAnnouncement(encodeAnnouncement(a)), a);
    const many = { publicKey: a.publicKey, addrs: Array(MAX_ANNOUNCED_ADDRS + 1).fill(a.addrs[0]) };
    assert.throws(() => decodeAnnouncement(encodeAnnouncement(many)), LimitExceededError);
  });
});
