// Interop: our plaintext against js-libp2p's @libp2p/plaintext 3 over an in-memory pipe (js's
// side wrapped by tests/interop/js_stream_adapter.ts), both directions, then data both ways.
//
// ECDSA is left out on purpose, js side at fault: @libp2p/plaintext 3 rebuilds the remote key
// with publicKeyFromRaw(Data), which guesses the type from the length (32 -> Ed25519,
// 33 -> secp256k1, else RSA), ignoring the Type field, so it cannot read an ECDSA key (observed:
// "InvalidCryptoExchangeError: Invalid public key - Could not extract public key from raw
// bytes"); and js-libp2p 3.3.11 refuses to derive a peer id from an ECDSA key (PROTOCOLS.md).
// Our ECDSA exchange is covered against ourselves in plaintext_test.ts.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { plaintext as jsPlaintext } from "@libp2p/plaintext";
import { generateKeyPair as jsGenerateKeyPair } from "@libp2p/crypto/keys";
import { peerIdFromPublicKey as jsPeerIdFromPublicKey } from "@libp2p/peer-id";
import { concat, utf8Decode, utf8Encode } from "../../src/bytes.ts";
import { PeerIdMismatchError } from "../../src/errors.ts";
import {
  generateKeyPair,
  type KeyType,
  peerIdFromPublicKey,
  peerIdFromString,
} from "../../src/keys/mod.ts";
import type { Duplex } from "../../src/stream/types.ts";
import { connPair } from "../helpers/conn.ts";
import { PlaintextEncrypter, type PlaintextInit } from "../../protocols/plaintext/service.ts";
import { type WebEncrypter, webEncrypter } from "../helpers/conn.ts";
const plaintext = (o: PlaintextInit): WebEncrypter => webEncrypter(new PlaintextEncrypter(o));
import {
  fromJsStream,
  type JsMessageStreamLike,
  silentLogger,
  toJsStream,
} from "../interop/js_stream_adapter.ts";

type JsKeyType = "Ed25519" | "secp256k1" | "RSA";
const TYPES: JsKeyType[] = ["Ed25519", "secp256k1", "RSA"];

// js-libp2p's types are not imported: its encrypter is used through this shape.
interface JsSecured {
  connection: JsMessageStreamLike;
  remotePeer: { toString(): string };
}
interface JsEncrypter {
  secureInbound(c: unknown, o?: unknown): Promise<JsSecured>;
  secureOutbound(c: unknown, o?: unknown): Promise<JsSecured>;
}

async function jsSide(type: JsKeyType): Promise<{ enc: JsEncrypter; id: string }> {
  const privateKey = type === "RSA"
    ? await jsGenerateKeyPair("RSA", 2048)
    : await jsGenerateKeyPair(type);
  const enc = jsPlaintext()({
    privateKey,
    logger: { forComponent: (name: string) => silentLogger(name) },
    // deno-lint-ignore no-explicit-any
  } as any) as unknown as JsEncrypter;
  return { enc, id: jsPeerIdFromPublicKey(privateKey.publicKey).toString() };
}

async function readN(readable: ReadableStream<Uint8Array>, n: number): Promise<Uint8Array> {
  const reader = readable.getReader();
  const parts: Uint8Array[] = [];
  let got = 0;
  while (got < n) {
    const { value, done } = await reader.read();
    if (done) throw new Error("ended early");
    parts.push(value);
    got += value.byteLength;
  }
  reader.releaseLock();
  return concat(parts);
}

async function exchangeData(ours: Duplex, theirs: Duplex): Promise<void> {
  await ours.writable.getWriter().write(utf8Encode("from us"));
  assert.equal(utf8Decode(await readN(theirs.readable, 7)), "from us");
  await theirs.writable.getWriter().write(utf8Encode("from js"));
  assert.equal(utf8Decode(await readN(ours.readable, 7)), "from js");
}

describe("plaintext interop with js-libp2p @libp2p/plaintext", () => {
  for (const ourType of TYPES as KeyType[]) {
    for (const jsType of TYPES) {
      it(`we dial (${ourType}) a js listener (${jsType})`, async () => {
        const [a, b] = connPair();
        const key = await generateKeyPair(ourType);
        const js = await jsSide(jsType);
        const [ours, theirs] = await Promise.all([
          plaintext({ privateKey: key }).secureOutbound(a, {
            remotePeer: peerIdFromString(js.id),
          }),
          js.enc.secureInbound(toJsStream(b, { direction: "inbound" })),
        ]);
        assert.equal(ours.remotePeer.toString(), js.id);
        assert.equal(ours.remotePublicKey.type, jsType);
        assert.equal(theirs.remotePeer.toString(), peerIdFromPublicKey(key.publicKey).toString());
        await exchangeData(ours, fromJsStream(theirs.connection));
        ours.abort();
      });
    }
  }

  for (const type of TYPES as KeyType[]) {
    it(`a js dialler reaches our listener (${type} both sides)`, async () => {
      const [a, b] = connPair();
      const key = await generateKeyPair(type);
      const js = await jsSide(type as JsKeyType);
      const [theirs, ours] = await Promise.all([
        js.enc.secureOutbound(toJsStream(a)),
        plaintext({ privateKey: key }).secureInbound(b),
      ]);
      assert.equal(ours.remotePeer.toString(), js.id);
      assert.equal(theirs.remotePeer.toString(), peerIdFromPublicKey(key.publicKey).toString());
      await exchangeData(ours, fromJsStream(theirs.connection));
      ours.abort();
    });
  }

  it("dialling js with the wrong expected peer id fails with PeerIdMismatchError", async () => {
    const [a, b] = connPair();
    const js = await jsSide("Ed25519");
    const other = await generateKeyPair("Ed25519");
    const [ours, theirs] = await Promise.allSettled([
      plaintext({ privateKey: await generateKeyPair("Ed25519") }).secureOutbound(a, {
        remotePeer: peerIdFromPublicKey(other.publicKey),
      }),
      js.enc.secureInbound(toJsStream(b, { direction: "inbound" })),
    ]);
    assert.equal(ours.status, "rejected");
    assert.ok((ours as PromiseRejectedResult).reason instanceof PeerIdMismatchError);
    void theirs;
  });
});
