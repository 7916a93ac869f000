/**
 * Topologies (issue 16 section 5): a service registers interest in a protocol and is told when
 * a peer that supports it (per identify) connects, when it stops or starts supporting it
 * (identify push), and when its last connection closes; once per peer; limited connections
 * only with notifyOnLimitedConnection.
 */

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import type { Connection } from "../../src/connection.ts";
import type { Libp2pNode } from "../../src/node/node.ts";
import { Topologies, type Topology } from "../../src/node/topology.ts";
import type { PeerId } from "../../src/peer_id.ts";
import { generateKeyPair, peerIdFromPrivateKey } from "../../src/keys/mod.ts";
import { identify, type IdentifyService } from "../../protocols/identify/mod.ts";
import { memory } from "../../transports/memory/mod.ts";
import { nextEvent, stopAll, testNode, until } from "../helpers/nodes.ts";
import { tunnel } from "./tunnel.ts";

const TOPIC = "/test/topology/1.0.0";
type WithIdentify = { identify: IdentifyService };

/** A topology that records its calls as "connect <peer>" / "disconnect <peer>". */
function recorder(extra: Partial<Topology> = {}): Topology & { calls: string[] } {
  const calls: string[] = [];
  return {
    calls,
    onConnect: (peer: PeerId, conn: Connection) => {
      assert.ok(conn.remotePeer.equals(peer));
      calls.push(`connect ${peer}`);
    },
    onDisconnect: (peer: PeerId) => void calls.push(`disconnect ${peer}`),
    ...extra,
  };
}

function identified(): Promise<Libp2pNode<WithIdentify>> {
  return testNode<WithIdentify>({ services: { identify: identify({ pushDebounceMs: 5 }) } });
}

