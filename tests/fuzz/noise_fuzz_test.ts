/**
 * Properties of protocols/noise: frame codec, the transport decryptor (reassembly across any
 * chunking, truncation, bit flips, garbage; HARDENING rule 9: a failed frame does not advance
 * the nonce), the handshake payload codec (round trip, limits, arbitrary input), and the XX
 * state machine (garbage or a flipped bit in any handshake message fails with HandshakeError,
 * never completes, never throws anything else).
 */

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { DecodeError, DecryptError, HandshakeError, LimitExceededError } from "../../src/errors.ts";
import { UnexpectedEOFError } from "../../src/stream/byte_reader.ts";
import { concat } from "../../src/bytes.ts";
import type { X25519KeyPair } from "../../protocols/noise/mod.ts";
import { CipherState, XXHandshakeState } from "../../protocols/noise/handshake.ts";
import { decodeFrameLength, encodeFrame } from "../../protocols/noise/codec.ts";
import {
  decodeHandshakePayload,
  encodeHandshakePayload,
  type NoiseHandshakePayload,
} from "../../protocols/noise/payload.ts";
import {
  MAX_CERTHASHES,
  MAX_FRAME,
  MAX_IDENTITY_KEY_LENGTH,
  MAX_IDENTITY_SIG_LENGTH,
  MAX_STREAM_MUXERS,
} from "../../protocols/noise/constants.ts";
import { nobleCrypto } from "../../protocols/noise/crypto.ts";
import { NoiseDecryptor, NoiseEncryptor } from "../../protocols/noise/transport.ts";
import { verifyHandshakePayload } from "../../protocols/noise/identity.ts";
import { ProtobufWriter } from "../../src/protobuf.ts";
import { encodeUvarint } from "../../src/varint.ts";
import { bitIndex, bytes, check, flipBit, only, onlyAsync, splitAt } from "./fuzz.ts";

const EMPTY = new Uint8Array(0);

function keyPair(seed: Uint8Array): X25519KeyPair {
  return { privateKey: seed, publicKey: nobleCrypto.x25519PublicKey(seed) };
}

const seed = fc.uint8Array({ minLength: 32, maxLength: 32 }).map((b) => new Uint8Array(b));
const seeds = fc.tuple(seed, seed, seed, seed);

/** A full XX handshake from fixed key material; returns the three messages and both results. */
function handshake(
  [is, ie, rs, re]: Uint8Array[],
  payloads: Uint8Array[] = [EMPTY, EMPTY, EMPTY],
  tamper?: (index: number, message: Uint8Array) => Uint8Array,
) {
  const i = new XXHandshakeState({
    crypto: nobleCrypto,
    initiator: true,
    staticKeyPair: keyPair(is),
    ephemeralKeyPair: keyPair(ie),
  });
  const r = new XXHandshakeState({
    crypto: nobleCrypto,
    initiator: false,
    staticKeyPair: keyPair(rs),
    ephemeralKeyPair: keyPair(re),
  });
  const messages: Uint8Array[] = [];
  const received: Uint8Array[] = [];
  const parties = [i, r, i];
  for (let index = 0; index < 3; index++) {
    const writer = parties[index];
    const reader = index === 1 ? i : r;
    let m = writer.writeMessage(payloads[index]);
    if (tamper) m = tamper(index, m);
    messages.push(m);
    received.push(reader.readMessage(m));
  }
  return { i, r, messages, received };
}

/**
 * A sending and a receiving CipherState over the same key (what split() gives the two sides),
 * built directly: a full handshake per run would only slow the transport properties down.
 */
function cipherPair(key: Uint8Array): { send: CipherState; receive: CipherState } {
  return { send: new CipherState(nobleCrypto, key), receive: new CipherState(nobleCrypto, key) };
}

