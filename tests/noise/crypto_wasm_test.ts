/**
 * The WebAssembly ChaCha20-Poly1305 (protocols/noise/crypto_wasm.ts): present on Deno and Bun,
 * the RFC 8439 §2.8.2 vector, and a randomized cross-check against @noble (random keys, nonces,
 * AD and lengths 0..70000, seal and open, tampering). The Noise vectors, handshake and transport
 * tests also run on this path through tests/noise/providers.ts.
 */

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { fromHex, randomBytes, toHex } from "../../src/bytes.ts";
import { nobleCrypto } from "../../protocols/noise/crypto.ts";
import {
  createWasmAead,
  createWasmCrypto,
  WASM_AEAD_MAX_INPUT,
} from "../../protocols/noise/crypto_wasm.ts";
import {
  defaultNoiseCrypto,
  detectNativeFeatures,
  importNodeCrypto,
} from "../../protocols/noise/crypto_native.ts";
import { isDeno } from "../../src/runtime.ts";
import aead from "../vectors/noise/rfc8439_aead.json" with { type: "json" };

/** A small deterministic PRNG (xorshift32) so a failure reproduces from its seed. */
function prng(seed: number): (n: number) => number {
  let x = seed | 0 || 1;
  return (n: number) => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) % n;
  };
}

function bytes(rand: (n: number) => number, length: number): Uint8Array {
  const out = new Uint8Array(length);
  for (let i = 0; i < length; i++) out[i] = rand(256);
  return out;
}

