/**
 * Circuit relay v2 codec: byte-exact vectors written from the spec's schema, decoding limits,
 * and cross-checks against js-libp2p's protons codec (@libp2p/circuit-relay-v2 4.2.13) both ways.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { fromHex, toHex } from "../../src/bytes.ts";
import { DecodeError, LimitExceededError } from "../../src/errors.ts";
import { ProtobufWriter } from "../../src/protobuf.ts";
import { ByteReader } from "../../src/stream/byte_reader.ts";
import { channelPair } from "../../src/stream/pair.ts";
import { encodeUvarint } from "../../src/varint.ts";
import {
  decodeHopMessage,
  decodeStopMessage,
  encodeFrame,
  encodeHopMessage,
  encodeStopMessage,
  type HopMessage,
  HopType,
  MAX_ADDRS,
  MAX_MESSAGE_BYTES,
  readHopMessage,
  readStopMessage,
  Status,
  statusName,
  StopType,
} from "../../protocols/circuit-relay/codec.ts";
import {
  HopMessage as JsHop,
  StopMessage as JsStop,
} from "../../node_modules/@libp2p/circuit-relay-v2/dist/src/pb/index.js";

const ID = new Uint8Array([1, 2, 3]);
const ADDR = new Uint8Array([4, 127, 0, 0, 1]);

/** An envelope as js's schema decodes it: public_key, payload_type, payload (a voucher), signature. */
function fakeEnvelope(): Uint8Array {
  const voucher = new ProtobufWriter().bytes(1, ID).bytes(2, ID).uint(3, 1000).finish();
  return new ProtobufWriter()
    .bytes(1, new Uint8Array([8, 1, 18, 1, 7]))
    .bytes(2, new Uint8Array([3, 2]))
    .bytes(3, voucher)
    .bytes(5, new Uint8Array([0xaa, 0xbb]))
    .finish();
}

function chunks(...parts: Uint8Array[]): ReadableStream<Uint8Array> {
  return new ReadableStream({
    start(c) {
      for (const p of parts) c.enqueue(p);
      c.close();
    },
  });
}

function frames(...bodies: Uint8Array[]): ReadableStream<Uint8Array> {
  return chunks(...bodies.map((b) => encodeFrame(b)));
}

describe("circuit-relay codec: byte-exact", () => {
  it("encodes RESERVE and CONNECT", () => {
    assert.equal(toHex(encodeHopMessage({ type: HopType.RESERVE })), "0800");
    assert.equal(
      toHex(encodeHopMessage({ type: HopType.CONNECT, peer: { id: ID, addrs: [] } })),
      "080112050a03010203",
    );
  });

  it("encodes a reservation answer with every field", () => {
    const m: HopMessage = {
      type: HopType.STATUS,
      reservation: { expire: 1000n, addrs: [ADDR], voucher: new Uint8Array([9, 9]) },
      limit: { duration: 120, data: 131072n },
      status: Status.OK,
    };
    const hex = "0802" + "1a0e" + "08e807" + "1205047f000001" + "1a020909" +
      "2206" + "0878" + "10808008" + "2864";
    assert.equal(toHex(encodeHopMessage(m)), hex);
    assert.deepEqual(decodeHopMessage(fromHex(hex)), m);
  });

  it("encodes STOP CONNECT and STATUS", () => {
    const connect = {
      type: StopType.CONNECT,
      peer: { id: ID, addrs: [ADDR] },
      limit: { duration: 120 },
    };
    const hex = "0800" + "120c0a03010203" + "1205047f000001" + "1a020878";
    assert.equal(toHex(encodeStopMessage(connect)), hex);
    assert.deepEqual(decodeStopMessage(fromHex(hex)), connect);
    assert.equal(toHex(encodeStopMessage({ type: StopType.STATUS, status: 100 })), "08012064");
  });

  it("writes zero values that are present (proto2 / proto3 optional)", () => {
    assert.equal(
      toHex(encodeHopMessage({ type: HopType.STATUS, limit: { duration: 0, data: 0n } })),
      "0802" + "22040800" + "1000",
    );
    assert.equal(toHex(encodeHopMessage({ type: HopType.STATUS, limit: {} })), "08022200");
  });

  it("status codes are the spec's", () => {
    assert.deepEqual(Status, {
      UNUSED: 0,
      OK: 100,
      RESERVATION_REFUSED: 200,
      RESOURCE_LIMIT_EXCEEDED: 201,
      PERMISSION_DENIED: 202,
      CONNECTION_FAILED: 203,
      NO_RESERVATION: 204,
      MALFORMED_MESSAGE: 400,
      UNEXPECTED_MESSAGE: 401,
    });
    assert.equal(statusName(204), "NO_RESERVATION");
    assert.equal(statusName(7), "7");
  });
});

