/**
 * Properties of src/multiformats (multibase, multihash, CID) and src/multiaddr: round trips
 * bytes -> text -> bytes, arbitrary bytes (DecodeError only), arbitrary text (SyntaxError or
 * RangeError only, as the module documents for text), truncation and bit flips.
 */

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { DecodeError } from "../../src/errors.ts";
import {
  base16lower,
  base32,
  base32upper,
  base36lower,
  base58btc,
  base64,
  base64url,
  CID,
  decodeMultihash,
  LIBP2P_KEY_CODEC,
  MAX_DIGEST_LENGTH,
  multibaseCodecOf,
  multibaseDecode,
  multibaseEncode,
} from "../../src/multiformats/mod.ts";
import {
  decodeMultiaddrBytes,
  MAX_MULTIADDR_BYTES,
  MAX_MULTIADDR_COMPONENTS,
  multiaddr,
  PROTOCOL_TABLE,
} from "../../src/multiaddr/mod.ts";
import { encodeUvarint } from "../../src/varint.ts";
import { concat } from "../../src/bytes.ts";
import { anyMultihash, multiaddrBytes, multiaddrComponent } from "./arbitraries.ts";
import { bitIndex, bytes, check, flipBit, only } from "./fuzz.ts";

const codecs = [base58btc, base32, base32upper, base36lower, base64url, base64, base16lower];

describe("fuzz: multiformats", () => {
  it("multibase round trips in every codec; arbitrary text throws only SyntaxError", () => {
    check(
      "multibase/roundtrip",
      fc.property(bytes(48), fc.constantFrom(...codecs), (input, codec) => {
        const text = multibaseEncode(input, codec);
        assert.equal(text[0], codec.prefix);
        assert.deepEqual(multibaseDecode(text), input);
      }),
    );
    check(
      "multibase/arbitrary-text",
      fc.property(
        fc.constantFrom("z", "b", "B", "k", "u", "m", "f", "", "x"),
        fc.string({ unit: "binary-ascii", maxLength: 40 }),
        (prefix, rest) => {
          const r = only([SyntaxError], () => multibaseDecode(prefix + rest));
          // Whatever decodes re-encodes to text that decodes to the same bytes.
          if (r.ok) {
            const codec = multibaseCodecOf((prefix + rest).charAt(0))!;
            assert.deepEqual(multibaseDecode(multibaseEncode(r.value, codec)), r.value);
          }
        },
      ),
    );
  });

  it("multihash: round trip, arbitrary bytes, truncation, oversized claimed digests", () => {
    check(
      "multihash/roundtrip",
      fc.property(anyMultihash, (mh) => {
        const d = decodeMultihash(mh);
        assert.deepEqual(d.bytes, mh);
        for (let n = 0; n < mh.byteLength; n++) {
          assert.throws(() => decodeMultihash(mh.subarray(0, n)), DecodeError);
        }
      }),
    );
    check(
      "multihash/arbitrary",
      fc.property(bytes(40), (input) => {
        const r = only([DecodeError], () => decodeMultihash(input));
        if (r.ok) assert.ok(r.value.digest.byteLength <= MAX_DIGEST_LENGTH);
      }),
    );
    check(
      "multihash/claimed-size",
      fc.property(fc.integer({ min: MAX_DIGEST_LENGTH + 1, max: 2 ** 31 }), bytes(8), (n, tail) => {
        const input = concat([Uint8Array.of(0x00), encodeUvarint(n), tail]);
        assert.throws(() => decodeMultihash(input), DecodeError);
      }),
    );
  });

  it("CID: libp2p-key CIDs round trip through every multibase; arbitrary text is SyntaxError", () => {
    check(
      "cid/roundtrip",
      fc.property(anyMultihash, fc.constantFrom(...codecs), (mh, codec) => {
        const cid = CID.create(LIBP2P_KEY_CODEC, decodeMultihash(mh));
        const parsed = CID.parse(cid.toString(codec));
        assert.deepEqual(parsed.bytes, cid.bytes);
        assert.equal(parsed.code, LIBP2P_KEY_CODEC);
        assert.deepEqual(CID.decode(cid.bytes).multihash.bytes, mh);
      }),
    );
    check(
      "cid/arbitrary",
      fc.property(bytes(48), fc.string({ maxLength: 40 }), (input, text) => {
        only([DecodeError], () => CID.decode(input));
        only([SyntaxError], () => CID.parse(text));
        only([SyntaxError], () => CID.parse("b" + text));
      }),
    );
  });
});

