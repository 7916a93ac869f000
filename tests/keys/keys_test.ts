/**
 * Key behaviour: sign/verify round trips for every type, tampering, wrong key types, protobuf
 * rules, encoding variants accepted on decode, and peer id derivation.
 */

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { p256 } from "@noble/curves/nist.js";
import { secp256k1 } from "@noble/curves/secp256k1.js";
import { concat, fromHex, toHex, utf8Encode } from "../../src/bytes.ts";
import { DecodeError, LimitExceededError, UnsupportedKeyTypeError } from "../../src/errors.ts";
import { peerIdFromBytes } from "../../src/peer_id.ts";
import { createMultihash } from "../../src/multiformats/multihash.ts";
import { ProtobufWriter } from "../../src/protobuf.ts";
import {
  generateKeyPair,
  generateKeyPairFromSeed,
  type KeyType,
  peerIdFromPrivateKey,
  peerIdFromPublicKey,
  type PrivateKey,
  privateKeyFromProtobuf,
  privateKeyFromRaw,
  privateKeyToProtobuf,
  publicKeyFromProtobuf,
  publicKeyFromRaw,
  publicKeyToProtobuf,
} from "../../src/keys/mod.ts";
import {
  derBitString,
  derContext,
  derOid,
  derSequence,
  derSmallInteger,
  derUnsignedInteger,
  ecdsaSignatureFromDer,
  ecdsaSignatureToDer,
} from "../../src/keys/der.ts";
import { OID_P256 } from "../../src/keys/constants.ts";
import specKeys from "../vectors/peer-ids/keys.json" with { type: "json" };

const TYPES: KeyType[] = ["Ed25519", "secp256k1", "ECDSA", "RSA"];
const PREFIX: Record<KeyType, string> = {
  Ed25519: "12D3KooW",
  secp256k1: "16Uiu2",
  ECDSA: "Qm",
  RSA: "Qm",
};

const keys = new Map<KeyType, PrivateKey>();
async function key(type: KeyType): Promise<PrivateKey> {
  let k = keys.get(type);
  if (k === undefined) {
    k = await generateKeyPair(type);
    keys.set(type, k);
  }
  return k;
}

function specVector(type: KeyType): { privateKey: string; publicKey: string } {
  const v = specKeys.keys.find((k) => k.type === type);
  if (v === undefined) throw new Error(`no vector for ${type}`);
  return v;
}

/** Flip the low bit of S in a DER ECDSA signature and return s' = n - s (the "high/low" twin). */
function otherS(der: Uint8Array, n: bigint): Uint8Array {
  const compact = ecdsaSignatureFromDer(der, 32);
  assert.ok(compact !== undefined);
  const s = BigInt("0x" + toHex(compact.subarray(32)));
  const twin = fromHex((n - s).toString(16).padStart(64, "0"));
  return ecdsaSignatureToDer(concat([compact.subarray(0, 32), twin]));
}

