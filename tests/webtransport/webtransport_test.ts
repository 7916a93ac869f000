/**
 * WebTransport end to end over 127.0.0.1 UDP (Deno with the unstable net API): the QUIC +
 * HTTP/3 session, the Noise handshake on the first stream with certhash checks, native streams
 * as the connection's muxer, and the stream semantics of src/muxer.ts that apply.
 *
 * Needs `Deno.QuicEndpoint` (`--unstable-net` or `"unstable": ["net"]` in deno.json); skipped
 * with the reason otherwise, and on Bun (no WebTransport, no QUIC API).
 */

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { generateKeyPair } from "../../src/keys/mod.ts";
import { peerIdFromPrivateKey } from "../../src/keys/peer_id_from_key.ts";
import type { PrivateKey } from "../../src/keys/types.ts";
import { multiaddr } from "../../src/multiaddr/mod.ts";
import { Upgrader } from "../../src/upgrader.ts";
import type { Connection, StreamHandlerRegistry } from "../../src/connection.ts";
import type { MuxedStream } from "../../src/muxer.ts";
import type { RawConnection } from "../../src/transport.ts";
import { yamux } from "../../protocols/yamux/mod.ts";
import { PeerIdMismatchError } from "../../src/errors.ts";
import {
  CerthashMismatchError,
  webTransport,
  WebTransportUnavailableError,
} from "../../transports/webtransport/mod.ts";
import { hasDenoQuic } from "../../src/runtime.ts";
import { generateCertificate } from "../../transports/webtransport/cert.ts";
import { parseWebTransportAddr } from "../../transports/webtransport/address.ts";
import { NoiseEncrypter } from "../../protocols/noise/service.ts";

const SKIP = "Bun" in globalThis
  ? "Bun 1.4.5 has no WebTransport and no QUIC API"
  : !hasDenoQuic()
  ? "Deno.QuicEndpoint missing: run deno test with --unstable-net (or unstable: [net] in deno.json)"
  : false;

const ECHO = "/test/echo/1.0.0";

/** Handlers for both sides: echo until EOF, then half-close. */
const echoRegistry: StreamHandlerRegistry = {
  protocols: () => [ECHO],
  get: (protocol) =>
    protocol === ECHO
      ? {
        handler: (stream) => stream.readable.pipeTo(stream.writable).catch(() => {}),
        options: {},
      }
      : undefined,
};

function pattern(length: number, seed: number): Uint8Array {
  const out = new Uint8Array(length);
  for (let i = 0; i < length; i++) out[i] = (i * 31 + seed) & 0xff;
  return out;
}

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.byteLength === b.byteLength && a.every((v, i) => v === b[i]);
}

async function writeStream(w: WritableStream<Uint8Array>, data: Uint8Array): Promise<void> {
  const writer = w.getWriter();
  for (let i = 0; i < data.byteLength; i += 16384) await writer.write(data.slice(i, i + 16384));
  await writer.close();
}

const LISTEN = multiaddr("/ip4/127.0.0.1/udp/0/quic-v1/webtransport");

interface Peer {
  key: PrivateKey;
  upgrader: Upgrader;
  inbound: Connection[];
  streams: MuxedStream[];
}

async function peer(): Promise<Peer> {
  const key = await generateKeyPair("Ed25519");
  const p: Peer = {
    key,
    upgrader: undefined as unknown as Upgrader,
    inbound: [],
    streams: [],
  };
  p.upgrader = new Upgrader({
    encrypters: [new NoiseEncrypter({ privateKey: key })],
    muxers: [yamux()],
    privateKey: key,
    registry: echoRegistry,
  });
  return p;
}

function queue<T>(): { push(v: T): void; next(): Promise<T> } {
  const items: T[] = [];
  const waiters: ((v: T) => void)[] = [];
  return {
    push(v) {
      const w = waiters.shift();
      if (w) w(v);
      else items.push(v);
    },
    next() {
      const v = items.shift();
      return v !== undefined ? Promise.resolve(v) : new Promise((r) => waiters.push(r));
    },
  };
}

async function readAll(readable: ReadableStream<Uint8Array>): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  for await (const c of readable) parts.push(c);
  const out = new Uint8Array(parts.reduce((n, p) => n + p.byteLength, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.byteLength;
  }
  return out;
}

