/**
 * The registration store machine (sans-IO, an explicit clock): TTL range and default, expiry,
 * replacement of a peer's registration in a namespace, paging with cookies (newer-only polling,
 * cookies bound to the namespace and the store), the response byte budget, and the caps
 * (per peer, in total, results per query, record size).
 */

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import {
  DEFAULT_TTL,
  MAX_DISCOVER_LIMIT,
  MAX_REGISTRATIONS_PER_PEER,
  MAX_TTL,
  MIN_TTL,
  RegistrationStore,
  type RegistrationStoreOptions,
  ResponseStatus,
} from "../../protocols/rendezvous/mod.ts";

const REC = new Uint8Array([1, 2, 3]);
const H = 3_600_000; // one hour, ms

function store(options: RegistrationStoreOptions = {}): RegistrationStore {
  return new RegistrationStore({ seqBase: 1_000_000, ...options });
}

function reg(s: RegistrationStore, peer: string, namespace: string, now = 0, ttl?: number) {
  return s.register({ peer, namespace, signedPeerRecord: REC, ttl }, now);
}

function peersOf(s: RegistrationStore, namespace: string | undefined, now: number, extra = {}) {
  const r = s.discover({ namespace, ...extra }, now);
  assert.equal(r.status, ResponseStatus.OK);
  if (!("registrations" in r)) throw new Error("refused");
  return { peers: r.registrations.map((x) => x.registration.peer), cookie: r.cookie, r };
}