describe("sign/verify round trips", () => {
  const msg = utf8Encode("hello libp2p");
  for (const type of TYPES) {
    it(`${type}: signs, verifies, rejects tampering`, async () => {
      const k = await key(type);
      assert.equal(k.type, type);
      assert.equal(k.publicKey.type, type);
      const sig = await k.sign(msg);
      assert.equal(await k.publicKey.verify(msg, sig), true);
      assert.equal(await k.publicKey.verify(utf8Encode("hello libp2P"), sig), false);
      for (const i of [0, sig.length >> 1, sig.length - 1]) {
        const bad = sig.slice();
        bad[i] ^= 0x01;
        assert.equal(await k.publicKey.verify(msg, bad), false, `flip at ${i}`);
      }
      assert.equal(await k.publicKey.verify(msg, sig.subarray(0, sig.length - 1)), false);
      assert.equal(await k.publicKey.verify(msg, concat([sig, new Uint8Array([0])])), false);
      assert.equal(await k.publicKey.verify(msg, new Uint8Array(0)), false);
      // Another key of the same type does not verify it.
      const other = type === "RSA"
        ? privateKeyFromProtobuf(fromHex(specVector("RSA").privateKey))
        : await generateKeyPair(type);
      assert.equal(await other.publicKey.verify(msg, sig), false);
    });

    it(`${type}: a signature from another key type is false, not an exception`, async () => {
      const k = await key(type);
      for (const otherType of TYPES) {
        if (otherType === type) continue;
        const sig = await (await key(otherType)).sign(msg);
        assert.equal(await k.publicKey.verify(msg, sig), false, `${otherType} signature`);
      }
    });

    it(`${type}: protobuf round trip, equals, peer id`, async () => {
      const k = await key(type);
      const priv = privateKeyFromProtobuf(privateKeyToProtobuf(k));
      assert.equal(priv.equals(k), true);
      assert.equal(toHex(priv.raw), toHex(k.raw));
      const pub = publicKeyFromProtobuf(publicKeyToProtobuf(k.publicKey));
      assert.equal(pub.equals(k.publicKey), true);
      assert.equal(priv.publicKey.equals(pub), true);
      assert.equal(
        pub.equals((await generateKeyPair(type === "RSA" ? "Ed25519" : type)).publicKey),
        false,
      );
      assert.equal(toHex(publicKeyFromRaw(type, k.publicKey.raw).raw), toHex(k.publicKey.raw));
      assert.equal(privateKeyFromRaw(type, k.raw).equals(k), true);
      const id = peerIdFromPrivateKey(k);
      assert.ok(id.toString().startsWith(PREFIX[type]), id.toString());
      assert.equal(peerIdFromPublicKey(pub).equals(id), true);
      // A decoded key signs again, and the signature verifies with the original public key.
      const sig = await priv.sign(msg);
      assert.equal(await k.publicKey.verify(msg, sig), true);
    });
  }

  it("secp256k1 signatures are deterministic and low-S", async () => {
    const k = await key("secp256k1");
    const a = await k.sign(msg);
    assert.equal(toHex(await k.sign(msg)), toHex(a));
    const compact = ecdsaSignatureFromDer(a, 32);
    assert.ok(compact !== undefined);
    const s = BigInt("0x" + toHex(compact.subarray(32)));
    assert.ok(s <= secp256k1.Point.Fn.ORDER / 2n);
  });

  it("ECDSA and secp256k1 accept both S and n - S (go semantics)", async () => {
    const cases = [["ECDSA", p256.Point.Fn.ORDER], [
      "secp256k1",
      secp256k1.Point.Fn.ORDER,
    ]] as const;
    for (const [type, n] of cases) {
      const k = await key(type);
      const sig = await k.sign(msg);
      assert.equal(await k.publicKey.verify(msg, otherS(sig, n)), true, type);
    }
  });

  it("ECDSA accepts js-libp2p's raw r || s signatures, rejects malformed DER", async () => {
    const k = await key("ECDSA");
    const der = await k.sign(msg);
    const raw = ecdsaSignatureFromDer(der, 32);
    assert.ok(raw !== undefined);
    assert.equal(await k.publicKey.verify(msg, raw), true);
    // r with two leading zero bytes is a non-minimal INTEGER: not DER, so not accepted.
    const r = raw.subarray(0, 32);
    const s = raw.subarray(32);
    const nonMinimal = derSequence([
      new Uint8Array([0x02, 34, 0, 0, ...r]),
      derUnsignedInteger(s),
    ]);
    assert.notEqual(nonMinimal.length, 64);
    assert.equal(await k.publicKey.verify(msg, nonMinimal), false);
    assert.equal(await k.publicKey.verify(msg, concat([der, new Uint8Array([0])])), false);
    const zeroR = ecdsaSignatureToDer(concat([new Uint8Array(32), s]));
    assert.equal(await k.publicKey.verify(msg, zeroR), false);
  });
});

describe("generateKeyPair arguments", () => {
  it("rejects RSA sizes outside 2048..8192 with RangeError before generating", async () => {
    await assert.rejects(generateKeyPair("RSA", 1024), RangeError);
    await assert.rejects(generateKeyPair("RSA", 16384), RangeError);
    await assert.rejects(generateKeyPair("RSA", 2049), RangeError);
    await assert.rejects(generateKeyPair("ECDSA", 384), RangeError);
  });

  it("rejects unknown key types with UnsupportedKeyTypeError", async () => {
    await assert.rejects(generateKeyPair("DSA" as "RSA"), UnsupportedKeyTypeError);
    assert.throws(
      () => publicKeyFromRaw("DSA" as KeyType, new Uint8Array(32)),
      UnsupportedKeyTypeError,
    );
  });

  it("builds Ed25519 keys from a seed deterministically", () => {
    const seed = new Uint8Array(32).fill(7);
    const a = generateKeyPairFromSeed("Ed25519", seed);
    assert.equal(a.equals(generateKeyPairFromSeed("Ed25519", seed)), true);
    assert.equal(toHex(a.raw.subarray(0, 32)), toHex(seed));
    assert.throws(() => generateKeyPairFromSeed("Ed25519", new Uint8Array(31)), RangeError);
  });
});

