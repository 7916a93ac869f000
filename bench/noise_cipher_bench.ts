/**
 * Noise cipher paths, single core: ChaCha20-Poly1305 seal/open throughput on 64 KiB frames
 * (65519-byte plaintext, the largest a Noise frame carries) and on 1 KiB frames, X25519 DH
 * rate, and full XX handshakes (sans-IO, no identity signatures) per second, for every path
 * this runtime offers. Ratios are against @noble measured in the same run. No assertions.
 *
 * Run: `npx -y deno@2.9.6 run -A bench/noise_cipher_bench.ts`
 *      `npx -y bun@1.4.5 run bench/noise_cipher_bench.ts`
 */

import { nobleCrypto, type NoiseCrypto } from "../protocols/noise/crypto.ts";
import {
  createNodeCrypto,
  detectNativeFeatures,
  importNodeCrypto,
} from "../protocols/noise/crypto_native.ts";
import { createWasmCrypto } from "../protocols/noise/crypto_wasm.ts";
import { CipherState, XXHandshakeState } from "../protocols/noise/handshake.ts";
import { NoiseDecryptor, NoiseEncryptor } from "../protocols/noise/transport.ts";

const runtime = "Deno" in globalThis
  ? `Deno ${(globalThis as unknown as { Deno: { version: { deno: string } } }).Deno.version.deno}`
  : "Bun" in globalThis
  ? `Bun ${(globalThis as unknown as { Bun: { version: string } }).Bun.version}`
  : "unknown runtime";

const providers: NoiseCrypto[] = [nobleCrypto];
const mod = await importNodeCrypto();
if (mod !== undefined) {
  const f = detectNativeFeatures(mod);
  console.log(`node:crypto features: ${JSON.stringify(f)}`);
  if (f.chacha20poly1305 || f.x25519) providers.push(createNodeCrypto(mod, f));
}
const wasm = createWasmCrypto(nobleCrypto);
if (wasm !== undefined) providers.push(wasm);
else console.log("WebAssembly ChaCha20-Poly1305 unavailable");

function timeLoop(minMs: number, body: () => number): { ms: number; units: number } {
  // Warm up, then run whole batches until minMs elapsed.
  for (let i = 0; i < 3; i++) body();
  let units = 0;
  const start = performance.now();
  let now = start;
  while (now - start < minMs) {
    units += body();
    now = performance.now();
  }
  return { ms: now - start, units };
}

const results: Record<string, Record<string, number>> = {};
const record = (provider: string, metric: string, value: number) => {
  (results[metric] ??= {})[provider] = value;
};

const key = new Uint8Array(32).fill(7);
const nonce = new Uint8Array(12);
const ad = new Uint8Array(0);

for (const c of providers) {
  for (const size of [65519, 1024]) {
    const plaintext = new Uint8Array(size).fill(1);
    const sealed = c.encrypt(key, nonce, ad, plaintext);
    const out = new Uint8Array(size + 16);
    const seal = timeLoop(1500, () => {
      for (let i = 0; i < 16; i++) c.encrypt(key, nonce, ad, plaintext, out);
      return 16 * size;
    });
    record(c.name, `seal ${size} B MB/s`, seal.units / 1e6 / (seal.ms / 1000));
    const open = timeLoop(1500, () => {
      for (let i = 0; i < 16; i++) c.decrypt(key, nonce, ad, sealed);
      return 16 * size;
    });
    record(c.name, `open ${size} B MB/s`, open.units / 1e6 / (open.ms / 1000));
  }

  // The transport path end to end: framing + CipherState + decrypt reassembly, 1 MiB writes.
  const data = new Uint8Array(1024 * 1024).fill(3);
  const send = new CipherState(c, key);
  const receive = new CipherState(c, key);
  const enc = new NoiseEncryptor(send);
  const dec = new NoiseDecryptor(receive);
  const roundTrip = timeLoop(1500, () => {
    enc.sealInto(data, (wire) => dec.push(wire, () => {}));
    return data.byteLength;
  });
  record(
    c.name,
    "transport seal+open 1 MiB writes MB/s",
    roundTrip.units / 1e6 / (roundTrip.ms / 1000),
  );

  const a = c.generateX25519KeyPair(), b = c.generateX25519KeyPair();
  const dh = timeLoop(1000, () => {
    for (let i = 0; i < 10; i++) c.x25519(a.privateKey, b.publicKey);
    return 10;
  });
  record(c.name, "X25519 DH ops/s", dh.units / (dh.ms / 1000));

  const si = c.generateX25519KeyPair(), sr = c.generateX25519KeyPair();
  const empty = new Uint8Array(0);
  const hs = timeLoop(1500, () => {
    const i = new XXHandshakeState({ crypto: c, initiator: true, staticKeyPair: si });
    const r = new XXHandshakeState({ crypto: c, initiator: false, staticKeyPair: sr });
    r.readMessage(i.writeMessage(empty));
    i.readMessage(r.writeMessage(empty));
    r.readMessage(i.writeMessage(empty));
    return 1;
  });
  record(c.name, "XX handshakes/s (both sides, no signatures)", hs.units / (hs.ms / 1000));
}

// WebCrypto X25519 (async), for comparison with the synchronous paths used by the handshake.
try {
  const subtle = crypto.subtle;
  const ka = await subtle.generateKey({ name: "X25519" }, false, ["deriveBits"]) as CryptoKeyPair;
  const kb = await subtle.generateKey({ name: "X25519" }, false, ["deriveBits"]) as CryptoKeyPair;
  const params = { name: "X25519", public: kb.publicKey } as unknown as EcdhKeyDeriveParams;
  for (let i = 0; i < 20; i++) await subtle.deriveBits(params, ka.privateKey, 256);
  let n = 0;
  const start = performance.now();
  while (performance.now() - start < 1000) {
    for (let i = 0; i < 10; i++) await subtle.deriveBits(params, ka.privateKey, 256);
    n += 10;
  }
  record("webcrypto", "X25519 DH ops/s", n / ((performance.now() - start) / 1000));
} catch (err) {
  console.log(`WebCrypto X25519 unavailable: ${err}`);
}

console.log(`\nNoise cipher paths on ${runtime} (single core)\n`);
for (const [metric, byProvider] of Object.entries(results)) {
  const base = byProvider["noble"];
  console.log(metric);
  for (const [name, value] of Object.entries(byProvider)) {
    const ratio = base ? ` (x${(value / base).toFixed(2)} vs noble)` : "";
    console.log(`  ${name.padEnd(42)} ${value.toFixed(1).padStart(10)}${ratio}`);
  }
}
