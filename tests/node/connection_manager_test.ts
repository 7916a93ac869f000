/**
 * The connection manager's pure decisions with an injected clock, the allow list, and the
 * resource manager's scopes (limits, lazy release, close).
 */

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { ConnectionManager } from "../../src/node/connection_manager.ts";
import { ipKey, IpList } from "../../src/node/ip_list.ts";
import { ResourceManager } from "../../src/node/resource_manager.ts";
import { LimitExceededError } from "../../src/errors.ts";
import { multiaddr } from "../../src/multiaddr/mod.ts";

const ip = (a: string) => multiaddr(a.includes(":") ? `/ip6/${a}/tcp/1` : `/ip4/${a}/tcp/1`);

/** Admit and return the ticket; fails the test when refused. */
function admit(cm: ConnectionManager, a: string, now = 0): number {
  const r = cm.admitInbound(ip(a), now);
  assert.ok(r.ok, r.ok ? "" : r.reason);
  return r.ticket;
}

describe("ConnectionManager", () => {
  it("caps pending inbound once every pending socket has progressed; releases slots", () => {
    const cm = new ConnectionManager({ maxPendingInbound: 2 });
    const t1 = admit(cm, "192.0.2.1");
    const t2 = admit(cm, "192.0.2.2");
    assert.ok(cm.inboundProgressed(t1));
    assert.ok(cm.inboundProgressed(t2));
    const third = cm.admitInbound(ip("192.0.2.3"), 0);
    assert.deepEqual(third.ok ? "" : third.limit, "maxPendingInbound");
    cm.inboundFailed(t1, 0);
    cm.inboundFailed(t1, 0); // twice is a no-op
    assert.equal(cm.stats().pendingInbound, 1);
    admit(cm, "192.0.2.3");
  });

  it("a newcomer evicts the oldest silent socket, never one that has progressed", () => {
    const cm = new ConnectionManager({ maxPendingInbound: 3 });
    const t1 = admit(cm, "192.0.2.1");
    const t2 = admit(cm, "192.0.2.2");
    const t3 = admit(cm, "192.0.2.3");
    cm.inboundProgressed(t1); // mid-handshake: protected
    assert.deepEqual(cm.stats().silentInbound, 2);
    const a = cm.admitInbound(ip("192.0.2.4"), 0);
    assert.ok(a.ok && a.evict === t2, "the oldest silent one goes");
    assert.equal(cm.inboundProgressed(t2), false, "an evicted ticket is gone");
    const b = cm.admitInbound(ip("192.0.2.5"), 0);
    assert.ok(b.ok && b.evict === t3);
    cm.inboundProgressed(a.ticket);
    cm.inboundProgressed(b.ticket);
    const c = cm.admitInbound(ip("192.0.2.6"), 0);
    assert.equal(c.ok ? "" : c.limit, "maxPendingInbound", "nobody silent: refused");
    const s = cm.stats(0);
    assert.equal(s.pendingInbound, 3);
    assert.equal(s.silentInbound, 0);
    assert.equal(s.evictedInbound, 2);
    // The evicted IPs' slots were released: only the three pending ones are tracked.
    assert.equal(s.trackedIps, 5, "evicted IPs keep their drained bucket only");
    assert.ok(
      cm.addConnection(
        { id: "c1", peer: "p1", direction: "inbound", remoteAddr: ip("192.0.2.1") },
        0,
        t1,
      ).ok,
    );
    assert.equal(cm.stats().pendingInbound, 2);
  });

  it("a socket refused by its per-IP limits evicts nobody", () => {
    const cm = new ConnectionManager({ maxPendingInbound: 2, maxInboundPerIp: 1 });
    const t1 = admit(cm, "192.0.2.1");
    admit(cm, "192.0.2.2");
    const r = cm.admitInbound(ip("192.0.2.1"), 0);
    assert.equal(r.ok ? "" : r.limit, "maxInboundPerIp");
    assert.equal(cm.stats().evictedInbound, 0);
    assert.ok(cm.inboundProgressed(t1), "still pending");
  });

  it("allow-listed pending sockets are never evicted", () => {
    const cm = new ConnectionManager({ maxPendingInbound: 1, allowList: ["10.0.0.0/8"] });
    const t = admit(cm, "10.0.0.1");
    const r = cm.admitInbound(ip("192.0.2.1"), 0);
    assert.equal(r.ok ? "" : r.limit, "maxPendingInbound");
    assert.ok(cm.inboundProgressed(t));
  });

  it("limits concurrency and rate per IP; the bucket refills with time", () => {
    const cm = new ConnectionManager({
      maxInboundPerIp: 2,
      inboundRatePerIp: 1,
      inboundBurstPerIp: 3,
    });
    const a = ip("192.0.2.1");
    const t1 = admit(cm, "192.0.2.1");
    const t2 = admit(cm, "192.0.2.1");
    const c = cm.admitInbound(a, 0);
    assert.equal(c.ok ? "" : c.limit, "maxInboundPerIp");
    cm.inboundFailed(t1, 0);
    cm.inboundFailed(t2, 0);
    const t3 = admit(cm, "192.0.2.1"); // third token
    cm.inboundFailed(t3, 0);
    const d = cm.admitInbound(a, 0);
    assert.equal(d.ok ? "" : d.limit, "inboundRatePerIp");
    assert.ok(cm.admitInbound(ip("192.0.2.9"), 0).ok, "other IPs unaffected");
    assert.ok(cm.admitInbound(a, 1000).ok, "one token back after 1 s");
  });

  it("keys IPv6 by /64 and IPv4-mapped IPv6 as IPv4", () => {
    assert.equal(ipKey(ip("2001:db8::1")), ipKey(ip("2001:db8::ffff:1")));
    assert.notEqual(ipKey(ip("2001:db8::1")), ipKey(ip("2001:db8:0:1::1")));
    assert.equal(ipKey(ip("::ffff:192.0.2.1")), "192.0.2.1");
    assert.equal(ipKey(multiaddr("/memory/x")), undefined);
  });

  it("the per-IP map is capped and shrinks when IPs leave and refill", () => {
    const cm = new ConnectionManager({ maxTrackedIps: 3, inboundBurstPerIp: 1 });
    const tickets = [1, 2, 3].map((i) => admit(cm, `192.0.2.${i}`));
    const full = cm.admitInbound(ip("192.0.2.4"), 0);
    assert.equal(full.ok ? "" : full.limit, "maxTrackedIps", "all tracked IPs have connections");
    for (const t of tickets) cm.inboundFailed(t, 0);
    assert.equal(cm.stats().trackedIps, 3, "drained buckets are remembered");
    cm.inboundFailed(admit(cm, "192.0.2.4", 10), 10); // an idle entry makes room
    assert.equal(cm.stats(1_000_000).trackedIps, 0);
  });

  it("allow-listed addresses bypass every limit and are never pruned", () => {
    const cm = new ConnectionManager({
      maxPendingInbound: 1,
      maxConnections: 1,
      highWatermark: 0,
      lowWatermark: 0,
      pruneGraceMs: 0,
      allowList: ["10.0.0.0/8"],
    });
    const tickets = [0, 1, 2, 3, 4].map((i) => admit(cm, `10.1.2.${i}`));
    for (let i = 0; i < 5; i++) {
      const r = cm.addConnection(
        { id: `c${i}`, peer: `p${i}`, direction: "inbound", remoteAddr: ip(`10.1.2.${i}`) },
        0,
        tickets[i],
      );
      assert.ok(r.ok);
    }
    assert.deepEqual(cm.selectPrunable(100), []);
    assert.equal(cm.stats().trackedIps, 0);
  });

  it("prunes above the high watermark: unprotected, lowest value, then oldest, after grace", () => {
    const cm = new ConnectionManager({ highWatermark: 3, lowWatermark: 1, pruneGraceMs: 50 });
    for (let i = 0; i < 5; i++) {
      cm.addConnection(
        { id: `c${i}`, peer: `p${i}`, direction: "outbound", remoteAddr: ip("192.0.2.1") },
        i * 10,
      );
    }
    cm.protect("p0", "keep");
    cm.tagPeer("p1", "a", 50);
    cm.tagPeer("p1", "b", 10);
    assert.equal(cm.tagValue("p1"), 60);
    // At t=60 only c0 (protected) and c1 are past the grace period: c1 goes.
    assert.deepEqual(cm.selectPrunable(60).map((c) => c.id), ["c1"]);
    // Later all are eligible: 5 - 1 = 4 wanted, the protected one stays; value orders last.
    assert.deepEqual(cm.selectPrunable(1000).map((c) => c.id), ["c2", "c3", "c4", "c1"]);
    assert.equal(cm.unprotect("p0", "keep"), false);
    cm.untagPeer("p1", "a");
    cm.untagPeer("p1", "b");
    assert.equal(cm.stats().taggedPeers, 0);
  });

  it("caps outbound and total connections", () => {
    const cm = new ConnectionManager({ maxConnections: 2, maxOutbound: 1 });
    assert.ok(cm.admitOutbound().ok);
    cm.addConnection({ id: "o", peer: "p", direction: "outbound", remoteAddr: ip("192.0.2.1") }, 0);
    const r = cm.admitOutbound();
    assert.equal(r.ok ? "" : r.limit, "maxOutbound");
    cm.admitInbound(ip("192.0.2.2"), 0);
    const full = cm.admitInbound(ip("192.0.2.3"), 0);
    assert.equal(full.ok ? "" : full.limit, "maxConnections");
    cm.removeConnection("o", 0);
    assert.equal(cm.stats().outbound, 0);
  });

  it("validates options", () => {
    assert.throws(() => new ConnectionManager({ maxConnections: 0 }), RangeError);
    assert.throws(() => new ConnectionManager({ maxConnections: 1.5 }), TypeError);
    assert.throws(() => new ConnectionManager({ lowWatermark: 5, highWatermark: 4 }), RangeError);
    assert.throws(() => new ConnectionManager({ inboundRatePerIp: 0 }), RangeError);
    assert.throws(() => new ConnectionManager({ allowList: ["10.0.0.0/33"] }), SyntaxError);
    assert.throws(() => new ConnectionManager({ allowList: ["nope"] }), SyntaxError);
    assert.throws(() => new ConnectionManager().tagPeer("p", "t", 2000), RangeError);
  });

  it("IpList matches exact addresses and CIDR ranges of both families", () => {
    const list = new IpList(["192.0.2.7", "10.0.0.0/8", "2001:db8::/32", "::ffff:172.16.0.0/108"]);
    assert.ok(list.has(ip("192.0.2.7")));
    assert.ok(!list.has(ip("192.0.2.8")));
    assert.ok(list.has(ip("10.255.0.1")));
    assert.ok(list.has(ip("2001:db8:ffff::1")));
    assert.ok(!list.has(ip("2001:db9::1")));
    assert.ok(list.has(ip("172.16.3.4")), "mapped range matches IPv4");
    assert.ok(list.has(ip("::ffff:10.0.0.1")), "mapped address matches IPv4 range");
    assert.ok(!list.has(multiaddr("/memory/a")));
  });
});

