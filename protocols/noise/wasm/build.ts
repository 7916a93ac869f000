/**
 * Rebuilds chacha_poly_wasm.ts from chacha_poly.wat: compiles the text format with wabt's
 * wat2wasm (fetched by npx, a build-time tool only; the runtime module depends on nothing but
 * WebAssembly) and embeds the bytes as base64.
 *
 * Run from the repository root: `npx -y deno@2.9.6 run -A protocols/noise/wasm/build.ts`
 * (or `npx -y bun@1.4.5 run protocols/noise/wasm/build.ts`).
 *
 * @module
 */

import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const WABT = "wabt@1.0.39";
const here = new URL(".", import.meta.url).pathname;
const source = join(here, "chacha_poly.wat");
const target = join(here, "chacha_poly_wasm.ts");

const dir = mkdtempSync(join(tmpdir(), "noise-wasm-"));
try {
  const wasmPath = join(dir, "chacha_poly.wasm");
  execFileSync("npx", ["-y", "-p", WABT, "wat2wasm", source, "-o", wasmPath], {
    stdio: ["ignore", "inherit", "inherit"],
  });
  const bytes = new Uint8Array(readFileSync(wasmPath));
  // Validate before writing: a module that does not compile must never be committed.
  new WebAssembly.Module(bytes);
  let binary = "";
  for (const b of bytes) binary += String.fromCharCode(b);
  const base64 = btoa(binary);
  const lines: string[] = [];
  for (let i = 0; i < base64.length; i += 96) lines.push(`  "${base64.slice(i, i + 96)}"`);
  const text = `// GENERATED FILE, do not edit. Generated from chacha_poly.wat by build.ts (${WABT}
// wat2wasm). Rebuild: \`npx -y deno@2.9.6 run -A protocols/noise/wasm/build.ts\`

/** The ChaCha20-Poly1305 WebAssembly module (${bytes.byteLength} bytes), base64. */
export const CHACHA_POLY_WASM_BASE64: string =
${lines.join(" +\n")};
`;
  writeFileSync(target, text);
  console.log(`wrote ${target} (${bytes.byteLength} bytes of wasm)`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
