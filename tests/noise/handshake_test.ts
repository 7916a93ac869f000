/**
 * Full libp2p Noise handshakes ours <-> ours over in-memory pairs: every identity key type,
 * every crypto provider, data both ways (multi-MiB, split into frames), early muxer
 * negotiation and extensions.
 */

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { HandshakeError } from "../../src/errors.ts";
import { peerIdFromPublicKey } from "../../src/keys/mod.ts";
import { connPair } from "../helpers/conn.ts";
import { nobleCrypto } from "../../protocols/noise/crypto.ts";
import { NoiseEncrypter, type NoiseInit, selectEarlyMuxer } from "../../protocols/noise/service.ts";
import { type WebEncrypter, webEncrypter } from "../helpers/conn.ts";
const noise = (init: NoiseInit): WebEncrypter => webEncrypter(new NoiseEncrypter(init));
import { cryptoProviders } from "./providers.ts";
import { key, pattern, readAll, rechunk, recording, relayedPair, writeAll } from "./helpers.ts";

const providers = await cryptoProviders();

describe("noise: early muxer selection (inlined-muxer-negotiation.md)", () => {
  it("the initiator's preference wins", () => {
    assert.equal(
      selectEarlyMuxer(["/yamux/1.0.0", "/mplex/6.7.0"], ["/mplex/6.7.0", "/yamux/1.0.0"]),
      "/yamux/1.0.0",
    );
    assert.equal(selectEarlyMuxer(["/a", "/b"], ["/b"]), "/b");
  });
  it("no list on either side: no early muxer; no overlap: null (handshake fails)", () => {
    assert.equal(selectEarlyMuxer([], ["/yamux/1.0.0"]), undefined);
    assert.equal(selectEarlyMuxer(["/yamux/1.0.0"], []), undefined);
    assert.equal(selectEarlyMuxer(["/a"], ["/b"]), null);
  });
});

for (const type of ["Ed25519", "secp256k1", "ECDSA", "RSA"] as const) {
  describe(`noise handshake with ${type} identities`, () => {
    it("both sides learn each other's identity; data flows both ways; close ends reads", async () => {
      const aliceKey = await key(type, 0);
      const bobKey = await key(type, 1);
      const [a, b] = connPair();
      const bobId = peerIdFromPublicKey(bobKey.publicKey);
      const [out, inc] = await Promise.all([
        noise({ privateKey: aliceKey }).secureOutbound(a, { remotePeer: bobId }),
        noise({ privateKey: bobKey }).secureInbound(b),
      ]);
      assert.ok(out.remotePeer.equals(bobId));
      assert.ok(inc.remotePeer.equals(peerIdFromPublicKey(aliceKey.publicKey)));
      assert.ok(out.remotePublicKey.equals(bobKey.publicKey));
      assert.ok(inc.remotePublicKey.equals(aliceKey.publicKey));
      assert.equal(out.earlyMuxer, undefined);
      const up = pattern(100_000, 1), down = pattern(70_000, 2);
      const [gotUp, gotDown] = await Promise.all([
        readAll(inc.readable),
        readAll(out.readable),
        writeAll(out.writable, up),
        writeAll(inc.writable, down),
      ]);
      assert.deepEqual(gotUp, up);
      assert.deepEqual(gotDown, down);
    });
  });
}

for (const c of providers) {
  describe(`noise handshake over the ${c.name} provider`, () => {
    it("several MiB each way in mixed write sizes, frames split at odd chunk sizes", async () => {
      const [a, b] = relayedPair(rechunk(40_001), rechunk(3_333));
      const [out, inc] = await Promise.all([
        noise({ privateKey: await key("Ed25519", 0), crypto: c }).secureOutbound(a),
        noise({ privateKey: await key("Ed25519", 1), crypto: c }).secureInbound(b),
      ]);
      const up = pattern(5 * 1024 * 1024 + 3, 3), down = pattern(3 * 1024 * 1024 + 1, 4);
      const [gotUp, gotDown] = await Promise.all([
        readAll(inc.readable),
        readAll(out.readable),
        writeAll(out.writable, up, 1_000_003),
        writeAll(inc.writable, down, 65_519),
      ]);
      assert.equal(gotUp.byteLength, up.byteLength);
      assert.deepEqual(gotUp, up);
      assert.deepEqual(gotDown, down);
    });

    it("the whole connection survives 1-byte chunks (handshake and transport)", async () => {
      const [a, b] = relayedPair(rechunk(1), rechunk(1));
      const [out, inc] = await Promise.all([
        noise({ privateKey: await key("Ed25519", 0), crypto: c }).secureOutbound(a),
        noise({ privateKey: await key("secp256k1", 1), crypto: c }).secureInbound(b),
      ]);
      const up = pattern(3000, 5);
      const [got] = await Promise.all([readAll(inc.readable), writeAll(out.writable, up, 700)]);
      assert.deepEqual(got, up);
    });
  });
}

