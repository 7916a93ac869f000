/**
 * HARDENING.md "transport" rows, over an in-memory transport with fake remote IPs and over
 * real TCP on loopback:
 * - many sockets that connect and send nothing: at most maxPendingInbound in upgrade, each
 *   closed at the upgrade deadline; with every slot taken a newcomer evicts the oldest silent
 *   socket, and is refused at once only when every pending socket is mid-handshake; an honest
 *   peer still gets in (the many-address flood is in flood_test.ts);
 * - many new connections per second from one IP: refused before the Noise handshake starts;
 *   other IPs (and allow-listed ones) unaffected.
 */

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { createNode, type Libp2pNode, type NodeInit } from "../../src/node/node.ts";
import { multiaddr } from "../../src/multiaddr/mod.ts";
import type { RawConnection, Transport } from "../../src/transport.ts";
import { yamux } from "../../protocols/yamux/mod.ts";
import { noise } from "../../protocols/noise/mod.ts";
import { tcp } from "../../transports/tcp/mod.ts";
import { until } from "../helpers/nodes.ts";
import { countingNoise, detectUnhandled, fakeIp, probe } from "./helpers.ts";

const DEADLINE = 600;

async function listener(
  transport: Transport,
  listen: string,
  extra: Partial<NodeInit> = {},
): Promise<{ node: Libp2pNode; handshakes: () => number }> {
  const counting = countingNoise();
  const node = await createNode({
    transports: [transport],
    connectionEncrypters: [counting.security],
    streamMuxers: [yamux()],
    listen: [listen],
    upgradeTimeoutMs: DEADLINE,
    ...extra,
  });
  return { node, handshakes: counting.inbound };
}

/** Wait until every counter of `node` is back to zero, then assert each by name. */
async function settled(node: Libp2pNode): Promise<void> {
  await until(() => {
    const s = node.stats();
    return s.pendingUpgrades + s.connections + s.manager.trackedIps + s.resources.connections ===
      0;
  }).catch(() => {});
  zeroed(node);
}

function zeroed(node: Libp2pNode): void {
  const s = node.stats();
  assert.equal(s.manager.pendingInbound, 0, "manager pending");
  assert.equal(s.manager.connections, 0, "manager connections");
  assert.equal(s.manager.trackedIps, 0, "tracked IPs");
  assert.equal(s.pendingUpgrades, 0, "pending upgrades");
  assert.equal(s.connections, 0, "connections");
  assert.equal(s.resources.connections, 0, "resource scopes");
  assert.equal(s.resources.streams, 0, "streams");
}

describe("hardening: silent sockets (memory, fake IPs)", () => {
  it("caps pending upgrades, evicts the oldest silent ones, closes each at the deadline", async () => {
    const unhandled = detectUnhandled();
    const net = fakeIp();
    const { node: b, handshakes } = await listener(net, "/memory/0", {
      connectionManager: { maxPendingInbound: 8, allowList: ["203.0.113.7"] },
    });
    const addr = b.addrs()[0];
    const silent: { raw: RawConnection; p: ReturnType<typeof probe> }[] = [];
    const extra: typeof silent = [];
    try {
      for (let i = 0; i < 8; i++) {
        const raw = await net.from(`192.0.2.${i + 1}`).dial(addr);
        silent.push({ raw, p: probe(raw) });
      }
      assert.equal(b.stats().manager.pendingInbound, 8);
      assert.equal(b.stats().pendingUpgrades, 8);
      for (let i = 0; i < 4; i++) {
        const raw = await net.from(`192.0.2.${100 + i}`).dial(addr);
        extra.push({ raw, p: probe(raw) });
      }
      // Extras take the slots of the four oldest silent sockets, which end at once without a
      // byte; the newer silent ones and the extras still wait.
      const evictedEnds = await Promise.all(silent.slice(0, 4).map((e) => e.p.ended));
      assert.ok(evictedEnds.every((e) => e !== "pending"));
      assert.deepEqual(silent.slice(0, 4).map((e) => e.p.bytes()), [0, 0, 0, 0]);
      assert.equal(b.stats().manager.pendingInbound, 8, "silent sockets still in upgrade");
      await until(() => b.stats().pendingUpgrades === 8);
      assert.equal(b.stats().manager.evictedInbound, 4);
      silent.push(...extra.splice(0));

      // An allow-listed peer gets in even now.
      const a = await createNode({
        transports: [net.from("203.0.113.7")],
        connectionEncrypters: [noise()],
        streamMuxers: [yamux()],
      });
      try {
        const conn = await a.dial(addr);
        assert.equal(conn.status, "open");
      } finally {
        await a.stop();
      }

      // Each silent socket is closed at the upgrade deadline.
      const ends = await Promise.all(silent.map((s) => s.p.ended));
      assert.equal(ends.length, 12);
      await until(() => b.stats().pendingUpgrades === 0);
      assert.equal(handshakes(), 1, "only the allow-listed peer reached Noise");

      // An honest peer gets in once the slots are free.
      const honest = await createNode({
        transports: [net.from("198.51.100.20")],
        connectionEncrypters: [noise()],
        streamMuxers: [yamux()],
      });
      try {
        const conn = await honest.dial(addr);
        assert.equal(conn.status, "open");
      } finally {
        await honest.stop();
      }
      await settled(b);
      assert.deepEqual(unhandled.errors, []);
    } finally {
      unhandled.stop();
      for (const s of [...silent, ...extra]) s.raw.abort();
      await b.stop();
    }
  });
});

