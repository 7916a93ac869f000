// Interop: our Noise against js-libp2p's @chainsafe/libp2p-noise 17 over an in-memory pipe
// (connPair), js's side wrapped by tests/interop/js_stream_adapter.ts. Both directions, data
// both ways (multi-MiB, so frames are split), identity checks and early muxer negotiation.
//
// Skipped under Bun: js's Noise needs node:crypto's chacha20-poly1305, which Bun lacks
// (js-libp2p modules also need Promise.withResolvers, so they run under Deno here).
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { noise as jsNoise } from "@chainsafe/libp2p-noise";
import { privateKeyFromProtobuf as jsPrivateKeyFromProtobuf } from "@libp2p/crypto/keys";
import { peerIdFromString as jsPeerIdFromString } from "@libp2p/peer-id";
import { concat } from "../../src/bytes.ts";
import { PeerIdMismatchError } from "../../src/errors.ts";
import {
  generateKeyPair,
  peerIdFromPublicKey,
  type PrivateKey,
  privateKeyToProtobuf,
} from "../../src/keys/mod.ts";
import { connPair } from "../helpers/conn.ts";
import type { Duplex } from "../../src/stream/types.ts";
import { NoiseEncrypter, type NoiseInit } from "../../protocols/noise/service.ts";
import { type WebEncrypter, webEncrypter } from "../helpers/conn.ts";
const noise = (init: NoiseInit): WebEncrypter => webEncrypter(new NoiseEncrypter(init));
import { cryptoProviders } from "../noise/providers.ts";
import {
  fromJsStream,
  type JsMessageStreamLike,
  silentLogger,
  toJsStream,
} from "./js_stream_adapter.ts";

const skip = "Bun" in globalThis
  ? "js-libp2p noise needs node:crypto chacha20-poly1305, which Bun lacks"
  : false;

function pattern(length: number, seed = 1): Uint8Array {
  const out = new Uint8Array(length);
  let x = seed;
  for (let i = 0; i < length; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    out[i] = x >>> 24;
  }
  return out;
}

// deno-lint-ignore no-explicit-any
type Any = any;

/** A js Noise instance for one of our keys; `muxers` is what js's upgrader would offer. */
function jsNoiseFor(key: PrivateKey, muxers: string[] = []): Any {
  const privateKey = jsPrivateKeyFromProtobuf(privateKeyToProtobuf(key));
  const components = {
    privateKey,
    logger: { forComponent: (name: string) => silentLogger(name) },
    upgrader: {
      getStreamMuxers: () => new Map(muxers.map((m) => [m, { protocol: m }])),
    },
  };
  return (jsNoise() as Any)(components);
}

async function readN(readable: ReadableStream<Uint8Array>, n: number): Promise<Uint8Array> {
  const reader = readable.getReader();
  const parts: Uint8Array[] = [];
  let got = 0;
  while (got < n) {
    const { value, done } = await reader.read();
    if (done) break;
    parts.push(value);
    got += value.byteLength;
  }
  reader.releaseLock();
  return concat(parts);
}

async function write(writable: WritableStream<Uint8Array>, data: Uint8Array, chunk = 100_000) {
  const w = writable.getWriter();
  for (let i = 0; i < data.byteLength; i += chunk) await w.write(data.subarray(i, i + chunk));
  w.releaseLock();
}

/** Data both ways between our secured duplex and js's secured connection. */
async function exchange(ours: Duplex, js: Duplex): Promise<void> {
  const small = new TextEncoder().encode("hello from us");
  const fromJs = new TextEncoder().encode("hello from js");
  await write(ours.writable, small);
  assert.deepEqual(await readN(js.readable, small.byteLength), small);
  await write(js.writable, fromJs);
  assert.deepEqual(await readN(ours.readable, fromJs.byteLength), fromJs);
  const up = pattern(3 * 1024 * 1024 + 7, 11), down = pattern(2 * 1024 * 1024 + 5, 12);
  const [gotUp, gotDown] = await Promise.all([
    readN(js.readable, up.byteLength),
    readN(ours.readable, down.byteLength),
    write(ours.writable, up, 1_000_000),
    write(js.writable, down, 65_536),
  ]);
  assert.deepEqual(gotUp, up);
  assert.deepEqual(gotDown, down);
}

