/**
 * Keyspace, IP groups and the routing table: CPL buckets, least-recently-seen replacement only
 * after a failed check, IP-group caps per table and per bucket, private-only peers, and
 * closest() against a brute-force sort.
 */

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { fromHex, toHex, utf8Encode } from "../../src/bytes.ts";
import { parseIPv6 } from "../../src/multiaddr/ip.ts";
import {
  commonPrefixLength,
  compareDistance,
  kadId,
  MAX_REFRESH_CPL,
  refreshKeyForCpl,
  xorDistance,
} from "../../protocols/kad-dht/keyspace.ts";
import { ipGroupOf, ipGroupsOf, isPublicMultiaddr } from "../../protocols/kad-dht/ip_group.ts";
import { RoutingTable } from "../../protocols/kad-dht/routing_table.ts";

/** /ip4/a.b.c.1/tcp/4001 as multiaddr bytes. */
function ip4(a: number, b: number, c = 0): Uint8Array {
  return new Uint8Array([4, a, b, c, 1, 6, 0x0f, 0xa1]);
}

function ip6(text: string): Uint8Array {
  const out = new Uint8Array(17);
  out[0] = 41;
  out.set(parseIPv6(text)!, 1);
  return out;
}

/** Deterministic pseudo-random ids (xorshift32). */
function idGen(seed: number): () => Uint8Array {
  let s = seed >>> 0 || 1;
  return () => {
    const out = new Uint8Array(34);
    out[0] = 0x12;
    out[1] = 0x20;
    for (let i = 2; i < 34; i++) {
      s ^= s << 13;
      s ^= s >>> 17;
      s ^= s << 5;
      out[i] = s & 0xff;
    }
    return out;
  };
}

/** `count` ids that land in bucket `cpl` of a table for `self`. */
function idsInBucket(table: RoutingTable, cpl: number, count: number, seed: number): Uint8Array[] {
  const next = idGen(seed);
  const out: Uint8Array[] = [];
  while (out.length < count) {
    const id = next();
    if (table.bucketIndex(kadId(id)) === cpl) out.push(id);
  }
  return out;
}

describe("kad-dht keyspace", () => {
  it("positions are sha256 of the bytes", () => {
    // FIPS 180-2 sha256("abc").
    assert.equal(
      toHex(kadId(utf8Encode("abc"))),
      "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
    );
  });

  it("CPL, XOR and distance order", () => {
    assert.equal(commonPrefixLength(fromHex("00ff"), fromHex("00ff")), 16);
    assert.equal(commonPrefixLength(fromHex("0080"), fromHex("00c0")), 9);
    assert.equal(commonPrefixLength(fromHex("80"), fromHex("00")), 0);
    assert.equal(toHex(xorDistance(fromHex("0f0f"), fromHex("ff00"))), "f00f");
    const t = fromHex("0000");
    assert.ok(compareDistance(fromHex("0001"), fromHex("0100"), t) < 0);
    assert.ok(compareDistance(fromHex("0100"), fromHex("0001"), t) > 0);
    assert.equal(compareDistance(fromHex("0100"), fromHex("0100"), t), 0);
  });

  it("refresh keys land in the bucket asked for", () => {
    const self = kadId(utf8Encode("self"));
    const next = idGen(3);
    for (const cpl of [0, 1, 7, 12]) {
      const key = refreshKeyForCpl(self, cpl, () => next().subarray(2));
      assert.equal(commonPrefixLength(kadId(key), self), cpl);
      assert.deepEqual([...key.subarray(0, 2)], [0x12, 0x20]);
    }
    assert.throws(() => refreshKeyForCpl(self, MAX_REFRESH_CPL + 1, () => new Uint8Array(32)));
  });
});

describe("kad-dht IP groups", () => {
  it("IPv4 /16, IPv6 /32, mapped IPv4 as IPv4, private ranges have none", () => {
    assert.equal(ipGroupOf(ip4(8, 8, 4)), "ip4/8.8");
    assert.equal(ipGroupOf(ip6("2001:4860:4860::8888")), "ip6/2001:4860");
    assert.equal(ipGroupOf(ip6("::ffff:8.8.4.4")), "ip4/8.8");
    for (const a of [ip4(10, 1), ip4(127, 0), ip4(192, 168), ip4(172, 20), ip4(100, 100)]) {
      assert.equal(ipGroupOf(a), undefined);
    }
    for (const t of ["::1", "fe80::1", "fd00::1", "2001:db8::1", "ff02::1", "::ffff:10.0.0.1"]) {
      assert.equal(ipGroupOf(ip6(t)), undefined, t);
    }
    // dns4 (code 54) has no group.
    assert.equal(ipGroupOf(new Uint8Array([54, 3, 0x61, 0x62, 0x63])), undefined);
    assert.deepEqual(ipGroupsOf([ip4(8, 8, 1), ip4(8, 8, 2), ip4(9, 9)]), ["ip4/8.8", "ip4/9.9"]);
  });

  it("isPublicMultiaddr: public IPs and DNS names only", () => {
    const dns4 = (name: string): Uint8Array =>
      new Uint8Array([54, name.length, ...utf8Encode(name)]);
    assert.ok(isPublicMultiaddr(ip4(8, 8)));
    assert.ok(isPublicMultiaddr(ip6("2606:4700::1")));
    assert.ok(isPublicMultiaddr(dns4("bootstrap.libp2p.io")));
    assert.ok(!isPublicMultiaddr(dns4("localhost")));
    assert.ok(!isPublicMultiaddr(ip4(127, 0)));
    assert.ok(!isPublicMultiaddr(ip6("::1")));
    assert.ok(!isPublicMultiaddr(new Uint8Array([54, 9, 1])));
    assert.ok(!isPublicMultiaddr(new Uint8Array([0x91, 0x02]))); // p2p-circuit first
    assert.ok(!isPublicMultiaddr(new Uint8Array(0)));
  });
});

