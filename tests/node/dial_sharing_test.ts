/**
 * How concurrent dials share attempts (src/node/node.ts `dial`): dials for the same peer and
 * addresses share one attempt; a dial to other addresses is not held up by an attempt its caller
 * gave up on; an attempt whose callers all aborted is itself aborted (its socket closes); a dial
 * for a relayed address while a limited connection to that peer is open returns that connection
 * (tests/circuit-relay/client_transport_test.ts covers the relayed case end to end).
 */

import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import { createServer, type Server, type Socket } from "node:net";
import { multiaddr } from "../../src/multiaddr/mod.ts";
import type { Libp2pNode } from "../../src/node/node.ts";
import { stopAll, testTcpNode, until } from "../helpers/nodes.ts";

/** A TCP server that accepts and never answers: a dial to it hangs in the handshake. */
async function silentServer(): Promise<{ server: Server; port: number; sockets: Set<Socket> }> {
  const sockets = new Set<Socket>();
  const server = createServer((s) => {
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
    s.on("error", () => {});
    s.resume(); // read (and drop) what arrives, so the peer's close is seen
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as { port: number }).port;
  return { server, port, sockets };
}

describe("node: sharing of concurrent dials", () => {
  const nodes: Libp2pNode[] = [];
  const servers: Server[] = [];
  after(async () => {
    await stopAll(...nodes);
    for (const s of servers) s.close();
  });

  it("a dial to another address is not held up by an abandoned attempt to the same peer", async () => {
    const target = await testTcpNode();
    // A long upgrade deadline: joining the silent attempt would fail this dial only much later.
    const dialer = await testTcpNode({ listen: [], upgradeTimeoutMs: 60_000 });
    nodes.push(target, dialer);
    const silent = await silentServer();
    servers.push(silent.server);
    const peer = target.peerId.toString();
    const gaveUp = new AbortController();
    const stuck = dialer.dial(multiaddr(`/ip4/127.0.0.1/tcp/${silent.port}/p2p/${peer}`), {
      signal: gaveUp.signal,
    });
    await until(() => silent.sockets.size === 1);
    gaveUp.abort(new Error("the caller gave up"));
    await assert.rejects(stuck, /gave up/);
    // The abandoned attempt is aborted: its socket closes.
    await until(() => silent.sockets.size === 0);
    const conn = await dialer.dial(target.addrs()[0]);
    assert.ok(conn.remotePeer.equals(target.peerId));
    assert.equal(conn.remoteAddr.toString(), target.addrs()[0].decapsulateCode(421).toString());
  });

  it("an attempt stays while one of its callers still waits", async () => {
    const target = await testTcpNode();
    const dialer = await testTcpNode({ listen: [] });
    nodes.push(target, dialer);
    const first = new AbortController();
    const a = dialer.dial(target.addrs()[0], { signal: first.signal });
    const b = dialer.dial(target.addrs()[0]);
    first.abort(new Error("first caller left"));
    await assert.rejects(a, /first caller left/);
    const conn = await b;
    assert.ok(conn.remotePeer.equals(target.peerId));
    assert.equal(dialer.getConnections(target.peerId).length, 1);
  });
});
