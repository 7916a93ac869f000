/**
 * DHT interop over real loopback TCP with js-libp2p's `@libp2p/kad-dht` 16.4.5: a mixed
 * network, half js (each a separate Deno process, kad_js_peer.ts) and half ours (on the runtime
 * running the test), where every node finds every other by id, providers announced by either
 * side are found by the other, `/pk` and `/ipns` records put by one side are got by the other
 * (js validating IPNS with the `ipns` package, as IPNS nodes configure it), and each
 * side's servers answer the other's queries. Size: KAD_INTEROP_NODES (default 20).
 */

import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import process from "node:process";
import { concat, fromHex, toHex, utf8Encode } from "../../src/bytes.ts";
import { generateKeyPair, peerIdFromPublicKey, publicKeyToProtobuf } from "../../src/keys/mod.ts";
import type { Libp2pNode } from "../../src/node/node.ts";
import { peerIdFromString } from "../../src/peer_id.ts";
import { identify, type IdentifyService } from "../../protocols/identify/mod.ts";
import { ping, type PingService } from "../../protocols/ping/mod.ts";
import { kadDHTWithInternals as kadDHT } from "../../protocols/kad-dht/operations.ts";
import type { KadDHT } from "../../protocols/kad-dht/operations.ts";
import { kadId } from "../../protocols/kad-dht/keyspace.ts";
import { base58btc, multibaseEncode } from "../../src/multiformats/multibase.ts";
import { stopAll, testTcpNode } from "../helpers/nodes.ts";
import { type KadJsPeer, startKadJsPeer } from "./kad_js_process.ts";
import { ipnsKey, makeRecord } from "../kad-dht/ipns_fixture.ts";

type S = { identify: IdentifyService; ping: PingService; dht: KadDHT };

const TOTAL = Math.max(4, Number(process.env.KAD_INTEROP_NODES ?? "20"));
const HALF = Math.floor(TOTAL / 2);

function ourNode(bootstrap: string[]): Promise<Libp2pNode<S>> {
  return testTcpNode<S>({
    // Every peer of this network connects from 127.0.0.1: the per-IP inbound limits, meant for
    // distinct hosts, are lifted.
    connectionManager: {
      maxInboundPerIp: 1024,
      inboundRatePerIp: Infinity,
      inboundBurstPerIp: 1024,
    },
    services: {
      identify: identify(),
      // js's routing table pings new contacts with /ipfs/ping/1.0.0 before admitting them.
      ping: ping(),
      dht: kadDHT({
        clientMode: false,
        allowPrivateAddresses: true,
        bootstrapPeers: bootstrap,
        refreshIntervalMs: 0,
        reprovideIntervalMs: 0,
        sweepIntervalMs: 0,
      }),
    },
  });
}

/** A CIDv0 (sha2-256 multihash, base58btc) of some bytes: js servers accept only these keys. */
function cidV0(text: string): string {
  const mh = concat([new Uint8Array([0x12, 0x20]), kadId(utf8Encode(text))]);
  return multibaseEncode(mh, base58btc).slice(1); // CIDv0 text has no multibase prefix
}