describe("circuit-relay codec: malformed input", () => {
  it("rejects a missing or unknown type", () => {
    assert.throws(() => decodeHopMessage(new Uint8Array()), DecodeError);
    assert.throws(() => decodeHopMessage(fromHex("0803")), DecodeError);
    assert.throws(() => decodeStopMessage(fromHex("0802")), DecodeError);
  });

  it("rejects a peer without an id and a reservation without expire", () => {
    assert.throws(() => decodeHopMessage(fromHex("0801" + "1200")), DecodeError);
    assert.throws(() => decodeHopMessage(fromHex("0802" + "1a00")), DecodeError);
  });

  it("rejects a wrong wire type and truncated fields", () => {
    assert.throws(() => decodeHopMessage(fromHex("0a00")), DecodeError);
    assert.throws(() => decodeHopMessage(fromHex("0801" + "1205" + "0a03")), DecodeError);
  });

  it("keeps unknown status codes and skips unknown fields", () => {
    const m = decodeHopMessage(fromHex("0802" + "28e707" + "3a0101" + "4801"));
    assert.equal(m.status, 999);
  });

  it("caps repeated addresses", () => {
    const w = new ProtobufWriter().bytes(1, ID);
    for (let i = 0; i < MAX_ADDRS + 50; i++) w.bytes(2, ADDR);
    const m = decodeHopMessage(
      new ProtobufWriter().uint(1, 1).message(2, w.finish()).finish(),
    );
    assert.equal(m.peer?.addrs.length, MAX_ADDRS);
  });

  it("copies ids and addresses out of the input", () => {
    const bytes = fromHex("0801120c0a030102031205047f000001");
    const m = decodeHopMessage(bytes);
    bytes.fill(0);
    assert.deepEqual(m.peer, { id: ID, addrs: [ADDR] });
  });
});

describe("circuit-relay codec: framing", () => {
  it("frames and reads messages one at a time, leaving the rest unread", async () => {
    const stream = chunks(
      encodeFrame(encodeHopMessage({ type: HopType.RESERVE })),
      encodeFrame(encodeStopMessage({ type: StopType.STATUS, status: Status.OK })),
      new Uint8Array([0xde, 0xad]),
    );
    const reader = new ByteReader(stream);
    assert.equal((await readHopMessage(reader)).type, HopType.RESERVE);
    assert.equal((await readStopMessage(reader)).status, Status.OK);
    assert.deepEqual(await reader.readExactly(2), new Uint8Array([0xde, 0xad]));
  });

  it("hands the bytes after the message back with restChannel", async () => {
    const [a, b] = channelPair();
    const frame = encodeFrame(encodeHopMessage({ type: HopType.RESERVE }));
    const joined = new Uint8Array([...frame, 7, 8]);
    a.channel.write(joined);
    const reader = new ByteReader(b.channel);
    assert.equal((await readHopMessage(reader)).type, HopType.RESERVE);
    const rest = reader.restChannel();
    assert.deepEqual(await rest.read(), new Uint8Array([7, 8]));
  });

  it("refuses an oversized declared length before reading the body", async () => {
    let pulled = 0;
    const stream = new ReadableStream<Uint8Array>({
      pull(c) {
        pulled++;
        if (pulled === 1) c.enqueue(encodeUvarint(MAX_MESSAGE_BYTES + 1));
        else c.enqueue(new Uint8Array(1024));
      },
    }, { highWaterMark: 0 });
    await assert.rejects(readHopMessage(new ByteReader(stream)), LimitExceededError);
    assert.equal(pulled, 1);
  });

  it("accepts exactly MAX_MESSAGE_BYTES and refuses to send more", async () => {
    const pad = new Uint8Array(MAX_MESSAGE_BYTES - 2 - 3); // 08 00 + 3a <len 2 bytes> + pad
    const body = new ProtobufWriter().uint(1, 0).bytes(7, pad).finish();
    assert.equal(body.byteLength, MAX_MESSAGE_BYTES);
    assert.equal((await readHopMessage(new ByteReader(frames(body)))).type, 0);
    assert.throws(() => encodeFrame(new Uint8Array(MAX_MESSAGE_BYTES + 1)), LimitExceededError);
  });

  it("a stream ending inside a message is a DecodeError", async () => {
    const frame = encodeFrame(encodeHopMessage({ type: HopType.RESERVE }));
    const stream = chunks(frame.subarray(0, 2));
    await assert.rejects(readHopMessage(new ByteReader(stream)), DecodeError);
  });
});

