/**
 * Leak check for the Deno adapter: Deno 2.9's resource and op sanitizers are off by default and
 * node:test cases never run them, so these cases are registered with `Deno.test` and both
 * sanitizers on. Each ends with no socket, listener, timer or pending op left; the sanitizer
 * fails the case otherwise. Under Bun (no equivalent sanitizer) the case is skipped.
 */

import { it } from "node:test";
import assert from "node:assert/strict";
import { multiaddr } from "../../src/multiaddr/mod.ts";
import { tcp } from "../../transports/tcp/mod.ts";
import { listenQueued, pattern, readAll, sameBytes, writeAll } from "./helpers.ts";

interface DenoTestApi {
  test(options: {
    name: string;
    sanitizeResources: boolean;
    sanitizeOps: boolean;
    fn: () => Promise<void>;
  }): void;
}

const deno = (globalThis as { Deno?: DenoTestApi }).Deno;

function leakTest(name: string, fn: () => Promise<void>): void {
  if (deno !== undefined) {
    deno.test({ name: `tcp leaks: ${name}`, sanitizeResources: true, sanitizeOps: true, fn });
  } else {
    it(`tcp leaks: ${name}`, { skip: "Deno's resource sanitizer only exists on Deno" }, fn);
  }
}

leakTest("half-closed both ways without close() releases both sockets", async () => {
  const transport = tcp();
  const { listener, accepted } = await listenQueued(transport, "/ip4/127.0.0.1/tcp/0");
  const client = await transport.dial(listener.getAddrs()[0]);
  const server = await accepted();
  const up = pattern(300_000, 1);
  const down = pattern(200_000, 2);
  const [gotUp, gotDown] = await Promise.all([
    readAll(server.readable),
    readAll(client.readable),
    writeAll(client.writable, up),
    writeAll(server.writable, down),
  ]);
  assert.ok(sameBytes(gotUp, up) && sameBytes(gotDown, down));
  await listener.close();
});

leakTest("close() on both ends with unread data and a pending read", async () => {
  const transport = tcp();
  const { listener, accepted } = await listenQueued(transport, "/ip4/127.0.0.1/tcp/0");
  const client = await transport.dial(listener.getAddrs()[0]);
  const server = await accepted();
  const w = client.writable.getWriter();
  await w.write(pattern(100_000, 3));
  w.releaseLock();
  const reader = server.readable.getReader();
  await reader.read(); // some bytes, the rest stays unread
  const pending = client.readable.getReader().read(); // nothing will come
  await client.close();
  assert.equal((await pending).done, true, "a local close ends a pending read");
  await server.close();
  await listener.close();
});

leakTest("abort() on one end, the other reads to the end and aborts", async () => {
  const transport = tcp();
  const { listener, accepted } = await listenQueued(transport, "/ip4/127.0.0.1/tcp/0");
  const client = await transport.dial(listener.getAddrs()[0]);
  const server = await accepted();
  const pending = server.readable.getReader().read();
  client.abort(new Error("gone"));
  await pending.catch(() => {});
  server.abort();
  await listener.close();
});

leakTest("a cancelled readable plus a closed writable releases the socket", async () => {
  const transport = tcp();
  const { listener, accepted } = await listenQueued(transport, "/ip4/127.0.0.1/tcp/0");
  const client = await transport.dial(listener.getAddrs()[0]);
  const server = await accepted();
  await client.readable.cancel();
  await client.writable.close();
  assert.equal((await readAll(server.readable)).byteLength, 0);
  await server.writable.close();
  await listener.close();
});

leakTest("refused, pre-aborted and timed-out-free dials leave nothing behind", async () => {
  const transport = tcp({ connectTimeoutMs: 60_000 });
  const { listener } = await listenQueued(transport, "/ip4/127.0.0.1/tcp/0");
  const addr = listener.getAddrs()[0];
  await listener.close();
  await assert.rejects(transport.dial(addr)); // refused; the 60 s deadline timer is cleared
  const c = new AbortController();
  c.abort();
  await assert.rejects(transport.dial(multiaddr("/ip4/127.0.0.1/tcp/1"), { signal: c.signal }));
});

leakTest("maxConnections rejects and listener close with an idle accept loop", async () => {
  const transport = tcp({ maxConnections: 1 });
  const { listener, accepted } = await listenQueued(transport, "/ip4/127.0.0.1/tcp/0");
  const addr = listener.getAddrs()[0];
  const a = await transport.dial(addr);
  const sa = await accepted();
  const b = await transport.dial(addr); // over the cap: closed by the listener at once
  await readAll(b.readable).catch(() => {});
  b.abort();
  a.abort();
  sa.abort();
  await listener.close();
});
