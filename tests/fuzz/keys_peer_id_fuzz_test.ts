/**
 * Properties of src/keys (key protobuf, raw key decoders, DER, signatures) and src/peer_id.ts
 * (binary and text peer ids): round trips, arbitrary input (library errors only), bit flips
 * (never a crash; a mutated signature or message never verifies), and the size limits.
 */

import { before, describe, it } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { DecodeError, LimitExceededError, UnsupportedKeyTypeError } from "../../src/errors.ts";
import {
  generateKeyPair,
  MAX_KEY_DATA_BYTES,
  peerIdFromBytes,
  peerIdFromPublicKey,
  peerIdFromString,
  type PrivateKey,
  privateKeyFromProtobuf,
  privateKeyToProtobuf,
  type PublicKey,
  publicKeyFromProtobuf,
  publicKeyFromRaw,
  publicKeyToProtobuf,
} from "../../src/keys/mod.ts";
import { ProtobufWriter } from "../../src/protobuf.ts";
import {
  base36lower,
  base58btc,
  CID,
  createMultihash,
  LIBP2P_KEY_CODEC,
} from "../../src/multiformats/mod.ts";
import { encodeUvarint } from "../../src/varint.ts";
import { concat } from "../../src/bytes.ts";
import { ed25519Key, peerIdBytes, secp256k1Key } from "./arbitraries.ts";
import { bitIndex, bytes, check, flipBit, only, onlyAsync } from "./fuzz.ts";

const KEY_ERRORS = [DecodeError, UnsupportedKeyTypeError, LimitExceededError];

/**
 * Library decoders wrap unexpected exceptions into DecodeError (keys/factory.ts `guard`); a
 * TypeError or RangeError in the cause chain would be an internal bug hidden by that wrapper.
 */
function assertNoInternalCause(err: Error): void {
  let cause: unknown = err.cause;
  for (let depth = 0; cause !== undefined && depth < 8; depth++) {
    if (cause instanceof TypeError || cause instanceof RangeError) {
      assert.fail(`${err.name}: ${err.message} hides ${cause.name}: ${cause.message}`);
    }
    cause = cause instanceof Error ? cause.cause : undefined;
  }
}

function decodeKey(input: Uint8Array, priv: boolean): void {
  const r = only(
    KEY_ERRORS,
    () => priv ? privateKeyFromProtobuf(input) : publicKeyFromProtobuf(input),
  );
  if (!r.ok) assertNoInternalCause(r.error);
}

const keyArb = fc.oneof(ed25519Key, secp256k1Key);
const message = bytes(64);

/** A key protobuf with a plausible Type and Data of plausible (or random) length. */
const keyMessage = fc.record({
  type: fc.oneof(fc.integer({ min: 0, max: 4 }), fc.nat()),
  data: fc.oneof(
    bytes(100),
    fc.constantFrom(32, 33, 64, 65, 96, 121, 138).chain((n) => bytes(n, n)),
    // Structured DER-ish junk: SEQUENCE with random content.
    bytes(80).map((b) => concat([Uint8Array.of(0x30, b.byteLength & 0x7f), b])),
  ),
  extra: fc.boolean(),
}).map(({ type, data, extra }) => {
  const w = new ProtobufWriter().uint(1, type).bytes(2, data);
  if (extra) w.bytes(3, Uint8Array.of(1, 2));
  return w.finish();
});

