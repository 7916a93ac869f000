/**
 * The TCP connection's `channel` (the core of transports/tcp, the same on Deno and Bun): the
 * contract member the upgrader takes (CONTRACT.md), with half-close, copiesWrites, lent reads.
 */

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import type { ByteChannel } from "../../src/stream/channel.ts";
import { tcp } from "../../transports/tcp/mod.ts";
import { listenQueued, pattern, sameBytes } from "./helpers.ts";

async function readToEnd(channel: ByteChannel, into?: Uint8Array): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  for (let c = await channel.read(into); c !== null; c = await channel.read(into)) {
    parts.push(into === undefined ? c : c.slice());
  }
  const out = new Uint8Array(parts.reduce((n, p) => n + p.byteLength, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.byteLength;
  }
  return out;
}

describe("tcp: the connection's channel", () => {
  it("carries bytes both ways with half-close, on the connection's own channel", async () => {
    const transport = tcp();
    const { listener, accepted } = await listenQueued(transport, "/ip4/127.0.0.1/tcp/0");
    try {
      const client = await transport.dial(listener.getAddrs()[0]);
      const server = await accepted();
      const c = (client as unknown as { channel: ByteChannel }).channel;
      const s = (server as unknown as { channel: ByteChannel }).channel;
      assert.ok(c !== undefined && s !== undefined, "a TCP connection carries `channel`");
      assert.equal(c.copiesWrites, true);
      // The upgrader takes `channel` itself: no adapter layer in between.
      assert.equal(client.channel, c);
      const request = pattern(300_000, 1);
      c.write(request);
      await c.closeWrite(); // FIN; the client keeps reading
      const got = await readToEnd(s, new Uint8Array(16 * 1024)); // lent buffer
      assert.ok(sameBytes(got, request));
      const reply = pattern(200_000, 2);
      s.write(reply);
      await s.closeWrite();
      assert.ok(sameBytes(await readToEnd(c), reply));
      await Promise.all([client.close(), server.close()]);
    } finally {
      await listener.close();
    }
  });

  it("abort on one side fails the other side's read", async () => {
    const transport = tcp();
    const { listener, accepted } = await listenQueued(transport, "/ip4/127.0.0.1/tcp/0");
    try {
      const client = await transport.dial(listener.getAddrs()[0]);
      const server = await accepted();
      const s = server.channel;
      const reading = s.read();
      client.abort(new Error("gone"));
      const end = await reading.then((c) => (c === null ? "eof" : "data"), () => "error");
      assert.ok(end === "eof" || end === "error", end);
      server.abort();
    } finally {
      await listener.close();
    }
  });
});
