/**
 * Noise hardening rows (HARDENING.md, "noise"): wrong peer, tampered frames, silent and
 * truncated peers, garbage handshake messages, bad signatures, unknown and oversized keys,
 * abort during the handshake without leaked timers or listeners. No timing assertions: only
 * error classes and state.
 */

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import {
  AbortError,
  DecodeError,
  DecryptError,
  HandshakeError,
  InvalidSignatureError,
  LimitExceededError,
  PeerIdMismatchError,
  TimeoutError,
  UnsupportedKeyTypeError,
} from "../../src/errors.ts";
import { peerIdFromPublicKey, type PrivateKey, publicKeyToProtobuf } from "../../src/keys/mod.ts";
import { OID_RSA_ENCRYPTION } from "../../src/keys/constants.ts";
import {
  derBitString,
  derNull,
  derOid,
  derSequence,
  derSmallInteger,
  derUnsignedInteger,
} from "../../src/keys/der.ts";
import { ProtobufWriter } from "../../src/protobuf.ts";
import { UnexpectedEOFError } from "../../src/stream/byte_reader.ts";
import { connPair } from "../helpers/conn.ts";
import type { WebConnection } from "../helpers/conn.ts";
import { encodeFrame } from "../../protocols/noise/codec.ts";
import { encodeHandshakePayload } from "../../protocols/noise/payload.ts";
import { MAX_STREAM_MUXERS } from "../../protocols/noise/constants.ts";
import { NoiseEncrypter, type NoiseInit } from "../../protocols/noise/service.ts";
import { staticKeySignedData } from "../../protocols/noise/identity.ts";
import { type WebEncrypter, webEncrypter } from "../helpers/conn.ts";
const noise = (init: NoiseInit): WebEncrypter => webEncrypter(new NoiseEncrypter(init));
import { key, manualResponder, pattern, readAll, recording, relayedPair } from "./helpers.ts";

const SHORT = 150; // ms: handshake deadline for the silent-peer rows

async function rejection(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (err) {
    return err;
  }
  assert.fail("expected a rejection");
}

/** Write raw bytes on a connection (the attacker's side). */
async function send(conn: WebConnection, bytes: Uint8Array, close = false): Promise<void> {
  const w = conn.writable.getWriter();
  await w.write(bytes);
  if (close) await w.close();
  w.releaseLock();
}

/** Payload from a hand-built identity key protobuf and signature. */
function payloadWith(identityKey: Uint8Array, identitySig: Uint8Array): Uint8Array {
  return encodeHandshakePayload({ identityKey, identitySig });
}

/** An RSA PublicKey protobuf whose modulus has `bits` bits (no real key behind it). */
function fakeRsaKeyProtobuf(bits: number): Uint8Array {
  const modulus = pattern(Math.ceil(bits / 8), 3);
  modulus[0] |= 0x80 >> ((8 - (bits % 8)) % 8);
  modulus[0] &= 0xff >> ((8 - (bits % 8)) % 8);
  const spki = derSequence([
    derSequence([derOid(OID_RSA_ENCRYPTION), derNull()]),
    derBitString(derSequence([derUnsignedInteger(modulus), derSmallInteger(65537)])),
  ]);
  return new ProtobufWriter().uint(1, 0).bytes(2, spki).finish();
}

/** Track setTimeout/clearTimeout while `fn` runs: returns the timers still pending after. */
async function pendingTimersAfter(fn: () => Promise<void>): Promise<number> {
  const g = globalThis as unknown as {
    setTimeout: (cb: () => void, ms?: number) => unknown;
    clearTimeout: (id: unknown) => void;
  };
  const realSet = g.setTimeout, realClear = g.clearTimeout;
  const pending = new Set<unknown>();
  g.setTimeout = (cb: () => void, ms?: number) => {
    const id: unknown = realSet(() => {
      pending.delete(id);
      cb();
    }, ms);
    pending.add(id);
    return id;
  };
  g.clearTimeout = (id: unknown) => {
    pending.delete(id);
    realClear(id);
  };
  try {
    await fn();
  } finally {
    g.setTimeout = realSet;
    g.clearTimeout = realClear;
  }
  for (const id of pending) realClear(id);
  return pending.size;
}

