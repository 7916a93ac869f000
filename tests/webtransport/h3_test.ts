/**
 * The HTTP/3 subset of the WebTransport dialer (pure codecs; Deno and Bun), the certhash check
 * of the handshake, and address parsing.
 */

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { DecodeError, LimitExceededError } from "../../src/errors.ts";
import { multiaddr } from "../../src/multiaddr/mod.ts";
import { CerthashMismatchError } from "../../transports/webtransport/mod.ts";
import {
  decodeBidiStreamHeader,
  decodeH3Frame,
  decodeQuicVarint,
  decodeResponseStatus,
  decodeSettings,
  encodeBidiStreamHeader,
  encodeClientControlStream,
  encodeConnectRequest,
  encodeQuicVarint,
  settingsSupportWebTransport,
} from "../../transports/webtransport/h3.ts";
import {
  parseWebTransportAddr,
  webTransportAddr,
  webTransportUrl,
} from "../../transports/webtransport/address.ts";
import { verifyCerthashes } from "../../transports/webtransport/handshake.ts";

describe("webtransport HTTP/3 codec", () => {
  it("QUIC varints: RFC 9000 §A.1 examples", () => {
    // RFC 9000 Appendix A.1 sample encodings.
    assert.deepEqual(decodeQuicVarint(new Uint8Array([0x25]), 0), { value: 37, length: 1 });
    assert.deepEqual(decodeQuicVarint(new Uint8Array([0x7b, 0xbd]), 0), {
      value: 15293,
      length: 2,
    });
    assert.deepEqual(decodeQuicVarint(new Uint8Array([0x9d, 0x7f, 0x3e, 0x7d]), 0), {
      value: 494878333,
      length: 4,
    });
    assert.deepEqual(encodeQuicVarint(15293), new Uint8Array([0x7b, 0xbd]));
    assert.deepEqual(encodeQuicVarint(494878333), new Uint8Array([0x9d, 0x7f, 0x3e, 0x7d]));
    // The RFC's 8-byte sample is above 2^53: refused rather than rounded.
    assert.throws(
      () => decodeQuicVarint(new Uint8Array([0xc2, 0x19, 0x7c, 0x5e, 0xff, 0x14, 0xe8, 0x8c]), 0),
      DecodeError,
    );
    const big = encodeQuicVarint(2 ** 40 + 5);
    assert.equal(big.byteLength, 8);
    assert.equal(big[0] >> 6, 3);
    assert.deepEqual(decodeQuicVarint(big, 0), { value: 2 ** 40 + 5, length: 8 });
    assert.equal(decodeQuicVarint(new Uint8Array([0x7b]), 0), undefined);
    assert.throws(() => encodeQuicVarint(-1), RangeError);
  });

  it("control stream: type 0 then SETTINGS that announce WebTransport", () => {
    const bytes = encodeClientControlStream();
    assert.equal(bytes[0], 0x00);
    const frame = decodeH3Frame(bytes, 1)!;
    assert.equal(frame.type, 0x04);
    assert.equal(frame.length, bytes.byteLength - 1);
    const settings = decodeSettings(frame.payload);
    assert.equal(settings.get(0x33), 1);
    assert.equal(settings.get(0x2b603742), 1);
    assert.equal(settingsSupportWebTransport(settings), true);
    assert.equal(settingsSupportWebTransport(new Map([[0x2b603742, 1]])), false, "no datagrams");
  });

  it("SETTINGS: duplicate ids and oversized frames are refused", () => {
    assert.throws(() => decodeSettings(new Uint8Array([0x33, 1, 0x33, 1])), DecodeError);
    assert.throws(() => decodeSettings(new Uint8Array([0x33])), DecodeError);
    assert.throws(
      () => decodeH3Frame(new Uint8Array([0x04, 0x80, 0x01, 0x00, 0x00]), 0),
      LimitExceededError,
    );
    assert.equal(decodeH3Frame(new Uint8Array([0x04, 0x02, 0x33]), 0), undefined);
  });

  it("CONNECT request: QPACK static references and plain literals, nothing dynamic", () => {
    const frame = decodeH3Frame(
      encodeConnectRequest("127.0.0.1:4433", "/.well-known/libp2p-webtransport?type=noise"),
      0,
    )!;
    assert.equal(frame.type, 0x01);
    const p = frame.payload;
    assert.deepEqual([...p.subarray(0, 4)], [0x00, 0x00, 0xcf, 0xd7]); // RIC 0, base 0, CONNECT, https
    const text = new TextDecoder().decode(p);
    for (
      const part of [
        "127.0.0.1:4433",
        "/.well-known/libp2p-webtransport?type=noise",
        ":protocol",
        "webtransport",
        "sec-webtransport-http3-draft02",
      ]
    ) assert.ok(text.includes(part), part);
  });

  it(":status from indexed, name-referenced and mixed field sections", () => {
    assert.equal(decodeResponseStatus(new Uint8Array([0x00, 0x00, 0xd9])), 200);
    assert.equal(decodeResponseStatus(new Uint8Array([0x00, 0x00, 0xdb])), 404);
    // literal with static name ref 24 (:status) and value "200"
    assert.equal(
      decodeResponseStatus(new Uint8Array([0x00, 0x00, 0x5f, 0x09, 0x03, 0x32, 0x30, 0x30])),
      200,
    );
    // a literal-name header (Huffman flag set, skipped unread) then :status 200
    assert.equal(
      decodeResponseStatus(new Uint8Array([0x00, 0x00, 0x21, 0x61, 0x81, 0xff, 0xd9])),
      200,
    );
    assert.throws(() => decodeResponseStatus(new Uint8Array([0x00, 0x00])), DecodeError);
    assert.throws(() => decodeResponseStatus(new Uint8Array([0x02, 0x00, 0xd9])), DecodeError);
    assert.throws(() => decodeResponseStatus(new Uint8Array([0x00, 0x00, 0x80])), DecodeError);
  });

  it("bidirectional stream header: 0x41 as a 2-byte varint, then the session id", () => {
    assert.deepEqual(encodeBidiStreamHeader(0), new Uint8Array([0x40, 0x41, 0x00]));
    assert.deepEqual(decodeBidiStreamHeader(new Uint8Array([0x40, 0x41, 0x04, 9])), {
      sessionId: 4,
      length: 3,
    });
    assert.equal(decodeBidiStreamHeader(new Uint8Array([0x40])), undefined);
    assert.equal(decodeBidiStreamHeader(new Uint8Array([0x40, 0x41])), undefined);
    assert.throws(() => decodeBidiStreamHeader(new Uint8Array([0x01, 0x00])), DecodeError);
  });
});

