// plaintext /plaintext/2.0.0 (libp2p/specs plaintext/README.md): round trips for every key
// type, identity checks, size limit before buffering, truncation, deadline and abort.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { concat, fromHex, toHex, utf8Decode, utf8Encode } from "../../src/bytes.ts";
import {
  AbortError,
  HandshakeError,
  LimitExceededError,
  PeerIdMismatchError,
  TimeoutError,
} from "../../src/errors.ts";
import {
  generateKeyPair,
  type KeyType,
  peerIdFromPublicKey,
  type PrivateKey,
  publicKeyToProtobuf,
} from "../../src/keys/mod.ts";
import { UnexpectedEOFError } from "../../src/stream/byte_reader.ts";
import { connPair } from "../helpers/conn.ts";
import type { WebConnection } from "../helpers/conn.ts";
import { encodeUvarint } from "../../src/varint.ts";
import { PLAINTEXT_PROTOCOL_ID } from "../../protocols/plaintext/mod.ts";
import { PlaintextEncrypter, type PlaintextInit } from "../../protocols/plaintext/service.ts";
import { createExchange, verifyExchange } from "../../protocols/plaintext/handshake.ts";
import { decodeExchange, encodeExchange } from "../../protocols/plaintext/codec.ts";
import { MAX_EXCHANGE_BYTES } from "../../protocols/plaintext/constants.ts";
import { type WebEncrypter, webEncrypter } from "../helpers/conn.ts";
const plaintext = (o: PlaintextInit): WebEncrypter => webEncrypter(new PlaintextEncrypter(o));

const KEY_TYPES: KeyType[] = ["Ed25519", "secp256k1", "ECDSA", "RSA"];

