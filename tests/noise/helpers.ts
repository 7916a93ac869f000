/**
 * Helpers for the Noise service tests: key generation, stream plumbing, a man-in-the-middle
 * relay and a hand-driven responder that sends whatever payload a test wants.
 *
 * @module
 */

import { concat } from "../../src/bytes.ts";
import { generateKeyPair, type PrivateKey } from "../../src/keys/mod.ts";
import { ByteReader } from "../../src/stream/byte_reader.ts";
import { connPair } from "../helpers/conn.ts";
import type { WebConnection } from "../helpers/conn.ts";
import { encodeFrame } from "../../protocols/noise/codec.ts";
import { nobleCrypto } from "../../protocols/noise/crypto.ts";
import { XXHandshakeState } from "../../protocols/noise/handshake.ts";

/** Deterministic pseudo-random bytes. */
export function pattern(length: number, seed = 1): Uint8Array {
  const out = new Uint8Array(length);
  let x = seed;
  for (let i = 0; i < length; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    out[i] = x >>> 24;
  }
  return out;
}

const keyCache = new Map<string, Promise<PrivateKey>>();

/** A key of `type`, generated once per test file run (RSA keygen is slow). */
export function key(
  type: "Ed25519" | "secp256k1" | "ECDSA" | "RSA",
  slot = 0,
): Promise<PrivateKey> {
  const id = `${type}/${slot}`;
  let k = keyCache.get(id);
  if (k === undefined) {
    k = generateKeyPair(type);
    keyCache.set(id, k);
  }
  return k;
}

/** Read a stream to its end. */
export async function readAll(stream: ReadableStream<Uint8Array>): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  for await (const chunk of stream) parts.push(chunk);
  return concat(parts);
}

/** Write `data` in chunks of `chunk` bytes, then close. */
export async function writeAll(
  writable: WritableStream<Uint8Array>,
  data: Uint8Array,
  chunk = data.byteLength,
): Promise<void> {
  const w = writable.getWriter();
  for (let i = 0; i < data.byteLength; i += chunk) await w.write(data.subarray(i, i + chunk));
  await w.close();
}

/** A connection wrapper that records abort() and close() calls. */
export function recording(
  conn: WebConnection,
): WebConnection & { aborted: unknown[]; closed: number } {
  const rec = {
    channel: conn.channel,
    get readable() {
      return conn.readable;
    },
    get writable() {
      return conn.writable;
    },
    aborted: [] as unknown[],
    closed: 0,
    close(): Promise<void> {
      rec.closed++;
      return conn.close();
    },
    abort(reason?: unknown): void {
      rec.aborted.push(reason);
      conn.abort(reason);
    },
  };
  return rec;
}

/**
 * Two connections joined by a relay: bytes from `a` reach `b` through `aToB` (which may
 * re-chunk or tamper) and bytes from `b` reach `a` through `bToA`. Aborting either end aborts
 * the other.
 */
export function relayedPair(
  aToB: TransformStream<Uint8Array, Uint8Array>,
  bToA: TransformStream<Uint8Array, Uint8Array> = new TransformStream(),
): [WebConnection, WebConnection] {
  const [a, m1] = connPair();
  const [m2, b] = connPair();
  m1.readable.pipeThrough(aToB).pipeTo(m2.writable).catch((e) => m2.abort(e));
  m2.readable.pipeThrough(bToA).pipeTo(m1.writable).catch((e) => m1.abort(e));
  return [a, b];
}

/** A transform that re-emits every chunk as pieces of `size` bytes. */
export function rechunk(size: number): TransformStream<Uint8Array, Uint8Array> {
  return new TransformStream({
    transform(chunk, controller) {
      for (let i = 0; i < chunk.byteLength; i += size) {
        controller.enqueue(chunk.slice(i, i + size));
      }
    },
  });
}

/**
 * Run the responder side of XX by hand over `conn`: read message 1, then send message 2 built
 * by `message2` (given the handshake state, so tests can put any payload in, or send raw
 * bytes instead). Returns the handshake state and the reader for further steps.
 */
export async function manualResponder(
  conn: WebConnection,
  message2: (hs: XXHandshakeState, staticPublicKey: Uint8Array) => Uint8Array | Promise<Uint8Array>,
): Promise<{ hs: XXHandshakeState; reader: ByteReader }> {
  const staticKeyPair = nobleCrypto.generateX25519KeyPair();
  const hs = new XXHandshakeState({ crypto: nobleCrypto, initiator: false, staticKeyPair });
  const reader = new ByteReader(conn.readable);
  hs.readMessage(await reader.readUint16Prefixed());
  const writer = conn.writable.getWriter();
  await writer.write(encodeFrame(await message2(hs, staticKeyPair.publicKey)));
  writer.releaseLock();
  return { hs, reader };
}