describe("wasm ChaCha20-Poly1305", () => {
  const wasm = createWasmAead();

  it("is available on this runtime and passes its self-check", () => {
    assert.ok(wasm !== undefined, "WebAssembly module did not instantiate");
    assert.equal(createWasmCrypto()?.name, "wasm(chacha)+noble");
  });

  it("RFC 8439 §2.8.2: seal, open, in-place output", () => {
    const key = fromHex(aead.key), nonce = fromHex(aead.nonce), ad = fromHex(aead.aad);
    const plaintext = fromHex(aead.plaintext);
    const sealed = wasm!.encrypt(key, nonce, ad, plaintext);
    assert.equal(toHex(sealed), aead.ciphertext + aead.tag);
    assert.equal(toHex(wasm!.decrypt(key, nonce, ad, sealed)!), aead.plaintext);
    const buf = new Uint8Array(sealed.byteLength);
    buf.set(plaintext);
    wasm!.encrypt(key, nonce, ad, buf.subarray(0, plaintext.byteLength), buf);
    assert.equal(toHex(buf), aead.ciphertext + aead.tag);
  });

  it("agrees with @noble on random keys, nonces, AD and lengths 0..70000", () => {
    const rand = prng(0x5eed1234);
    // Edges: 16-byte Poly1305 blocks (taken two at a time), 64-byte ChaCha20 blocks, 256-byte
    // steps of four blocks.
    const lengths = [0, 1, 15, 16, 17, 63, 64, 65, 191, 192, 193, 447, 448, 449, 1023, 65519];
    lengths.push(65535, 70000);
    for (let i = 0; i < 60; i++) lengths.push(rand(70001));
    for (let i = 0; i < 60; i++) lengths.push(rand(600));
    for (const [i, length] of lengths.entries()) {
      const key = bytes(rand, 32), nonce = bytes(rand, 12);
      const ad = bytes(rand, i % 5 === 0 ? 0 : rand(i % 7 === 0 ? 3000 : 70));
      const plaintext = bytes(rand, length);
      const expected = nobleCrypto.encrypt(key, nonce, ad, plaintext);
      const sealed = wasm!.encrypt(key, nonce, ad, plaintext);
      assert.equal(toHex(sealed), toHex(expected), `seal #${i} (${length} bytes, AD ${ad.length})`);
      const opened = wasm!.decrypt(key, nonce, ad, expected);
      assert.ok(opened !== undefined, `open #${i}`);
      assert.equal(toHex(opened), toHex(plaintext), `open #${i}`);
      // A flipped bit anywhere (body or tag) fails, on both implementations.
      const bad = expected.slice();
      bad[rand(bad.byteLength)] ^= 1 << rand(8);
      assert.equal(wasm!.decrypt(key, nonce, ad, bad), undefined, `tamper #${i}`);
      assert.equal(nobleCrypto.decrypt(key, nonce, ad, bad), undefined);
    }
  });

  it("both ChaCha20 kernels agree with @noble on every length 0..600 and on full frames", () => {
    for (const kernel of ["columns", "rows"] as const) {
      const aead = createWasmAead({ kernel })!;
      const rand = prng(0x600d);
      const key = bytes(rand, 32), nonce = bytes(rand, 12);
      const lengths = Array.from({ length: 601 }, (_, i) => i).concat([4095, 65519, 65535]);
      for (const length of lengths) {
        const ad = bytes(rand, length % 37);
        const plaintext = bytes(rand, length);
        const expected = nobleCrypto.encrypt(key, nonce, ad, plaintext);
        const label = `${kernel} ${length}`;
        assert.equal(toHex(aead.encrypt(key, nonce, ad, plaintext)), toHex(expected), label);
        assert.equal(toHex(aead.decrypt(key, nonce, ad, expected)!), toHex(plaintext), label);
      }
    }
  });

  it("returns buffers of its own: later calls do not change earlier results", () => {
    const key = randomBytes(32), nonce = randomBytes(12), ad = new Uint8Array(0);
    const a = randomBytes(1000), b = randomBytes(1000);
    const sealedA = wasm!.encrypt(key, nonce, ad, a);
    const copyA = sealedA.slice();
    const openedA = wasm!.decrypt(key, nonce, ad, sealedA)!;
    const sealedB = wasm!.encrypt(key, nonce, ad, b);
    wasm!.decrypt(key, nonce, ad, sealedB);
    assert.deepEqual(sealedA, copyA);
    assert.deepEqual(openedA, a);
    // An output buffer is filled exactly; bytes around the window it views stay untouched.
    const backing = new Uint8Array(1000 + 16 + 8).fill(0xee);
    wasm!.encrypt(key, nonce, ad, a, backing.subarray(4, 4 + 1016));
    assert.deepEqual(backing.subarray(4, 1020), copyA);
    assert.deepEqual(
      [...backing.subarray(0, 4), ...backing.subarray(1020)],
      new Array(8).fill(0xee),
    );
  });

  it("rejects a wrong AD, nonce or key, and inputs shorter than a tag", () => {
    const key = randomBytes(32), nonce = randomBytes(12), ad = randomBytes(32);
    const sealed = wasm!.encrypt(key, nonce, ad, randomBytes(100));
    assert.equal(wasm!.decrypt(key, nonce, ad.subarray(1), sealed), undefined);
    const otherNonce = nonce.slice();
    otherNonce[4] ^= 1;
    assert.equal(wasm!.decrypt(key, otherNonce, ad, sealed), undefined);
    const otherKey = key.slice();
    otherKey[31] ^= 0x80;
    assert.equal(wasm!.decrypt(otherKey, nonce, ad, sealed), undefined);
    assert.equal(wasm!.decrypt(key, nonce, ad, sealed.subarray(0, 15)), undefined);
    // An empty message still carries (and checks) a tag.
    const empty = wasm!.encrypt(key, nonce, ad, new Uint8Array(0));
    assert.equal(empty.byteLength, 16);
    assert.deepEqual(wasm!.decrypt(key, nonce, ad, empty), new Uint8Array(0));
  });

  it("checks argument sizes", () => {
    const z = new Uint8Array(0);
    assert.throws(() => wasm!.encrypt(new Uint8Array(31), new Uint8Array(12), z, z), TypeError);
    assert.throws(() => wasm!.encrypt(new Uint8Array(32), new Uint8Array(8), z, z), TypeError);
    assert.throws(
      () => wasm!.encrypt(new Uint8Array(32), new Uint8Array(12), z, z, new Uint8Array(15)),
      RangeError,
    );
  });

  it("hands inputs above its memory bound to @noble with the same result", () => {
    const key = randomBytes(32), nonce = randomBytes(12);
    const plaintext = randomBytes(WASM_AEAD_MAX_INPUT + 1);
    const sealed = wasm!.encrypt(key, nonce, new Uint8Array(0), plaintext);
    assert.deepEqual(sealed, nobleCrypto.encrypt(key, nonce, new Uint8Array(0), plaintext));
    assert.deepEqual(wasm!.decrypt(key, nonce, new Uint8Array(0), sealed), plaintext);
  });

  it("defaultNoiseCrypto: native ChaCha for large messages where node:crypto has it, else wasm", async () => {
    const mod = await importNodeCrypto();
    let native = false;
    try {
      mod?.createCipheriv("chacha20-poly1305", new Uint8Array(32), new Uint8Array(12), {
        authTagLength: 16,
      } as never);
      native = mod !== undefined;
    } catch {
      native = false;
    }
    const name = (await defaultNoiseCrypto()).name;
    if (native) assert.match(name, /^node:crypto\(chacha.*, chacha < 4096 B: wasm\(chacha\)/);
    else assert.match(name, /^wasm\(chacha\)\+/);
  });

  it("defaultNoiseCrypto: SHA-256 from @noble on Deno, from node:crypto where it is faster", async () => {
    const mod = await importNodeCrypto();
    const name = (await defaultNoiseCrypto()).name;
    const [nativePart] = name.split(", ");
    if (isDeno()) assert.doesNotMatch(nativePart, /sha256/, name);
    else if (mod !== undefined && detectNativeFeatures(mod).sha256) {
      assert.match(nativePart, /sha256/, name);
    }
  });
});
