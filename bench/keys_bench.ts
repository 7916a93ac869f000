/**
 * Ed25519 sign/verify throughput: WebCrypto vs @noble/curves on the runtime this runs on.
 * Prints ops/sec and the WebCrypto/noble ratio; no assertions.
 *
 *   npx -y deno@2.9.6 run -A bench/keys_bench.ts
 *   npx -y bun@1.4.5 bench/keys_bench.ts
 *
 * @module
 */

import {
  nobleEd25519Sign,
  nobleEd25519Verify,
  webCryptoEd25519PrivateKey,
  webCryptoEd25519PublicKey,
} from "../src/keys/ed25519.ts";
import { ed25519PublicKeyFromSeed } from "../src/keys/ed25519.ts";

const runtime = "Bun" in globalThis ? "bun" : "Deno" in globalThis ? "deno" : "other";
const MIN_MS = 1000;

async function measure(name: string, op: () => unknown): Promise<number> {
  for (let i = 0; i < 50; i++) await op(); // warm-up
  let n = 0;
  const start = performance.now();
  let elapsed = 0;
  while (elapsed < MIN_MS) {
    for (let i = 0; i < 50; i++) await op();
    n += 50;
    elapsed = performance.now() - start;
  }
  const rate = (n * 1000) / elapsed;
  console.log(`${runtime} ${name.padEnd(40)} ${rate.toFixed(0).padStart(8)} ops/s`);
  return rate;
}

const seed = crypto.getRandomValues(new Uint8Array(32));
const pub = ed25519PublicKeyFromSeed(seed);
const priv = await webCryptoEd25519PrivateKey(seed);
const pubKey = await webCryptoEd25519PublicKey(pub);

for (const size of [32, 1024, 16384]) {
  const msg = crypto.getRandomValues(new Uint8Array(size));
  const sig = nobleEd25519Sign(seed, msg) as Uint8Array<ArrayBuffer>;
  const wcSign = await measure(
    `ed25519 sign webcrypto ${size}B`,
    () => crypto.subtle.sign("Ed25519", priv, msg),
  );
  const nbSign = await measure(`ed25519 sign noble ${size}B`, () => nobleEd25519Sign(seed, msg));
  const wcVerify = await measure(
    `ed25519 verify webcrypto ${size}B`,
    () => crypto.subtle.verify("Ed25519", pubKey, sig, msg),
  );
  const wcVerifyImport = await measure(
    `ed25519 verify webcrypto+import ${size}B`,
    async () => crypto.subtle.verify("Ed25519", await webCryptoEd25519PublicKey(pub), sig, msg),
  );
  const nbVerify = await measure(
    `ed25519 verify noble ${size}B`,
    () => nobleEd25519Verify(pub, msg, sig),
  );
  console.log(
    `${runtime} ratio webcrypto/noble ${size}B: sign ${(wcSign / nbSign).toFixed(2)}x, ` +
      `verify ${(wcVerify / nbVerify).toFixed(2)}x, ` +
      `verify incl. key import ${(wcVerifyImport / nbVerify).toFixed(2)}x`,
  );
}