describe("fuzz: noise framing and transport", () => {
  it("frames round trip; a header shorter than 2 bytes needs more", () => {
    check(
      "noise/frame-roundtrip",
      fc.property(bytes(300), fc.nat(1), (body, n) => {
        const enc = encodeFrame(body);
        assert.equal(decodeFrameLength(enc, 0), body.byteLength);
        assert.deepEqual(enc.subarray(2), body);
        assert.equal(decodeFrameLength(enc.subarray(0, n), 0), undefined);
      }),
    );
    check(
      "noise/frame-max",
      fc.property(fc.integer({ min: 1, max: 1000 }), (extra) => {
        assert.throws(() => encodeFrame(new Uint8Array(MAX_FRAME + extra)), RangeError);
        const enc = encodeFrame(new Uint8Array(MAX_FRAME));
        assert.equal(decodeFrameLength(enc, 0), MAX_FRAME);
      }),
      { scale: 0.05 },
    );
  });

  it("the decryptor reassembles frames across any chunking", () => {
    check(
      "noise/decrypt-chunking",
      fc.property(
        seed,
        fc.array(bytes(200), { maxLength: 6 }),
        fc.array(fc.nat(2000), { maxLength: 12 }),
        (keys, plaintexts, cuts) => {
          const { send, receive } = cipherPair(keys);
          const enc = new NoiseEncryptor(send);
          const wire = concat(plaintexts.map((p) => enc.seal(p)));
          const dec = new NoiseDecryptor(receive);
          const out: Uint8Array[] = [];
          for (const chunk of splitAt(wire, cuts)) dec.push(chunk, (p) => out.push(p.slice()));
          dec.end();
          assert.equal(dec.pendingBytes, 0);
          assert.deepEqual(concat(out), concat(plaintexts));
          assert.equal(receive.nonce, BigInt(plaintexts.filter((p) => p.byteLength > 0).length));
        },
      ),
      { scale: 0.5 },
    );
  });

  it("a truncated stream ends with UnexpectedEOFError after the complete frames", () => {
    check(
      "noise/decrypt-truncation",
      fc.property(
        seed,
        fc.array(bytes(100, 1), { minLength: 1, maxLength: 4 }),
        fc.nat(),
        (keys, pts, at) => {
          const { send, receive } = cipherPair(keys);
          const enc = new NoiseEncryptor(send);
          const frames = pts.map((p) => enc.seal(p));
          const wire = concat(frames);
          const cut = 1 + (at % (wire.byteLength - 1));
          const dec = new NoiseDecryptor(receive);
          const out: Uint8Array[] = [];
          dec.push(wire.subarray(0, cut), (p) => out.push(p.slice()));
          // Exactly the frames that ended before the cut came out.
          let complete = 0;
          for (let end = 0, k = 0; k < frames.length; k++) {
            end += frames[k].byteLength;
            if (end <= cut) complete++;
          }
          assert.deepEqual(out, pts.slice(0, complete));
          const boundary = frames.slice(0, complete).reduce((n, f) => n + f.byteLength, 0) === cut;
          if (boundary) dec.end();
          else assert.throws(() => dec.end(), UnexpectedEOFError);
        },
      ),
      { scale: 0.5 },
    );
  });

  it("a flipped bit fails with DecryptError; nothing forged is emitted; the nonce stays", () => {
    check(
      "noise/decrypt-bitflip",
      fc.property(
        seed,
        fc.array(bytes(64, 1), { minLength: 1, maxLength: 4 }),
        fc.nat(),
        fc.array(fc.nat(400), { maxLength: 4 }),
        (keys, pts, at, cuts) => {
          const { send, receive } = cipherPair(keys);
          const enc = new NoiseEncryptor(send);
          const frames = pts.map((p) => enc.seal(p));
          const wire = concat(frames);
          const bit = at % (wire.byteLength * 8);
          const mutated = flipBit(wire, bit);
          const dec = new NoiseDecryptor(receive);
          const out: Uint8Array[] = [];
          let failed: Error | undefined;
          for (const chunk of splitAt(mutated, cuts)) {
            const r = only([DecryptError], () => dec.push(chunk, (p) => out.push(p.slice())));
            if (!r.ok) {
              failed = r.error;
              break;
            }
          }
          // Frames before the mutated one come out unchanged; nothing after it.
          let good = 0;
          for (let end = 0; good < frames.length; good++) {
            end += frames[good].byteLength;
            if (end * 8 > bit) break;
          }
          assert.deepEqual(out, pts.slice(0, good));
          assert.equal(receive.nonce, BigInt(good), "nonce advanced past a bad frame");
          if (failed === undefined) {
            // A length prefix made larger: the decryptor waits for bytes that never come.
            assert.throws(() => dec.end(), UnexpectedEOFError);
          } else {
            // The decryptor stays failed.
            assert.throws(() => dec.push(new Uint8Array(1), () => {}), DecryptError);
          }
        },
      ),
      { scale: 0.5 },
    );
  });

  it("garbage input never emits plaintext and fails only with DecryptError", () => {
    check(
      "noise/decrypt-garbage",
      fc.property(
        seed,
        bytes(300),
        fc.array(fc.nat(300), { maxLength: 4 }),
        (keys, junk, cuts) => {
          const { receive } = cipherPair(keys);
          const dec = new NoiseDecryptor(receive);
          for (const chunk of splitAt(junk, cuts)) {
            const r = only(
              [DecryptError],
              () => dec.push(chunk, () => assert.fail("forged frame")),
            );
            if (!r.ok) break;
          }
          assert.ok(dec.pendingBytes <= 2 + MAX_FRAME);
          assert.equal(receive.nonce, 0n);
        },
      ),
      { scale: 0.25 },
    );
  });
});