/** A listening server and a connected client; inbound streams arrive on `serverStreams`. */
async function setup() {
  const server = await peer();
  const client = await peer();
  const transport = webTransport();
  const raws = queue<RawConnection>();
  const listener = transport.createListener({ onConnection: (c) => raws.push(c) });
  await listener.listen(LISTEN);
  const addr = listener.getAddrs()[0];
  const serverConn = raws.next().then((raw) => server.upgrader.upgradeInbound(raw));
  const raw = await transport.dial(addr);
  const clientConn = await client.upgrader.upgradeOutbound(raw, {
    remotePeer: peerIdFromPrivateKey(server.key),
  });
  const sconn = await serverConn;
  return {
    server,
    client,
    transport,
    listener,
    addr,
    clientConn,
    serverConn: sconn,
    async dispose() {
      clientConn.abort();
      sconn.abort();
      await listener.close();
    },
  };
}

describe("webtransport on Deno (127.0.0.1 UDP)", { skip: SKIP }, () => {
  it("listener advertises quic-v1/webtransport with one sha2-256 certhash", async () => {
    const transport = webTransport();
    const listener = transport.createListener({ onConnection: (c) => c.abort() });
    await listener.listen(LISTEN);
    try {
      const [addr] = listener.getAddrs();
      const target = parseWebTransportAddr(addr)!;
      assert.ok(target.port > 0);
      assert.equal(target.certhashes.length, 1);
      assert.equal(target.certhashes[0].code, 0x12);
      assert.match(addr.toString(), /\/quic-v1\/webtransport\/certhash\/uEi/);
    } finally {
      await listener.close();
    }
  });

  it("a wildcard listen reports the interface addresses, each with the certhash", async () => {
    const transport = webTransport();
    const listener = transport.createListener({ onConnection: (c) => c.abort() });
    await listener.listen(multiaddr("/ip4/0.0.0.0/udp/0/quic-v1/webtransport"));
    try {
      const addrs = listener.getAddrs().map(String);
      assert.ok(addrs.length >= 1);
      assert.ok(addrs.every((a) => !a.startsWith("/ip4/0.0.0.0/")), addrs.join(" "));
      assert.ok(addrs.some((a) => a.startsWith("/ip4/127.0.0.1/udp/")), addrs.join(" "));
      assert.ok(addrs.every((a) => /\/certhash\/uEi/.test(a)));
    } finally {
      await listener.close();
    }
  });

  it("handshake: both sides authenticate each other, muxer is WebTransport itself", async () => {
    const t = await setup();
    try {
      assert.ok(t.clientConn.remotePeer.equals(peerIdFromPrivateKey(t.server.key)));
      assert.ok(t.serverConn.remotePeer.equals(peerIdFromPrivateKey(t.client.key)));
      assert.equal(t.clientConn.encryption, "/noise");
      assert.equal(t.clientConn.multiplexer, "/webtransport");
      assert.equal(t.serverConn.multiplexer, "/webtransport");
    } finally {
      await t.dispose();
    }
  });

  it("streams both ways with half-close (FIN) and exact bytes", async () => {
    const t = await setup();
    try {
      const data = pattern(300_000, 7);
      // client -> server echo: write all, half-close, read the echo to EOF
      const s1 = await t.clientConn.newStream(ECHO);
      const [, back] = await Promise.all([writeStream(s1.writable, data), readAll(s1.readable)]);
      assert.deepEqual(back, data);
      // server -> client on the same session
      const s2 = await t.serverConn.newStream(ECHO);
      const small = pattern(1000, 3);
      const [, back2] = await Promise.all([writeStream(s2.writable, small), readAll(s2.readable)]);
      assert.deepEqual(back2, small);
      assert.equal(s2.direction, "outbound");
    } finally {
      await t.dispose();
    }
  });

  it("keeps reading after the local side half-closed; 32 concurrent streams stay apart", async () => {
    const t = await setup();
    try {
      const results = await Promise.all(
        Array.from({ length: 32 }, async (_, i) => {
          const s = await t.clientConn.newStream(ECHO);
          const data = pattern(5000 + i, i);
          const [, back] = await Promise.all([writeStream(s.writable, data), readAll(s.readable)]);
          return equalBytes(back, data);
        }),
      );
      assert.deepEqual(results, Array(32).fill(true));
      assert.equal(t.clientConn.streams.length, 0, "every stream freed on the client");
    } finally {
      await t.dispose();
    }
  });

  it("closing the connection ends it on the other side", async () => {
    const t = await setup();
    try {
      const s = await t.clientConn.newStream(ECHO);
      const reading = readAll(s.readable).then(() => "ended", () => "errored");
      await t.serverConn.close();
      assert.equal(t.serverConn.status, "closed");
      await t.clientConn.closed;
      assert.notEqual(t.clientConn.status, "open");
      assert.ok(["ended", "errored"].includes(await reading));
    } finally {
      await t.dispose();
    }
  });

  it("rejects a server whose certhash is not the dialled one (possible MITM)", async () => {
    const server = await peer();
    const client = await peer();
    const transport = webTransport();
    const raws = queue<RawConnection>();
    const listener = transport.createListener({ onConnection: (c) => raws.push(c) });
    await listener.listen(LISTEN);
    try {
      const real = listener.getAddrs()[0];
      const other = await generateCertificate({
        notBefore: Date.now() - 60_000,
        notAfter: Date.now() + 86_400_000,
      });
      const target = parseWebTransportAddr(real)!;
      // The real hash (so TLS passes) plus one the server does not have: Noise must fail.
      const bad = multiaddr(`${real.toString()}/certhash/u${b64url(other.certhash.bytes)}`);
      raws.next().then((raw) => server.upgrader.upgradeInbound(raw)).catch(() => {});
      const raw = await transport.dial(bad);
      await assert.rejects(client.upgrader.upgradeOutbound(raw), CerthashMismatchError);
      assert.equal(target.certhashes.length, 1);
    } finally {
      await listener.close();
    }
  });

  it("fails at TLS when no dialled certhash matches the server certificate", async () => {
    const transport = webTransport();
    const listener = transport.createListener({ onConnection: (c) => c.abort() });
    await listener.listen(LISTEN);
    try {
      const target = parseWebTransportAddr(listener.getAddrs()[0])!;
      const other = await generateCertificate({
        notBefore: Date.now() - 60_000,
        notAfter: Date.now() + 86_400_000,
      });
      const wrong = multiaddr(
        `/ip4/127.0.0.1/udp/${target.port}/quic-v1/webtransport/certhash/u${
          b64url(other.certhash.bytes)
        }`,
      );
      await assert.rejects(transport.dial(wrong), /certificate|UnknownIssuer|handshake/i);
    } finally {
      await listener.close();
    }
  });

  it("dialling an unexpected peer id fails with PeerIdMismatchError", async () => {
    const server = await peer();
    const client = await peer();
    const stranger = await generateKeyPair("Ed25519");
    const transport = webTransport();
    const raws = queue<RawConnection>();
    const listener = transport.createListener({ onConnection: (c) => raws.push(c) });
    await listener.listen(LISTEN);
    try {
      raws.next().then((raw) => server.upgrader.upgradeInbound(raw)).catch(() => {});
      const raw = await transport.dial(listener.getAddrs()[0]);
      await assert.rejects(
        client.upgrader.upgradeOutbound(raw, { remotePeer: peerIdFromPrivateKey(stranger) }),
        PeerIdMismatchError,
      );
    } finally {
      await listener.close();
    }
  });
});

