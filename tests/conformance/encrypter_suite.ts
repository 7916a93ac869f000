/**
 * Encrypter conformance suite: written once, run against every security protocol (Noise,
 * plaintext) over in-memory pipes. Each case checks identities and bytes, not just the absence
 * of errors.
 */

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { Libp2pError, PeerIdMismatchError } from "../../src/errors.ts";
import { generateKeyPair, peerIdFromPublicKey } from "../../src/keys/mod.ts";
import type { PrivateKey } from "../../src/keys/types.ts";
import type { ConnectionEncrypter, SecuredConnection } from "../../src/security.ts";
import { connPair } from "../helpers/conn.ts";
import { type WebConnection, webEncrypter } from "../helpers/conn.ts";

/** What the suite needs: a factory for the protocol under test. */
export interface EncrypterSuiteOptions {
  /** Whether tampering with a byte in transit must be detected (false for plaintext). */
  detectsTampering: boolean;
}

/**
 * Connect `a` to `b` through a relay that cuts every chunk into pieces of `cut` bytes (0 = pass
 * through) and lets `tamper` change bytes after `tamperAfter` bytes went from a to b.
 */
function relayPair(cut: number, tamper?: { after: number }): [WebConnection, WebConnection] {
  const [a, relayA] = connPair();
  const [relayB, b] = connPair();
  const pump = async (
    from: ReadableStream<Uint8Array>,
    to: WritableStream<Uint8Array>,
    mutate: boolean,
  ) => {
    const writer = to.getWriter();
    let seen = 0;
    try {
      for await (const chunk of from) {
        const copy = chunk.slice();
        if (mutate && tamper !== undefined) {
          for (let i = 0; i < copy.byteLength; i++) {
            if (seen + i === tamper.after) copy[i] ^= 0x01;
          }
        }
        seen += copy.byteLength;
        if (cut <= 0) await writer.write(copy);
        else {for (let i = 0; i < copy.byteLength; i += cut) {
            await writer.write(copy.slice(i, i + cut));
          }}
      }
      await writer.close();
    } catch (err) {
      await writer.abort(err).catch(() => {});
    }
  };
  pump(relayA.readable, relayB.writable, true);
  pump(relayB.readable, relayA.writable, false);
  return [a, b];
}

async function readExactly(conn: WebConnection<SecuredConnection>, n: number): Promise<Uint8Array> {
  const reader = conn.readable.getReader();
  const out = new Uint8Array(n);
  let have = 0;
  try {
    while (have < n) {
      const { value, done } = await reader.read();
      if (done) break;
      out.set(value.subarray(0, n - have), have);
      have += value.byteLength;
    }
  } finally {
    reader.releaseLock();
  }
  assert.equal(have, n, "received every byte");
  return out;
}

function pattern(n: number, seed: number): Uint8Array {
  return new Uint8Array(n).map((_, i) => (i * 13 + seed) & 0xff);
}

/** Register the encrypter conformance cases for `name`. */
export function runEncrypterSuite(
  name: string,
  factory: (privateKey: PrivateKey) => ConnectionEncrypter,
  options: EncrypterSuiteOptions,
): void {
  describe(`encrypter conformance: ${name}`, () => {
    async function handshake(
      pair: [WebConnection, WebConnection],
      expect?: "wrong-peer",
    ): Promise<
      [WebConnection<SecuredConnection>, WebConnection<SecuredConnection>, PrivateKey, PrivateKey]
    > {
      const [ka, kb, other] = await Promise.all([
        generateKeyPair("Ed25519"),
        generateKeyPair("secp256k1"),
        generateKeyPair("Ed25519"),
      ]);
      const remotePeer = peerIdFromPublicKey(
        expect === "wrong-peer" ? other.publicKey : kb.publicKey,
      );
      const [a, b] = await Promise.all([
        webEncrypter(factory(ka)).secureOutbound(pair[0], { remotePeer }),
        webEncrypter(factory(kb)).secureInbound(pair[1]),
      ]);
      return [a, b, ka, kb];
    }

    it("authenticates both sides and carries bytes both ways", async () => {
      const [a, b, ka, kb] = await handshake(connPair());
      assert.ok(a.remotePeer.equals(peerIdFromPublicKey(kb.publicKey)));
      assert.ok(b.remotePeer.equals(peerIdFromPublicKey(ka.publicKey)));
      assert.ok(a.remotePublicKey.equals(kb.publicKey));
      assert.ok(b.remotePublicKey.equals(ka.publicKey));
      const up = pattern(300_000, 1);
      const down = pattern(200_000, 2);
      const wa = a.writable.getWriter();
      const wb = b.writable.getWriter();
      const [gotUp, gotDown] = await Promise.all([
        readExactly(b, up.byteLength),
        readExactly(a, down.byteLength),
        wa.write(up),
        wb.write(down),
      ]);
      assert.deepEqual(gotUp, up);
      assert.deepEqual(gotDown, down);
      a.abort();
      b.abort();
    });

    for (const cut of [1, 2, 3, 7, 100, 1499]) {
      it(`survives chunks cut into ${cut}-byte pieces (handshake and data)`, async () => {
        const [a, b] = await handshake(relayPair(cut));
        const data = pattern(70_000, cut);
        const w = a.writable.getWriter();
        const [got] = await Promise.all([readExactly(b, data.byteLength), w.write(data)]);
        assert.deepEqual(got, data);
        a.abort();
        b.abort();
      });
    }

    it("fails with PeerIdMismatchError when the responder is not the dialled peer", async () => {
      const pair = connPair();
      await assert.rejects(handshake(pair, "wrong-peer"), (err: Error) => {
        return err instanceof PeerIdMismatchError;
      });
      pair[0].abort();
      pair[1].abort();
    });

    it("fails cleanly on a handshake cut short by EOF", async () => {
      const [a, b] = connPair();
      const key = await generateKeyPair("Ed25519");
      // The remote closes at once: the handshake must fail with a library error, not hang.
      await b.close();
      const result = factory(key).secureOutbound(a);
      await assert.rejects(result, (err: Error) => err instanceof Libp2pError);
      a.abort();
      b.abort();
    });

    it("rejects when its signal aborts mid-handshake", async () => {
      const [a, b] = connPair();
      const key = await generateKeyPair("Ed25519");
      const controller = new AbortController();
      const pending = factory(key).secureOutbound(a, { signal: controller.signal });
      controller.abort();
      await assert.rejects(pending);
      a.abort();
      b.abort();
    });

    it(
      "detects a byte tampered with in transit after the handshake",
      { skip: options.detectsTampering ? false : `${name} has no integrity protection by design` },
      async () => {
        // The handshake itself is well below 4 KiB in both protocols: tamper inside the data.
        const [a, b] = await handshake(relayPair(0, { after: 4096 + 100 }));
        const data = pattern(20_000, 5);
        const w = a.writable.getWriter();
        w.write(data).catch(() => {});
        await assert.rejects(readExactly(b, data.byteLength));
        a.abort();
        b.abort();
      },
    );
  });
}
