// Published multiaddr vectors (see tests/vectors/multiaddr/NOTE.md for their sources).
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import vectors from "../vectors/multiaddr/vectors.json" with { type: "json" };
import { fromHex, toHex } from "../../src/bytes.ts";
import { multiaddr } from "../../src/multiaddr/mod.ts";

describe("multiaddr vectors: multiaddr.feature", () => {
  for (const v of vectors.feature) {
    it(`${v.string} <-> ${v.hex}`, () => {
      const fromText = multiaddr(v.string);
      assert.equal(toHex(fromText.bytes), v.hex);
      const fromBytes = multiaddr(fromHex(v.hex));
      assert.equal(fromBytes.toString(), v.string);
      assert.equal(fromBytes.bytes.byteLength, v.hex.length / 2);
      const components = fromBytes.components();
      assert.equal(components.length, v.components.length);
      v.components.forEach((c, i) => {
        assert.equal(components[i].name, c.protocol);
        assert.equal(components[i].code, c.codec);
        assert.equal(components[i].value, c.value);
        assert.equal(toHex(components[i].bytes), c.packed);
        assert.ok(c.packed.endsWith(c.rawValue));
        assert.equal(multiaddr(c.string).toString(), c.string);
      });
    });
  }
});

describe("multiaddr vectors: go-multiaddr string <-> bytes", () => {
  for (const v of vectors.goStringBytes) {
    it(v.string, () => {
      assert.equal(toHex(multiaddr(v.string).bytes), v.hex);
      assert.equal(multiaddr(fromHex(v.hex)).toString(), v.string);
    });
  }
});

describe("multiaddr vectors: unix spec examples", () => {
  for (const v of vectors.unixSpec) {
    it(`${JSON.stringify(v.path)} <-> ${v.string}`, () => {
      const ma = multiaddr(v.string);
      assert.equal(ma.components()[0].value, v.path);
      assert.equal(ma.toString(), v.string);
      // The binary value is the raw path.
      assert.equal(new TextDecoder().decode(ma.bytes.subarray(3)), v.path);
    });
  }
});

describe("multiaddr vectors: http-path spec examples", () => {
  for (const v of vectors.httpPathSpec) {
    it(`${JSON.stringify(v.path)} <-> ${v.string}`, () => {
      const ma = multiaddr(v.string);
      assert.equal(ma.components()[0].value, v.path);
      assert.equal(ma.toString(), v.string);
      assert.equal(new TextDecoder().decode(ma.bytes.subarray(3)), v.path);
    });
  }
});

describe("multiaddr vectors: go-multiaddr valid addresses", () => {
  for (const text of vectors.goGood) {
    it(text, () => {
      const ma = multiaddr(text);
      // Canonical text re-parses to the same bytes, and bytes re-decode to the same text.
      const canonical = ma.toString();
      assert.ok(multiaddr(canonical).equals(ma));
      assert.equal(multiaddr(ma.bytes).toString(), canonical);
      assert.ok(ma.bytes.byteLength > 0);
    });
  }
});

describe("multiaddr vectors: go-multiaddr invalid addresses", () => {
  for (const text of vectors.goFails) {
    it(JSON.stringify(text), () => {
      assert.throws(() => multiaddr(text), SyntaxError);
    });
  }
});