describe("fuzz: keys", () => {
  it("key protobufs round trip and re-encode byte-identically", () => {
    check(
      "keys/roundtrip",
      fc.property(keyArb, (key) => {
        const pub = publicKeyToProtobuf(key.publicKey);
        const decoded = publicKeyFromProtobuf(pub);
        assert.ok(decoded.equals(key.publicKey));
        assert.deepEqual(publicKeyToProtobuf(decoded), pub);
        const priv = privateKeyToProtobuf(key);
        const decodedPriv = privateKeyFromProtobuf(priv);
        assert.ok(decodedPriv.equals(key));
        assert.deepEqual(privateKeyToProtobuf(decodedPriv), priv);
        assert.ok(decodedPriv.publicKey.equals(key.publicKey));
      }),
      { scale: 0.25 },
    );
  });

  it("arbitrary and structured key protobufs throw only key errors", () => {
    check(
      "keys/arbitrary",
      fc.property(fc.oneof(bytes(120), keyMessage), fc.boolean(), (input, priv) => {
        decodeKey(input, priv);
      }),
    );
  });

  it("every strict prefix of a key protobuf fails with a key error", () => {
    check(
      "keys/truncation",
      fc.property(keyArb, fc.boolean(), (key, priv) => {
        const enc = priv ? privateKeyToProtobuf(key) : publicKeyToProtobuf(key.publicKey);
        for (let n = 0; n < enc.byteLength; n++) {
          const r = only(
            KEY_ERRORS,
            () =>
              priv
                ? privateKeyFromProtobuf(enc.subarray(0, n))
                : publicKeyFromProtobuf(enc.subarray(0, n)),
          );
          assert.equal(r.ok, false, `prefix of ${n} bytes decoded`);
        }
      }),
      { scale: 0.25 },
    );
  });

  it("bit flips in a key protobuf never crash", () => {
    check(
      "keys/bitflip",
      fc.property(
        keyArb.chain((k) => {
          const enc = publicKeyToProtobuf(k.publicKey);
          return fc.tuple(fc.constant(k), fc.constant(enc), bitIndex(enc.byteLength));
        }),
        ([key, enc, bit]) => {
          const r = only(KEY_ERRORS, () => publicKeyFromProtobuf(flipBit(enc, bit)));
          if (r.ok) assert.ok(!r.value.equals(key.publicKey), "a different encoding, the same key");
          else assertNoInternalCause(r.error);
        },
      ),
      { scale: 0.5 },
    );
  });

  it("signatures: valid ones verify; a flipped bit in message or signature never verifies", async () => {
    await check(
      "keys/signature-mutation",
      fc.asyncProperty(keyArb, message, fc.nat(), fc.boolean(), async (key, data, at, inSig) => {
        const sig = await key.sign(data);
        assert.equal(await key.publicKey.verify(data, sig), true);
        if (inSig) {
          const bad = flipBit(sig, at % (sig.byteLength * 8));
          assert.equal(await key.publicKey.verify(data, bad), false);
        } else if (data.byteLength > 0) {
          const bad = flipBit(data, at % (data.byteLength * 8));
          assert.equal(await key.publicKey.verify(bad, sig), false);
        }
      }),
      { scale: 0.25 },
    );
  });

  it("verify never throws on arbitrary signatures", async () => {
    await check(
      "keys/verify-arbitrary",
      fc.asyncProperty(keyArb, message, bytes(80), async (key, data, sig) => {
        const r = await onlyAsync([], async () => await key.publicKey.verify(data, sig), "verify");
        assert.deepEqual(r, { ok: true, value: false });
      }),
      { scale: 0.25 },
    );
  });

  it("Data above MAX_KEY_DATA_BYTES, and claimed lengths of 2^31, fail at once", () => {
    check(
      "keys/limits",
      fc.property(fc.integer({ min: 1, max: 4096 }), fc.boolean(), (extra, claimOnly) => {
        if (claimOnly) {
          // Type 1, then a Data field claiming 2^31 bytes with 8 present.
          const input = concat([
            Uint8Array.of(0x08, 0x01, 0x12),
            encodeUvarint(2 ** 31),
            new Uint8Array(8),
          ]);
          assert.throws(() => publicKeyFromProtobuf(input), DecodeError);
          return;
        }
        const input = new ProtobufWriter().uint(1, 0).bytes(
          2,
          new Uint8Array(MAX_KEY_DATA_BYTES + extra),
        )
          .finish();
        assert.throws(() => publicKeyFromProtobuf(input), LimitExceededError);
        assert.throws(() => privateKeyFromProtobuf(input), LimitExceededError);
      }),
      { scale: 0.1 },
    );
  });
});

