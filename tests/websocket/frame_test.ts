/**
 * The sans-IO frame codec (transports/websocket/frame.ts): the RFC 6455 section 5.7 examples,
 * every truncation of a frame, fragmentation and control frames, and every bad input with its
 * typed error.
 */

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { LimitExceededError } from "../../src/errors.ts";
import { WebSocketProtocolError } from "../../transports/websocket/errors.ts";
import {
  closePayload,
  encodeFrame,
  type FrameEvent,
  FrameReader,
  OPCODE_BINARY,
  OPCODE_CLOSE,
  OPCODE_CONTINUATION,
  OPCODE_PING,
  OPCODE_PONG,
  OPCODE_TEXT,
} from "../../transports/websocket/frame.ts";

const hello = new TextEncoder().encode("Hello");
const MASK = new Uint8Array([0x37, 0xfa, 0x21, 0x3d]);

/** RFC 6455 section 5.7: a single-frame unmasked text message "Hello". */
const UNMASKED_HELLO = [0x81, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f];
/** A single-frame masked text message "Hello". */
const MASKED_HELLO = [0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58];
/** A fragmented unmasked text message: "Hel" then "lo". */
const FRAGMENTED_HELLO = [[0x01, 0x03, 0x48, 0x65, 0x6c], [0x80, 0x02, 0x6c, 0x6f]];
/** Unmasked ping with "Hello", and the masked pong answering it. */
const PING_HELLO = [0x89, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f];
const PONG_HELLO_MASKED = [0x8a, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58];

function client(max = 1 << 20): FrameReader {
  return new FrameReader({ maxPayloadLength: max, masked: false });
}

function server(max = 1 << 20): FrameReader {
  return new FrameReader({ maxPayloadLength: max, masked: true });
}

function readAll(reader: FrameReader, bytes: Uint8Array | number[]): FrameEvent[] {
  reader.push(bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes));
  const out: FrameEvent[] = [];
  for (let e = reader.next(); e !== undefined; e = reader.next()) out.push(e);
  return out;
}

function protocolError(code = 1002): (e: unknown) => boolean {
  return (e: unknown) => e instanceof WebSocketProtocolError && e.closeCode === code;
}

describe("websocket frame encoding (RFC 6455 section 5.7)", () => {
  it('encodes the masked and unmasked "Hello" examples', () => {
    assert.deepEqual([...encodeFrame(OPCODE_TEXT, hello)], UNMASKED_HELLO);
    assert.deepEqual([...encodeFrame(OPCODE_TEXT, hello, MASK)], MASKED_HELLO);
    assert.deepEqual([...encodeFrame(OPCODE_PONG, hello, MASK)], PONG_HELLO_MASKED);
    assert.deepEqual([...encodeFrame(OPCODE_PING, hello)], PING_HELLO);
    assert.deepEqual(
      [...encodeFrame(OPCODE_TEXT, hello.subarray(0, 3), undefined, false)].slice(2),
      [
        0x48,
        0x65,
        0x6c,
      ],
    );
    assert.equal(encodeFrame(OPCODE_TEXT, hello.subarray(0, 3), undefined, false)[0], 0x01);
  });

  it("encodes the 256-byte and 64 KiB binary length forms", () => {
    const f256 = encodeFrame(OPCODE_BINARY, new Uint8Array(256));
    assert.deepEqual([...f256.subarray(0, 4)], [0x82, 0x7e, 0x01, 0x00]);
    assert.equal(f256.byteLength, 4 + 256);
    const f64k = encodeFrame(OPCODE_BINARY, new Uint8Array(65536));
    assert.deepEqual([...f64k.subarray(0, 10)], [0x82, 0x7f, 0, 0, 0, 0, 0, 1, 0, 0]);
    assert.equal(f64k.byteLength, 10 + 65536);
    // The boundaries of the forms: 125 in 7 bits, 126 and 65535 in 16, 65536 in 64.
    assert.equal(encodeFrame(OPCODE_BINARY, new Uint8Array(125))[1], 125);
    assert.equal(encodeFrame(OPCODE_BINARY, new Uint8Array(126))[1], 126);
    assert.equal(encodeFrame(OPCODE_BINARY, new Uint8Array(65535))[1], 126);
  });

  it("masks into the frame without changing the payload", () => {
    const payload = new Uint8Array(300).map((_, i) => i);
    const frame = encodeFrame(OPCODE_BINARY, payload, MASK);
    assert.equal(payload[5], 5);
    const events = readAll(server(), frame);
    assert.deepEqual(events, [{ kind: "message", data: payload }]);
    assert.throws(() => encodeFrame(OPCODE_BINARY, payload, new Uint8Array(3)), RangeError);
  });

  it("builds close payloads: code, UTF-8 reason cut at a character, nothing for 1005", () => {
    assert.deepEqual([...closePayload(1000, "")], [0x03, 0xe8]);
    assert.deepEqual([...closePayload(1005, "ignored")], []);
    const long = closePayload(4000, "é".repeat(100)); // 200 bytes of 2-byte characters
    assert.equal(long.byteLength, 2 + 122); // 123 would split a character
    assert.equal(new TextDecoder("utf-8", { fatal: true }).decode(long.subarray(2)).length, 61);
  });
});

