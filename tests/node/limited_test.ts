/**
 * Connections made from streams, and limited connections (issue 16 section 5): a RawConnection
 * built from a Stream of an existing connection is upgraded by the node's upgrader (Noise +
 * yamux inside the stream) into a second Connection that runs protocols; a relayed connection
 * carries limits, protocols run on it only when they opt in (runOnLimitedConnection on the
 * handler and on newStream), and the core closes it when its duration runs out.
 */

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import type { Connection } from "../../src/connection.ts";
import { ProtocolNegotiationError } from "../../src/errors.ts";
import { multiaddr } from "../../src/multiaddr/mod.ts";
import { LimitedConnectionError } from "../../src/node/limits.ts";
import type { Libp2pNode } from "../../src/node/node.ts";
import { memory } from "../../transports/memory/mod.ts";
import { readAll, stopAll, testNode, until } from "../helpers/nodes.ts";
import { tunnel, TUNNEL_PROTOCOL, tunnelAddr, type TunnelTransport } from "./tunnel.ts";
import type { ConnectionLimits } from "../../src/node/limits.ts";

const ECHO = "/test/echo/1.0.0";
const OPEN = "/test/open/1.0.0";
const MISSING = "/test/missing/1.0.0";

async function pair(
  limits?: ConnectionLimits,
): Promise<{ a: Libp2pNode; b: Libp2pNode; ta: TunnelTransport; tb: TunnelTransport }> {
  const ta = tunnel(limits);
  const tb = tunnel(limits);
  const listen = ["/memory/0", "/p2p-circuit"];
  const a = await testNode({ transports: [memory(), ta], listen });
  const b = await testNode({ transports: [memory(), tb], listen });
  ta.bind(a);
  tb.bind(b);
  for (const n of [a, b]) {
    n.handle(ECHO, (s) => s.readable.pipeTo(s.writable));
    n.handle(OPEN, (s) => s.readable.pipeTo(s.writable), { runOnLimitedConnection: true });
  }
  return { a, b, ta, tb };
}

async function echo(conn: Connection, protocol: string, text: string): Promise<string> {
  const stream = await conn.newStream(protocol, { runOnLimitedConnection: true });
  const writer = stream.writable.getWriter();
  await writer.write(new TextEncoder().encode(text));
  await writer.close();
  return new TextDecoder().decode(await readAll(stream.readable));
}

describe("connections made from streams", () => {
  it("a Stream becomes a RawConnection that the node upgrades into a second Connection", async () => {
    const { a, b, ta } = await pair();
    try {
      const direct = await a.dial(b.addrs()[0]);
      const tunnelled = await a.dial(tunnelAddr(b));
      assert.notEqual(tunnelled, direct);
      assert.ok(tunnelled.remotePeer.equals(b.peerId));
      assert.equal(tunnelled.encryption, "/noise");
      assert.equal(tunnelled.multiplexer, "/yamux/1.0.0");
      assert.equal(tunnelled.limited, false);
      assert.equal(a.getConnections(b.peerId).length, 2);
      // The tunnel is a stream of the direct connection; the raw connection came from it.
      assert.ok(direct.streams.some((s) => s.protocol === TUNNEL_PROTOCOL));
      assert.equal(ta.made.length, 1);
      await until(() => b.getConnections(a.peerId).length === 2);
      const inbound = b.getConnections(a.peerId).find((c) =>
        c.direction === "inbound" &&
        c.remoteAddr.toString().endsWith("/p2p-circuit")
      );
      assert.ok(inbound !== undefined, "b sees the tunnelled connection as inbound");

      // A protocol runs over the connection inside the stream, both ways.
      assert.equal(await echo(tunnelled, ECHO, "through the tunnel"), "through the tunnel");
      assert.equal(await echo(inbound, ECHO, "and back"), "and back");
      // Closing the inner connection leaves the outer one open.
      await tunnelled.close();
      assert.equal(direct.status, "open");
      assert.equal(await echo(direct, ECHO, "still here"), "still here");
    } finally {
      await stopAll(a, b);
    }
  });
});