describe(`kad-dht interop with js-libp2p over TCP (${TOTAL} nodes, half js)`, () => {
  let js: KadJsPeer[] = [];
  const ours: Libp2pNode<S>[] = [];

  before(async () => {
    js = await Promise.all(Array.from({ length: HALF }, () => startKadJsPeer()));
    // Ours bootstrap off the first js peer; js peers dial the first of ours: both sides'
    // servers are needed by the other from the start.
    for (let i = 0; i < TOTAL - HALF; i++) {
      const node = await ourNode([js[0].addrs[0]]);
      await node.services.dht.bootstrap();
      ours.push(node);
    }
    for (const p of js) await p.call("dial", { addr: ours[0].addrs()[0].toString() });
    for (const p of js.slice(1)) await p.call("dial", { addr: js[0].addrs[0] });
    for (const n of ours) await n.services.dht.refresh();
    for (const p of js) await p.call("refresh").catch(() => {});
    for (const n of ours) await n.services.dht.refresh();
  });
  after(async () => {
    await stopAll(...ours);
    await Promise.all(js.map((p) => p.stop()));
  });

  it("routing tables on both sides hold peers of the other side", async () => {
    for (const n of ours) {
      const jsIn = js.filter((p) => n.services.dht.table.has(peerIdFromString(p.peerId).toBytes()));
      assert.ok(jsIn.length > 0, `our ${n.peerId} has no js peer in its table`);
    }
    // js admits a peer after its own checks (identify lists the protocol, a ping answers):
    // our servers pass them.
    const ourIds = ours.map((n) => n.peerId.toString());
    for (const p of js) {
      const size = Number(await p.call("table"));
      assert.ok(size >= 2, `js ${p.peerId} table ${size}`);
      const admitted = await p.call("inTable", { peers: ourIds }) as string[];
      assert.ok(admitted.length > 0, `js ${p.peerId} admitted none of ours`);
    }
  });

  it("every node finds every other by id (ours -> all, js -> all)", async () => {
    const ids = [...ours.map((n) => n.peerId.toString()), ...js.map((p) => p.peerId)];
    const sentBefore = ours.reduce((n, node) => n + node.services.dht.stats().sent, 0);
    const t0 = performance.now();
    let lookups = 0;
    for (const n of ours) {
      for (const id of ids) {
        if (id === n.peerId.toString()) continue;
        const found = await n.services.dht.findPeer(id);
        assert.equal(found.id.toString(), id);
        assert.ok(found.multiaddrs.length > 0);
        lookups++;
      }
    }
    const oursMs = performance.now() - t0;
    const sent = ours.reduce((n, node) => n + node.services.dht.stats().sent, 0) - sentBefore;
    const t1 = performance.now();
    for (const p of js) {
      for (const id of ids) {
        if (id === p.peerId) continue;
        const addrs = await p.call("findPeer", { peer: id }) as string[];
        assert.ok(addrs.length > 0, `js ${p.peerId} found no address of ${id}`);
        lookups++;
      }
    }
    console.log(
      `kad interop: ${lookups} findPeer lookups; ours ${
        (oursMs / ((TOTAL - HALF) * (TOTAL - 1))).toFixed(1)
      } ms avg and ${(sent / ((TOTAL - HALF) * (TOTAL - 1))).toFixed(1)} requests per lookup, ` +
        `js ${((performance.now() - t1) / (HALF * (TOTAL - 1))).toFixed(1)} ms avg (incl. IPC)`,
    );
  });

  it("our servers answer js lookups, and js servers answer ours", async () => {
    const before = ours.map((n) => n.services.dht.stats().served);
    const key = utf8Encode(`interop key ${Math.random()}`);
    // js asks: its closest-peers lookup for a random key reaches our servers.
    await js[1 % HALF].call("findProviders", {
      cid: cidV0(toHex(key)),
      limit: 1,
      timeoutMs: 30_000,
    })
      .catch(() => {});
    const served = ours.reduce((sum, n, i) => sum + n.services.dht.stats().served - before[i], 0);
    assert.ok(served > 0, "no js request reached our servers");
    // We ask: answers come from js peers.
    const jsIds = new Set(js.map((p) => p.peerId));
    let fromJs = 0;
    for await (const ev of ours[ours.length - 1].services.dht.getClosestPeers(key)) {
      if (ev.name === "PEER_RESPONSE" && jsIds.has(ev.from.toString())) fromJs++;
    }
    assert.ok(fromJs > 0, "no js server answered our lookup");
  });

  it("a provider announced by js is found by ours", async () => {
    const cid = cidV0("provided by js");
    await js[0].call("provide", { cid });
    for (const n of [ours[0], ours[ours.length - 1]]) {
      const found: string[] = [];
      for await (const p of n.services.dht.findProviders(cid, { limit: 1 })) {
        found.push(p.id.toString());
      }
      assert.deepEqual(found, [js[0].peerId]);
    }
  });

  it("a provider announced by ours is found by js", async () => {
    const cid = cidV0("provided by ours");
    const took = await ours[1 % ours.length].services.dht.provide(cid);
    assert.ok(took > 0);
    for (const p of [js[0], js[HALF - 1]]) {
      const found = await p.call("findProviders", { cid, limit: 1 });
      assert.deepEqual(found, [ours[1 % ours.length].peerId.toString()]);
    }
  });

  it("a /pk record put by js is got by ours, and one put by ours is got by js", async () => {
    const pkRecord = async () => {
      const kp = await generateKeyPair("Ed25519");
      return {
        key: concat([utf8Encode("/pk/"), peerIdFromPublicKey(kp.publicKey).toBytes()]),
        value: publicKeyToProtobuf(kp.publicKey),
      };
    };
    const a = await pkRecord();
    await js[0].call("put", { key: toHex(a.key), value: toHex(a.value) });
    assert.deepEqual(await ours[ours.length - 1].services.dht.get(a.key, { quorum: 2 }), a.value);

    const b = await pkRecord();
    const stored = await ours[0].services.dht.put(b.key, b.value);
    assert.ok(stored > 0);
    assert.equal(await js[HALF - 1].call("get", { key: toHex(b.key) }), toHex(b.value));
  });

  it("an /ipns record put by js is got by ours, and one put by ours is got by js", async () => {
    const fromJs = await js[1 % HALF].call("ipnsPut", {
      value: "/ipfs/bafkqaaa",
      seq: 7,
    }) as { key: string; record: string };
    const got = await ours[ours.length - 1].services.dht.get(fromHex(fromJs.key), { quorum: 2 });
    assert.equal(toHex(got), fromJs.record);

    const kp = await generateKeyPair("Ed25519");
    const key = ipnsKey(peerIdFromPublicKey(kp.publicKey).toBytes());
    const record = await makeRecord(kp, {
      value: "/ipfs/bafkqaaa",
      validity: "2099-01-01T00:00:00.000000000Z",
      sequence: 3,
      ttl: 1_000_000_000, // 1 s in ns (the test writer encodes values below 2^32)
    });
    assert.ok(await ours[0].services.dht.put(key, record) > 0);
    assert.equal(await js[0].call("get", { key: toHex(key) }), toHex(record));
  });
});
