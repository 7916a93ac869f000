// IP text codecs, text parsing rules, and adversarial binary input.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { fromHex, toHex } from "../../src/bytes.ts";
import { DecodeError } from "../../src/errors.ts";
import {
  decodeMultiaddrBytes,
  formatIPv6,
  MAX_MULTIADDR_BYTES,
  MAX_MULTIADDR_COMPONENTS,
  MAX_MULTIADDR_STRING_LENGTH,
  multiaddr,
  parseIPv4,
  parseIPv6,
  parseMultiaddrString,
} from "../../src/multiaddr/mod.ts";

const PEER = "QmcgpsyWgH8Y8ajJz1Cu72KnS5uo2Aa2LpzU7kinSupNKC";
const ED_PEER = "12D3KooWCryG7Mon9orvQxcS1rYZjotPgpwoJNHHKcLLfE4Hf5mV";

describe("IPv4 text", () => {
  it("parses dotted quads", () => {
    assert.deepEqual([...parseIPv4("0.0.0.0")!], [0, 0, 0, 0]);
    assert.deepEqual([...parseIPv4("255.255.255.255")!], [255, 255, 255, 255]);
    assert.deepEqual([...parseIPv4("192.0.2.42")!], [192, 0, 2, 42]);
  });
  it("rejects everything else", () => {
    for (
      const bad of [
        "",
        "1.2.3",
        "1.2.3.4.5",
        "01.2.3.4",
        "1.2.3.04",
        "256.1.1.1",
        "1.2.3.-4",
        "1..2.3",
        "1.2.3.4.",
        ".1.2.3",
        " 1.2.3.4",
        "1.2.3.4 ",
        "0x1.2.3.4",
        "1.2.3.1000",
        "１.2.3.4",
      ]
    ) {
      assert.equal(parseIPv4(bad), undefined, bad);
    }
  });
});

describe("IPv6 text", () => {
  const cases: [string, string][] = [
    ["::", "::"],
    ["::1", "::1"],
    ["1::", "1::"],
    ["0:0:0:0:0:0:0:1", "::1"],
    ["1:0:0:0:0:0:0:0", "1::"],
    ["2001:DB8::1", "2001:db8::1"],
    ["2001:0db8:0000:0000:0000:0000:0000:0001", "2001:db8::1"],
    // RFC 5952 4.2.2: a single zero group is not compressed.
    ["2001:db8:0:1:1:1:1:1", "2001:db8:0:1:1:1:1:1"],
    // RFC 5952 4.2.3: the longest run wins; on a tie, the first.
    ["2001:0:0:1:0:0:0:1", "2001:0:0:1::1"],
    ["2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1"],
    ["1:2:3:4:5:6:7::", "1:2:3:4:5:6:7:0"],
    ["::2:3:4:5:6:7:8", "0:2:3:4:5:6:7:8"],
    ["fe80::1:2", "fe80::1:2"],
    // Embedded IPv4 is accepted and printed in hex, as js-multiaddr (WHATWG URL) prints it.
    ["::ffff:1.2.3.4", "::ffff:102:304"],
    ["::1.2.3.4", "::102:304"],
    ["64:ff9b::192.0.2.33", "64:ff9b::c000:221"],
    ["1:2:3:4:5:6:1.2.3.4", "1:2:3:4:5:6:102:304"],
  ];
  for (const [input, canonical] of cases) {
    it(`${input} -> ${canonical}`, () => {
      const bytes = parseIPv6(input);
      assert.ok(bytes, input);
      assert.equal(formatIPv6(bytes), canonical);
      assert.deepEqual(parseIPv6(canonical), bytes);
    });
  }
  it("rejects malformed text", () => {
    for (
      const bad of [
        "",
        ":",
        ":::",
        "1:::2",
        "1::2::3",
        ":1::",
        "1::2:",
        "1:2:3:4:5:6:7",
        "1:2:3:4:5:6:7:8:9",
        "1:2:3:4:5:6:7:8::",
        "::1:2:3:4:5:6:7:8",
        "12345::",
        "g::",
        "fe80::1%eth0",
        "::1.2.3",
        "::01.2.3.4",
        "::1.2.3.4:1",
        "1:2:3:4:5:6:7:1.2.3.4",
        "1.2.3.4",
        "[::1]",
      ]
    ) {
      assert.equal(parseIPv6(bad), undefined, bad);
    }
  });
});

