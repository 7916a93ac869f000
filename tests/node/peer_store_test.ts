/**
 * The peer store (issue 16 section 5): addresses tagged by source with expiry per source (an
 * injected clock, no sleeps), protocols, tags with TTL, metadata, every per-peer count and the
 * peer count capped, the least valuable evicted and connected peers kept; and the node feeding
 * it (dialled addresses, identify's signed record).
 */

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { generateKeyPair, peerIdFromPrivateKey } from "../../src/keys/mod.ts";
import { multiaddr } from "../../src/multiaddr/mod.ts";
import { DEFAULT_ADDRESS_TTL_MS, type PeerInfo } from "../../src/node/peer_store.ts";
import { MemoryPeerStore } from "../../src/node/memory_peer_store.ts";
import type { PeerId } from "../../src/peer_id.ts";
import { identify, type IdentifyService } from "../../protocols/identify/mod.ts";
import { nextEvent, stopAll, testNode, until } from "../helpers/nodes.ts";

async function peer(): Promise<PeerId> {
  return peerIdFromPrivateKey(await generateKeyPair("Ed25519"));
}

function clock(start = 1_000_000): { now: () => number; advance(ms: number): void } {
  let t = start;
  return { now: () => t, advance: (ms) => void (t += ms) };
}

const addrs = (info: PeerInfo | undefined): string[] => (info?.addresses ?? []).map(String);
const ma = (n: number) => multiaddr(`/ip4/192.0.2.${n}/tcp/4001`);

describe("MemoryPeerStore", () => {
  it("tags addresses by source; the more trusted source and the later expiry win", async () => {
    const c = clock();
    const store = new MemoryPeerStore({ now: c.now });
    const id = await peer();
    await store.merge(id, { addresses: [ma(1)], addressSource: "discovered" });
    await store.merge(id, { addresses: [ma(1), ma(2)], addressSource: "peer-record" });
    await store.merge(id, { addresses: [ma(2)], addressSource: "dialled" });
    const info = (await store.get(id))!;
    const byAddr = new Map(info.addressRecords.map((r) => [r.multiaddr.toString(), r]));
    assert.equal(byAddr.get(ma(1).toString())?.source, "peer-record");
    assert.equal(byAddr.get(ma(2).toString())?.source, "peer-record", "not downgraded");
    assert.equal(
      byAddr.get(ma(1).toString())?.expires,
      c.now() + DEFAULT_ADDRESS_TTL_MS["peer-record"],
    );
  });

  it("patch replaces the addresses of its source only (a record also those from identify)", async () => {
    const store = new MemoryPeerStore();
    const id = await peer();
    await store.merge(id, { addresses: [ma(1)], addressSource: "dialled" });
    await store.patch(id, { addresses: [ma(2)], addressSource: "identify" });
    await store.patch(id, { addresses: [ma(3)], addressSource: "identify" });
    assert.deepEqual(addrs(await store.get(id)), [ma(1), ma(3)].map(String));
    await store.patch(id, { addresses: [ma(4)], addressSource: "peer-record" });
    assert.deepEqual(addrs(await store.get(id)), [ma(1), ma(4)].map(String));
  });

  it("expires addresses by source, but not while the peer is connected", async () => {
    const c = clock();
    const store = new MemoryPeerStore({ now: c.now, addressTtlMs: { discovered: 1000 } });
    const id = await peer();
    await store.merge(id, { addresses: [ma(1)], addressSource: "discovered" });
    await store.merge(id, { addresses: [ma(2)], addressSource: "dialled" });
    await store.merge(id, { addresses: [ma(3)], addressSource: "discovered", addressTtlMs: 50 });
    c.advance(60);
    assert.deepEqual(addrs(await store.get(id)), [ma(1), ma(2)].map(String));
    c.advance(1000);
    assert.deepEqual(addrs(await store.get(id)), [ma(2).toString()]);

    store.setConnected(id, true);
    c.advance(DEFAULT_ADDRESS_TTL_MS.dialled * 2);
    assert.deepEqual(addrs(await store.get(id)), [ma(2).toString()], "connected: kept");
    // On disconnect the lifetime starts again.
    store.setConnected(id, false);
    c.advance(DEFAULT_ADDRESS_TTL_MS.dialled - 1);
    assert.deepEqual(addrs(await store.get(id)), [ma(2).toString()]);
    c.advance(2);
    assert.deepEqual(addrs(await store.get(id)), []);
    assert.ok(await store.get(id), "the peer itself stays");
  });

  it("tags with TTL and metadata; merge adds, patch replaces, undefined removes", async () => {
    const c = clock();
    const store = new MemoryPeerStore({ now: c.now });
    const id = await peer();
    await store.merge(id, {
      tags: { keep: { value: 10 }, brief: { value: 5, ttlMs: 100 } },
      metadata: { note: new Uint8Array([1, 2]) },
    });
    let info = (await store.get(id))!;
    assert.equal(info.tags.get("keep")?.value, 10);
    assert.equal(info.tags.get("brief")?.expires, c.now() + 100);
    assert.deepEqual(info.metadata.get("note"), new Uint8Array([1, 2]));
    c.advance(100);
    info = (await store.get(id))!;
    assert.deepEqual([...info.tags.keys()], ["keep"]);
    await store.merge(id, { tags: { keep: undefined }, metadata: { other: new Uint8Array(1) } });
    info = (await store.get(id))!;
    assert.equal(info.tags.size, 0);
    assert.deepEqual([...info.metadata.keys()], ["note", "other"]);
    await store.patch(id, { metadata: { only: new Uint8Array(1) } });
    assert.deepEqual([...(await store.get(id))!.metadata.keys()], ["only"]);
    await assert.rejects(store.merge(id, { tags: { x: { value: 1001 } } }), RangeError);
  });

  it("caps every per-peer count", async () => {
    const store = new MemoryPeerStore({
      maxAddressesPerPeer: 3,
      maxProtocolsPerPeer: 2,
      maxTagsPerPeer: 2,
      maxMetadataPerPeer: 1,
      maxMetadataBytes: 8,
      maxVersionLength: 4,
    });
    const id = await peer();
    await store.merge(id, { addresses: [ma(1), ma(2)], addressSource: "peer-record" });
    await store.merge(id, { addresses: [ma(3), ma(4), ma(5)], addressSource: "discovered" });
    const info = await store.merge(id, {
      protocols: ["/a", "/b", "/c"],
      tags: { t1: {}, t2: {}, t3: {} },
      metadata: { m1: new Uint8Array(8), m2: new Uint8Array(1) },
      agentVersion: "abcdefgh",
    });
    assert.equal(info.addresses.length, 3);
    // The trusted record addresses survive; of the discovered ones only the newest.
    assert.deepEqual(info.addresses.map(String), [ma(1), ma(2), ma(5)].map(String));
    assert.deepEqual(info.protocols, ["/a", "/b"]);
    assert.equal(info.tags.size, 2);
    assert.equal(info.metadata.size, 1);
    assert.equal(info.agentVersion, "abcd");
    await assert.rejects(store.merge(id, { metadata: { m1: new Uint8Array(9) } }), RangeError);
  });

  it("caps the peer count: evicts the least valuable old peer, keeps connected peers", async () => {
    const store = new MemoryPeerStore({ maxPeers: 3 });
    const [p1, p2, p3, p4, p5] = await Promise.all([peer(), peer(), peer(), peer(), peer()]);
    await store.merge(p1, { tags: { important: { value: 100 } } });
    await store.merge(p2, {});
    await store.merge(p3, {});
    store.setConnected(p2, true);
    await store.merge(p4, {}); // evicts p3: p1 is valuable, p2 connected
    assert.equal(store.size, 3);
    assert.equal(await store.get(p3), undefined);
    assert.ok(await store.get(p1));
    assert.ok(await store.get(p2));
    store.setConnected(p4, true);
    await store.merge(p5, {}); // p1 is the only candidate left
    assert.equal(await store.get(p1), undefined);
    assert.deepEqual(
      (await store.all()).map((i) => i.id.toString()).sort(),
      [p2, p4, p5].map(String).sort(),
    );
  });
});

