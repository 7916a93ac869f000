/**
 * The rendezvous Message codec (libp2p/specs rendezvous/README.md "Protobuf"): round trips of
 * every type, bytes fixed by hand against the .proto, the status always written, and the
 * decoder's refusals (unknown or missing type, missing body, invalid UTF-8, too many
 * registrations, an oversized cookie).
 */

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { DecodeError, LimitExceededError } from "../../src/errors.ts";
import { ProtobufWriter } from "../../src/protobuf.ts";
import {
  decodeMessage,
  encodeFrame,
  encodeMessage,
  MAX_COOKIE_BYTES,
  MAX_DISCOVER_LIMIT,
  MessageType,
  type RendezvousMessage,
  ResponseStatus,
} from "../../protocols/rendezvous/mod.ts";

function roundTrip(m: RendezvousMessage): RendezvousMessage {
  return decodeMessage(encodeMessage(m));
}

describe("rendezvous codec", () => {
  it("round-trips REGISTER with and without a ttl", () => {
    const rec = new Uint8Array([1, 2, 3]);
    const a = roundTrip({
      type: MessageType.REGISTER,
      register: { ns: "chat", signedPeerRecord: rec, ttl: 7200n },
    });
    assert.equal(a.type, MessageType.REGISTER);
    assert.deepEqual(a.register, { ns: "chat", signedPeerRecord: rec, ttl: 7200n });
    const b = roundTrip({
      type: MessageType.REGISTER,
      register: { ns: "é", signedPeerRecord: rec },
    });
    assert.equal(b.register?.ttl, undefined);
    assert.equal(b.register?.ns, "é");
  });

  it("encodes REGISTER as the .proto says (type 0 written, fields in order)", () => {
    const bytes = encodeMessage({
      type: MessageType.REGISTER,
      register: { ns: "a", signedPeerRecord: new Uint8Array([9]), ttl: 1n },
    });
    // type=0; register (field 2, 8 bytes): ns "a", signedPeerRecord [9], ttl 1
    assert.deepEqual(bytes, new Uint8Array([8, 0, 18, 8, 10, 1, 97, 18, 1, 9, 24, 1]));
  });

  it("always writes the status of a response, OK included", () => {
    const bytes = encodeMessage({
      type: MessageType.REGISTER_RESPONSE,
      registerResponse: { status: ResponseStatus.OK, ttl: 7200n },
    });
    assert.deepEqual(bytes, new Uint8Array([8, 1, 26, 5, 8, 0, 24, 0xa0, 0x38]));
    const refused = roundTrip({
      type: MessageType.REGISTER_RESPONSE,
      registerResponse: { status: ResponseStatus.E_NOT_AUTHORIZED, statusText: "no" },
    });
    assert.deepEqual(refused.registerResponse, {
      status: 200,
      statusText: "no",
      ttl: undefined,
    });
  });

  it("round-trips UNREGISTER, DISCOVER and DISCOVER_RESPONSE", () => {
    assert.equal(
      roundTrip({ type: MessageType.UNREGISTER, unregister: { ns: "x" } }).unregister?.ns,
      "x",
    );
    const cookie = new Uint8Array([1, 2, 3, 4]);
    const d = roundTrip({
      type: MessageType.DISCOVER,
      discover: { ns: "x", limit: 10n, cookie },
    });
    assert.deepEqual(d.discover, { ns: "x", limit: 10n, cookie });
    const r = roundTrip({
      type: MessageType.DISCOVER_RESPONSE,
      discoverResponse: {
        registrations: [
          { ns: "x", signedPeerRecord: new Uint8Array([5]), ttl: 60n },
          { ns: "x", signedPeerRecord: new Uint8Array([6]), ttl: 61n },
        ],
        cookie,
        status: ResponseStatus.OK,
      },
    });
    assert.equal(r.discoverResponse?.registrations.length, 2);
    assert.equal(r.discoverResponse?.registrations[1].ttl, 61n);
    assert.deepEqual(r.discoverResponse?.cookie, cookie);
    assert.equal(r.discoverResponse?.status, 0);
  });

  it("takes an empty DISCOVER as every namespace", () => {
    const m = decodeMessage(new Uint8Array([8, 3]));
    assert.deepEqual(m.discover, {});
  });

  it("ignores the deprecated Unregister.id and unknown fields", () => {
    const body = new ProtobufWriter().string(1, "ns").bytes(2, new Uint8Array([1])).uint(9, 5);
    const bytes = new ProtobufWriter().uint(1, MessageType.UNREGISTER).message(4, body).uint(15, 1)
      .finish();
    assert.deepEqual(decodeMessage(bytes).unregister, { ns: "ns" });
  });

  it("frames with a uvarint length prefix", () => {
    const m: RendezvousMessage = { type: MessageType.UNREGISTER, unregister: { ns: "a" } };
    const frame = encodeFrame(m);
    assert.equal(frame[0], frame.byteLength - 1);
    assert.deepEqual(frame.subarray(1), encodeMessage(m));
  });

  it("refuses a missing or unknown type and a type without its body", () => {
    assert.throws(() => decodeMessage(new Uint8Array([])), DecodeError);
    assert.throws(() => decodeMessage(new Uint8Array([8, 5])), DecodeError);
    assert.throws(() => decodeMessage(new Uint8Array([8, 0x80, 0x02])), DecodeError); // 256
    assert.throws(() => decodeMessage(new Uint8Array([8, 0])), DecodeError); // REGISTER, no body
    assert.throws(() => decodeMessage(new Uint8Array([8, 1])), DecodeError);
    assert.throws(() => decodeMessage(new Uint8Array([8, 2])), DecodeError);
    assert.throws(() => decodeMessage(new Uint8Array([8, 4])), DecodeError);
  });

  it("refuses malformed protobuf, a wrong wire type and invalid UTF-8", () => {
    assert.throws(() => decodeMessage(new Uint8Array([8])), DecodeError);
    assert.throws(() => decodeMessage(new Uint8Array([8, 2, 34, 9, 10])), DecodeError);
    assert.throws(() => decodeMessage(new Uint8Array([8, 2, 32, 1])), DecodeError);
    // UNREGISTER { ns: [0xff] }
    assert.throws(() => decodeMessage(new Uint8Array([8, 2, 34, 3, 10, 1, 0xff])), DecodeError);
  });

  it("refuses a RegisterResponse without a status", () => {
    assert.throws(() => decodeMessage(new Uint8Array([8, 1, 26, 0])), DecodeError);
  });

  it(`caps a DISCOVER_RESPONSE at ${MAX_DISCOVER_LIMIT} registrations`, () => {
    const reg = new ProtobufWriter().string(1, "x").bytes(2, new Uint8Array([1])).finish();
    const body = new ProtobufWriter();
    for (let i = 0; i <= MAX_DISCOVER_LIMIT; i++) body.message(1, reg);
    const bytes = new ProtobufWriter().uint(1, MessageType.DISCOVER_RESPONSE).message(6, body)
      .finish();
    assert.throws(() => decodeMessage(bytes), LimitExceededError);
  });

  it(`refuses a cookie over ${MAX_COOKIE_BYTES} bytes`, () => {
    const bytes = encodeMessage({
      type: MessageType.DISCOVER,
      discover: { cookie: new Uint8Array(MAX_COOKIE_BYTES + 1) },
    });
    assert.throws(() => decodeMessage(bytes), LimitExceededError);
  });
});