function framed(message: Uint8Array): Uint8Array {
  return concat([encodeUvarint(message.byteLength), message]);
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

/** True when reading `readable` ends with an error (an aborted connection), false on EOF. */
async function endsInError(readable: ReadableStream<Uint8Array>): Promise<boolean> {
  const reader = readable.getReader();
  try {
    while (!(await reader.read()).done) { /* our own Exchange, maybe */ }
    return false;
  } catch {
    return true;
  }
}

/** Run our responder against a raw peer that writes `bytes` (and optionally ends). */
async function againstRaw(
  bytes: Uint8Array,
  options: { end?: boolean; timeoutMs?: number; signal?: AbortSignal } = {},
): Promise<{ result: Promise<unknown>; raw: WebConnection }> {
  const [ours, raw] = connPair();
  const key = await generateKeyPair("Ed25519");
  const result = plaintext({ privateKey: key, handshakeTimeoutMs: options.timeoutMs ?? 10_000 })
    .secureInbound(ours, { signal: options.signal });
  result.catch(() => {});
  const w = raw.writable.getWriter();
  if (bytes.byteLength > 0) await w.write(bytes);
  if (options.end) await w.close();
  w.releaseLock();
  return { result, raw };
}

describe("plaintext codec", () => {
  it("encodes fields in order and decodes them back (hand-built bytes)", () => {
    const bytes = encodeExchange({ id: fromHex("0001aa"), pubkey: fromHex("0801") });
    assert.equal(toHex(bytes), "0a030001aa" + "12020801");
    assert.deepEqual(decodeExchange(bytes), { id: fromHex("0001aa"), pubkey: fromHex("0801") });
    // Unknown fields are skipped; a repeated field is malformed.
    assert.deepEqual(decodeExchange(fromHex("1801" + "0a0109")), { id: fromHex("09") });
    assert.throws(() => decodeExchange(fromHex("0a0109" + "0a0109")), /appears twice/);
    assert.throws(() => decodeExchange(fromHex("0801")), /wire type/);
    assert.throws(() => decodeExchange(new Uint8Array(MAX_EXCHANGE_BYTES + 1)), LimitExceededError);
  });

  it("verifyExchange accepts our own message and rejects a wrong expected peer", async () => {
    const key = await generateKeyPair("Ed25519");
    const other = await generateKeyPair("Ed25519");
    const remote = verifyExchange(createExchange(key));
    assert.ok(remote.peerId.equals(peerIdFromPublicKey(key.publicKey)));
    assert.ok(remote.publicKey.equals(key.publicKey));
    assert.throws(
      () => verifyExchange(createExchange(key), peerIdFromPublicKey(other.publicKey)),
      PeerIdMismatchError,
    );
  });

  it("verifyExchange rejects a missing id or pubkey", async () => {
    const key = await generateKeyPair("Ed25519");
    const pubkey = publicKeyToProtobuf(key.publicKey);
    const id = peerIdFromPublicKey(key.publicKey).toBytes();
    assert.throws(() => verifyExchange(encodeExchange({ pubkey })), HandshakeError);
    assert.throws(() => verifyExchange(encodeExchange({ id })), HandshakeError);
    assert.throws(
      () => verifyExchange(encodeExchange({ id, pubkey: fromHex("0809") })),
      HandshakeError,
    );
  });
});

describe("plaintext handshake", () => {
  for (const type of KEY_TYPES) {
    it(`round trip with ${type} keys; data flows both ways after the exchange`, async () => {
      const [a, b] = connPair();
      // The connection's own channel, kept to check that no layer is added on top of it.
      const rawChannel = a.channel;
      const [ka, kb]: PrivateKey[] = await Promise.all([
        generateKeyPair(type),
        generateKeyPair("Ed25519"),
      ]);
      const alice = plaintext({ privateKey: ka });
      const bob = plaintext({ privateKey: kb });
      assert.equal(alice.protocol, PLAINTEXT_PROTOCOL_ID);
      const bobId = peerIdFromPublicKey(kb.publicKey);
      const [out, inc] = await Promise.all([
        alice.secureOutbound(a, { remotePeer: bobId }),
        bob.secureInbound(b),
      ]);
      assert.ok(out.remotePeer.equals(bobId));
      assert.ok(inc.remotePeer.equals(peerIdFromPublicKey(ka.publicKey)));
      assert.equal(inc.remotePublicKey.type, type);
      assert.ok(inc.remotePublicKey.equals(ka.publicKey));
      // No extra layer: nothing was buffered past the Exchange, so the secured connection's
      // channel is the connection's own.
      const outChannel = out.channel;
      assert.equal(outChannel, rawChannel);
      outChannel.write(utf8Encode("hi bob"));
      assert.equal(utf8Decode(await readN(inc.readable, 6)), "hi bob");
      const w2 = inc.writable.getWriter();
      await w2.write(utf8Encode("hi alice"));
      assert.equal(utf8Decode((await outChannel.read())!), "hi alice");
      await out.close();
      inc.abort();
    });
  }

  it("bytes that arrive in the same chunk as the Exchange are kept", async () => {
    const [ours, raw] = connPair();
    const key = await generateKeyPair("Ed25519");
    const remoteKey = await generateKeyPair("Ed25519");
    const securing = plaintext({ privateKey: key }).secureInbound(ours);
    const w = raw.writable.getWriter();
    await w.write(concat([framed(createExchange(remoteKey)), utf8Encode("early data")]));
    const conn = await securing;
    assert.equal(utf8Decode(await readN(conn.readable, 10)), "early data");
    // What we sent is a valid Exchange.
    const reader = raw.readable.getReader();
    const { value } = await reader.read();
    const remote = verifyExchange(value!.subarray(1)); // 1-byte length prefix
    assert.ok(remote.peerId.equals(peerIdFromPublicKey(key.publicKey)));
    assert.equal(value![0], value!.byteLength - 1);
  });

  it("a remote that proves another peer than the one dialled: PeerIdMismatchError", async () => {
    const [a, b] = connPair();
    const [ka, kb, kc] = await Promise.all([
      generateKeyPair("Ed25519"),
      generateKeyPair("Ed25519"),
      generateKeyPair("Ed25519"),
    ]);
    const [out, inc] = await Promise.allSettled([
      plaintext({ privateKey: ka }).secureOutbound(a, {
        remotePeer: peerIdFromPublicKey(kc.publicKey),
      }),
      plaintext({ privateKey: kb }).secureInbound(b),
    ]);
    assert.equal(out.status, "rejected");
    assert.ok((out as PromiseRejectedResult).reason instanceof PeerIdMismatchError);
    void inc; // the listener may or may not finish before the dialler aborts
  });

  it("an id that is not the pubkey's peer id is rejected", async () => {
    const [k1, k2] = await Promise.all([generateKeyPair("Ed25519"), generateKeyPair("Ed25519")]);
    const forged = encodeExchange({
      id: peerIdFromPublicKey(k1.publicKey).toBytes(),
      pubkey: publicKeyToProtobuf(k2.publicKey),
    });
    const { result } = await againstRaw(framed(forged));
    await assert.rejects(result, (e: unknown) => {
      assert.ok(e instanceof HandshakeError);
      assert.ok(!(e instanceof PeerIdMismatchError));
      assert.match((e as Error).message, /not the peer id/);
      return true;
    });
  });

  it("an oversized Exchange is rejected on its length prefix, before any body arrives", async () => {
    const { result, raw } = await againstRaw(encodeUvarint(MAX_EXCHANGE_BYTES + 1));
    await assert.rejects(result, (e: unknown) => {
      assert.ok(e instanceof HandshakeError);
      assert.ok((e as Error).cause instanceof LimitExceededError);
      return true;
    });
    assert.equal(await endsInError(raw.readable), true); // the connection was torn down
  });

  it("a truncated Exchange then EOF is an error", async () => {
    const key = await generateKeyPair("Ed25519");
    const full = framed(createExchange(key));
    for (const cut of [0, 1, 10, full.byteLength - 1]) {
      const { result } = await againstRaw(full.subarray(0, cut), { end: true });
      await assert.rejects(result, (e: unknown) => {
        assert.ok(e instanceof HandshakeError, String(e));
        assert.ok((e as Error).cause instanceof UnexpectedEOFError);
        return true;
      }, `cut at ${cut}`);
    }
  });

  it("garbage in the Exchange is a HandshakeError", async () => {
    const { result } = await againstRaw(framed(fromHex("ffffffff")));
    await assert.rejects(result, HandshakeError);
  });

  it("a silent peer hits the deadline: TimeoutError", async () => {
    const { result, raw } = await againstRaw(encodeUvarint(100), { timeoutMs: 30 });
    await assert.rejects(result, TimeoutError);
    assert.equal(await endsInError(raw.readable), true); // aborted connection
  });

  it("the caller's signal aborts the exchange", async () => {
    const ac = new AbortController();
    const { result } = await againstRaw(new Uint8Array(0), { signal: ac.signal });
    ac.abort();
    await assert.rejects(result, AbortError);
    const ac2 = new AbortController();
    ac2.abort(new Error("already gone"));
    const { result: r2 } = await againstRaw(new Uint8Array(0), { signal: ac2.signal });
    await assert.rejects(r2, /already gone/);
  });

  it("validates options", async () => {
    assert.throws(() => plaintext(undefined as never), TypeError);
    assert.throws(() => plaintext({} as never), TypeError);
    const privateKey = await generateKeyPair("Ed25519");
    assert.throws(() => plaintext({ privateKey, handshakeTimeoutMs: -1 }), RangeError);
  });
});
