// mplex codec: hand-built vectors from libp2p/specs mplex/README.md "Message format"
// (header = uvarint(id << 3 | flag), then uvarint(length), then the data).
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { fromHex, toHex } from "../../src/bytes.ts";
import { MplexProtocolError } from "../../protocols/mplex/mod.ts";
import {
  decodeHeader,
  decodeMessage,
  encodedLength,
  encodeMessage,
} from "../../protocols/mplex/codec.ts";
import {
  MAX_MESSAGE_SIZE,
  MplexFlag,
  type MplexFlagValue,
} from "../../protocols/mplex/constants.ts";

interface Vector {
  name: string;
  id: number;
  flag: MplexFlagValue;
  data: string; // hex
  wire: string; // hex
}

// Each wire form worked out by hand from the spec's formula.
const VECTORS: Vector[] = [
  // NewStream for stream 0 named "0": header 0<<3|0 = 0x00, length 1, "0" = 0x30.
  { name: "NewStream 0 named '0'", id: 0, flag: MplexFlag.NewStream, data: "30", wire: "000130" },
  // MessageInitiator on stream 1 carrying "hi": 1<<3|2 = 0x0a.
  {
    name: "MessageInitiator 1 'hi'",
    id: 1,
    flag: MplexFlag.MessageInitiator,
    data: "6869",
    wire: "0a026869",
  },
  // MessageReceiver on stream 17: 17<<3|1 = 137 = varint 0x89 0x01.
  {
    name: "MessageReceiver 17 empty",
    id: 17,
    flag: MplexFlag.MessageReceiver,
    data: "",
    wire: "890100",
  },
  // CloseInitiator on stream 0: 0x04, length 0.
  { name: "CloseInitiator 0", id: 0, flag: MplexFlag.CloseInitiator, data: "", wire: "0400" },
  // CloseReceiver on stream 2: 2<<3|3 = 0x13.
  { name: "CloseReceiver 2", id: 2, flag: MplexFlag.CloseReceiver, data: "", wire: "1300" },
  // ResetReceiver on stream 3: 3<<3|5 = 29 = 0x1d.
  { name: "ResetReceiver 3", id: 3, flag: MplexFlag.ResetReceiver, data: "", wire: "1d00" },
  // ResetInitiator on stream 4: 4<<3|6 = 38 = 0x26.
  { name: "ResetInitiator 4", id: 4, flag: MplexFlag.ResetInitiator, data: "", wire: "2600" },
  // Stream 2^20 with MessageInitiator: 2^23 + 2 = 0x800002 = varint 82 80 80 04; 200 bytes of
  // 0xab: length 200 = varint c8 01.
  {
    name: "MessageInitiator 2^20, 200 bytes",
    id: 1 << 20,
    flag: MplexFlag.MessageInitiator,
    data: "ab".repeat(200),
    wire: "82808004c801" + "ab".repeat(200),
  },
];

describe("mplex codec vectors", () => {
  for (const v of VECTORS) {
    it(`encodes and decodes ${v.name}`, () => {
      const data = fromHex(v.data);
      const wire = encodeMessage(v.id, v.flag, data);
      assert.equal(toHex(wire), v.wire);
      assert.equal(encodedLength(v.id, v.flag, data.byteLength), wire.byteLength);
      const r = decodeMessage(fromHex(v.wire));
      assert.ok(r !== undefined);
      assert.equal(r.length, wire.byteLength);
      assert.equal(r.message.id, v.id);
      assert.equal(r.message.flag, v.flag);
      assert.equal(toHex(r.message.data), v.data);
    });

    it(`every truncated prefix of ${v.name} needs more bytes`, () => {
      const wire = fromHex(v.wire);
      for (let n = 0; n < wire.byteLength; n++) {
        assert.equal(decodeMessage(wire.subarray(0, n)), undefined, `prefix of ${n} bytes`);
      }
    });
  }

  it("decodes back-to-back messages at an offset, as views", () => {
    const wire = fromHex("0a026869" + "0400");
    const first = decodeMessage(wire, 0)!;
    assert.equal(first.message.data.buffer, wire.buffer); // zero-copy view
    const second = decodeMessage(wire, first.length)!;
    assert.deepEqual([second.message.id, second.message.flag, second.length], [0, 4, 2]);
  });

  it("decodeHeader reports the header length without needing the body", () => {
    const h = decodeHeader(fromHex("82808004c801"));
    assert.deepEqual(h, { id: 1 << 20, flag: 2, length: 200, headerLength: 6 });
  });

  it("accepts exactly maxMessageSize and rejects one byte more before the body arrives", () => {
    // length 1048576 = varint 80 80 40; 1048577 = 81 80 40.
    assert.equal(decodeHeader(fromHex("0a808040"))?.length, MAX_MESSAGE_SIZE);
    assert.throws(() => decodeHeader(fromHex("0a818040")), MplexProtocolError);
    // decodeMessage throws on the header alone: nothing of the body is waited for.
    assert.throws(() => decodeMessage(fromHex("0a818040")), MplexProtocolError);
    // A smaller configured limit applies too.
    assert.throws(() => decodeMessage(fromHex("0a0b"), 0, 10), MplexProtocolError);
    assert.equal(decodeMessage(fromHex("0a0a"), 0, 10), undefined); // 10 is fine, needs body
  });

  it("rejects a header varint longer than 9 bytes", () => {
    // Nine continuation bytes: no 9-byte varint can end here.
    assert.throws(() => decodeHeader(fromHex("ffffffffffffffffff")), MplexProtocolError);
    assert.throws(() => decodeMessage(fromHex("ffffffffffffffffff01")), MplexProtocolError);
    // Eight continuation bytes still need more.
    assert.equal(decodeHeader(fromHex("ffffffffffffffff")), undefined);
  });

  it("rejects a length varint longer than 9 bytes", () => {
    assert.throws(() => decodeHeader(fromHex("0a" + "80".repeat(9) + "01")), MplexProtocolError);
  });

  it("rejects the undefined flag 7", () => {
    assert.throws(() => decodeHeader(fromHex("0f00")), MplexProtocolError);
  });

  it("reads a non-minimal (padded) varint, as protobuf varints allow", () => {
    // Header 0x8a 0x00 is 10 padded to two bytes: stream 1, MessageInitiator.
    assert.deepEqual(decodeHeader(fromHex("8a0000")), {
      id: 1,
      flag: 2,
      length: 0,
      headerLength: 3,
    });
  });

  it("rejects bad arguments when encoding", () => {
    assert.throws(() => encodeMessage(-1, MplexFlag.NewStream), RangeError);
    assert.throws(() => encodeMessage(1.5, MplexFlag.NewStream), RangeError);
    assert.throws(() => encodeMessage(0, 7 as MplexFlagValue), RangeError);
  });
});