describe("noise early muxer negotiation and extensions", () => {
  it("both offer lists: both sides agree on the initiator's first common muxer", async () => {
    const [a, b] = connPair();
    const [out, inc] = await Promise.all([
      noise({ privateKey: await key("Ed25519", 0) }).secureOutbound(a, {
        muxers: ["/yamux/1.0.0", "/mplex/6.7.0"],
      }),
      noise({ privateKey: await key("Ed25519", 1) }).secureInbound(b, {
        muxers: ["/mplex/6.7.0", "/yamux/1.0.0"],
      }),
    ]);
    assert.equal(out.earlyMuxer, "/yamux/1.0.0");
    assert.equal(inc.earlyMuxer, "/yamux/1.0.0");
    assert.deepEqual(out.remoteExtensions?.streamMuxers, ["/mplex/6.7.0", "/yamux/1.0.0"]);
    assert.deepEqual(inc.remoteExtensions?.streamMuxers, ["/yamux/1.0.0", "/mplex/6.7.0"]);
    await Promise.all([out.close(), inc.close()]);
  });

  it("one side offers none: no early muxer on either side", async () => {
    for (const [im, rm] of [[[], ["/yamux/1.0.0"]], [["/yamux/1.0.0"], []]]) {
      const [a, b] = connPair();
      const [out, inc] = await Promise.all([
        noise({ privateKey: await key("Ed25519", 0) }).secureOutbound(a, { muxers: im }),
        noise({ privateKey: await key("Ed25519", 1) }).secureInbound(b, { muxers: rm }),
      ]);
      assert.equal(out.earlyMuxer, undefined);
      assert.equal(inc.earlyMuxer, undefined);
    }
  });

  it("both offer lists without overlap: the handshake fails on both sides", async () => {
    const [a, b] = connPair();
    const results = await Promise.allSettled([
      noise({ privateKey: await key("Ed25519", 0) }).secureOutbound(a, { muxers: ["/a/1"] }),
      noise({ privateKey: await key("Ed25519", 1) }).secureInbound(b, { muxers: ["/b/1"] }),
    ]);
    for (const r of results) {
      assert.equal(r.status, "rejected");
      assert.ok((r as PromiseRejectedResult).reason instanceof HandshakeError);
    }
  });

  it("webtransport certhashes reach the other side", async () => {
    const hashes = [pattern(34, 1), pattern(34, 2)];
    const [a, b] = connPair();
    const [out, inc] = await Promise.all([
      noise({ privateKey: await key("Ed25519", 0) }).secureOutbound(a),
      noise({
        privateKey: await key("Ed25519", 1),
        extensions: { webtransportCerthashes: hashes },
      }).secureInbound(b),
    ]);
    assert.deepEqual(out.remoteExtensions?.webtransportCerthashes, hashes);
    assert.deepEqual(inc.remoteExtensions?.webtransportCerthashes, []);
  });

  it("a fixed static key is used and stays the same across connections", async () => {
    const staticNoiseKey = pattern(32, 9);
    const rawEnc = new NoiseEncrypter({ privateKey: await key("Ed25519", 1), staticNoiseKey });
    const enc = webEncrypter(rawEnc);
    const expected = await rawEnc.staticPublicKey();
    assert.deepEqual(expected, nobleCrypto.x25519PublicKey(staticNoiseKey));
    for (let i = 0; i < 2; i++) {
      const [a, b] = connPair();
      const [out] = await Promise.all([
        noise({ privateKey: await key("Ed25519", 0) }).secureOutbound(a),
        enc.secureInbound(b),
      ]);
      assert.ok(out.remotePeer);
    }
    assert.deepEqual(await rawEnc.staticPublicKey(), expected);
  });

  it("close() flushes pending data, then closes the raw connection", async () => {
    const [a0, b] = connPair();
    const a = recording(a0);
    const [out, inc] = await Promise.all([
      noise({ privateKey: await key("Ed25519", 0) }).secureOutbound(a),
      noise({ privateKey: await key("Ed25519", 1) }).secureInbound(b),
    ]);
    const w = out.writable.getWriter();
    const data = pattern(200_000, 8);
    const written = w.write(data);
    w.releaseLock();
    const reading = readAll(inc.readable);
    await written;
    await out.close();
    assert.deepEqual(await reading, data);
    assert.equal(a.closed, 1);
    assert.equal(a.aborted.length, 0);
  });
});

describe("noise secured connection teardown", () => {
  it("abort() tears down both directions on both ends", async () => {
    const [a0, b] = connPair();
    const a = recording(a0);
    const [out, inc] = await Promise.all([
      noise({ privateKey: await key("Ed25519", 0) }).secureOutbound(a),
      noise({ privateKey: await key("Ed25519", 1) }).secureInbound(b),
    ]);
    const reading = readAll(out.readable);
    const remoteReading = readAll(inc.readable);
    const reason = new Error("bye");
    out.abort(reason);
    out.abort(new Error("second abort is ignored"));
    await assert.rejects(reading);
    await assert.rejects(remoteReading);
    const w = out.writable.getWriter();
    await assert.rejects(w.write(new Uint8Array(1)));
    assert.deepEqual(a.aborted, [reason]);
  });

  it("the remote half-closing ends our readable while we can still write", async () => {
    const [a, b] = connPair();
    const [out, inc] = await Promise.all([
      noise({ privateKey: await key("Ed25519", 0) }).secureOutbound(a),
      noise({ privateKey: await key("Ed25519", 1) }).secureInbound(b),
    ]);
    await writeAll(inc.writable, pattern(10, 1));
    assert.deepEqual(await readAll(out.readable), pattern(10, 1));
    const [got] = await Promise.all([
      readAll(inc.readable),
      writeAll(out.writable, pattern(20, 2)),
    ]);
    assert.deepEqual(got, pattern(20, 2));
  });
});

describe("noise options", () => {
  it("validates its options once", async () => {
    assert.throws(() => noise({} as never), TypeError);
    const privateKey = await key("Ed25519", 0);
    assert.throws(() => noise({ privateKey, staticNoiseKey: new Uint8Array(31) }), TypeError);
    assert.throws(() => noise({ privateKey, handshakeTimeoutMs: -1 }), RangeError);
    assert.equal(noise({ privateKey }).protocol, "/noise");
  });
});
