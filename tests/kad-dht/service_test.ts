/**
 * The DHT service over the memory transport (Noise + Yamux): a 20-node network of ours where
 * every node finds every other by id, providers are found, `/pk` records put by one node are
 * got by another; abort via signal; client-mode nodes stay out of routing tables; mode changes
 * update what the node serves.
 */

import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { concat, utf8Encode } from "../../src/bytes.ts";
import { generateKeyPair, peerIdFromPublicKey, publicKeyToProtobuf } from "../../src/keys/mod.ts";
import type { Libp2pNode } from "../../src/node/node.ts";
import type { PrivateKey } from "../../src/keys/types.ts";
import { identify, type IdentifyService } from "../../protocols/identify/service.ts";
import {
  KAD_PROTOCOL_ID,
  type KadDHTOptions,
  KadNotFoundError,
} from "../../protocols/kad-dht/mod.ts";
import { type KadDHT, kadDHTWithInternals as kadDHT } from "../../protocols/kad-dht/operations.ts";
import { kadId } from "../../protocols/kad-dht/keyspace.ts";
import type { RoutingTable } from "../../protocols/kad-dht/routing_table.ts";
import { stopAll, testNode, until } from "../helpers/nodes.ts";
import { ipnsKey, makeRecord } from "./ipns_fixture.ts";

type S = { identify: IdentifyService; dht: KadDHT };

/** Timers off: the tests drive bootstrap and refresh themselves. */
const QUIET: KadDHTOptions = {
  allowPrivateAddresses: true,
  refreshIntervalMs: 0,
  reprovideIntervalMs: 0,
  sweepIntervalMs: 0,
};

function dhtNode(options: KadDHTOptions = {}): Promise<Libp2pNode<S>> {
  return testNode<S>({
    services: { identify: identify(), dht: kadDHT({ ...QUIET, clientMode: false, ...options }) },
  });
}

/** A network of `n` servers bootstrapped off the first, each refreshed once. */
async function network(n: number, options: KadDHTOptions = {}): Promise<Libp2pNode<S>[]> {
  const nodes: Libp2pNode<S>[] = [await dhtNode(options)];
  const boot = nodes[0].addrs()[0].toString();
  for (let i = 1; i < n; i++) {
    const node = await dhtNode({ ...options, bootstrapPeers: [boot] });
    // start() bootstraps in the background; waiting for one explicit round keeps the test
    // independent of how long handshakes take.
    await node.services.dht.bootstrap();
    nodes.push(node);
  }
  for (const node of nodes) await node.services.dht.refresh();
  return nodes;
}

