/**
 * The node over the memory transport with the real stack (Noise + Yamux, and plaintext +
 * mplex): dialling, reuse, merged concurrent dials, handlers, limits, events and shutdown.
 */

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { createNode, type Libp2pNode, type NodeInit } from "../../src/node/node.ts";
import type { Stream } from "../../src/connection.ts";
import { generateKeyPair, peerIdFromPublicKey } from "../../src/keys/mod.ts";
import { multiaddr } from "../../src/multiaddr/mod.ts";
import { PeerIdMismatchError, ProtocolNegotiationError, TimeoutError } from "../../src/errors.ts";
import { memory } from "../../transports/memory/mod.ts";
import { until } from "../helpers/nodes.ts";
import { noise } from "../../protocols/noise/mod.ts";
import { yamux } from "../../protocols/yamux/mod.ts";
import { mplex } from "../../protocols/mplex/mod.ts";
import { plaintext } from "../../protocols/plaintext/mod.ts";

const ECHO = "/echo/1.0.0";

function stacks(): Record<string, () => Pick<NodeInit, "connectionEncrypters" | "streamMuxers">> {
  return {
    "noise+yamux": () => ({ connectionEncrypters: [noise()], streamMuxers: [yamux()] }),
    "noise+mplex": () => ({ connectionEncrypters: [noise()], streamMuxers: [mplex()] }),
    "plaintext+yamux": () => ({ connectionEncrypters: [plaintext()], streamMuxers: [yamux()] }),
  };
}

async function pair(
  stack: () => Pick<NodeInit, "connectionEncrypters" | "streamMuxers">,
  extra: Partial<NodeInit> = {},
): Promise<[Libp2pNode, Libp2pNode]> {
  const a = await createNode({ transports: [memory()], ...stack(), ...extra });
  const b = await createNode({
    transports: [memory()],
    listen: ["/memory/0"],
    ...stack(),
    ...extra,
  });
  b.handle(ECHO, (stream) => stream.readable.pipeTo(stream.writable));
  return [a, b];
}

async function echoOnce(stream: Stream, bytes: Uint8Array): Promise<Uint8Array> {
  const writer = stream.writable.getWriter();
  await writer.write(bytes);
  await writer.close();
  const chunks: Uint8Array[] = [];
  for await (const c of stream.readable) chunks.push(c);
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.byteLength, 0));
  let o = 0;
  for (const c of chunks) {
    out.set(c, o);
    o += c.byteLength;
  }
  return out;
}

for (const [name, stack] of Object.entries(stacks())) {
  describe(`node over memory (${name})`, () => {
    it("dials, negotiates a protocol and echoes bytes", async () => {
      const [a, b] = await pair(stack);
      try {
        const stream = await a.dialProtocol(b.addrs()[0], ECHO);
        assert.equal(stream.protocol, ECHO);
        assert.ok(stream.remotePeer.equals(b.peerId));
        const data = new TextEncoder().encode("hello libp2p ".repeat(1000));
        assert.deepEqual(await echoOnce(stream, data), data);
      } finally {
        await a.stop();
        await b.stop();
      }
    });

    it("reuses the connection and merges concurrent dials", async () => {
      const [a, b] = await pair(stack);
      try {
        const conns = await Promise.all(Array.from({ length: 5 }, () => a.dial(b.addrs()[0])));
        assert.equal(new Set(conns).size, 1);
        const again = await a.dial(b.peerId);
        assert.equal(again, conns[0]);
        assert.equal(a.getConnections().length, 1);
        assert.equal(a.getConnections(b.peerId).length, 1);
      } finally {
        await a.stop();
        await b.stop();
      }
    });

    it("fires peer and connection events, and stop() closes everything", async () => {
      const [a, b] = await pair(stack);
      const seen: string[] = [];
      a.addEventListener("peer:connect", (e) => seen.push(`connect ${e.detail.toString()}`));
      a.addEventListener("peer:disconnect", (e) => seen.push(`disconnect ${e.detail.toString()}`));
      await a.dial(b.addrs()[0]);
      await b.stop();
      // b's stop closes the connection; a notices.
      await Promise.all(a.getConnections().map((c) => c.closed));
      assert.deepEqual(seen, [`connect ${b.peerId}`, `disconnect ${b.peerId}`]);
      assert.equal(a.getConnections().length, 0);
      await a.stop();
      assert.equal(a.status, "stopped");
    });

    it("rejects a protocol the remote does not serve", async () => {
      const [a, b] = await pair(stack);
      try {
        await assert.rejects(
          (async () => {
            const s = await a.dialProtocol(b.addrs()[0], "/nope/1.0.0");
            // Lazy negotiation reports the refusal on first read.
            await s.readable.getReader().read();
          })(),
          ProtocolNegotiationError,
        );
        // The refused stream is reset and freed at once, not left open until the connection
        // closes (a graceful stop() would otherwise wait for it).
        const conn = a.getConnections()[0];
        assert.equal(conn.streams.length, 0);
      } finally {
        await a.stop();
        await b.stop();
      }
    });

    it("resets a refused stream at once even while the app holds its writer", async () => {
      const [a, b] = await pair(stack);
      try {
        const s = await a.dialProtocol(b.addrs()[0], "/nope/1.0.0");
        const writer = s.writable.getWriter();
        await assert.rejects(s.readable.getReader().read(), ProtocolNegotiationError);
        const conn = a.getConnections()[0];
        await until(() => conn.streams.length === 0, 2000);
        writer.releaseLock();
      } finally {
        await a.stop();
        await b.stop();
      }
    });
  });
}

