/**
 * HARDENING.md "Faults" with the real stack over the memory transport:
 * - the socket destroyed mid-transfer with 64 streams open: every stream fails with a
 *   reset-class error (never a clean EOF), counters return to zero, the peer can reconnect;
 * - a peer that stops reading and never closes: keep-alive fails, the session closes, no
 *   pending write waits forever;
 * - abort during multistream, during Noise, during identify.
 * Each asserts no unhandled rejection, no leaked timers and every counter back to zero.
 */

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { createNode, type Libp2pNode, type NodeInit } from "../../src/node/node.ts";
import { ConnectionClosedError, StreamResetError } from "../../src/errors.ts";
import type { Multiaddr } from "../../src/multiaddr/mod.ts";
import type { RawConnection, Transport } from "../../src/transport.ts";
import type { ConnectionEncrypter } from "../../src/security.ts";
import type { PrivateKey } from "../../src/keys/types.ts";
import { web } from "../helpers/conn.ts";
import { type ChannelConnection, streamChannel } from "../../src/stream/channel.ts";
import { memory } from "../../transports/memory/mod.ts";
import { noise } from "../../protocols/noise/mod.ts";
import { yamux } from "../../protocols/yamux/mod.ts";
import { identify } from "../../protocols/identify/mod.ts";
import { outcome, stopAll, until } from "../helpers/nodes.ts";
import { trackTimers } from "../multistream/helpers.ts";
import { detectUnhandled } from "./helpers.ts";
import { NoiseEncrypter } from "../../protocols/noise/service.ts";

/** `conn` with some of its streams replaced (a wrapper: a connection's members are not spreadable). */
function withStreams<T extends ChannelConnection & { remoteAddr?: unknown; localAddr?: unknown }>(
  conn: T,
  streams: { readable?: ReadableStream<Uint8Array>; writable?: WritableStream<Uint8Array> },
): T {
  const w = web(conn);
  return {
    channel: streamChannel({
      readable: streams.readable ?? w.readable,
      writable: streams.writable ?? w.writable,
    }),
    close: () => conn.close(),
    abort: (reason?: unknown) => conn.abort(reason),
    remoteAddr: conn.remoteAddr,
    localAddr: conn.localAddr,
  } as T;
}

/** A promise resolving to "still waiting" after `ms`, unless cleared. */
function deadline(ms: number): { promise: Promise<string>; clear: () => void } {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const promise = new Promise<string>((r) => (timer = setTimeout(() => r("still waiting"), ms)));
  return { promise, clear: () => clearTimeout(timer) };
}

const ECHO = "/test/echo/1.0.0";

/** memory(), recording the raw connections it dials; `onWrite` sees each outgoing chunk. */
function recording(onWrite?: (raw: RawConnection, chunk: Uint8Array, n: number) => void): {
  transport: Transport;
  raws: RawConnection[];
} {
  const inner = memory();
  const raws: RawConnection[] = [];
  return {
    raws,
    transport: {
      ...inner,
      name: "recording",
      async dial(addr: Multiaddr, options) {
        const raw = await inner.dial(addr, options);
        raws.push(raw);
        if (onWrite === undefined) return raw;
        let n = 0;
        const writer = web(raw).writable.getWriter();
        const writable = new WritableStream<Uint8Array>({
          write(chunk) {
            onWrite(raw, chunk, n++);
            return writer.write(chunk);
          },
          close: () => writer.close(),
          abort: (r) => writer.abort(r),
        });
        return withStreams(raw, { writable });
      },
      createListener: (init) => inner.createListener(init),
      listenFilter: (a) => inner.listenFilter(a),
      dialFilter: (a) => inner.dialFilter(a),
    },
  };
}

