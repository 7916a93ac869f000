/**
 * The size-routed provider (protocols/noise/crypto_hybrid.ts): which implementation each message
 * goes to, and that the default provider gives @noble's bytes on both sides of the threshold.
 */

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { randomBytes } from "../../src/bytes.ts";
import { nobleCrypto, type NoiseCrypto } from "../../protocols/noise/crypto.ts";
import {
  createHybridCrypto,
  SMALL_MESSAGE_CIPHER_MAX,
} from "../../protocols/noise/crypto_hybrid.ts";
import { defaultNoiseCrypto } from "../../protocols/noise/crypto_native.ts";

/** @noble under another name, recording which lengths it was asked to seal and open. */
function recording(name: string): NoiseCrypto & { sealed: number[]; opened: number[] } {
  const sealed: number[] = [], opened: number[] = [];
  return {
    ...nobleCrypto,
    name,
    sealed,
    opened,
    encrypt(key, nonce, ad, plaintext, output) {
      sealed.push(plaintext.byteLength);
      return nobleCrypto.encrypt(key, nonce, ad, plaintext, output);
    },
    decrypt(key, nonce, ad, ciphertext) {
      opened.push(ciphertext.byteLength);
      return nobleCrypto.decrypt(key, nonce, ad, ciphertext);
    },
  };
}

describe("hybrid Noise crypto", () => {
  it("routes messages shorter than the threshold to the small provider", () => {
    const large = recording("large"), small = recording("small");
    const c = createHybridCrypto(large, small, 100);
    const key = randomBytes(32), nonce = randomBytes(12), ad = randomBytes(5);
    for (const n of [0, 1, 83, 84, 99, 100, 101, 5000]) {
      const pt = randomBytes(n);
      const ct = c.encrypt(key, nonce, ad, pt);
      assert.deepEqual(c.decrypt(key, nonce, ad, ct), pt);
    }
    // Sealing routes by plaintext length, opening by ciphertext length (plaintext + 16).
    assert.deepEqual(small.sealed, [0, 1, 83, 84, 99]);
    assert.deepEqual(large.sealed, [100, 101, 5000]);
    assert.deepEqual(small.opened, [16, 17, 99]);
    assert.deepEqual(large.opened, [100, 115, 116, 117, 5016]);
    assert.equal(c.name, "large, chacha < 100 B: small");
    // Everything but the AEAD comes from the large provider.
    assert.equal(c.x25519, large.x25519);
    assert.equal(c.hmacSha256, large.hmacSha256);
  });

  it("checks the threshold", () => {
    assert.throws(() => createHybridCrypto(nobleCrypto, nobleCrypto, -1), RangeError);
    assert.throws(() => createHybridCrypto(nobleCrypto, nobleCrypto, 1.5), RangeError);
  });

  it("default provider: @noble's bytes around the threshold, both directions", async () => {
    const c = await defaultNoiseCrypto();
    const key = randomBytes(32), nonce = randomBytes(12), ad = randomBytes(32);
    const t = SMALL_MESSAGE_CIPHER_MAX;
    for (const n of [0, 32, t - 17, t - 16, t - 15, t - 1, t, t + 1, 65519]) {
      const pt = randomBytes(n);
      const ct = c.encrypt(key, nonce, ad, pt);
      assert.deepEqual(ct, nobleCrypto.encrypt(key, nonce, ad, pt), `seal ${n}`);
      assert.deepEqual(c.decrypt(key, nonce, ad, ct), pt, `open ${n}`);
      const bad = ct.slice();
      bad[bad.length - 1] ^= 1;
      assert.equal(c.decrypt(key, nonce, ad, bad), undefined, `tampered ${n}`);
    }
  });
});