describe("the node feeds the peer store", () => {
  it("dialled addresses, identify's signed record, and connected peers", async () => {
    type S = { identify: IdentifyService };
    const c = clock(Date.now());
    const a = await testNode<S>({
      listen: [],
      services: { identify: identify() },
      peerStore: new MemoryPeerStore({ now: c.now }),
    });
    const b = await testNode<S>({ services: { identify: identify() } });
    try {
      const seen = nextEvent(a, "peer:identify", (d) => d.peerId.equals(b.peerId));
      await a.dial(b.addrs()[0]);
      await seen;
      await until(async () =>
        (await a.peerStore.get(b.peerId))?.addressRecords.some((r) => r.source === "peer-record") ??
          false
      );
      const info = (await a.peerStore.get(b.peerId))!;
      assert.deepEqual(
        info.addressRecords.map((r) => [r.multiaddr.toString(), r.source]),
        [[b.addrs()[0].decapsulateCode(421).toString(), "peer-record"]],
        "the dialled address, confirmed by b's signed record",
      );
      // Connected: the addresses outlive their TTL; after the hang-up they expire.
      c.advance(DEFAULT_ADDRESS_TTL_MS["peer-record"] * 2);
      assert.equal((await a.peerStore.get(b.peerId))!.addresses.length, 1);
      await a.hangUp(b.peerId);
      await until(() => a.getConnections(b.peerId).length === 0);
      c.advance(DEFAULT_ADDRESS_TTL_MS["peer-record"] + 1);
      assert.equal((await a.peerStore.get(b.peerId))!.addresses.length, 0);
    } finally {
      await stopAll(a, b);
    }
  });
});
