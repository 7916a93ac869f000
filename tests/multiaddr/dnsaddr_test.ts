/**
 * dnsaddr and /dns* resolution through an injected DNS client: recursion, /p2p filtering, the
 * caps (depth, results, lookups, huge answers, deadline), malformed records, hostnames; and
 * `node.dial("/dnsaddr/...")` through the dialler.
 */

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import {
  DEFAULT_DNSADDR_MAX_RESULTS,
  dnsMultiaddrResolver,
  DnsResolutionError,
  type DnsResolver,
  multiaddr,
} from "../../src/multiaddr/mod.ts";
import { testNode } from "../helpers/nodes.ts";

const A = "QmNnooDu7bfjPFoTZYxMNLWUQJyrVwtbZg5gBMjTezGAJN";
const B = "QmQCU2EcMqAqQPR2i9bChDtGNJchTbq5TbXJJ16u19uLTa";
const C = "QmbLHAnMoJPWSCR5Zhtx6BHJX9KiKNN6tpvbUcqanj75Nb";

/** A zone: name -> TXT records (each one string); counts lookups. */
function zone(records: Record<string, string[]>, extra: Partial<DnsResolver> = {}) {
  const dns = {
    lookups: [] as string[],
    resolveTxt(name: string): Promise<string[][]> {
      dns.lookups.push(name);
      const r = records[name];
      if (r === undefined) return Promise.reject(new Error(`NXDOMAIN ${name}`));
      return Promise.resolve(r.map((t) => [t]));
    },
    ...extra,
  };
  return dns;
}

const strings = (list: { toString(): string }[]): string[] => list.map(String);

