// Tests for src/multiformats: multibase (spec vectors in tests/vectors/multibase/), multihash
// and CIDv1.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { fromHex, toHex, utf8Encode } from "../../src/bytes.ts";
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
  createMultihash,
  decodeMultihash,
  IDENTITY_CODE,
  LIBP2P_KEY_CODEC,
  MAX_DIGEST_LENGTH,
  type MultibaseCodec,
  multibaseCodecOf,
  multibaseDecode,
  multibaseEncode,
  sha256Multihash,
  SHA2_256_CODE,
} from "../../src/multiformats/mod.ts";

/** Upstream encoding names -> our codecs. Names not listed must be refused. */
const SUPPORTED: Record<string, MultibaseCodec> = {
  base16: base16lower,
  base32: base32,
  base32upper: base32upper,
  base36: base36lower,
  base58btc: base58btc,
  base64: base64,
  base64url: base64url,
};

interface VectorFile {
  input: Uint8Array;
  lines: [name: string, text: string][];
}

function loadVectors(file: string): VectorFile {
  const text = readFileSync(new URL(`../vectors/multibase/${file}`, import.meta.url), "utf8");
  const [header, ...rest] = text.trim().split("\n");
  const quoted = /"(.*)"$/.exec(header)![1];
  const bytes: number[] = [];
  for (let i = 0; i < quoted.length; i++) {
    if (quoted.startsWith("\\x", i)) {
      bytes.push(Number.parseInt(quoted.slice(i + 2, i + 4), 16));
      i += 3;
    } else bytes.push(...utf8Encode(quoted[i]));
  }
  const lines = rest.map((line): [string, string] => {
    const m = /^([a-z0-9]+), "(.*)"$/.exec(line);
    assert.ok(m, `bad vector line ${line}`);
    return [m[1], m[2]];
  });
  return { input: Uint8Array.from(bytes), lines };
}

const VECTOR_FILES = ["basic.csv", "leading_zero.csv", "two_leading_zeros.csv", "test1.csv"];

describe("multibase", () => {
  for (const file of VECTOR_FILES) {
    it(`matches the spec vectors in ${file}`, () => {
      const { input, lines } = loadVectors(file);
      assert.ok(lines.length >= 20);
      let checked = 0;
      for (const [name, text] of lines) {
        const codec = SUPPORTED[name];
        if (codec === undefined) {
          assert.throws(() => multibaseDecode(text), SyntaxError, `${name} must be unsupported`);
          continue;
        }
        assert.equal(multibaseEncode(input, codec), text, `encode ${name}`);
        assert.deepEqual(multibaseDecode(text), input, `decode ${name}`);
        checked++;
      }
      assert.equal(checked, Object.keys(SUPPORTED).length);
    });
  }

  it("rejects the non-canonical mixed-case vectors (deliberately strict)", () => {
    const { input, lines } = loadVectors("case_insensitivity.csv");
    assert.equal(toHex(input), "68656c6c6f20776f726c64");
    for (const [name, text] of lines) {
      assert.throws(() => multibaseDecode(text), SyntaxError, name);
    }
    // The canonical forms of the same bytes decode.
    assert.deepEqual(multibaseDecode("bnbswy3dpeb3w64tmmq"), input);
    assert.deepEqual(multibaseDecode("BNBSWY3DPEB3W64TMMQ"), input);
    assert.deepEqual(multibaseDecode("f68656c6c6f20776f726c64"), input);
  });

  it("round-trips random bytes in every codec", () => {
    const samples = [
      new Uint8Array(0),
      Uint8Array.from([0]),
      Uint8Array.from([0, 0, 1]),
      Uint8Array.from([255]),
      ...Array.from({ length: 40 }, (_, i) => crypto.getRandomValues(new Uint8Array(i + 1))),
    ];
    for (const codec of Object.values(SUPPORTED)) {
      for (const bytes of samples) {
        const text = multibaseEncode(bytes, codec);
        assert.equal(text[0], codec.prefix);
        assert.deepEqual(multibaseDecode(text), bytes, `${codec.name} ${toHex(bytes)}`);
      }
    }
  });

  it("rejects invalid characters with SyntaxError", () => {
    const bad = [
      "z0", // base58btc has no 0
      "zO",
      "zI",
      "zl",
      "z7paNL19xttacU+",
      "b1", // base32 has no 1, 8, 9
      "bpfsxgidnmfxgsib8",
      "bpfsxgidnmfxgsibb=",
      "bpfsx gidnmfxgsibb",
      "f0", // odd hex length
      "fzz",
      "k-1",
      "meWVzIG1hbmkgIQ==", // padding is not part of the unpadded codecs
      "me!VzIG1hbmkgIQ",
      "u+/", // base64url alphabet has - and _, not + and /
      "m-_",
    ];
    for (const text of bad) {
      assert.throws(() => multibaseDecode(text), SyntaxError, text);
    }
  });

  it("rejects unknown prefixes and empty text", () => {
    for (const text of ["", "Qm", "1abc", "xabc", "\u00e9abc"]) {
      assert.throws(() => multibaseDecode(text), SyntaxError, JSON.stringify(text));
    }
  });

  it("rejects wrong-case base32, base36 and base16", () => {
    for (const text of ["bPFSXGIDNMFXGSIBB", "Bpfsxgidnmfxgsibb", "bpfsxgidnmfxgsibB"]) {
      assert.throws(() => multibaseDecode(text), SyntaxError, text);
    }
    assert.throws(() => multibaseDecode("k2LCPZO5YIKIDYNFL"), SyntaxError);
    assert.throws(() => multibaseDecode("f796573206D616E692021"), SyntaxError);
  });

  it("finds codecs by prefix", () => {
    assert.equal(multibaseCodecOf("z"), base58btc);
    assert.equal(multibaseCodecOf("b"), base32);
    assert.equal(multibaseCodecOf("k"), base36lower);
    assert.equal(multibaseCodecOf("Z"), undefined);
    assert.equal(multibaseCodecOf(""), undefined);
  });
});