// ------------------------------------------------------------------------------------------------

const payloadArb: fc.Arbitrary<NoiseHandshakePayload> = fc.record({
  identityKey: bytes(80, 1),
  identitySig: bytes(80, 1),
  extensions: fc.option(
    fc.record({
      webtransportCerthashes: fc.array(bytes(40), { maxLength: MAX_CERTHASHES }),
      streamMuxers: fc.array(fc.string({ unit: "binary", maxLength: 20 }), {
        maxLength: MAX_STREAM_MUXERS,
      }),
    }),
    { nil: undefined },
  ),
}).map((
  p,
) => (p.extensions === undefined
  ? { identityKey: p.identityKey, identitySig: p.identitySig }
  : { ...p, extensions: { ...p.extensions } })
);

describe("fuzz: noise handshake payload", () => {
  it("payloads round trip (an empty extensions field is left out)", () => {
    check(
      "noise/payload-roundtrip",
      fc.property(payloadArb, (p) => {
        const enc = encodeHandshakePayload(p);
        const d = decodeHandshakePayload(enc);
        const ext = p.extensions;
        const expected = ext !== undefined &&
            (ext.webtransportCerthashes.length > 0 || ext.streamMuxers.length > 0)
          ? p
          : { identityKey: p.identityKey, identitySig: p.identitySig };
        assert.deepEqual(d, expected);
        assert.deepEqual(encodeHandshakePayload(d), enc);
        for (let n = 0; n < enc.byteLength; n++) {
          only([DecodeError, LimitExceededError], () => decodeHandshakePayload(enc.subarray(0, n)));
        }
      }),
    );
  });

  it("arbitrary payload bytes throw only DecodeError/LimitExceededError", () => {
    check(
      "noise/payload-arbitrary",
      fc.property(
        fc.oneof(
          bytes(120),
          payloadArb.map(encodeHandshakePayload).chain((b) =>
            b.byteLength === 0 ? fc.constant(b) : bitIndex(b.byteLength).map((i) => flipBit(b, i))
          ),
        ),
        (input) => {
          only([DecodeError, LimitExceededError], () => decodeHandshakePayload(input));
        },
      ),
    );
  });

  it("every count and size limit is enforced by name", () => {
    check(
      "noise/payload-limits",
      fc.property(fc.integer({ min: 1, max: 40 }), fc.constantFrom(0, 1, 2, 3), (extra, which) => {
        const w = new ProtobufWriter();
        const base = { identityKey: Uint8Array.of(1), identitySig: Uint8Array.of(1) };
        let limit: string;
        if (which === 0) {
          w.bytes(1, new Uint8Array(MAX_IDENTITY_KEY_LENGTH + extra)).bytes(2, base.identitySig);
          limit = "MAX_IDENTITY_KEY_LENGTH";
        } else if (which === 1) {
          w.bytes(1, base.identityKey).bytes(2, new Uint8Array(MAX_IDENTITY_SIG_LENGTH + extra));
          limit = "MAX_IDENTITY_SIG_LENGTH";
        } else {
          const e = new ProtobufWriter();
          const count = (which === 2 ? MAX_CERTHASHES : MAX_STREAM_MUXERS) + extra;
          for (let k = 0; k < count; k++) {
            if (which === 2) e.bytes(1, Uint8Array.of(0x12, 0));
            else e.string(2, "/yamux/1.0.0");
          }
          w.bytes(1, base.identityKey).bytes(2, base.identitySig).message(4, e);
          limit = which === 2 ? "webtransport_certhashes" : "stream_muxers";
        }
        assert.throws(
          () => decodeHandshakePayload(w.finish()),
          (e: unknown) => e instanceof LimitExceededError && e.limit === limit,
        );
        // A claimed identity_key length of 2^31 is a DecodeError, not an allocation.
        const claim = concat([Uint8Array.of(0x0a), encodeUvarint(2 ** 31), new Uint8Array(3)]);
        assert.throws(() => decodeHandshakePayload(claim), DecodeError);
      }),
      { scale: 0.1 },
    );
  });

  it("verifyHandshakePayload: arbitrary payloads fail with HandshakeError only", async () => {
    await check(
      "noise/verify-arbitrary",
      fc.asyncProperty(
        fc.oneof(bytes(120), payloadArb.map(encodeHandshakePayload)),
        seed,
        async (input, s) => {
          const r = await onlyAsync([HandshakeError], () => verifyHandshakePayload(input, s));
          assert.equal(r.ok, false);
        },
      ),
      { scale: 0.5 },
    );
  });
});

