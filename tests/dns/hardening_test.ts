/**
 * Hardening of the DNS codec (HARDENING.md rules 1, 4, 5): truncation at every byte, compression
 * loops and forward pointers, oversize labels and names, counts that the bytes cannot hold, the
 * record cap, and arbitrary bytes / bit flips (fast-check) raising only DecodeError or
 * LimitExceededError.
 */

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { DecodeError, LimitExceededError } from "../../src/errors.ts";
import {
  decodeDnsMessage,
  type DnsRecord,
  encodeDnsMessage,
  FLAG_QR,
  MAX_NAME_BYTES,
  TYPE_A,
  TYPE_PTR,
  TYPE_SRV,
  TYPE_TXT,
} from "../../src/dns/mod.ts";
import { utf8Encode } from "../../src/bytes.ts";
import { bitIndex, bytes, check, flipBit, only } from "../fuzz/fuzz.ts";

const DECODE_ERRORS = [DecodeError, LimitExceededError];

function header(qd: number, an = 0, ns = 0, ar = 0): number[] {
  return [0, 0, 0, 0, 0, qd, 0, an, 0, ns, 0, ar];
}

function sample(): Uint8Array {
  const answers: DnsRecord[] = [
    { name: "_p2p._udp.local", type: TYPE_PTR, ttl: 120, data: "x1._p2p._udp.local" },
    {
      name: "x1._p2p._udp.local",
      type: TYPE_TXT,
      ttl: 120,
      data: [utf8Encode("dnsaddr=/ip4/10.0.0.1/tcp/1")],
    },
    {
      name: "x1._p2p._udp.local",
      type: TYPE_SRV,
      ttl: 120,
      data: { priority: 0, weight: 0, port: 1, target: "x1.local" },
    },
    { name: "x1.local", type: TYPE_A, ttl: 120, data: "10.0.0.1" },
  ];
  return encodeDnsMessage({
    flags: FLAG_QR,
    questions: [{ name: "_p2p._udp.local", type: TYPE_PTR }],
    answers,
  });
}

