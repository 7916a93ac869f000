/**
 * TCP transport behaviour beyond the conformance suite: real ports, typed dial errors, aborts,
 * backpressure, big transfers, listener limits and port release. Runs the Deno adapter under
 * `deno test` and the Bun adapter under `bun test`. Loopback only (127.0.0.1, ::1).
 */

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { web } from "../helpers/conn.ts";
import { AbortError, ConnectionClosedError, TimeoutError } from "../../src/errors.ts";
import { multiaddr } from "../../src/multiaddr/mod.ts";
import { isBun, isDeno, runtimeInfo } from "../../src/runtime.ts";
import type { RawConnection } from "../../src/transport.ts";
import { boundAddrs } from "../../transports/tcp/address.ts";
import { tcp, TcpDialError, TcpListenError } from "../../transports/tcp/mod.ts";
import {
  ipv6LoopbackSkipReason,
  listenQueued,
  pattern,
  readAll,
  sameBytes,
  sleep,
  writeAll,
} from "./helpers.ts";

const v6skip = await ipv6LoopbackSkipReason();
const MiB = 1024 * 1024;

/** A port that was free a moment ago and has no listener now. */
async function closedPort(host: string): Promise<number> {
  const { listener } = await listenQueued(tcp(), `/ip4/${host}/tcp/0`);
  const port = Number(listener.getAddrs()[0].components()[1].value);
  await listener.close();
  return port;
}

function portOf(addr: { components(): readonly { value?: string }[] }): number {
  return Number(addr.components()[1].value);
}

describe("runtime detection", () => {
  it("names the runtime running the tests, with its version", () => {
    const g = globalThis as { Deno?: { version: { deno: string } }; Bun?: { version: string } };
    const info = runtimeInfo();
    if (g.Deno !== undefined) {
      assert.equal(isDeno(), true);
      assert.equal(isBun(), false);
      assert.deepEqual(info, { name: "deno", version: g.Deno.version.deno });
    } else {
      assert.equal(isBun(), true);
      assert.equal(isDeno(), false);
      assert.deepEqual(info, { name: "bun", version: g.Bun!.version });
    }
    assert.match(info.version, /^\d+\.\d+\.\d+/);
  });
});