describe("kad-dht service: a 20-node network of ours", () => {
  let nodes: Libp2pNode<S>[] = [];
  before(async () => {
    nodes = await network(20, { kBucketSize: 8 });
  });
  after(() => stopAll(...nodes));

  it("every node's routing table holds the others it checked", () => {
    for (const n of nodes) {
      assert.ok(n.services.dht.table.size >= 5, `table ${n.services.dht.table.size}`);
    }
  });

  it("every node finds every other by id", async () => {
    for (const from of nodes) {
      for (const to of nodes) {
        if (from === to) continue;
        const found = await from.services.dht.findPeer(to.peerId);
        assert.ok(found.id.equals(to.peerId));
        assert.ok(
          found.multiaddrs.some((a) => to.addrs()[0].toString().startsWith(a.toString())),
          `addresses of ${to.peerId}: ${found.multiaddrs.join(" ")}`,
        );
      }
    }
  });

  it("a provider announced by one node is found by another", async () => {
    const cid = "QmYyQSo1c1Ym7orWxLYvCrM2EmxFTANf8wXmmE7DWjhx5N";
    const took = await nodes[3].services.dht.provide(cid);
    assert.ok(took >= 1, `ADD_PROVIDER reached ${took} peers`);
    for (const i of [7, 12, 19]) {
      const found = [];
      for await (const p of nodes[i].services.dht.findProviders(cid, { limit: 1 })) found.push(p);
      assert.equal(found.length, 1);
      assert.ok(found[0].id.equals(nodes[3].peerId));
      assert.ok(found[0].multiaddrs.length > 0);
    }
  });

  it("a /pk record put by one node is got by another (quorum)", async () => {
    const keyPair = await generateKeyPair("Ed25519");
    const value = publicKeyToProtobuf(keyPair.publicKey);
    const key = concat([utf8Encode("/pk/"), peerIdFromPublicKey(keyPair.publicKey).toBytes()]);
    const stored = await nodes[5].services.dht.put(key, value);
    assert.ok(stored >= 3, `stored on ${stored} peers`);
    const got = await nodes[15].services.dht.get(key, { quorum: 3 });
    assert.deepEqual(got, value);
  });

  it("/ipns: get selects the newest record and corrects peers holding an older one", async () => {
    const key = await generateKeyPair("Ed25519");
    const name = ipnsKey(peerIdFromPublicKey(key.publicKey).toBytes());
    const far = "2100-01-01T00:00:00Z";
    const older = await makeRecord(key, { value: "/ipfs/old", validity: far, sequence: 1, ttl: 1 });
    const newer = await makeRecord(key, { value: "/ipfs/new", validity: far, sequence: 2, ttl: 1 });
    assert.ok(await nodes[0].services.dht.put(name, older) >= 3);
    const holders = async (value: Uint8Array) => {
      let n = 0;
      for (const node of nodes) {
        const v = await node.services.dht.values.get(name, Date.now());
        if (
          v !== undefined && v.value.length === value.length &&
          v.value.every((b, i) => b === value[i])
        ) n++;
      }
      return n;
    };
    const olderHolders = await holders(older);
    // One node learns the newer record by itself only.
    await nodes[6].services.dht.values.put(name, newer, Date.now());
    assert.deepEqual(await nodes[6].services.dht.get(name, { quorum: 20 }), newer);
    // Entry correction: peers that answered with the older record now hold the newer one (the
    // put's and the get's closest sets may differ by a peer or two, so not every holder is hit).
    const left = await holders(older);
    assert.ok(left < olderHolders - 2, `${left} of ${olderHolders} still hold the older record`);
    assert.ok(await holders(newer) >= olderHolders - left);
    assert.deepEqual(await nodes[13].services.dht.get(name, { quorum: 20 }), newer);
  });

  it("getClosestPeers streams answers, then the closest peers", async () => {
    const names: string[] = [];
    for await (const ev of nodes[2].services.dht.getClosestPeers(utf8Encode("any key bytes"))) {
      names.push(ev.name);
    }
    assert.ok(names.includes("PEER_RESPONSE"));
    assert.equal(names.filter((n) => n === "FINAL_PEER").length, 8);
    assert.equal(names.at(-1), "FINAL_PEER");
  });

  it("node.peerRouting and node.contentRouting answer through the DHT", async () => {
    const [a, b, c] = [nodes[2], nodes[9], nodes[15]];
    const info = await a.peerRouting.findPeer(c.peerId);
    assert.ok(info.id.equals(c.peerId));
    assert.ok(info.multiaddrs.length > 0);
    const cid = "QmYwAPJzv5CZsnA625s3Xf2nemtYgPpHdWEz79ojWnPbdG";
    await b.contentRouting.provide(cid);
    const found: string[] = [];
    for await (const p of a.contentRouting.findProviders(cid)) {
      found.push(p.id.toString());
      break;
    }
    assert.deepEqual(found, [b.peerId.toString()]);
    const kp = await generateKeyPair("Ed25519");
    const key = concat([utf8Encode("/pk/"), peerIdFromPublicKey(kp.publicKey).toBytes()]);
    await b.contentRouting.put(key, publicKeyToProtobuf(kp.publicKey));
    assert.deepEqual(await c.contentRouting.get(key), publicKeyToProtobuf(kp.publicKey));
  });

  it("an unknown peer and an absent record are not found", async () => {
    const stranger = peerIdFromPublicKey((await generateKeyPair("Ed25519")).publicKey);
    await assert.rejects(nodes[1].services.dht.findPeer(stranger), KadNotFoundError);
    const key = concat([utf8Encode("/pk/"), stranger.toBytes()]);
    await assert.rejects(nodes[1].services.dht.get(key), KadNotFoundError);
  });

  it("an aborted signal stops an operation", async () => {
    const controller = new AbortController();
    controller.abort(new Error("caller gave up"));
    await assert.rejects(
      nodes[4].services.dht.findPeer(nodes[9].peerId, { signal: controller.signal }),
      /caller gave up/,
    );
    const late = new AbortController();
    const it = nodes[4].services.dht.findProviders(
      "QmYyQSo1c1Ym7orWxLYvCrM2EmxFTANf8wXmmE7DWjhx5N",
      {
        signal: late.signal,
        limit: 100,
      },
    );
    late.abort(new Error("stop now"));
    await assert.rejects(async () => {
      for await (const _ of it) { /* own record first, then the abort */ }
    }, /stop now/);
  });
});