describe("hardening: sockets mid-handshake (memory, fake IPs)", () => {
  it("are never evicted: with every slot mid-handshake a newcomer is refused at once", async () => {
    const net = fakeIp();
    const { node: b } = await listener(net, "/memory/0", {
      connectionManager: { maxPendingInbound: 4 },
    });
    const addr = b.addrs()[0];
    const raws: RawConnection[] = [];
    try {
      // multistream-select header and a /noise proposal, then silence: each has progressed.
      const hello = new Uint8Array([
        19,
        ...new TextEncoder().encode("/multistream/1.0.0\n"),
        7,
        ...new TextEncoder().encode("/noise\n"),
      ]);
      const started = [];
      for (let i = 0; i < 4; i++) {
        const raw = await net.from(`192.0.2.${i + 1}`).dial(addr);
        raws.push(raw);
        started.push(probe(raw));
        raw.channel.write(hello);
        await raw.channel.drained();
      }
      await until(() => b.stats().manager.silentInbound === 0);
      assert.equal(b.stats().manager.pendingInbound, 4);
      const late = await net.from("192.0.2.50").dial(addr);
      raws.push(late);
      const lateProbe = probe(late);
      assert.notEqual(await lateProbe.ended, "pending");
      assert.equal(lateProbe.bytes(), 0, "refused before any byte");
      assert.equal(b.stats().manager.evictedInbound, 0);
      assert.equal(b.stats().manager.pendingInbound, 4, "nobody mid-handshake was evicted");
      await Promise.all(started.map((p) => p.ended)); // the upgrade deadline ends them
    } finally {
      for (const r of raws) r.abort();
      await settled(b);
      await b.stop();
    }
  });

  it("closes a silent socket at silentInboundTimeoutMs, before the upgrade deadline", async () => {
    const net = fakeIp();
    const { node: b } = await listener(net, "/memory/0", {
      upgradeTimeoutMs: 60_000,
      connectionManager: { silentInboundTimeoutMs: 100 },
    });
    const raw = await net.from("192.0.2.1").dial(b.addrs()[0]);
    try {
      const p = probe(raw);
      assert.equal(b.stats().manager.silentInbound, 1);
      assert.notEqual(await p.ended, "pending");
      await settled(b);
    } finally {
      raw.abort();
      await b.stop();
    }
  });
});

describe("hardening: connection rate per IP (memory, fake IPs)", () => {
  it("refuses a flood from one IP before Noise starts; other IPs are unaffected", async () => {
    const unhandled = detectUnhandled();
    const net = fakeIp();
    const { node: b, handshakes } = await listener(net, "/memory/0", {
      connectionManager: { inboundRatePerIp: 1, inboundBurstPerIp: 3, maxInboundPerIp: 100 },
    });
    const addr = b.addrs()[0];
    const raws: RawConnection[] = [];
    try {
      const probes = [];
      for (let i = 0; i < 10; i++) {
        const raw = await net.from("192.0.2.66").dial(addr);
        raws.push(raw);
        probes.push(probe(raw));
      }
      assert.equal(b.stats().manager.pendingInbound, 3, "the burst is admitted");
      const refused = probes.slice(3);
      await Promise.all(refused.map((p) => p.ended));
      assert.deepEqual(refused.map((p) => p.bytes()), new Array(7).fill(0));

      // A full node dialling from the flooding IP is refused; Noise never runs for it.
      const flooder = await createNode({
        transports: [net.from("192.0.2.66")],
        connectionEncrypters: [noise()],
        streamMuxers: [yamux()],
      });
      const other = await createNode({
        transports: [net.from("192.0.2.77")],
        connectionEncrypters: [noise()],
        streamMuxers: [yamux()],
      });
      try {
        await assert.rejects(flooder.dial(addr));
        assert.equal(handshakes(), 0);
        const conn = await other.dial(addr);
        assert.equal(conn.status, "open");
        assert.equal(handshakes(), 1);
      } finally {
        await flooder.stop();
        await other.stop();
      }
    } finally {
      for (const r of raws) r.abort();
      await settled(b);
      assert.deepEqual(unhandled.errors, []);
      unhandled.stop();
      await b.stop();
    }
  });

  it("counts IPv6 peers per /64", async () => {
    const net = fakeIp();
    const { node: b } = await listener(net, "/memory/0", {
      connectionManager: { maxInboundPerIp: 2 },
    });
    const raws: RawConnection[] = [];
    try {
      const probes = [];
      for (const ip of ["2001:db8::1", "2001:db8::2", "2001:db8::ffff:3", "2001:db8:1::1"]) {
        const raw = await net.from(ip).dial(b.addrs()[0]);
        raws.push(raw);
        probes.push(probe(raw));
      }
      await probes[2].ended;
      assert.equal(b.stats().manager.pendingInbound, 3, "two from the first /64, one from another");
    } finally {
      for (const r of raws) r.abort();
      await b.stop();
    }
  });
});