describe("multiaddr text parsing", () => {
  it("accepts trailing slashes and the empty address", () => {
    assert.equal(multiaddr("/ip4/1.2.3.4/tcp/1/").toString(), "/ip4/1.2.3.4/tcp/1");
    assert.equal(multiaddr("/ip4/1.2.3.4//").toString(), "/ip4/1.2.3.4");
    assert.equal(multiaddr("/").bytes.byteLength, 0);
    assert.equal(multiaddr("/").toString(), "/");
    assert.equal(multiaddr(new Uint8Array(0)).toString(), "/");
  });
  it("rejects malformed text with SyntaxError", () => {
    for (
      const bad of [
        "",
        "ip4/1.2.3.4",
        "//ip4/1.2.3.4",
        "/ip4/1.2.3.4//tcp/1",
        "/ip4",
        "/ip4/",
        "/tcp/65536",
        "/tcp/080",
        "/tcp/+80",
        "/tcp/-1",
        "/tcp/1e3",
        "/udp/99999999999999999999",
        "/dns4//tcp/1",
        "/nope/1",
        "/tls/1",
        "/ip6/fe80::1%eth0",
        "/p2p/QmInvalid0",
        "/p2p/bafybeigdyrzt5sfp7udm7hu76uh7y26nf3efuylqabf3oclgtqy55fbzdi", // dag-pb CID, not a key
        "/p2p/zb2rhe5P4gXftAwvA4eXQ5HJwsER2owDyS9sKaQRRVQPn93bA",
        "/certhash/uAAAA",
        "/certhash/xyz",
        "/unix/%E0%A4%A",
        "/http-path/%",
        "/ipcidr/256",
        "/ipcidr/01",
        "/onion/timaq4ygg2iegci7:65536",
      ]
    ) {
      assert.throws(() => multiaddr(bad), SyntaxError, bad);
    }
  });
  it("reads the legacy `ipfs` name and CID peer ids, prints /p2p/ base58btc", () => {
    const canonical = `/p2p/${PEER}`;
    assert.equal(multiaddr(`/ipfs/${PEER}`).toString(), canonical);
    // The same peer id as a CIDv1 (libp2p-key) in base36 and base32 (go-multiaddr's good list).
    assert.equal(
      multiaddr("/p2p/k2k4r8oqamigqdo6o7hsbfwd45y70oyynp98usk7zmyfrzpqxh1pohl7").toString(),
      canonical,
    );
    assert.equal(
      multiaddr("/p2p/k51qzi5uqu5dhb6l8spkdx7yxafegfkee5by8h7lmjh2ehc2sgg34z7c15vzqs").toString(),
      `/p2p/${ED_PEER}`,
    );
    assert.equal(
      multiaddr("/p2p/bafzaajaiaejcalj543iwv2d7pkjt7ykvefrkfu7qjfi6sduakhso4lay6abn2d5u")
        .toString(),
      `/p2p/${ED_PEER}`,
    );
  });
  it("reads certhash in any supported multibase, prints base64url", () => {
    const b32 = multiaddr("/certhash/b2uaraocy6yrdblb4sfptaddgimjmmpy");
    const b58 = multiaddr("/certhash/zQmbWTwYGcmdyK9CYfNBcfs9nhZs17a6FQ4Y8oea278xx41");
    assert.match(b32.toString(), /^\/certhash\/u/);
    assert.equal(multiaddr(b32.toString()).toString(), b32.toString());
    assert.ok(b58.toString().startsWith("/certhash/u"));
    // certhash bytes are the multihash itself (sha2-256 here: 0x12 0x20 + 32 bytes).
    assert.equal(toHex(b58.bytes).slice(0, 10), "d203221220");
  });
  it("reads both unix text forms to the same bytes", () => {
    const spec = multiaddr("/unix/%2Ftmp%2Fp2p.sock/p2p/" + PEER);
    const legacy = multiaddr("/unix/tmp/p2p.sock");
    assert.equal(legacy.toString(), "/unix/%2Ftmp%2Fp2p.sock");
    assert.ok(spec.decapsulateCode(421).equals(legacy));
    // go's path form swallows the rest of the string, /p2p/ included.
    assert.equal(multiaddr("/unix/a/b/p2p/x").components()[0].value, "/a/b/p2p/x");
  });
  it("percent-encodes the whole unix path (the spec's `/%2F` row is an erratum)", () => {
    // protocols/unix.md lists `/%2F` <-> `/unix/%252F`; by its own rule the path `/%2F` is
    // `/unix/%2F%252F`, and `/unix/%252F` is the relative path `%2F`.
    assert.equal(multiaddr("/unix/%2F%252F").components()[0].value, "/%2F");
    assert.equal(multiaddr("/unix/%252F").components()[0].value, "%2F");
    assert.equal(multiaddr("/unix/%252F").toString(), "/unix/%252F");
  });
  it("caps text length and component count before building bytes", () => {
    assert.throws(
      () => parseMultiaddrString("/dns/" + "a".repeat(MAX_MULTIADDR_STRING_LENGTH)),
      RangeError,
    );
    assert.throws(
      () => parseMultiaddrString("/tls".repeat(MAX_MULTIADDR_COMPONENTS + 1)),
      RangeError,
    );
    assert.equal(
      parseMultiaddrString("/tls".repeat(MAX_MULTIADDR_COMPONENTS)).byteLength,
      2 * MAX_MULTIADDR_COMPONENTS,
    );
    assert.throws(
      () => parseMultiaddrString("/dns/" + "a".repeat(MAX_MULTIADDR_BYTES)),
      RangeError,
    );
  });
});

