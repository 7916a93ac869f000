/**
 * perf over the memory transport with Noise + Yamux: exact byte counts both ways, the
 * server's download cap, lying servers, and the handler against misbehaving clients.
 */

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import type { Stream } from "../../src/connection.ts";
import { ProtocolError, ProtocolNegotiationError } from "../../src/errors.ts";
import { perf, PERF_PROTOCOL_ID, type PerfService } from "../../protocols/perf/mod.ts";
import { decodePerfHeader, encodePerfHeader } from "../../protocols/perf/codec.ts";
import { outcome, stopAll, testNode, until } from "../helpers/nodes.ts";

type WithPerf = { perf: PerfService };
const MiB = 1024 * 1024;

async function write(stream: Stream, ...chunks: Uint8Array[]): Promise<void> {
  const writer = stream.writable.getWriter();
  for (const c of chunks) await writer.write(c);
  writer.releaseLock();
}

describe("perf codec", () => {
  it("encodes the download size as a big-endian u64", () => {
    assert.deepEqual(encodePerfHeader(258), new Uint8Array([0, 0, 0, 0, 0, 0, 1, 2]));
    assert.deepEqual(encodePerfHeader(2n ** 64n - 1n), new Uint8Array(8).fill(0xff));
    assert.equal(decodePerfHeader(new Uint8Array(8).fill(0xff)), 2n ** 64n - 1n);
    assert.equal(decodePerfHeader(encodePerfHeader(8 * MiB)), BigInt(8 * MiB));
    assert.equal(decodePerfHeader(new Uint8Array(7)), undefined);
    assert.equal(decodePerfHeader(new Uint8Array([9, 0, 0, 0, 0, 0, 0, 0, 5]), 1), 5n);
    assert.throws(() => encodePerfHeader(-1), RangeError);
    assert.throws(() => encodePerfHeader(2n ** 64n), RangeError);
    assert.throws(() => encodePerfHeader(2 ** 60), RangeError);
  });
});

describe("perf over memory (noise+yamux)", () => {
  it("moves exact byte counts both ways (8 MiB each, and edge sizes)", async () => {
    const a = await testNode<WithPerf>({ listen: [], services: { perf: perf() } });
    const b = await testNode<WithPerf>({ services: { perf: perf() } });
    try {
      const r = await a.services.perf.measure(b.addrs()[0], { upload: 8 * MiB, download: 8 * MiB });
      assert.equal(r.uploadBytes, 8 * MiB);
      assert.equal(r.downloadBytes, 8 * MiB);
      for (const v of [r.uploadMs, r.downloadMs, r.totalMs]) {
        assert.ok(Number.isFinite(v) && v >= 0);
      }
      assert.ok(Math.abs(r.uploadMs + r.downloadMs - r.totalMs) < 1e-6);
      for (
        const [upload, download] of [[0, 0], [1, 0], [0, 1], [65_537, 3], [3, 200_001]] as const
      ) {
        const x = await a.services.perf.measure(b.peerId, { upload, download });
        assert.equal(x.uploadBytes, upload);
        assert.equal(x.downloadBytes, download);
      }
    } finally {
      await stopAll(a, b);
    }
  });

  it("is off unless added to services", async () => {
    const a = await testNode<WithPerf>({ listen: [], services: { perf: perf() } });
    const b = await testNode();
    b.handle("/other/1.0.0", () => {});
    try {
      await assert.rejects(
        a.services.perf.measure(b.addrs()[0], { upload: 1, download: 1 }),
        ProtocolNegotiationError,
      );
    } finally {
      await stopAll(a, b);
    }
  });

  it("the server refuses a download above its cap", async () => {
    const a = await testNode<WithPerf>({ listen: [], services: { perf: perf() } });
    const b = await testNode<WithPerf>({ services: { perf: perf({ maxDownloadBytes: 1000 }) } });
    try {
      await assert.rejects(a.services.perf.measure(b.addrs()[0], { upload: 10, download: 1001 }));
      const ok = await a.services.perf.measure(b.addrs()[0], { upload: 10, download: 1000 });
      assert.equal(ok.downloadBytes, 1000);
    } finally {
      await stopAll(a, b);
    }
  });

  it("rejects a server that sends too few or too many bytes", async () => {
    const a = await testNode<WithPerf>({ listen: [], services: { perf: perf() } });
    for (const delta of [-1, 1]) {
      const liar = await testNode();
      liar.handle(PERF_PROTOCOL_ID, async (stream) => {
        const chunks: Uint8Array[] = [];
        for await (const c of stream.readable) chunks.push(c);
        const want = Number(decodePerfHeader(chunks[0])!);
        const writer = stream.writable.getWriter();
        await writer.write(new Uint8Array(want + delta));
        await writer.close();
      });
      try {
        await assert.rejects(
          a.services.perf.measure(liar.addrs()[0], { upload: 5, download: 100 }),
          ProtocolError,
        );
      } finally {
        await stopAll(liar);
      }
    }
    await stopAll(a);
  });
});

describe("perf handler against misbehaving clients", () => {
  async function setup() {
    const b = await testNode<WithPerf>({ services: { perf: perf({ timeoutMs: 300 }) } });
    const m = await testNode({ listen: [] });
    const conn = await m.dial(b.addrs()[0]);
    await until(() => b.getConnections(m.peerId).length > 0);
    const bConn = () => b.getConnections(m.peerId)[0];
    return { b, m, conn, bConn };
  }

  it("a u64 size above the cap resets the stream before sending anything", async () => {
    const { b, m, conn, bConn } = await setup();
    try {
      const stream = await conn.newStream(PERF_PROTOCOL_ID);
      await write(stream, new Uint8Array(8).fill(0xff));
      await stream.close();
      const got = await outcome(stream.readable);
      assert.equal(got.kind, "error");
      await until(() => bConn().streams.length === 0);
    } finally {
      await stopAll(m, b);
    }
  });

  it("0 bytes then close: reset (no size), freed", async () => {
    const { b, m, conn, bConn } = await setup();
    try {
      const stream = await conn.newStream(PERF_PROTOCOL_ID);
      await stream.close();
      const got = await outcome(stream.readable);
      assert.equal(got.kind, "error");
      await until(() => bConn().streams.length === 0);
    } finally {
      await stopAll(m, b);
    }
  });

  it("1 byte then reset: freed", async () => {
    const { b, m, conn, bConn } = await setup();
    try {
      const stream = await conn.newStream(PERF_PROTOCOL_ID);
      await write(stream, new Uint8Array([0]));
      stream.reset();
      await until(() => bConn().streams.length === 0);
    } finally {
      await stopAll(m, b);
    }
  });

  it("a size then silence: reset at the inactivity deadline", async () => {
    const { b, m, conn, bConn } = await setup();
    try {
      const stream = await conn.newStream(PERF_PROTOCOL_ID);
      await write(stream, encodePerfHeader(10));
      const got = await outcome(stream.readable);
      assert.equal(got.kind, "error");
      await until(() => bConn().streams.length === 0);
    } finally {
      await stopAll(m, b);
    }
  });

  it("a client that stops reading the download: reset at the inactivity deadline", async () => {
    const { b, m, conn, bConn } = await setup();
    try {
      const stream = await conn.newStream(PERF_PROTOCOL_ID);
      await write(stream, encodePerfHeader(64 * MiB));
      await stream.close();
      // Never read: the server fills the window, stalls, and gives up.
      await until(() => bConn().streams.length === 1);
      await until(() => bConn().streams.length === 0);
      const got = await outcome(stream.readable);
      assert.equal(got.kind, "error");
    } finally {
      await stopAll(m, b);
    }
  });
});
