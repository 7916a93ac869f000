// Tests for src/record/envelope.ts: signed envelopes (libp2p/specs RFC/0002-signed-envelopes.md).
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { toHex, utf8Encode } from "../../src/bytes.ts";
import {
  DecodeError,
  InvalidSignatureError,
  Libp2pError,
  LimitExceededError,
} from "../../src/errors.ts";
import { generateKeyPair, type KeyType, type PrivateKey } from "../../src/keys/mod.ts";
import { ProtobufWriter } from "../../src/protobuf.ts";
import { envelopeSigningBytes, MAX_ENVELOPE_BYTES, SignedEnvelope } from "../../src/record/mod.ts";

const DOMAIN = "libp2p-testing";
const PAYLOAD_TYPE = utf8Encode("/libp2p/testdata");

function testRecord(text: string) {
  return { domain: DOMAIN, payloadType: PAYLOAD_TYPE, encode: () => utf8Encode(text) };
}

const KEY_TYPES: KeyType[] = ["Ed25519", "secp256k1", "ECDSA"];
const keys = new Map<KeyType, PrivateKey>();
async function key(type: KeyType): Promise<PrivateKey> {
  let k = keys.get(type);
  if (k === undefined) {
    k = await generateKeyPair(type);
    keys.set(type, k);
  }
  return k;
}

/** Every rejection must be one of ours, never a TypeError/RangeError from deep inside. */
function isLibp2pError(e: unknown): boolean {
  return e instanceof Libp2pError;
}

describe("envelopeSigningBytes", () => {
  it("prefixes domain, payload type and payload with their uvarint lengths", () => {
    assert.equal(
      toHex(envelopeSigningBytes("d", Uint8Array.of(3, 1), Uint8Array.of(9))),
      "01" + "64" + "02" + "0301" + "01" + "09",
    );
    const long = envelopeSigningBytes(
      "libp2p-peer-record",
      Uint8Array.of(3, 1),
      new Uint8Array(200),
    );
    assert.equal(toHex(long.subarray(0, 1)), "12"); // 18-byte domain
    assert.equal(toHex(long.subarray(19, 22)), "020301");
    assert.equal(toHex(long.subarray(22, 24)), "c801"); // 200 as a two-byte uvarint
    assert.equal(long.byteLength, 1 + 18 + 1 + 2 + 2 + 200);
    // Domain length counts UTF-8 bytes, not UTF-16 code units.
    assert.equal(envelopeSigningBytes("é", new Uint8Array(0), new Uint8Array(0))[0], 2);
  });
});

