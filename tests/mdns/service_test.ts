/**
 * The mDNS service wired into real nodes (TCP on loopback) through `peerDiscovery: [mdns()]`,
 * over an in-process multicast hub injected as the socket (no root, no network): the nodes
 * discover each other (`peer:discovery`) and the node dials the discovered peer. Also: a runtime
 * that cannot multicast fails start with MdnsUnavailableError, or reports it as an `error` event
 * with `optional: true`; stop sends a goodbye.
 */

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { decodeDnsMessage, FLAG_QR } from "../../src/dns/mod.ts";
import {
  mdns,
  MdnsDiscovery,
  type MdnsSocket,
  type MdnsSocketFactory,
  type MdnsSocketOptions,
  MdnsUnavailableError,
} from "../../protocols/mdns/mod.ts";
import { nextEvent, stopAll, testTcpNode, until } from "../helpers/nodes.ts";

/** Every packet sent by a member reaches every member (multicast with loopback). */
class Hub {
  readonly members = new Set<MdnsSocketOptions>();
  readonly sent: Uint8Array[] = [];
  factory: MdnsSocketFactory = (options) => {
    this.members.add(options);
    const socket: MdnsSocket = {
      send: (bytes) => {
        this.sent.push(bytes);
        for (const m of this.members) queueMicrotask(() => m.onMessage(bytes.slice()));
        return Promise.resolve();
      },
      close: () => {
        this.members.delete(options);
      },
    };
    return Promise.resolve(socket);
  };
}

describe("mdns service", () => {
  it("two nodes find each other and connect", async () => {
    const hub = new Hub();
    const a = await testTcpNode({ start: false, peerDiscovery: [mdns({ socket: hub.factory })] });
    const b = await testTcpNode({ start: false, peerDiscovery: [mdns({ socket: hub.factory })] });
    try {
      const seenByA = nextEvent(a, "peer:discovery", (d) => d.id.equals(b.peerId));
      const seenByB = nextEvent(b, "peer:discovery", (d) => d.id.equals(a.peerId));
      await a.start();
      await b.start(); // b's query makes both answer
      const [fromA, fromB] = await Promise.all([seenByA, seenByB]);
      assert.ok(fromA.multiaddrs.some((m) => m.toString().startsWith("/ip4/127.0.0.1/tcp/")));
      assert.ok(fromB.multiaddrs.length > 0);
      await until(() =>
        a.getConnections(b.peerId).length > 0 || b.getConnections(a.peerId).length > 0
      );
      const service = a.discovery.services[0] as MdnsDiscovery;
      assert.equal(service.discoveryName, "mdns");
      assert.ok(service.stats().responsesSent >= 1);
    } finally {
      await stopAll(a, b);
    }
    // each node said goodbye: a response whose records all have TTL 0
    const byes = hub.sent.map((b) => decodeDnsMessage(b)).filter((m) =>
      (m.flags & FLAG_QR) !== 0 && m.answers.every((r) => r.ttl === 0)
    );
    assert.equal(byes.length, 2);
    assert.equal(hub.members.size, 0);
  });

  it("fails start clearly where multicast is unavailable, or reports it with optional", async () => {
    const none: MdnsSocketFactory = () =>
      Promise.reject(new MdnsUnavailableError("no multicast here"));
    await assert.rejects(
      testTcpNode({ peerDiscovery: [mdns({ socket: none })] }),
      (err: unknown) =>
        err instanceof MdnsUnavailableError && /no multicast here/.test(err.message),
    );
    const broken: MdnsSocketFactory = () => Promise.reject(new Error("EPERM"));
    const errors: unknown[] = [];
    const node = await testTcpNode({
      peerDiscovery: [(n) => {
        const d = new MdnsDiscovery(n, { socket: broken, optional: true });
        d.addEventListener("error", (e) => errors.push((e as CustomEvent).detail));
        return d;
      }],
    });
    try {
      assert.equal(errors.length, 1);
      assert.ok(errors[0] instanceof MdnsUnavailableError);
      assert.equal((errors[0] as Error).cause instanceof Error, true);
      assert.equal((node.discovery.services[0] as MdnsDiscovery).running, false);
    } finally {
      await node.stop();
    }
  });

  it("refuses a peer name that is not one DNS label", () => {
    assert.throws(
      () => mdns({ peerName: "Has.Dots", socket: new Hub().factory })({} as never),
      RangeError,
    );
  });
});
