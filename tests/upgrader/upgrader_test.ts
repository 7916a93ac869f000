/**
 * The upgrader over in-memory pipes: security and muxer negotiation, Noise early muxer
 * negotiation, muxer fallback through multistream-select, the overall deadline and abort.
 */

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { Upgrader } from "../../src/upgrader.ts";
import { generateKeyPair, peerIdFromPublicKey } from "../../src/keys/mod.ts";
import type { PrivateKey } from "../../src/keys/types.ts";
import { multiaddr } from "../../src/multiaddr/mod.ts";
import type { ConnectionEncrypter, SecuredConnection } from "../../src/security.ts";
import type { StreamMuxerFactory } from "../../src/muxer.ts";
import { connPair, web } from "../helpers/conn.ts";
import type { RawConnection } from "../../src/transport.ts";
import { AbortError, ProtocolNegotiationError, TimeoutError } from "../../src/errors.ts";
import { Registrar } from "../../src/node/registrar.ts";
import { yamux } from "../../protocols/yamux/mod.ts";
import { mplex } from "../../protocols/mplex/mod.ts";
import { NoiseEncrypter } from "../../protocols/noise/service.ts";
import { PlaintextEncrypter } from "../../protocols/plaintext/service.ts";

function rawPair(): [RawConnection, RawConnection] {
  const [a, b] = connPair();
  return [
    Object.assign(a, { remoteAddr: multiaddr("/memory/b") }),
    Object.assign(b, { remoteAddr: multiaddr("/memory/a") }),
  ];
}

/** Wraps an encrypter to record what its handshakes returned. */
function recording(inner: ConnectionEncrypter, seen: SecuredConnection[]): ConnectionEncrypter {
  return {
    protocol: inner.protocol,
    secureOutbound: async (c, o) => {
      const s = await inner.secureOutbound(c, o);
      seen.push(s);
      return s;
    },
    secureInbound: async (c, o) => {
      const s = await inner.secureInbound(c, o);
      seen.push(s);
      return s;
    },
  };
}

function echoRegistry(): Registrar {
  const registrar = new Registrar();
  registrar.handle("/echo/1.0.0", (s) => s.readable.pipeTo(s.writable));
  return registrar;
}

async function upgradePair(
  security: (k: PrivateKey) => ConnectionEncrypter,
  dialerMuxers: StreamMuxerFactory[],
  listenerMuxers: StreamMuxerFactory[],
) {
  const [ka, kb] = await Promise.all([generateKeyPair("Ed25519"), generateKeyPair("Ed25519")]);
  const seen: SecuredConnection[] = [];
  const dialer = new Upgrader({
    encrypters: [recording(security(ka), seen)],
    muxers: dialerMuxers,
  });
  const listener = new Upgrader({
    encrypters: [recording(security(kb), seen)],
    muxers: listenerMuxers,
    registry: echoRegistry(),
  });
  const [ra, rb] = rawPair();
  const [out, inb] = await Promise.all([
    dialer.upgradeOutbound(ra, { remotePeer: peerIdFromPublicKey(kb.publicKey) }),
    listener.upgradeInbound(rb),
  ]);
  return { out, inb, seen, ka, kb };
}

async function echoOver(conn: import("../../src/connection.ts").Connection): Promise<void> {
  const stream = await conn.newStream("/echo/1.0.0");
  const w = stream.writable.getWriter();
  await w.write(new TextEncoder().encode("ping"));
  const r = stream.readable.getReader();
  const { value } = await r.read();
  assert.equal(new TextDecoder().decode(value), "ping");
  stream.reset();
}

describe("upgrader", () => {
  it("agrees on the muxer inside the Noise handshake when both sides offer one", async () => {
    const { out, inb, seen, ka, kb } = await upgradePair(
      (k) => new NoiseEncrypter({ privateKey: k }),
      [yamux(), mplex()],
      [yamux(), mplex()],
    );
    assert.deepEqual(seen.map((s) => s.earlyMuxer), ["/yamux/1.0.0", "/yamux/1.0.0"]);
    assert.equal(out.multiplexer, "/yamux/1.0.0");
    assert.equal(inb.multiplexer, "/yamux/1.0.0");
    assert.equal(out.encryption, "/noise");
    assert.ok(out.remotePeer.equals(peerIdFromPublicKey(kb.publicKey)));
    assert.ok(inb.remotePeer.equals(peerIdFromPublicKey(ka.publicKey)));
    assert.equal(out.direction, "outbound");
    assert.equal(inb.direction, "inbound");
    await echoOver(out);
    out.abort();
    inb.abort();
  });

  it("falls back to multistream-select for the muxer (plaintext has no early negotiation)", async () => {
    const { out, inb, seen } = await upgradePair(
      (k) => new PlaintextEncrypter({ privateKey: k }),
      [mplex(), yamux()],
      [yamux()],
    );
    assert.deepEqual(seen.map((s) => s.earlyMuxer), [undefined, undefined]);
    // The dialer prefers mplex; the listener only has yamux: `na`, then yamux.
    assert.equal(out.multiplexer, "/yamux/1.0.0");
    assert.equal(inb.multiplexer, "/yamux/1.0.0");
    await echoOver(out);
    out.abort();
    inb.abort();
  });

  it("fails both sides when no muxer is shared", async () => {
    const [ka, kb] = await Promise.all([generateKeyPair("Ed25519"), generateKeyPair("Ed25519")]);
    const dialer = new Upgrader({
      encrypters: [new PlaintextEncrypter({ privateKey: ka })],
      muxers: [mplex()],
    });
    const listener = new Upgrader({
      encrypters: [new PlaintextEncrypter({ privateKey: kb })],
      muxers: [yamux()],
    });
    const [ra, rb] = rawPair();
    const [a, b] = await Promise.allSettled([
      dialer.upgradeOutbound(ra),
      listener.upgradeInbound(rb),
    ]);
    assert.equal(a.status, "rejected");
    assert.ok((a as PromiseRejectedResult).reason instanceof ProtocolNegotiationError);
    assert.equal(b.status, "rejected");
  });

  it("fails at its deadline when the remote never answers, and aborts the socket", async () => {
    const key = await generateKeyPair("Ed25519");
    const upgrader = new Upgrader({
      encrypters: [new NoiseEncrypter({ privateKey: key })],
      muxers: [yamux()],
      upgradeTimeoutMs: 50,
    });
    const [ra, rb] = rawPair();
    await assert.rejects(upgrader.upgradeOutbound(ra), TimeoutError);
    // Our side was aborted: the silent peer's reads end.
    const reader = web(rb).readable.getReader();
    await assert.rejects(async () => {
      for (;;) if ((await reader.read()).done) throw new Error("ended");
    });
  });

  it("rejects with AbortError when the caller aborts", async () => {
    const key = await generateKeyPair("Ed25519");
    const upgrader = new Upgrader({
      encrypters: [new NoiseEncrypter({ privateKey: key })],
      muxers: [yamux()],
    });
    const [ra, rb] = rawPair();
    const controller = new AbortController();
    const pending = upgrader.upgradeOutbound(ra, { signal: controller.signal });
    controller.abort();
    await assert.rejects(pending, AbortError);
    rb.abort();
  });
});