describe("kad-dht service: modes", () => {
  it("client-mode nodes do not serve the protocol and are not added to tables", async () => {
    const server = await dhtNode();
    const client = await testNode<S>({
      services: {
        identify: identify(),
        dht: kadDHT({ ...QUIET, clientMode: true, bootstrapPeers: [server.addrs()[0].toString()] }),
      },
    });
    try {
      assert.equal(client.getProtocols().includes(KAD_PROTOCOL_ID), false);
      assert.equal(server.getProtocols().includes(KAD_PROTOCOL_ID), true);
      // The client checked the server and keeps it; the server never admits the client.
      await until(() => client.services.dht.table.size === 1);
      await client.services.dht.refresh();
      assert.equal(server.services.dht.table.size, 0);
      // The client uses the DHT: the server answers a lookup of its own id with itself.
      const found = await client.services.dht.findPeer(server.peerId);
      assert.ok(found.id.equals(server.peerId));
    } finally {
      await stopAll(client, server);
    }
  });

  it("automatic mode follows reachability; setMode switches now", async () => {
    const node = await testNode<S>({
      services: { identify: identify(), dht: kadDHT({ ...QUIET }) },
    });
    try {
      assert.equal(node.services.dht.serverMode, false, "reachability unknown: client");
      node.addressManager.setReachability("public");
      await until(() => node.services.dht.serverMode);
      assert.ok(node.getProtocols().includes(KAD_PROTOCOL_ID));
      node.addressManager.setReachability("private");
      await until(() => !node.services.dht.serverMode);
      assert.equal(node.getProtocols().includes(KAD_PROTOCOL_ID), false);
      node.services.dht.setMode("server");
      assert.ok(node.getProtocols().includes(KAD_PROTOCOL_ID));
    } finally {
      await stopAll(node);
    }
  });
});

describe("kad-dht service: a full bucket", () => {
  /** Keys whose peers all land in one bucket of `table` (bucket 0 or 1: likely). */
  async function sameBucket(table: RoutingTable, n: number): Promise<PrivateKey[]> {
    const out: PrivateKey[] = [];
    let bucket = -1;
    while (out.length < n) {
      const k = await generateKeyPair("Ed25519");
      const b = table.bucketIndex(kadId(peerIdFromPublicKey(k.publicKey).toBytes()));
      if (bucket === -1) bucket = b;
      if (b === bucket) out.push(k);
    }
    return out;
  }

  it("pings its least recently seen contact: kept when alive, replaced when gone", async () => {
    const a = await dhtNode({ kBucketSize: 1 });
    const table = a.services.dht.table;
    const [kb, kc, kd] = await sameBucket(table, 3);
    const boot = [a.addrs()[0].toString()];
    const b = await testNode<S>({
      privateKey: kb,
      services: {
        identify: identify(),
        dht: kadDHT({ ...QUIET, clientMode: false, bootstrapPeers: boot }),
      },
    });
    let c: Libp2pNode<S> | undefined;
    let d: Libp2pNode<S> | undefined;
    try {
      // Bounds, not timings: admission waits for identify and a lookup check, slower on a
      // loaded machine. c starts only once b holds the bucket's one slot: started together,
      // either could take it first.
      await until(() => table.has(b.peerId.toBytes()), 15_000);
      c = await testNode<S>({
        privateKey: kc,
        services: {
          identify: identify(),
          dht: kadDHT({ ...QUIET, clientMode: false, bootstrapPeers: boot }),
        },
      });
      await c.services.dht.bootstrap();
      // c answered a's check, but the bucket is full: b was pinged, answered, and stays.
      await until(
        () => table.pendingChecks === 0 && c!.services.dht.table.has(a.peerId.toBytes()),
        15_000,
      );
      await new Promise((r) => setTimeout(r, 50));
      assert.ok(table.has(b.peerId.toBytes()));
      assert.equal(table.has(c.peerId.toBytes()), false);
      // b goes away: the next newcomer's admission pings b, which fails, and takes its place.
      await b.stop();
      d = await testNode<S>({
        privateKey: kd,
        services: {
          identify: identify(),
          dht: kadDHT({ ...QUIET, clientMode: false, bootstrapPeers: boot }),
        },
      });
      await until(() => table.has(d!.peerId.toBytes()), 15_000);
      assert.equal(table.has(b.peerId.toBytes()), false);
    } finally {
      await stopAll(...[a, b, c, d].filter((n) => n !== undefined));
    }
  });
});