describe("tcp: addresses", () => {
  it("reports the real port after listening on port 0, and both ends' addresses", async () => {
    const transport = tcp();
    const { listener, accepted } = await listenQueued(transport, "/ip4/127.0.0.1/tcp/0");
    try {
      const [addr] = listener.getAddrs();
      assert.match(addr.toString(), /^\/ip4\/127\.0\.0\.1\/tcp\/\d+$/);
      const port = portOf(addr);
      assert.ok(port > 0 && port < 65536, `real port, got ${port}`);
      const client = web(await transport.dial(addr));
      const server = web(await accepted());
      assert.equal(client.remoteAddr.toString(), addr.toString());
      assert.equal(server.localAddr?.toString(), addr.toString());
      assert.ok(client.localAddr !== undefined);
      assert.equal(server.remoteAddr.toString(), client.localAddr.toString());
      assert.notEqual(portOf(client.localAddr), port);
      client.abort();
      server.abort();
    } finally {
      await listener.close();
    }
  });

  it("connections accepted on one address share its local Multiaddr object", async () => {
    const transport = tcp();
    const { listener, accepted } = await listenQueued(transport, "/ip4/127.0.0.1/tcp/0");
    try {
      const [addr] = listener.getAddrs();
      const clients = [web(await transport.dial(addr)), web(await transport.dial(addr))];
      const servers = [web(await accepted()), web(await accepted())];
      assert.ok(servers[0].localAddr !== undefined);
      assert.equal(servers[0].localAddr, servers[1].localAddr, "one object, not two copies");
      assert.notEqual(clients[0].localAddr?.toString(), clients[1].localAddr?.toString());
      for (const c of [...clients, ...servers]) c.abort();
    } finally {
      await listener.close();
    }
  });

  it("reports /ip6/::1 addresses on IPv6 loopback", { skip: v6skip ?? false }, async () => {
    const transport = tcp();
    const { listener, accepted } = await listenQueued(transport, "/ip6/::1/tcp/0");
    try {
      const [addr] = listener.getAddrs();
      assert.match(addr.toString(), /^\/ip6\/::1\/tcp\/[1-9]\d*$/);
      const client = web(await transport.dial(addr));
      const server = web(await accepted());
      assert.equal(client.remoteAddr.toString(), addr.toString());
      assert.match(server.remoteAddr.toString(), /^\/ip6\/::1\/tcp\/[1-9]\d*$/);
      assert.equal(server.remoteAddr.toString(), client.localAddr?.toString());
      client.abort();
      server.abort();
    } finally {
      await listener.close();
    }
  });

  it("dials an address with a trailing /p2p/<id>", async () => {
    const transport = tcp();
    const { listener, accepted } = await listenQueued(transport, "/ip4/127.0.0.1/tcp/0");
    try {
      const id = "12D3KooWD3eckifWpRn9wQpMG9R9hX3sD158z7EqHWmweQAJU5SA";
      const client = web(await transport.dial(listener.getAddrs()[0].encapsulate(`/p2p/${id}`)));
      const server = web(await accepted());
      assert.equal(client.remoteAddr.toString(), listener.getAddrs()[0].toString());
      client.abort();
      server.abort();
    } finally {
      await listener.close();
    }
  });

  it("filters: ip4/ip6/dns* + tcp; /p2p only for dials; no ws, circuit, udp or port 0 dials", () => {
    const t = tcp();
    const id = "12D3KooWD3eckifWpRn9wQpMG9R9hX3sD158z7EqHWmweQAJU5SA";
    const all = [
      "/ip4/127.0.0.1/tcp/4001",
      "/ip6/::1/tcp/4001",
      "/dns/localhost/tcp/4001",
      "/dns4/localhost/tcp/4001",
      "/dns6/localhost/tcp/4001",
      `/ip4/127.0.0.1/tcp/4001/p2p/${id}`,
      "/ip4/127.0.0.1/tcp/0",
      "/ip4/127.0.0.1/tcp/4001/ws",
      `/ip4/127.0.0.1/tcp/4001/p2p/${id}/p2p-circuit`,
      `/ip4/127.0.0.1/tcp/4001/p2p/${id}/p2p-circuit/p2p/${id}`,
      "/ip4/127.0.0.1/udp/4001",
      "/ip4/127.0.0.1",
      "/memory/x",
      `/p2p/${id}`,
    ].map((s) => multiaddr(s));
    assert.deepEqual(t.dialFilter(all).map(String), [
      "/ip4/127.0.0.1/tcp/4001",
      "/ip6/::1/tcp/4001",
      "/dns/localhost/tcp/4001",
      "/dns4/localhost/tcp/4001",
      "/dns6/localhost/tcp/4001",
      `/ip4/127.0.0.1/tcp/4001/p2p/${id}`,
    ]);
    assert.deepEqual(t.listenFilter(all).map(String), [
      "/ip4/127.0.0.1/tcp/4001",
      "/ip6/::1/tcp/4001",
      "/dns/localhost/tcp/4001",
      "/dns4/localhost/tcp/4001",
      "/dns6/localhost/tcp/4001",
      "/ip4/127.0.0.1/tcp/0",
    ]);
  });

  it("expands a wildcard bind to interface addresses of its family", () => {
    const ifaces = () => [
      { address: "127.0.0.1", family: "IPv4" },
      { address: "::1", family: "IPv6" },
      { address: "fe80::1", family: "IPv6" },
      { address: "192.0.2.7", family: 4 },
    ];
    assert.deepEqual(boundAddrs("0.0.0.0", 4001, ifaces).map(String), [
      "/ip4/127.0.0.1/tcp/4001",
      "/ip4/192.0.2.7/tcp/4001",
    ]);
    assert.deepEqual(boundAddrs("::", 4001, ifaces).map(String), ["/ip6/::1/tcp/4001"]);
    assert.deepEqual(boundAddrs("0.0.0.0", 4001, () => undefined).map(String), [
      "/ip4/0.0.0.0/tcp/4001",
    ]);
    assert.deepEqual(boundAddrs("127.0.0.1", 4001, ifaces).map(String), [
      "/ip4/127.0.0.1/tcp/4001",
    ]);
    assert.deepEqual(boundAddrs("::ffff:127.0.0.1", 9, ifaces).map(String), [
      "/ip4/127.0.0.1/tcp/9",
    ]);
  });

  it("rejects dials and listens on non-TCP addresses with a TypeError", async () => {
    const t = tcp();
    await assert.rejects(t.dial(multiaddr("/ip4/127.0.0.1/tcp/1/ws")), TypeError);
    await assert.rejects(t.dial(multiaddr("/ip4/127.0.0.1/tcp/0")), TypeError);
    const l = t.createListener({ onConnection: (c) => c.abort() });
    await assert.rejects(l.listen(multiaddr("/ip4/127.0.0.1/udp/0")), TypeError);
    assert.deepEqual(l.getAddrs(), []);
  });
});

