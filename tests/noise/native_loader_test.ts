/**
 * importNodeCrypto: node:crypto is found by feature detection (process.getBuiltinModule), so
 * Deno and Bun get their native primitives while a runtime without it (a browser) gets
 * `undefined` and the @noble provider. tests/browser checks the browser side for real.
 */

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { importNodeCrypto } from "../../protocols/noise/crypto_native.ts";

/** Run `fn` with `globalThis.process` replaced by `value`, then restore it. */
async function withProcess<T>(value: unknown, fn: () => Promise<T>): Promise<T> {
  const original = Object.getOwnPropertyDescriptor(globalThis, "process");
  Object.defineProperty(globalThis, "process", { value, configurable: true, writable: true });
  try {
    return await fn();
  } finally {
    if (original !== undefined) Object.defineProperty(globalThis, "process", original);
    else delete (globalThis as { process?: unknown }).process;
  }
}

describe("importNodeCrypto", () => {
  it("finds node:crypto on this runtime", async () => {
    const mod = await importNodeCrypto();
    assert.ok(mod !== undefined);
    const digest = mod.createHash("sha256").update(new Uint8Array([0x61, 0x62, 0x63])).digest();
    // SHA-256("abc"), FIPS 180-2 appendix B.1
    assert.equal(
      Array.from(digest, (b) => b.toString(16).padStart(2, "0")).join(""),
      "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
    );
  });

  it("is undefined without process (browsers)", async () => {
    assert.equal(await withProcess(undefined, () => importNodeCrypto()), undefined);
  });

  it("is undefined when process has no getBuiltinModule or it throws", async () => {
    assert.equal(await withProcess({}, () => importNodeCrypto()), undefined);
    const throwing = {
      getBuiltinModule: () => {
        throw new Error("no builtins here");
      },
    };
    assert.equal(await withProcess(throwing, () => importNodeCrypto()), undefined);
    assert.equal(
      await withProcess({ getBuiltinModule: () => ({}) }, () => importNodeCrypto()),
      undefined,
    );
  });
});
