/**
 * identify message codec: round trips, field 8, truncation, caps, trimming our own message to
 * the 4 KiB write limit, merging, and a cross-check against js-libp2p's protobuf definition of
 * the message (@libp2p/identify 4.1.14, dev dependency).
 */

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { Identify as JsIdentify } from "../../node_modules/@libp2p/identify/dist/src/pb/message.js";
import { DecodeError, LimitExceededError } from "../../src/errors.ts";
import { multiaddr } from "../../src/multiaddr/mod.ts";
import { ProtobufWriter } from "../../src/protobuf.ts";
import { encodeUvarint } from "../../src/varint.ts";
import {
  decodeIdentify,
  decodeIdentifyFrame,
  encodeIdentify,
  encodeIdentifyFrame,
  fitIdentify,
  identifyEncodedLength,
  type IdentifyMessage,
  mergeIdentify,
} from "../../protocols/identify/codec.ts";
import {
  MAX_IDENTIFY_MESSAGE_BYTES,
  MAX_IDENTIFY_WRITE_BYTES,
  MAX_LISTEN_ADDRS,
  MAX_PROTOCOLS,
} from "../../protocols/identify/constants.ts";

function full(): IdentifyMessage {
  return {
    publicKey: new Uint8Array([8, 1, 18, 32, ...new Uint8Array(32).fill(7)]),
    listenAddrs: [
      multiaddr("/ip4/192.0.2.1/tcp/4001").bytes,
      multiaddr("/ip6/2001:db8::1/udp/4001/quic-v1").bytes,
    ],
    protocols: ["/ipfs/id/1.0.0", "/ipfs/ping/1.0.0", "/ünïcode/1"],
    observedAddr: multiaddr("/ip4/198.51.100.7/tcp/55555").bytes,
    protocolVersion: "ipfs/0.1.0",
    agentVersion: "p2p-edge-libp2p/0.1.0 (test)",
    signedPeerRecord: new Uint8Array([1, 2, 3, 4, 5]),
  };
}

