/**
 * DHT message codec: byte-exact vectors hand-built from the field numbers of go-libp2p-kad-dht
 * `pb/dht.proto` (proto3) and go-libp2p-record `pb/record.proto`, as quoted in libp2p/specs
 * `kad-dht/README.md` §RPC messages; round trips; proto3 defaults; unknown fields; caps on peers
 * and addresses; framing with the length checked before the body.
 */

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { fromHex, toHex, utf8Encode } from "../../src/bytes.ts";
import { DecodeError, LimitExceededError } from "../../src/errors.ts";
import { ProtobufWriter } from "../../src/protobuf.ts";
import { encodeUvarint } from "../../src/varint.ts";
import {
  ConnectionType,
  decodeFrame,
  decodeMessage,
  decodeRecord,
  encodeFrame,
  encodeMessage,
  FrameDecoder,
  type KadMessage,
  MessageType,
} from "../../protocols/kad-dht/codec.ts";
import {
  MAX_ADDRS_PER_PEER,
  MAX_CLOSER_PEERS_PER_MESSAGE,
  MAX_MESSAGE_BYTES,
  MAX_PROVIDER_PEERS_PER_MESSAGE,
} from "../../protocols/kad-dht/constants.ts";

const empty = (type: KadMessage["type"]): KadMessage => ({
  type,
  closerPeers: [],
  providerPeers: [],
});

// /ip4/127.0.0.1/tcp/4001: ip4 (0x04) 7f000001, tcp (0x06) 0x0fa1 (multiaddr table codes).
const ADDR = fromHex("047f000001060fa1");
const ID = fromHex("000107"); // arbitrary id bytes: the codec treats ids as opaque

describe("kad-dht codec: byte-exact vectors", () => {
  it("PING is field 1 varint 5, framed with a one-byte prefix", () => {
    // key (1 << 3 | 0) = 0x08, value 0x05; frame prefix 0x02.
    assert.equal(toHex(encodeMessage(empty(MessageType.PING))), "0805");
    assert.equal(toHex(encodeFrame(empty(MessageType.PING))), "020805");
  });

  it("PUT_VALUE omits the type (proto3 default) and nests the record in field 3", () => {
    const msg: KadMessage = {
      ...empty(MessageType.PUT_VALUE),
      key: utf8Encode("k"),
      record: { key: utf8Encode("k"), value: utf8Encode("v") },
    };
    // key: 0x12 len 1 'k'; record: 0x1a len 6 { 0x0a 01 'k', 0x12 01 'v' }.
    const hex = "12016b" + "1a06" + "0a016b" + "120176";
    assert.equal(toHex(encodeMessage(msg)), hex);
    const back = decodeMessage(fromHex(hex));
    assert.equal(back.type, MessageType.PUT_VALUE);
    assert.deepEqual(back.key, utf8Encode("k"));
    assert.deepEqual(back.record?.value, utf8Encode("v"));
  });

  it("FIND_NODE response carries closerPeers in field 8 with id, addrs and connection", () => {
    const msg: KadMessage = {
      ...empty(MessageType.FIND_NODE),
      key: fromHex("aabb"),
      closerPeers: [{ id: ID, addrs: [ADDR], connection: ConnectionType.CONNECTED }],
    };
    // peer: 0x0a 03 id, 0x12 08 addr, 0x18 01 -> 17 bytes (0x11); field 8 LEN key = 0x42.
    const peer = "0a03000107" + "1208047f000001060fa1" + "1801";
    const hex = "0804" + "1202aabb" + "4211" + peer;
    assert.equal(toHex(encodeMessage(msg)), hex);
    assert.deepEqual(decodeMessage(fromHex(hex)), msg);
  });

  it("GET_PROVIDERS response carries providerPeers in field 9 (0x4a), NOT_CONNECTED omitted", () => {
    const msg: KadMessage = {
      ...empty(MessageType.GET_PROVIDERS),
      key: fromHex("1220"),
      providerPeers: [{ id: ID, addrs: [], connection: ConnectionType.NOT_CONNECTED }],
    };
    const hex = "0803" + "12021220" + "4a05" + "0a03000107";
    assert.equal(toHex(encodeMessage(msg)), hex);
    assert.deepEqual(decodeMessage(fromHex(hex)), msg);
  });

  it("a record's timeReceived is field 5; retired author (3) and signature (4) are skipped", () => {
    // 0x0a 01 'k', 0x12 01 'v', 0x1a 01 'a' (author), 0x22 01 's' (signature), 0x2a 04 "2026".
    const rec = decodeRecord(fromHex("0a016b120176" + "1a0161" + "220173" + "2a0432303236"));
    assert.deepEqual(rec, {
      key: utf8Encode("k"),
      value: utf8Encode("v"),
      timeReceived: "2026",
    });
  });
});