describe("webtransport without a runtime API", () => {
  it("listen and dial throw WebTransportUnavailableError on Bun", {
    skip: "Bun" in globalThis ? false : "only meaningful on Bun",
  }, async () => {
    const transport = webTransport();
    const listener = transport.createListener({ onConnection: (c) => c.abort() });
    await assert.rejects(listener.listen(LISTEN), WebTransportUnavailableError);
    const addr = multiaddr(
      "/ip4/127.0.0.1/udp/4433/quic-v1/webtransport/certhash/uEiDDq4_xNyDorZBH3TlGazyJdOWSwvo4PUo5YHFMrvDE8g",
    );
    await assert.rejects(transport.dial(addr), /not available on this runtime/);
  });

  it("filters addresses on every runtime", () => {
    const t = webTransport();
    const listen = multiaddr("/ip4/0.0.0.0/udp/0/quic-v1/webtransport");
    const dial = multiaddr(
      "/ip4/1.2.3.4/udp/4433/quic-v1/webtransport/certhash/uEiDDq4_xNyDorZBH3TlGazyJdOWSwvo4PUo5YHFMrvDE8g",
    );
    const tcp = multiaddr("/ip4/1.2.3.4/tcp/4001");
    assert.deepEqual(t.listenFilter([listen, dial, tcp]).map(String), [listen.toString()]);
    assert.deepEqual(t.dialFilter([listen, dial, tcp]).map(String), [
      listen.toString(),
      dial.toString(),
    ]);
  });
});

function b64url(bytes: Uint8Array): string {
  let s = "";
  for (const b of bytes) s += String.fromCharCode(b);
  return btoa(s).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}