describe("SignedEnvelope", () => {
  for (const type of KEY_TYPES) {
    it(`seals and opens with a ${type} key`, async () => {
      const k = await key(type);
      const sealed = await SignedEnvelope.seal(k, testRecord("test-data"));
      const bytes = sealed.encode();
      // Field 1 is the signer's PublicKey message, as go and js write it.
      assert.equal(bytes[0], 0x0a);
      const opened = await SignedEnvelope.open(bytes, DOMAIN);
      assert.ok(opened.publicKey.equals(k.publicKey));
      assert.deepEqual(opened.payloadType, PAYLOAD_TYPE);
      assert.equal(new TextDecoder().decode(opened.payload), "test-data");
      assert.ok(opened.equals(sealed));
      assert.deepEqual(opened.encode(), bytes);
      assert.equal(await opened.verify(DOMAIN), true);
      assert.equal(await opened.verify("other"), false);
    });
  }

  it("seals and opens with an RSA key", async () => {
    const k = await generateKeyPair("RSA");
    const bytes = (await SignedEnvelope.seal(k, testRecord("rsa"))).encode();
    const opened = await SignedEnvelope.open(bytes, DOMAIN);
    assert.ok(opened.publicKey.equals(k.publicKey));
    await assert.rejects(SignedEnvelope.open(bytes, "other"), InvalidSignatureError);
  });

  it("encodes fields in number order and leaves an empty payload out", async () => {
    const k = await key("Ed25519");
    const sealed = await SignedEnvelope.sealPayload(
      k,
      DOMAIN,
      Uint8Array.of(3, 1),
      new Uint8Array(0),
    );
    const bytes = sealed.encode();
    // 0a 24 <36-byte key> 12 02 03 01 2a 40 <64-byte signature>
    assert.equal(bytes.byteLength, 2 + 36 + 4 + 2 + 64);
    assert.equal(toHex(bytes.subarray(38, 44)), "120203012a40");
    const opened = await SignedEnvelope.open(bytes, DOMAIN);
    assert.equal(opened.payload.byteLength, 0);
  });

  it("rejects a tampered payload or signature with InvalidSignatureError", async () => {
    for (const type of KEY_TYPES) {
      const k = await key(type);
      const sealed = await SignedEnvelope.seal(k, testRecord("test-data"));
      const payload = sealed.payload.slice();
      payload[0] ^= 1;
      const tamperedPayload = new SignedEnvelope({
        publicKey: sealed.publicKey,
        payloadType: sealed.payloadType,
        payload,
        signature: sealed.signature,
      });
      await assert.rejects(
        SignedEnvelope.open(tamperedPayload.encode(), DOMAIN),
        InvalidSignatureError,
        type,
      );
      const signature = sealed.signature.slice();
      signature[signature.length - 1] ^= 1;
      const tamperedSig = new SignedEnvelope({
        publicKey: sealed.publicKey,
        payloadType: sealed.payloadType,
        payload: sealed.payload,
        signature,
      });
      await assert.rejects(
        SignedEnvelope.open(tamperedSig.encode(), DOMAIN),
        InvalidSignatureError,
        type,
      );
      // A valid signature by another key.
      const other = await generateKeyPair(type);
      const swapped = new SignedEnvelope({
        publicKey: other.publicKey,
        payloadType: sealed.payloadType,
        payload: sealed.payload,
        signature: sealed.signature,
      });
      await assert.rejects(SignedEnvelope.open(swapped.encode(), DOMAIN), InvalidSignatureError);
    }
  });

  it("rejects every single-bit flip of the encoding with one of our errors", async () => {
    const sealed = await SignedEnvelope.seal(await key("Ed25519"), testRecord("flip"));
    const bytes = sealed.encode();
    for (let i = 0; i < bytes.byteLength; i++) {
      for (const bit of [0x01, 0x80]) {
        const flipped = bytes.slice();
        flipped[i] ^= bit;
        await assert.rejects(SignedEnvelope.open(flipped, DOMAIN), isLibp2pError, `byte ${i}`);
      }
    }
  });

  it("rejects the wrong domain with InvalidSignatureError", async () => {
    const bytes = (await SignedEnvelope.seal(await key("Ed25519"), testRecord("x"))).encode();
    await assert.rejects(SignedEnvelope.open(bytes, "/bad-domain"), InvalidSignatureError);
    await assert.rejects(SignedEnvelope.open(bytes, DOMAIN + " "), InvalidSignatureError);
  });

  it("rejects an unexpected payload type with DecodeError", async () => {
    const bytes = (await SignedEnvelope.seal(await key("Ed25519"), testRecord("x"))).encode();
    await assert.rejects(
      SignedEnvelope.open(bytes, DOMAIN, { payloadType: Uint8Array.of(3, 1) }),
      DecodeError,
    );
    await SignedEnvelope.open(bytes, DOMAIN, { payloadType: PAYLOAD_TYPE });
  });

  it("rejects every truncated prefix with DecodeError", async () => {
    for (const type of KEY_TYPES) {
      const bytes = (await SignedEnvelope.seal(await key(type), testRecord("truncate me")))
        .encode();
      for (let n = 0; n < bytes.byteLength; n++) {
        await assert.rejects(
          SignedEnvelope.open(bytes.subarray(0, n), DOMAIN),
          (e: unknown) => e instanceof DecodeError,
          `${type} prefix ${n}`,
        );
      }
    }
  });

  it("rejects missing and repeated fields with DecodeError, skips unknown ones", async () => {
    const sealed = await SignedEnvelope.seal(await key("Ed25519"), testRecord("x"));
    const keyBytes = sealed.encode().subarray(2, 38);
    const build = (fields: [number, Uint8Array][]) => {
      const w = new ProtobufWriter();
      for (const [f, v] of fields) w.bytes(f, v);
      return w.finish();
    };
    const k: [number, Uint8Array] = [1, keyBytes];
    const t: [number, Uint8Array] = [2, sealed.payloadType];
    const p: [number, Uint8Array] = [3, sealed.payload];
    const s: [number, Uint8Array] = [5, sealed.signature];
    for (const fields of [[t, p, s], [k, p, s], [k, t, p], [k, t, p, s, s], [k, k, t, p, s]]) {
      await assert.rejects(SignedEnvelope.open(build(fields), DOMAIN), DecodeError);
    }
    // Wrong wire type for a known field.
    const wrongType = new ProtobufWriter().bytes(1, keyBytes).uint(2, 3).bytes(3, sealed.payload)
      .bytes(5, sealed.signature).finish();
    await assert.rejects(SignedEnvelope.open(wrongType, DOMAIN), DecodeError);
    // Unknown fields (4, 9) are ignored; the signature does not cover them.
    const extra = new ProtobufWriter().bytes(1, keyBytes).bytes(2, sealed.payloadType)
      .bytes(3, sealed.payload).bytes(4, Uint8Array.of(1)).bytes(5, sealed.signature).uint(9, 7)
      .finish();
    const opened = await SignedEnvelope.open(extra, DOMAIN);
    assert.ok(opened.equals(sealed));
  });

  it("checks the size limit before decoding", async () => {
    const huge = new Uint8Array(MAX_ENVELOPE_BYTES + 1); // not even a valid protobuf
    await assert.rejects(
      SignedEnvelope.open(huge, DOMAIN),
      (e: unknown) => e instanceof LimitExceededError && e.limit === "MAX_ENVELOPE_BYTES",
    );
    const bytes = (await SignedEnvelope.seal(await key("Ed25519"), testRecord("x"))).encode();
    await assert.rejects(
      SignedEnvelope.open(bytes, DOMAIN, { maxBytes: bytes.byteLength - 1 }),
      LimitExceededError,
    );
  });

  it("does not alias the caller's buffer", async () => {
    const bytes = (await SignedEnvelope.seal(await key("Ed25519"), testRecord("alias"))).encode()
      .slice();
    const opened = await SignedEnvelope.open(bytes, DOMAIN);
    bytes.fill(0);
    assert.equal(new TextDecoder().decode(opened.payload), "alias");
  });

  it("rejects bad arguments with TypeError", async () => {
    const k = await key("Ed25519");
    await assert.rejects(
      SignedEnvelope.sealPayload(k, "", PAYLOAD_TYPE, new Uint8Array(1)),
      TypeError,
    );
    await assert.rejects(
      SignedEnvelope.sealPayload(k, DOMAIN, new Uint8Array(0), new Uint8Array(1)),
      TypeError,
    );
    const bytes = (await SignedEnvelope.seal(k, testRecord("x"))).encode();
    await assert.rejects(SignedEnvelope.open(bytes, ""), TypeError);
  });

  it("honours an aborted signal", async () => {
    const k = await key("Ed25519");
    const signal = AbortSignal.abort(new Error("stop"));
    await assert.rejects(SignedEnvelope.seal(k, testRecord("x"), { signal }), /stop/);
  });
});
