// Multiaddr class operations: encapsulate/decapsulate, peer ids, equality, node addresses.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import {
  CODE_P2P,
  CODE_P2P_CIRCUIT,
  CODE_TCP,
  defaultResolver,
  isMultiaddr,
  Multiaddr,
  multiaddr,
  withoutPeerId,
  withPeerId,
} from "../../src/multiaddr/mod.ts";

const A = "QmcgpsyWgH8Y8ajJz1Cu72KnS5uo2Aa2LpzU7kinSupNKC";
const B = "12D3KooWCryG7Mon9orvQxcS1rYZjotPgpwoJNHHKcLLfE4Hf5mV";
const B_CID = "bafzaajaiaejcalj543iwv2d7pkjt7ykvefrkfu7qjfi6sduakhso4lay6abn2d5u";

describe("Multiaddr basics", () => {
  it("caches text and bytes, and multiaddr(ma) returns ma", () => {
    const ma = multiaddr("/ip4/1.2.3.4/tcp/80");
    assert.equal(ma.toString(), ma.toString());
    assert.equal(ma.components(), ma.components());
    assert.equal(multiaddr(ma), ma);
    assert.equal(ma.toJSON(), "/ip4/1.2.3.4/tcp/80");
    assert.equal(JSON.stringify({ a: ma }), '{"a":"/ip4/1.2.3.4/tcp/80"}');
  });
  it("lists components, codes and names", () => {
    const ma = multiaddr(`/ip4/1.2.3.4/udp/9/quic-v1/p2p/${A}`);
    assert.deepEqual(ma.protoCodes(), [4, 273, 461, 421]);
    assert.deepEqual(ma.protoNames(), ["ip4", "udp", "quic-v1", "p2p"]);
    assert.deepEqual(ma.protos().map((p) => p.size), [32, 16, 0, -1]);
    const c = ma.components();
    assert.equal(c.length, 4);
    assert.deepEqual(
      c.map((x) => [x.code, x.name, x.value]),
      [[4, "ip4", "1.2.3.4"], [273, "udp", "9"], [461, "quic-v1", undefined], [421, "p2p", A]],
    );
    assert.ok(!("value" in c[2]));
    assert.deepEqual([...c[1].bytes], [0x91, 0x02, 0x00, 0x09]);
    assert.ok(Object.isFrozen(c));
    assert.equal(ma.getComponents(), c);
  });
  it("compares by bytes", () => {
    const a = multiaddr(`/ipfs/${B_CID}`);
    const b = multiaddr(`/p2p/${B}`);
    assert.ok(a.equals(b));
    assert.equal(a.toString(), b.toString());
    assert.ok(!a.equals(multiaddr(`/p2p/${A}`)));
    assert.ok(multiaddr("/ip4/127.0.0.1/tcp/1234/").equals(multiaddr("/ip4/127.0.0.1/tcp/1234")));
    assert.ok(!multiaddr("/ip4/127.0.0.1/udp/1234").equals(multiaddr("/ip4/127.0.0.1/tcp/1234")));
  });
  it("isMultiaddr and input checks", () => {
    assert.ok(isMultiaddr(multiaddr("/tls")));
    assert.ok(!isMultiaddr("/tls"));
    assert.ok(!isMultiaddr({ bytes: new Uint8Array([0xc0, 0x03]) }));
    assert.ok(!isMultiaddr(null));
    assert.throws(() => multiaddr(42 as unknown as string), TypeError);
    assert.ok(Multiaddr.fromString("/tls").equals(Multiaddr.fromBytes(new Uint8Array([0xc0, 3]))));
  });
});

