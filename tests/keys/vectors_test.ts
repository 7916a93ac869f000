/**
 * Key vectors: RFC 8032 (both Ed25519 backends), libp2p/specs peer-ids test vectors, and the
 * go-libp2p core/crypto fixtures.
 */

import assert from "node:assert/strict";
import { after, describe, it } from "node:test";
import { fromHex, toHex, utf8Encode } from "../../src/bytes.ts";
import { peerIdFromString } from "../../src/peer_id.ts";
import {
  Ed25519PrivateKey,
  Ed25519PublicKey,
  peerIdFromPrivateKey,
  peerIdFromPublicKey,
  privateKeyFromProtobuf,
  privateKeyToProtobuf,
  publicKeyFromProtobuf,
  publicKeyToProtobuf,
} from "../../src/keys/mod.ts";
import {
  nobleEd25519Sign,
  nobleEd25519Verify,
  setEd25519Backend,
  webCryptoEd25519PrivateKey,
  webCryptoEd25519PublicKey,
} from "../../src/keys/ed25519.ts";
import { base36lower } from "../../src/multiformats/multibase.ts";
import rfc8032 from "../vectors/rfc8032/vectors.json" with { type: "json" };
import specKeys from "../vectors/peer-ids/keys.json" with { type: "json" };
import goKeys from "../vectors/go-crypto/keys.json" with { type: "json" };

describe("RFC 8032 Ed25519 vectors", () => {
  after(() => setEd25519Backend("auto"));

  for (const v of rfc8032) {
    const seed = fromHex(v.secret);
    const pub = fromHex(v.public);
    const msg = fromHex(v.message);
    const sig = fromHex(v.signature);

    it(`${v.name}: noble signs and verifies`, () => {
      assert.equal(toHex(nobleEd25519Sign(seed, msg)), v.signature);
      assert.equal(nobleEd25519Verify(pub, msg, sig), true);
      const bad = sig.slice();
      bad[0] ^= 1;
      assert.equal(nobleEd25519Verify(pub, msg, bad), false);
    });

    it(`${v.name}: WebCrypto signs and verifies`, async () => {
      const priv = await webCryptoEd25519PrivateKey(seed);
      const got = new Uint8Array(await crypto.subtle.sign("Ed25519", priv, msg as BufferSource));
      assert.equal(toHex(got), v.signature);
      const key = await webCryptoEd25519PublicKey(pub);
      assert.equal(
        await crypto.subtle.verify("Ed25519", key, sig as BufferSource, msg as BufferSource),
        true,
      );
    });

    for (const backend of ["noble", "webcrypto"] as const) {
      it(`${v.name}: key classes on the ${backend} backend`, async () => {
        setEd25519Backend(backend);
        const key = Ed25519PrivateKey.fromSeed(seed);
        assert.equal(toHex(key.publicKey.raw), v.public);
        assert.equal(toHex(key.raw), v.secret + v.public);
        assert.equal(toHex(await key.sign(msg)), v.signature);
        const pk = new Ed25519PublicKey(pub);
        assert.equal(await pk.verify(msg, sig), true);
        assert.equal(await pk.verify(utf8Encode("other"), sig), false);
        assert.equal(await pk.verify(msg, sig.subarray(0, 63)), false);
        setEd25519Backend("auto");
      });
    }
  }
});

describe("libp2p/specs peer-ids vectors", () => {
  for (const v of specKeys.keys) {
    const privBytes = fromHex(v.privateKey);
    const pubBytes = fromHex(v.publicKey);

    it(`${v.type}: decodes and re-encodes byte for byte`, () => {
      const pub = publicKeyFromProtobuf(pubBytes);
      assert.equal(pub.type, v.type);
      assert.equal(toHex(publicKeyToProtobuf(pub)), toHex(pubBytes));
      const priv = privateKeyFromProtobuf(privBytes);
      assert.equal(priv.type, v.type);
      assert.equal(toHex(privateKeyToProtobuf(priv)), toHex(privBytes));
      // "Implementations SHOULD check that they can produce the provided public key."
      assert.equal(priv.publicKey.equals(pub), true);
      assert.equal(toHex(publicKeyToProtobuf(priv.publicKey)), toHex(pubBytes));
    });

    it(`${v.type}: derives the peer id and parses every text form to it`, () => {
      const id = peerIdFromPublicKey(publicKeyFromProtobuf(pubBytes));
      assert.equal(id.toString(), v.peerId);
      assert.equal(id.toCID().toString(), v.peerIdCidBase32);
      assert.equal(id.toCID().toString(base36lower), v.peerIdCidBase36);
      assert.equal(peerIdFromPrivateKey(privateKeyFromProtobuf(privBytes)).equals(id), true);
      for (const text of [v.peerId, v.peerIdCidBase32, v.peerIdCidBase36]) {
        const parsed = peerIdFromString(text);
        assert.equal(parsed.equals(id), true, text);
        assert.equal(parsed.toString(), v.peerId);
      }
      const inline = v.type === "Ed25519" || v.type === "secp256k1";
      const parsed = peerIdFromString(v.peerId);
      assert.equal(parsed.multihash.code, inline ? 0x00 : 0x12);
      if (inline) {
        // The key embedded in an identity peer id is decoded through the registered decoder.
        assert.equal(parsed.type, v.type);
        assert.equal(parsed.publicKey?.equals(publicKeyFromProtobuf(pubBytes)), true);
      } else {
        assert.equal(parsed.publicKey, undefined);
      }
    });

    it(`${v.type}: signs with the vector key and verifies`, async () => {
      const priv = privateKeyFromProtobuf(privBytes);
      const pub = publicKeyFromProtobuf(pubBytes);
      const msg = utf8Encode("libp2p peer-ids vector");
      const sig = await priv.sign(msg);
      assert.equal(await pub.verify(msg, sig), true);
      assert.equal(await pub.verify(utf8Encode("libp2p peer-ids vectoR"), sig), false);
    });
  }

  it("spec examples: base58btc and CIDv1 forms are the same peer", () => {
    const [b58, cid] = specKeys.examples.sha256;
    assert.equal(peerIdFromString(b58).equals(peerIdFromString(cid)), true);
    assert.equal(peerIdFromString(cid).toString(), b58);
    assert.equal(peerIdFromString(b58).toCID().toString(), cid);
    const [ed] = specKeys.examples.identity;
    const id = peerIdFromString(ed);
    assert.equal(id.type, "Ed25519");
    assert.ok(id.publicKey !== undefined);
    assert.equal(peerIdFromPublicKey(id.publicKey).toString(), ed);
  });
});

describe("go-libp2p core/crypto fixtures", () => {
  const message = utf8Encode(goKeys.message);
  for (const v of goKeys.keys) {
    it(`${v.type} (${v.file}.priv/.pub/.sig): round-trips and verifies go's signature`, async () => {
      const pub = publicKeyFromProtobuf(fromHex(v.publicKey));
      assert.equal(pub.type, v.type);
      assert.equal(toHex(publicKeyToProtobuf(pub)), v.publicKey);
      const priv = privateKeyFromProtobuf(fromHex(v.privateKey));
      assert.equal(toHex(privateKeyToProtobuf(priv)), v.privateKey);
      assert.equal(priv.publicKey.equals(pub), true);
      const sig = fromHex(v.signature);
      assert.equal(await pub.verify(message, sig), true);
      assert.equal(await pub.verify(utf8Encode(goKeys.message + "!"), sig), false);
      const ours = await priv.sign(message);
      if (v.deterministic) assert.equal(toHex(ours), v.signature);
      assert.equal(await pub.verify(message, ours), true);
    });
  }
});
