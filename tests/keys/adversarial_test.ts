/**
 * Hostile key bytes: truncations, mutations, garbage and oversized DER, RSA sizes outside the
 * accepted range. Decoding must end in a library error (DecodeError, UnsupportedKeyTypeError,
 * LimitExceededError), never a TypeError/RangeError from deep inside, and verification must
 * return false rather than throw.
 */

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { fromHex, utf8Encode } from "../../src/bytes.ts";
import { DecodeError, LimitExceededError, UnsupportedKeyTypeError } from "../../src/errors.ts";
import { ProtobufWriter } from "../../src/protobuf.ts";
import {
  generateKeyPair,
  KEY_TYPE_CODES,
  type KeyType,
  privateKeyFromProtobuf,
  privateKeyFromRaw,
  privateKeyToProtobuf,
  publicKeyFromProtobuf,
  publicKeyFromRaw,
  publicKeyToProtobuf,
} from "../../src/keys/mod.ts";
import {
  derBitString,
  derNull,
  derOid,
  DerReader,
  derSequence,
  derSmallInteger,
  derUnsignedInteger,
} from "../../src/keys/der.ts";
import { OID_RSA_ENCRYPTION } from "../../src/keys/constants.ts";
import { pkcs8ToPkcs1 } from "../../src/keys/rsa.ts";
import specKeys from "../vectors/peer-ids/keys.json" with { type: "json" };
import goKeys from "../vectors/go-crypto/keys.json" with { type: "json" };

interface Sample {
  name: string;
  kind: "public" | "private";
  bytes: Uint8Array;
}

const samples: Sample[] = [];
for (const v of specKeys.keys) {
  samples.push({ name: `spec ${v.type} public`, kind: "public", bytes: fromHex(v.publicKey) });
  samples.push({ name: `spec ${v.type} private`, kind: "private", bytes: fromHex(v.privateKey) });
}
for (const v of goKeys.keys) {
  samples.push({ name: `go ${v.type} public`, kind: "public", bytes: fromHex(v.publicKey) });
  samples.push({ name: `go ${v.type} private`, kind: "private", bytes: fromHex(v.privateKey) });
}

function decode(s: Sample, bytes: Uint8Array): unknown {
  return s.kind === "public" ? publicKeyFromProtobuf(bytes) : privateKeyFromProtobuf(bytes);
}

function isCleanError(err: unknown): boolean {
  return err instanceof DecodeError || err instanceof UnsupportedKeyTypeError ||
    err instanceof LimitExceededError;
}

/** Split a key protobuf (08 <type> 12 <len varint> <data>) into type and Data. */
function split(bytes: Uint8Array): { code: number; data: Uint8Array } {
  const code = bytes[1];
  let offset = 3;
  let length = 0;
  for (let shift = 0;; shift += 7) {
    const b = bytes[offset++];
    length += (b & 0x7f) * 2 ** shift;
    if ((b & 0x80) === 0) break;
  }
  assert.equal(bytes.length, offset + length);
  return { code, data: bytes.subarray(offset) };
}

/** A small deterministic PRNG (xorshift32) so failures are reproducible. */
function prng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x;
  };
}

describe("truncated key protobufs", () => {
  for (const s of samples) {
    it(`${s.name}: every proper prefix is DecodeError/UnsupportedKeyTypeError`, () => {
      for (let n = 0; n < s.bytes.length; n++) {
        assert.throws(
          () => decode(s, s.bytes.subarray(0, n)),
          (err) => err instanceof DecodeError || err instanceof UnsupportedKeyTypeError,
          `prefix of ${n} bytes`,
        );
      }
    });

    it(`${s.name}: every proper prefix of Data, re-wrapped, is DecodeError`, () => {
      const { code, data } = split(s.bytes);
      for (let n = 0; n < data.length; n++) {
        const bytes = new ProtobufWriter().uint(1, code).bytes(2, data.subarray(0, n)).finish();
        assert.throws(
          () => decode(s, bytes),
          (err) => err instanceof DecodeError || err instanceof UnsupportedKeyTypeError,
          `Data prefix of ${n} bytes`,
        );
      }
    });
  }
});

