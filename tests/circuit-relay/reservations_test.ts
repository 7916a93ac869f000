/**
 * The relay's reservation table, sans-IO on a virtual clock: expiry, one slot per peer (replaced
 * on re-reserve), caps in total and per address block, token-bucket rate limits per peer and per
 * block, circuit caps, and the status code of every refusal.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { Status } from "../../protocols/circuit-relay/codec.ts";
import {
  addressBlock,
  MAX_RATE_BUCKETS,
  ReservationTable,
} from "../../protocols/circuit-relay/reservations.ts";
import { multiaddr } from "../../src/multiaddr/mod.ts";

const HOUR = 3_600_000;
const LOOSE = { burst: 1000, perHour: 1000 };

describe("reservation table", () => {
  it("grants with expiry and forgets expired reservations", () => {
    const t = new ReservationTable({ reservationTtl: 1000 });
    const r = t.reserve("a", "ip4/192.0.2", 5000);
    assert.ok(r.ok);
    assert.equal(r.entry.expiresAt, 6000);
    assert.equal(t.get("a", 5999)?.peer, "a");
    assert.equal(t.get("a", 6000), undefined);
    assert.equal(t.size, 0);
  });

  it("one slot per peer: re-reserving replaces, even from another block", () => {
    const t = new ReservationTable({ maxReservations: 1, maxReservationsPerBlock: 1 });
    assert.ok(t.reserve("a", "ip4/192.0.2", 0).ok);
    const again = t.reserve("a", "ip4/198.51.100", 10);
    assert.ok(again.ok && again.replaced);
    assert.equal(t.size, 1);
    // The old block's slot was released with the old reservation.
    assert.equal(t.reserve("b", "ip4/192.0.2", 20).ok, false);
    t.remove("a");
    assert.ok(t.reserve("b", "ip4/192.0.2", 30).ok);
  });

  it("many reconnects of one peer never exhaust the table (go-libp2p #2963)", () => {
    const t = new ReservationTable({ maxReservations: 2, peerRate: LOOSE });
    for (let i = 0; i < 100; i++) assert.ok(t.reserve("a", `ip4/10.0.${i}`, i).ok);
    assert.equal(t.size, 1);
    assert.ok(t.reserve("b", undefined, 200).ok);
  });

  it("caps in total with RESERVATION_REFUSED, and frees expired slots first", () => {
    const t = new ReservationTable({ maxReservations: 2, reservationTtl: 100 });
    assert.ok(t.reserve("a", undefined, 0).ok);
    assert.ok(t.reserve("b", undefined, 50).ok);
    const r = t.reserve("c", undefined, 60);
    assert.deepEqual(r.ok ? undefined : r.status, Status.RESERVATION_REFUSED);
    assert.ok(t.reserve("c", undefined, 100).ok, "a's reservation expired at 100");
  });

  it("caps per address block (IPv4 /24, IPv6 /48)", () => {
    const t = new ReservationTable({ maxReservationsPerBlock: 2, blockRate: LOOSE });
    const block = addressBlock(multiaddr("/ip4/192.0.2.1/tcp/1").bytes);
    assert.equal(block, addressBlock(multiaddr("/ip4/192.0.2.200/tcp/9").bytes));
    assert.ok(t.reserve("a", block, 0).ok);
    assert.ok(t.reserve("b", block, 0).ok);
    const r = t.reserve("c", block, 0);
    assert.equal(r.ok ? undefined : r.status, Status.RESERVATION_REFUSED);
    assert.ok(t.reserve("c", addressBlock(multiaddr("/ip4/192.0.3.1/tcp/1").bytes), 0).ok);
  });

  it("address blocks", () => {
    assert.equal(addressBlock(multiaddr("/ip4/203.0.113.9/tcp/1").bytes), "ip4/203.0.113");
    assert.equal(
      addressBlock(multiaddr("/ip6/2001:db8:1:2::1/tcp/1").bytes),
      addressBlock(multiaddr("/ip6/2001:db8:1:ffff::9/udp/1").bytes),
    );
    assert.equal(addressBlock(multiaddr("/ip6/2001:db8:1:2::1/tcp/1").bytes), "ip6/2001:db8:1");
    assert.notEqual(
      addressBlock(multiaddr("/ip6/2001:db8:1::1/tcp/1").bytes),
      addressBlock(multiaddr("/ip6/2001:db8:2::1/tcp/1").bytes),
    );
    assert.equal(addressBlock(multiaddr("/ip6/::ffff:192.0.2.1/tcp/1").bytes), "ip4/192.0.2");
    assert.equal(addressBlock(multiaddr("/memory/x").bytes), undefined);
  });

  it("rate-limits reservations per peer with a token bucket", () => {
    const t = new ReservationTable({ peerRate: { burst: 3, perHour: 6 } });
    for (let i = 0; i < 3; i++) assert.ok(t.reserve("a", undefined, 0).ok);
    const r = t.reserve("a", undefined, 0);
    assert.equal(r.ok ? undefined : r.status, Status.RESERVATION_REFUSED);
    assert.equal(t.reserve("a", undefined, HOUR / 6 - 1).ok, false);
    assert.ok(t.reserve("a", undefined, HOUR / 6).ok, "one token back after 10 min");
    // Refusals do not cost the peer's reservation.
    assert.ok(t.get("a", HOUR / 6));
  });

  it("rate-limits reservations per address block across many ids", () => {
    const t = new ReservationTable({
      blockRate: { burst: 5, perHour: 60 },
      maxReservationsPerBlock: 100,
    });
    for (let i = 0; i < 5; i++) assert.ok(t.reserve(`p${i}`, "ip4/192.0.2", 0).ok);
    const r = t.reserve("p5", "ip4/192.0.2", 0);
    assert.equal(r.ok ? undefined : r.status, Status.RESERVATION_REFUSED);
    assert.ok(t.reserve("p5", "ip4/192.0.3", 0).ok);
    assert.ok(t.reserve("p6", "ip4/192.0.2", 60_000).ok);
  });

  it("rate buckets stay bounded under a flood of distinct ids", () => {
    const t = new ReservationTable({ maxReservations: 10 });
    for (let i = 0; i < MAX_RATE_BUCKETS + 500; i++) t.reserve(`p${i}`, undefined, 0);
    assert.ok(t.rateBuckets <= MAX_RATE_BUCKETS);
    assert.equal(t.size, 10);
    t.sweep(10 * HOUR);
    assert.equal(t.rateBuckets, 0);
  });

  it("circuits: per-peer and total caps with RESOURCE_LIMIT_EXCEEDED", () => {
    const t = new ReservationTable({ maxCircuitsPerPeer: 2, maxCircuits: 3 });
    assert.ok(t.openCircuit("s1", "t").ok);
    assert.ok(t.openCircuit("s2", "t").ok);
    const flood = t.openCircuit("s3", "t");
    assert.equal(flood.ok ? undefined : flood.status, Status.RESOURCE_LIMIT_EXCEEDED);
    assert.ok(t.openCircuit("s3", "u").ok);
    const total = t.openCircuit("s4", "v");
    assert.equal(total.ok ? undefined : total.status, Status.RESOURCE_LIMIT_EXCEEDED);
    t.closeCircuit("s1", "t");
    assert.equal(t.circuitsOf("s1"), 0);
    assert.equal(t.circuitsOf("t"), 1);
    assert.ok(t.openCircuit("s3", "t").ok);
    assert.equal(t.circuits, 3);
  });

  it("clear drops everything", () => {
    const t = new ReservationTable();
    t.reserve("a", "ip4/1.2.3", 0);
    t.openCircuit("a", "b");
    t.clear();
    assert.equal(t.size, 0);
    assert.equal(t.circuits, 0);
  });

  it("refuses nonsense options", () => {
    assert.throws(() => new ReservationTable({ reservationTtl: 0 }), RangeError);
    assert.throws(() => new ReservationTable({ maxReservations: -1 }), RangeError);
    assert.throws(() => new ReservationTable({ peerRate: { burst: 0, perHour: 1 } }), RangeError);
  });
});
