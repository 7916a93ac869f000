import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { concat, fromHex, toHex, utf8Encode } from "../../src/bytes.ts";
import { ProtocolNegotiationError } from "../../src/errors.ts";
import {
  decodeFrame,
  decodeLsResponse,
  decodeMessage,
  decodeMessagePayload,
  encodeLsResponse,
  encodeMessage,
  encodeMessages,
  InvalidLengthError,
  InvalidListError,
  InvalidUtf8Error,
  MAX_LS_PROTOCOLS,
  MAX_PROTOCOL_LENGTH,
  MessageTooLongError,
  MissingNewlineError,
  MultistreamError,
  PROTOCOL_ID,
} from "../../src/multistream/mod.ts";

// Vectors: multiformats/multistream-select README ("na" = 0x036e610a, "ls" = 0x036c730a); the
// header bytes follow from the framing rule (0x13 = 19 = 18 text bytes + "\n").
const NA_HEX = "036e610a";
const LS_HEX = "036c730a";
const HEADER_HEX = "13" + toHex(utf8Encode("/multistream/1.0.0\n"));

describe("multistream codec: vectors", () => {
  it("encodes na, ls and the header byte for byte", () => {
    assert.equal(toHex(encodeMessage("na")), NA_HEX);
    assert.equal(toHex(encodeMessage("ls")), LS_HEX);
    assert.equal(toHex(encodeMessage(PROTOCOL_ID)), HEADER_HEX);
    assert.equal(HEADER_HEX, "132f6d756c746973747265616d2f312e302e300a");
  });

  it("decodes the vectors", () => {
    assert.deepEqual(decodeMessage(fromHex(NA_HEX)), { text: "na", length: 4 });
    assert.deepEqual(decodeMessage(fromHex(HEADER_HEX)), { text: PROTOCOL_ID, length: 20 });
  });

  it("encodes several messages into one buffer, in order", () => {
    const both = encodeMessages([PROTOCOL_ID, "/ipfs/ping/1.0.0"]);
    assert.equal(toHex(both), HEADER_HEX + "11" + toHex(utf8Encode("/ipfs/ping/1.0.0\n")));
    const first = decodeMessage(both, 0)!;
    const second = decodeMessage(both, first.length)!;
    assert.equal(first.text, PROTOCOL_ID);
    assert.equal(second.text, "/ipfs/ping/1.0.0");
    assert.equal(first.length + second.length, both.byteLength);
  });

  it("encodes the ls response the way js-libp2p and rust-libp2p do", () => {
    // outer length, then each protocol length-prefixed with its "\n", then a final "\n"
    const expected = concat([
      new Uint8Array([4 + 6 + 1]),
      fromHex("03"),
      utf8Encode("/a\n"),
      fromHex("05"),
      utf8Encode("/b/c\n"),
      fromHex("0a"),
    ]);
    assert.equal(toHex(encodeLsResponse(["/a", "/b/c"])), toHex(expected));
    assert.equal(toHex(encodeLsResponse([])), "010a");
  });
});

describe("multistream codec: round trips and truncation", () => {
  const samples = [
    "na",
    "ls",
    PROTOCOL_ID,
    "",
    "/ipfs/kad/1.0.0",
    "/ünïcødé/ü",
    "x".repeat(126), // 127-byte payload: one-byte prefix
    "x".repeat(127), // 128-byte payload: two-byte prefix
    "x".repeat(MAX_PROTOCOL_LENGTH - 1),
  ];

  for (const text of samples) {
    const name = `${JSON.stringify(text.slice(0, 20))} (${utf8Encode(text).byteLength} bytes)`;
    it(`round-trips ${name}`, () => {
      const bytes = encodeMessage(text);
      assert.deepEqual(decodeMessage(bytes), { text, length: bytes.byteLength });
      // trailing bytes are left alone
      const more = concat([bytes, fromHex("ff")]);
      assert.deepEqual(decodeMessage(more), { text, length: bytes.byteLength });
      // and decoding at an offset works
      const shifted = concat([fromHex("aabb"), bytes]);
      assert.deepEqual(decodeMessage(shifted, 2), { text, length: bytes.byteLength });
    });

    it(`returns undefined for every truncated prefix of ${name}`, () => {
      const bytes = encodeMessage(text);
      for (let n = 0; n < bytes.byteLength; n++) {
        assert.equal(decodeMessage(bytes.subarray(0, n)), undefined, `prefix of ${n} bytes`);
      }
    });
  }

  it("refuses to encode a text that does not fit the limit", () => {
    assert.throws(() => encodeMessage("x".repeat(MAX_PROTOCOL_LENGTH)), RangeError);
  });

  it("round-trips ls responses, with and without the final newline", () => {
    const list = ["/a", "/ipfs/id/1.0.0", "y".repeat(300)];
    const encoded = encodeLsResponse(list);
    const frame = decodeFrame(encoded, 0, 16_383)!;
    assert.equal(frame.length, encoded.byteLength);
    assert.deepEqual(decodeLsResponse(frame.payload), list);
    // go-libp2p's older listeners omit the final "\n"
    const goStyle = frame.payload.subarray(0, frame.payload.byteLength - 1);
    assert.deepEqual(decodeLsResponse(goStyle), list);
  });
});

