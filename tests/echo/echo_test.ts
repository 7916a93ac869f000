/**
 * echo over the memory transport with Noise + Yamux: round trips, 100 concurrent streams, the
 * byte cap, "off unless enabled", and the handler against misbehaving dialers.
 */

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import type { Stream } from "../../src/connection.ts";
import { ProtocolNegotiationError } from "../../src/errors.ts";
import { randomBytes } from "../../src/bytes.ts";
import { echo, ECHO_PROTOCOL_ID, type EchoService } from "../../protocols/echo/mod.ts";
import { outcome, stopAll, testNode, until } from "../helpers/nodes.ts";

type WithEcho = { echo: EchoService };

async function write(stream: Stream, ...chunks: Uint8Array[]): Promise<void> {
  const writer = stream.writable.getWriter();
  for (const c of chunks) await writer.write(c);
  writer.releaseLock();
}

describe("echo over memory (noise+yamux)", () => {
  it("echoes small and large payloads", async () => {
    const a = await testNode<WithEcho>({ listen: [], services: { echo: echo() } });
    const b = await testNode<WithEcho>({ services: { echo: echo() } });
    try {
      for (const size of [0, 1, 1000, 1024 * 1024 + 7]) {
        const data = randomBytes(size);
        assert.deepEqual(await a.services.echo.echo(b.addrs()[0], data), data);
      }
    } finally {
      await stopAll(a, b);
    }
  });

  it("100 concurrent streams on one connection each get their own bytes back", async () => {
    const a = await testNode<WithEcho>({ listen: [], services: { echo: echo() } });
    const b = await testNode<WithEcho>({ services: { echo: echo() } });
    try {
      const conn = await a.dial(b.addrs()[0]);
      const payloads = Array.from({ length: 100 }, (_, i) => randomBytes(10_000 + i));
      const results = await Promise.all(payloads.map((p) => a.services.echo.echo(conn, p)));
      for (let i = 0; i < payloads.length; i++) assert.deepEqual(results[i], payloads[i]);
      await until(() => conn.streams.length === 0);
    } finally {
      await stopAll(a, b);
    }
  });

  it("is off unless added to services", async () => {
    const a = await testNode<WithEcho>({ listen: [], services: { echo: echo() } });
    const b = await testNode();
    b.handle("/other/1.0.0", () => {});
    try {
      assert.ok(!b.getProtocols().includes(ECHO_PROTOCOL_ID));
      await assert.rejects(
        a.services.echo.echo(b.addrs()[0], new Uint8Array(1)),
        ProtocolNegotiationError,
      );
    } finally {
      await stopAll(a, b);
    }
  });

  it("resets a stream that passes the byte cap", async () => {
    const a = await testNode<WithEcho>({ listen: [], services: { echo: echo() } });
    const b = await testNode<WithEcho>({ services: { echo: echo({ maxBytes: 1000 }) } });
    try {
      await assert.rejects(a.services.echo.echo(b.addrs()[0], randomBytes(100_000)));
      assert.equal((await a.services.echo.echo(b.addrs()[0], randomBytes(1000))).byteLength, 1000);
    } finally {
      await stopAll(a, b);
    }
  });
});

describe("echo handler against misbehaving dialers", () => {
  async function setup() {
    const b = await testNode<WithEcho>({ services: { echo: echo({ timeoutMs: 300 }) } });
    const m = await testNode({ listen: [] });
    const conn = await m.dial(b.addrs()[0]);
    await until(() => b.getConnections(m.peerId).length > 0);
    const bConn = () => b.getConnections(m.peerId)[0];
    return { b, m, conn, bConn };
  }

  it("0 bytes then close: EOF back", async () => {
    const { b, m, conn, bConn } = await setup();
    try {
      const stream = await conn.newStream(ECHO_PROTOCOL_ID);
      await stream.close();
      const got = await outcome(stream.readable);
      assert.equal(got.kind, "eof");
      if (got.kind === "eof") assert.equal(got.bytes.byteLength, 0);
      await until(() => bConn().streams.length === 0);
    } finally {
      await stopAll(m, b);
    }
  });

  it("1 byte then reset: the stream is freed", async () => {
    const { b, m, conn, bConn } = await setup();
    try {
      const stream = await conn.newStream(ECHO_PROTOCOL_ID);
      await write(stream, new Uint8Array([7]));
      stream.reset();
      await until(() => bConn().streams.length === 0);
    } finally {
      await stopAll(m, b);
    }
  });

  it("bytes then silence: reset at the inactivity deadline", async () => {
    const { b, m, conn, bConn } = await setup();
    try {
      const stream = await conn.newStream(ECHO_PROTOCOL_ID);
      await write(stream, new Uint8Array([0x05]));
      const got = await outcome(stream.readable);
      assert.equal(got.kind, "error");
      await until(() => bConn().streams.length === 0);
    } finally {
      await stopAll(m, b);
    }
  });
});