describe("noise hardening: identity", () => {
  it("dialled peer X, responder proves Y: PeerIdMismatchError, connection aborted", async () => {
    const [a0, b] = connPair();
    const a = recording(a0);
    const expected = peerIdFromPublicKey((await key("Ed25519", 2)).publicKey);
    const [out, inc] = await Promise.allSettled([
      noise({ privateKey: await key("Ed25519", 0) }).secureOutbound(a, { remotePeer: expected }),
      noise({ privateKey: await key("Ed25519", 1) }).secureInbound(b),
    ]);
    assert.equal(out.status, "rejected");
    assert.ok((out as PromiseRejectedResult).reason instanceof PeerIdMismatchError);
    assert.ok(a.aborted[0] instanceof PeerIdMismatchError, "raw connection aborted");
    // The responder never gets a connection either: message 3 was never sent.
    assert.equal(inc.status, "rejected");
  });

  it("inbound with an expected peer that differs: PeerIdMismatchError", async () => {
    const [a, b] = connPair();
    const other = peerIdFromPublicKey((await key("Ed25519", 2)).publicKey);
    const [, inc] = await Promise.allSettled([
      noise({ privateKey: await key("Ed25519", 0) }).secureOutbound(a),
      noise({ privateKey: await key("Ed25519", 1) }).secureInbound(b, { remotePeer: other }),
    ]);
    assert.equal(inc.status, "rejected");
    assert.ok((inc as PromiseRejectedResult).reason instanceof PeerIdMismatchError);
  });

  for (const side of ["responder", "initiator"] as const) {
    it(`bad identity signature from the ${side}: HandshakeError(InvalidSignatureError)`, async () => {
      const honest = await key("Ed25519", 1);
      // Signs the static key with one byte changed: a well-formed but wrong signature.
      const liar: PrivateKey = {
        type: honest.type,
        publicKey: honest.publicKey,
        raw: honest.raw,
        equals: (o) => honest.equals(o),
        sign: async (data: Uint8Array) => {
          const changed = data.slice();
          changed[changed.byteLength - 1] ^= 1;
          return await honest.sign(changed);
        },
      };
      const [a, b] = connPair();
      const good = noise({ privateKey: await key("Ed25519", 0) });
      const bad = noise({ privateKey: liar });
      const [out, inc] = await Promise.allSettled(
        side === "responder"
          ? [good.secureOutbound(a), bad.secureInbound(b)]
          : [bad.secureOutbound(a), good.secureInbound(b)],
      );
      const victim = (side === "responder" ? out : inc) as PromiseRejectedResult;
      assert.equal(victim.status, "rejected");
      assert.ok(victim.reason instanceof HandshakeError);
      assert.ok(victim.reason.cause instanceof InvalidSignatureError);
    });
  }

  it("a signature by another key than identity_key: HandshakeError", async () => {
    const [a, b] = connPair();
    const claimed = await key("Ed25519", 1), signer = await key("Ed25519", 2);
    const responder = manualResponder(b, async (hs, s) =>
      hs.writeMessage(payloadWith(
        publicKeyToProtobuf(claimed.publicKey),
        await signer.sign(staticKeySignedData(s)),
      )));
    const err = await rejection(noise({ privateKey: await key("Ed25519", 0) }).secureOutbound(a));
    assert.ok(err instanceof HandshakeError);
    assert.ok(err.cause instanceof InvalidSignatureError);
    await responder.catch(() => {});
  });

  it("unknown key type in the payload: HandshakeError(UnsupportedKeyTypeError)", async () => {
    const [a, b] = connPair();
    const weird = new ProtobufWriter().uint(1, 9).bytes(2, pattern(32)).finish();
    const responder = manualResponder(b, (hs) => hs.writeMessage(payloadWith(weird, pattern(64))));
    const err = await rejection(noise({ privateKey: await key("Ed25519", 0) }).secureOutbound(a));
    assert.ok(err instanceof HandshakeError);
    assert.ok(err.cause instanceof UnsupportedKeyTypeError, String(err.cause));
    await responder.catch(() => {});
  });

  it("oversized RSA identity keys are refused before any RSA math", async () => {
    for (
      const [bits, limit] of [[16384, "MAX_IDENTITY_KEY_LENGTH"], [9000, "MAX_RSA_BITS"]] as const
    ) {
      const [a, b] = connPair();
      const responder = manualResponder(
        b,
        (hs) => hs.writeMessage(payloadWith(fakeRsaKeyProtobuf(bits), pattern(64))),
      );
      const err = await rejection(noise({ privateKey: await key("Ed25519", 0) }).secureOutbound(a));
      assert.ok(err instanceof HandshakeError);
      assert.ok(err.cause instanceof LimitExceededError, `${bits}: ${err.cause}`);
      assert.equal(err.cause.limit, limit);
      await responder.catch(() => {});
    }
  });

  it("payload without identity, or with too many muxers: HandshakeError", async () => {
    const idKey = publicKeyToProtobuf((await key("Ed25519", 1)).publicKey);
    const tooMany = Array.from({ length: MAX_STREAM_MUXERS + 1 }, (_, i) => `/m/${i}`);
    const cases: [Uint8Array, new (...args: never[]) => Error][] = [
      [new Uint8Array(0), DecodeError],
      [new Uint8Array([0xff, 0xff]), DecodeError],
      [
        encodeHandshakePayload({
          identityKey: idKey,
          identitySig: pattern(64),
          extensions: { webtransportCerthashes: [], streamMuxers: tooMany },
        }),
        LimitExceededError,
      ],
    ];
    for (const [payload, causeClass] of cases) {
      const [a, b] = connPair();
      const responder = manualResponder(b, (hs) => hs.writeMessage(payload));
      const err = await rejection(noise({ privateKey: await key("Ed25519", 0) }).secureOutbound(a));
      assert.ok(err instanceof HandshakeError);
      assert.ok(err.cause instanceof causeClass, String(err.cause));
      await responder.catch(() => {});
    }
  });
});

