/**
 * Leak check for the Deno adapter: Deno 2.9's resource and op sanitizers are off by default and
 * node:test cases never run them, so these cases are registered with `Deno.test` and both
 * sanitizers on. Each ends with no socket, listener, timer or pending op left; the sanitizer
 * fails the case otherwise. Under Bun (no equivalent sanitizer) the cases are skipped.
 *
 * The last cases also need a loopback listener that never accepts (to make a connect hang
 * deterministically); only Deno has one (`Deno.listen` without `accept`), Bun accepts eagerly.
 */

import { it } from "node:test";
import assert from "node:assert/strict";
import { web } from "../helpers/conn.ts";
import { TimeoutError } from "../../src/errors.ts";
import { multiaddr } from "../../src/multiaddr/mod.ts";
import { tcp } from "../../transports/tcp/mod.ts";
import { listenQueued, pattern, readAll, sameBytes, writeAll } from "./helpers.ts";

interface DenoConn {
  close(): void;
}

interface DenoTestApi {
  test(options: {
    name: string;
    sanitizeResources: boolean;
    sanitizeOps: boolean;
    fn: () => Promise<void>;
  }): void;
  listen(options: { hostname: string; port: number }): {
    addr: { port: number };
    close(): void;
  };
  connect(options: { hostname: string; port: number; signal?: AbortSignal }): Promise<DenoConn>;
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
  const client = web(await transport.dial(listener.getAddrs()[0]));
  const server = web(await accepted());
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
  const client = web(await transport.dial(listener.getAddrs()[0]));
  const server = web(await accepted());
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
  const client = web(await transport.dial(listener.getAddrs()[0]));
  const server = web(await accepted());
  const pending = server.readable.getReader().read();
  client.abort(new Error("gone"));
  await pending.catch(() => {});
  server.abort();
  await listener.close();
});

leakTest("a cancelled readable plus a closed writable releases the socket", async () => {
  const transport = tcp();
  const { listener, accepted } = await listenQueued(transport, "/ip4/127.0.0.1/tcp/0");
  const client = web(await transport.dial(listener.getAddrs()[0]));
  const server = web(await accepted());
  await client.readable.cancel();
  await client.writable.close();
  assert.equal((await readAll(server.readable)).byteLength, 0);
  await server.writable.close();
  await listener.close();
});

leakTest("refused and pre-aborted dials leave no timer or socket behind", async () => {
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
  const a = web(await transport.dial(addr));
  const sa = web(await accepted());
  const b = web(await transport.dial(addr)); // over the cap: closed by the listener at once
  await readAll(b.readable).catch(() => {});
  b.abort();
  a.abort();
  sa.abort();
  await listener.close();
});

/**
 * A loopback port whose accept queue is full, so that a further connect hangs (its SYN is
 * dropped). Fills the queue of a `Deno.listen` that never accepts; `release()` frees it all.
 */
async function fullAcceptQueue(d: DenoTestApi): Promise<{ port: number; release(): void }> {
  const listener = d.listen({ hostname: "127.0.0.1", port: 0 });
  const port = listener.addr.port;
  const conns: DenoConn[] = [];
  // Deno's listen backlog is 512 here; stop at the first connect that does not complete.
  for (let i = 0; i < 8192; i++) {
    try {
      conns.push(
        await d.connect({ hostname: "127.0.0.1", port, signal: AbortSignal.timeout(200) }),
      );
    } catch (error) {
      if ((error as Error).name !== "TimeoutError") {
        // e.g. net.ipv4.tcp_abort_on_overflow=1 refuses instead of dropping the SYN.
        for (const c of conns) c.close();
        listener.close();
        throw new Error(`a full accept queue did not make connect hang here: ${error}`);
      }
      break;
    }
  }
  return {
    port,
    release() {
      for (const c of conns) c.close();
      listener.close();
    },
  };
}

function denoOnlyTest(name: string, fn: (d: DenoTestApi) => Promise<void>): void {
  if (deno !== undefined) {
    deno.test({
      name: `tcp (Deno): ${name}`,
      sanitizeResources: true,
      sanitizeOps: true,
      fn: () => fn(deno),
    });
  } else {
    it(`tcp (Deno): ${name}`, {
      skip: "needs a loopback listener that never accepts; Bun.listen accepts every connection",
    }, () => {});
  }
}

denoOnlyTest("a connect that hangs rejects with TimeoutError at connectTimeoutMs", async (d) => {
  const full = await fullAcceptQueue(d);
  try {
    const transport = tcp({ connectTimeoutMs: 150 });
    await assert.rejects(
      transport.dial(multiaddr(`/ip4/127.0.0.1/tcp/${full.port}`)),
      TimeoutError,
    );
  } finally {
    full.release();
  }
});

denoOnlyTest("aborting the signal of a hanging connect rejects with its reason", async (d) => {
  const full = await fullAcceptQueue(d);
  try {
    const transport = tcp({ connectTimeoutMs: 0 }); // no deadline: only the signal ends it
    const c = new AbortController();
    const reason = new Error("user cancelled");
    const dial = transport.dial(multiaddr(`/ip4/127.0.0.1/tcp/${full.port}`), { signal: c.signal });
    setTimeout(() => c.abort(reason), 50);
    await assert.rejects(dial, (e) => e === reason);
  } finally {
    full.release();
  }
});