describe("fuzz: keys (ECDSA, RSA: DER decoders)", () => {
  const keys: PrivateKey[] = [];
  before(async () => {
    keys.push(await generateKeyPair("ECDSA"), await generateKeyPair("RSA"));
  });

  it("DER public and private keys: round trip, truncation and bit flips", () => {
    check(
      "keys/der-mutation",
      fc.property(fc.nat(1), fc.boolean(), fc.nat(), fc.nat(), (which, priv, at, cut) => {
        const key = keys[which];
        const raw = priv ? key.raw : key.publicKey.raw;
        const decode = (b: Uint8Array): PublicKey | PrivateKey =>
          priv
            ? privateKeyFromProtobuf(wrap(key.type === "RSA" ? 0 : 3, b))
            : publicKeyFromRaw(key.type, b);
        assert.ok(decode(raw).equals(priv ? key as never : key.publicKey as never));
        const flipped = only(KEY_ERRORS, () => decode(flipBit(raw, at % (raw.byteLength * 8))));
        if (!flipped.ok) assertNoInternalCause(flipped.error);
        const truncated = only(KEY_ERRORS, () => decode(raw.subarray(0, cut % raw.byteLength)));
        assert.equal(truncated.ok, false);
      }),
      { scale: 0.5 },
    );
  });

  it("a flipped signature bit never verifies (ECDSA, RSA)", async () => {
    const sigs = new Map<PrivateKey, Uint8Array>();
    const data = new TextEncoder().encode("signed data");
    await check(
      "keys/der-signature-mutation",
      fc.asyncProperty(fc.nat(1), fc.nat(), async (which, at) => {
        const key = keys[which];
        let sig = sigs.get(key);
        if (sig === undefined) sigs.set(key, sig = await key.sign(data));
        assert.equal(await key.publicKey.verify(data, sig), true);
        const bad = flipBit(sig, at % (sig.byteLength * 8));
        assert.equal(await key.publicKey.verify(data, bad), false);
      }),
      { scale: 0.25 },
    );
  });
});

function wrap(type: number, data: Uint8Array): Uint8Array {
  return new ProtobufWriter().uint(1, type).bytes(2, data).finish();
}

describe("fuzz: peer ids", () => {
  it("bytes -> peer id -> text (base58btc, base32 CID, base36 CID) -> same peer id", () => {
    check(
      "peer-id/roundtrip",
      fc.property(peerIdBytes, (input) => {
        const id = peerIdFromBytes(input);
        assert.deepEqual(id.toBytes(), input);
        for (
          const text of [id.toString(), id.toCID().toString(), id.toCID().toString(base36lower)]
        ) {
          const parsed = peerIdFromString(text);
          assert.ok(parsed.equals(id), text);
          assert.deepEqual(parsed.toBytes(), input);
        }
        // Inlined keys come back, and derive the same id.
        if (id.publicKey !== undefined) assert.ok(peerIdFromPublicKey(id.publicKey).equals(id));
      }),
      { scale: 0.5 },
    );
  });

  it("arbitrary bytes throw only DecodeError / key errors", () => {
    const identityJunk = fc.oneof(bytes(60), keyMessage).map((d) => createMultihash(0, d).bytes);
    check(
      "peer-id/arbitrary-bytes",
      fc.property(fc.oneof(bytes(50), identityJunk), (input) => {
        const r = only(KEY_ERRORS, () => peerIdFromBytes(input));
        if (r.ok) assert.deepEqual(peerIdFromString(r.value.toString()).toBytes(), input);
      }),
    );
  });

  it("arbitrary text throws only SyntaxError", () => {
    const text = fc.oneof(
      fc.string({ unit: "binary", maxLength: 60 }),
      bytes(50).map((b) => base58btc.baseEncode(b)),
      fc.tuple(
        fc.constantFrom("1", "Q", "b", "k", "z", "f", "m", "u"),
        fc.string({ maxLength: 60 }),
      )
        .map(([p, s]) => p + s),
      fc.tuple(fc.nat(0x200), bytes(40)).map(([codec, d]) =>
        CID.create(codec, createMultihash(d.byteLength % 2 === 0 ? 0 : 0x12, d)).toString()
      ),
      fc.string({ minLength: 250, maxLength: 300 }),
    );
    check(
      "peer-id/arbitrary-text",
      fc.property(text, (t) => {
        const r = only([SyntaxError], () => peerIdFromString(t), `peerIdFromString(${t})`);
        if (r.ok) assert.ok(peerIdFromString(r.value.toString()).equals(r.value));
      }),
    );
  });

  it("a mutated base32 CID character gives SyntaxError or an id whose canonical text it is", () => {
    check(
      "peer-id/text-mutation",
      fc.property(
        peerIdBytes,
        fc.nat(),
        fc.constantFrom(..."abcdefghijklmnopqrstuvwxyz234567"),
        (input, at, ch) => {
          const id = peerIdFromBytes(input);
          const text = CID.create(LIBP2P_KEY_CODEC, id.multihash).toString();
          const i = 1 + (at % (text.length - 1));
          const mutated = text.slice(0, i) + ch + text.slice(i + 1);
          const r = only([SyntaxError], () => peerIdFromString(mutated));
          // No two texts for one id (base32 padding bits, case): what parses is canonical.
          if (r.ok) assert.equal(r.value.toCID().toString(), mutated);
        },
      ),
      { scale: 0.5 },
    );
  });
});