describe("dns codec hardening", () => {
  it("refuses every truncation of a valid message with DecodeError", () => {
    const wire = sample();
    decodeDnsMessage(wire);
    for (let cut = 0; cut < wire.length; cut++) {
      assert.throws(() => decodeDnsMessage(wire.subarray(0, cut)), DecodeError, `cut at ${cut}`);
    }
  });

  it("refuses trailing bytes", () => {
    const wire = sample();
    const longer = new Uint8Array(wire.length + 1);
    longer.set(wire);
    assert.throws(() => decodeDnsMessage(longer), /trailing/);
  });

  it("refuses a pointer to itself, a two-pointer loop and forward pointers", () => {
    // a question whose name is a pointer to its own offset (12)
    const self = new Uint8Array([...header(1), 0xc0, 12, 0, 1, 0, 1]);
    assert.throws(() => decodeDnsMessage(self), /does not point backwards/);
    // label "a" at 12, then a pointer back to 12: following it would read "a" forever
    const loop = new Uint8Array([...header(1), 1, 0x61, 0xc0, 12, 0, 1, 0, 1]);
    assert.throws(() => decodeDnsMessage(loop), /does not point backwards/);
    // two names pointing at each other: the first points forward
    const pair = new Uint8Array([...header(2), 0xc0, 18, 0, 1, 0, 1, 0xc0, 12, 0, 1, 0, 1]);
    assert.throws(() => decodeDnsMessage(pair), /does not point backwards/);
    // into the header
    const intoHeader = new Uint8Array([...header(1), 0xc0, 2, 0, 1, 0, 1]);
    assert.throws(() => decodeDnsMessage(intoHeader), /into the header/);
  });

  it("refuses the reserved label types", () => {
    for (const first of [0x40, 0x80]) {
      const msg = new Uint8Array([...header(1), first, 0, 0, 1, 0, 1]);
      assert.throws(() => decodeDnsMessage(msg), /label type/);
    }
  });

  it("refuses a name over 255 bytes, also when built from pointers", () => {
    // 4 labels of 63 bytes = 256 wire bytes with the root
    const label = [63, ...new Array(63).fill(0x61)];
    const flat = new Uint8Array([
      ...header(1),
      ...label,
      ...label,
      ...label,
      ...label,
      0,
      0,
      1,
      0,
      1,
    ]);
    assert.throws(() => decodeDnsMessage(flat), /longer than 255/);
    // exactly 255: 3 labels of 63 and one of 61
    const ok = new Uint8Array([
      ...header(1),
      ...label,
      ...label,
      ...label,
      61,
      ...new Array(61).fill(0x62),
      0,
      0,
      1,
      0,
      1,
    ]);
    assert.equal(decodeDnsMessage(ok).questions[0].name.length, MAX_NAME_BYTES - 2);
    // question 1: two labels of 63 bytes (12..140); question 2: two more labels + pointer to 12
    const q1 = [...label, ...label, 0, 0, 1, 0, 1];
    const q2 = [...label, ...label, 0xc0, 12, 0, 1, 0, 1];
    const chained = new Uint8Array([...header(2), ...q1, ...q2]);
    assert.throws(() => decodeDnsMessage(chained), /longer than 255/);
  });

  it("checks counts against the bytes before allocating, and caps records", () => {
    const lying = new Uint8Array(header(0xffff, 0xffff, 0xffff, 0xffff));
    assert.throws(() => decodeDnsMessage(lying, { maxRecords: 1_000_000 }), DecodeError);
    assert.throws(() => decodeDnsMessage(lying), LimitExceededError);
    const many: DnsRecord[] = Array.from(
      { length: 20 },
      (_, i) => ({ name: `h${i}.local`, type: TYPE_A, ttl: 1, data: "10.0.0.1" }),
    );
    const wire = encodeDnsMessage({ answers: many });
    assert.equal(decodeDnsMessage(wire).answers.length, 20);
    assert.throws(() => decodeDnsMessage(wire, { maxRecords: 19 }), LimitExceededError);
  });

  it("refuses rdata whose length does not match its type", () => {
    // A record with 3 bytes of rdata
    const bad = new Uint8Array([...header(0, 1), 0, 0, 1, 0, 1, 0, 0, 0, 1, 0, 3, 1, 2, 3]);
    assert.throws(() => decodeDnsMessage(bad), /A record of 3 bytes/);
    // PTR whose name runs past its rdlength
    const ptr = new Uint8Array([...header(0, 1), 0, 0, 12, 0, 1, 0, 0, 0, 1, 0, 2, 1, 0x61, 0]);
    assert.throws(() => decodeDnsMessage(ptr), DecodeError);
    // TXT string running past rdata
    const txt = new Uint8Array([...header(0, 1), 0, 0, 16, 0, 1, 0, 0, 0, 1, 0, 2, 5, 0x61]);
    assert.throws(() => decodeDnsMessage(txt), /TXT string truncated/);
  });

  it("arbitrary bytes raise only DecodeError or LimitExceededError", () => {
    check(
      "dns: arbitrary bytes",
      fc.property(bytes(600), (input) => {
        only(DECODE_ERRORS, () => decodeDnsMessage(input));
      }),
    );
  });

  it("arbitrary bytes after a plausible header raise only typed errors", () => {
    check(
      "dns: header + arbitrary body",
      fc.property(
        fc.array(fc.integer({ min: 0, max: 8 }), { minLength: 4, maxLength: 4 }),
        bytes(400),
        (counts, body) => {
          const input = new Uint8Array([
            ...header(counts[0], counts[1], counts[2], counts[3]),
            ...body,
          ]);
          only(DECODE_ERRORS, () => decodeDnsMessage(input));
        },
      ),
    );
  });

  it("bit flips of a valid message decode or raise only typed errors, and re-encode", () => {
    const wire = sample();
    check(
      "dns: bit flips",
      fc.property(bitIndex(wire.length), (bit) => {
        const out = only(DECODE_ERRORS, () => decodeDnsMessage(flipBit(wire, bit)));
        // a flipped message that decodes must encode again: the decoder yields only valid data
        if (out.ok) decodeDnsMessage(encodeDnsMessage(out.value));
      }),
    );
  });

  it("round-trips generated messages", () => {
    const label = fc.stringMatching(/^[a-z0-9_-]{1,20}$/);
    const name = fc.array(label, { minLength: 1, maxLength: 5 }).map((l) => l.join("."));
    const record: fc.Arbitrary<DnsRecord> = fc.oneof(
      fc.record({ name, type: fc.constant(TYPE_PTR), ttl: fc.nat(), data: name }),
      fc.record({
        name,
        type: fc.constant(TYPE_TXT),
        ttl: fc.nat(),
        data: fc.array(bytes(40, 0), { minLength: 1, maxLength: 4 }),
      }),
      fc.record({
        name,
        type: fc.constant(TYPE_A),
        ttl: fc.nat(),
        data: fc.tuple(fc.nat(255), fc.nat(255), fc.nat(255), fc.nat(255)).map((t) => t.join(".")),
      }),
    ) as fc.Arbitrary<DnsRecord>;
    check(
      "dns: round trip",
      fc.property(fc.array(record, { maxLength: 12 }), (answers) => {
        const decoded = decodeDnsMessage(encodeDnsMessage({ answers }));
        assert.equal(decoded.answers.length, answers.length);
        for (let i = 0; i < answers.length; i++) {
          assert.equal(decoded.answers[i].name, answers[i].name);
          assert.deepEqual(decoded.answers[i].data, answers[i].data);
        }
      }),
    );
  });
});