describe("kad-dht codec: decoding rules", () => {
  it("an empty body is a PUT_VALUE with nothing set", () => {
    assert.deepEqual(decodeMessage(new Uint8Array(0)), empty(MessageType.PUT_VALUE));
  });

  it("round-trips every message type", () => {
    for (const type of Object.values(MessageType)) {
      const msg: KadMessage = {
        type,
        key: fromHex("01020304"),
        record: { key: fromHex("01"), value: fromHex("0203"), timeReceived: "t" },
        closerPeers: [{ id: fromHex("1220aa"), addrs: [ADDR, ADDR], connection: 2 }],
        providerPeers: [{ id: fromHex("0024bb"), addrs: [ADDR], connection: 3 }],
      };
      assert.deepEqual(decodeMessage(encodeMessage(msg)), msg);
    }
  });

  it("skips clusterLevelRaw and unknown fields of every wire type", () => {
    const w = new ProtobufWriter()
      .uint(1, 4)
      .uint(10, 7) // clusterLevelRaw
      .fixed64(11, 1n)
      .bytes(12, fromHex("ffff"))
      .bytes(2, fromHex("aa"));
    const msg = decodeMessage(w.finish());
    assert.equal(msg.type, MessageType.FIND_NODE);
    assert.deepEqual(msg.key, fromHex("aa"));
  });

  it("rejects an unknown message type", () => {
    assert.throws(() => decodeMessage(fromHex("0806")), DecodeError);
    assert.throws(() => decodeMessage(fromHex("08ffffffffffffffffff01")), DecodeError);
  });

  it("rejects truncated input and wrong wire types", () => {
    assert.throws(() => decodeMessage(fromHex("1205aabb")), DecodeError);
    assert.throws(() => decodeMessage(fromHex("08")), DecodeError);
    assert.throws(() => decodeMessage(fromHex("0a0104")), DecodeError); // type as bytes
    assert.throws(() => decodeMessage(fromHex("4203" + "0a05aa")), DecodeError); // bad peer
  });

  it("maps an unknown connection type to NOT_CONNECTED (open proto3 enum)", () => {
    const msg = decodeMessage(fromHex("0804" + "4207" + "0a03000107" + "1809"));
    assert.equal(msg.closerPeers[0].connection, ConnectionType.NOT_CONNECTED);
  });

  it("drops peers with an empty or oversized id, and oversized addresses", () => {
    const w = new ProtobufWriter().uint(1, 4);
    w.message(8, new ProtobufWriter().bytes(2, ADDR)); // no id
    w.message(8, new ProtobufWriter().bytes(1, new Uint8Array(65)));
    w.message(8, new ProtobufWriter().bytes(1, ID).bytes(2, new Uint8Array(1025)).bytes(2, ADDR));
    const msg = decodeMessage(w.finish());
    assert.equal(msg.closerPeers.length, 1);
    assert.deepEqual(msg.closerPeers[0].addrs, [ADDR]);
  });

  it("truncates a response that lists thousands of peers to the caps", () => {
    const w = new ProtobufWriter().uint(1, 3);
    const peer = new ProtobufWriter().bytes(1, ID);
    for (let i = 0; i < 40; i++) peer.bytes(2, ADDR);
    const peerBytes = peer.finish();
    for (let i = 0; i < 3000; i++) w.bytes(8, peerBytes).bytes(9, peerBytes);
    const bytes = w.finish();
    assert.ok(bytes.byteLength < MAX_MESSAGE_BYTES);
    const msg = decodeMessage(bytes);
    assert.equal(msg.closerPeers.length, MAX_CLOSER_PEERS_PER_MESSAGE);
    assert.equal(msg.providerPeers.length, MAX_PROVIDER_PEERS_PER_MESSAGE);
    assert.equal(msg.closerPeers[0].addrs.length, MAX_ADDRS_PER_PEER);
  });

  it("copies peer ids and addresses out of the input", () => {
    const bytes = encodeMessage({
      ...empty(MessageType.FIND_NODE),
      closerPeers: [{ id: ID, addrs: [ADDR], connection: 0 }],
    });
    const msg = decodeMessage(bytes);
    bytes.fill(0);
    assert.deepEqual(msg.closerPeers[0].id, ID);
    assert.deepEqual(msg.closerPeers[0].addrs[0], ADDR);
  });
});

