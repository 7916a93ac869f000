/**
 * Properties of protocols/identify (message codec, length-prefixed frames, caps, fitting to the
 * write limit, consumeIdentify), protocols/plaintext (Exchange codec and verification) and
 * protocols/perf (u64 header): round trips, truncation, arbitrary bytes (library errors only),
 * and the named limits.
 */

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import {
  DecodeError,
  HandshakeError,
  InvalidSignatureError,
  LimitExceededError,
  PeerIdMismatchError,
  UnsupportedKeyTypeError,
} from "../../src/errors.ts";
import { concat } from "../../src/bytes.ts";
import { encodeUvarint } from "../../src/varint.ts";
import { ProtobufWriter } from "../../src/protobuf.ts";
import {
  peerIdFromPrivateKey,
  peerIdFromPublicKey,
  publicKeyToProtobuf,
} from "../../src/keys/mod.ts";
import { multiaddr } from "../../src/multiaddr/mod.ts";
import { sealPeerRecord } from "../../src/record/mod.ts";
import {
  decodeIdentify,
  decodeIdentifyFrame,
  encodeIdentify,
  encodeIdentifyFrame,
  fitIdentify,
  identifyEncodedLength,
  type IdentifyMessage,
} from "../../protocols/identify/codec.ts";
import { consumeIdentify } from "../../protocols/identify/consume.ts";
import {
  MAX_IDENTIFY_MESSAGE_BYTES,
  MAX_IDENTIFY_WRITE_BYTES,
  MAX_LISTEN_ADDRS,
  MAX_PROTOCOL_ID_BYTES,
  MAX_PROTOCOLS,
} from "../../protocols/identify/constants.ts";
import { decodeExchange, encodeExchange } from "../../protocols/plaintext/codec.ts";
import { createExchange, verifyExchange } from "../../protocols/plaintext/handshake.ts";
import { MAX_EXCHANGE_BYTES } from "../../protocols/plaintext/constants.ts";
import { decodePerfHeader, encodePerfHeader } from "../../protocols/perf/codec.ts";
import { ed25519Key, multiaddrBytes, secp256k1Key } from "./arbitraries.ts";
import { bytes, check, flipBit, only, onlyAsync } from "./fuzz.ts";

const text = fc.string({ unit: "binary", maxLength: 30 });
const messageArb: fc.Arbitrary<IdentifyMessage> = fc.record({
  publicKey: fc.option(bytes(40), { nil: undefined }),
  listenAddrs: fc.array(multiaddrBytes(3), { maxLength: 6 }),
  protocols: fc.array(text, { maxLength: 6 }),
  observedAddr: fc.option(multiaddrBytes(3), { nil: undefined }),
  protocolVersion: fc.option(text, { nil: undefined }),
  agentVersion: fc.option(text, { nil: undefined }),
  signedPeerRecord: fc.option(bytes(60), { nil: undefined }),
}).map((m) => {
  // Absent optional fields are left out (not `undefined` keys) to compare with decoded messages.
  const out: IdentifyMessage = { listenAddrs: m.listenAddrs, protocols: m.protocols };
  for (
    const k of [
      "publicKey",
      "observedAddr",
      "protocolVersion",
      "agentVersion",
      "signedPeerRecord",
    ] as const
  ) {
    if (m[k] !== undefined) (out as unknown as Record<string, unknown>)[k] = m[k];
  }
  return out;
});