describe("tcp: options", () => {
  it("validates every option once, with TypeError or RangeError", () => {
    assert.throws(() => tcp({ connectTimeoutMs: -1 }), RangeError);
    assert.throws(() => tcp({ connectTimeoutMs: 2 ** 31 }), RangeError);
    assert.throws(() => tcp({ connectTimeoutMs: Number.NaN }), TypeError);
    assert.throws(() => tcp({ closeTimeoutMs: -5 }), RangeError);
    assert.throws(() => tcp({ maxConnections: 0 }), RangeError);
    assert.throws(() => tcp({ maxConnections: 1.5 }), TypeError);
    assert.throws(() => tcp({ readHighWaterMark: 0 }), RangeError);
    assert.throws(() => tcp({ writeHighWaterMark: 65 * MiB }), RangeError);
    assert.throws(() => tcp({ noDelay: "yes" as unknown as boolean }), TypeError);
    assert.throws(() => tcp({ keepAlive: 1 as unknown as boolean }), TypeError);
    assert.equal(tcp({ maxConnections: Infinity, connectTimeoutMs: 0 }).name, "tcp");
  });
});

describe("tcp: dial failures", () => {
  it("a refused dial rejects with TcpDialError, ECONNREFUSED and the cause chained", async () => {
    const port = await closedPort("127.0.0.1");
    const err = await tcp().dial(multiaddr(`/ip4/127.0.0.1/tcp/${port}`)).then(
      () => assert.fail("dial to a closed port succeeded"),
      (e: unknown) => e,
    );
    assert.ok(err instanceof TcpDialError, `TcpDialError, got ${err}`);
    assert.equal(err.osCode, "ECONNREFUSED");
    assert.ok(err.cause instanceof Error, "the runtime's error is chained");
    assert.match(err.message, new RegExp(`refused by 127\\.0\\.0\\.1:${port}`));
  });

  it("a dial with an aborted signal rejects with the signal's reason", async () => {
    const transport = tcp();
    const { listener } = await listenQueued(transport, "/ip4/127.0.0.1/tcp/0");
    try {
      const c = new AbortController();
      const reason = new Error("caller gave up");
      c.abort(reason);
      await assert.rejects(transport.dial(listener.getAddrs()[0], { signal: c.signal }), (e) => {
        assert.equal(e, reason);
        return true;
      });
      const c2 = new AbortController();
      c2.abort();
      await assert.rejects(
        transport.dial(listener.getAddrs()[0], { signal: c2.signal }),
        AbortError,
      );
    } finally {
      await listener.close();
    }
  });

  it("a signal aborted during the dial rejects or yields a live connection, never leaks", async () => {
    const transport = tcp();
    const { listener, accepted } = await listenQueued(transport, "/ip4/127.0.0.1/tcp/0");
    try {
      const c = new AbortController();
      const dial = transport.dial(listener.getAddrs()[0], { signal: c.signal });
      c.abort(new Error("late abort"));
      const result = await dial.then((conn) => conn, (e: Error) => e);
      if (result instanceof Error) {
        assert.equal(result.message, "late abort");
      } else {
        // Loopback connected before the abort was seen: a usable connection.
        const server = web(await accepted());
        const w = web(result).writable.getWriter();
        await w.write(new Uint8Array([7]));
        const { value } = await server.readable.getReader().read();
        assert.deepEqual(value, new Uint8Array([7]));
        result.abort();
        server.abort();
      }
    } finally {
      await listener.close();
    }
  });
});

