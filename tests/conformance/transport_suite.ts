/**
 * Transport conformance suite: written once, run against every transport (memory now; tcp and
 * websocket reuse it). Each case opens real listeners and connections and checks bytes, not
 * just the absence of errors.
 */

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import type { Multiaddr } from "../../src/multiaddr/mod.ts";
import type { RawConnection as Raw, Transport } from "../../src/transport.ts";
import { web, type WebConnection } from "../helpers/conn.ts";

/** A raw connection with web streams over its channel (test plumbing). */
type RawConnection = WebConnection<Raw>;

/** What the suite needs from a transport under test. */
export interface TransportFixture {
  transport: Transport;
  /** An address to listen on (port 0 / fresh name). */
  listenAddr: Multiaddr;
}

async function readAll(readable: ReadableStream<Uint8Array>): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  let total = 0;
  for await (const c of readable) {
    chunks.push(c);
    total += c.byteLength;
  }
  const out = new Uint8Array(total);
  let o = 0;
  for (const c of chunks) {
    out.set(c, o);
    o += c.byteLength;
  }
  return out;
}

function pattern(length: number, seed: number): Uint8Array {
  const out = new Uint8Array(length);
  for (let i = 0; i < length; i++) out[i] = (i * 31 + seed) & 0xff;
  return out;
}

async function writeAll(conn: RawConnection, data: Uint8Array, chunk = 16 * 1024): Promise<void> {
  const w = conn.writable.getWriter();
  for (let i = 0; i < data.byteLength; i += chunk) await w.write(data.slice(i, i + chunk));
  await w.close();
}

/** Listen, run `fn` with the listener's inbound connections as a queue, clean up. */
async function withListener(
  fixture: () => TransportFixture,
  fn: (ctx: {
    transport: Transport;
    addr: Multiaddr;
    accepted: () => Promise<RawConnection>;
  }) => Promise<void>,
): Promise<void> {
  const { transport, listenAddr } = fixture();
  const queue: RawConnection[] = [];
  const waiters: ((c: RawConnection) => void)[] = [];
  const listener = transport.createListener({
    onConnection(raw) {
      const conn = web(raw);
      const w = waiters.shift();
      if (w !== undefined) w(conn);
      else queue.push(conn);
    },
  });
  await listener.listen(listenAddr);
  try {
    const addrs = listener.getAddrs();
    assert.ok(addrs.length > 0, "listener reports at least one address");
    await fn({
      transport,
      addr: addrs[0],
      accepted: () => {
        const c = queue.shift();
        return c !== undefined ? Promise.resolve(c) : new Promise((r) => waiters.push(r));
      },
    });
  } finally {
    await listener.close();
  }
}

/** Options of {@link runTransportSuite}. */
export interface TransportSuiteOptions {
  /**
   * Whether closing a connection's writable only half-closes it (default true). WebSocket has
   * one closing handshake for both directions and runtimes drop messages that arrive after the
   * local Close: for such a transport pass false. The half-close case is then skipped, and the
   * cases that rely on it run a variant in which each side reads the byte count it expects
   * before the dialer closes.
   */
  halfClose?: boolean;
}

async function readExactly(readable: ReadableStream<Uint8Array>, n: number): Promise<Uint8Array> {
  const reader = readable.getReader();
  const out = new Uint8Array(n);
  let o = 0;
  try {
    while (o < n) {
      const { done, value } = await reader.read();
      if (done) throw new Error(`stream ended after ${o} of ${n} bytes`);
      if (o + value.byteLength > n) throw new Error(`more than ${n} bytes received`);
      out.set(value, o);
      o += value.byteLength;
    }
  } finally {
    reader.releaseLock();
  }
  return out;
}

async function writeOpen(conn: RawConnection, data: Uint8Array, chunk = 16 * 1024): Promise<void> {
  const w = conn.writable.getWriter();
  for (let i = 0; i < data.byteLength; i += chunk) await w.write(data.slice(i, i + chunk));
  w.releaseLock();
}