describe("key protobuf rules", () => {
  const ed = fromHex(specVector("Ed25519").publicKey);
  const data = ed.subarray(4);

  it("unknown key type numbers are UnsupportedKeyTypeError", () => {
    for (const code of [4, 5, 100, 2 ** 31]) {
      const bytes = new ProtobufWriter().uint(1, code).bytes(2, data).finish();
      assert.throws(() => publicKeyFromProtobuf(bytes), UnsupportedKeyTypeError);
      assert.throws(() => privateKeyFromProtobuf(bytes), UnsupportedKeyTypeError);
    }
  });

  it("missing, repeated or mistyped fields are DecodeError", () => {
    const cases = [
      new Uint8Array(0),
      new ProtobufWriter().uint(1, 1).finish(),
      new ProtobufWriter().bytes(2, data).finish(),
      new ProtobufWriter().uint(1, 1).uint(1, 1).bytes(2, data).finish(),
      new ProtobufWriter().uint(1, 1).bytes(2, data).bytes(2, data).finish(),
      new ProtobufWriter().bytes(1, new Uint8Array([1])).bytes(2, data).finish(),
      new ProtobufWriter().uint(1, 1).uint(2, 5).finish(),
      new Uint8Array([0x08, 0x01, 0x12, 0x20, 0xff]),
    ];
    for (const bytes of cases) {
      assert.throws(() => publicKeyFromProtobuf(bytes), DecodeError, toHex(bytes));
    }
  });

  it("takes fields in any order and skips unknown fields, re-encoding canonically", () => {
    const reordered = new ProtobufWriter().bytes(2, data).uint(1, 1).finish();
    assert.equal(toHex(publicKeyToProtobuf(publicKeyFromProtobuf(reordered))), toHex(ed));
    const extra = new ProtobufWriter().uint(1, 1).bytes(2, data).string(9, "x").finish();
    assert.equal(toHex(publicKeyToProtobuf(publicKeyFromProtobuf(extra))), toHex(ed));
  });

  it("an identity peer id must embed the canonical key encoding", () => {
    const reordered = new ProtobufWriter().bytes(2, data).uint(1, 1).finish();
    assert.throws(() => peerIdFromBytes(createMultihash(0, reordered).bytes), DecodeError);
    assert.equal(peerIdFromBytes(createMultihash(0, ed).bytes).type, "Ed25519");
    // A key longer than 42 bytes is never inlined: such an identity id is refused.
    const rsa = fromHex(specVector("RSA").publicKey);
    assert.throws(() => peerIdFromBytes(createMultihash(0, rsa).bytes), DecodeError);
  });

  it("oversized messages are LimitExceededError before parsing", () => {
    const big = new ProtobufWriter().uint(1, 0).bytes(2, new Uint8Array(9000)).finish();
    assert.throws(() => publicKeyFromProtobuf(big), LimitExceededError);
    assert.throws(() => privateKeyFromProtobuf(big), LimitExceededError);
  });

  it("a 43-byte or longer encoding gets a sha2-256 peer id, 42 or less identity", async () => {
    assert.equal(publicKeyToProtobuf((await key("Ed25519")).publicKey).length, 36);
    assert.equal(peerIdFromPrivateKey(await key("Ed25519")).multihash.code, 0x00);
    assert.equal(publicKeyToProtobuf((await key("secp256k1")).publicKey).length, 37);
    assert.equal(peerIdFromPrivateKey(await key("secp256k1")).multihash.code, 0x00);
    assert.equal(publicKeyToProtobuf((await key("ECDSA")).publicKey).length, 95);
    assert.equal(peerIdFromPrivateKey(await key("ECDSA")).multihash.code, 0x12);
  });
});

