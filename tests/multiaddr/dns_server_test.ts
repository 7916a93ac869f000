/**
 * DNS against a local server on 127.0.0.1 (no internet): the runtime's resolver pointed at a
 * UDP server (Deno.resolveDns `nameServer`, node:dns `setServers`), DNS over HTTPS (RFC 8484
 * GET and POST) against a local HTTP endpoint, dnsaddr recursion through both, and a node
 * dialling `/dnsaddr/...` with `dns` pointed at the server.
 */

import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { dnsMultiaddrResolver, dohResolver, multiaddr } from "../../src/multiaddr/mod.ts";
import { parseDnsServer, systemDnsResolver } from "../../src/runtime.ts";
import { startDnsServer, type TestDnsServer, type Zone } from "../helpers/dns_server.ts";
import { testNode } from "../helpers/nodes.ts";

const A = "QmNnooDu7bfjPFoTZYxMNLWUQJyrVwtbZg5gBMjTezGAJN";
const long = `dnsaddr=/dns4/${"a".repeat(60)}.${"b".repeat(60)}.${"c".repeat(60)}.${
  "d".repeat(60)
}.test/tcp/1/p2p/${A}`;

describe("DNS against a local server", () => {
  const zone: Zone = {
    txt: {
      "_dnsaddr.boot.test": [`dnsaddr=/dnsaddr/inner.boot.test/p2p/${A}`, "other=1"],
      "_dnsaddr.inner.boot.test": [`dnsaddr=/ip4/192.0.2.1/tcp/4001/p2p/${A}`, long],
    },
    a: { "host.test": ["192.0.2.10", "192.0.2.11"] },
    aaaa: { "host.test": ["2001:db8::10"] },
  };
  let server: TestDnsServer;
  before(async () => {
    server = await startDnsServer(zone);
  });
  after(() => server.close());

  it("parseDnsServer", () => {
    assert.deepEqual(parseDnsServer("127.0.0.1:5353"), { ip: "127.0.0.1", port: 5353 });
    assert.deepEqual(parseDnsServer("[::1]:53"), { ip: "::1", port: 53 });
    assert.deepEqual(parseDnsServer("10.0.0.1"), { ip: "10.0.0.1", port: 53 });
    assert.throws(() => parseDnsServer("dns.example:53"), RangeError);
    assert.throws(() => parseDnsServer("127.0.0.1:99999"), RangeError);
  });

  it("the runtime's resolver sends every lookup to --dns-server", async () => {
    const dns = systemDnsResolver(parseDnsServer(server.udp))!;
    assert.ok(dns !== undefined);
    const before = server.queries;
    const txt = await dns.resolveTxt("_dnsaddr.inner.boot.test");
    // A TXT record longer than 255 bytes arrives as several strings, joined by the reader.
    assert.deepEqual(
      txt.map((r) => r.join("")).sort(),
      [
        `dnsaddr=/ip4/192.0.2.1/tcp/4001/p2p/${A}`,
        long,
      ].sort(),
    );
    assert.deepEqual((await dns.resolve4("host.test")).sort(), ["192.0.2.10", "192.0.2.11"]);
    assert.deepEqual(await dns.resolve6("host.test"), ["2001:db8::10"]);
    await assert.rejects(dns.resolveTxt("_dnsaddr.missing.test"));
    assert.ok(server.queries >= before + 4);
  });

  it("dnsaddr recursion through the UDP server", async () => {
    const resolve = dnsMultiaddrResolver(systemDnsResolver(parseDnsServer(server.udp))!, {
      resolveHostnames: true,
    });
    const out = (await resolve(multiaddr(`/dnsaddr/boot.test/p2p/${A}`))).map(String);
    // The long /dns4 name has no A record: only the ip4 result survives.
    assert.deepEqual(out, [`/ip4/192.0.2.1/tcp/4001/p2p/${A}`]);
  });

  for (const method of ["GET", "POST"] as const) {
    it(`DNS over HTTPS (${method}) against a local endpoint`, async () => {
      const dns = dohResolver({ endpoint: server.doh, method });
      assert.deepEqual(
        (await dns.resolveTxt("_dnsaddr.boot.test")).map((r) => r.join("")),
        [`dnsaddr=/dnsaddr/inner.boot.test/p2p/${A}`, "other=1"],
      );
      assert.deepEqual(await dns.resolve4("host.test"), ["192.0.2.10", "192.0.2.11"]);
      assert.deepEqual(await dns.resolveTxt("_dnsaddr.missing.test"), []);
      const out = await dnsMultiaddrResolver(dns)(multiaddr("/dnsaddr/boot.test"));
      assert.equal(out.length, 2);
    });
  }

  it("DoH: an HTTP error and an oversize body are errors", async () => {
    const status = dohResolver({
      endpoint: "http://127.0.0.1:1/dns-query",
      fetch: () => Promise.resolve(new Response("no", { status: 500 })),
    });
    await assert.rejects(status.resolveTxt("x.test"), /HTTP 500/);
    const huge = dohResolver({
      endpoint: "http://127.0.0.1:1/dns-query",
      fetch: () => Promise.resolve(new Response(new Uint8Array(70_000))),
    });
    await assert.rejects(huge.resolveTxt("x.test"), /larger than/);
  });

  it("a node with dns pointed at the server dials /dnsaddr/<name>", async () => {
    const b = await testNode();
    zone.txt!["_dnsaddr.b.test"] = b.addrs().map((a) => `dnsaddr=${a}`);
    const a = await testNode({ dns: systemDnsResolver(parseDnsServer(server.udp)) });
    try {
      const conn = await a.dial("/dnsaddr/b.test");
      assert.ok(conn.remotePeer.equals(b.peerId));
    } finally {
      await a.stop();
      await b.stop();
    }
  });
});
