// Tests for protocols/noise/secure_channel.ts: the Noise transport phase on a ByteChannel, fed
// raw chunks cut at every possible place.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { concat } from "../../src/bytes.ts";
import { DecryptError } from "../../src/errors.ts";
import { UnexpectedEOFError } from "../../src/stream/byte_reader.ts";
import type { ByteChannel } from "../../src/stream/channel.ts";
import { nobleCrypto } from "../../protocols/noise/crypto.ts";
import { CipherState } from "../../protocols/noise/handshake.ts";
import { NoiseEncryptor } from "../../protocols/noise/transport.ts";
import { NoiseChannel } from "../../protocols/noise/secure_channel.ts";

const KEY = new Uint8Array(32).fill(7);

/** A raw channel that serves `chunks` in order, then its end; records an abort. */
class ScriptedChannel implements ByteChannel {
  aborted: unknown;
  constructor(private readonly chunks: Uint8Array[]) {}
  read(): Promise<Uint8Array | null> {
    return Promise.resolve(this.chunks.shift() ?? null);
  }
  write(): void {}
  drained(): Promise<void> {
    return Promise.resolve();
  }
  closeWrite(): Promise<void> {
    return Promise.resolve();
  }
  cancelRead(): void {}
  abort(reason?: unknown): void {
    this.aborted = reason;
  }
}

/** The wire bytes of `plaintexts`, each sealed as its own frame(s). */
function sealed(...plaintexts: Uint8Array[]): Uint8Array {
  const enc = new NoiseEncryptor(new CipherState(nobleCrypto, KEY));
  const out: Uint8Array[] = [];
  for (const p of plaintexts) enc.sealInto(p, (wire) => out.push(wire.slice()));
  return concat(out);
}

/** A NoiseChannel reading `wire` cut into `size`-byte raw chunks. */
function channelOver(wire: Uint8Array, size: number): [NoiseChannel, ScriptedChannel] {
  const chunks: Uint8Array[] = [];
  for (let i = 0; i < wire.byteLength; i += size) chunks.push(wire.subarray(i, i + size));
  const raw = new ScriptedChannel(chunks);
  return [
    new NoiseChannel(raw, new CipherState(nobleCrypto, KEY), new CipherState(nobleCrypto, KEY)),
    raw,
  ];
}

async function readAll(ch: NoiseChannel): Promise<Uint8Array[]> {
  const out: Uint8Array[] = [];
  for (let c = await ch.read(); c !== null; c = await ch.read()) out.push(c);
  return out;
}

const text = (s: string) => new TextEncoder().encode(s);

describe("NoiseChannel reads", () => {
  it("gives every plaintext in order whatever the raw chunking, then null", async () => {
    const messages = [text("one"), text("two two"), new Uint8Array(3000).fill(9), text("end")];
    const wire = sealed(...messages);
    for (const size of [1, 2, 3, 17, 19, 100, 4096, wire.byteLength]) {
      const [ch] = channelOver(wire, size);
      const got = await readAll(ch);
      assert.deepEqual(concat(got), concat(messages), `raw chunks of ${size} bytes`);
    }
  });

  it("hands out several frames of one raw chunk on successive reads", async () => {
    const [ch] = channelOver(sealed(text("a"), text("b"), text("c")), 1 << 20);
    assert.deepEqual(await ch.read(), text("a"));
    assert.deepEqual(await ch.read(), text("b"));
    assert.deepEqual(await ch.read(), text("c"));
    assert.equal(await ch.read(), null);
  });

  it("skips a long run of empty frames, delivered byte by byte, to the next data", async () => {
    // 5,000 empty-plaintext frames (tag only): one read must wade through all of them.
    const cs = new CipherState(nobleCrypto, KEY);
    const frame = (plaintext: Uint8Array): Uint8Array => {
      const body = cs.encryptWithAd(new Uint8Array(0), plaintext);
      return concat([new Uint8Array([body.byteLength >> 8, body.byteLength & 0xff]), body]);
    };
    const wire = Array.from({ length: 5000 }, () => frame(new Uint8Array(0)));
    wire.push(frame(text("data")));
    const [ch] = channelOver(concat(wire), 7);
    assert.deepEqual(await ch.read(), text("data"));
    assert.equal(await ch.read(), null);
  });

  it("fails on a tampered frame, aborts the raw channel, and keeps failing", async () => {
    const wire = sealed(text("hello"), text("world"));
    wire[wire.byteLength - 1] ^= 1;
    const [ch, raw] = channelOver(wire, 5);
    assert.deepEqual(await ch.read(), text("hello"));
    await assert.rejects(ch.read(), DecryptError);
    assert.ok(raw.aborted instanceof DecryptError);
    await assert.rejects(ch.read(), DecryptError);
  });

  it("fails with UnexpectedEOFError when the input ends inside a frame", async () => {
    const wire = sealed(text("complete"), text("cut off"));
    const [ch] = channelOver(wire.subarray(0, wire.byteLength - 3), 4);
    assert.deepEqual(await ch.read(), text("complete"));
    await assert.rejects(ch.read(), UnexpectedEOFError);
  });
});