describe("mutated key protobufs", () => {
  for (const s of samples) {
    it(`${s.name}: random byte changes decode or fail cleanly; verify never throws`, async () => {
      const next = prng(s.bytes.length * 31 + s.bytes[1]);
      const msg = utf8Encode("mutation");
      const rounds = s.bytes.length > 1000 ? 150 : 400;
      for (let i = 0; i < rounds; i++) {
        const bytes = s.bytes.slice();
        const flips = 1 + (next() % 3);
        for (let f = 0; f < flips; f++) bytes[next() % bytes.length] = next() & 0xff;
        let key: unknown;
        try {
          key = decode(s, bytes);
        } catch (err) {
          assert.ok(isCleanError(err), `round ${i}: ${String(err)}`);
          continue;
        }
        if (s.kind === "public") {
          const pub = key as { verify(d: Uint8Array, s: Uint8Array): unknown };
          const sig = new Uint8Array(next() % 600).map(() => next() & 0xff);
          assert.equal(await pub.verify(msg, sig), false);
        }
      }
    });
  }
});

describe("garbage and oversized DER", () => {
  it("random bytes as ECDSA/RSA Data fail cleanly", () => {
    const next = prng(7);
    for (let i = 0; i < 500; i++) {
      const data = new Uint8Array(next() % 300).map(() => next() & 0xff);
      if (i % 2 === 0 && data.length > 2) data[0] = 0x30; // look like a SEQUENCE
      for (const type of ["ECDSA", "RSA"] as KeyType[]) {
        for (const fn of [publicKeyFromRaw, privateKeyFromRaw]) {
          try {
            fn(type, data);
            assert.fail("garbage decoded");
          } catch (err) {
            assert.ok(isCleanError(err), String(err));
          }
        }
      }
    }
  });

  it("DER lengths that claim more than is present are DecodeError, without allocating", () => {
    const claims = [
      [0x30, 0x84, 0x7f, 0xff, 0xff, 0xff, 0x02, 0x01, 0x00],
      [0x30, 0x85, 0x01, 0x00, 0x00, 0x00, 0x00],
      [0x30, 0x80, 0x00, 0x00],
      [0x30, 0x81, 0x05, 0x02, 0x01, 0x00, 0x05, 0x00],
    ];
    for (const c of claims) {
      for (const type of ["ECDSA", "RSA"] as KeyType[]) {
        assert.throws(() => publicKeyFromRaw(type, new Uint8Array(c)), DecodeError);
        assert.throws(() => privateKeyFromRaw(type, new Uint8Array(c)), DecodeError);
      }
    }
  });

  it("Data above MAX_KEY_DATA_BYTES is LimitExceededError", () => {
    const bytes = new ProtobufWriter().uint(1, KEY_TYPE_CODES.RSA).bytes(2, new Uint8Array(8193))
      .finish();
    assert.throws(() => privateKeyFromProtobuf(bytes), LimitExceededError);
  });
});