describe("topologies over identify", () => {
  it("onConnect once per peer, on protocol changes, and onDisconnect on the last close", async () => {
    const a = await identified();
    const b = await identified();
    try {
      b.handle(TOPIC, () => {});
      const topo = recorder();
      const other = recorder();
      a.register(TOPIC, topo);
      a.register("/test/unrelated/1.0.0", other);
      const bId = b.peerId.toString();

      await a.dial(b.addrs()[0]);
      await until(() => topo.calls.length === 1);
      assert.deepEqual(topo.calls, [`connect ${bId}`]);
      // A second identify (explicit, and a push) of the same protocols: no second onConnect.
      await a.services.identify.identify(a.getConnections(b.peerId)[0]);
      b.handle("/test/more/1.0.0", () => {});
      await nextEvent(a, "peer:identify", (d) => d.protocols.includes("/test/more/1.0.0"));
      assert.deepEqual(topo.calls, [`connect ${bId}`]);

      // b drops the protocol (identify push): withdrawn; adds it back: announced again.
      b.unhandle(TOPIC);
      await until(() => topo.calls.length === 2);
      assert.equal(topo.calls[1], `disconnect ${bId}`);
      b.handle(TOPIC, () => {});
      await until(() => topo.calls.length === 3);
      assert.equal(topo.calls[2], `connect ${bId}`);

      // A second connection to b, then both close: one onDisconnect, after the last.
      // (An address without /p2p: the node does not know the peer, so it dials anew.)
      await a.dial(b.addrs()[0].decapsulateCode(421));
      await until(() => a.getConnections(b.peerId).length === 2);
      const [c1, c2] = a.getConnections(b.peerId);
      await c1.close();
      assert.equal(topo.calls.length, 3, "one connection left: no onDisconnect yet");
      await c2.close();
      await until(() => topo.calls.length === 4);
      assert.equal(topo.calls[3], `disconnect ${bId}`);
      assert.deepEqual(other.calls, [], "b never supported the unrelated protocol");
    } finally {
      await stopAll(a, b);
    }
  });

  it("a topology registered later is told about peers connected already; unregister stops it", async () => {
    const a = await identified();
    const b = await identified();
    try {
      b.handle(TOPIC, () => {});
      const seen = nextEvent(a, "peer:identify", (d) => d.protocols.includes(TOPIC));
      await a.dial(b.addrs()[0]);
      await seen;
      const late = recorder();
      const id = a.register(TOPIC, late);
      await until(() => late.calls.length === 1);
      assert.deepEqual(late.calls, [`connect ${b.peerId}`]);
      a.unregister(id);
      await a.hangUp(b.peerId);
      await until(() => a.getConnections(b.peerId).length === 0);
      assert.deepEqual(late.calls, [`connect ${b.peerId}`], "unregistered: no onDisconnect");
    } finally {
      await stopAll(a, b);
    }
  });

  it("peers on limited connections only with notifyOnLimitedConnection", async () => {
    const limits = { durationMs: 60_000 };
    const listen = ["/memory/0", "/p2p-circuit"];
    const make = (t: ReturnType<typeof tunnel>) =>
      testNode<WithIdentify>({
        transports: [memory(), t],
        listen,
        services: { identify: identify({ pushDebounceMs: 5 }) },
      });
    const [ta, tr, tb] = [tunnel(limits), tunnel(limits), tunnel(limits)];
    const [a, r, b] = [await make(ta), await make(tr), await make(tb)];
    ta.bind(a);
    tr.bind(r);
    tb.bind(b);
    try {
      b.handle(TOPIC, () => {}, { runOnLimitedConnection: true });
      const strict = recorder();
      const relaxed = recorder({ notifyOnLimitedConnection: true });
      a.register(TOPIC, strict);
      a.register(TOPIC, relaxed);
      await a.dial(r.addrs()[0]);
      await b.dial(r.addrs()[0]);
      await until(() => r.getConnections(b.peerId).length > 0);
      const identifiedB = nextEvent(a, "peer:identify", (d) => d.peerId.equals(b.peerId));
      const relayed = await a.dial(`/p2p/${r.peerId}/p2p-circuit/p2p/${b.peerId}`);
      assert.equal(relayed.limited, true);
      await identifiedB; // identify runs on limited connections (it opts in)
      await until(() => relaxed.calls.length === 1);
      assert.deepEqual(relaxed.calls, [`connect ${b.peerId}`]);
      assert.deepEqual(strict.calls, []);
      // An unlimited connection to b: identified on it, the strict topology hears of b now.
      await a.dial(b.addrs()[0]);
      await until(() => strict.calls.length === 1);
      assert.deepEqual(strict.calls, [`connect ${b.peerId}`]);
      assert.equal(relaxed.calls.length, 1, "still once");
    } finally {
      await stopAll(a, r, b);
    }
  });
});

describe("Topologies (unit)", () => {
  const fakeConn = (peer: PeerId, limited: boolean, status = "open") =>
    ({ remotePeer: peer, limited, status }) as unknown as Connection;

  it("deduplicates, withdraws, isolates failing callbacks, and picks unlimited connections", async () => {
    const peer = peerIdFromPrivateKey(await generateKeyPair("Ed25519"));
    const errors: unknown[] = [];
    const t = new Topologies({ onError: (e) => errors.push(e) });
    const got: Connection[] = [];
    t.register("/p", {
      onConnect: () => {
        throw new Error("boom");
      },
    });
    t.register("/p", {
      onConnect: (_p, c) => void got.push(c),
      onDisconnect: () => Promise.reject(new Error("async boom")),
    });
    const limited = fakeConn(peer, true);
    const open = fakeConn(peer, false);
    t.update(peer, ["/p"], [limited, fakeConn(peer, false, "closed"), open]);
    t.update(peer, ["/p", "/q"], [open]);
    assert.deepEqual(got, [open], "once, over the unlimited open connection");
    assert.equal(errors.length, 1);
    t.update(peer, ["/q"], [open]);
    await Promise.resolve();
    assert.equal(errors.length, 2, "the async rejection is reported too");
    t.disconnected(peer); // nothing announced any more: no call
    assert.equal(errors.length, 2);
    // Only limited connections and no opt-in: not announced.
    t.update(peer, ["/p"], [limited]);
    assert.equal(got.length, 1);
    assert.equal(t.size, 2);
  });
});
