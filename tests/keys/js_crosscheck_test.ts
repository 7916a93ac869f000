/**
 * Cross-check against js-libp2p's own packages (@libp2p/crypto 5.1.23, @libp2p/peer-id 6.0.15),
 * both directions, on random keys: protobuf bytes, decoded keys, peer id text and signatures.
 *
 * Runs unchanged under Deno and Bun (the js key packages need no Promise.withResolvers).
 *
 * Known js-libp2p ECDSA deviations, asserted here so a js fix shows up as a test change:
 * - js writes the ECDSA public key not as PKIX (what go-libp2p and the spec vectors use) but as
 *   `SEQUENCE { 1, [0] curve, [1] point }`, and cannot read PKIX. We read js's form and re-encode
 *   PKIX, so the public key protobufs differ by design.
 * - js signs ECDSA with raw `r || s` instead of DER, and verifies only raw. We accept raw and
 *   produce DER; for the ours -> js direction the DER signature is converted to raw first.
 * - js refuses to derive a peer id from an ECDSA key (UnsupportedKeyTypeError), so ECDSA peer
 *   ids are checked against the spec rule computed independently here (sha2-256 multihash of the
 *   PKIX protobuf, base58btc).
 */

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import * as js from "@libp2p/crypto/keys";
import * as jsPeerId from "@libp2p/peer-id";
import { sha256 } from "@noble/hashes/sha2.js";
import { base58 } from "@scure/base";
import { concat, toHex, utf8Encode } from "../../src/bytes.ts";
import { peerIdFromString } from "../../src/peer_id.ts";
import {
  generateKeyPair,
  type KeyType,
  peerIdFromPublicKey,
  privateKeyFromProtobuf,
  privateKeyToProtobuf,
  publicKeyFromProtobuf,
  publicKeyToProtobuf,
} from "../../src/keys/mod.ts";
import { ecdsaSignatureFromDer } from "../../src/keys/der.ts";

const COUNTS: Record<KeyType, number> = { Ed25519: 300, secp256k1: 300, ECDSA: 200, RSA: 5 };

/** The spec rule for keys whose encoding is longer than 42 bytes. */
function sha256PeerIdText(encoded: Uint8Array): string {
  return base58.encode(concat([new Uint8Array([0x12, 0x20]), sha256(encoded)]));
}

function message(i: number): Uint8Array {
  return utf8Encode(`cross-check message ${i} ` + "x".repeat(i % 50));
}

for (const type of ["Ed25519", "secp256k1", "ECDSA", "RSA"] as KeyType[]) {
  describe(`js-libp2p cross-check: ${type}`, () => {
    it(`${COUNTS[type]} js keys: our encoding, peer id and signatures agree`, async () => {
      for (let i = 0; i < COUNTS[type]; i++) {
        const jk = await js.generateKeyPair(type);
        const jsPriv = js.privateKeyToProtobuf(jk);
        const ours = privateKeyFromProtobuf(jsPriv);
        assert.equal(toHex(privateKeyToProtobuf(ours)), toHex(jsPriv), "private protobuf");
        const jsPub = js.publicKeyToProtobuf(jk.publicKey);
        const ourPubFromJs = publicKeyFromProtobuf(jsPub);
        assert.equal(ourPubFromJs.equals(ours.publicKey), true, "public key");
        if (type === "ECDSA") {
          // js's non-PKIX form is read and re-encoded as PKIX; peer id by the spec rule.
          const encoded = publicKeyToProtobuf(ours.publicKey);
          assert.equal(encoded.length, 95);
          assert.equal(peerIdFromPublicKey(ours.publicKey).toString(), sha256PeerIdText(encoded));
          assert.throws(() => jsPeerId.peerIdFromPublicKey(jk.publicKey));
        } else {
          assert.equal(toHex(publicKeyToProtobuf(ours.publicKey)), toHex(jsPub), "public protobuf");
          const jsId = jsPeerId.peerIdFromPublicKey(jk.publicKey);
          const ourId = peerIdFromPublicKey(ours.publicKey);
          assert.equal(ourId.toString(), jsId.toString());
          assert.equal(ourId.toCID().toString(), jsId.toCID().toString());
          assert.equal(peerIdFromString(jsId.toCID().toString()).equals(ourId), true);
        }
        const msg = message(i);
        const jsSig = await jk.sign(msg);
        assert.equal(await ours.publicKey.verify(msg, jsSig), true, "js signature, our verify");
        assert.equal(await ours.publicKey.verify(utf8Encode("other"), jsSig), false);
        const ourSig = await ours.sign(msg);
        const forJs = type === "ECDSA" ? ecdsaSignatureFromDer(ourSig, 32)! : ourSig;
        assert.equal(await jk.publicKey.verify(msg, forJs), true, "our signature, js verify");
      }
    });

    it(`${COUNTS[type]} of our keys: js decodes them to the same key and peer id`, async () => {
      for (let i = 0; i < COUNTS[type]; i++) {
        const ours = await generateKeyPair(type);
        const ourPriv = privateKeyToProtobuf(ours);
        const jk = js.privateKeyFromProtobuf(ourPriv);
        assert.equal(toHex(js.privateKeyToProtobuf(jk)), toHex(ourPriv), "private protobuf");
        const ourPub = publicKeyToProtobuf(ours.publicKey);
        if (type === "ECDSA") {
          // js cannot read PKIX (see the module notes); its own public form must map to ours.
          assert.throws(() => js.publicKeyFromProtobuf(ourPub));
          const fromJs = publicKeyFromProtobuf(js.publicKeyToProtobuf(jk.publicKey));
          assert.equal(toHex(publicKeyToProtobuf(fromJs)), toHex(ourPub));
        } else {
          const jsPub = js.publicKeyFromProtobuf(ourPub);
          assert.equal(toHex(js.publicKeyToProtobuf(jsPub)), toHex(ourPub), "public protobuf");
          assert.equal(jsPub.equals(jk.publicKey), true);
          const ourText = peerIdFromPublicKey(ours.publicKey).toString();
          assert.equal(jsPeerId.peerIdFromPublicKey(jsPub).toString(), ourText);
          assert.equal(jsPeerId.peerIdFromString(ourText).toString(), ourText);
        }
        const msg = message(i);
        const ourSig = await ours.sign(msg);
        const forJs = type === "ECDSA" ? ecdsaSignatureFromDer(ourSig, 32)! : ourSig;
        assert.equal(await jk.publicKey.verify(msg, forJs), true, "our signature, js verify");
        const jsSig = await jk.sign(msg);
        assert.equal(await ours.publicKey.verify(msg, jsSig), true, "js signature, our verify");
      }
    });
  });
}