describe("kad-dht codec: framing", () => {
  it("rejects an oversized declared length before the body arrives", () => {
    const prefix = encodeUvarint(MAX_MESSAGE_BYTES + 1);
    assert.throws(() => decodeFrame(prefix), LimitExceededError);
    const d = new FrameDecoder();
    d.push(prefix);
    assert.throws(() => d.next(), LimitExceededError);
    assert.throws(() => decodeFrame(fromHex("ffffffffff")), LimitExceededError);
    assert.throws(() => decodeMessage(new Uint8Array(MAX_MESSAGE_BYTES + 1)), LimitExceededError);
  });

  it("rejects a non-minimal length prefix", () => {
    assert.throws(() => decodeFrame(fromHex("8200" + "0805")), DecodeError);
  });

  it("reassembles many frames from byte-sized chunks, including an empty body", () => {
    const frames = [
      encodeFrame(empty(MessageType.PING)),
      new Uint8Array([0]),
      encodeFrame({ ...empty(MessageType.GET_VALUE), key: new Uint8Array(300).fill(7) }),
    ];
    const all = new Uint8Array(frames.reduce((n, f) => n + f.byteLength, 0));
    let at = 0;
    for (const f of frames) {
      all.set(f, at);
      at += f.byteLength;
    }
    const d = new FrameDecoder();
    const out: Uint8Array[] = [];
    for (const b of all) {
      d.push(new Uint8Array([b]));
      for (let m = d.next(); m !== undefined; m = d.next()) out.push(m);
    }
    assert.equal(out.length, 3);
    assert.equal(decodeMessage(out[0]).type, MessageType.PING);
    assert.equal(out[1].byteLength, 0);
    assert.equal(decodeMessage(out[2]).key?.byteLength, 300);
    assert.equal(d.buffered, 0);
    // Same bytes in one chunk, and through decodeFrame.
    d.push(all);
    let n = 0;
    while (d.next() !== undefined) n++;
    assert.equal(n, 3);
    assert.equal(decodeFrame(all)?.consumed, 3);
    assert.equal(decodeFrame(all.subarray(0, 2)), undefined);
  });
});

describe("kad-dht codec: malformed input", () => {
  it("random and mutated bytes only ever raise DecodeError or LimitExceededError", () => {
    let seed = 12345;
    const rand = (n: number): number => {
      seed = (seed * 1103515245 + 12345) >>> 0;
      return seed % n;
    };
    const valid = encodeMessage({
      type: MessageType.GET_PROVIDERS,
      key: fromHex("12200102"),
      record: { key: fromHex("01"), value: fromHex("0203"), timeReceived: "t" },
      closerPeers: [{ id: ID, addrs: [ADDR], connection: 1 }],
      providerPeers: [{ id: ID, addrs: [ADDR, ADDR], connection: 2 }],
    });
    for (let i = 0; i < 5000; i++) {
      let input: Uint8Array;
      if (i % 2 === 0) {
        input = new Uint8Array(rand(64));
        for (let j = 0; j < input.length; j++) input[j] = rand(256);
      } else {
        input = valid.slice(0, 1 + rand(valid.length));
        for (let m = 0; m < 3; m++) input[rand(input.length)] = rand(256);
      }
      try {
        decodeMessage(input);
      } catch (err) {
        assert.ok(err instanceof DecodeError || err instanceof LimitExceededError, String(err));
      }
    }
  });
});