describe("kad-dht routing table", () => {
  const self = idGen(999)();

  it("rejects self and updates a known peer", () => {
    const t = new RoutingTable({ selfId: self });
    assert.deepEqual(t.add(self, [ip4(8, 8)], 0), { action: "rejected", reason: "self" });
    const id = idGen(1)();
    assert.equal(t.add(id, [ip4(8, 8)], 0).action, "added");
    assert.equal(t.add(id, [ip4(8, 8)], 5).action, "updated");
    assert.equal(t.get(id)?.lastSeen, 5);
    assert.equal(t.size, 1);
  });

  it("a full bucket asks for a check of its least recently seen contact", () => {
    const t = new RoutingTable({ selfId: self });
    const ids = idsInBucket(t, 0, 23, 7);
    for (let i = 0; i < 20; i++) assert.equal(t.add(ids[i], [ip4(20 + i, 1)], i).action, "added");
    // ids[0] is least recently seen; seeing it moves ids[1] to the front.
    assert.ok(t.markSeen(ids[0], 100));
    const r = t.add(ids[20], [ip4(50, 1)], 101);
    assert.equal(r.action, "check");
    assert.deepEqual(r.action === "check" && r.old.peerId, ids[1]);
    // One check per bucket at a time.
    assert.deepEqual(t.add(ids[21], [ip4(51, 1)], 102), {
      action: "rejected",
      reason: "check-pending",
    });
    assert.equal(t.pendingChecks, 1);
    // The old contact answered: it stays and the newcomer is dropped.
    assert.equal(t.resolveCheck(ids[1], true, 103).action, "kept");
    assert.ok(!t.has(ids[20]));
    assert.equal(t.size, 20);
    // Next newcomer: the check targets ids[2], which fails: it is replaced.
    const r2 = t.add(ids[22], [ip4(52, 1)], 104);
    assert.ok(r2.action === "check" && r2.old.peerId === ids[2]);
    const res = t.resolveCheck(ids[2], false, 105);
    assert.equal(res.action, "replaced");
    assert.ok(t.has(ids[22]) && !t.has(ids[2]));
    assert.equal(t.size, 20);
    assert.equal(t.resolveCheck(ids[2], false, 106).action, "unknown");
  });

  it("caps contacts per IP group in a bucket and in the table", () => {
    const t = new RoutingTable({ selfId: self });
    const b0 = idsInBucket(t, 0, 3, 11);
    assert.equal(t.add(b0[0], [ip4(8, 8, 1)], 0).action, "added");
    assert.equal(t.add(b0[1], [ip4(8, 8, 2)], 0).action, "added");
    assert.deepEqual(t.add(b0[2], [ip4(8, 8, 3)], 0), {
      action: "rejected",
      reason: "ip-group-bucket",
    });
    const b1 = idsInBucket(t, 1, 2, 12);
    assert.equal(t.add(b1[0], [ip4(8, 8, 4)], 0).action, "added");
    assert.deepEqual(t.add(b1[1], [ip4(8, 8, 5)], 0), {
      action: "rejected",
      reason: "ip-group-table",
    });
    // A peer with one good and one full group is refused; removal frees the slot.
    assert.equal(t.add(b1[1], [ip4(9, 9), ip4(8, 8, 6)], 0).action, "rejected");
    t.remove(b1[0]);
    assert.equal(t.add(b1[1], [ip4(9, 9), ip4(8, 8, 6)], 0).action, "added");
  });

  it("poisoning from one address block fills at most the group cap", () => {
    const t = new RoutingTable({ selfId: self });
    const next = idGen(77);
    let added = 0;
    for (let i = 0; i < 10_000; i++) {
      if (t.add(next(), [ip4(66, 77, i & 0xff)], i).action === "added") added++;
    }
    assert.equal(added, 3);
  });

  it("peers with no public address are refused unless private addresses are allowed", () => {
    const id = idGen(5)();
    const strict = new RoutingTable({ selfId: self });
    assert.deepEqual(strict.add(id, [ip4(127, 0)], 0), {
      action: "rejected",
      reason: "no-public-address",
    });
    assert.deepEqual(strict.add(id, [], 0), { action: "rejected", reason: "no-public-address" });
    const lan = new RoutingTable({ selfId: self, allowPrivateAddresses: true });
    const next = idGen(6);
    for (let i = 0; i < 50; i++) lan.add(next(), [ip4(127, 0)], 0);
    assert.ok(lan.size >= 40); // no diversity cap, only bucket sizes
  });

  it("closest() equals a brute-force sort by XOR distance", () => {
    const t = new RoutingTable({ selfId: self, allowPrivateAddresses: true });
    const next = idGen(42);
    for (let i = 0; i < 2000; i++) t.add(next(), [ip4(10, 0)], i);
    const all = [...t.contacts()];
    assert.ok(all.length > 100);
    const targets = [t.selfKadId, kadId(utf8Encode("x")), ...all.slice(0, 20).map((c) => c.kadId)];
    for (let i = 0; i < 30; i++) targets.push(kadId(next()));
    for (const target of targets) {
      for (const n of [1, 20, 500]) {
        const expect = [...all]
          .sort((a, b) => compareDistance(a.kadId, b.kadId, target))
          .slice(0, n)
          .map((c) => toHex(c.peerId));
        assert.deepEqual(t.closest(target, n).map((c) => toHex(c.peerId)), expect);
      }
    }
  });
});
