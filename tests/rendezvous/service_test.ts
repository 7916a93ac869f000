/**
 * A rendezvous point and several clients of ours over TCP on loopback (runs under Deno and
 * Bun): registration, discovery (addresses from the signed records, the node's `peer:discovery`
 * and peer store, the service's `peer` event), paging with cookies and polling, expiry on the point's injected clock,
 * replacement, unregister, refusal of a record signed by another peer (E_NOT_AUTHORIZED), bad
 * TTLs and cookies, and the three ways to name the point.
 */

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { generateKeyPair } from "../../src/keys/mod.ts";
import { multiaddr } from "../../src/multiaddr/mod.ts";
import { sealPeerRecord } from "../../src/record/mod.ts";
import { MessageType, RendezvousError, ResponseStatus } from "../../protocols/rendezvous/mod.ts";
import { until } from "../helpers/nodes.ts";
import { lab, rawRequest } from "./helpers.ts";

const H = 3_600_000;

function ids(regs: { id: { toString(): string } }[]): string[] {
  return regs.map((r) => r.id.toString()).sort();
}

describe("rendezvous over TCP", () => {
  it("registers several clients and discovers them with their signed addresses", async () => {
    const l = await lab(3);
    try {
      const [a, b, c] = l.clients;
      const point = l.point.addrs()[0];
      assert.equal(await a.services.rendezvous.register("chat", point), 7200);
      // A PeerId or its text names a point we are connected to (or whose addresses we know).
      await b.dial(point);
      await c.dial(point);
      assert.equal(
        await b.services.rendezvous.register("chat", l.point.peerId, { ttl: 3 * 3600 }),
        3 * 3600,
      );
      await c.services.rendezvous.register("other", l.point.peerId.toString());
      assert.equal(l.point.services.rendezvous.stats().registrations, 3);

      const seen: string[] = [];
      c.services.rendezvous.addEventListener("peer", (e) => seen.push(e.detail.id.toString()));
      const nodeSeen: string[] = [];
      c.addEventListener("peer:discovery", (e) => nodeSeen.push(e.detail.id.toString()));
      const found = await c.services.rendezvous.discover("chat", point);
      assert.deepEqual(ids(found.registrations), ids([a.peerId, b.peerId].map((id) => ({ id }))));
      const ra = found.registrations.find((r) => r.id.equals(a.peerId))!;
      assert.equal(ra.namespace, "chat");
      assert.equal(ra.ttl, 7200);
      const aAddrs = a.addrs().map((x) => x.decapsulateCode(421).toString()).sort();
      assert.deepEqual(ra.multiaddrs.map(String).sort(), aAddrs);
      assert.deepEqual(seen.sort(), ids(found.registrations));
      // The node's discovery contract: `peer:discovery` and the peer store (source "discovered").
      await until(() => nodeSeen.length === 2);
      assert.deepEqual(nodeSeen.sort(), ids(found.registrations));
      const stored = await c.peerStore.get(a.peerId);
      assert.ok(stored?.addresses.some((x) => aAddrs.includes(x.toString())));

      // Every namespace: the discoverer's own registration is returned but not reported.
      const all = await c.services.rendezvous.discover(undefined, point);
      assert.equal(all.registrations.length, 3);
      assert.equal(seen.length, 2 + 2);
      await until(() => nodeSeen.length === 4);
    } finally {
      await l.stop();
    }
  });

  it("pages with limit and cookie, then polls only new registrations", async () => {
    const l = await lab(4);
    try {
      const [a, b, c, d] = l.clients;
      const point = l.point.addrs()[0];
      for (const n of [a, b, c]) await n.services.rendezvous.register("room", point);
      const p1 = await d.services.rendezvous.discover("room", point, { limit: 2 });
      assert.equal(p1.registrations.length, 2);
      const p2 = await d.services.rendezvous.discover("room", point, {
        limit: 2,
        cookie: p1.cookie,
      });
      assert.equal(p2.registrations.length, 1);
      assert.deepEqual(
        ids([...p1.registrations, ...p2.registrations]),
        ids([a, b, c].map((n) => ({ id: n.peerId }))),
      );
      const p3 = await d.services.rendezvous.discover("room", point, { cookie: p2.cookie });
      assert.equal(p3.registrations.length, 0);
      await d.services.rendezvous.register("room", point);
      const p4 = await d.services.rendezvous.discover("room", point, { cookie: p3.cookie });
      assert.deepEqual(ids(p4.registrations), [d.peerId.toString()]);
      // A cookie for another namespace is refused.
      await assert.rejects(
        d.services.rendezvous.discover("elsewhere", point, { cookie: p4.cookie }),
        (e) => e instanceof RendezvousError && e.status === ResponseStatus.E_INVALID_COOKIE,
      );
    } finally {
      await l.stop();
    }
  });

  it("expires registrations at their TTL on the point's clock", async () => {
    const l = await lab(3);
    try {
      const [a, b, c] = l.clients;
      const point = l.point.addrs()[0];
      await a.services.rendezvous.register("ns", point); // 2 h
      await b.services.rendezvous.register("ns", point, { ttl: 4 * 3600 });
      l.clock.now += 2 * H; // a's TTL has passed
      assert.deepEqual(ids((await c.services.rendezvous.discover("ns", point)).registrations), [
        b.peerId.toString(),
      ]);
      l.clock.now += 2 * H;
      assert.equal((await c.services.rendezvous.discover("ns", point)).registrations.length, 0);
      assert.equal(l.point.services.rendezvous.stats().registrations, 0);
    } finally {
      await l.stop();
    }
  });

  it("expires with a short TTL when the point allows it (minTtl option)", async () => {
    const l = await lab(2, { minTtl: 1 });
    try {
      const [a, b] = l.clients;
      const point = l.point.addrs()[0];
      assert.equal(await a.services.rendezvous.register("ns", point, { ttl: 1 }), 1);
      l.clock.now += 1_000;
      assert.equal((await b.services.rendezvous.discover("ns", point)).registrations.length, 0);
    } finally {
      await l.stop();
    }
  });

  it("replaces a peer's registration: one entry, the new TTL, seen again by a poll", async () => {
    const l = await lab(2);
    try {
      const [a, b] = l.clients;
      const point = l.point.addrs()[0];
      await a.services.rendezvous.register("ns", point);
      const first = await b.services.rendezvous.discover("ns", point);
      assert.equal(first.registrations.length, 1);
      l.clock.now += H;
      assert.equal(await a.services.rendezvous.register("ns", point, { ttl: 5 * 3600 }), 5 * 3600);
      assert.equal(l.point.services.rendezvous.stats().registrations, 1);
      const poll = await b.services.rendezvous.discover("ns", point, { cookie: first.cookie });
      assert.equal(poll.registrations.length, 1);
      assert.equal(poll.registrations[0].ttl, 5 * 3600);
      assert.equal(poll.registrations[0].multiaddrs.length, a.addrs().length);
      l.clock.now += 3 * H; // past the first TTL, within the second
      assert.equal((await b.services.rendezvous.discover("ns", point)).registrations.length, 1);
    } finally {
      await l.stop();
    }
  });

  it("unregisters", async () => {
    const l = await lab(2);
    try {
      const [a, b] = l.clients;
      const point = l.point.addrs()[0];
      await a.services.rendezvous.register("ns", point);
      await a.services.rendezvous.register("ns2", point);
      await a.services.rendezvous.unregister("ns", point);
      assert.equal((await b.services.rendezvous.discover("ns", point)).registrations.length, 0);
      assert.equal((await b.services.rendezvous.discover("ns2", point)).registrations.length, 1);
    } finally {
      await l.stop();
    }
  });

  it("refuses a record signed by another peer (E_NOT_AUTHORIZED) and stores nothing", async () => {
    const l = await lab(1);
    try {
      const [a] = l.clients;
      const other = await generateKeyPair("Ed25519");
      const forged = await sealPeerRecord(other, [multiaddr("/ip4/127.0.0.1/tcp/9")]);
      const answer = await rawRequest(a, l.point, {
        type: MessageType.REGISTER,
        register: { ns: "ns", signedPeerRecord: forged.encode() },
      });
      assert.equal(answer.type, MessageType.REGISTER_RESPONSE);
      assert.equal(answer.registerResponse?.status, ResponseStatus.E_NOT_AUTHORIZED);
      assert.equal(l.point.services.rendezvous.stats().registrations, 0);
      assert.equal(l.point.services.rendezvous.stats().notAuthorized, 1);
      // Garbage in place of a record: E_INVALID_SIGNED_PEER_RECORD.
      const bad = await rawRequest(a, l.point, {
        type: MessageType.REGISTER,
        register: { ns: "ns", signedPeerRecord: new Uint8Array([1, 2, 3]) },
      });
      assert.equal(bad.registerResponse?.status, ResponseStatus.E_INVALID_SIGNED_PEER_RECORD);
      // The sender's own record is accepted on the same path.
      const own = await sealPeerRecord(a.privateKey, []);
      const ok = await rawRequest(a, l.point, {
        type: MessageType.REGISTER,
        register: { ns: "ns", signedPeerRecord: own.encode() },
      });
      assert.equal(ok.registerResponse?.status, ResponseStatus.OK);
      assert.equal(ok.registerResponse?.ttl, 7200n);
    } finally {
      await l.stop();
    }
  });

  it("rejects bad TTLs with the point's status, and bad arguments locally", async () => {
    const l = await lab(1);
    try {
      const [a] = l.clients;
      const point = l.point.addrs()[0];
      await assert.rejects(
        a.services.rendezvous.register("ns", point, { ttl: 60 }),
        (e) => e instanceof RendezvousError && e.status === ResponseStatus.E_INVALID_TTL,
      );
      await assert.rejects(a.services.rendezvous.register("x".repeat(256), point), RangeError);
      await assert.rejects(a.services.rendezvous.register("", point), RangeError);
      await assert.rejects(
        a.services.rendezvous.discover("ns", point.decapsulateCode(421)),
        TypeError,
      );
      await assert.rejects(a.services.rendezvous.discover("ns", point, { limit: 0 }), RangeError);
    } finally {
      await l.stop();
    }
  });

  it("a client-only node does not serve the protocol", async () => {
    const l = await lab(2);
    try {
      const [a, b] = l.clients;
      await assert.rejects(a.services.rendezvous.discover("ns", b.addrs()[0]));
      assert.equal(a.services.rendezvous.store, undefined);
    } finally {
      await l.stop();
    }
  });
});
