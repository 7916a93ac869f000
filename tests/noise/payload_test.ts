/** The NoiseHandshakePayload codec and frame helpers: round trips, limits, malformed input. */

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { fromHex, toHex } from "../../src/bytes.ts";
import { DecodeError, LimitExceededError } from "../../src/errors.ts";
import { ProtobufWriter } from "../../src/protobuf.ts";
import { decodeFrameLength, encodeFrame, framedSize } from "../../protocols/noise/codec.ts";
import { decodeHandshakePayload, encodeHandshakePayload } from "../../protocols/noise/payload.ts";
import {
  MAX_CERTHASHES,
  MAX_IDENTITY_KEY_LENGTH,
  MAX_STREAM_MUXERS,
} from "../../protocols/noise/constants.ts";
import { staticKeySignedData } from "../../protocols/noise/identity.ts";

describe("noise payload codec", () => {
  it("encodes fields 1, 2, 4 in order and omits empty extensions", () => {
    const bare = encodeHandshakePayload({
      identityKey: fromHex("0801"),
      identitySig: fromHex("aa"),
      extensions: { webtransportCerthashes: [], streamMuxers: [] },
    });
    assert.equal(toHex(bare), "0a020801" + "1201aa");
    const full = encodeHandshakePayload({
      identityKey: fromHex("0801"),
      identitySig: fromHex("aa"),
      extensions: { webtransportCerthashes: [fromHex("1220")], streamMuxers: ["/y"] },
    });
    // 22 08 | 0a 02 12 20 | 12 02 2f 79
    assert.equal(toHex(full), "0a020801" + "1201aa" + "2208" + "0a021220" + "12022f79");
    const back = decodeHandshakePayload(full);
    assert.deepEqual(back.identityKey, fromHex("0801"));
    assert.deepEqual(back.identitySig, fromHex("aa"));
    assert.deepEqual(back.extensions, {
      webtransportCerthashes: [fromHex("1220")],
      streamMuxers: ["/y"],
    });
    assert.equal(decodeHandshakePayload(bare).extensions, undefined);
  });

  it("skips unknown fields (e.g. the old libp2p_data = 3)", () => {
    const bytes = new ProtobufWriter().bytes(1, fromHex("0801")).bytes(2, fromHex("aa"))
      .bytes(3, fromHex("ffff")).uint(9, 5).finish();
    assert.deepEqual(decodeHandshakePayload(bytes).identitySig, fromHex("aa"));
  });

  it("refuses missing or repeated identity fields and wrong wire types", () => {
    const cases = [
      new ProtobufWriter().bytes(2, fromHex("aa")).finish(),
      new ProtobufWriter().bytes(1, fromHex("0801")).finish(),
      new ProtobufWriter().bytes(1, fromHex("0801")).bytes(1, fromHex("0801")).bytes(
        2,
        fromHex("aa"),
      )
        .finish(),
      new ProtobufWriter().uint(1, 1).bytes(2, fromHex("aa")).finish(),
      fromHex("0a05"),
    ];
    for (const bytes of cases) assert.throws(() => decodeHandshakePayload(bytes), DecodeError);
  });

  it("checks sizes and counts against named limits", () => {
    const base = () => new ProtobufWriter().bytes(2, fromHex("aa"));
    assert.throws(
      () =>
        decodeHandshakePayload(
          base().bytes(1, new Uint8Array(MAX_IDENTITY_KEY_LENGTH + 1)).finish(),
        ),
      (e: unknown) => e instanceof LimitExceededError && e.limit === "MAX_IDENTITY_KEY_LENGTH",
    );
    const muxers = new ProtobufWriter();
    for (let i = 0; i <= MAX_STREAM_MUXERS; i++) muxers.string(2, `/m/${i}`);
    assert.throws(
      () => decodeHandshakePayload(base().bytes(1, fromHex("0801")).message(4, muxers).finish()),
      LimitExceededError,
    );
    const hashes = new ProtobufWriter();
    for (let i = 0; i <= MAX_CERTHASHES; i++) hashes.bytes(1, fromHex("1220"));
    assert.throws(
      () => decodeHandshakePayload(base().bytes(1, fromHex("0801")).message(4, hashes).finish()),
      LimitExceededError,
    );
  });

  it("signed data is the ASCII prefix then the static key", () => {
    const data = staticKeySignedData(new Uint8Array(32).fill(1));
    assert.equal(new TextDecoder().decode(data.subarray(0, 24)), "noise-libp2p-static-key:");
    assert.deepEqual(data.subarray(24), new Uint8Array(32).fill(1));
  });
});

describe("noise frame helpers", () => {
  it("2-byte big-endian length, at most 65535", () => {
    assert.deepEqual(encodeFrame(new Uint8Array(300)).subarray(0, 2), new Uint8Array([1, 44]));
    assert.equal(decodeFrameLength(new Uint8Array([0xff, 0xff]), 0), 65535);
    assert.equal(decodeFrameLength(new Uint8Array([0xff]), 0), undefined);
    assert.throws(() => encodeFrame(new Uint8Array(65536)), RangeError);
    assert.deepEqual(framedSize(65519), { frames: 1, bytes: 65537 });
    assert.deepEqual(framedSize(65520), { frames: 2, bytes: 65520 + 36 });
    assert.deepEqual(framedSize(0), { frames: 0, bytes: 0 });
  });
});