describe("tcp: connections", () => {
  it("backpressure: a writer to a reader that does not read waits (bounded buffering)", async () => {
    const transport = tcp();
    const { listener, accepted } = await listenQueued(transport, "/ip4/127.0.0.1/tcp/0");
    try {
      const client = web(await transport.dial(listener.getAddrs()[0]));
      const server = web(await accepted()); // never read until the writer stalled
      const total = 64 * MiB;
      const chunk = 64 * 1024;
      const data = pattern(total, 3);
      let accepted_ = 0;
      const writer = client.writable.getWriter();
      const writing = (async () => {
        for (let i = 0; i < total; i += chunk) {
          await writer.ready;
          await writer.write(data.subarray(i, i + chunk));
          accepted_ += chunk;
        }
        await writer.close();
      })();
      // Let the writer run until it stops making progress (the loop ends on no progress, the
      // assertion is about bytes only).
      let last = -1;
      let still = 0;
      while (still < 5 && accepted_ < total) {
        await sleep(20);
        if (accepted_ === last) still++;
        else (still = 0, last = accepted_);
      }
      const stalledAt = accepted_;
      console.log(`tcp backpressure (${runtimeInfo().name}): writer stalled at ${stalledAt} B`);
      assert.ok(
        stalledAt < total / 2,
        `the writer got ${stalledAt} of ${total} bytes through to a reader that never read`,
      );
      const got = await readAll(server.readable);
      await writing;
      assert.equal(got.byteLength, total);
      assert.ok(sameBytes(got, data), "bytes intact after the reader resumed");
      await client.close();
      await server.close();
    } finally {
      await listener.close();
    }
  });

  it("transfers 16 MiB intact in both directions at once", async () => {
    const transport = tcp();
    const { listener, accepted } = await listenQueued(transport, "/ip4/127.0.0.1/tcp/0");
    try {
      const client = web(await transport.dial(listener.getAddrs()[0]));
      const server = web(await accepted());
      const up = pattern(16 * MiB, 11);
      const down = pattern(16 * MiB, 12);
      const [gotUp, gotDown] = await Promise.all([
        readAll(server.readable),
        readAll(client.readable),
        writeAll(client.writable, up, 48 * 1024 + 7),
        writeAll(server.writable, down, 128 * 1024),
      ]);
      assert.equal(gotUp.byteLength, up.byteLength);
      assert.equal(gotDown.byteLength, down.byteLength);
      assert.ok(sameBytes(gotUp, up), "upload intact");
      assert.ok(sameBytes(gotDown, down), "download intact");
    } finally {
      await listener.close();
    }
  });

  it("close() flushes queued writes, then the peer reads EOF", async () => {
    const transport = tcp({ writeHighWaterMark: 4 * MiB });
    const { listener, accepted } = await listenQueued(transport, "/ip4/127.0.0.1/tcp/0");
    try {
      const client = web(await transport.dial(listener.getAddrs()[0]));
      const server = web(await accepted());
      const data = pattern(3 * MiB, 5);
      // Queue everything on the channel without waiting, then close.
      for (let i = 0; i < data.byteLength; i += 32 * 1024) {
        client.channel.write(data.subarray(i, i + 32 * 1024));
      }
      const reading = readAll(server.readable);
      await client.close();
      const got = await reading;
      assert.ok(sameBytes(got, data), `got ${got.byteLength} of ${data.byteLength} bytes`);
      await server.close();
    } finally {
      await listener.close();
    }
  });

  it("close() to a peer that never reads gives up at closeTimeoutMs and aborts", async () => {
    const transport = tcp({ closeTimeoutMs: 200, writeHighWaterMark: 32 * MiB });
    const { listener, accepted } = await listenQueued(transport, "/ip4/127.0.0.1/tcp/0");
    try {
      const client = web(await transport.dial(listener.getAddrs()[0]));
      const server = web(await accepted()); // never reads: kernel buffers (a few MiB) fill up
      for (let i = 0; i < 24; i++) client.channel.write(new Uint8Array(MiB));
      await client.close(); // resolves once the bound passed
      // The unflushed writes were dropped: the channel failed with the close's TimeoutError.
      await assert.rejects(client.channel.drained(), TimeoutError);
      server.abort();
    } finally {
      await listener.close();
    }
  });

  it("writing after the writable closed fails; reading still works (half-close)", async () => {
    const transport = tcp();
    const { listener, accepted } = await listenQueued(transport, "/ip4/127.0.0.1/tcp/0");
    try {
      const client = web(await transport.dial(listener.getAddrs()[0]));
      const server = web(await accepted());
      const w = client.writable.getWriter();
      await w.write(new Uint8Array([1, 2, 3]));
      await w.close();
      await assert.rejects(w.write(new Uint8Array([4])));
      assert.deepEqual(await readAll(server.readable), new Uint8Array([1, 2, 3]));
      await writeAll(server.writable, new Uint8Array([9, 8]));
      assert.deepEqual(await readAll(client.readable), new Uint8Array([9, 8]));
    } finally {
      await listener.close();
    }
  });

  it("abort(reason) fails local reads and writes with reason; the peer's read ends", async () => {
    const transport = tcp();
    const { listener, accepted } = await listenQueued(transport, "/ip4/127.0.0.1/tcp/0");
    try {
      const client = web(await transport.dial(listener.getAddrs()[0]));
      const server = web(await accepted());
      const reader = client.readable.getReader();
      const pendingRead = reader.read();
      const writer = client.writable.getWriter();
      const reason = new Error("torn down");
      client.abort(reason);
      await assert.rejects(pendingRead, (e) => e === reason);
      await assert.rejects(writer.write(new Uint8Array([1])), (e) => e === reason);
      client.abort(new Error("again")); // idempotent
      // The server's read ends (EOF) or fails (reset); either way it does not hang.
      const r = server.readable.getReader();
      const outcome = await (async () => {
        try {
          for (;;) if ((await r.read()).done) return "eof";
        } catch (e) {
          return e instanceof ConnectionClosedError ? "reset" : `other: ${e}`;
        }
      })();
      assert.ok(outcome === "eof" || outcome === "reset", outcome);
      // And its writes fail once the reset is seen (a few may still reach the kernel first).
      const sw = server.writable.getWriter();
      const failed = await (async () => {
        try {
          for (let i = 0; i < 1000; i++) await sw.write(new Uint8Array(64 * 1024));
          return false;
        } catch {
          return true;
        }
      })();
      assert.equal(failed, true, "writes to an aborted peer fail");
      server.abort();
    } finally {
      await listener.close();
    }
  });
});