describe("dnsaddr resolution (injected DNS)", () => {
  it("one level, then nested, with the /p2p filter", async () => {
    const dns = zone({
      "_dnsaddr.boot.test": [
        `dnsaddr=/ip4/192.0.2.1/tcp/4001/p2p/${A}`,
        `dnsaddr=/dnsaddr/b.boot.test/p2p/${B}`,
        `dnsaddr=/dnsaddr/c.boot.test`,
        "v=spf1 -all",
      ],
      "_dnsaddr.b.boot.test": [
        `dnsaddr=/ip4/192.0.2.2/tcp/4001/p2p/${B}`,
        `dnsaddr=/ip6/2001:db8::2/tcp/4001/p2p/${B}`,
      ],
      "_dnsaddr.c.boot.test": [`dnsaddr=/ip4/192.0.2.3/udp/4001/quic-v1/p2p/${C}`],
    });
    const resolve = dnsMultiaddrResolver(dns);
    assert.deepEqual(strings(await resolve(multiaddr("/dnsaddr/boot.test"))), [
      `/ip4/192.0.2.1/tcp/4001/p2p/${A}`,
      `/ip4/192.0.2.2/tcp/4001/p2p/${B}`,
      `/ip6/2001:db8::2/tcp/4001/p2p/${B}`,
      `/ip4/192.0.2.3/udp/4001/quic-v1/p2p/${C}`,
    ]);
    // Filtered by the /p2p suffix: only B's addresses, and c.boot.test is still looked into
    // (its records could name B) but contributes nothing.
    assert.deepEqual(strings(await resolve(multiaddr(`/dnsaddr/boot.test/p2p/${B}`))), [
      `/ip4/192.0.2.2/tcp/4001/p2p/${B}`,
      `/ip6/2001:db8::2/tcp/4001/p2p/${B}`,
    ]);
    await assert.rejects(
      resolve(multiaddr(`/dnsaddr/c.boot.test/p2p/${A}`)),
      DnsResolutionError,
    );
  });

  it("other addresses pass through without a lookup", async () => {
    const dns = zone({});
    const resolve = dnsMultiaddrResolver(dns);
    const ma = multiaddr("/dns4/example.org/tcp/1");
    assert.deepEqual(await resolve(ma), [ma]);
    assert.equal(dns.lookups.length, 0);
  });

  it("a chain that never ends stops at the depth cap", async () => {
    const dns = {
      lookups: 0,
      resolveTxt(name: string): Promise<string[][]> {
        dns.lookups++;
        const n = Number(/^_dnsaddr\.l(\d+)\.test$/.exec(name)?.[1]);
        return Promise.resolve([[`dnsaddr=/dnsaddr/l${n + 1}.test`]]);
      },
    };
    const err = await dnsMultiaddrResolver(dns, { maxDepth: 4 })(multiaddr("/dnsaddr/l0.test"))
      .catch((e) => e);
    assert.ok(err instanceof DnsResolutionError);
    assert.match(err.message, /depth cap/);
    assert.equal(dns.lookups, 4);
  });

  it("a name that points to itself, and a wide tree, stop at the lookup cap", async () => {
    const loop = zone({ "_dnsaddr.self.test": ["dnsaddr=/dnsaddr/self.test"] });
    await assert.rejects(
      dnsMultiaddrResolver(loop)(multiaddr("/dnsaddr/self.test")),
      DnsResolutionError,
    );
    assert.ok(loop.lookups.length <= 4);
    // Every name has 50 children: depth 4 would be 6 million lookups.
    let lookups = 0;
    const wide: DnsResolver = {
      resolveTxt(name) {
        lookups++;
        return Promise.resolve(
          Array.from({ length: 50 }, (_, i) => [`dnsaddr=/dnsaddr/x${i}.${name.slice(9)}`]),
        );
      },
    };
    await assert.rejects(
      dnsMultiaddrResolver(wide, { maxLookups: 32 })(multiaddr("/dnsaddr/w.test")),
      /lookup cap/,
    );
    assert.equal(lookups, 32);
  });

  it("huge answers: records and results capped, long and malformed records skipped", async () => {
    const records = [
      `dnsaddr=/ip4/192.0.2.9/tcp/1/${"x".repeat(5000)}`,
      "dnsaddr=/not/a/multiaddr",
      "dnsaddr=",
      ...Array.from({ length: 10_000 }, (_, i) => `dnsaddr=/ip4/10.0.${i >> 8}.${i & 255}/tcp/1`),
    ];
    const dns = zone({ "_dnsaddr.big.test": records });
    const out = await dnsMultiaddrResolver(dns)(multiaddr("/dnsaddr/big.test"));
    assert.equal(out.length, DEFAULT_DNSADDR_MAX_RESULTS);
    assert.equal(out[0].toString(), "/ip4/10.0.0.0/tcp/1");
    // Strings of a record are joined; a non-string record is skipped.
    const split: DnsResolver = {
      resolveTxt: () =>
        Promise.resolve([["dnsaddr=/ip4/192.0.2.", "7/tcp/1"], [42 as unknown as string]]),
    };
    assert.deepEqual(strings(await dnsMultiaddrResolver(split)(multiaddr("/dnsaddr/s.test"))), [
      "/ip4/192.0.2.7/tcp/1",
    ]);
  });

  it("a server that never answers: the deadline, and the caller's signal", async () => {
    const never: DnsResolver = {
      resolveTxt: (_name, o) =>
        new Promise((_, reject) =>
          o?.signal?.addEventListener("abort", () => reject(o.signal!.reason))
        ),
    };
    const err = await dnsMultiaddrResolver(never, { timeoutMs: 50 })(
      multiaddr("/dnsaddr/slow.test"),
    ).catch((e) => e);
    assert.equal(err.name, "TimeoutError");
    const ac = new AbortController();
    const pending = dnsMultiaddrResolver(never)(multiaddr("/dnsaddr/slow.test"), {
      signal: ac.signal,
    });
    ac.abort(new Error("caller gave up"));
    await assert.rejects(pending, /caller gave up/);
  });

  it("hostnames: /dns4, /dns6, /dns through the resolver; TLS and localhost keep the name", async () => {
    const dns = zone({}, {
      resolve4: (name: string) =>
        Promise.resolve(name === "h.test" ? ["192.0.2.5", "192.0.2.6", "bogus"] : []),
      resolve6: (name: string) => Promise.resolve(name === "h.test" ? ["2001:db8::5"] : []),
    });
    const resolve = dnsMultiaddrResolver(dns, { resolveHostnames: true });
    assert.deepEqual(strings(await resolve(multiaddr(`/dns4/h.test/tcp/7/p2p/${A}`))), [
      `/ip4/192.0.2.5/tcp/7/p2p/${A}`,
      `/ip4/192.0.2.6/tcp/7/p2p/${A}`,
    ]);
    assert.deepEqual(strings(await resolve(multiaddr("/dns6/h.test/tcp/7"))), [
      "/ip6/2001:db8::5/tcp/7",
    ]);
    assert.deepEqual(strings(await resolve(multiaddr("/dns/h.test/tcp/7"))), [
      "/ip4/192.0.2.5/tcp/7",
      "/ip4/192.0.2.6/tcp/7",
      "/ip6/2001:db8::5/tcp/7",
    ]);
    for (const keep of ["/dns4/h.test/tcp/443/tls/ws", "/dns4/localhost/tcp/1"]) {
      assert.deepEqual(strings(await resolve(multiaddr(keep))), [keep]);
    }
    await assert.rejects(resolve(multiaddr("/dns4/none.test/tcp/1")), DnsResolutionError);
    // dnsaddr results are resolved further.
    const both = dnsMultiaddrResolver(
      zone({ "_dnsaddr.d.test": ["dnsaddr=/dns4/h.test/tcp/9"] }, {
        resolve4: () => Promise.resolve(["192.0.2.8"]),
      }),
      { resolveHostnames: true },
    );
    assert.deepEqual(strings(await both(multiaddr("/dnsaddr/d.test"))), ["/ip4/192.0.2.8/tcp/9"]);
  });
});

describe("node.dial through dnsaddr", () => {
  it("dials /dnsaddr/<name> (with and without /p2p) via the node option dns", async () => {
    const b = await testNode();
    const records: Record<string, string[]> = {
      "_dnsaddr.b.test": b.addrs().map((a) => `dnsaddr=${a}`),
    };
    const a = await testNode({ dns: zone(records) });
    try {
      const conn = await a.dial(`/dnsaddr/b.test/p2p/${b.peerId}`);
      assert.ok(conn.remotePeer.equals(b.peerId));
      await a.hangUp(b.peerId);
      const again = await a.dial("/dnsaddr/b.test");
      assert.ok(again.remotePeer.equals(b.peerId));
      await assert.rejects(a.dial(`/dnsaddr/b.test/p2p/${A}`), /could not resolve|no transport/);
    } finally {
      await a.stop();
      await b.stop();
    }
  });
});
