/**
 * Stream.readInto on a node: through a lazy multistream select (dialer) and after handle()
 * (listener), on Yamux (the muxer's own readInto) and on mplex (the copying fallback).
 */

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import type { StreamMuxerFactory } from "../../src/muxer.ts";
import type { Stream } from "../../src/connection.ts";
import { yamux } from "../../protocols/yamux/mod.ts";
import { mplex } from "../../protocols/mplex/mod.ts";
import { stopAll, testNode, until } from "../helpers/nodes.ts";

const PROTOCOL = "/test/read-into/1.0.0";

async function drainInto(stream: Stream, size: number): Promise<number[]> {
  const buf = new Uint8Array(size);
  const got: number[] = [];
  for (let n = await stream.readInto(buf); n !== null; n = await stream.readInto(buf)) {
    got.push(...buf.subarray(0, n));
  }
  return got;
}

for (
  const [name, factory] of [["yamux", () => yamux()], ["mplex", () => mplex()]] as [
    string,
    () => StreamMuxerFactory,
  ][]
) {
  describe(`Stream.readInto over ${name}`, () => {
    it("reads every byte on both sides, and locks readable", async () => {
      const server = await testNode({ streamMuxers: [factory()] });
      const client = await testNode({ streamMuxers: [factory()], listen: [] });
      try {
        const payload = Array.from({ length: 5000 }, (_, i) => (i * 13) & 0xff);
        let served: number[] | undefined;
        server.handle(PROTOCOL, async (s) => {
          served = await drainInto(s, 333);
          const w = s.writable.getWriter();
          await w.write(new Uint8Array(served));
          await w.close();
        });
        const conn = await client.dial(server.addrs()[0]);
        const s = await conn.newStream(PROTOCOL); // lazy select: checked by the first read
        const w = s.writable.getWriter();
        await w.write(new Uint8Array(payload));
        await w.close();
        const back = await drainInto(s, 1000);
        assert.deepEqual(served, payload);
        assert.deepEqual(back, payload);
        assert.ok(s.readable.locked, "readable stays locked after readInto");
        assert.throws(() => s.readable.getReader(), TypeError);
      } finally {
        await stopAll(client, server);
      }
    });

    it("closeRead after readInto ends the read side at the muxer", async () => {
      const server = await testNode({ streamMuxers: [factory()] });
      const client = await testNode({ streamMuxers: [factory()], listen: [] });
      try {
        let remote: Stream | undefined;
        server.handle(PROTOCOL, (s) => {
          remote = s;
        });
        const conn = await client.dial(server.addrs()[0]);
        const s = await conn.newStream(PROTOCOL);
        const w = s.writable.getWriter();
        await w.write(new Uint8Array([1]));
        await until(() => remote !== undefined);
        const rw = remote!.writable.getWriter();
        await rw.write(new Uint8Array([7, 8]));
        const buf = new Uint8Array(8);
        assert.equal(await s.readInto(buf), 2);
        s.closeRead();
        assert.notEqual(s.status, "open");
        await w.close();
        await rw.close();
      } finally {
        await stopAll(client, server);
      }
    });
  });
}