describe("noise hardening: malformed handshake messages", () => {
  it("garbage message 2: HandshakeError(DecryptError), connection aborted", async () => {
    for (const garbage of [pattern(200, 4), pattern(80, 5), pattern(10, 6)]) {
      const [a0, b] = connPair();
      const a = recording(a0);
      const responder = manualResponder(b, () => garbage);
      const err = await rejection(noise({ privateKey: await key("Ed25519", 0) }).secureOutbound(a));
      assert.ok(err instanceof HandshakeError, String(err));
      if (garbage.byteLength >= 48) assert.ok(err.cause instanceof DecryptError);
      assert.equal(a.aborted.length, 1);
      await responder.catch(() => {});
    }
  });

  it("message 1 shorter than an ephemeral key, or a low-order key: HandshakeError", async () => {
    for (const message of [pattern(10), new Uint8Array(32)]) {
      const [a, b] = connPair();
      const attacker = send(a, encodeFrame(message));
      const err = await rejection(noise({ privateKey: await key("Ed25519", 1) }).secureInbound(b));
      assert.ok(err instanceof HandshakeError, String(err));
      await attacker;
    }
  });

  it("truncated handshake (EOF mid-message, EOF before anything): HandshakeError(EOF)", async () => {
    for (const bytes of [new Uint8Array([0x00, 0x60, ...pattern(10)]), new Uint8Array([0x00])]) {
      const [a, b] = connPair();
      const attacker = send(a, bytes, true);
      const err = await rejection(noise({ privateKey: await key("Ed25519", 1) }).secureInbound(b));
      assert.ok(err instanceof HandshakeError, String(err));
      assert.ok(err.cause instanceof UnexpectedEOFError, String(err.cause));
      await attacker;
    }
  });

  it("length prefix 0xFFFF then silence (responder): TimeoutError at the deadline", async () => {
    const [a, b0] = connPair();
    const b = recording(b0);
    await send(a, new Uint8Array([0xff, 0xff, 1, 2, 3]));
    const err = await rejection(
      noise({ privateKey: await key("Ed25519", 1), handshakeTimeoutMs: SHORT }).secureInbound(b),
    );
    assert.ok(err instanceof TimeoutError, String(err));
    assert.ok(b.aborted[0] instanceof TimeoutError);
  });

  it("length prefix 0xFFFF then silence (initiator, in message 2): TimeoutError", async () => {
    const [c, d] = connPair();
    const attacker = (async () => {
      const reader = d.readable.getReader();
      await reader.read(); // message 1
      reader.releaseLock();
      await send(d, new Uint8Array([0xff, 0xff, ...pattern(100)]));
    })();
    const err = await rejection(
      noise({ privateKey: await key("Ed25519", 0), handshakeTimeoutMs: SHORT }).secureOutbound(c),
    );
    assert.ok(err instanceof TimeoutError, String(err));
    await attacker;
  });
});

