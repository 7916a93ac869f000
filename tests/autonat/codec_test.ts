/** AutoNAT v1 and v2 codecs: round trips, wire bytes, and the bounds on hostile input. */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { DecodeError, LimitExceededError } from "../../src/errors.ts";
import { multiaddr } from "../../src/multiaddr/mod.ts";
import { ProtobufWriter } from "../../src/protobuf.ts";
import { ByteReader } from "../../src/stream/byte_reader.ts";
import {
  decodeDialBack,
  decodeDialBackResponse,
  decodeV1Message,
  decodeV2Message,
  DialStatus,
  encodeDialBack,
  encodeDialBackResponse,
  encodeV1Message,
  encodeV2Message,
  frame,
  MAX_V2_ADDRS,
  MAX_V2_MESSAGE_BYTES,
  ResponseStatus,
  V1Status,
  V1Type,
  type V2Message,
} from "../../protocols/autonat/mod.ts";

const A = multiaddr("/ip4/1.2.3.4/tcp/4001").bytes;

describe("AutoNAT v2 codec", () => {
  it("round-trips every message of the dial-request stream", () => {
    const msgs: V2Message[] = [
      { type: "dialRequest", addrs: [A, A], nonce: 0xffff_ffff_ffff_fff0n },
      { type: "dialResponse", status: ResponseStatus.OK, addrIdx: 1, dialStatus: DialStatus.OK },
      { type: "dialResponse", status: 0, addrIdx: 0, dialStatus: 0 },
      { type: "dialDataRequest", addrIdx: 2, numBytes: 30_000n },
      { type: "dialDataResponse", data: new Uint8Array(4096).fill(7) },
    ];
    for (const m of msgs) assert.deepEqual(decodeV2Message(encodeV2Message(m)), m);
  });

  it("writes the nonce as fixed64 (field 2, wire type 1) inside field 1", () => {
    const bytes = encodeV2Message({ type: "dialRequest", addrs: [], nonce: 1n });
    assert.deepEqual([...bytes], [0x0a, 9, 0x11, 1, 0, 0, 0, 0, 0, 0, 0]);
    assert.deepEqual([...encodeDialBack(1n)], [0x09, 1, 0, 0, 0, 0, 0, 0, 0]);
    assert.equal(decodeDialBack(encodeDialBack(123456789n)), 123456789n);
    assert.equal(decodeDialBackResponse(encodeDialBackResponse(0)), 0);
  });

  it("refuses a message with no known field, too many addresses, or a big data chunk", () => {
    assert.throws(() => decodeV2Message(new Uint8Array(0)), DecodeError);
    const many = new ProtobufWriter();
    for (let i = 0; i <= MAX_V2_ADDRS; i++) many.bytes(1, A);
    assert.throws(
      () => decodeV2Message(new ProtobufWriter().message(1, many).finish()),
      LimitExceededError,
    );
    const big = new ProtobufWriter().bytes(1, new Uint8Array(4097));
    assert.throws(
      () => decodeV2Message(new ProtobufWriter().message(4, big).finish()),
      LimitExceededError,
    );
  });

  it("refuses to frame, and a reader refuses to buffer, more than 8 KiB", async () => {
    assert.throws(() => frame(new Uint8Array(MAX_V2_MESSAGE_BYTES + 1)), LimitExceededError);
    // A header announcing 1 MiB: refused before any body byte is needed.
    const header = new Uint8Array([0x80, 0x80, 0x40]);
    const reader = new ByteReader(new Blob([header]).stream());
    await assert.rejects(reader.readLengthPrefixed(MAX_V2_MESSAGE_BYTES));
  });
});

describe("AutoNAT v1 codec", () => {
  it("round-trips DIAL and DIAL_RESPONSE", () => {
    const dial = { type: V1Type.DIAL, peer: { id: new Uint8Array([0, 1, 2]), addrs: [A] } };
    assert.deepEqual(decodeV1Message(encodeV1Message(dial)), dial);
    const resp = {
      type: V1Type.DIAL_RESPONSE,
      response: { status: V1Status.OK, statusText: "ok", addr: A },
    };
    assert.deepEqual(decodeV1Message(encodeV1Message(resp)), resp);
  });

  it("refuses an unknown type and too many addresses", () => {
    assert.throws(() => decodeV1Message(new ProtobufWriter().uint(1, 7).finish()), DecodeError);
    const info = new ProtobufWriter();
    for (let i = 0; i < 65; i++) info.bytes(2, A);
    const msg = new ProtobufWriter().uint(1, 0).message(2, new ProtobufWriter().message(1, info));
    assert.throws(() => decodeV1Message(msg.finish()), LimitExceededError);
  });
});