describe("fuzz: identify codec", () => {
  it("messages round trip; identifyEncodedLength is exact; frames round trip", () => {
    check(
      "identify/roundtrip",
      fc.property(messageArb, bytes(5), (m, tail) => {
        const enc = encodeIdentify(m);
        assert.equal(identifyEncodedLength(m), enc.byteLength);
        const d = decodeIdentify(enc);
        assert.deepEqual(d, { message: m, droppedListenAddrs: 0, droppedProtocols: 0 });
        assert.deepEqual(encodeIdentify(d.message), enc);
        const frame = encodeIdentifyFrame(m);
        const f = decodeIdentifyFrame(concat([frame, tail]));
        assert.ok(f !== undefined);
        assert.equal(f.length, frame.byteLength);
        assert.deepEqual(f.message, m);
        for (let n = 0; n < frame.byteLength; n++) {
          assert.equal(decodeIdentifyFrame(frame.subarray(0, n)), undefined, `prefix ${n}`);
        }
      }),
    );
  });

  it("arbitrary bytes: DecodeError/LimitExceededError only; caps always hold", () => {
    check(
      "identify/arbitrary",
      fc.property(fc.oneof(bytes(200), messageArb.map(encodeIdentify)), fc.nat(), (input, at) => {
        const mutated = input.byteLength === 0
          ? input
          : flipBit(input, at % (input.byteLength * 8));
        for (const b of [input, mutated]) {
          const r = only(
            [DecodeError],
            () => decodeIdentify(b, { maxListenAddrs: 2, maxProtocols: 2 }),
          );
          if (r.ok) {
            assert.ok(r.value.message.listenAddrs.length <= 2);
            assert.ok(r.value.message.protocols.length <= 2);
          }
          only([DecodeError, LimitExceededError], () => decodeIdentifyFrame(b));
        }
      }),
    );
  });

  it("claimed frame lengths above the read limit fail from the prefix; count caps drop extras", () => {
    check(
      "identify/limits",
      fc.property(
        fc.integer({ min: MAX_IDENTIFY_MESSAGE_BYTES + 1, max: 2 ** 31 }),
        fc.integer({ min: 1, max: 30 }),
        (claimed, extra) => {
          const input = concat([encodeUvarint(claimed), new Uint8Array(4)]);
          assert.throws(
            () => decodeIdentifyFrame(input),
            (e: unknown) =>
              e instanceof LimitExceededError && e.limit === "MAX_IDENTIFY_MESSAGE_BYTES",
          );
          const w = new ProtobufWriter();
          for (let k = 0; k < MAX_LISTEN_ADDRS + extra; k++) {
            w.bytes(2, Uint8Array.of(4, 1, 2, 3, 4));
          }
          for (let k = 0; k < MAX_PROTOCOLS + extra; k++) w.string(3, "/p");
          w.string(3, "x".repeat(MAX_PROTOCOL_ID_BYTES + extra));
          const d = decodeIdentify(w.finish());
          assert.equal(d.message.listenAddrs.length, MAX_LISTEN_ADDRS);
          assert.equal(d.droppedListenAddrs, extra);
          assert.equal(d.message.protocols.length, MAX_PROTOCOLS);
          assert.equal(d.droppedProtocols, extra + 1);
        },
      ),
      { scale: 0.1 },
    );
  });

  it("fitIdentify output fits the write limit and is a prefix of the input lists", () => {
    check(
      "identify/fit",
      fc.property(
        messageArb,
        fc.array(bytes(300), { maxLength: 30 }),
        fc.integer({ min: 64, max: MAX_IDENTIFY_WRITE_BYTES }),
        (m, more, limit) => {
          const big = { ...m, listenAddrs: [...m.listenAddrs, ...more] };
          const r = only([RangeError], () => fitIdentify(big, limit));
          if (!r.ok) return;
          const fitted = r.value.message;
          assert.ok(encodeIdentify(fitted).byteLength <= limit);
          assert.deepEqual(big.listenAddrs.slice(0, fitted.listenAddrs.length), fitted.listenAddrs);
          assert.deepEqual(big.protocols.slice(0, fitted.protocols.length), fitted.protocols);
          assert.equal(
            fitted.listenAddrs.length + r.value.droppedListenAddrs,
            big.listenAddrs.length,
          );
        },
      ),
    );
  });

  it("consumeIdentify: arbitrary messages fail only with typed errors; a key must match the peer", async () => {
    const keyArb = fc.oneof(ed25519Key, secp256k1Key);
    await check(
      "identify/consume",
      fc.asyncProperty(keyArb, keyArb, messageArb, fc.boolean(), async (key, other, m, ownKey) => {
        const peer = peerIdFromPrivateKey(key);
        const msg = { ...m };
        if (ownKey) msg.publicKey = publicKeyToProtobuf(key.publicKey);
        const r = await onlyAsync(
          [
            DecodeError,
            LimitExceededError,
            UnsupportedKeyTypeError,
            InvalidSignatureError,
            PeerIdMismatchError,
          ],
          () => consumeIdentify(msg, peer),
        );
        if (ownKey && m.signedPeerRecord === undefined) assert.ok(r.ok);
        if (r.ok) {
          // Only this peer's key and valid addresses come out.
          if (r.value.result.publicKey) assert.ok(r.value.result.publicKey.equals(key.publicKey));
          for (const a of r.value.result.listenAddrs) {
            assert.deepEqual(multiaddr(a.bytes).bytes, a.bytes);
          }
        }
        // A record signed by another key is refused.
        if (!key.publicKey.equals(other.publicKey)) {
          const env = await sealPeerRecord(other, []);
          await assert.rejects(
            consumeIdentify(
              { listenAddrs: [], protocols: [], signedPeerRecord: env.encode() },
              peer,
            ),
            PeerIdMismatchError,
          );
        }
      }),
      { scale: 0.25 },
    );
  });
});