describe("multistream codec: malformed input, each a distinct error", () => {
  it("rejects a length prefix of 1025 from the prefix alone", () => {
    // 1025 = 0x81 0x08; no body at all
    const err = captureThrow(() => decodeMessage(fromHex("8108")));
    assert.ok(err instanceof MessageTooLongError);
    assert.equal(err.reason, "too-long");
    assert.ok(err instanceof ProtocolNegotiationError);
    // 1024 is fine (needs more bytes)
    assert.equal(decodeMessage(fromHex("8008")), undefined);
  });

  it("rejects an unterminated prefix once it is longer than the limit can need", () => {
    assert.equal(decodeMessage(fromHex("ff")), undefined);
    assert.ok(captureThrow(() => decodeMessage(fromHex("ffff"))) instanceof MessageTooLongError);
  });

  it("rejects a non-minimal prefix", () => {
    const err = captureThrow(() => decodeMessage(fromHex("830000")));
    assert.ok(err instanceof InvalidLengthError);
    assert.equal(err.reason, "invalid-length");
  });

  it("rejects a message without a trailing newline", () => {
    const err = captureThrow(() => decodeMessage(fromHex("026e61")));
    assert.ok(err instanceof MissingNewlineError);
    assert.equal(err.reason, "missing-newline");
    assert.ok(captureThrow(() => decodeMessage(fromHex("00"))) instanceof MissingNewlineError);
  });

  it("rejects invalid UTF-8", () => {
    const err = captureThrow(() => decodeMessagePayload(fromHex("2fc3280a")));
    assert.ok(err instanceof InvalidUtf8Error);
    assert.equal(err.reason, "invalid-utf8");
    assert.ok(captureThrow(() => decodeMessage(fromHex("03fffe0a"))) instanceof InvalidUtf8Error);
  });

  it("gives every malformed class its own reason", () => {
    const reasons = [
      captureThrow(() => decodeMessage(fromHex("8108"))),
      captureThrow(() => decodeMessage(fromHex("830000"))),
      captureThrow(() => decodeMessage(fromHex("026e61"))),
      captureThrow(() => decodeMessage(fromHex("03fffe0a"))),
    ].map((e) => (e as MultistreamError).reason);
    assert.equal(new Set(reasons).size, 4);
  });

  it("rejects malformed ls responses", () => {
    assert.ok(captureThrow(() => decodeLsResponse(fromHex("05"))) instanceof InvalidListError);
    assert.ok(captureThrow(() => decodeLsResponse(fromHex("022f61"))) instanceof InvalidListError);
    const tooMany = encodeLsResponse(Array.from({ length: MAX_LS_PROTOCOLS + 1 }, () => "/a"));
    const frame = decodeFrame(tooMany, 0, Number.MAX_SAFE_INTEGER)!;
    assert.ok(captureThrow(() => decodeLsResponse(frame.payload)) instanceof InvalidListError);
  });
});

function captureThrow(fn: () => unknown): MultistreamError {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof MultistreamError, `expected a MultistreamError, got ${err}`);
    return err;
  }
  assert.fail("expected an error");
}
