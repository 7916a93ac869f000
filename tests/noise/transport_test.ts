/**
 * The Noise transport phase: framing, reassembly across every chunk boundary, tampering,
 * truncation and nonce limits, through the sans-IO encryptor/decryptor and the TransformStreams,
 * for every crypto provider.
 */

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { concat } from "../../src/bytes.ts";
import { DecryptError, LimitExceededError } from "../../src/errors.ts";
import { UnexpectedEOFError } from "../../src/stream/byte_reader.ts";
import { CipherState } from "../../protocols/noise/handshake.ts";
import {
  createDecryptStream,
  createEncryptStream,
  NoiseDecryptor,
  NoiseEncryptor,
} from "../../protocols/noise/transport.ts";
import { MAX_FRAME, MAX_NONCE, MAX_PLAINTEXT } from "../../protocols/noise/constants.ts";
import type { NoiseCrypto } from "../../protocols/noise/crypto.ts";
import { cryptoProviders } from "./providers.ts";

const providers = await cryptoProviders();

function pattern(length: number, seed = 1): Uint8Array {
  const out = new Uint8Array(length);
  let x = seed;
  for (let i = 0; i < length; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    out[i] = x >>> 24;
  }
  return out;
}

function ciphers(c: NoiseCrypto): { send: CipherState; receive: CipherState } {
  const key = pattern(32, 7);
  return { send: new CipherState(c, key), receive: new CipherState(c, key) };
}

function decryptAll(receive: CipherState, chunks: Uint8Array[]): Uint8Array {
  const d = new NoiseDecryptor(receive);
  const out: Uint8Array[] = [];
  for (const chunk of chunks) d.push(chunk, (p) => out.push(p));
  d.end();
  return concat(out);
}

/** Frame boundaries (offsets of each 2-byte header) of a wire buffer. */
function frameOffsets(wire: Uint8Array): number[] {
  const offsets: number[] = [];
  for (let o = 0; o < wire.byteLength;) {
    offsets.push(o);
    o += 2 + ((wire[o] << 8) | wire[o + 1]);
  }
  return offsets;
}

async function readAll(stream: ReadableStream<Uint8Array>): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  for await (const chunk of stream) parts.push(chunk);
  return concat(parts);
}

