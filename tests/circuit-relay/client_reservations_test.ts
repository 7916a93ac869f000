/**
 * The relay client's reservation manager on a virtual clock: renewal at 3/4 of the lifetime,
 * bounded backoff forever for a relay named in a listen address (js-libp2p #3601 gives up),
 * re-reservation after the relay connection drops (a relay restart), discovered relays replaced
 * after repeated failures, and stop() leaving no timer behind.
 */

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { generateKeyPair, peerIdFromPrivateKey } from "../../src/keys/mod.ts";
import { multiaddr } from "../../src/multiaddr/mod.ts";
import type { PeerId } from "../../src/peer_id.ts";
import {
  backoffDelay,
  MAX_BACKOFF_MS,
  type RelayTarget,
  renewDelay,
  type ReservationInfo,
  ReservationManager,
} from "../../transports/circuit-relay/mod.ts";
import { flush, VirtualClock } from "./client_clock.ts";

const HOUR = 3_600_000;

async function peer(): Promise<PeerId> {
  return peerIdFromPrivateKey(await generateKeyPair("Ed25519"));
}

/** A manager whose `reserve` answers from a script the test controls. */
function setup(answer: (target: RelayTarget, n: number) => ReservationInfo | Error) {
  const clock = new VirtualClock();
  const calls: { at: number; peer: string }[] = [];
  let changes = 0;
  const reserved: string[] = [];
  const released: string[] = [];
  const manager = new ReservationManager({
    clock,
    reserve: (target) => {
      calls.push({ at: clock.now(), peer: target.peer.toString() });
      const a = answer(target, calls.length);
      return a instanceof Error ? Promise.reject(a) : Promise.resolve(a);
    },
    onChange: () => changes++,
    onReserved: (p) => reserved.push(p.toString()),
    onReleased: (p) => released.push(p.toString()),
  });
  return { clock, manager, calls, reserved, released, changes: () => changes };
}

function grant(clock: VirtualClock, ttlMs: number, connectionId = "c1"): ReservationInfo {
  return {
    addrs: [multiaddr("/ip4/127.0.0.1/tcp/4001")],
    expiresAt: clock.now() + ttlMs,
    connectionId,
  };
}