describe("node guarantees", () => {
  it("fails the dial when the remote proves another peer id", async () => {
    const [a, b] = await pair(stacks()["noise+yamux"]);
    try {
      const other = peerIdFromPublicKey((await generateKeyPair("Ed25519")).publicKey);
      const wrong = b.addrs()[0].decapsulateCode(421).encapsulate(`/p2p/${other}`);
      await assert.rejects(a.dial(wrong), (err: Error) => {
        const causes = [err, ...((err as { errors?: Error[] }).errors ?? [])];
        return causes.some((e) => e instanceof PeerIdMismatchError);
      });
      assert.equal(a.getConnections().length, 0);
    } finally {
      await a.stop();
      await b.stop();
    }
  });

  it("enforces maxInboundStreams per protocol", async () => {
    const [a, b] = await pair(stacks()["noise+yamux"]);
    // An echo handler keeps each stream (and its slot) until the dialer closes it.
    b.handle("/held-echo/1.0.0", (stream) => stream.readable.pipeTo(stream.writable), {
      maxInboundStreams: 2,
    });
    try {
      const conn = await a.dial(b.addrs()[0]);
      const outcomes: string[] = [];
      const streams = [];
      for (let i = 0; i < 3; i++) {
        const s = await conn.newStream("/held-echo/1.0.0");
        streams.push(s);
        const w = s.writable.getWriter();
        await w.write(new Uint8Array([i]));
        w.releaseLock();
        const r = s.readable.getReader();
        try {
          const { value } = await r.read();
          outcomes.push(`echo ${value?.[0]}`);
        } catch (err) {
          outcomes.push((err as Error).name);
        } finally {
          r.releaseLock();
        }
      }
      assert.deepEqual(outcomes.slice(0, 2), ["echo 0", "echo 1"]);
      assert.equal(outcomes[2], "StreamResetError");
      for (const s of streams) s.reset();
    } finally {
      await a.stop();
      await b.stop();
    }
  });

  it("times out an upgrade against a listener that never answers", async () => {
    const transport = memory();
    const silent = transport.createListener({ onConnection: () => {} });
    await silent.listen(multiaddr("/memory/0"));
    const a = await createNode({
      transports: [transport],
      connectionEncrypters: [noise()],
      streamMuxers: [yamux()],
      upgradeTimeoutMs: 100,
    });
    try {
      await assert.rejects(a.dial(silent.getAddrs()[0]), (err: Error) => {
        const causes = [err, ...((err as { errors?: Error[] }).errors ?? [])];
        return causes.some((e) => e instanceof TimeoutError);
      });
    } finally {
      await a.stop();
      await silent.close();
    }
  });
});
