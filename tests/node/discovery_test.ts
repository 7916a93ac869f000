/**
 * The discovery contract: the auto-dial machine (target, rate cap, concurrency, exponential
 * capped backoff, bounded queue; injected clock) and the node wiring (peer:discovery, peer
 * store source "discovered", dialling discovered peers only below the target).
 */

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { generateKeyPair, peerIdFromPrivateKey } from "../../src/keys/mod.ts";
import { multiaddr } from "../../src/multiaddr/mod.ts";
import type { PeerId } from "../../src/peer_id.ts";
import {
  AutoDialer,
  type AutoDialState,
  MAX_AUTO_DIAL_CANDIDATES,
} from "../../src/node/auto_dialer.ts";
import { PeerDiscoveryBase } from "../../src/node/discovery.ts";
import { MAX_DISCOVERED_ADDRS } from "../../src/node/discovery_manager.ts";
import { nextEvent, testNode, until } from "../helpers/nodes.ts";

const none = (connections = 0): AutoDialState => ({ connections, isConnected: () => false });
const somePeer = async (): Promise<PeerId> =>
  peerIdFromPrivateKey(await generateKeyPair("Ed25519"));

describe("AutoDialer (sans-IO)", () => {
  it("dials only while below the target, counting dials in flight", () => {
    const a = new AutoDialer<string>({ minConnections: 3, perSecond: 100, concurrency: 10 });
    for (const k of ["a", "b", "c", "d", "e"]) a.offer(k, k);
    assert.deepEqual(a.next(0, none(1)).dial, ["a", "b"]);
    // Two in flight + one open = the target: nothing more.
    assert.deepEqual(a.next(1, none(1)).dial, []);
    a.dialDone("a", true, 2);
    assert.deepEqual(a.next(3, none(2)).dial, []); // a connected: 2 open + b in flight
    a.dialDone("b", false, 4);
    assert.deepEqual(a.next(5, none(2)).dial, ["c"]);
  });

  it("at the target or above, never dials; target 0 disables", () => {
    const a = new AutoDialer<string>({ minConnections: 2 });
    a.offer("a", "a");
    assert.deepEqual(a.next(0, none(2)), { dial: [] });
    const off = new AutoDialer<string>({ minConnections: 0 });
    off.offer("a", "a");
    assert.deepEqual(off.next(0, none(0)).dial, []);
    assert.equal(off.stats().queued, 0);
  });

  it("a flood of discoveries: at most perSecond dials per second (token bucket)", () => {
    const a = new AutoDialer<number>({ minConnections: 1000, perSecond: 4, concurrency: 1000 });
    for (let i = 0; i < 5000; i++) a.offer(`p${i}`, i);
    assert.equal(a.stats().queued, MAX_AUTO_DIAL_CANDIDATES);
    const first = a.next(0, none());
    assert.equal(first.dial.length, 4);
    assert.ok(first.wakeAt !== undefined && first.wakeAt > 0);
    assert.equal(a.next(0, none()).dial.length, 0);
    // Half a second later: two more tokens; ten seconds later the bucket holds 4, not 40.
    assert.equal(a.next(500, none()).dial.length, 2);
    assert.equal(a.next(10_500, none()).dial.length, 4);
    // The oldest candidates were dropped, the newest kept.
    assert.equal(first.dial[0], 5000 - MAX_AUTO_DIAL_CANDIDATES);
  });

  it("concurrency caps dials in flight", () => {
    const a = new AutoDialer<string>({ minConnections: 50, perSecond: 100, concurrency: 2 });
    for (const k of ["a", "b", "c"]) a.offer(k, k);
    const plan = a.next(0, none());
    assert.deepEqual(plan.dial, ["a", "b"]);
    assert.equal(plan.wakeAt, undefined); // a dial ending asks again
    a.dialDone("a", false, 10);
    assert.deepEqual(a.next(10, none()).dial, ["c"]);
  });

  it("failed peers back off exponentially, capped; success resets", () => {
    const a = new AutoDialer<string>({
      minConnections: 5,
      perSecond: 1000,
      backoffBaseMs: 1000,
      backoffMaxMs: 5000,
    });
    const fail = (now: number): number => {
      a.offer("x", "x");
      const plan = a.next(now, none());
      assert.deepEqual(plan.dial, ["x"], `dialled at ${now}`);
      a.dialDone("x", false, now);
      return a.backoffUntil("x")! - now;
    };
    assert.equal(fail(0), 1000);
    // Offered again while backing off: not dialled, woken when the backoff ends.
    a.offer("x", "x");
    const waiting = a.next(500, none());
    assert.deepEqual(waiting.dial, []);
    assert.equal(waiting.wakeAt, 1000);
    a.remove("x");
    assert.equal(fail(1000), 2000);
    assert.equal(fail(3000), 4000);
    assert.equal(fail(7000), 5000); // capped
    assert.equal(fail(12_000), 5000);
    a.offer("x", "x");
    assert.deepEqual(a.next(17_000, none()).dial, ["x"]);
    a.dialDone("x", true, 17_001);
    assert.equal(a.backoffUntil("x"), undefined);
  });

  it("connected candidates are skipped and dropped", () => {
    const a = new AutoDialer<string>({ minConnections: 5 });
    a.offer("a", "a");
    a.offer("b", "b");
    const plan = a.next(0, { connections: 1, isConnected: (k) => k === "a" });
    assert.deepEqual(plan.dial, ["b"]);
    assert.equal(a.stats().queued, 0);
  });

  it("bad options throw", () => {
    assert.throws(() => new AutoDialer({ minConnections: -1 }), RangeError);
    assert.throws(() => new AutoDialer({ perSecond: 0 }), RangeError);
    assert.throws(() => new AutoDialer({ concurrency: 0 }), RangeError);
  });
});

