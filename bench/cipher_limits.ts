/**
 * Physical limit: single-core ChaCha20-Poly1305 throughput of every cipher path this runtime
 * offers (the providers bench/noise_cipher_bench.ts compares: @noble, and node:crypto where it
 * has the cipher natively), sealing and opening full Noise frames (65,519-byte plaintext, the
 * most one frame carries). One JSON line per path, in Mbit/s of plaintext, for bench/run.ts.
 * A Noise stream needs one seal on the sender and one open on the receiver (separate
 * processes), so a path's limit for one stream is min(seal, open).
 *
 *   deno run -A bench/cipher_limits.ts [--ms 1000]
 *   bun run bench/cipher_limits.ts
 *
 * @module
 */

import process from "node:process";
import { nobleCrypto, type NoiseCrypto } from "../protocols/noise/crypto.ts";
import {
  createNodeCrypto,
  detectNativeFeatures,
  importNodeCrypto,
} from "../protocols/noise/crypto_native.ts";
import { mbps, numFlag, report, runtimeName } from "./worker_lib.ts";

const FRAME_PLAINTEXT = 65519;
const ms = numFlag("ms", 1000);

const providers: NoiseCrypto[] = [nobleCrypto];
const mod = await importNodeCrypto();
if (mod !== undefined) {
  const features = detectNativeFeatures(mod);
  if (features.chacha20poly1305) providers.push(createNodeCrypto(mod, features));
}

/** Bytes processed per the body's return, repeated for `minMs` after a warm-up. */
function rate(minMs: number, body: () => number): number {
  for (let i = 0; i < 20; i++) body();
  let bytes = 0;
  const start = performance.now();
  let now = start;
  while (now - start < minMs) {
    for (let i = 0; i < 8; i++) bytes += body();
    now = performance.now();
  }
  return mbps(bytes, now - start);
}

const key = new Uint8Array(32).fill(7);
const nonce = new Uint8Array(12);
const ad = new Uint8Array(0);
const plaintext = new Uint8Array(FRAME_PLAINTEXT).fill(1);
for (const c of providers) {
  const out = new Uint8Array(FRAME_PLAINTEXT + 16);
  const sealed = c.encrypt(key, nonce, ad, plaintext);
  const seal = rate(ms, () => c.encrypt(key, nonce, ad, plaintext, out).byteLength - 16);
  const open = rate(ms, () => c.decrypt(key, nonce, ad, sealed)!.byteLength);
  report({
    event: "result",
    runtime: runtimeName(),
    scenario: "cipher",
    path: c.name,
    sealMbps: seal,
    openMbps: open,
    mbps: Math.min(seal, open),
  });
}
process.exit(0);