describe("encapsulate / decapsulate", () => {
  it("encapsulates text, bytes and multiaddrs", () => {
    const base = multiaddr("/ip4/1.2.3.4/tcp/443");
    const ws = base.encapsulate("/tls/ws");
    assert.equal(ws.toString(), "/ip4/1.2.3.4/tcp/443/tls/ws");
    assert.equal(base.encapsulate(multiaddr("/wss").bytes).toString(), "/ip4/1.2.3.4/tcp/443/wss");
    assert.equal(base.encapsulate("/"), base);
    assert.equal(base.toString(), "/ip4/1.2.3.4/tcp/443"); // unchanged
  });
  it("decapsulates the LAST occurrence and everything after it", () => {
    const ma = multiaddr(`/ip4/1.2.3.4/tcp/1/p2p/${A}/p2p-circuit/p2p/${B}`);
    assert.equal(ma.decapsulate("/p2p-circuit").toString(), `/ip4/1.2.3.4/tcp/1/p2p/${A}`);
    assert.equal(
      ma.decapsulate(`/p2p/${B}`).toString(),
      `/ip4/1.2.3.4/tcp/1/p2p/${A}/p2p-circuit`,
    );
    assert.equal(ma.decapsulate("/tcp/1").toString(), "/ip4/1.2.3.4");
    assert.equal(ma.decapsulate("/ip4/1.2.3.4").toString(), "/");
    const twice = multiaddr("/ip4/1.2.3.4/tcp/1/ip4/5.6.7.8/tcp/1");
    assert.equal(twice.decapsulate("/tcp/1").toString(), "/ip4/1.2.3.4/tcp/1/ip4/5.6.7.8");
    assert.equal(ma.decapsulate("/"), ma);
  });
  it("matches whole components, not substrings (unlike js-multiaddr's text search)", () => {
    const ma = multiaddr("/ip4/1.2.3.4/tcp/1234");
    assert.throws(() => ma.decapsulate("/tcp/123"), RangeError);
    assert.throws(() => ma.decapsulate("/udp/1234"), RangeError);
  });
  it("decapsulateCode removes the last component with the code", () => {
    const ma = multiaddr(`/ip4/1.2.3.4/tcp/1/p2p/${A}/p2p-circuit/p2p/${B}`);
    assert.equal(
      ma.decapsulateCode(CODE_P2P).toString(),
      `/ip4/1.2.3.4/tcp/1/p2p/${A}/p2p-circuit`,
    );
    assert.equal(ma.decapsulateCode(CODE_P2P_CIRCUIT).toString(), `/ip4/1.2.3.4/tcp/1/p2p/${A}`);
    assert.equal(ma.decapsulateCode(CODE_TCP).toString(), "/ip4/1.2.3.4");
    assert.equal(ma.decapsulateCode(4).toString(), "/");
    assert.equal(ma.decapsulateCode(477), ma);
  });
  it("results are independent multiaddrs", () => {
    const ma = multiaddr("/ip4/1.2.3.4/tcp/1/ws");
    const head = ma.decapsulateCode(CODE_TCP);
    assert.equal(head.bytes.byteLength, 5);
    assert.deepEqual(head.components().map((c) => c.name), ["ip4"]);
    assert.equal(head.encapsulate("/udp/2").toString(), "/ip4/1.2.3.4/udp/2");
    assert.equal(ma.toString(), "/ip4/1.2.3.4/tcp/1/ws");
  });
});