describe("relay client: reservation timing", () => {
  it("backoff doubles from 1 s and stops growing at 30 s; renewal at 3/4 of what is left", () => {
    assert.deepEqual([1, 2, 3, 4, 5, 6, 7, 50].map(backoffDelay), [
      1000,
      2000,
      4000,
      8000,
      16000,
      30000,
      30000,
      30000,
    ]);
    assert.equal(renewDelay(0, HOUR), 0.75 * HOUR);
    assert.equal(renewDelay(0, 100), 1000); // never faster than once a second
  });

  it("reserves at start and renews at 3/4 of the lifetime, again and again", async () => {
    const relay = await peer();
    const s = setup(() => grant(s.clock, HOUR));
    s.manager.add(1, { peer: relay, discovered: false });
    assert.equal(s.calls.length, 0, "nothing before start (the node is not started yet)");
    s.manager.start();
    await s.clock.advance(0);
    assert.equal(s.calls.length, 1);
    assert.equal(s.manager.entries()[0].state, "reserved");
    assert.ok(s.manager.isReservedWith(relay));
    assert.deepEqual(s.reserved, [relay.toString()]);
    const start = s.clock.now();
    assert.equal(s.manager.entries()[0].nextAttemptAt, start + 0.75 * HOUR);
    await s.clock.advance(0.75 * HOUR - 1);
    assert.equal(s.calls.length, 1);
    await s.clock.advance(1);
    assert.equal(s.calls.length, 2, "renewed at 3/4");
    await s.clock.advance(0.75 * HOUR);
    assert.equal(s.calls.length, 3, "and again");
    assert.equal(s.reserved.length, 1, "a renewal is not a new reservation");
    s.manager.stop();
    assert.equal(s.clock.timers.size, 0, "stop leaves no timer");
  });

  it("a relay that is down is retried with bounded backoff, forever, then reserved", async () => {
    const relay = await peer();
    let up = false;
    const s = setup(() => up ? grant(s.clock, HOUR) : new Error("connection refused"));
    s.manager.add(1, { peer: relay, addr: multiaddr(`/memory/x/p2p/${relay}`), discovered: false });
    s.manager.start();
    await s.clock.advance(0);
    // 100 failures: about an hour of a relay that is down. Never given up, never above the cap.
    for (let i = 0; i < 100; i++) await s.clock.advance(MAX_BACKOFF_MS);
    const gaps = s.calls.slice(1).map((c, i) => c.at - s.calls[i].at);
    assert.deepEqual(gaps.slice(0, 6), [1000, 2000, 4000, 8000, 16000, 30000]);
    assert.ok(gaps.every((g) => g <= MAX_BACKOFF_MS));
    assert.ok(s.calls.length > 95, `still retrying (${s.calls.length} attempts)`);
    assert.equal(s.manager.entries().length, 1);
    assert.equal(s.manager.entries()[0].state, "waiting");
    up = true;
    await s.clock.advance(MAX_BACKOFF_MS);
    assert.equal(s.manager.entries()[0].state, "reserved", "reserved once the relay is back");
    s.manager.stop();
  });

  it("a dropped relay connection (relay restart) is re-reserved at once, then with backoff", async () => {
    const relay = await peer();
    let up = true;
    let conn = 1;
    const s = setup(() => up ? grant(s.clock, HOUR, `c${conn}`) : new Error("refused"));
    s.manager.add(1, { peer: relay, discovered: false });
    s.manager.start();
    await s.clock.advance(0);
    assert.equal(s.manager.reservationsOf(1).length, 1);
    const changesBefore = s.changes();
    // The relay goes down: our connection closes, the reservation is gone with it.
    up = false;
    s.manager.connectionClosed("c1");
    assert.equal(s.manager.reservationsOf(1).length, 0);
    assert.ok(!s.manager.isReservedWith(relay));
    assert.ok(s.changes() > changesBefore, "addresses withdrawn");
    assert.deepEqual(s.released, [relay.toString()]);
    const before = s.calls.length;
    await s.clock.advance(0);
    assert.equal(s.calls.length, before + 1, "first retry right away");
    await s.clock.advance(1000 + 2000);
    assert.equal(s.calls.length, before + 3);
    // The relay is back (new process, same key and address).
    up = true;
    conn = 2;
    await s.clock.advance(4000);
    assert.equal(s.manager.entries()[0].state, "reserved");
    assert.equal(s.manager.reservationsOf(1)[0].reservation.connectionId, "c2");
    // A close of the old connection id changes nothing now.
    s.manager.connectionClosed("c1");
    assert.equal(s.manager.reservationsOf(1).length, 1);
    s.manager.stop();
  });

  it("a failed renewal keeps the reservation until it expires, retrying before that", async () => {
    const relay = await peer();
    let ok = true;
    const s = setup(() => ok ? grant(s.clock, 40_000) : new Error("timeout"));
    s.manager.add(1, { peer: relay, discovered: false });
    s.manager.start();
    await s.clock.advance(0);
    ok = false;
    await s.clock.advance(30_000); // renewal at 3/4 of 40 s fails
    assert.equal(s.calls.length, 2);
    assert.ok(s.manager.isReservedWith(relay), "still valid for 10 s");
    await s.clock.advance(10_000);
    assert.ok(!s.manager.isReservedWith(relay), "expired");
    assert.equal(s.manager.reservationsOf(1).length, 0);
    ok = true;
    await s.clock.advance(MAX_BACKOFF_MS);
    assert.ok(s.manager.isReservedWith(relay));
    s.manager.stop();
  });

  it("discovery: reserves on up to N candidates, replaces one that keeps failing", async () => {
    const [r1, r2, r3] = [await peer(), await peer(), await peer()];
    const bad = r1.toString();
    const s = setup((t) => t.peer.toString() === bad ? new Error("refused") : grant(s.clock, HOUR));
    s.manager.start();
    s.manager.want(7, 1);
    s.manager.addCandidate(r1);
    s.manager.addCandidate(r2);
    s.manager.addCandidate(r3);
    await s.clock.advance(0);
    assert.equal(s.manager.entries().length, 1, "one relay wanted");
    await s.clock.advance(1000 + 2000);
    // r1 failed three times: given up, r2 picked.
    const entries = s.manager.entries();
    assert.equal(entries.length, 1);
    assert.equal(entries[0].target.peer.toString(), r2.toString());
    assert.equal(entries[0].state, "reserved");
    assert.equal(s.manager.reservationsOf(7).length, 1);
    s.manager.removeOwner(7);
    assert.equal(s.manager.entries().length, 0);
    await flush();
    s.manager.stop();
    assert.equal(s.clock.timers.size, 0);
  });

  it("a reservation that expired already is a failure, not a reservation", async () => {
    const relay = await peer();
    const s = setup(() => grant(s.clock, -1));
    s.manager.add(1, { peer: relay, discovered: false });
    s.manager.start();
    await s.clock.advance(0);
    assert.equal(s.manager.entries()[0].state, "waiting");
    assert.equal(s.manager.entries()[0].failures, 1);
    assert.ok(!s.manager.isReservedWith(relay));
    s.manager.stop();
  });
});