describe("webtransport certhash check and addresses", () => {
  const h1 = new Uint8Array([0x12, 0x20, ...new Uint8Array(32).fill(1)]);
  const h2 = new Uint8Array([0x12, 0x20, ...new Uint8Array(32).fill(2)]);
  const h3 = new Uint8Array([0x12, 0x20, ...new Uint8Array(32).fill(3)]);

  it("dialled hashes must be a subset of the server's", () => {
    verifyCerthashes([h1], [h1, h2]);
    verifyCerthashes([h1, h2], [h2, h1]);
    verifyCerthashes([], []);
    assert.throws(() => verifyCerthashes([h1, h3], [h1, h2]), CerthashMismatchError);
    assert.throws(() => verifyCerthashes([h1], []), CerthashMismatchError);
    assert.throws(() => verifyCerthashes([h1], undefined), CerthashMismatchError);
    assert.throws(
      () => verifyCerthashes([h1], Array.from({ length: 17 }, () => h1)),
      LimitExceededError,
    );
  });

  it("parses addresses with certhashes and a peer id; builds the endpoint URL", () => {
    const text = "/ip6/::1/udp/4433/quic-v1/webtransport" +
      "/certhash/uEiDDq4_xNyDorZBH3TlGazyJdOWSwvo4PUo5YHFMrvDE8g" +
      "/p2p/12D3KooWGC6TvWhfapngX6wvJHMYvKpDMXPb3ZnCZ6dMoaMtimQ5";
    const t = parseWebTransportAddr(multiaddr(text))!;
    assert.equal(t.family, 6);
    assert.equal(t.port, 4433);
    assert.equal(t.certhashes.length, 1);
    assert.equal(t.certhashes[0].digest.byteLength, 32);
    assert.equal(t.peerId, "12D3KooWGC6TvWhfapngX6wvJHMYvKpDMXPb3ZnCZ6dMoaMtimQ5");
    assert.equal(
      webTransportUrl(t),
      "https://[::1]:4433/.well-known/libp2p-webtransport?type=noise",
    );
    assert.equal(parseWebTransportAddr(multiaddr("/ip4/1.2.3.4/udp/1/quic-v1")), undefined);
    assert.equal(parseWebTransportAddr(multiaddr("/ip4/1.2.3.4/tcp/1/ws")), undefined);
    // an identity multihash is not a certificate hash
    assert.equal(
      parseWebTransportAddr(multiaddr("/ip4/1.2.3.4/udp/1/quic-v1/webtransport/certhash/uAAEB")),
      undefined,
    );
  });

  it("builds listener addresses that parse back to the same hashes", () => {
    const ma = webTransportAddr("127.0.0.1", 4433, [
      { code: 0x12, digest: h1.subarray(2), bytes: h1 },
      { code: 0x12, digest: h2.subarray(2), bytes: h2 },
    ]);
    const t = parseWebTransportAddr(ma)!;
    assert.deepEqual(t.certhashes.map((h) => [...h.bytes]), [[...h1], [...h2]]);
    assert.match(
      ma.toString(),
      /^\/ip4\/127\.0\.0\.1\/udp\/4433\/quic-v1\/webtransport\/certhash\/u/,
    );
  });
});