describe("circuit-relay codec: js-libp2p cross-check", () => {
  it("js decodes what we encode", () => {
    const envelope = fakeEnvelope();
    const ours = encodeHopMessage({
      type: HopType.STATUS,
      reservation: { expire: 1_700_000_000n, addrs: [ADDR], voucher: envelope },
      limit: { duration: 120, data: 131072n },
      status: Status.OK,
    });
    const js = JsHop.decode(ours);
    assert.equal(js.type, "STATUS");
    assert.equal(js.status, "OK");
    assert.equal(js.reservation?.expire, 1_700_000_000n);
    assert.deepEqual(js.reservation?.addrs.map((a: Uint8Array) => [...a]), [[...ADDR]]);
    assert.equal(js.reservation?.voucher?.payload.expiration, 1000n);
    assert.equal(js.limit?.duration, 120);
    assert.equal(js.limit?.data, 131072n);
    // Re-encoded by js, the bytes are the same.
    assert.equal(toHex(JsHop.encode(js)), toHex(ours));

    const stop = encodeStopMessage({
      type: StopType.CONNECT,
      peer: { id: ID, addrs: [ADDR] },
      limit: { duration: 120, data: 131072n },
    });
    const jsStop = JsStop.decode(stop);
    assert.equal(jsStop.type, "CONNECT");
    assert.deepEqual([...jsStop.peer!.id], [...ID]);
    assert.equal(toHex(JsStop.encode(jsStop)), toHex(stop));
  });

  it("we decode what js encodes", () => {
    const connect = JsHop.encode({ type: "CONNECT", peer: { id: ID, addrs: [ADDR] } });
    assert.deepEqual(decodeHopMessage(connect), {
      type: HopType.CONNECT,
      peer: { id: ID, addrs: [ADDR] },
    });
    assert.deepEqual(decodeHopMessage(JsHop.encode({ type: "RESERVE" })), {
      type: HopType.RESERVE,
    });
    const refused = JsHop.encode({ type: "STATUS", status: "RESERVATION_REFUSED" });
    assert.equal(decodeHopMessage(refused).status, Status.RESERVATION_REFUSED);
    for (const name of Object.keys(Status) as (keyof typeof Status)[]) {
      if (name === "UNUSED") continue;
      const bytes = JsStop.encode({ type: "STATUS", status: name });
      assert.equal(decodeStopMessage(bytes).status, Status[name], name);
    }
    const stop = JsStop.encode({
      type: "CONNECT",
      peer: { id: ID, addrs: [] },
      limit: { duration: 60, data: 1n << 40n },
    });
    assert.deepEqual(decodeStopMessage(stop), {
      type: StopType.CONNECT,
      peer: { id: ID, addrs: [] },
      limit: { duration: 60, data: 1n << 40n },
    });
  });
});