describe("hardening: silent sockets and rate over TCP loopback", () => {
  it("caps pending upgrades, evicts the oldest silent, closes each at the deadline", async () => {
    const unhandled = detectUnhandled();
    const transport = tcp();
    const { node: b, handshakes } = await listener(transport, "/ip4/127.0.0.1/tcp/0", {
      connectionManager: {
        maxPendingInbound: 8,
        maxInboundPerIp: 1000,
        inboundRatePerIp: 1e9,
        inboundBurstPerIp: 1000,
      },
    });
    const addr = b.addrs()[0].decapsulateCode(421);
    const raws: RawConnection[] = [];
    try {
      const probes = [];
      for (let i = 0; i < 8; i++) {
        const raw = await transport.dial(addr);
        raws.push(raw);
        probes.push(probe(raw));
      }
      await until(() => b.stats().pendingUpgrades === 8);
      const extras = [];
      for (let i = 0; i < 4; i++) {
        const raw = await transport.dial(addr);
        raws.push(raw);
        extras.push(probe(raw));
      }
      // The four oldest silent sockets make room for the extras and end without a byte.
      await Promise.all(probes.slice(0, 4).map((p) => p.ended));
      assert.deepEqual(probes.slice(0, 4).map((p) => p.bytes()), [0, 0, 0, 0]);
      await until(() => b.stats().manager.evictedInbound === 4);
      assert.equal(b.stats().manager.pendingInbound, 8);
      await Promise.all([...probes, ...extras].map((p) => p.ended));
      await until(() => b.stats().pendingUpgrades === 0);
      assert.equal(handshakes(), 0);

      const honest = await createNode({
        transports: [tcp()],
        connectionEncrypters: [noise()],
        streamMuxers: [yamux()],
      });
      try {
        const conn = await honest.dial(b.addrs()[0]);
        assert.equal(conn.status, "open");
        assert.equal(handshakes(), 1);
      } finally {
        await honest.stop();
      }
      await settled(b);
      assert.deepEqual(unhandled.errors, []);
    } finally {
      unhandled.stop();
      for (const r of raws) r.abort();
      await b.stop();
    }
  });

  it("refuses a burst from 127.0.0.1 unless it is on the allow list", async () => {
    const transport = tcp();
    const limits = { inboundRatePerIp: 0.001, inboundBurstPerIp: 2, maxInboundPerIp: 100 };
    const { node: strict } = await listener(transport, "/ip4/127.0.0.1/tcp/0", {
      connectionManager: limits,
    });
    const { node: allowing } = await listener(transport, "/ip4/127.0.0.1/tcp/0", {
      connectionManager: { ...limits, allowList: ["127.0.0.0/8"] },
    });
    const raws: RawConnection[] = [];
    try {
      for (const node of [strict, allowing]) {
        const addr = node.addrs()[0].decapsulateCode(421);
        for (let i = 0; i < 6; i++) raws.push(await transport.dial(addr));
      }
      const probes = raws.map(probe);
      await Promise.all(probes.slice(2, 6).map((p) => p.ended));
      assert.deepEqual(probes.slice(2, 6).map((p) => p.bytes()), [0, 0, 0, 0]);
      await until(() => allowing.stats().pendingUpgrades === 6);
      assert.equal(strict.stats().pendingUpgrades, 2);
      assert.equal(allowing.stats().manager.trackedIps, 0, "allow-listed IPs are not tracked");
    } finally {
      for (const r of raws) r.abort();
      await strict.stop();
      await allowing.stop();
    }
    assert.ok(multiaddr("/ip4/127.0.0.1/tcp/1"));
  });
});
