/**
 * WebTransportMuxer streams keep `lastActivity` and `closed` (the MuxedStream contract the
 * connection's inactivity deadline relies on), over an in-memory fake of the native session.
 */

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import {
  type NativeBidiStream,
  type NativeSession,
  WebTransportMuxer,
} from "../../transports/webtransport/session.ts";
import type { MuxedStream } from "../../src/muxer.ts";
import { duplexPair } from "../../src/stream/mod.ts";

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Two connected fake sessions: a bidi stream opened on one is accepted on the other. */
function sessions(): [NativeSession, NativeSession] {
  const ended = Promise.withResolvers<void>();
  const queues: NativeBidiStream[][] = [[], []];
  const waiters: ((s: NativeBidiStream | undefined) => void)[][] = [[], []];
  let done = false;
  const make = (me: number): NativeSession => ({
    openBidi() {
      const [a, b] = duplexPair();
      const other = 1 - me;
      const w = waiters[other].shift();
      if (w !== undefined) w(b);
      else queues[other].push(b);
      return Promise.resolve(a);
    },
    acceptBidi() {
      if (done) return Promise.resolve(undefined);
      const s = queues[me].shift();
      if (s !== undefined) return Promise.resolve(s);
      return new Promise((r) => waiters[me].push(r));
    },
    close() {
      done = true;
      for (const ws of waiters) for (const w of ws.splice(0)) w(undefined);
      ended.resolve();
    },
    closed: ended.promise,
  });
  return [make(0), make(1)];
}

describe("webtransport: lastActivity and closed", () => {
  it("moves on write and on read; closed resolves when both sides closed", async () => {
    const [sa, sb] = sessions();
    const inbound = Promise.withResolvers<MuxedStream>();
    const client = new WebTransportMuxer(sa, { direction: "outbound" });
    const server = new WebTransportMuxer(sb, {
      direction: "inbound",
      onIncomingStream: (s) => inbound.resolve(s),
    });
    try {
      const s = await client.newStream();
      const t0 = s.lastActivity;
      await sleep(3);
      const w = s.writable.getWriter();
      await w.write(new Uint8Array([1, 2]));
      assert.ok(s.lastActivity > t0, "write");
      const r = await inbound.promise;
      const t1 = r.lastActivity;
      await sleep(3);
      const reader = r.readable.getReader();
      assert.deepEqual((await reader.read()).value, new Uint8Array([1, 2]));
      assert.ok(r.lastActivity > t1, "read");
      await w.close();
      assert.equal((await reader.read()).done, true);
      await r.close();
      await s.readable.getReader().read();
      await Promise.all([s.closed, r.closed]);
      assert.equal(s.status, "closed");
      assert.equal(r.status, "closed");
    } finally {
      client.abort();
      server.abort();
    }
  });

  it("closed resolves on reset", async () => {
    const [sa, sb] = sessions();
    const client = new WebTransportMuxer(sa, { direction: "outbound" });
    const server = new WebTransportMuxer(sb, { direction: "inbound", onIncomingStream: () => {} });
    try {
      const s = await client.newStream();
      s.reset();
      await s.closed;
      assert.equal(s.status, "reset");
    } finally {
      client.abort();
      server.abort();
    }
  });
});