describe("fuzz: plaintext exchange and perf header", () => {
  it("Exchange round trips; arbitrary bytes fail with DecodeError/LimitExceededError", () => {
    check(
      "plaintext/exchange",
      fc.property(
        fc.option(bytes(50), { nil: undefined }),
        fc.option(bytes(50), { nil: undefined }),
        bytes(80),
        (id, pubkey, junk) => {
          const ex: { id?: Uint8Array; pubkey?: Uint8Array } = {};
          if (id !== undefined) ex.id = id;
          if (pubkey !== undefined) ex.pubkey = pubkey;
          const enc = encodeExchange(ex);
          assert.deepEqual(decodeExchange(enc), ex);
          only([DecodeError, LimitExceededError], () => decodeExchange(junk));
          // verifyExchange wraps everything into HandshakeError.
          only([HandshakeError], () => verifyExchange(junk));
          only([HandshakeError], () => verifyExchange(enc));
        },
      ),
    );
    check(
      "plaintext/exchange-limit",
      fc.property(fc.integer({ min: 1, max: 100 }), (extra) => {
        assert.throws(
          () => decodeExchange(new Uint8Array(MAX_EXCHANGE_BYTES + extra)),
          LimitExceededError,
        );
      }),
      { scale: 0.05 },
    );
  });

  it("a real Exchange verifies; any flipped bit fails with HandshakeError or names the same peer", () => {
    check(
      "plaintext/exchange-bitflip",
      fc.property(fc.oneof(ed25519Key, secp256k1Key), fc.nat(), (key, at) => {
        const enc = createExchange(key);
        const peer = peerIdFromPrivateKey(key);
        assert.ok(verifyExchange(enc, peer).peerId.equals(peer));
        const r = only(
          [HandshakeError],
          () => verifyExchange(flipBit(enc, at % (enc.byteLength * 8))),
        );
        // Plaintext has no signature; what it must never do is accept an id/key mismatch.
        if (r.ok) {
          assert.ok(r.value.peerId.equals(peerIdFromPublicKey(r.value.publicKey)));
          assert.ok(!r.value.peerId.equals(peer) || r.value.publicKey.equals(key.publicKey));
        }
      }),
      { scale: 0.5 },
    );
  });

  it("perf header: u64 round trip; fewer than 8 bytes need more", () => {
    check(
      "perf/header",
      fc.property(
        fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }),
        fc.nat(7),
        bytes(4),
        (n, cut, tail) => {
          const enc = encodePerfHeader(n);
          assert.equal(decodePerfHeader(concat([enc, tail])), n);
          assert.equal(decodePerfHeader(enc.subarray(0, cut)), undefined);
          assert.equal(decodePerfHeader(concat([tail, enc]), tail.byteLength), n);
        },
      ),
    );
  });
});
