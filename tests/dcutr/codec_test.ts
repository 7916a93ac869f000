/**
 * The HolePunch codec (libp2p/specs relay/DCUtR.md): round trips, the frame size checked on the
 * prefix, the address cap while decoding, bad types; and the address filters.
 */

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { DecodeError, LimitExceededError } from "../../src/errors.ts";
import { multiaddr } from "../../src/multiaddr/mod.ts";
import { ProtobufWriter } from "../../src/protobuf.ts";
import { ByteReader } from "../../src/stream/byte_reader.ts";
import { encodeUvarint } from "../../src/varint.ts";
import {
  decodeHolePunch,
  encodeHolePunch,
  encodeHolePunchFrame,
  HolePunchType,
  isHolePunchAddr,
  isPublicAddr,
  MAX_DCUTR_MESSAGE_BYTES,
  MAX_OBS_ADDRS,
  ownHolePunchAddrs,
  parseObsAddrs,
  readHolePunch,
} from "../../protocols/dcutr/mod.ts";

function readerOf(bytes: Uint8Array): ByteReader {
  return new ByteReader(new Blob([bytes.slice()]).stream());
}

describe("dcutr codec", () => {
  it("round-trips CONNECT with addresses and SYNC", () => {
    const a = multiaddr("/ip4/8.8.8.8/tcp/4001").bytes;
    const b = multiaddr("/ip6/2001:4860::1/tcp/4001").bytes;
    const msg = decodeHolePunch(encodeHolePunch({ type: HolePunchType.CONNECT, obsAddrs: [a, b] }));
    assert.equal(msg.type, HolePunchType.CONNECT);
    assert.deepEqual(msg.obsAddrs, [a, b]);
    assert.deepEqual(
      encodeHolePunch({ type: HolePunchType.SYNC, obsAddrs: [] }),
      new Uint8Array([8, 0xac, 2]),
    );
  });

  it("refuses a frame whose prefix is over 4 KiB before reading the body", async () => {
    const prefix = encodeUvarint(MAX_DCUTR_MESSAGE_BYTES + 1);
    // Only the prefix is there: a size check after buffering would hit EOF instead.
    await assert.rejects(readHolePunch(readerOf(prefix)), LimitExceededError);
    const frame = encodeHolePunchFrame({ type: HolePunchType.SYNC, obsAddrs: [] });
    assert.equal((await readHolePunch(readerOf(frame))).type, HolePunchType.SYNC);
  });

  it("keeps at most MAX_OBS_ADDRS of thousands of addresses", () => {
    const w = new ProtobufWriter().uint(1, HolePunchType.CONNECT);
    // 2,000 empty addresses fit in one 4 KiB frame (two bytes each).
    for (let i = 0; i < 2000; i++) w.bytes(2, new Uint8Array(0));
    const bytes = w.finish();
    assert.ok(bytes.byteLength < MAX_DCUTR_MESSAGE_BYTES);
    const msg = decodeHolePunch(bytes);
    assert.equal(msg.obsAddrs.length, MAX_OBS_ADDRS);
    // The encoder sends no more than the cap either.
    const many = Array.from({ length: 100 }, () => multiaddr("/ip4/8.8.8.8/tcp/1").bytes);
    const back = decodeHolePunch(encodeHolePunch({ type: HolePunchType.CONNECT, obsAddrs: many }));
    assert.equal(back.obsAddrs.length, MAX_OBS_ADDRS);
  });

  it("rejects a missing or unknown type, skips unknown fields", () => {
    assert.throws(() => decodeHolePunch(new Uint8Array([])), DecodeError);
    assert.throws(() => decodeHolePunch(new Uint8Array([8, 1])), DecodeError);
    assert.throws(() => decodeHolePunch(new Uint8Array([8])), DecodeError);
    const msg = decodeHolePunch(new ProtobufWriter().uint(1, 100).uint(9, 7).finish());
    assert.equal(msg.type, HolePunchType.CONNECT);
  });

  it("filters addresses: public only by default, never relayed, undecodable dropped", () => {
    assert.equal(isPublicAddr(multiaddr("/ip4/8.8.8.8/tcp/1")), true);
    assert.equal(isPublicAddr(multiaddr("/ip4/192.168.1.1/tcp/1")), false);
    assert.equal(isPublicAddr(multiaddr("/ip4/127.0.0.1/tcp/1")), false);
    assert.equal(isPublicAddr(multiaddr("/ip6/::1/tcp/1")), false);
    assert.equal(isPublicAddr(multiaddr("/dns4/example.com/tcp/1")), true);
    assert.equal(isPublicAddr(multiaddr("/dns4/localhost/tcp/1")), false);
    const circuit = multiaddr(
      "/ip4/8.8.8.8/tcp/1/p2p/12D3KooWDpJ7As7BWAwRMfu1VU2WCqNjvq387JEYKDBj4kx6nXTN/p2p-circuit",
    );
    assert.equal(isHolePunchAddr(circuit, true), false);
    assert.equal(isHolePunchAddr(multiaddr("/ip4/127.0.0.1/tcp/1"), true), true);
    const parsed = parseObsAddrs(
      [
        new Uint8Array([0xff, 0xff]),
        multiaddr("/ip4/8.8.8.8/tcp/1").bytes,
        multiaddr("/ip4/8.8.8.8/tcp/1").bytes,
        multiaddr("/ip4/10.0.0.1/tcp/1").bytes,
        circuit.bytes,
      ],
      false,
      8,
    );
    assert.deepEqual(parsed.map(String), ["/ip4/8.8.8.8/tcp/1"]);
    const own = ownHolePunchAddrs(
      [
        multiaddr("/ip4/8.8.4.4/tcp/2/p2p/12D3KooWDpJ7As7BWAwRMfu1VU2WCqNjvq387JEYKDBj4kx6nXTN"),
        multiaddr("/ip4/127.0.0.1/tcp/2"),
      ],
      false,
      8,
    );
    assert.deepEqual(own, [multiaddr("/ip4/8.8.4.4/tcp/2").bytes]);
  });
});