describe("node peer discovery", () => {
  it("peer:discovery, peer store source 'discovered', then a dial below the target", async () => {
    const b = await testNode();
    const found = new PeerDiscoveryBase();
    const a = await testNode({ peerDiscovery: [() => found] });
    try {
      assert.equal(a.discovery.services[0], found);
      const event = nextEvent(a, "peer:discovery");
      const connected = nextEvent(a, "peer:connect");
      found.dispatch("peer", { id: b.peerId, multiaddrs: b.addrs() });
      const detail = await event;
      assert.ok(detail.id.equals(b.peerId));
      assert.deepEqual(detail.multiaddrs.map(String), b.addrs().map(String));
      const info = await a.peerStore.get(b.peerId);
      const stored = info?.addresses ?? [];
      assert.ok(stored.length > 0);
      assert.equal(stored[0].getPeerId(), undefined); // /p2p/<id> removed before storing
      assert.equal(info?.addressRecords[0].source, "discovered");
      assert.ok((await connected).equals(b.peerId));
      assert.equal(a.discovery.stats().dials, 1);
    } finally {
      await a.stop();
      await b.stop();
    }
  });

  it("at the connection target, discovered peers are stored but not dialled", async () => {
    const b = await testNode();
    const found = new PeerDiscoveryBase();
    const a = await testNode({ peerDiscovery: [found], connectionManager: { minConnections: 0 } });
    try {
      const event = nextEvent(a, "peer:discovery");
      found.dispatch("peer", { id: b.peerId, multiaddrs: b.addrs() });
      await event;
      await until(async () => ((await a.peerStore.get(b.peerId))?.addresses.length ?? 0) > 0);
      assert.equal(a.discovery.stats().dials, 0);
      assert.equal(a.getConnections().length, 0);
    } finally {
      await a.stop();
      await b.stop();
    }
  });

  it("ourselves, foreign /p2p ids and address floods are filtered; stop stops the services", async () => {
    let started = 0;
    let stopped = 0;
    const found = new (class extends PeerDiscoveryBase {
      start(): void {
        started++;
      }
      stop(): void {
        stopped++;
      }
    })();
    const a = await testNode({ peerDiscovery: [found], connectionManager: { minConnections: 0 } });
    const other = await somePeer();
    const stranger = await somePeer();
    try {
      assert.equal(started, 1);
      await a.discovery.report({ id: a.peerId, multiaddrs: [] });
      assert.equal(a.discovery.stats().dropped, 1);
      const many = Array.from(
        { length: 100 },
        (_, i) => multiaddr(`/ip4/192.0.2.${i}/tcp/1`),
      );
      const event = nextEvent(a, "peer:discovery");
      await a.discovery.report({
        id: other,
        multiaddrs: [multiaddr(`/ip4/192.0.2.200/tcp/1/p2p/${stranger}`), ...many],
      });
      const detail = await event;
      assert.equal(detail.multiaddrs.length, MAX_DISCOVERED_ADDRS);
      assert.ok(detail.multiaddrs.every((m) => m.getPeerId() === undefined));
    } finally {
      await a.stop();
    }
    assert.equal(stopped, 1);
    // After stop, events of the service are no longer heard.
    found.dispatch("peer", { id: other, multiaddrs: [] });
    assert.equal(a.discovery.stats().discovered, 1);
  });

  it("failed discovery dials back off instead of retrying at once", async () => {
    const found = new PeerDiscoveryBase();
    const a = await testNode({ peerDiscovery: [found] });
    const gone = await somePeer();
    try {
      // A memory address nobody listens on: the dial fails.
      const addr = multiaddr(`/memory/no-such-listener-${crypto.randomUUID()}`);
      found.dispatch("peer", { id: gone, multiaddrs: [addr] });
      await until(() => a.discovery.stats().dialFailures === 1);
      for (let i = 0; i < 5; i++) await a.discovery.report({ id: gone, multiaddrs: [addr] });
      await new Promise((r) => setTimeout(r, 50));
      assert.equal(a.discovery.stats().dials, 1);
      assert.equal(a.discovery.stats().backingOff, 1);
    } finally {
      await a.stop();
    }
  });
});