/** Register the transport conformance cases for `name`. */
export function runTransportSuite(
  name: string,
  fixture: () => TransportFixture,
  options: TransportSuiteOptions = {},
): void {
  const halfClose = options.halfClose ?? true;
  const noHalfClose = "the transport has no half-close (halfClose: false)";
  describe(`transport conformance: ${name}`, () => {
    it("carries bytes both ways without half-close, then closes", async () => {
      await withListener(fixture, async ({ transport, addr, accepted }) => {
        const client = web(await transport.dial(addr));
        const server = await accepted();
        const up = pattern(100_000, 1);
        const down = pattern(70_000, 2);
        const [gotUp, gotDown] = await Promise.all([
          readExactly(server.readable, up.byteLength),
          readExactly(client.readable, down.byteLength),
          writeOpen(client, up),
          writeOpen(server, down),
        ]);
        assert.deepEqual(gotUp, up);
        assert.deepEqual(gotDown, down);
        await client.close();
        const rest = await readAll(server.readable);
        assert.equal(rest.byteLength, 0, "the server's read ends after the dialer closed");
        await server.close();
      });
    });

    it("dials a listener and carries bytes both ways with half-close", {
      skip: halfClose ? false : noHalfClose,
    }, async () => {
      await withListener(fixture, async ({ transport, addr, accepted }) => {
        const client = web(await transport.dial(addr));
        const server = await accepted();
        const up = pattern(100_000, 1);
        const down = pattern(70_000, 2);
        const [gotUp, gotDown] = await Promise.all([
          readAll(server.readable),
          readAll(client.readable),
          writeAll(client, up),
          writeAll(server, down),
        ]);
        assert.deepEqual(gotUp, up);
        assert.deepEqual(gotDown, down);
        await client.close();
        await server.close();
      });
    });

    it("keeps reading after the local side half-closed", {
      skip: halfClose ? false : noHalfClose,
    }, async () => {
      await withListener(fixture, async ({ transport, addr, accepted }) => {
        const client = web(await transport.dial(addr));
        const server = await accepted();
        await client.writable.close();
        const request = await readAll(server.readable);
        assert.equal(request.byteLength, 0);
        const reply = pattern(5000, 9);
        const [got] = await Promise.all([readAll(client.readable), writeAll(server, reply)]);
        assert.deepEqual(got, reply);
      });
    });

    it("transfers 8 MiB intact", async () => {
      await withListener(fixture, async ({ transport, addr, accepted }) => {
        const client = web(await transport.dial(addr));
        const server = await accepted();
        const data = pattern(8 * 1024 * 1024, 7);
        const [got] = await Promise.all([
          readAll(server.readable),
          writeAll(client, data, 64 * 1024),
        ]);
        assert.equal(got.byteLength, data.byteLength);
        assert.deepEqual(got, data);
        await server.close();
        await readAll(client.readable);
      });
    });

    it("serves 32 concurrent connections independently", async () => {
      await withListener(fixture, async ({ transport, addr, accepted }) => {
        const n = 32;
        const clients = await Promise.all(
          Array.from({ length: n }, async () => web(await transport.dial(addr))),
        );
        const servers = await Promise.all(Array.from({ length: n }, () => accepted()));
        // Echo on every server connection.
        const echoes = servers.map((s) => s.readable.pipeTo(s.writable));
        const results = await Promise.all(clients.map(async (c, i) => {
          const msg = pattern(1000 + i, i);
          if (!halfClose) {
            const [got] = await Promise.all([
              readExactly(c.readable, msg.byteLength),
              writeOpen(c, msg),
            ]);
            await c.close();
            return [got, msg] as const;
          }
          const [got] = await Promise.all([readAll(c.readable), writeAll(c, msg)]);
          return [got, msg] as const;
        }));
        for (const [got, msg] of results) assert.deepEqual(got, msg);
        await Promise.all(echoes);
      });
    });

    it("abort on one side errors or ends the other side's reads", async () => {
      await withListener(fixture, async ({ transport, addr, accepted }) => {
        const client = web(await transport.dial(addr));
        const server = await accepted();
        client.abort(new Error("test abort"));
        const reader = server.readable.getReader();
        let ended = false;
        try {
          for (;;) {
            const { done } = await reader.read();
            if (done) {
              ended = true;
              break;
            }
          }
        } catch {
          ended = true;
        }
        assert.equal(ended, true);
        server.abort();
      });
    });

    it("rejects a dial with an already aborted signal", async () => {
      await withListener(fixture, async ({ transport, addr }) => {
        const controller = new AbortController();
        controller.abort();
        await assert.rejects(transport.dial(addr, { signal: controller.signal }));
      });
    });

    it("refuses dials after the listener closed", async () => {
      const { transport, listenAddr } = fixture();
      const listener = transport.createListener({ onConnection: (c) => c.abort() });
      await listener.listen(listenAddr);
      const addr = listener.getAddrs()[0];
      await listener.close();
      await assert.rejects(transport.dial(addr));
    });

    it("filters addresses it can listen on and dial", () => {
      const { transport, listenAddr } = fixture();
      assert.deepEqual(transport.listenFilter([listenAddr]).map(String), [listenAddr.toString()]);
    });
  });
}