describe("fuzz: multiaddr", () => {
  it("bytes -> multiaddr -> text -> multiaddr gives the same bytes (canonical text)", () => {
    check(
      "multiaddr/roundtrip",
      fc.property(multiaddrBytes(), (input) => {
        const ma = multiaddr(input);
        assert.deepEqual(ma.bytes, input);
        const text = ma.toString();
        const again = multiaddr(text);
        assert.deepEqual(again.bytes, input, `text ${text}`);
        assert.equal(again.toString(), text);
        // Components cover the bytes exactly, in order.
        assert.deepEqual(concat(ma.components().map((c) => c.bytes)), input);
        assert.equal(ma.components().length, decodeMultiaddrBytes(input).length);
      }),
    );
  });

  it("every strict prefix of a multiaddr either is a shorter valid multiaddr or a DecodeError", () => {
    check(
      "multiaddr/truncation",
      fc.property(multiaddrBytes(4), (input) => {
        const spans = decodeMultiaddrBytes(input);
        const ends = new Set([0, ...spans.map((s) => s.end)]);
        for (let n = 0; n < input.byteLength; n++) {
          const r = only([DecodeError], () => multiaddr(input.subarray(0, n)));
          // A cut at a component boundary is valid; inside a variable-size value it may happen
          // to parse (e.g. a shorter DNS name) only if the length prefix also fits: it cannot,
          // because the prefix announces more bytes than remain. Fixed-size values likewise.
          assert.equal(r.ok, ends.has(n), `prefix of ${n} bytes`);
        }
      }),
    );
  });

  it("arbitrary bytes decode or throw DecodeError; what decodes round trips through text", () => {
    const component = fc.oneof(
      multiaddrComponent,
      bytes(8),
      fc.constantFrom(...PROTOCOL_TABLE).chain((p) =>
        bytes(20).map((v) => concat([encodeUvarint(p.code), encodeUvarint(v.byteLength), v]))
      ),
    );
    check(
      "multiaddr/arbitrary",
      fc.property(fc.array(component, { maxLength: 5 }), (parts) => {
        const input = concat(parts);
        const r = only([DecodeError], () => multiaddr(input));
        if (r.ok) {
          const text = r.value.toString();
          assert.deepEqual(multiaddr(text).bytes, input, text);
        }
      }),
    );
  });

  it("bit flips never crash: DecodeError or a multiaddr that round trips", () => {
    check(
      "multiaddr/bitflip",
      fc.property(
        multiaddrBytes(4).filter((b) => b.byteLength > 0).chain((b) =>
          fc.tuple(fc.constant(b), bitIndex(b.byteLength))
        ),
        ([input, bit]) => {
          const mutated = flipBit(input, bit);
          const r = only([DecodeError], () => multiaddr(mutated));
          if (r.ok) assert.deepEqual(multiaddr(r.value.toString()).bytes, mutated);
        },
      ),
    );
  });

  it("arbitrary text throws only SyntaxError or RangeError; what parses round trips", () => {
    const names = PROTOCOL_TABLE.flatMap((p) => [p.name, ...p.aliases]);
    const token = fc.oneof(
      fc.constantFrom(...names),
      fc.constantFrom("1.2.3.4", "::1", "::ffff:1.2.3.4", "fe80::1%eth0", "80", "0", "65536", "-1"),
      fc.constantFrom("12D3KooWD3eckifWpRn9wQpMG9R9hX3sD158z7EqHWmweQAJU5SA", "%2F", "%", "%zz"),
      fc.string({ unit: "binary", maxLength: 8 }),
    );
    check(
      "multiaddr/arbitrary-text",
      fc.property(fc.array(token, { maxLength: 8 }), fc.boolean(), (tokens, trailing) => {
        const text = "/" + tokens.join("/") + (trailing ? "/" : "");
        const r = only([SyntaxError, RangeError], () => multiaddr(text), `multiaddr(${text})`);
        if (r.ok) {
          const canonical = r.value.toString();
          assert.deepEqual(multiaddr(canonical).bytes, r.value.bytes, canonical);
        }
      }),
    );
    check(
      "multiaddr/any-string",
      fc.property(fc.string({ unit: "binary", maxLength: 60 }), (text) => {
        only([SyntaxError, RangeError], () => multiaddr(text));
      }),
    );
  });

  it("size limits: too many components or bytes fail with DecodeError", () => {
    check(
      "multiaddr/limits",
      fc.property(fc.integer({ min: MAX_MULTIADDR_COMPONENTS + 1, max: 300 }), (n) => {
        // n valueless components ("/tls" = 2 bytes each).
        const tls = encodeUvarint(448);
        const input = concat(new Array(n).fill(tls));
        assert.throws(() => multiaddr(input), DecodeError);
        const big = concat([encodeUvarint(53), encodeUvarint(2 ** 31), new Uint8Array(8)]);
        assert.throws(() => multiaddr(big), DecodeError);
        const over = new Uint8Array(MAX_MULTIADDR_BYTES + n);
        assert.throws(() => multiaddr(over), DecodeError);
      }),
      { scale: 0.1 },
    );
  });
});
