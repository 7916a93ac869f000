/**
 * The node's memory budget bounds what muxers promise to buffer: each yamux receive window is
 * reserved from the connection's resource scope (connection, peer and node limits), so a
 * remote that opens streams beyond the budget gets them reset, and the memory comes back when
 * streams end and when the connection closes (HARDENING.md rule 4).
 */

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { LimitExceededError } from "../../src/errors.ts";
import { testNode, until } from "../helpers/nodes.ts";

const KiB = 1024;
const WINDOW = 256 * KiB;

describe("node memory budget for muxer windows", () => {
  it("resets streams past maxMemoryPerConnection and returns the memory afterwards", async () => {
    const b = await testNode({ resources: { maxMemoryPerConnection: 4 * WINDOW } });
    b.handle("/hold/1.0.0", (s) => s.readable.pipeTo(s.writable), { maxInboundStreams: 64 });
    const a = await testNode({ listen: [] });
    try {
      const conn = await a.dial(b.addrs()[0]);
      const outcomes = await Promise.all(Array.from({ length: 6 }, async (_, i) => {
        const s = await conn.newStream("/hold/1.0.0");
        const w = s.writable.getWriter();
        await w.write(new Uint8Array([i])).catch(() => {});
        const r = s.readable.getReader();
        try {
          const { value } = await r.read();
          return value?.[0] === i ? "echo" : "wrong";
        } catch (err) {
          return (err as Error).name;
        } finally {
          r.releaseLock();
          w.releaseLock();
        }
      }));
      // b's connection scope holds at most 4 windows: 4 streams work, the others are reset.
      assert.equal(outcomes.filter((o) => o === "echo").length, 4, outcomes.join(","));
      assert.equal(outcomes.filter((o) => o === "StreamResetError").length, 2, outcomes.join(","));
      assert.equal(b.stats().resources.memory, 4 * WINDOW);
      for (const s of conn.streams) s.reset();
      await until(() => b.stats().resources.memory === 0);
    } finally {
      await a.stop();
      await b.stop();
    }
    assert.equal(b.stats().resources.memory, 0);
  });

  it("refuses our own stream with LimitExceededError when our budget is spent", async () => {
    const b = await testNode();
    b.handle("/hold/1.0.0", (s) => s.readable.pipeTo(s.writable), { maxInboundStreams: 64 });
    const a = await testNode({ listen: [], resources: { maxMemoryPerConnection: 2 * WINDOW } });
    try {
      const conn = await a.dial(b.addrs()[0]);
      const held = [await conn.newStream("/hold/1.0.0"), await conn.newStream("/hold/1.0.0")];
      await assert.rejects(conn.newStream("/hold/1.0.0"), LimitExceededError);
      for (const s of held) s.reset();
    } finally {
      await a.stop();
      await b.stop();
    }
    assert.equal(a.stats().resources.memory, 0);
  });
});
