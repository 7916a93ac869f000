// Header vectors written by hand from hashicorp/yamux spec.md "Framing": version u8, type u8,
// flags u16 BE, stream id u32 BE, length u32 BE.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { YamuxProtocolError } from "../../protocols/yamux/mod.ts";
import { decodeHeader, encodeHeader, encodeHeaderInto } from "../../protocols/yamux/codec.ts";
import { Flag, FrameType } from "../../protocols/yamux/constants.ts";
import { ProtocolError } from "../../src/errors.ts";

const vectors: { name: string; bytes: number[]; header: Parameters<typeof encodeHeader>[0] }[] = [
  {
    name: "Data SYN on stream 1, 5 bytes",
    bytes: [0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 5],
    header: { type: FrameType.Data, flags: Flag.SYN, streamId: 1, length: 5 },
  },
  {
    name: "WindowUpdate ACK|FIN on stream 0x01020304, delta 256 KiB",
    bytes: [0, 1, 0, 6, 1, 2, 3, 4, 0, 4, 0, 0],
    header: {
      type: FrameType.WindowUpdate,
      flags: Flag.ACK | Flag.FIN,
      streamId: 0x01020304,
      length: 262144,
    },
  },
  {
    name: "Ping ACK with opaque 0xdeadbeef",
    bytes: [0, 2, 0, 2, 0, 0, 0, 0, 0xde, 0xad, 0xbe, 0xef],
    header: { type: FrameType.Ping, flags: Flag.ACK, streamId: 0, length: 0xdeadbeef },
  },
  {
    name: "GoAway protocol error",
    bytes: [0, 3, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1],
    header: { type: FrameType.GoAway, flags: 0, streamId: 0, length: 1 },
  },
  {
    name: "RST on the largest stream id with the largest length and all flag bits",
    bytes: [0, 1, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff],
    header: {
      type: FrameType.WindowUpdate,
      flags: 0xffff,
      streamId: 0xffffffff,
      length: 0xffffffff,
    },
  },
];

describe("yamux codec", () => {
  for (const v of vectors) {
    it(`encodes and decodes: ${v.name}`, () => {
      assert.deepEqual([...encodeHeader(v.header)], v.bytes);
      assert.deepEqual(decodeHeader(new Uint8Array(v.bytes)), v.header);
    });
  }

  it("decodes at an offset and encodes into a buffer in place", () => {
    const buf = new Uint8Array(20).fill(0xaa);
    encodeHeaderInto(buf, 5, FrameType.Data, Flag.FIN, 7, 300);
    assert.deepEqual([...buf.subarray(5, 17)], [0, 0, 0, 4, 0, 0, 0, 7, 0, 0, 1, 44]);
    assert.equal(buf[4], 0xaa);
    assert.equal(buf[17], 0xaa);
    assert.deepEqual(decodeHeader(buf, 5), {
      type: FrameType.Data,
      flags: Flag.FIN,
      streamId: 7,
      length: 300,
    });
  });

  it("returns undefined when fewer than 12 bytes are available", () => {
    assert.equal(decodeHeader(new Uint8Array(0)), undefined);
    assert.equal(decodeHeader(new Uint8Array(11)), undefined);
    assert.equal(decodeHeader(new Uint8Array(14), 3), undefined);
  });

  it("rejects a version other than 0 with a YamuxProtocolError", () => {
    const err = assert.throws(
      () => decodeHeader(new Uint8Array([1, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0])),
      (e: unknown) => e instanceof YamuxProtocolError && e instanceof ProtocolError && e.code === 1,
    );
    void err;
  });

  it("rejects an unknown frame type", () => {
    for (const type of [4, 5, 0x80, 0xff]) {
      assert.throws(
        () => decodeHeader(new Uint8Array([0, type, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0])),
        YamuxProtocolError,
      );
    }
  });

  it("range-checks fields when encoding", () => {
    const ok = { type: FrameType.Data, flags: 0, streamId: 1, length: 0 };
    assert.throws(() => encodeHeader({ ...ok, flags: 0x10000 }), RangeError);
    assert.throws(() => encodeHeader({ ...ok, streamId: 2 ** 32 }), RangeError);
    assert.throws(() => encodeHeader({ ...ok, length: -1 }), RangeError);
    assert.throws(() => encodeHeader({ ...ok, length: 1.5 }), RangeError);
    assert.throws(() => encodeHeader({ ...ok, type: 4 as 0 }), RangeError);
  });
});