describe("websocket frame decoding", () => {
  it('decodes the unmasked and masked "Hello" examples (as their role expects)', () => {
    // Text is refused by policy, so the example's text opcode is swapped for binary.
    const unmasked = [0x82, ...UNMASKED_HELLO.slice(1)];
    const masked = [0x82, ...MASKED_HELLO.slice(1)];
    assert.deepEqual(readAll(client(), unmasked), [{ kind: "message", data: hello }]);
    assert.deepEqual(readAll(server(), masked), [{ kind: "message", data: hello }]);
  });

  it("reassembles a fragmented message, with a ping between the fragments", () => {
    const first = [0x02, ...FRAGMENTED_HELLO[0].slice(1)];
    const events = readAll(client(), [...first, ...PING_HELLO, ...FRAGMENTED_HELLO[1]]);
    assert.deepEqual(events, [
      { kind: "ping", data: hello },
      { kind: "message", data: hello },
    ]);
  });

  it("decodes the 256-byte and 64 KiB length forms", () => {
    for (const size of [0, 125, 126, 256, 65535, 65536, 100_000]) {
      const payload = new Uint8Array(size).map((_, i) => i * 7);
      const events = readAll(client(), encodeFrame(OPCODE_BINARY, payload));
      assert.deepEqual(events, [{ kind: "message", data: payload }], `size ${size}`);
    }
  });

  it("waits at every truncation of a frame, then decodes it (whole or byte by byte)", () => {
    const frames = [
      encodeFrame(OPCODE_BINARY, hello),
      encodeFrame(OPCODE_BINARY, new Uint8Array(256).fill(9)),
      encodeFrame(OPCODE_BINARY, new Uint8Array(65536).fill(3)),
      encodeFrame(OPCODE_PING, hello),
      encodeFrame(OPCODE_CLOSE, closePayload(1000, "bye")),
      new Uint8Array([0x82, ...MASKED_HELLO.slice(1)]),
    ];
    for (const [i, frame] of frames.entries()) {
      const make = i === frames.length - 1 ? server : client;
      const expected = readAll(make(), frame);
      assert.equal(expected.length, 1);
      for (let cut = 0; cut < frame.byteLength; cut++) {
        const reader = make();
        assert.deepEqual(readAll(reader, frame.subarray(0, cut)), [], `frame ${i} cut ${cut}`);
        assert.deepEqual(readAll(reader, frame.subarray(cut)), expected, `frame ${i} cut ${cut}`);
      }
      if (frame.byteLength < 1000) {
        const reader = make();
        const events: FrameEvent[] = [];
        for (const byte of frame) events.push(...readAll(reader, [byte]));
        assert.deepEqual(events, expected);
      }
    }
  });

  it("decodes control frames: pong, close with and without a code", () => {
    assert.deepEqual(readAll(client(), encodeFrame(OPCODE_PONG, hello)), [
      { kind: "pong", data: hello },
    ]);
    assert.deepEqual(readAll(client(), encodeFrame(OPCODE_CLOSE, new Uint8Array(0))), [
      { kind: "close", code: 1005, reason: "" },
    ]);
    assert.deepEqual(readAll(client(), encodeFrame(OPCODE_CLOSE, closePayload(4001, "é"))), [
      { kind: "close", code: 4001, reason: "é" },
    ]);
  });
});

