/**
 * stop() racing connections that finished their upgrade but are not tracked yet: they are held
 * in the gater's `denyUpgraded` hook or in the peer store when the node stops. Each must end
 * closed, never tracked by the stopped node, with no inactivity watch left armed for it (a
 * connection left open after stop() kept accepting streams from its peer, and each one armed
 * the connection's StreamIdleWatch timer again).
 *
 * The hooks are held with promises the test releases, so every interleaving is deterministic.
 */

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import type { Connection } from "../../src/connection.ts";
import type { Libp2pNode } from "../../src/node/node.ts";
import { MemoryPeerStore } from "../../src/node/memory_peer_store.ts";
import type { PeerInfo, PeerUpdate } from "../../src/node/peer_store.ts";
import type { PeerId } from "../../src/peer_id.ts";
import { outcome, stopAll, testNode, until } from "../helpers/nodes.ts";

const PROTO = "/test/stop-race/1.0.0";

/** A promise the test settles when it chooses (to hold a hook or the peer store). */
function held<T>(): { promise: Promise<T>; release: (value: T) => void } {
  let release!: (value: T) => void;
  const promise = new Promise<T>((r) => (release = r));
  return { promise, release };
}

/** A handler that holds its stream open until the remote ends it. */
function serve(node: Libp2pNode): void {
  node.handle(PROTO, async (s) => {
    await outcome(s.readable);
  });
}

/** Counters of a stopped node: nothing tracked, pending or guarded. */
function assertEmpty(node: Libp2pNode, who: string): void {
  const s = node.stats();
  assert.deepEqual(
    {
      connections: s.connections,
      peers: s.peers,
      pendingDials: s.pendingDials,
      pendingUpgrades: s.pendingUpgrades,
      guardedStreams: s.guardedStreams,
      managed: s.manager.connections,
      pendingInbound: s.manager.pendingInbound,
      untracked: s.untrackedConnections,
    },
    {
      connections: 0,
      peers: 0,
      pendingDials: 0,
      pendingUpgrades: 0,
      guardedStreams: 0,
      managed: 0,
      pendingInbound: 0,
      untracked: 0,
    },
    `${who} after stop()`,
  );
}

/**
 * The connection `conn` of a stopped node is closed, and its peer (still running) can no
 * longer open a stream on it: nothing on it can arm an inactivity watch.
 */
async function assertDead(conn: Connection, peer: Libp2pNode): Promise<void> {
  assert.notEqual(conn.status, "open", "the connection was closed by stop()");
  await until(() => conn.status === "closed");
  assert.equal(conn.guardedStreams, 0);
  // The peer sees the connection go; a stream it opens now cannot land on it.
  await until(() => peer.stats().connections === 0);
  const remote = peer.getConnections()[0];
  assert.equal(remote, undefined);
}

describe("node: stop() while a connection waits for admission", () => {
  it("outbound: held in denyUpgraded, the dial fails and the connection is aborted", async () => {
    const gate = held<boolean>();
    let seen: Connection | undefined;
    const server = await testNode();
    serve(server);
    const client = await testNode({
      listen: [],
      connectionGater: {
        denyUpgraded: (conn) => {
          seen = conn;
          return gate.promise;
        },
      },
    });
    serve(client);
    try {
      const dialing = client.dial(server.addrs()[0]);
      dialing.catch(() => {});
      await until(() => seen !== undefined);
      // The server tracks its side already and may open streams on it.
      await until(() => server.stats().connections === 1);
      await client.stop();
      assert.notEqual(seen!.status, "open", "stop() aborted the connection held in admission");
      gate.release(false);
      await assert.rejects(dialing);
      await assertDead(seen!, server);
      assertEmpty(client, "client");
    } finally {
      gate.release(false);
      await stopAll(client, server);
    }
  });

  it("outbound: held in the peer store, the dial fails and the connection is aborted", async () => {
    const merge = held<void>();
    let holding = false;
    class SlowStore extends MemoryPeerStore {
      override async merge(id: PeerId, update: PeerUpdate): Promise<PeerInfo> {
        if (update.publicKey !== undefined) {
          holding = true;
          await merge.promise;
        }
        return super.merge(id, update);
      }
    }
    const server = await testNode();
    serve(server);
    const client = await testNode({ listen: [], peerStore: new SlowStore() });
    serve(client);
    try {
      const dialing = client.dial(server.addrs()[0]);
      dialing.catch(() => {});
      await until(() => holding);
      await until(() => server.stats().connections === 1);
      const conn = client.getConnections()[0];
      assert.equal(conn, undefined, "not tracked while the peer store is busy");
      await client.stop();
      merge.release();
      await assert.rejects(dialing);
      await until(() => server.stats().connections === 0);
      assertEmpty(client, "client");
    } finally {
      merge.release();
      await stopAll(client, server);
    }
  });

  it("inbound: held in denyUpgraded, the connection is aborted and never tracked", async () => {
    const gate = held<boolean>();
    let seen: Connection | undefined;
    const server = await testNode({
      connectionGater: {
        denyUpgraded: (conn) => {
          seen = conn;
          return gate.promise;
        },
      },
    });
    serve(server);
    const client = await testNode({ listen: [] });
    serve(client);
    try {
      const conn = await client.dial(server.addrs()[0]);
      await until(() => seen !== undefined);
      await server.stop();
      assert.notEqual(seen!.status, "open", "stop() aborted the connection held in admission");
      gate.release(false);
      await assertDead(seen!, client);
      await until(() => conn.status === "closed");
      assertEmpty(server, "server");
    } finally {
      gate.release(false);
      await stopAll(client, server);
    }
  });

  it("a hook that never answers does not keep the connection open after stop()", async () => {
    let seen: Connection | undefined;
    const server = await testNode();
    const client = await testNode({
      listen: [],
      connectionGater: {
        denyUpgraded: (conn) => {
          seen = conn;
          return new Promise<boolean>(() => {});
        },
      },
    });
    try {
      const dialing = client.dial(server.addrs()[0]);
      dialing.catch(() => {});
      await until(() => seen !== undefined);
      await client.stop();
      await assertDead(seen!, server);
      assertEmpty(client, "client");
    } finally {
      await stopAll(client, server);
    }
  });
});
