/**
 * HARDENING.md "every handler" rows for the node's own inbound dispatch (multistream
 * negotiation, then the handler) and for a handler that never finishes: 0 bytes then close;
 * 1 byte then reset; a length prefix then silence. Each ends within its deadline with the
 * stream's timers and resource slots released, and once both nodes stop no timer at all is
 * left. Raw muxed streams come from a capturing muxer.
 */

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { createNode, type Libp2pNode } from "../../src/node/node.ts";
import { memory } from "../../transports/memory/mod.ts";
import { noise } from "../../protocols/noise/mod.ts";
import { yamux } from "../../protocols/yamux/mod.ts";
import { outcome, stopAll, until } from "../helpers/nodes.ts";
import { trackTimers } from "../multistream/helpers.ts";
import { capturing, detectUnhandled } from "./helpers.ts";

const PROTO = "/test/held/1.0.0";

async function setup(): Promise<{
  server: Libp2pNode;
  client: Libp2pNode;
  newRaw: () => ReturnType<ReturnType<typeof capturing>["sessions"][0]["newStream"]>;
  calls: () => number;
}> {
  let calls = 0;
  const server = await createNode({
    transports: [memory()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    listen: ["/memory/0"],
    negotiationTimeoutMs: 200,
    streamIdleTimeoutMs: 200,
  });
  // A handler that only waits: the node's deadlines have to end it.
  server.handle(PROTO, async (s) => {
    calls++;
    await outcome(s.readable);
  });
  const cap = capturing(yamux());
  const client = await createNode({
    transports: [memory()],
    connectionEncrypters: [noise()],
    streamMuxers: [cap.factory],
  });
  await client.dial(server.addrs()[0]);
  return { server, client, newRaw: () => cap.sessions[0].newStream(), calls: () => calls };
}

function header(text: string): Uint8Array {
  const body = new TextEncoder().encode(text + "\n");
  return new Uint8Array([body.length, ...body]);
}

const cases: [string, (w: WritableStreamDefaultWriter<Uint8Array>) => Promise<void>, boolean][] = [
  ["0 bytes then close", (w) => w.close(), false],
  ["1 byte then reset", async (w) => {
    await w.write(new Uint8Array([0x13]));
    await w.abort(new Error("reset"));
  }, false],
  ["a length prefix then silence (negotiation)", (w) => w.write(new Uint8Array([0x40])), false],
  ["negotiated, then a length prefix and silence (handler)", async (w) => {
    await w.write(header("/multistream/1.0.0"));
    await w.write(header(PROTO));
    await w.write(new Uint8Array([0x40]));
  }, true],
];

describe("hardening: every handler (node dispatch)", () => {
  for (const [name, act, reachesHandler] of cases) {
    it(`${name}: ends within its deadline, memory and timers released`, async () => {
      const unhandled = detectUnhandled();
      const timers = trackTimers();
      const before = timers.live();
      const { server, client, newRaw, calls } = await setup();
      try {
        await until(() => server.stats().connections === 1);
        const baseline = timers.live();
        const raw = await newRaw();
        const writer = raw.writable.getWriter();
        const read = outcome(raw.readable);
        await act(writer).catch(() => {});
        await read;
        await until(() => {
          const s = server.stats();
          return s.resources.streams === 0 && s.guardedStreams === 0;
        });
        assert.equal(calls(), reachesHandler ? 1 : 0);
        // Every per-stream timer (negotiation and handler deadlines) is gone. What may remain
        // are the per-connection timers, one each by design: the yamux session scheduler and
        // the connection's inactivity watch; they go with the connection (checked below).
        const perStream = () =>
          timers.describe().split("\n").filter((l) =>
            l !== "" && !l.includes("yamux/service.ts") && !l.includes("stream_guard.ts")
          );
        await until(() => perStream().length === 0).catch(() => {});
        assert.deepEqual(perStream(), [], "no per-stream timer left");
        assert.ok(timers.live() <= baseline + 2, timers.describe());
        raw.reset();
        assert.deepEqual(unhandled.errors, []);
        // Stopped, the nodes leave no timer at all: the per-connection ones (yamux scheduler,
        // inactivity watch) go with their connections, and stop() ends every connection.
        await stopAll(client, server);
        await until(() => timers.live() === before).catch(() => {});
        assert.equal(timers.live(), before, `timers left after stop:\n${timers.describe()}`);
      } finally {
        timers.restore();
        unhandled.stop();
        await stopAll(client, server);
      }
    });
  }
});