describe("peer ids", () => {
  it("getPeerId returns the last /p2p unless a /p2p-circuit follows it", () => {
    assert.equal(multiaddr("/ip4/1.2.3.4/tcp/1").getPeerId(), undefined);
    assert.equal(multiaddr(`/ip4/1.2.3.4/tcp/1/p2p/${A}`).getPeerId(), A);
    assert.equal(multiaddr(`/p2p/${B_CID}`).getPeerId(), B);
    assert.equal(multiaddr(`/ip4/1.2.3.4/tcp/1/p2p/${A}/p2p-circuit`).getPeerId(), undefined);
    assert.equal(multiaddr(`/ip4/1.2.3.4/tcp/1/p2p/${A}/p2p-circuit/p2p/${B}`).getPeerId(), B);
    assert.equal(multiaddr(`/p2p/${A}/http-path/x`).getPeerId(), A);
  });
  it("withPeerId appends, accepts CID text, is idempotent, refuses another peer", () => {
    const base = multiaddr("/ip4/1.2.3.4/tcp/1");
    const withB = withPeerId(base, B_CID);
    assert.equal(withB.toString(), `/ip4/1.2.3.4/tcp/1/p2p/${B}`);
    assert.equal(withPeerId(withB, B), withB);
    assert.throws(() => withPeerId(withB, A), RangeError);
    assert.throws(() => withPeerId(base, "not-a-peer-id"), SyntaxError);
    const relay = multiaddr(`/ip4/1.2.3.4/tcp/1/p2p/${A}/p2p-circuit`);
    assert.equal(withPeerId(relay, B).toString(), `${relay.toString()}/p2p/${B}`);
  });
  it("withoutPeerId strips only a trailing /p2p", () => {
    assert.equal(withoutPeerId(`/ip4/1.2.3.4/tcp/1/p2p/${A}`).toString(), "/ip4/1.2.3.4/tcp/1");
    const relay = `/ip4/1.2.3.4/tcp/1/p2p/${A}/p2p-circuit`;
    assert.equal(withoutPeerId(relay).toString(), relay);
  });
});

describe("toNodeAddress", () => {
  it("reads ip4/ip6/dns + tcp/udp", () => {
    assert.deepEqual(multiaddr("/ip4/127.0.0.1/tcp/4001").toNodeAddress(), {
      family: 4,
      host: "127.0.0.1",
      port: 4001,
      transport: "tcp",
    });
    assert.deepEqual(multiaddr("/ip6/::1/udp/4001/quic-v1/webtransport").toNodeAddress(), {
      family: 6,
      host: "::1",
      port: 4001,
      transport: "udp",
    });
    assert.deepEqual(multiaddr(`/dns4/example.com/tcp/443/wss/p2p/${A}`).toNodeAddress(), {
      family: "dns",
      host: "example.com",
      port: 443,
      transport: "tcp",
    });
    assert.deepEqual(multiaddr("/ip6zone/eth0/ip6/fe80::1/tcp/65535").toNodeAddress(), {
      family: 6,
      host: "fe80::1%eth0",
      port: 65535,
      transport: "tcp",
    });
  });
  it("is undefined for anything else", () => {
    for (
      const text of [
        "/",
        "/ip4/1.2.3.4",
        "/dnsaddr/bootstrap.libp2p.io/tcp/4001",
        "/tcp/1/ip4/1.2.3.4",
        "/ip4/1.2.3.4/sctp/1",
        "/memory/x",
        "/unix/%2Ftmp%2Fs",
        "/ip6zone/eth0/ip4/1.2.3.4/tcp/1",
        `/p2p/${A}/p2p-circuit`,
      ]
    ) {
      assert.equal(multiaddr(text).toNodeAddress(), undefined, text);
    }
  });
});

describe("defaultResolver", () => {
  it("passes addresses through and refuses /dnsaddr", async () => {
    const ma = multiaddr("/dns4/example.com/tcp/443/wss");
    const out = await defaultResolver(ma);
    assert.equal(out.length, 1);
    assert.equal(out[0], ma);
    await assert.rejects(
      defaultResolver(multiaddr(`/dnsaddr/bootstrap.libp2p.io/p2p/${A}`)),
      (e: unknown) => e instanceof RangeError && /dnsaddr/.test(e.message),
    );
    const controller = new AbortController();
    controller.abort(new Error("stop"));
    await assert.rejects(defaultResolver(ma, { signal: controller.signal }), /stop/);
  });
});

describe("ownership", () => {
  it("copies input bytes, so later changes to the caller's buffer do not leak in", () => {
    const buffer = new Uint8Array([0xff, 0x04, 1, 2, 3, 4, 0xff]);
    const ma = multiaddr(buffer.subarray(1, 6));
    buffer.fill(0);
    assert.equal(ma.toString(), "/ip4/1.2.3.4");
    // Not a view of the caller's buffer (which would keep a whole message alive).
    assert.notEqual(ma.bytes.buffer, buffer.buffer);
    assert.equal(ma.bytes.byteLength, 5);
  });
});