describe("limited connections", () => {
  it("are marked limited on both ends and carry their limits", async () => {
    const { a, b } = await pair({ bytes: 4096n, durationMs: 60_000 });
    try {
      await a.dial(b.addrs()[0]);
      const relayed = await a.dial(tunnelAddr(b));
      assert.equal(relayed.limited, true);
      assert.deepEqual(relayed.limits, { bytes: 4096n, durationMs: 60_000 });
      await until(() => b.getConnections(a.peerId).some((c) => c.limited));
      // dial() prefers the unlimited connection when both are open.
      const reused = await a.dial(b.peerId);
      assert.equal(reused.limited, false);
      const limitedOk = await a.dial(b.peerId, { runOnLimitedConnection: true });
      assert.equal(limitedOk.limited, false, "an unlimited one still wins");
    } finally {
      await stopAll(a, b);
    }
  });

  it("run only protocols that opt in, on both the handler and the newStream side", async () => {
    const { a, b } = await pair({ durationMs: 60_000 });
    try {
      await a.dial(b.addrs()[0]);
      const relayed = await a.dial(tunnelAddr(b));
      // newStream without opting in: a typed error before anything is sent.
      await assert.rejects(relayed.newStream(OPEN), LimitedConnectionError);
      // The handler did not opt in: the protocol is not offered ("na"). (Two ids, so the
      // select waits for the answer instead of being optimistic.)
      await assert.rejects(
        relayed.newStream([ECHO, MISSING], { runOnLimitedConnection: true }),
        ProtocolNegotiationError,
      );
      // Optimistically selected: the refusal ends the stream.
      const optimistic = await relayed.newStream(ECHO, { runOnLimitedConnection: true });
      await assert.rejects(readAll(optimistic.readable));
      // Both opted in: it runs.
      assert.equal(await echo(relayed, OPEN, "allowed"), "allowed");
      // The same rules hold from the other end.
      await until(() => b.getConnections(a.peerId).some((c) => c.limited));
      const back = b.getConnections(a.peerId).find((c) => c.limited)!;
      await assert.rejects(back.newStream(ECHO), LimitedConnectionError);
      await assert.rejects(
        back.newStream([ECHO, MISSING], { runOnLimitedConnection: true }),
        ProtocolNegotiationError,
      );
      assert.equal(await echo(back, OPEN, "allowed back"), "allowed back");
    } finally {
      await stopAll(a, b);
    }
  });

  it("are closed by the core when their duration runs out", async () => {
    const { a, b } = await pair({ durationMs: 200 });
    try {
      const direct = await a.dial(b.addrs()[0]);
      const relayed = await a.dial(tunnelAddr(b));
      assert.equal(relayed.status, "open");
      await until(() => relayed.status === "closed");
      await until(() => b.getConnections(a.peerId).every((c) => !c.limited));
      assert.equal(direct.status, "open", "the connection the tunnel ran over stays");
      assert.deepEqual(a.getConnections(b.peerId), [direct]);
    } finally {
      await stopAll(a, b);
    }
  });

  it("through a relay: a limited-only peer needs runOnLimitedConnection in dialProtocol", async () => {
    const limits = { durationMs: 60_000 };
    const listen = ["/memory/0", "/p2p-circuit"];
    const [ta, tr, tb] = [tunnel(limits), tunnel(limits), tunnel(limits)];
    const a = await testNode({ transports: [memory(), ta], listen });
    const r = await testNode({ transports: [memory(), tr], listen });
    const b = await testNode({ transports: [memory(), tb], listen });
    ta.bind(a);
    tr.bind(r);
    tb.bind(b);
    b.handle(ECHO, (s) => s.readable.pipeTo(s.writable));
    b.handle(OPEN, (s) => s.readable.pipeTo(s.writable), { runOnLimitedConnection: true });
    try {
      await a.dial(r.addrs()[0]);
      await b.dial(r.addrs()[0]);
      await until(() => r.getConnections(b.peerId).length > 0);
      const relayed = await a.dial(`/p2p/${r.peerId}/p2p-circuit/p2p/${b.peerId}`);
      assert.ok(relayed.remotePeer.equals(b.peerId));
      assert.equal(relayed.limited, true);
      assert.deepEqual(a.getConnections(b.peerId), [relayed]);
      // No unlimited connection can be had (only a relayed address is known): a typed error,
      // and no second relayed connection is dialled for it.
      const circuit = multiaddr(`/p2p/${r.peerId}/p2p-circuit`);
      await a.peerStore.merge(b.peerId, { addresses: [circuit], addressSource: "discovered" });
      await assert.rejects(a.dialProtocol(b.peerId, OPEN), LimitedConnectionError);
      assert.deepEqual(a.getConnections(b.peerId), [relayed]);
      const stream = await a.dialProtocol(b.peerId, OPEN, { runOnLimitedConnection: true });
      assert.equal(stream.connection, relayed);
      const writer = stream.writable.getWriter();
      await writer.write(new TextEncoder().encode("relayed"));
      await writer.close();
      assert.equal(new TextDecoder().decode(await readAll(stream.readable)), "relayed");
    } finally {
      await stopAll(a, r, b);
    }
  });

  it("dialProtocol takes a preference list and an abort signal", async () => {
    const { a, b } = await pair({ durationMs: 60_000 });
    try {
      await a.dial(b.addrs()[0]);
      const stream = await a.dialProtocol(b.peerId, [MISSING, ECHO]);
      assert.equal(stream.protocol, ECHO);
      assert.equal(stream.connection.limited, false);
      stream.reset();
      await assert.rejects(a.dialProtocol(b.peerId, []), TypeError);
      const aborted = AbortSignal.abort(new Error("gave up"));
      await assert.rejects(a.dialProtocol(b.peerId, ECHO, { signal: aborted }), /gave up/);
    } finally {
      await stopAll(a, b);
    }
  });
});
