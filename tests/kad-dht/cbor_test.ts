/**
 * The strict CBOR decoder used for IPNS `data`: RFC 8949 Appendix A examples for the accepted
 * types, and the strictness rules (minimal lengths, definite lengths, no duplicate keys, lengths
 * checked against the input before allocation, depth cap, no trailing bytes).
 */

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { fromHex } from "../../src/bytes.ts";
import { DecodeError } from "../../src/errors.ts";
import { decodeCbor, MAX_CBOR_DEPTH } from "../../protocols/kad-dht/cbor.ts";

describe("kad-dht CBOR decoder", () => {
  it("decodes the RFC 8949 Appendix A examples it supports", () => {
    assert.equal(decodeCbor(fromHex("00")), 0n);
    assert.equal(decodeCbor(fromHex("17")), 23n);
    assert.equal(decodeCbor(fromHex("1818")), 24n);
    assert.equal(decodeCbor(fromHex("1903e8")), 1000n);
    assert.equal(decodeCbor(fromHex("1a000f4240")), 1000000n);
    assert.equal(decodeCbor(fromHex("1b000000e8d4a51000")), 1000000000000n);
    assert.equal(decodeCbor(fromHex("1bffffffffffffffff")), 18446744073709551615n);
    assert.equal(decodeCbor(fromHex("3903e7")), -1000n);
    assert.equal(decodeCbor(fromHex("f4")), false);
    assert.equal(decodeCbor(fromHex("f5")), true);
    assert.equal(decodeCbor(fromHex("f6")), null);
    assert.equal(decodeCbor(fromHex("f93c00")), 1);
    assert.equal(decodeCbor(fromHex("fb3ff199999999999a")), 1.1);
    assert.deepEqual(decodeCbor(fromHex("4401020304")), fromHex("01020304"));
    assert.equal(decodeCbor(fromHex("6449455446")), "IETF");
    assert.equal(decodeCbor(fromHex("62c3bc")), "\u00fc");
    assert.deepEqual(decodeCbor(fromHex("83010203")), [1n, 2n, 3n]);
    assert.deepEqual(
      decodeCbor(fromHex("a26161016162820203")),
      new Map<string, unknown>([["a", 1n], ["b", [2n, 3n]]]),
    );
    // Tag 1 (epoch time) wraps its item.
    assert.equal(decodeCbor(fromHex("c11a514b67b0")), 1363896240n);
  });

  it("rejects non-minimal integers and lengths", () => {
    for (const hex of ["1817", "190017", "1a0000ffff", "1b00000000ffffffff", "580100"]) {
      assert.throws(() => decodeCbor(fromHex(hex)), DecodeError, hex);
    }
  });

  it("rejects indefinite lengths, undefined, reserved info and trailing bytes", () => {
    for (const hex of ["5f42010243030405ff", "9fff", "bfff", "f7", "1c", "0000", "f820"]) {
      assert.throws(() => decodeCbor(fromHex(hex)), DecodeError, hex);
    }
  });

  it("rejects duplicate keys and non-text keys", () => {
    assert.throws(() => decodeCbor(fromHex("a2616101616102")), /duplicate/);
    assert.throws(() => decodeCbor(fromHex("a10101")), /not a text string/);
  });

  it("checks declared lengths against the input before allocating", () => {
    // A byte string, an array and a map declaring 2^64-1 entries in a few bytes.
    for (
      const hex of [
        "5bffffffffffffffff",
        "9bffffffffffffffff",
        "bb000000ffffffffff",
        "7a7fffffff61",
      ]
    ) {
      assert.throws(() => decodeCbor(fromHex(hex)), /exceeds the bytes left/, hex);
    }
    assert.throws(() => decodeCbor(fromHex("4401")), DecodeError);
  });

  it("caps nesting depth and rejects invalid UTF-8", () => {
    const deep = new Uint8Array(MAX_CBOR_DEPTH + 2).fill(0x81);
    deep[deep.length - 1] = 0x00;
    assert.throws(() => decodeCbor(deep), /nested too deeply/);
    assert.deepEqual(decodeCbor(new Uint8Array([0x81, 0x81, 0x00])), [[0n]]);
    assert.throws(() => decodeCbor(fromHex("62c328")), /UTF-8/);
  });
});