describe("identify codec", () => {
  it("round-trips every field", () => {
    const m = full();
    const body = encodeIdentify(m);
    assert.equal(body.byteLength, identifyEncodedLength(m));
    const { message, droppedListenAddrs, droppedProtocols } = decodeIdentify(body);
    assert.deepEqual(message, m);
    assert.equal(droppedListenAddrs, 0);
    assert.equal(droppedProtocols, 0);
  });

  it("writes fields in field-number order, the signed record as field 8", () => {
    const body = encodeIdentify(full());
    const r = [];
    for (let i = 0; i < body.byteLength;) {
      const key = body[i];
      r.push(key >> 3);
      const len = body[i + 1]; // every value here is shorter than 128 bytes
      i += 2 + len;
    }
    assert.deepEqual(r, [1, 2, 2, 3, 3, 3, 4, 5, 6, 8]);
    assert.equal(body[body.byteLength - 7], 0x42); // field 8, wire type 2
  });

  it("an empty message is one zero byte on the wire", () => {
    assert.deepEqual(encodeIdentifyFrame({ listenAddrs: [], protocols: [] }), new Uint8Array([0]));
    assert.deepEqual(decodeIdentifyFrame(new Uint8Array([0]))?.message, {
      listenAddrs: [],
      protocols: [],
    });
  });

  it("every truncated frame needs more bytes; truncated bodies are DecodeError or shorter", () => {
    const frame = encodeIdentifyFrame(full());
    for (let i = 0; i < frame.byteLength; i++) {
      assert.equal(decodeIdentifyFrame(frame.subarray(0, i)), undefined, `prefix ${i}`);
    }
    assert.equal(decodeIdentifyFrame(frame)?.length, frame.byteLength);
    const body = encodeIdentify(full());
    let errors = 0;
    for (let i = 1; i < body.byteLength; i++) {
      try {
        const { message } = decodeIdentify(body.subarray(0, i));
        // A cut on a field boundary is a valid, shorter message: never the whole one.
        assert.notDeepEqual(message, full());
      } catch (err) {
        assert.ok(err instanceof DecodeError, `prefix ${i}: ${err}`);
        errors++;
      }
    }
    assert.ok(errors > body.byteLength / 2);
  });

  it("a length prefix above the read limit is refused before the body arrives", () => {
    const prefix = encodeUvarint(MAX_IDENTIFY_MESSAGE_BYTES + 1);
    assert.throws(() => decodeIdentifyFrame(prefix), LimitExceededError);
    assert.equal(decodeIdentifyFrame(encodeUvarint(MAX_IDENTIFY_MESSAGE_BYTES)), undefined);
  });

  it("malformed input is a DecodeError", () => {
    // publicKey with wire type 0
    assert.throws(() => decodeIdentify(new Uint8Array([0x08, 0x01])), DecodeError);
    // protocols with invalid UTF-8
    assert.throws(() => decodeIdentify(new Uint8Array([0x1a, 0x02, 0xc3, 0x28])), DecodeError);
    // agentVersion with invalid UTF-8
    assert.throws(() => decodeIdentify(new Uint8Array([0x32, 0x01, 0xff])), DecodeError);
    // length past the end
    assert.throws(() => decodeIdentify(new Uint8Array([0x12, 0x05, 0x04])), DecodeError);
    // field 0
    assert.throws(() => decodeIdentify(new Uint8Array([0x02, 0x00])), DecodeError);
    // varint longer than 10 bytes
    assert.throws(() => decodeIdentify(new Uint8Array(12).fill(0xff)), DecodeError);
  });

  it("skips unknown fields and keeps the last of a repeated scalar", () => {
    const body = new ProtobufWriter()
      .string(6, "first")
      .uint(7, 99) // unknown field 7 (varint)
      .bytes(9, new Uint8Array([1, 2])) // unknown field 9
      .string(6, "second")
      .finish();
    assert.equal(decodeIdentify(body).message.agentVersion, "second");
  });

  it("caps protocols and addresses by count and entry length, counting what it drops", () => {
    const w = new ProtobufWriter();
    for (let i = 0; i < MAX_PROTOCOLS + 50; i++) w.string(3, `/p/${i}`);
    w.string(3, "/" + "x".repeat(2000)); // longer than any protocol id may be
    for (let i = 0; i < MAX_LISTEN_ADDRS + 10; i++) {
      w.bytes(2, multiaddr(`/ip4/10.0.0.1/tcp/${i + 1}`).bytes);
    }
    const decoded = decodeIdentify(w.finish());
    assert.equal(decoded.message.protocols.length, MAX_PROTOCOLS);
    assert.equal(decoded.message.protocols[MAX_PROTOCOLS - 1], `/p/${MAX_PROTOCOLS - 1}`);
    assert.equal(decoded.droppedProtocols, 51);
    assert.equal(decoded.message.listenAddrs.length, MAX_LISTEN_ADDRS);
    assert.equal(decoded.droppedListenAddrs, 10);
    const small = decodeIdentify(w.finish(), { maxProtocols: 3, maxListenAddrs: 1 });
    assert.deepEqual(small.message.protocols, ["/p/0", "/p/1", "/p/2"]);
    assert.equal(small.message.listenAddrs.length, 1);
  });

  it("fitIdentify trims our message to the write limit, from the end", () => {
    const protocols = Array.from({ length: 400 }, (_, i) => `/app/protocol/${i}/1.0.0`);
    const listenAddrs = Array.from(
      { length: 200 },
      (_, i) => multiaddr(`/ip4/192.0.2.${i % 250}/tcp/${4000 + i}`).bytes,
    );
    const m: IdentifyMessage = { ...full(), protocols, listenAddrs };
    const fitted = fitIdentify(m, MAX_IDENTIFY_WRITE_BYTES);
    const body = encodeIdentify(fitted.message);
    assert.ok(body.byteLength <= MAX_IDENTIFY_WRITE_BYTES);
    assert.ok(body.byteLength > MAX_IDENTIFY_WRITE_BYTES - 64); // not trimmed more than needed
    assert.equal(fitted.message.protocols.length, 400 - fitted.droppedProtocols);
    assert.equal(fitted.message.listenAddrs.length, 200 - fitted.droppedListenAddrs);
    assert.deepEqual(fitted.message.protocols, protocols.slice(0, fitted.message.protocols.length));
    assert.equal(fitted.droppedSignedPeerRecord, false);
    assert.equal(m.protocols.length, 400, "input not changed");
    // Nothing to trim: returned as is.
    const small = fitIdentify(full(), MAX_IDENTIFY_WRITE_BYTES);
    assert.deepEqual(small.message, full());
    // Fixed fields alone too big.
    assert.throws(
      () => fitIdentify({ listenAddrs: [], protocols: [], agentVersion: "x".repeat(100) }, 50),
      RangeError,
    );
  });

  it("mergeIdentify: later scalars win, lists appended, protocols deduplicated", () => {
    const a = multiaddr("/ip4/192.0.2.1/tcp/1").bytes;
    const b = multiaddr("/ip4/192.0.2.2/tcp/2").bytes;
    const merged = mergeIdentify([
      { listenAddrs: [a], protocols: ["/x", "/y"], agentVersion: "one" },
      { listenAddrs: [b], protocols: ["/y", "/z"], signedPeerRecord: new Uint8Array([9]) },
    ]);
    assert.deepEqual(merged.listenAddrs, [a, b]);
    assert.deepEqual(merged.protocols, ["/x", "/y", "/z"]);
    assert.equal(merged.agentVersion, "one");
    assert.deepEqual(merged.signedPeerRecord, new Uint8Array([9]));
    const capped = mergeIdentify([{ listenAddrs: [a, b], protocols: ["/1", "/2"] }], {
      maxListenAddrs: 1,
      maxProtocols: 1,
    });
    assert.equal(capped.listenAddrs.length, 1);
    assert.deepEqual(capped.protocols, ["/1"]);
  });

  it("js-libp2p's Identify definition decodes our bytes and we decode its bytes", () => {
    const m = full();
    const js = JsIdentify.decode(encodeIdentify(m));
    assert.deepEqual(js.publicKey, m.publicKey);
    assert.deepEqual(js.listenAddrs, m.listenAddrs);
    assert.deepEqual(js.protocols, m.protocols);
    assert.deepEqual(js.observedAddr, m.observedAddr);
    assert.equal(js.protocolVersion, m.protocolVersion);
    assert.equal(js.agentVersion, m.agentVersion);
    assert.deepEqual(js.signedPeerRecord, m.signedPeerRecord);
    const back = decodeIdentify(JsIdentify.encode(js)).message;
    assert.deepEqual(back, m);
  });
});