describe("encoding variants accepted on decode", () => {
  it("Ed25519: legacy 96-byte private keys; mismatched halves rejected", async () => {
    const k = await key("Ed25519");
    const legacy = concat([k.raw, k.raw.subarray(32)]);
    const decoded = privateKeyFromRaw("Ed25519", legacy);
    assert.equal(decoded.equals(k), true);
    assert.equal(decoded.raw.length, 64);
    const other = (await generateKeyPair("Ed25519")).publicKey.raw;
    assert.throws(() => privateKeyFromRaw("Ed25519", concat([k.raw, other])), DecodeError);
    assert.throws(
      () => privateKeyFromRaw("Ed25519", concat([k.raw.subarray(0, 32), other])),
      DecodeError,
    );
    assert.throws(() => privateKeyFromRaw("Ed25519", k.raw.subarray(0, 32)), DecodeError);
  });

  it("secp256k1: uncompressed and hybrid public keys re-encode compressed; bad ones rejected", async () => {
    const k = await key("secp256k1");
    const uncompressed = secp256k1.Point.fromBytes(k.publicKey.raw).toBytes(false);
    const pub = publicKeyFromRaw("secp256k1", uncompressed);
    assert.equal(toHex(pub.raw), toHex(k.publicKey.raw));
    const hybrid = uncompressed.slice();
    hybrid[0] = 0x06 | (uncompressed[64] & 1);
    assert.equal(toHex(publicKeyFromRaw("secp256k1", hybrid).raw), toHex(k.publicKey.raw));
    hybrid[0] ^= 1; // parity no longer matches Y
    assert.throws(() => publicKeyFromRaw("secp256k1", hybrid), DecodeError);
    const badPrefix = uncompressed.slice();
    badPrefix[0] = 0x05;
    assert.throws(() => publicKeyFromRaw("secp256k1", badPrefix), DecodeError);
    const offCurve = uncompressed.slice();
    offCurve[64] ^= 1;
    assert.throws(() => publicKeyFromRaw("secp256k1", offCurve), DecodeError);
    const noRoot = k.publicKey.raw.slice();
    noRoot.fill(0xff, 1); // x >= p
    assert.throws(() => publicKeyFromRaw("secp256k1", noRoot), DecodeError);
    assert.throws(() => privateKeyFromRaw("secp256k1", new Uint8Array(32)), DecodeError);
    const n = fromHex(secp256k1.Point.Fn.ORDER.toString(16));
    assert.throws(() => privateKeyFromRaw("secp256k1", n), DecodeError);
  });

  it("ECDSA: js-libp2p's public key form re-encodes as PKIX", async () => {
    const k = await key("ECDSA");
    const point = p256.getPublicKey(privateScalar(k.raw), false);
    const jsForm = derSequence([
      derSmallInteger(1),
      derContext(0, [derOid(OID_P256)]),
      derContext(1, [derBitString(point)]),
    ]);
    const pub = publicKeyFromRaw("ECDSA", jsForm);
    assert.equal(toHex(pub.raw), toHex(k.publicKey.raw));
    assert.equal(pub.equals(k.publicKey), true);
  });

  it("ECDSA: SEC1 without the public key re-encodes with it; a wrong one is rejected", async () => {
    const k = await key("ECDSA");
    const d = privateScalar(k.raw);
    const bare = derSequence([
      derSmallInteger(1),
      new Uint8Array([0x04, 32, ...d]),
      derContext(0, [derOid(OID_P256)]),
    ]);
    assert.equal(toHex(privateKeyFromRaw("ECDSA", bare).raw), toHex(k.raw));
    const wrong = derSequence([
      derSmallInteger(1),
      new Uint8Array([0x04, 32, ...d]),
      derContext(0, [derOid(OID_P256)]),
      derContext(1, [derBitString(p256.getPublicKey(p256.utils.randomSecretKey(), false))]),
    ]);
    assert.throws(() => privateKeyFromRaw("ECDSA", wrong), DecodeError);
  });

  it("ECDSA: other curves are UnsupportedKeyTypeError", () => {
    const p384Oid = new Uint8Array([0x2b, 0x81, 0x04, 0x00, 0x22]);
    const spki = derSequence([
      derSequence([
        derOid(new Uint8Array([0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01])),
        derOid(p384Oid),
      ]),
      derBitString(new Uint8Array(97).fill(4, 0, 1)),
    ]);
    assert.throws(() => publicKeyFromRaw("ECDSA", spki), UnsupportedKeyTypeError);
  });
});

/** The 32-byte scalar of a canonical SEC1 ECPrivateKey (30 77 02 01 01 04 20 <d> ...). */
function privateScalar(sec1: Uint8Array): Uint8Array {
  assert.equal(toHex(sec1.subarray(0, 7)), "30770201010420");
  return sec1.slice(7, 39);
}