describe("tcp: listener", () => {
  it("close() releases the port: listening again on the same port works", async () => {
    const transport = tcp();
    const first = await listenQueued(transport, "/ip4/127.0.0.1/tcp/0");
    const addr = first.listener.getAddrs()[0];
    const client = web(await transport.dial(addr));
    const server = web(await first.accepted());
    await first.listener.close();
    assert.deepEqual(first.listener.getAddrs(), []);
    // The connection accepted before close stays open and usable.
    const second = await listenQueued(transport, addr.toString());
    try {
      assert.equal(second.listener.getAddrs()[0].toString(), addr.toString());
      const again = web(await transport.dial(addr));
      const againServer = web(await second.accepted());
      const [got] = await Promise.all([
        readAll(againServer.readable),
        writeAll(again.writable, new Uint8Array([4, 2])),
      ]);
      assert.deepEqual(got, new Uint8Array([4, 2]));
      const [old] = await Promise.all([
        readAll(server.readable),
        writeAll(client.writable, new Uint8Array([1])),
      ]);
      assert.deepEqual(old, new Uint8Array([1]));
      again.abort();
      againServer.abort();
      client.abort();
      server.abort();
    } finally {
      await second.listener.close();
    }
  });

  it("listening on a port in use rejects with TcpListenError", async () => {
    const transport = tcp();
    const first = await listenQueued(transport, "/ip4/127.0.0.1/tcp/0");
    try {
      const l = transport.createListener({ onConnection: (c) => c.abort() });
      await assert.rejects(l.listen(first.listener.getAddrs()[0]), TcpListenError);
      assert.deepEqual(l.getAddrs(), []);
    } finally {
      await first.listener.close();
    }
  });

  it("maxConnections: sockets beyond the cap are closed at once; a freed slot is reused", async () => {
    const transport = tcp({ maxConnections: 2 });
    const { listener, accepted } = await listenQueued(transport, "/ip4/127.0.0.1/tcp/0");
    let handed = 0;
    try {
      const addr = listener.getAddrs()[0];
      const a = web(await transport.dial(addr));
      const sa = web(await accepted());
      handed++;
      const b = web(await transport.dial(addr));
      const sb = web(await accepted());
      handed++;
      // The third socket connects at the TCP level, then the listener closes it unseen.
      const c = web(await transport.dial(addr));
      const cEnd = await readAll(c.readable).then(() => "eof", () => "reset");
      assert.ok(cEnd === "eof" || cEnd === "reset");
      c.abort();
      // Free one slot (closing our side releases the socket), then a new dial gets in.
      await sa.close();
      a.abort();
      const d = web(await transport.dial(addr));
      const sd = web(await accepted());
      handed++;
      const [got] = await Promise.all([
        readAll(sd.readable),
        writeAll(d.writable, new Uint8Array([5])),
      ]);
      assert.deepEqual(got, new Uint8Array([5]));
      assert.equal(handed, 3);
      for (const conn of [b, sb, d, sd] as RawConnection[]) conn.abort();
    } finally {
      await listener.close();
    }
  });

  it("a listener cannot listen twice", async () => {
    const transport = tcp();
    const { listener } = await listenQueued(transport, "/ip4/127.0.0.1/tcp/0");
    try {
      await assert.rejects(listener.listen(multiaddr("/ip4/127.0.0.1/tcp/0")), TcpListenError);
    } finally {
      await listener.close();
    }
  });
});