async function settledToZero(...nodes: Libp2pNode[]): Promise<void> {
  const total = (n: Libp2pNode): number => {
    const s = n.stats();
    return s.connections + s.peers + s.pendingDials + s.pendingUpgrades + s.guardedStreams +
      s.manager.connections + s.manager.pendingInbound + s.manager.trackedIps +
      s.resources.connections + s.resources.peers + s.resources.streams;
  };
  await until(() => nodes.every((n) => total(n) === 0)).catch(() => {});
  for (const n of nodes) {
    const s = n.stats();
    assert.deepEqual(
      {
        connections: s.connections,
        peers: s.peers,
        pendingDials: s.pendingDials,
        pendingUpgrades: s.pendingUpgrades,
        guardedStreams: s.guardedStreams,
        managerConnections: s.manager.connections,
        managerPending: s.manager.pendingInbound,
        trackedIps: s.manager.trackedIps,
        scopes: s.resources.connections,
        scopePeers: s.resources.peers,
        streams: s.resources.streams,
        protocols: s.resources.protocols,
      },
      {
        connections: 0,
        peers: 0,
        pendingDials: 0,
        pendingUpgrades: 0,
        guardedStreams: 0,
        managerConnections: 0,
        managerPending: 0,
        trackedIps: 0,
        scopes: 0,
        scopePeers: 0,
        streams: 0,
        protocols: {},
      },
    );
  }
}