describe("RSA key sizes are checked before any RSA math", () => {
  /** An odd modulus of exactly `bits` bits (not a real RSA modulus: no math may touch it). */
  function modulus(bits: number): Uint8Array {
    const n = crypto.getRandomValues(new Uint8Array(bits / 8));
    n[0] |= 0x80;
    n[n.length - 1] |= 1;
    return n;
  }
  function spki(n: Uint8Array): Uint8Array {
    return derSequence([
      derSequence([derOid(OID_RSA_ENCRYPTION), derNull()]),
      derBitString(
        derSequence([derUnsignedInteger(n), derUnsignedInteger(new Uint8Array([1, 0, 1]))]),
      ),
    ]);
  }
  /** PKCS#1 with the given modulus and nonsense for every other value. */
  function pkcs1(n: Uint8Array): Uint8Array {
    const junk = derUnsignedInteger(new Uint8Array([5]));
    return derSequence([
      derSmallInteger(0),
      derUnsignedInteger(n),
      derUnsignedInteger(new Uint8Array([1, 0, 1])),
      junk,
      junk,
      junk,
      junk,
      junk,
      junk,
    ]);
  }

  function limit(name: string): (err: unknown) => boolean {
    return (err) => err instanceof LimitExceededError && err.limit === name;
  }

  it("1024-bit keys made by WebCrypto are refused (MIN_RSA_BITS)", async () => {
    const pair = await crypto.subtle.generateKey(
      {
        name: "RSASSA-PKCS1-v1_5",
        hash: "SHA-256",
        modulusLength: 1024,
        publicExponent: new Uint8Array([1, 0, 1]),
      },
      true,
      ["sign", "verify"],
    );
    const pub = new Uint8Array(await crypto.subtle.exportKey("spki", pair.publicKey));
    const priv = pkcs8ToPkcs1(
      new Uint8Array(await crypto.subtle.exportKey("pkcs8", pair.privateKey)),
    );
    assert.throws(() => publicKeyFromRaw("RSA", pub), limit("MIN_RSA_BITS"));
    assert.throws(() => privateKeyFromRaw("RSA", priv), limit("MIN_RSA_BITS"));
    const pb = new ProtobufWriter().uint(1, 0).bytes(2, pub).finish();
    assert.throws(() => publicKeyFromProtobuf(pb), limit("MIN_RSA_BITS"));
  });

  it("a 2047-bit modulus is refused, 2048 accepted structurally", () => {
    const n = modulus(2048);
    n[0] = 0x40;
    assert.throws(() => publicKeyFromRaw("RSA", spki(n)), limit("MIN_RSA_BITS"));
    assert.equal(publicKeyFromRaw("RSA", spki(modulus(2048))).type, "RSA");
  });

  it("16384-bit keys are refused (MAX_RSA_BITS) before their values are checked", () => {
    const n = modulus(16384);
    assert.throws(() => publicKeyFromRaw("RSA", spki(n)), limit("MAX_RSA_BITS"));
    // The other PKCS#1 values are nonsense: had any arithmetic run, the result would be a
    // DecodeError ("not internally consistent"), not the size limit.
    assert.throws(() => privateKeyFromRaw("RSA", pkcs1(n)), limit("MAX_RSA_BITS"));
    assert.throws(() => privateKeyFromRaw("RSA", pkcs1(modulus(1024))), limit("MIN_RSA_BITS"));
    assert.throws(() => privateKeyFromRaw("RSA", pkcs1(modulus(2048))), DecodeError);
    const pb = new ProtobufWriter().uint(1, 0).bytes(2, spki(n)).finish();
    assert.throws(() => publicKeyFromProtobuf(pb), limit("MAX_RSA_BITS"));
  });

  it("an RSA key generated here survives a protobuf round trip", async () => {
    const key = await generateKeyPair("RSA", 2048);
    assert.equal(privateKeyFromProtobuf(privateKeyToProtobuf(key)).equals(key), true);
    assert.equal(
      publicKeyFromProtobuf(publicKeyToProtobuf(key.publicKey)).equals(key.publicKey),
      true,
    );
  });
});

describe("DER reader strictness", () => {
  const bad: Array<[string, number[]]> = [
    ["non-minimal short length", [0x02, 0x81, 0x01, 0x05]],
    ["length with a leading zero", [0x04, 0x82, 0x00, 0x80, ...new Array(128).fill(0)]],
    ["indefinite length", [0x04, 0x80, 0x00, 0x00]],
    ["high tag number", [0x1f, 0x01, 0x00]],
    ["truncated value", [0x02, 0x02, 0x01]],
    ["missing length", [0x02]],
  ];
  for (const [name, bytes] of bad) {
    it(`rejects ${name}`, () => {
      const r = new DerReader(new Uint8Array(bytes));
      assert.throws(() => r.read(bytes[0]), DecodeError);
    });
  }

  it("rejects non-minimal, negative and empty INTEGERs", () => {
    for (const b of [[0x02, 0x02, 0x00, 0x01], [0x02, 0x01, 0x80], [0x02, 0x00]]) {
      assert.throws(() => new DerReader(new Uint8Array(b)).readUnsignedInteger(), DecodeError);
    }
    assert.deepEqual(
      new DerReader(new Uint8Array([0x02, 0x02, 0x00, 0x80])).readUnsignedInteger(),
      new Uint8Array([0x80]),
    );
  });

  it("rejects BIT STRINGs with unused bits, NULL with content, trailing bytes", () => {
    assert.throws(
      () => new DerReader(new Uint8Array([0x03, 0x02, 0x01, 0x00])).readBitString(),
      DecodeError,
    );
    assert.throws(() => new DerReader(new Uint8Array([0x05, 0x01, 0x00])).readNull(), DecodeError);
    const r = new DerReader(new Uint8Array([0x05, 0x00, 0x00]));
    r.readNull();
    assert.throws(() => r.end(), DecodeError);
  });

  it("writes long-form lengths that the reader reads back", () => {
    for (const size of [0, 1, 127, 128, 255, 256, 65535, 65536]) {
      const value = new Uint8Array(size).fill(1);
      const der = derSequence([value]);
      const r = new DerReader(der);
      assert.equal(r.read(0x30).length, size);
      r.end();
    }
  });
});