describe("noise hardening: transport", () => {
  it("a bit flipped in transit: DecryptError on read, connection aborted", async () => {
    let tamper = false;
    const flip = new TransformStream<Uint8Array, Uint8Array>({
      transform(chunk, controller) {
        if (tamper && chunk.byteLength > 20) {
          chunk = chunk.slice();
          chunk[chunk.byteLength - 5] ^= 0x10;
          tamper = false;
        }
        controller.enqueue(chunk);
      },
    });
    const [a, b] = relayedPair(flip);
    const [out, inc] = await Promise.all([
      noise({ privateKey: await key("Ed25519", 0) }).secureOutbound(a),
      noise({ privateKey: await key("Ed25519", 1) }).secureInbound(b),
    ]);
    tamper = true;
    const w = out.writable.getWriter();
    await w.write(pattern(1000));
    w.releaseLock();
    const err = await rejection(readAll(inc.readable));
    assert.ok(err instanceof DecryptError, String(err));
    // The raw connection's channel was aborted with the failure (its abort reaches the socket).
    const raw = await rejection(b.channel.read());
    assert.ok(raw instanceof DecryptError, `the raw connection was aborted: ${raw}`);
  });
});

describe("noise hardening: abort and deadlines release everything", () => {
  it("abort during the handshake: rejects with the abort, no timer or listener left", async () => {
    let listeners = 0;
    const controller = new AbortController();
    const signal = controller.signal;
    const add = signal.addEventListener.bind(signal);
    const remove = signal.removeEventListener.bind(signal);
    signal.addEventListener = ((...args: Parameters<AbortSignal["addEventListener"]>) => {
      listeners++;
      add(...args);
    }) as AbortSignal["addEventListener"];
    signal.removeEventListener = ((...args: Parameters<AbortSignal["removeEventListener"]>) => {
      listeners--;
      remove(...args);
    }) as AbortSignal["removeEventListener"];
    let error: unknown;
    const [a0, b] = connPair();
    const a = recording(a0);
    const left = await pendingTimersAfter(async () => {
      const pending = noise({ privateKey: await key("Ed25519", 0) }).secureOutbound(a, { signal });
      // The peer reads message 1 and then stays silent; we abort while waiting for message 2.
      const reader = b.readable.getReader();
      await reader.read();
      controller.abort();
      error = await rejection(pending);
      reader.releaseLock();
    });
    assert.ok(error instanceof AbortError, String(error));
    assert.equal(left, 0, "no pending timers");
    assert.equal(listeners, 0, "every abort listener removed");
    assert.equal(a.aborted.length, 1, "raw connection aborted");
  });

  it("an already aborted signal fails at once and leaves nothing behind", async () => {
    const [a, b] = connPair();
    const reason = new Error("stop");
    const left = await pendingTimersAfter(async () => {
      const err = await rejection(
        noise({ privateKey: await key("Ed25519", 0) }).secureOutbound(a, {
          signal: AbortSignal.abort(reason),
        }),
      );
      assert.equal(err, reason);
    });
    assert.equal(left, 0);
    b.abort();
  });

  it("a successful handshake leaves no deadline timer", async () => {
    const [a, b] = connPair();
    const left = await pendingTimersAfter(async () => {
      await Promise.all([
        noise({ privateKey: await key("Ed25519", 0) }).secureOutbound(a),
        noise({ privateKey: await key("Ed25519", 1) }).secureInbound(b),
      ]);
    });
    assert.equal(left, 0);
  });
});

// The same abort row under Deno's own test runner with its op and resource sanitizers switched
// on explicitly (Deno 2.9 leaves them off by default, and node:test never has them): a leaked
// timer or pending op fails the test.
type DenoTest = (t: {
  name: string;
  sanitizeOps: boolean;
  sanitizeResources: boolean;
  fn: () => Promise<void>;
}) => void;
const denoTest = (globalThis as { Deno?: { test?: DenoTest } }).Deno?.test;
if (denoTest !== undefined) {
  denoTest({
    name: "noise: abort during the handshake leaks nothing (Deno sanitizers)",
    sanitizeOps: true,
    sanitizeResources: true,
    async fn() {
      const privateKey = await key("Ed25519", 0);
      const [a, b] = connPair();
      const controller = new AbortController();
      const pending = noise({ privateKey }).secureOutbound(a, { signal: controller.signal });
      const reader = b.readable.getReader();
      await reader.read();
      controller.abort();
      const err = await rejection(pending);
      assert.ok(err instanceof AbortError);
      reader.releaseLock();
    },
  });
}