function node(extra: Partial<NodeInit> = {}): Promise<Libp2pNode> {
  return createNode({
    transports: [memory()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    ...extra,
  });
}

describe("hardening faults", () => {
  it("socket destroyed mid-transfer with 64 streams: every stream fails with a reset-class error", async () => {
    const unhandled = detectUnhandled();
    const timers = trackTimers();
    const rec = recording();
    const server = await node({ listen: ["/memory/0"] });
    const serverOutcomes: Promise<unknown>[] = [];
    server.handle(ECHO, (s) => {
      const done = s.readable.pipeTo(s.writable).then(() => "eof", (e) => e);
      serverOutcomes.push(done);
      return done.then(() => {});
    }, { maxInboundStreams: 64 });
    const client = await node({ transports: [rec.transport] });
    const baseline = timers.live();
    try {
      const conn = await client.dial(server.addrs()[0]);
      const streams = await Promise.all(Array.from({ length: 64 }, () => conn.newStream(ECHO)));
      const reads = streams.map(async (s) => {
        const w = s.writable.getWriter();
        await w.write(new Uint8Array(1000)).catch(() => {});
        w.releaseLock();
        return await outcome(s.readable);
      });
      await until(() => serverOutcomes.length === 64);
      rec.raws[0].abort(new Error("socket destroyed"));
      const results = await Promise.all(reads);
      for (const r of results) {
        assert.equal(r.kind, "error", "never a clean EOF");
        const e = (r as { error: unknown }).error;
        assert.ok(
          e instanceof StreamResetError || e instanceof ConnectionClosedError,
          `reset-class error, got ${e}`,
        );
      }
      const serverResults = await Promise.all(serverOutcomes);
      assert.ok(serverResults.every((r) => r !== "eof"), "server streams fail too");
      await settledToZero(client, server);
      // The peer can reconnect.
      const again = await client.dialProtocol(server.addrs()[0], ECHO);
      const w = again.writable.getWriter();
      await w.write(new Uint8Array([7]));
      await w.close();
      const back = await outcome(again.readable);
      assert.deepEqual(back, { kind: "eof", bytes: new Uint8Array([7]) });
      await client.hangUp(server.peerId);
      await settledToZero(client, server);
      await until(() => timers.live() <= baseline).catch(() => {});
      assert.equal(timers.live(), baseline, "no leaked timers");
      assert.deepEqual(unhandled.errors, []);
    } finally {
      timers.restore();
      unhandled.stop();
      await stopAll(client, server);
    }
  });

  it("a peer that stops reading and never closes: keep-alive fails, pending writes reject", async () => {
    const unhandled = detectUnhandled();
    // The server's side of the socket: its reads freeze on demand, it never closes.
    const inner = memory();
    let freeze = false;
    const frozen: Transport = {
      ...inner,
      name: "frozen",
      dial: (a, o) => inner.dial(a, o),
      createListener: (init) =>
        inner.createListener({
          ...init,
          onConnection(raw) {
            const reader = web(raw).readable.getReader();
            const readable = new ReadableStream<Uint8Array>({
              async pull(c) {
                if (freeze) return new Promise<void>(() => {});
                const r = await reader.read();
                if (r.done) c.close();
                else c.enqueue(r.value);
              },
            }, { highWaterMark: 0 });
            init.onConnection(withStreams(raw, { readable }));
          },
        }),
      listenFilter: (a) => inner.listenFilter(a),
      dialFilter: (a) => inner.dialFilter(a),
    };
    const server = await createNode({
      stopTimeoutMs: 100,
      transports: [frozen],
      connectionEncrypters: [noise()],
      streamMuxers: [yamux({ keepAliveIntervalMs: 0 })],
      listen: ["/memory/0"],
    });
    server.handle(ECHO, () => new Promise(() => {}));
    const client = await node({
      streamMuxers: [yamux({ keepAliveIntervalMs: 100, pingTimeoutMs: 200, goAwayTimeoutMs: 300 })],
    });
    try {
      const conn = await client.dial(server.addrs()[0]);
      const stream = await conn.newStream(ECHO);
      freeze = true;
      const writer = stream.writable.getWriter();
      // Far more than windows and pipes hold: some write must block, then fail.
      const writes = (async () => {
        for (let i = 0; i < 64; i++) await writer.write(new Uint8Array(64 * 1024));
        return "all written";
      })().catch((e) => e as Error);
      const bound = deadline(10_000);
      const first = await Promise.race([writes, bound.promise]);
      bound.clear();
      assert.notEqual(first, "still waiting", "a pending write must not wait forever");
      assert.notEqual(first, "all written");
      // The session then flushes its GoAway to a socket nobody reads: bounded by goAwayTimeoutMs.
      await conn.closed;
      assert.equal(conn.status, "closed");
      await settledToZero(client);
      assert.deepEqual(unhandled.errors, []);
    } finally {
      unhandled.stop();
      await stopAll(client, server);
    }
  });

  const stages = ["multistream", "noise", "identify"] as const;
  for (const stage of stages) {
    it(`abort during ${stage}: no leaked timers, listeners or counters`, async () => {
      const unhandled = detectUnhandled();
      const timers = trackTimers();
      // multistream: the dialer's first write (the security proposal) destroys the socket.
      const rec = recording((raw, _chunk, n) => {
        if (stage === "multistream" && n === 0) queueMicrotask(() => raw.abort(new Error("cut")));
      });
      const security = stage === "noise"
        ? (init: { privateKey: PrivateKey }): ConnectionEncrypter => {
          const inner = new NoiseEncrypter(init);
          return {
            protocol: inner.protocol,
            secureInbound: (c, o) => inner.secureInbound(c, o),
            // Noise message 1 goes out, then the socket is destroyed mid-handshake.
            secureOutbound: (c, o) => {
              const writer = web(c).writable.getWriter();
              const writable = new WritableStream<Uint8Array>({
                async write(chunk) {
                  await writer.write(chunk);
                  c.abort(new Error("cut during noise"));
                },
              });
              return inner.secureOutbound(withStreams(c, { writable }), o);
            },
          };
        }
        : noise();
      const server = await node({
        listen: ["/memory/0"],
        services: { identify: identify() },
      });
      const client = await node({
        transports: [rec.transport],
        connectionEncrypters: [security],
        services: { identify: identify() },
      });
      if (stage === "identify") {
        client.addEventListener("connection:open", (e) => {
          // identify opened its stream in an earlier listener; cut while it runs.
          queueMicrotask(() => e.detail.abort(new Error("cut during identify")));
        });
      }
      const baseline = timers.live();
      try {
        const result = await client.dial(server.addrs()[0]).then(
          (c) => c.closed.then(() => "closed"),
          (e: Error) => `failed: ${e.name}`,
        );
        assert.ok(stage === "identify" ? result === "closed" : result.startsWith("failed"), result);
        await settledToZero(client, server);
        await until(() => timers.live() <= baseline).catch(() => {});
        assert.equal(timers.live(), baseline, "no leaked timers");
        assert.deepEqual(unhandled.errors, []);
      } finally {
        timers.restore();
        unhandled.stop();
        await stopAll(client, server);
      }
    });
  }
});