/** Valid encodings covering every value kind. */
const VALID = [
  "/ip4/192.0.2.42/tcp/443",
  "/ip6/2001:db8::1/udp/4001/quic-v1/webtransport/certhash/uEiDDq4_xNyDorZBH3TlGazyJdOWSwvo4PUo5YHFMrvDE8g",
  `/dns4/example.com/tcp/443/tls/sni/example.com/ws/p2p/${ED_PEER}`,
  `/ip4/1.2.3.4/tcp/1/p2p/${PEER}/p2p-circuit/p2p/${ED_PEER}`,
  "/ip6zone/eth0/ip6/fe80::1/tcp/22",
  "/unix/%2Ftmp%2Fx.sock",
  "/memory/abc",
  "/onion3/vww6ybal4bd7szmgncyruucpgfkqahzddi37ktceo3ah7ngmcopnpyyd:1234",
  "/ip4/1.2.3.4/tcp/80/http/http-path/a%2Fb",
];

describe("multiaddr binary decoding (adversarial)", () => {
  it("every strict prefix that cuts a component is a DecodeError, never an internal error", () => {
    for (const text of VALID) {
      const bytes = multiaddr(text).bytes;
      const boundaries = new Set(decodeMultiaddrBytes(bytes).map((s) => s.end));
      for (let n = 1; n < bytes.byteLength; n++) {
        const prefix = bytes.slice(0, n);
        if (boundaries.has(n)) {
          // A prefix ending on a component boundary is itself a valid multiaddr.
          assert.equal(multiaddr(prefix).bytes.byteLength, n);
          continue;
        }
        assert.throws(() => multiaddr(prefix), DecodeError, `${text} cut at ${n}`);
      }
    }
  });
  it("rejects unknown codes, over-long and non-minimal varints", () => {
    const cases: [string, RegExp][] = [
      ["00", /unknown multiaddr protocol code 0/],
      ["ff7f", /unknown/],
      ["ffffffffffffffffff01", /longer than 9 bytes/], // a 10-byte code varint
      ["8400", /not minimally encoded/], // 4 written in two bytes
      ["35ffffffffffffffff7f61", /longer than 9 bytes|exceeds/],
      ["3580", /truncated/], // dns with an unfinished length varint
      ["35ffffff0f61", /needs 33554431 value bytes, 1 left/], // length far past the end
      ["3500", /empty DNS name/],
      ["35012f", /contains "\/"/],
      ["3502c328", /UTF-8/],
      ["a50300", /multihash/], // p2p with a 3-byte truncated multihash
      ["a5030a1220" + "00".repeat(8), /multihash/], // sha2-256 digest of 8 bytes
      ["a50304b0010100", /expected identity or sha2-256/], // multihash code 0xb0 (not a peer id)
      ["d20300", /multihash/],
      ["bc03" + "00".repeat(12), /onion port/],
      ["e10300", /empty HTTP path/],
    ];
    for (const [hex, message] of cases) {
      assert.throws(() => multiaddr(fromHex(hex)), (e: unknown) => {
        assert.ok(e instanceof DecodeError, `${hex}: ${e}`);
        assert.match(e.message, message, hex);
        return true;
      });
    }
  });
  it("rejects oversized input by length before looking at its contents", () => {
    // A buffer whose content would be an enormous dns name: refused on its size alone.
    const big = new Uint8Array(MAX_MULTIADDR_BYTES + 1);
    big.fill(0x61);
    big.set([0x35, 0xff, 0x07]);
    assert.throws(() => multiaddr(big), /MAX_MULTIADDR_BYTES/);
    assert.throws(() => multiaddr(big), DecodeError);
    // Exactly at the limit is accepted.
    const atLimit = new Uint8Array(MAX_MULTIADDR_BYTES);
    atLimit.fill(0x61);
    atLimit.set([0x35, 0xfd, 0x07]); // length 1021 = 1024 - 3
    assert.equal(multiaddr(atLimit).components()[0].value?.length, 1021);
  });
  it("caps the component count", () => {
    const many = new Uint8Array(MAX_MULTIADDR_COMPONENTS + 1).fill(0x06 /* tcp */);
    // tcp needs 2 value bytes; use a no-value protocol instead: p2p-circuit (0xa2 0x02).
    const circuits = new Uint8Array(2 * (MAX_MULTIADDR_COMPONENTS + 1));
    for (let i = 0; i < circuits.length; i += 2) circuits.set([0xa2, 0x02], i);
    assert.throws(() => multiaddr(circuits), /MAX_MULTIADDR_COMPONENTS/);
    assert.equal(multiaddr(circuits.subarray(2)).components().length, MAX_MULTIADDR_COMPONENTS);
    assert.throws(() => multiaddr(many), DecodeError);
  });
  it("random byte strings never raise anything but DecodeError", () => {
    let seed = 0x9e3779b9;
    const next = () => {
      seed ^= seed << 13;
      seed ^= seed >>> 17;
      seed ^= seed << 5;
      return seed >>> 0;
    };
    let accepted = 0;
    for (let i = 0; i < 3000; i++) {
      const bytes = new Uint8Array(1 + (next() % 40));
      for (let k = 0; k < bytes.length; k++) bytes[k] = next() & 0xff;
      // Bias the first byte towards real codes so decoding goes past the first varint.
      if (i % 2 === 0) bytes[0] = [0x04, 0x06, 0x29, 0x35, 0xa5, 0xd2, 0x2a][next() % 7];
      try {
        const ma = multiaddr(bytes);
        accepted++;
        assert.ok(multiaddr(ma.toString()).equals(ma), toHex(bytes));
      } catch (e) {
        assert.ok(e instanceof DecodeError, `${toHex(bytes)}: ${e}`);
      }
    }
    assert.ok(accepted > 0);
  });
});