const keys = {
  ours: await generateKeyPair("Ed25519"),
  theirs: await generateKeyPair("secp256k1"),
  other: await generateKeyPair("Ed25519"),
};

describe("noise interop with @chainsafe/libp2p-noise 17", () => {
  it("js initiator -> our responder: identities, data both ways", { skip }, async () => {
    const [a, b] = connPair();
    const js = jsNoiseFor(keys.theirs);
    const ourId = peerIdFromPublicKey(keys.ours.publicKey);
    const [theirs, ours] = await Promise.all([
      js.secureOutbound(toJsStream(a), { remotePeer: jsPeerIdFromString(ourId.toString()) }),
      noise({ privateKey: keys.ours }).secureInbound(b),
    ]);
    assert.equal(theirs.remotePeer.toString(), ourId.toString());
    assert.ok(ours.remotePeer.equals(peerIdFromPublicKey(keys.theirs.publicKey)));
    assert.ok(ours.remotePublicKey.equals(keys.theirs.publicKey));
    await exchange(ours, fromJsStream(theirs.connection as JsMessageStreamLike));
    ours.abort();
  });

  it("our initiator -> js responder: identities, data both ways", { skip }, async () => {
    const [a, b] = connPair();
    const js = jsNoiseFor(keys.theirs);
    const theirId = peerIdFromPublicKey(keys.theirs.publicKey);
    const [ours, theirs] = await Promise.all([
      noise({ privateKey: keys.ours }).secureOutbound(a, { remotePeer: theirId }),
      js.secureInbound(toJsStream(b, { direction: "inbound" })),
    ]);
    assert.ok(ours.remotePeer.equals(theirId));
    assert.equal(theirs.remotePeer.toString(), peerIdFromPublicKey(keys.ours.publicKey).toString());
    await exchange(ours, fromJsStream(theirs.connection as JsMessageStreamLike));
    ours.abort();
  });

  it("every crypto provider of ours talks to js, in both roles", { skip }, async () => {
    for (const crypto of await cryptoProviders()) {
      for (const initiator of ["ours", "js"] as const) {
        const [a, b] = connPair();
        const js = jsNoiseFor(keys.theirs);
        const [ours, theirs] = initiator === "ours"
          ? await Promise.all([
            noise({ privateKey: keys.ours, crypto }).secureOutbound(a),
            js.secureInbound(toJsStream(b, { direction: "inbound" })),
          ])
          : (await Promise.all([
            js.secureOutbound(toJsStream(a)),
            noise({ privateKey: keys.ours, crypto }).secureInbound(b),
          ])).reverse();
        await exchange(ours, fromJsStream(theirs.connection as JsMessageStreamLike));
        ours.abort();
      }
    }
  });

  it("RSA identity on our side is accepted by js", { skip }, async () => {
    const rsa = await generateKeyPair("RSA");
    const [a, b] = connPair();
    const [ours, theirs] = await Promise.all([
      noise({ privateKey: rsa }).secureOutbound(a),
      jsNoiseFor(keys.theirs).secureInbound(toJsStream(b, { direction: "inbound" })),
    ]);
    assert.equal(theirs.remotePeer.toString(), peerIdFromPublicKey(rsa.publicKey).toString());
    assert.ok(ours.remotePeer.equals(peerIdFromPublicKey(keys.theirs.publicKey)));
    ours.abort();
  });

  // Note: as initiator js picks the first entry of the RESPONDER's list that it supports
  // (@chainsafe/libp2p-noise 17 getStreamMuxer), while the spec (inlined-muxer-negotiation.md)
  // and go-libp2p use the initiator's order. With one common muxer both rules agree; with two
  // listed in different orders js-as-initiator and a spec-following responder disagree.
  // We follow the spec; js is at fault there.
  it("early muxer: js initiator's list and ours agree on yamux", { skip }, async () => {
    const [a, b] = connPair();
    const js = jsNoiseFor(keys.theirs, ["/yamux/1.0.0"]);
    const [theirs, ours] = await Promise.all([
      js.secureOutbound(toJsStream(a)),
      noise({ privateKey: keys.ours }).secureInbound(b, {
        muxers: ["/yamux/1.0.0", "/mplex/6.7.0"],
      }),
    ]);
    assert.equal(ours.earlyMuxer, "/yamux/1.0.0");
    assert.deepEqual(ours.remoteExtensions?.streamMuxers, ["/yamux/1.0.0"]);
    assert.equal(theirs.streamMuxer?.protocol, "/yamux/1.0.0");
    assert.deepEqual(theirs.remoteExtensions?.streamMuxers, ["/yamux/1.0.0", "/mplex/6.7.0"]);
    ours.abort();
  });

  it("early muxer: our initiator's preference is what js (responder) picks", { skip }, async () => {
    const [a, b] = connPair();
    const js = jsNoiseFor(keys.theirs, ["/mplex/6.7.0", "/yamux/1.0.0"]);
    const [ours, theirs] = await Promise.all([
      noise({ privateKey: keys.ours }).secureOutbound(a, {
        muxers: ["/yamux/1.0.0", "/mplex/6.7.0"],
      }),
      js.secureInbound(toJsStream(b, { direction: "inbound" })),
    ]);
    assert.equal(ours.earlyMuxer, "/yamux/1.0.0");
    assert.equal(theirs.streamMuxer?.protocol, "/yamux/1.0.0");
    await exchange(ours, fromJsStream(theirs.connection as JsMessageStreamLike));
    ours.abort();
  });

  // js answers a muxer list it shares nothing with by failing the handshake even when it
  // offered no list itself (getStreamMuxer throws), so the "one side offers none" row is run
  // with the empty list on our side, in both roles.
  it(
    "early muxer: no list from us -> none on either side (multistream follows)",
    { skip },
    async () => {
      for (const initiator of ["ours", "js"] as const) {
        const [a, b] = connPair();
        const js = jsNoiseFor(keys.theirs, ["/yamux/1.0.0"]);
        const [ours, theirs] = initiator === "ours"
          ? await Promise.all([
            noise({ privateKey: keys.ours }).secureOutbound(a, { muxers: [] }),
            js.secureInbound(toJsStream(b, { direction: "inbound" })),
          ])
          : (await Promise.all([
            js.secureOutbound(toJsStream(a)),
            noise({ privateKey: keys.ours }).secureInbound(b),
          ])).reverse();
        assert.equal(ours.earlyMuxer, undefined, initiator);
        assert.deepEqual(ours.remoteExtensions?.streamMuxers, ["/yamux/1.0.0"]);
        assert.equal(theirs.streamMuxer, undefined, initiator);
        ours.abort();
      }
    },
  );

  it(
    "our initiator dials the wrong peer id: PeerIdMismatchError, js gets nothing",
    { skip },
    async () => {
      const [a, b] = connPair();
      const wrong = peerIdFromPublicKey(keys.other.publicKey);
      const [ours, theirs] = await Promise.allSettled([
        noise({ privateKey: keys.ours }).secureOutbound(a, { remotePeer: wrong }),
        jsNoiseFor(keys.theirs).secureInbound(toJsStream(b, { direction: "inbound" })),
      ]);
      assert.equal(ours.status, "rejected");
      assert.ok((ours as PromiseRejectedResult).reason instanceof PeerIdMismatchError);
      assert.equal(theirs.status, "rejected");
    },
  );

  it("js initiator expecting another peer fails; our responder fails too", { skip }, async () => {
    const [a, b] = connPair();
    const wrong = jsPeerIdFromString(peerIdFromPublicKey(keys.other.publicKey).toString());
    const jsSide = toJsStream(a);
    const [theirs, ours] = await Promise.allSettled([
      jsNoiseFor(keys.theirs).secureOutbound(jsSide, { remotePeer: wrong }).catch((e: Error) => {
        jsSide.abort(e);
        throw e;
      }),
      noise({ privateKey: keys.ours, handshakeTimeoutMs: 2000 }).secureInbound(b),
    ]);
    assert.equal(theirs.status, "rejected");
    assert.equal(ours.status, "rejected");
  });
});
