/**
 * Recently good peers: bounded (oldest dropped, on disk too), addresses merged and capped, no
 * rewrite of a peer seen again soon with the same addresses, bad entries deleted at load, and
 * the list back after reopening.
 */

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { generateKeyPair } from "../../src/keys/mod.ts";
import { peerIdFromPrivateKey } from "../../src/keys/mod.ts";
import { MemoryDatastore } from "../../src/datastore/memory.ts";
import {
  MAX_RECENT_PEER_ADDRS,
  RECENT_PEER_REWRITE_MS,
  RECENT_PEERS_PREFIX,
  RecentPeers,
} from "../../src/datastore/recent_peers.ts";

async function ids(n: number): Promise<string[]> {
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    out.push(peerIdFromPrivateKey(await generateKeyPair("Ed25519")).toString());
  }
  return out;
}

async function stored(ds: MemoryDatastore): Promise<string[]> {
  const keys: string[] = [];
  for await (const { key } of ds.list(RECENT_PEERS_PREFIX)) keys.push(key);
  return keys;
}

describe("recently good peers", () => {
  it("keeps the most recent peers up to the cap, on disk too, and loads them back", async () => {
    const ds = new MemoryDatastore();
    let t = 1000;
    const recent = new RecentPeers(ds, { maxPeers: 3, now: () => t });
    await recent.load();
    const peers = await ids(5);
    for (const [i, p] of peers.entries()) {
      t += 1000;
      assert.equal(await recent.record(p, [`/ip4/127.0.0.1/tcp/${4000 + i}/p2p/${p}`]), true);
    }
    assert.deepEqual(recent.list().map((p) => p.peerId), [peers[4], peers[3], peers[2]]);
    assert.equal((await stored(ds)).length, 3);
    const again = new RecentPeers(ds, { maxPeers: 3 });
    const loaded = await again.load();
    assert.deepEqual(loaded.map((p) => p.peerId), [peers[4], peers[3], peers[2]]);
    assert.deepEqual(loaded[0].addrs, ["/ip4/127.0.0.1/tcp/4004"]);
    assert.equal(loaded[0].lastSeen, 6000);
  });

  it("merges addresses (new first), caps them, and does not rewrite a peer seen again soon", async () => {
    const ds = new MemoryDatastore();
    let t = 0;
    const recent = new RecentPeers(ds, { now: () => t });
    const [p] = await ids(1);
    await recent.record(p, ["/ip4/10.0.0.1/tcp/1"]);
    assert.equal(await recent.record(p, ["/ip4/10.0.0.1/tcp/1"]), false);
    t = RECENT_PEER_REWRITE_MS;
    assert.equal(await recent.record(p, ["/ip4/10.0.0.1/tcp/1"]), true);
    const many = Array.from({ length: 20 }, (_, i) => `/ip4/10.0.0.2/tcp/${i + 1}`);
    await recent.record(p, many);
    const addrs = recent.list()[0].addrs;
    assert.equal(addrs.length, MAX_RECENT_PEER_ADDRS);
    assert.equal(addrs[0], "/ip4/10.0.0.2/tcp/1");
    assert.equal(await recent.record(p, []), false); // nothing new, seen just now
  });

  it("a peer without any address is not recorded", async () => {
    const recent = new RecentPeers(new MemoryDatastore());
    const [p] = await ids(1);
    assert.equal(await recent.record(p, []), false);
    assert.equal(recent.size, 0);
  });

  it("load deletes entries that do not parse", async () => {
    const ds = new MemoryDatastore();
    const [p] = await ids(1);
    const enc = (v: unknown) => new TextEncoder().encode(JSON.stringify(v));
    await ds.put(
      `${RECENT_PEERS_PREFIX}/not-a-peer-id`,
      enc({ addrs: ["/ip4/1.2.3.4/tcp/1"], lastSeen: 1 }),
    );
    await ds.put(`${RECENT_PEERS_PREFIX}/${p}`, enc({ addrs: ["garbage"], lastSeen: 1 }));
    await ds.put(`${RECENT_PEERS_PREFIX}/${p}x`, new Uint8Array([0xff, 0xfe]));
    const recent = new RecentPeers(ds);
    assert.deepEqual(await recent.load(), []);
    assert.deepEqual(await stored(ds), []);
  });
});