describe("rendezvous registration store", () => {
  it("grants the default TTL and refuses TTLs outside [min, max]", () => {
    const s = store();
    assert.deepEqual(reg(s, "a", "ns"), { status: 0, ttl: DEFAULT_TTL, replaced: false });
    assert.equal(reg(s, "b", "ns", 0, MIN_TTL - 1).status, ResponseStatus.E_INVALID_TTL);
    assert.equal(reg(s, "b", "ns", 0, MAX_TTL + 1).status, ResponseStatus.E_INVALID_TTL);
    assert.equal(reg(s, "b", "ns", 0, 0).status, ResponseStatus.E_INVALID_TTL);
    const huge = s.register({
      peer: "b",
      namespace: "ns",
      signedPeerRecord: REC,
      ttl: 2n ** 64n - 1n,
    }, 0);
    assert.equal(huge.status, ResponseStatus.E_INVALID_TTL);
    assert.deepEqual(reg(s, "b", "ns", 0, MAX_TTL), { status: 0, ttl: MAX_TTL, replaced: false });
    assert.equal(s.size, 2);
  });

  it("refuses empty and over-255-byte namespaces, and empty or oversized records", () => {
    const s = store({ maxRecordBytes: 10 });
    assert.equal(reg(s, "a", "").status, ResponseStatus.E_INVALID_NAMESPACE);
    assert.equal(reg(s, "a", "x".repeat(256)).status, ResponseStatus.E_INVALID_NAMESPACE);
    assert.equal(reg(s, "a", "é".repeat(128)).status, ResponseStatus.E_INVALID_NAMESPACE); // 256 bytes
    assert.equal(reg(s, "a", "x".repeat(255)).status, ResponseStatus.OK);
    const empty = s.register({ peer: "a", namespace: "y", signedPeerRecord: new Uint8Array(0) }, 0);
    assert.equal(empty.status, ResponseStatus.E_INVALID_SIGNED_PEER_RECORD);
    const big = s.register({ peer: "a", namespace: "y", signedPeerRecord: new Uint8Array(11) }, 0);
    assert.equal(big.status, ResponseStatus.E_INVALID_SIGNED_PEER_RECORD);
    const d = s.discover({ namespace: "z".repeat(300) }, 0);
    assert.equal(d.status, ResponseStatus.E_INVALID_NAMESPACE);
  });

  it("expires a registration at its TTL, and the next expiry is known", () => {
    const s = store();
    reg(s, "a", "ns", 0, 2 * 3600);
    reg(s, "b", "ns", 0, 3 * 3600);
    assert.equal(s.nextExpiry(), 2 * H);
    assert.deepEqual(peersOf(s, "ns", 2 * H - 1).peers, ["a", "b"]);
    assert.deepEqual(peersOf(s, "ns", 2 * H).peers, ["b"]);
    assert.equal(s.nextExpiry(), 3 * H);
    const gone = s.expire(3 * H);
    assert.deepEqual(gone.map((r) => r.peer), ["b"]);
    assert.equal(s.size, 0);
    assert.equal(s.namespaces, 0);
    assert.equal(s.nextExpiry(), undefined);
  });

  it("expires thousands at once and keeps every index consistent", () => {
    const s = store();
    for (let i = 0; i < 3_000; i++) reg(s, `p${i % 1_000}`, `ns${i % 3}`, 0, i % 2 ? 7200 : 9000);
    assert.equal(s.size, 3_000);
    const gone = s.expire(7_200_000);
    assert.equal(gone.length, 1_500);
    assert.equal(s.size, 1_500);
    let total = 0;
    for (const ns of ["ns0", "ns1", "ns2"]) {
      const { peers } = peersOf(s, ns, 7_200_000);
      total += peers.length;
    }
    assert.equal(total, 1_500);
    assert.equal(peersOf(s, undefined, 7_200_000).peers.length, MAX_DISCOVER_LIMIT);
    assert.equal(s.countFor("p0"), 3); // registered at i = 0, 1000, 2000: all 9000 s
    assert.equal(s.countFor("p1"), 0); // i = 1, 1001, 2001: all 7200 s, expired
    assert.equal(s.expire(9_000_000).length, 1_500);
    assert.equal(s.size, 0);
    assert.equal(s.namespaces, 0);
  });

  it("reports the remaining TTL in discover answers", () => {
    const s = store();
    reg(s, "a", "ns", 0, 7200);
    const { r } = peersOf(s, "ns", 3_600_500);
    if (!("registrations" in r)) throw new Error();
    assert.equal(r.registrations[0].ttl, 3600); // 3599.5 s rounded up
  });

  it("replaces a peer's registration in a namespace (new TTL, new position, one entry)", () => {
    const s = store();
    reg(s, "a", "ns", 0);
    reg(s, "b", "ns", 0);
    const { cookie } = peersOf(s, "ns", 0);
    const r = s.register({
      peer: "a",
      namespace: "ns",
      signedPeerRecord: new Uint8Array([9]),
      ttl: 3 * 3600,
    }, H);
    assert.deepEqual(r, { status: 0, ttl: 3 * 3600, replaced: true });
    assert.equal(s.size, 2);
    assert.equal(s.countFor("a"), 1);
    // The refreshed registration is newer than the cookie: a poll sees it again, with its record.
    const poll = s.discover({ namespace: "ns", cookie }, H);
    if (!("registrations" in poll)) throw new Error();
    assert.deepEqual(poll.registrations.map((x) => x.registration.peer), ["a"]);
    assert.deepEqual(poll.registrations[0].registration.signedPeerRecord, new Uint8Array([9]));
    // It lives to its new expiry, not the old one.
    assert.deepEqual(peersOf(s, "ns", 2 * H + 1).peers, ["a"]);
    assert.deepEqual(peersOf(s, "ns", 4 * H).peers, []);
  });

  it("unregisters", () => {
    const s = store();
    reg(s, "a", "ns");
    reg(s, "a", "other");
    assert.equal(s.unregister("a", "ns", 0), true);
    assert.equal(s.unregister("a", "ns", 0), false);
    assert.deepEqual(peersOf(s, "ns", 0).peers, []);
    assert.deepEqual(peersOf(s, "other", 0).peers, ["a"]);
    assert.equal(s.countFor("a"), 1);
  });

  it("pages with limit and cookie, then polls only what is new", () => {
    const s = store();
    for (let i = 0; i < 10; i++) reg(s, `p${i}`, "ns");
    reg(s, "q", "elsewhere");
    const seen: string[] = [];
    let cookie: Uint8Array | undefined;
    for (let page = 0; page < 4; page++) {
      const r = peersOf(s, "ns", 0, { limit: 3, cookie });
      seen.push(...r.peers);
      cookie = r.cookie;
    }
    assert.deepEqual(seen, Array.from({ length: 10 }, (_, i) => `p${i}`));
    assert.deepEqual(peersOf(s, "ns", 0, { cookie }).peers, []);
    reg(s, "late", "ns");
    reg(s, "late2", "elsewhere");
    assert.deepEqual(peersOf(s, "ns", 0, { cookie }).peers, ["late"]);
  });

  it("discovers every namespace without one, paged the same way", () => {
    const s = store();
    reg(s, "a", "x");
    reg(s, "b", "y");
    reg(s, "c", "x");
    const first = peersOf(s, undefined, 0, { limit: 2 });
    assert.deepEqual(first.peers, ["a", "b"]);
    assert.deepEqual(peersOf(s, "", 0, { cookie: first.cookie }).peers, ["c"]);
  });

  it("writes cookies as rust-libp2p reads them: [u64 position][namespace]", () => {
    const s = store();
    reg(s, "a", "chat");
    const { cookie } = peersOf(s, "chat", 0);
    assert.equal(cookie.byteLength, 8 + 4);
    assert.equal(new DataView(cookie.buffer).getBigUint64(0), 1_000_001n);
    assert.equal(new TextDecoder().decode(cookie.subarray(8)), "chat");
    assert.equal(peersOf(s, undefined, 0).cookie.byteLength, 8); // all namespaces: no suffix
  });

  it("refuses cookies of another namespace, ahead of the store, or malformed", () => {
    const s = store();
    reg(s, "a", "x");
    reg(s, "b", "y");
    const x = peersOf(s, "x", 0).cookie;
    const all = peersOf(s, undefined, 0).cookie;
    assert.equal(
      s.discover({ namespace: "y", cookie: x }, 0).status,
      ResponseStatus.E_INVALID_COOKIE,
    );
    assert.equal(
      s.discover({ namespace: "x", cookie: all }, 0).status,
      ResponseStatus.E_INVALID_COOKIE,
    );
    assert.equal(s.discover({ cookie: x }, 0).status, ResponseStatus.E_INVALID_COOKIE);
    assert.equal(
      s.discover({ cookie: new Uint8Array([1, 2, 3]) }, 0).status,
      ResponseStatus.E_INVALID_COOKIE,
    );
    const ahead = all.slice();
    ahead[0] = 0x7f; // a position the store never reached
    assert.equal(s.discover({ cookie: ahead }, 0).status, ResponseStatus.E_INVALID_COOKIE);
  });

  it("takes a cookie of an earlier run of the point as older than everything", () => {
    const before = store({ seqBase: 10 });
    reg(before, "a", "x");
    const old = peersOf(before, "x", 0).cookie;
    const s = store(); // restarted: later sequence numbers
    reg(s, "b", "x");
    reg(s, "c", "x");
    assert.deepEqual(peersOf(s, "x", 0, { cookie: old }).peers, ["b", "c"]);
  });

  it(`caps results per query at ${MAX_DISCOVER_LIMIT}`, () => {
    const s = store();
    for (let i = 0; i < MAX_DISCOVER_LIMIT + 5; i++) reg(s, `p${i}`, "ns");
    assert.equal(peersOf(s, "ns", 0).peers.length, MAX_DISCOVER_LIMIT);
    assert.equal(peersOf(s, "ns", 0, { limit: 5_000n }).peers.length, MAX_DISCOVER_LIMIT);
    const first = peersOf(s, "ns", 0);
    assert.equal(peersOf(s, "ns", 0, { cookie: first.cookie }).peers.length, 5);
  });

  it("fills an answer only up to the byte budget and pages the rest", () => {
    const s = store();
    for (let i = 0; i < 10; i++) {
      s.register({ peer: `p${i}`, namespace: "ns", signedPeerRecord: new Uint8Array(1000) }, 0);
    }
    const first = peersOf(s, "ns", 0, { maxBytes: 3_500 });
    assert.equal(first.peers.length, 3);
    const rest = peersOf(s, "ns", 0, { cookie: first.cookie });
    assert.equal(rest.peers.length, 7);
    // One registration is always returned, even past the budget: paging never stalls.
    assert.equal(peersOf(s, "ns", 0, { maxBytes: 10 }).peers.length, 1);
  });

  it(`caps registrations per peer at ${MAX_REGISTRATIONS_PER_PEER}; replacing does not count`, () => {
    const s = store();
    for (let i = 0; i < MAX_REGISTRATIONS_PER_PEER; i++) {
      assert.equal(reg(s, "a", `ns${i}`).status, ResponseStatus.OK);
    }
    assert.equal(reg(s, "a", "one-more").status, ResponseStatus.E_UNAVAILABLE);
    assert.equal(reg(s, "a", "ns0").status, ResponseStatus.OK); // a refresh
    assert.equal(reg(s, "b", "one-more").status, ResponseStatus.OK); // other peers unaffected
    s.unregister("a", "ns1", 0);
    assert.equal(reg(s, "a", "one-more").status, ResponseStatus.OK);
  });

  it("caps registrations in total and frees room as they expire", () => {
    const s = store({ maxRegistrations: 100 });
    for (let i = 0; i < 100; i++) assert.equal(reg(s, `p${i}`, "ns", 0).status, ResponseStatus.OK);
    assert.equal(reg(s, "late", "ns", 0).status, ResponseStatus.E_UNAVAILABLE);
    assert.equal(reg(s, "p5", "ns", H).status, ResponseStatus.OK); // a refresh still works
    assert.equal(s.size, 100);
    assert.equal(reg(s, "late", "ns", 2 * H + 1).status, ResponseStatus.OK); // all others expired
    assert.equal(s.size, 2);
  });

  it("validates its options", () => {
    assert.throws(() => new RegistrationStore({ minTtl: 10, maxTtl: 5 }), RangeError);
    assert.throws(() => new RegistrationStore({ maxRegistrations: -1 }), RangeError);
    assert.throws(() => new RegistrationStore({ seqBase: -1 }), RangeError);
  });
});