describe("ResourceManager", () => {
  it("refuses at each scope with the limit's name and releases lazily", () => {
    const rm = new ResourceManager({ maxStreamsPerConnection: 2, maxStreamsPerPeer: 3 });
    const c1 = rm.openConnection("peer");
    const c2 = rm.openConnection("peer");
    let doneA = false;
    c1.openStream(() => doneA);
    c1.openStream(() => false);
    assert.throws(() => c1.openStream(() => false), (e: Error) => {
      return e instanceof LimitExceededError && e.limit === "maxStreamsPerConnection";
    });
    c2.openStream(() => false);
    assert.throws(() => c2.openStream(() => false), (e: Error) => {
      return e instanceof LimitExceededError && e.limit === "maxStreamsPerPeer";
    });
    doneA = true; // the first stream ended: found at the next check
    c2.openStream(() => false);
    assert.equal(rm.stats().streams, 3);
    c1.close();
    c2.close();
    assert.deepEqual(rm.stats(), {
      connections: 0,
      peers: 0,
      streams: 0,
      protocols: {},
      memory: 0,
    });
  });

  it("protocol limits, per node and per peer, with overrides", () => {
    const rm = new ResourceManager({
      maxStreamsPerProtocolPerPeer: 1,
      protocols: { "/big": { maxStreamsPerPeer: 5, maxStreams: 2 } },
    });
    const a = rm.openConnection("a");
    a.openStream(() => false).setProtocol("/small");
    assert.throws(() => a.openStream(() => false).setProtocol("/small"), LimitExceededError);
    a.openStream(() => false).setProtocol("/big");
    const b = rm.openConnection("b");
    b.openStream(() => false).setProtocol("/big");
    assert.throws(() => b.openStream(() => false).setProtocol("/big"), (e: Error) => {
      return (e as LimitExceededError).limit === "maxStreamsPerProtocol";
    });
    a.close();
    b.close();
    assert.equal(rm.stats().streams, 0);
  });

  it("memory reservations are checked at every scope and released on close", () => {
    const rm = new ResourceManager({ maxMemoryPerConnection: 100, maxMemoryPerPeer: 150 });
    const c1 = rm.openConnection("p");
    const c2 = rm.openConnection("p");
    const s = c1.openStream(() => false);
    s.reserveMemory(80);
    assert.throws(() => s.reserveMemory(30), LimitExceededError);
    assert.throws(() => c2.reserveMemory(80), LimitExceededError, "peer limit");
    c2.reserveMemory(70);
    assert.equal(rm.stats().memory, 150);
    s.release();
    assert.equal(rm.stats().memory, 70);
    c1.close();
    c2.close();
    assert.equal(rm.stats().memory, 0);
  });
});
