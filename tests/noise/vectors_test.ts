/**
 * Noise XX against published vectors (cacophony, snow), the RFC 8439 AEAD example and the
 * RFC 7748 X25519 example, for every crypto provider of the runtime.
 */

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { fromHex, toHex } from "../../src/bytes.ts";
import { XXHandshakeState } from "../../protocols/noise/handshake.ts";
import type { NoiseCrypto } from "../../protocols/noise/crypto.ts";
import { cryptoProviders } from "./providers.ts";
import xx from "../vectors/noise/xx_25519_chachapoly_sha256.json" with { type: "json" };
import aead from "../vectors/noise/rfc8439_aead.json" with { type: "json" };
import dh from "../vectors/noise/rfc7748_x25519.json" with { type: "json" };

const providers = await cryptoProviders();
const EMPTY = new Uint8Array(0);

function keyPair(c: NoiseCrypto, hex: string) {
  const privateKey = fromHex(hex);
  return { privateKey, publicKey: c.x25519PublicKey(privateKey) };
}

for (const c of providers) {
  describe(`noise crypto provider ${c.name}`, () => {
    it("RFC 8439 §2.8.2 AEAD vector: seal and open", () => {
      const key = fromHex(aead.key), nonce = fromHex(aead.nonce), ad = fromHex(aead.aad);
      const sealed = c.encrypt(key, nonce, ad, fromHex(aead.plaintext));
      assert.equal(toHex(sealed), aead.ciphertext + aead.tag);
      const opened = c.decrypt(key, nonce, ad, sealed);
      assert.ok(opened);
      assert.equal(toHex(opened), aead.plaintext);
      // In-place output (used by the transport encryptor).
      const buf = new Uint8Array(sealed.byteLength);
      buf.set(fromHex(aead.plaintext));
      c.encrypt(key, nonce, ad, buf.subarray(0, sealed.byteLength - 16), buf);
      assert.equal(toHex(buf), aead.ciphertext + aead.tag);
    });

    it("RFC 8439 AEAD: any flipped bit or wrong AD fails authentication", () => {
      const key = fromHex(aead.key), nonce = fromHex(aead.nonce), ad = fromHex(aead.aad);
      const sealed = fromHex(aead.ciphertext + aead.tag);
      for (const index of [0, 57, sealed.byteLength - 17, sealed.byteLength - 1]) {
        const bad = sealed.slice();
        bad[index] ^= 0x01;
        assert.equal(c.decrypt(key, nonce, ad, bad), undefined, `flip at ${index}`);
      }
      assert.equal(c.decrypt(key, nonce, EMPTY, sealed), undefined);
      assert.equal(c.decrypt(key, nonce, ad, sealed.subarray(0, 15)), undefined);
    });

    it("RFC 7748 §6.1 X25519 vector", () => {
      assert.equal(toHex(c.x25519PublicKey(fromHex(dh.alice_private))), dh.alice_public);
      assert.equal(toHex(c.x25519PublicKey(fromHex(dh.bob_private))), dh.bob_public);
      assert.equal(toHex(c.x25519(fromHex(dh.alice_private), fromHex(dh.bob_public))), dh.shared);
      assert.equal(toHex(c.x25519(fromHex(dh.bob_private), fromHex(dh.alice_public))), dh.shared);
    });

    it("X25519 rejects low-order points", () => {
      const priv = fromHex(dh.alice_private);
      assert.throws(() => c.x25519(priv, new Uint8Array(32)), RangeError);
      const one = new Uint8Array(32);
      one[0] = 1;
      assert.throws(() => c.x25519(priv, one), RangeError);
    });

    it("X25519 on arrays reused for other keys uses the new keys (no stale imported key)", () => {
      const priv = fromHex(dh.alice_private);
      const pub = fromHex(dh.bob_public);
      assert.equal(toHex(c.x25519(priv, pub)), dh.shared);
      assert.equal(toHex(c.x25519(priv, pub)), dh.shared, "the same arrays again");
      // The same array objects now hold the other side's keys: same shared secret, by RFC 7748.
      priv.set(fromHex(dh.bob_private));
      pub.set(fromHex(dh.alice_public));
      assert.equal(toHex(c.x25519PublicKey(priv)), dh.bob_public);
      assert.equal(toHex(c.x25519(priv, pub)), dh.shared);
      // And a different pair in them gives that pair's secret, not the cached one's.
      const other = c.generateX25519KeyPair();
      pub.set(other.publicKey);
      assert.deepEqual(c.x25519(priv, pub), c.x25519(other.privateKey, fromHex(dh.bob_public)));
      assert.notEqual(toHex(c.x25519(priv, pub)), dh.shared);
    });

    it("generated key pairs agree", () => {
      const a = c.generateX25519KeyPair(), b = c.generateX25519KeyPair();
      assert.deepEqual(c.x25519PublicKey(a.privateKey), a.publicKey);
      assert.deepEqual(c.x25519(a.privateKey, b.publicKey), c.x25519(b.privateKey, a.publicKey));
    });

    for (const v of xx.vectors) {
      it(`XX vector from ${v.source}: handshake messages, hash, transport messages`, () => {
        const init = new XXHandshakeState({
          crypto: c,
          initiator: true,
          prologue: fromHex(v.init_prologue),
          staticKeyPair: keyPair(c, v.init_static),
          ephemeralKeyPair: keyPair(c, v.init_ephemeral),
        });
        const resp = new XXHandshakeState({
          crypto: c,
          initiator: false,
          prologue: fromHex(v.resp_prologue),
          staticKeyPair: keyPair(c, v.resp_static),
          ephemeralKeyPair: keyPair(c, v.resp_ephemeral),
        });
        v.messages.forEach((m, i) => {
          const [sender, receiver] = i % 2 === 0 ? [init, resp] : [resp, init];
          const payload = fromHex(m.payload);
          if (i < 3) {
            assert.equal(sender.isMyTurn, true);
            const ct = sender.writeMessage(payload);
            assert.equal(toHex(ct), m.ciphertext, `handshake message ${i + 1}`);
            assert.equal(toHex(receiver.readMessage(ct)), m.payload);
          } else {
            const ct = sender.result!.send.encryptWithAd(EMPTY, payload);
            assert.equal(toHex(ct), m.ciphertext, `transport message ${i + 1}`);
            assert.equal(toHex(receiver.result!.receive.decryptWithAd(EMPTY, ct)), m.payload);
          }
        });
        assert.ok(init.result && resp.result);
        if ("handshake_hash" in v) {
          assert.equal(toHex(init.result.handshakeHash), v.handshake_hash);
        }
        assert.deepEqual(init.result.handshakeHash, resp.result.handshakeHash);
        assert.deepEqual(init.result.remoteStaticKey, c.x25519PublicKey(fromHex(v.resp_static)));
        assert.deepEqual(resp.result.remoteStaticKey, c.x25519PublicKey(fromHex(v.init_static)));
      });
    }
  });
}