describe("multihash", () => {
  it("hashes known inputs with sha2-256", async () => {
    const empty = await sha256Multihash(new Uint8Array(0));
    assert.equal(empty.code, SHA2_256_CODE);
    assert.equal(
      toHex(empty.bytes),
      "1220e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    );
    const abc = await sha256Multihash(utf8Encode("abc"));
    assert.equal(
      toHex(abc.digest),
      "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
    );
    assert.deepEqual(decodeMultihash(abc.bytes).digest, abc.digest);
  });

  it("builds and decodes identity multihashes", () => {
    const mh = createMultihash(IDENTITY_CODE, Uint8Array.from([1, 2, 3]));
    assert.equal(toHex(mh.bytes), "0003010203");
    assert.equal(toHex(mh.digest), "010203");
    const back = decodeMultihash(mh.bytes);
    assert.equal(back.code, IDENTITY_CODE);
    assert.equal(toHex(back.digest), "010203");
    // An Ed25519 peer id is an identity multihash of the 36-byte key protobuf.
    const id = base58btc.baseDecode("12D3KooWD3eckifWpRn9wQpMG9R9hX3sD158z7EqHWmweQAJU5SA");
    const idMh = decodeMultihash(id);
    assert.equal(idMh.code, IDENTITY_CODE);
    assert.equal(idMh.digest.byteLength, 36);
    assert.equal(toHex(idMh.digest.subarray(0, 4)), "08011220");
    // A digest of 128 bytes takes a two-byte length.
    assert.equal(toHex(createMultihash(0x13, new Uint8Array(128)).bytes.subarray(0, 3)), "138001");
  });

  it("rejects a digest length that does not match the bytes present", () => {
    const digest = "11".repeat(32);
    assert.throws(() => decodeMultihash(fromHex("1220" + "11".repeat(31))), DecodeError);
    assert.throws(() => decodeMultihash(fromHex("1220" + digest + "00")), DecodeError);
    assert.throws(() => decodeMultihash(fromHex("1210" + "11".repeat(16))), DecodeError);
    assert.throws(() => decodeMultihash(fromHex("0005010203")), DecodeError);
    decodeMultihash(fromHex("1220" + digest)); // the correct one passes
  });

  it("rejects every truncated prefix and non-minimal varints", () => {
    const full = fromHex("1220" + "ab".repeat(32));
    for (let n = 0; n < full.byteLength; n++) {
      assert.throws(() => decodeMultihash(full.subarray(0, n)), DecodeError, `prefix ${n}`);
    }
    assert.throws(() => decodeMultihash(fromHex("928000")), DecodeError);
    assert.throws(() => decodeMultihash(fromHex("00810001")), DecodeError);
  });

  it("rejects a digest longer than MAX_DIGEST_LENGTH before looking at it", () => {
    const length = MAX_DIGEST_LENGTH + 1;
    const header = [0x00, (length & 0x7f) | 0x80, length >> 7];
    assert.throws(
      () => decodeMultihash(Uint8Array.from(header)),
      (e: unknown) => e instanceof DecodeError && /longer than/.test(e.message),
    );
  });
});

describe("CID", () => {
  // Cross-checked with the multiformats npm package (CID.parse) when these tests were written.
  const RAW_CID = "bafkreih25dih6ug3xtj73vswccw423b56ilrwmnos4cbwhrceudopdp5sq";
  const RAW_MH = "1220fae8d07f50dbbcd3fdd65610adcd6c3df2171b31ae97041b1e222506e78dfd94";
  const PEER = "12D3KooWD3eckifWpRn9wQpMG9R9hX3sD158z7EqHWmweQAJU5SA";
  const PEER_B32 = "bafzaajaiaejcal72gwuz2or47oyxxn6b3rkwdmmkrxgkjxzy3rqt5kczyn7lcm3l";
  const PEER_B36 = "k51qzi5uqu5dhdmyb9bd18pypu2wp5lpv2xnskfmrqa4lb5knqryrotb05e7or";

  it("parses and prints a known CIDv1", () => {
    const cid = CID.parse(RAW_CID);
    assert.equal(cid.version, 1);
    assert.equal(cid.code, 0x55);
    assert.equal(toHex(cid.multihash.bytes), RAW_MH);
    assert.equal(cid.toString(), RAW_CID);
    assert.equal(toHex(cid.bytes), "0155" + RAW_MH);
  });

  it("builds the libp2p-key CID of a peer id in base32 and base36", () => {
    const mh = decodeMultihash(base58btc.baseDecode(PEER));
    const cid = CID.create(LIBP2P_KEY_CODEC, mh);
    assert.equal(toHex(cid.bytes.subarray(0, 4)), "01720024");
    assert.equal(cid.toString(), PEER_B32);
    assert.equal(cid.toString(base36lower), PEER_B36);
    assert.equal(cid.toJSON(), PEER_B32);
    assert.deepEqual(CID.parse(PEER_B36).bytes, cid.bytes);
    const back = CID.decode(cid.bytes);
    assert.equal(back.code, LIBP2P_KEY_CODEC);
    assert.deepEqual(back.multihash.bytes, mh.bytes);
  });

  it("round-trips through every multibase", () => {
    const cid = CID.create(0x55, createMultihash(IDENTITY_CODE, Uint8Array.from([0, 1, 2])));
    for (const codec of Object.values(SUPPORTED)) {
      assert.deepEqual(CID.parse(cid.toString(codec)).bytes, cid.bytes, codec.name);
    }
  });

  it("rejects CIDv0 and unknown versions with DecodeError", () => {
    const v0 = fromHex(RAW_MH); // a CIDv0 is a bare sha2-256 multihash
    assert.throws(() => CID.decode(v0), DecodeError);
    assert.throws(() => CID.decode(fromHex("0055" + RAW_MH)), DecodeError);
    assert.throws(() => CID.decode(fromHex("0255" + RAW_MH)), DecodeError);
    assert.throws(() => CID.decode(fromHex("8100" + "55" + RAW_MH)), DecodeError); // non-minimal
  });

  it("rejects truncated and trailing bytes with DecodeError", () => {
    const bytes = fromHex("0155" + RAW_MH);
    for (let n = 0; n < bytes.byteLength; n++) {
      assert.throws(() => CID.decode(bytes.subarray(0, n)), DecodeError, `prefix ${n}`);
    }
    assert.throws(() => CID.decode(fromHex("0155" + RAW_MH + "00")), DecodeError);
  });

  it("parse() maps every failure to SyntaxError", () => {
    for (
      const text of [
        "QmYyQSo1c1Ym7orWxLYvCrM2EmxFTANf8wXmmE7DWjhx5N", // CIDv0 text: no multibase prefix
        "b" + base32.baseEncode(fromHex(RAW_MH)), // CIDv0 bytes in base32
        "bafkreih25dih6ug3xtj73vswccw423b56ilrwmnos4cbwhrceudopdp5s", // truncated
        RAW_CID + "!",
        "",
      ]
    ) {
      assert.throws(() => CID.parse(text), SyntaxError, text);
    }
  });
});
