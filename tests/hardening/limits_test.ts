/**
 * Node-level limits with the real stack (memory transport, Noise, yamux): max connections and
 * watermark pruning that keeps protected peers, gater hooks at each stage, stream limits per
 * connection / peer / protocol (reset), and the per-stream inactivity deadline.
 */

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { createNode, type Libp2pNode, type NodeInit } from "../../src/node/node.ts";
import type { Connection, Stream } from "../../src/connection.ts";
import { ConnectionDeniedError, type GaterStage } from "../../src/node/gater.ts";
import { LimitExceededError, StreamResetError, TimeoutError } from "../../src/errors.ts";
import { memory } from "../../transports/memory/mod.ts";
import { noise } from "../../protocols/noise/mod.ts";
import { yamux } from "../../protocols/yamux/mod.ts";
import { outcome, stopAll, until } from "../helpers/nodes.ts";
import { detectUnhandled } from "./helpers.ts";

const ECHO = "/test/echo/1.0.0";

function node(extra: Partial<NodeInit> = {}): Promise<Libp2pNode> {
  return createNode({
    transports: [memory()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    ...extra,
  });
}

function causes(err: unknown): unknown[] {
  const e = err as { errors?: unknown[]; cause?: unknown };
  return [err, e.cause, ...(e.errors ?? []), ...(e.errors ?? []).map((x) => (x as Error).cause)];
}

describe("hardening: max connections and pruning", () => {
  it("refuses inbound beyond maxConnections", async () => {
    const server = await node({
      listen: ["/memory/0"],
      connectionManager: { maxConnections: 2, pruneGraceMs: 0 },
    });
    const clients = await Promise.all([node(), node(), node()]);
    try {
      await clients[0].dial(server.addrs()[0]);
      await clients[1].dial(server.addrs()[0]);
      await until(() => server.stats().connections === 2);
      await assert.rejects(clients[2].dial(server.addrs()[0]));
      assert.equal(server.stats().manager.connections, 2);
    } finally {
      await stopAll(server, ...clients);
    }
  });

  it("prunes to the low watermark above the high one, keeping protected and valued peers", async () => {
    const server = await node({
      listen: ["/memory/0"],
      connectionManager: { highWatermark: 4, lowWatermark: 2, pruneGraceMs: 0 },
    });
    const clients = await Promise.all(Array.from({ length: 5 }, () => node()));
    try {
      server.protect(clients[0].peerId, "keep");
      server.tagPeer(clients[1].peerId, "valuable", 100);
      for (const c of clients.slice(0, 4)) await c.dial(server.addrs()[0]);
      await until(() => server.stats().connections === 4);
      // The fifth passes the high watermark: prune 5 - 2 = 3, never the protected peer.
      await clients[4].dial(server.addrs()[0]);
      await until(() => server.stats().connections === 2);
      const kept = server.getConnections().map((c) => c.remotePeer.toString()).sort();
      assert.deepEqual(kept, [clients[0].peerId.toString(), clients[1].peerId.toString()].sort());
      assert.equal(server.unprotect(clients[0].peerId, "keep"), false);
    } finally {
      await stopAll(server, ...clients);
    }
  });

  it("refuses outbound dials beyond maxOutbound", async () => {
    const a = await node({ connectionManager: { maxOutbound: 1 } });
    const [b, c] = await Promise.all([
      node({ listen: ["/memory/0"] }),
      node({ listen: ["/memory/0"] }),
    ]);
    try {
      await a.dial(b.addrs()[0]);
      await assert.rejects(a.dial(c.addrs()[0]), LimitExceededError);
    } finally {
      await stopAll(a, b, c);
    }
  });
});

describe("hardening: connection gater", () => {
  const inboundStages: GaterStage[] = ["denyInboundSocket", "denyInboundEncrypted", "denyUpgraded"];
  for (const stage of inboundStages) {
    it(`${stage} on the listener refuses the connection; counters back to zero`, async () => {
      const seen: string[] = [];
      const gater = {
        denyInboundSocket: () => (seen.push("socket"), stage === "denyInboundSocket"),
        denyInboundEncrypted: () => (seen.push("encrypted"), stage === "denyInboundEncrypted"),
        denyUpgraded: async (c: Connection) => {
          seen.push(`upgraded ${c.direction}`);
          await Promise.resolve();
          return stage === "denyUpgraded";
        },
      };
      const server = await node({ listen: ["/memory/0"], connectionGater: gater });
      const client = await node();
      try {
        const dialed = client.dial(server.addrs()[0]).then(
          (conn) => conn.closed,
          () => undefined,
        );
        await dialed;
        await until(() => client.getConnections().length === 0);
        await until(() => server.stats().pendingUpgrades === 0);
        const order = ["socket", "encrypted", "upgraded inbound"];
        assert.deepEqual(seen, order.slice(0, inboundStages.indexOf(stage) + 1));
        assert.equal(server.getConnections().length, 0);
        const s = server.stats();
        assert.equal(s.manager.pendingInbound + s.manager.connections + s.resources.connections, 0);
      } finally {
        await stopAll(server, client);
      }
    });
  }

  const outboundStages: GaterStage[] = ["denyDial", "denyOutboundEncrypted", "denyUpgraded"];
  for (const stage of outboundStages) {
    it(`${stage} on the dialer fails the dial with ConnectionDeniedError`, async () => {
      const client = await node({
        connectionGater: {
          denyDial: () => stage === "denyDial",
          denyOutboundEncrypted: () => stage === "denyOutboundEncrypted",
          denyUpgraded: () => {
            if (stage === "denyUpgraded") throw new Error("a failing hook denies");
            return false;
          },
        },
      });
      const server = await node({ listen: ["/memory/0"] });
      try {
        const err = await client.dial(server.addrs()[0]).then(() => undefined, (e) => e);
        const denied = causes(err).find((e) => e instanceof ConnectionDeniedError);
        assert.ok(denied instanceof ConnectionDeniedError, `got ${err}`);
        assert.equal(denied.stage, stage);
        assert.equal(client.getConnections().length, 0);
        assert.equal(client.stats().manager.outbound, 0);
      } finally {
        await stopAll(server, client);
      }
    });
  }
});

async function tryEcho(conn: Connection, protocol = ECHO): Promise<string> {
  let stream: Stream;
  try {
    stream = await conn.newStream(protocol);
  } catch (err) {
    return (err as Error).name;
  }
  const w = stream.writable.getWriter();
  await w.write(new Uint8Array([1])).catch(() => {});
  w.releaseLock();
  const r = stream.readable.getReader();
  try {
    const { value } = await r.read();
    return value?.[0] === 1 ? "echo" : "eof";
  } catch (err) {
    return (err as Error).name;
  } finally {
    r.releaseLock();
  }
}

describe("hardening: stream limits", () => {
  const cases: [string, NodeInit["resources"]][] = [
    ["maxStreamsPerConnection", { maxStreamsPerConnection: 3 }],
    ["maxStreamsPerPeer", { maxStreamsPerPeer: 3 }],
    ["maxStreams", { maxStreams: 3 }],
    ["maxStreamsPerProtocol", { maxStreamsPerProtocol: 3 }],
    ["maxStreamsPerProtocolPerPeer", { maxStreamsPerProtocolPerPeer: 3 }],
    ["protocol override", { protocols: { [ECHO]: { maxStreamsPerPeer: 3 } } }],
  ];
  for (const [name, resources] of cases) {
    it(`inbound streams beyond ${name} are reset; slots come back`, async () => {
      const unhandled = detectUnhandled();
      const server = await node({ listen: ["/memory/0"], resources });
      server.handle(ECHO, (s) => s.readable.pipeTo(s.writable), { maxInboundStreams: 100 });
      const client = await node();
      try {
        const conn = await client.dial(server.addrs()[0]);
        const results = [];
        for (let i = 0; i < 4; i++) results.push(await tryEcho(conn));
        assert.deepEqual(results, ["echo", "echo", "echo", "StreamResetError"]);
        assert.equal(server.stats().resources.streams, 3);
        for (const s of conn.streams) s.reset();
        await until(() => server.stats().resources.streams === 0);
        assert.equal(await tryEcho(conn), "echo", "a freed slot is usable again");
        for (const s of conn.streams) s.reset();
        assert.deepEqual(unhandled.errors, []);
      } finally {
        unhandled.stop();
        await stopAll(server, client);
      }
    });
  }

  it("outbound newStream beyond a limit rejects with LimitExceededError before sending", async () => {
    const server = await node({ listen: ["/memory/0"] });
    server.handle(ECHO, (s) => s.readable.pipeTo(s.writable));
    const client = await node({ resources: { maxStreamsPerConnection: 2 } });
    try {
      const conn = await client.dial(server.addrs()[0]);
      assert.deepEqual([await tryEcho(conn), await tryEcho(conn)], ["echo", "echo"]);
      await assert.rejects(conn.newStream(ECHO), (e: Error) => {
        return e instanceof LimitExceededError && e.limit === "maxStreamsPerConnection";
      });
      for (const s of conn.streams) await s.close();
      await until(() => client.stats().resources.streams === 0);
      assert.equal(await tryEcho(conn), "echo");
      for (const s of conn.streams) s.reset();
    } finally {
      await stopAll(server, client);
    }
  });
});

describe("hardening: stream inactivity deadline", () => {
  it("resets a stream with no reads or writes, on both handler and dialer side", async () => {
    const server = await node({ listen: ["/memory/0"], streamIdleTimeoutMs: 200 });
    const handlerOutcome = Promise.withResolvers<unknown>();
    server.handle("/test/silent/1.0.0", async (s) => {
      handlerOutcome.resolve(await outcome(s.readable));
    });
    const client = await node({ streamIdleTimeoutMs: 0 });
    try {
      const conn = await client.dial(server.addrs()[0]);
      const stream = await conn.newStream("/test/silent/1.0.0");
      await stream.writable.getWriter().write(new Uint8Array([1]));
      const res = await handlerOutcome.promise as { kind: string; error: unknown };
      assert.equal(res.kind, "error");
      assert.ok(res.error instanceof TimeoutError, String(res.error));
      const mine = await outcome(stream.readable);
      assert.equal(mine.kind, "error");
      assert.ok((mine as { error: unknown }).error instanceof StreamResetError);
      await until(() =>
        server.stats().guardedStreams === 0 && server.stats().resources.streams === 0
      );
    } finally {
      await stopAll(server, client);
    }
  });

  it("a handler's idleTimeoutMs: 0 keeps an idle stream open", async () => {
    const server = await node({ listen: ["/memory/0"], streamIdleTimeoutMs: 100 });
    let held: Stream | undefined;
    server.handle("/test/long/1.0.0", (s) => {
      held = s;
    }, { idleTimeoutMs: 0 });
    const client = await node();
    try {
      const conn = await client.dial(server.addrs()[0]);
      const stream = await conn.newStream("/test/long/1.0.0", { idleTimeoutMs: 0 });
      await stream.writable.getWriter().write(new Uint8Array([1]));
      await until(() => held !== undefined);
      await new Promise((r) => setTimeout(r, 300));
      assert.equal(held!.status, "open");
      assert.equal(server.stats().guardedStreams, 0);
      stream.reset();
    } finally {
      await stopAll(server, client);
    }
  });
});