describe("fuzz: noise XX state machine", () => {
  it("honest handshakes complete with matching keys and carry the payloads", () => {
    check(
      "noise/xx-roundtrip",
      fc.property(seeds, fc.array(bytes(100), { minLength: 3, maxLength: 3 }), (keys, payloads) => {
        const { i, r, received } = handshake(keys, payloads);
        assert.deepEqual(received, payloads);
        assert.deepEqual(i.result!.handshakeHash, r.result!.handshakeHash);
        assert.deepEqual(i.result!.remoteStaticKey, keyPair(keys[2]).publicKey);
        assert.deepEqual(r.result!.remoteStaticKey, keyPair(keys[0]).publicKey);
      }),
      { scale: 0.25 },
    );
  });

  it("a flipped bit in any handshake message: HandshakeError, never a completed handshake", () => {
    check(
      "noise/xx-bitflip",
      fc.property(seeds, fc.nat(2), fc.nat(), bytes(20), (keys, which, at, payload) => {
        let done = false;
        const r = only([HandshakeError], () => {
          handshake(
            keys,
            [payload, payload, payload],
            (index, m) => index === which ? flipBit(m, at % (m.byteLength * 8)) : m,
          );
          done = true;
        });
        if (r.ok) {
          // Message 1 is not authenticated by itself: a flipped bit in it changes the hash, so
          // message 2 must fail. Completing is never acceptable.
          assert.fail(`handshake completed despite a flipped bit in message ${which + 1}`);
        }
        assert.equal(done, false);
        // The error chain holds no internal TypeError/RangeError.
        assert.ok(!(r.error.cause instanceof TypeError) && !(r.error.cause instanceof RangeError));
      }),
      { scale: 0.25 },
    );
  });

  it("garbage as message 1, 2 or 3 throws only HandshakeError and the state stays failed", () => {
    check(
      "noise/xx-garbage",
      fc.property(seeds, fc.nat(2), bytes(150), (keys, which, junk) => {
        const [is, ie, rs, re] = keys;
        const i = new XXHandshakeState({
          crypto: nobleCrypto,
          initiator: true,
          staticKeyPair: keyPair(is),
          ephemeralKeyPair: keyPair(ie),
        });
        const r = new XXHandshakeState({
          crypto: nobleCrypto,
          initiator: false,
          staticKeyPair: keyPair(rs),
          ephemeralKeyPair: keyPair(re),
        });
        if (which >= 1) r.readMessage(i.writeMessage(EMPTY));
        if (which >= 2) i.readMessage(r.writeMessage(EMPTY));
        const reader = which === 1 ? i : r;
        const res = only([HandshakeError], () => reader.readMessage(junk));
        if (res.ok) {
          // Only message 1 carries no authentication: any 32+ bytes are an ephemeral key.
          assert.equal(which, 0);
          assert.ok(junk.byteLength >= 32);
          return;
        }
        assert.ok(
          !(res.error.cause instanceof TypeError) && !(res.error.cause instanceof RangeError),
        );
        assert.equal(reader.result, undefined);
        assert.throws(() => reader.readMessage(junk), HandshakeError);
      }),
      { scale: 0.5 },
    );
  });
});
