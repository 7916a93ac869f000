/**
 * The DNS message codec (src/dns): round trips of every typed record, name compression both ways,
 * the mDNS class bits, and byte-exact checks against hand-built RFC 1035 messages.
 */

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import {
  CLASS_IN,
  decodeDnsMessage,
  type DnsRecord,
  encodeDnsMessage,
  FLAG_AA,
  FLAG_QR,
  nameEquals,
  nameToLabels,
  recordsOfType,
  TYPE_A,
  TYPE_AAAA,
  TYPE_CNAME,
  TYPE_OPT,
  TYPE_PTR,
  TYPE_SRV,
  TYPE_TXT,
} from "../../src/dns/mod.ts";
import { utf8Decode, utf8Encode } from "../../src/bytes.ts";

const SERVICE = "_p2p._udp.local";

describe("dns message codec", () => {
  it("round-trips a response with every typed record", () => {
    const answers: DnsRecord[] = [
      { name: SERVICE, type: TYPE_PTR, ttl: 120, data: "peer1._p2p._udp.local" },
      {
        name: "peer1._p2p._udp.local",
        type: TYPE_TXT,
        ttl: 120,
        data: [utf8Encode("dnsaddr=/ip4/127.0.0.1/tcp/4001/p2p/QmX"), utf8Encode("")],
      },
      {
        name: "peer1._p2p._udp.local",
        type: TYPE_SRV,
        ttl: 120,
        cacheFlush: true,
        data: { priority: 0, weight: 0, port: 4001, target: "peer1.local" },
      },
      { name: "peer1.local", type: TYPE_A, ttl: 120, data: "192.168.1.7" },
      { name: "peer1.local", type: TYPE_AAAA, ttl: 120, data: "fe80::1" },
      { name: "alias.example", type: TYPE_CNAME, ttl: 5, data: "peer1.local" },
    ];
    const additionals: DnsRecord[] = [
      { name: "", type: TYPE_OPT, class: 4096, ttl: 0, data: new Uint8Array([0, 10, 0, 0]) },
    ];
    const wire = encodeDnsMessage({ id: 7, flags: FLAG_QR | FLAG_AA, answers, additionals });
    const msg = decodeDnsMessage(wire);
    assert.equal(msg.id, 7);
    assert.equal(msg.flags, FLAG_QR | FLAG_AA);
    assert.equal(msg.questions.length, 0);
    assert.equal(msg.answers.length, answers.length);
    for (let i = 0; i < answers.length; i++) {
      const want = answers[i];
      const got = msg.answers[i];
      assert.equal(got.name, want.name);
      assert.equal(got.type, want.type);
      assert.equal(got.ttl, want.ttl);
      assert.equal(got.class, CLASS_IN);
      assert.equal(got.cacheFlush ?? false, want.cacheFlush ?? false);
      assert.deepEqual(got.data, want.data);
    }
    assert.equal(msg.additionals[0].class, 4096);
    assert.deepEqual(msg.additionals[0].data, new Uint8Array([0, 10, 0, 0]));
    const txt = recordsOfType(msg.answers, TYPE_TXT);
    assert.equal(utf8Decode(txt[0].data[0]), "dnsaddr=/ip4/127.0.0.1/tcp/4001/p2p/QmX");
    assert.equal(recordsOfType(msg.answers, TYPE_SRV)[0].data.port, 4001);
  });

  it("compresses repeated names with pointers and decodes them back", () => {
    const one = encodeDnsMessage({
      answers: [{ name: SERVICE, type: TYPE_PTR, ttl: 120, data: "abc._p2p._udp.local" }],
    });
    // header 12 + owner 17 + type/class/ttl/rdlength 10 + rdata ("abc" 4 + pointer 2) 6
    assert.equal(one.length, 12 + 17 + 10 + 6);
    assert.deepEqual([...one.subarray(one.length - 2)], [0xc0, 12]);
    assert.equal(decodeDnsMessage(one).answers[0].data, "abc._p2p._udp.local");
  });

  it("decodes a hand-built query with a pointer and the QU bit", () => {
    const bytes = new Uint8Array([
      0,
      0,
      0,
      0,
      0,
      2,
      0,
      0,
      0,
      0,
      0,
      0, // id 0, 2 questions
      4,
      0x5f,
      0x70,
      0x32,
      0x70,
      4,
      0x5f,
      0x75,
      0x64,
      0x70,
      5,
      0x6c,
      0x6f,
      0x63,
      0x61,
      0x6c,
      0,
      0,
      12,
      0x80,
      1, // PTR, QU + IN
      3,
      0x66,
      0x6f,
      0x6f,
      0xc0,
      12, // foo + pointer to _p2p._udp.local
      0,
      16,
      0,
      1, // TXT IN
    ]);
    const msg = decodeDnsMessage(bytes);
    assert.deepEqual(msg.questions, [
      { name: SERVICE, type: TYPE_PTR, class: CLASS_IN, unicastResponse: true },
      { name: "foo._p2p._udp.local", type: TYPE_TXT, class: CLASS_IN },
    ]);
  });

  it("keeps odd label bytes lossless through escapes", () => {
    const name = "a\\.b.\\000x.caf\u00e9.\\255z.local";
    const labels = nameToLabels(name);
    assert.deepEqual([...labels[0]], [0x61, 0x2e, 0x62]);
    assert.deepEqual([...labels[1]], [0, 0x78]);
    assert.deepEqual([...labels[3]], [255, 0x7a]);
    const wire = encodeDnsMessage({ questions: [{ name, type: TYPE_A }] });
    assert.equal(decodeDnsMessage(wire).questions[0].name, name);
    assert.ok(nameEquals("Foo.LOCAL.", "foo.local"));
    assert.ok(!nameEquals("foo.local", "fob.local"));
  });

  it("decodes empty TXT rdata and encodes an empty TXT as one empty string", () => {
    const wire = encodeDnsMessage({ answers: [{ name: "x", type: TYPE_TXT, ttl: 1, data: [] }] });
    const txt = recordsOfType(decodeDnsMessage(wire).answers, TYPE_TXT)[0];
    assert.deepEqual(txt.data, [new Uint8Array(0)]);
  });

  it("refuses bad input on encode with TypeError/RangeError", () => {
    const long = "a".repeat(64);
    assert.throws(
      () => encodeDnsMessage({ questions: [{ name: long, type: TYPE_A }] }),
      RangeError,
    );
    const deep = Array.from({ length: 128 }, () => "a").join(".");
    assert.throws(
      () => encodeDnsMessage({ questions: [{ name: deep, type: TYPE_A }] }),
      RangeError,
    );
    assert.throws(
      () => encodeDnsMessage({ questions: [{ name: "a..b", type: TYPE_A }] }),
      SyntaxError,
    );
    assert.throws(
      () => encodeDnsMessage({ answers: [{ name: "x", type: TYPE_A, ttl: 1, data: "::1" }] }),
      TypeError,
    );
    assert.throws(
      () =>
        encodeDnsMessage({
          answers: [{ name: "x", type: TYPE_TXT, ttl: 1, data: [new Uint8Array(256)] }],
        }),
      RangeError,
    );
    assert.throws(
      () =>
        encodeDnsMessage({
          answers: [{ name: "x", type: TYPE_PTR, ttl: 1, data: new Uint8Array(2) } as DnsRecord],
        }),
      TypeError,
    );
    assert.throws(
      () => encodeDnsMessage({ answers: [{ name: "x", type: TYPE_A, ttl: -1, data: "1.2.3.4" }] }),
      RangeError,
    );
  });

  it("reads a TTL with the top bit set as 0 (RFC 2181 section 8)", () => {
    const wire = encodeDnsMessage({
      answers: [{ name: "x", type: TYPE_A, ttl: 0x8000_0001, data: "1.2.3.4" }],
    });
    assert.equal(decodeDnsMessage(wire).answers[0].ttl, 0);
  });
});
