/**
 * ping over the memory transport with Noise + Yamux: round trips, echo verification, the
 * handler against misbehaving dialers, and the per-connection stream cap.
 */

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import type { Stream } from "../../src/connection.ts";
import { ProtocolNegotiationError } from "../../src/errors.ts";
import { randomBytes } from "../../src/bytes.ts";
import type { Libp2pNode } from "../../src/node/node.ts";
import {
  ping,
  PING_PROTOCOL_ID,
  PingMismatchError,
  type PingService,
} from "../../protocols/ping/mod.ts";
import { outcome, stopAll, testNode, until } from "../helpers/nodes.ts";

type WithPing = { ping: PingService };

async function write(stream: Stream, ...chunks: Uint8Array[]): Promise<void> {
  const writer = stream.writable.getWriter();
  for (const c of chunks) await writer.write(c);
  writer.releaseLock();
}

async function pingPair(
  timeoutMs = 5000,
): Promise<{ a: Libp2pNode<WithPing>; b: Libp2pNode<WithPing> }> {
  const a = await testNode<WithPing>({ listen: [], services: { ping: ping() } });
  const b = await testNode<WithPing>({ services: { ping: ping({ timeoutMs }) } });
  return { a, b };
}

describe("ping over memory (noise+yamux)", () => {
  it("measures a finite, non-negative round trip, by address and on a connection", async () => {
    const { a, b } = await pingPair();
    try {
      const rtt = await a.services.ping.ping(b.addrs()[0]);
      assert.ok(Number.isFinite(rtt) && rtt >= 0, `rtt ${rtt}`);
      const conn = a.getConnections(b.peerId)[0];
      for (let i = 0; i < 5; i++) {
        const again = await a.services.ping.ping(conn);
        assert.ok(Number.isFinite(again) && again >= 0);
      }
      assert.equal(a.getConnections(b.peerId).length, 1, "the connection is reused");
      await until(() => conn.streams.length === 0);
      // b pings back over the same connection.
      const back = await b.services.ping.ping(a.peerId);
      assert.ok(Number.isFinite(back) && back >= 0);
    } finally {
      await stopAll(a, b);
    }
  });

  it("rejects an echo that differs from what was sent", async () => {
    const a = await testNode<WithPing>({ listen: [], services: { ping: ping() } });
    const liar = await testNode();
    liar.handle(PING_PROTOCOL_ID, async (stream) => {
      const writer = stream.writable.getWriter();
      for await (const chunk of stream.readable) {
        await writer.write(chunk.map((x) => x ^ 0xff));
      }
      await writer.close();
    });
    try {
      await assert.rejects(a.services.ping.ping(liar.addrs()[0]), PingMismatchError);
    } finally {
      await stopAll(a, liar);
    }
  });

  it("rejects a short echo followed by EOF", async () => {
    const a = await testNode<WithPing>({ listen: [], services: { ping: ping() } });
    const short = await testNode();
    short.handle(PING_PROTOCOL_ID, async (stream) => {
      const writer = stream.writable.getWriter();
      await writer.write(new Uint8Array(5));
      await writer.close();
    });
    try {
      await assert.rejects(a.services.ping.ping(short.addrs()[0]), (e: Error) => {
        return e.name === "UnexpectedEOFError";
      });
    } finally {
      await stopAll(a, short);
    }
  });

  it("fails against a peer without ping, and honours an aborted signal", async () => {
    const a = await testNode<WithPing>({ listen: [], services: { ping: ping() } });
    const b = await testNode();
    b.handle("/other/1.0.0", () => {});
    try {
      await assert.rejects(a.services.ping.ping(b.addrs()[0]), ProtocolNegotiationError);
      const c = new AbortController();
      c.abort();
      await assert.rejects(a.services.ping.ping(b.addrs()[0], { signal: c.signal }));
    } finally {
      await stopAll(a, b);
    }
  });
});

describe("ping handler against misbehaving dialers", () => {
  async function setup() {
    const b = await testNode<WithPing>({ services: { ping: ping({ timeoutMs: 300 }) } });
    const m = await testNode({ listen: [] });
    const conn = await m.dial(b.addrs()[0]);
    await until(() => b.getConnections(m.peerId).length > 0);
    const bConn = () => b.getConnections(m.peerId)[0];
    return { b, m, conn, bConn };
  }

  it("echoes several blocks sent at once, then closes on EOF", async () => {
    const { b, m, conn, bConn } = await setup();
    try {
      const stream = await conn.newStream(PING_PROTOCOL_ID);
      const data = randomBytes(32 * 3);
      await write(stream, data);
      await stream.close();
      const got = await outcome(stream.readable);
      assert.equal(got.kind, "eof");
      if (got.kind === "eof") assert.deepEqual(got.bytes, data);
      await until(() => bConn().streams.length === 0);
    } finally {
      await stopAll(m, b);
    }
  });

  it("0 bytes then close: EOF back, nothing echoed", async () => {
    const { b, m, conn, bConn } = await setup();
    try {
      const stream = await conn.newStream(PING_PROTOCOL_ID);
      await stream.close();
      const got = await outcome(stream.readable);
      assert.equal(got.kind, "eof");
      if (got.kind === "eof") assert.equal(got.bytes.byteLength, 0);
      await until(() => bConn().streams.length === 0);
    } finally {
      await stopAll(m, b);
    }
  });

  it("1 byte then reset: the stream is freed and ping still works", async () => {
    const { b, m, conn, bConn } = await setup();
    try {
      const stream = await conn.newStream(PING_PROTOCOL_ID);
      await write(stream, new Uint8Array([1]));
      stream.reset();
      await until(() => bConn().streams.length === 0);
      const again = await conn.newStream(PING_PROTOCOL_ID);
      const data = randomBytes(32);
      await write(again, data);
      await again.close();
      const got = await outcome(again.readable);
      assert.equal(got.kind, "eof");
      if (got.kind === "eof") assert.deepEqual(got.bytes, data);
    } finally {
      await stopAll(m, b);
    }
  });

  it("part of a block then silence: reset at the inactivity deadline", async () => {
    const { b, m, conn, bConn } = await setup();
    try {
      const stream = await conn.newStream(PING_PROTOCOL_ID);
      await write(stream, new Uint8Array(5));
      const got = await outcome(stream.readable);
      assert.equal(got.kind, "error");
      await until(() => bConn().streams.length === 0);
    } finally {
      await stopAll(m, b);
    }
  });

  it("a third concurrent inbound ping stream is refused (ping.md: at most two)", async () => {
    const { b, m, conn } = await setup();
    try {
      const open = [await conn.newStream(PING_PROTOCOL_ID), await conn.newStream(PING_PROTOCOL_ID)];
      // Make sure both are accepted by the handler before opening the third.
      for (const s of open) {
        await write(s, new Uint8Array(32));
        const r = s.readable.getReader();
        assert.equal((await r.read()).value?.byteLength, 32);
        r.releaseLock();
      }
      const third = await conn.newStream(PING_PROTOCOL_ID);
      await write(third, new Uint8Array(32));
      const got = await outcome(third.readable);
      assert.equal(got.kind, "error");
      for (const s of open) s.reset();
    } finally {
      await stopAll(m, b);
    }
  });
});