describe("websocket frame decoding: bad input", () => {
  function rejects(bytes: Uint8Array | number[], check: (e: unknown) => boolean, max?: number) {
    const reader = client(max);
    assert.throws(() => readAll(reader, bytes), check);
    // Failed for good: the same error again, even with good bytes.
    assert.throws(() => readAll(reader, encodeFrame(OPCODE_BINARY, hello)), check);
  }

  it("refuses a masked frame from the server and an unmasked one from a client", () => {
    rejects([0x82, ...MASKED_HELLO.slice(1)], protocolError());
    assert.throws(() => readAll(server(), encodeFrame(OPCODE_BINARY, hello)), protocolError());
  });

  it("refuses RSV bits and unknown opcodes", () => {
    for (const rsv of [0x40, 0x20, 0x10]) rejects([0x82 | rsv, 0x00], protocolError());
    for (const op of [3, 4, 5, 6, 7, 0xb, 0xc, 0xd, 0xe, 0xf]) {
      rejects([0x80 | op, 0x00], protocolError());
    }
  });

  it("refuses a length above maxPayloadLength from the header alone, in every length form", () => {
    const isLimit = (e: unknown) => e instanceof LimitExceededError;
    rejects([0x82, 100], isLimit, 99); // 7-bit: nothing of the payload needed
    rejects([0x82, 126, 0x01, 0x00], isLimit, 255); // 16-bit
    rejects([0x82, 127, 0, 0, 0, 0, 0x7f, 0xff, 0xff, 0xff], isLimit, 1 << 20); // 64-bit, 2 GiB
    rejects([0x82, 127, 0x80, 0, 0, 0, 0, 0, 0, 0], protocolError()); // top bit set
    // Fragments count together: 60 + 60 > 100.
    const first = encodeFrame(OPCODE_BINARY, new Uint8Array(60), undefined, false);
    const second = encodeFrame(OPCODE_CONTINUATION, new Uint8Array(60));
    rejects(new Uint8Array([...first, ...second.subarray(0, 2)]), isLimit, 100);
  });

  it("refuses fragmented and oversized control frames", () => {
    rejects([0x09, 0x00], protocolError()); // ping without FIN
    rejects([0x08, 0x00], protocolError()); // close without FIN
    rejects([0x89, 126, 0x00, 0x7e], protocolError()); // ping of 126 bytes
    rejects([0x8a, 127, 0, 0, 0, 0, 0, 0, 0, 126], protocolError()); // pong, 64-bit length
  });

  it("refuses out-of-order fragments and text messages", () => {
    rejects(encodeFrame(OPCODE_CONTINUATION, hello), protocolError());
    const first = encodeFrame(OPCODE_BINARY, hello, undefined, false);
    rejects(new Uint8Array([...first, ...encodeFrame(OPCODE_BINARY, hello)]), protocolError());
    rejects(encodeFrame(OPCODE_TEXT, hello), protocolError(1003));
  });

  it("refuses bad close frames: one byte, invalid codes, a reason that is not UTF-8", () => {
    rejects(encodeFrame(OPCODE_CLOSE, new Uint8Array([0x03])), protocolError());
    for (const code of [0, 999, 1004, 1005, 1006, 1015, 2000, 5000]) {
      rejects(encodeFrame(OPCODE_CLOSE, new Uint8Array([code >> 8, code & 0xff])), protocolError());
    }
    rejects(encodeFrame(OPCODE_CLOSE, new Uint8Array([0x03, 0xe8, 0xff])), protocolError(1007));
  });
});