for (const c of providers) {
  describe(`noise transport (${c.name})`, () => {
    it("a small write is one frame: 2-byte length + ciphertext + 16-byte tag", () => {
      const { send, receive } = ciphers(c);
      const wire = new NoiseEncryptor(send).seal(new Uint8Array([1, 2, 3]));
      assert.equal(wire.byteLength, 2 + 3 + 16);
      assert.deepEqual([...wire.subarray(0, 2)], [0, 19]);
      assert.equal(send.nonce, 1n);
      assert.deepEqual(decryptAll(receive, [wire]), new Uint8Array([1, 2, 3]));
      assert.equal(receive.nonce, 1n);
    });

    it("writes above 65519 bytes are split into full frames (3 MiB + 5)", () => {
      const { send, receive } = ciphers(c);
      const data = pattern(3 * 1024 * 1024 + 5);
      const wire = new NoiseEncryptor(send).seal(data);
      const offsets = frameOffsets(wire);
      const frames = Math.ceil(data.byteLength / MAX_PLAINTEXT);
      assert.equal(offsets.length, frames);
      for (const o of offsets.slice(0, -1)) {
        assert.equal((wire[o] << 8) | wire[o + 1], MAX_FRAME);
      }
      assert.equal(wire.byteLength, data.byteLength + frames * 18);
      assert.deepEqual(decryptAll(receive, [wire]), data);
    });

    it("a recorded stream re-chunked at EVERY split point decrypts the same", () => {
      const { send } = ciphers(c);
      const enc = new NoiseEncryptor(send);
      const writes = [1, 0, 2, 17, 300, 1, 1000, 5].map((n, i) => pattern(n, i + 3));
      const wire = concat(writes.map((w) => enc.seal(w)));
      const expected = concat(writes);
      for (let split = 0; split <= wire.byteLength; split++) {
        const { receive } = ciphers(c);
        const got = decryptAll(receive, [wire.subarray(0, split), wire.subarray(split)]);
        assert.deepEqual(got, expected, `split at ${split}`);
      }
      // And one byte at a time.
      const { receive } = ciphers(c);
      const bytes = Array.from({ length: wire.byteLength }, (_, i) => wire.subarray(i, i + 1));
      assert.deepEqual(decryptAll(receive, bytes), expected);
    });

    it("max-size frames split around every header and tag boundary", () => {
      const { send } = ciphers(c);
      const data = pattern(2 * MAX_PLAINTEXT + 100, 9);
      const wire = new NoiseEncryptor(send).seal(data);
      const points = new Set<number>();
      for (const o of frameOffsets(wire)) {
        for (let d = -20; d <= 20; d++) points.add(o + d);
      }
      for (let p = 0; p < wire.byteLength; p += 4099) points.add(p);
      for (const split of [...points].filter((p) => p >= 0 && p <= wire.byteLength)) {
        const { receive } = ciphers(c);
        const got = decryptAll(receive, [wire.subarray(0, split), wire.subarray(split)]);
        assert.deepEqual(got, data, `split at ${split}`);
      }
    });

    it("never holds more than one header + one max frame", () => {
      const { send, receive } = ciphers(c);
      const wire = new NoiseEncryptor(send).seal(pattern(2 * MAX_PLAINTEXT));
      const d = new NoiseDecryptor(receive);
      let max = 0;
      let out = 0;
      for (let i = 0; i < wire.byteLength; i += 1000) {
        d.push(wire.subarray(i, i + 1000), (p) => (out += p.byteLength));
        max = Math.max(max, d.pendingBytes);
      }
      d.end();
      assert.equal(out, 2 * MAX_PLAINTEXT);
      assert.ok(max <= 2 + MAX_FRAME, `pending ${max}`);
    });

    it("a flipped bit fails with DecryptError and does not advance the nonce", () => {
      const { send, receive } = ciphers(c);
      const enc = new NoiseEncryptor(send);
      const first = enc.seal(pattern(50));
      const second = enc.seal(pattern(60, 2));
      assert.deepEqual(decryptAll(receive, [first]), pattern(50));
      for (const index of [2, 30, second.byteLength - 1]) {
        const bad = second.slice();
        bad[index] ^= 0x80;
        const d = new NoiseDecryptor(receive);
        assert.throws(() => d.push(bad, () => assert.fail("no plaintext")), DecryptError);
        assert.equal(receive.nonce, 1n, "nonce unchanged after failure");
        // The decryptor stays failed.
        assert.throws(() => d.push(new Uint8Array(1), () => {}), DecryptError);
      }
      // The untouched frame still decrypts at the same nonce.
      assert.deepEqual(decryptAll(receive, [second]), pattern(60, 2));
    });

    it("a frame shorter than the tag is a DecryptError", () => {
      const { receive } = ciphers(c);
      const d = new NoiseDecryptor(receive);
      assert.throws(
        () => d.push(new Uint8Array([0, 15, ...new Uint8Array(15)]), () => {}),
        DecryptError,
      );
      const d0 = new NoiseDecryptor(receive);
      assert.throws(() => d0.push(new Uint8Array([0, 0]), () => {}), DecryptError);
    });

    it("a stream that ends inside a frame is an UnexpectedEOFError", () => {
      const { send, receive } = ciphers(c);
      const wire = new NoiseEncryptor(send).seal(pattern(40));
      for (const cut of [1, 2, 20, wire.byteLength - 1]) {
        const d = new NoiseDecryptor(new CipherState(c, pattern(32, 7)));
        d.push(wire.subarray(0, cut), () => assert.fail("no plaintext"));
        assert.throws(() => d.end(), UnexpectedEOFError);
      }
      assert.deepEqual(decryptAll(receive, [wire]), pattern(40));
    });

    it("the nonce 2^64-1 is never used", () => {
      const { send, receive } = ciphers(c);
      send.setNonce(MAX_NONCE - 1n);
      receive.setNonce(MAX_NONCE - 1n);
      const enc = new NoiseEncryptor(send);
      const wire = enc.seal(new Uint8Array([9]));
      assert.equal(send.nonce, MAX_NONCE);
      assert.throws(() => enc.seal(new Uint8Array([9])), LimitExceededError);
      assert.deepEqual(decryptAll(receive, [wire]), new Uint8Array([9]));
      assert.throws(() => decryptAll(receive, [wire]), LimitExceededError);
      // Crossing the 32-bit boundary of the counter keeps the nonce layout right.
      const a = new CipherState(c, pattern(32, 1));
      const b = new CipherState(c, pattern(32, 1));
      a.setNonce(0xffff_ffffn);
      b.setNonce(0xffff_ffffn);
      const e = new NoiseEncryptor(a);
      const w = concat([e.seal(pattern(5)), e.seal(pattern(6))]);
      assert.deepEqual(decryptAll(b, [w]), concat([pattern(5), pattern(6)]));
      assert.equal(b.nonce, 0x1_0000_0001n);
    });

    it("cipher states interleaved at different nonces each use their own (shared nonce scratch)", () => {
      // Sequential reference: messages sealed by one state at a time.
      const seal = (nonce: bigint, count: number): Uint8Array[] => {
        const s = new CipherState(c, pattern(32, 3));
        s.setNonce(nonce);
        return Array.from({ length: count }, (_, i) => s.encryptWithAd(pattern(4), pattern(20, i)));
      };
      const wantLow = seal(0n, 3);
      const wantHigh = seal(0x1_0000_0005n, 3);
      const low = new CipherState(c, pattern(32, 3));
      const high = new CipherState(c, pattern(32, 3));
      high.setNonce(0x1_0000_0005n);
      const open = new CipherState(c, pattern(32, 3));
      for (let i = 0; i < 3; i++) {
        assert.deepEqual(low.encryptWithAd(pattern(4), pattern(20, i)), wantLow[i]);
        assert.deepEqual(high.encryptWithAd(pattern(4), pattern(20, i)), wantHigh[i]);
        // A decryption in between must not disturb either sender's next nonce.
        assert.deepEqual(open.decryptWithAd(pattern(4), wantLow[i]), pattern(20, i));
      }
      assert.equal(low.nonce, 3n);
      assert.equal(high.nonce, 0x1_0000_0008n);
    });

    it("streams: one encrypt and one decrypt TransformStream carry many writes", async () => {
      const { send, receive } = ciphers(c);
      const encrypt = createEncryptStream(send);
      const decrypt = createDecryptStream(receive);
      // Re-chunk the ciphertext into odd sizes between the two transforms.
      const rechunk = new TransformStream<Uint8Array, Uint8Array>({
        transform(chunk, controller) {
          for (let i = 0; i < chunk.byteLength; i += 777) {
            controller.enqueue(chunk.subarray(i, i + 777));
          }
        },
      });
      const writes = [pattern(10), pattern(200_000, 2), pattern(1, 3), pattern(65_519, 4)];
      const output = readAll(encrypt.readable.pipeThrough(rechunk).pipeThrough(decrypt));
      const writer = encrypt.writable.getWriter();
      for (const w of writes) await writer.write(w);
      await writer.close();
      assert.deepEqual(await output, concat(writes));
    });

    it("streams: a tampered frame errors the decrypt stream and reports once", async () => {
      const { send, receive } = ciphers(c);
      const wire = concat([
        new NoiseEncryptor(send).seal(pattern(10)),
        new NoiseEncryptor(send).seal(pattern(20)),
      ]);
      wire[wire.byteLength - 3] ^= 1;
      const errors: unknown[] = [];
      const decrypt = createDecryptStream(receive, { onError: (e) => errors.push(e) });
      const source = new ReadableStream<Uint8Array>({
        start(controller) {
          controller.enqueue(wire.subarray(0, 5));
          controller.enqueue(wire.subarray(5));
          controller.close();
        },
      });
      const reader = source.pipeThrough(decrypt).getReader();
      const first = await reader.read();
      assert.deepEqual(first.value, pattern(10));
      await assert.rejects(reader.read(), DecryptError);
      assert.equal(errors.length, 1);
      assert.ok(errors[0] instanceof DecryptError);
    });

    it("streams: input ending mid-frame errors with UnexpectedEOFError", async () => {
      const { send, receive } = ciphers(c);
      const wire = new NoiseEncryptor(send).seal(pattern(10));
      const source = new ReadableStream<Uint8Array>({
        start(controller) {
          controller.enqueue(wire.subarray(0, wire.byteLength - 1));
          controller.close();
        },
      });
      await assert.rejects(
        readAll(source.pipeThrough(createDecryptStream(receive))),
        UnexpectedEOFError,
      );
    });
  });
}
