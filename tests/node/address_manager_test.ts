/**
 * The address manager (issue 16 section 5): listen/announce/appendAnnounce/noAnnounce, observed
 * addresses confirmed only by enough distinct observers (distinct peers in distinct IP groups),
 * a reachability state a NAT service sets, getMultiaddrs(), and `self:peer:update` plus an
 * identify push when our addresses change.
 */

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { multiaddr } from "../../src/multiaddr/mod.ts";
import {
  AddressManager,
  OBSERVATION_TTL_MS,
  OBSERVED_ADDR_CONFIRMATIONS,
} from "../../src/node/address_manager.ts";
import { identify, type IdentifyService } from "../../protocols/identify/mod.ts";
import { nextEvent, stopAll, testNode, until } from "../helpers/nodes.ts";

const LISTEN = "/ip4/10.0.0.2/tcp/4001";
const PUBLIC = "/ip4/203.0.113.9/tcp/4001";

function observer(n: number, ip: string) {
  return { peer: `peer-${n}`, remoteAddr: multiaddr(`/ip4/${ip}/tcp/${1000 + n}`) };
}

function manager(options = {}) {
  let t = 1_000_000;
  let changes = 0;
  const am = new AddressManager(options, { now: () => t, onChange: () => void changes++ });
  am.setListening([multiaddr(LISTEN)]);
  return {
    am,
    advance: (ms: number) => void (t += ms),
    changes: () => changes,
  };
}

describe("AddressManager", () => {
  it("announce replaces the listening addresses; appendAnnounce adds; noAnnounce removes", () => {
    const plain = manager({ appendAnnounce: ["/dns4/example.com/tcp/443/wss"] });
    assert.deepEqual(plain.am.getAddresses().map(String), [
      LISTEN,
      "/dns4/example.com/tcp/443/wss",
    ]);
    const announced = manager({
      announce: [PUBLIC, "/ip4/198.51.100.1/tcp/1"],
      appendAnnounce: ["/dns4/example.com/tcp/443/wss"],
      noAnnounce: [
        "/ip4/198.51.100.1/tcp/1/p2p/12D3KooWDpJ7As7BWAwRMfu1VU2WCqNjvq387JEYKDBj4kx6nXTN",
      ],
    });
    assert.deepEqual(announced.am.getAddresses().map(String), [
      PUBLIC,
      "/dns4/example.com/tcp/443/wss",
    ]);
    assert.deepEqual(announced.am.getNoAnnounceAddrs().map(String), ["/ip4/198.51.100.1/tcp/1"]);
  });

  it(`confirms an observed address only after ${OBSERVED_ADDR_CONFIRMATIONS} distinct observers`, () => {
    const { am, changes } = manager();
    const addr = multiaddr(PUBLIC);
    // One peer many times, and many peers from one IP group (/16), count once each.
    for (let i = 0; i < 5; i++) am.addObservedAddr(addr, observer(1, "192.0.2.1"));
    for (let i = 2; i < 8; i++) am.addObservedAddr(addr, observer(i, `198.51.${i}.1`));
    assert.ok(!am.getAddresses().map(String).includes(PUBLIC));
    assert.equal(am.getObservedAddrs()[0].observers, 2);
    assert.equal(am.addObservedAddr(addr, observer(10, "203.0.113.1")), false);
    const before = changes();
    assert.equal(am.addObservedAddr(addr, observer(11, "100.64.0.1")), true, "4th group");
    assert.equal(changes(), before + 1, "onChange: the announced set changed");
    assert.deepEqual(am.getAddresses().map(String), [LISTEN, PUBLIC]);
  });

  it("ignores observations of another shape or through a relay; they expire", () => {
    const { am, advance } = manager({ observedAddrConfirmations: 2 });
    am.addObservedAddr(multiaddr("/ip4/203.0.113.9/udp/4001/quic-v1"), observer(1, "1.1.1.1"));
    am.addObservedAddr(multiaddr(`${PUBLIC}/p2p-circuit`), observer(2, "2.2.2.2"));
    assert.deepEqual(am.getObservedAddrs(), []);
    am.addObservedAddr(multiaddr(PUBLIC), observer(1, "1.1.1.1"));
    advance(OBSERVATION_TTL_MS / 2);
    am.addObservedAddr(multiaddr(PUBLIC), observer(2, "2.2.2.2"));
    assert.ok(am.getAddresses().map(String).includes(PUBLIC));
    advance(OBSERVATION_TTL_MS / 2);
    assert.ok(!am.getAddresses().map(String).includes(PUBLIC), "the first report expired");
    advance(OBSERVATION_TTL_MS);
    assert.deepEqual(am.getObservedAddrs(), []);
  });

  it("a NAT service confirms or removes addresses and sets the reachability", () => {
    const { am, changes } = manager();
    assert.equal(am.reachability, "unknown");
    am.confirmObservedAddr(multiaddr(PUBLIC));
    assert.deepEqual(am.getAddresses().map(String), [LISTEN, PUBLIC]);
    am.removeObservedAddr(multiaddr(PUBLIC));
    assert.deepEqual(am.getAddresses().map(String), [LISTEN]);
    const before = changes();
    am.setReachability("private");
    am.setReachability("private");
    assert.equal(am.reachability, "private");
    assert.equal(changes(), before + 1);
    assert.throws(() => am.setReachability("maybe" as "public"), TypeError);
  });
});

describe("the node's addresses", () => {
  it("addresses option (and the listen alias), getMultiaddrs with /p2p, self events", async () => {
    const node = await testNode({
      listen: [],
      addresses: {
        listen: ["/memory/0"],
        appendAnnounce: ["/dns4/example.com/tcp/443/wss"],
      },
    });
    try {
      const suffix = `/p2p/${node.peerId}`;
      const listening = node.addrs()[0];
      assert.ok(listening.toString().startsWith("/memory/"));
      assert.deepEqual(node.getMultiaddrs().map(String), [
        listening.toString(),
        `/dns4/example.com/tcp/443/wss${suffix}`,
      ]);
      const update = nextEvent(node, "self:peer:update");
      node.handle("/test/new/1.0.0", () => {});
      assert.ok((await update).protocols.includes("/test/new/1.0.0"));
      const added = nextEvent(node, "self:peer:update");
      node.addressManager.confirmObservedAddr(multiaddr("/memory/public-name"));
      assert.ok((await added).addresses.map(String).includes(`/memory/public-name${suffix}`));
      const reach = nextEvent(node, "self:reachability");
      node.addressManager.setReachability("public");
      assert.equal((await reach).reachability, "public");
    } finally {
      await stopAll(node);
    }
  });

  it("identify reports observed addresses and pushes our new addresses", async () => {
    type S = { identify: IdentifyService };
    const make = () =>
      testNode<S>({
        addresses: { observedAddrConfirmations: 2 },
        services: { identify: identify({ pushDebounceMs: 5 }) },
      });
    const [a, b, c] = [await make(), await make(), await make()];
    try {
      // b and c dial a: each reports the address it reached a at (a's listen address).
      const identified = nextEvent(a, "peer:identify", (d) => d.peerId.equals(c.peerId));
      await b.dial(a.addrs()[0]);
      await c.dial(a.addrs()[0]);
      await identified;
      const aListen = a.addrs()[0].decapsulateCode(421).toString();
      await until(() =>
        a.addressManager.getObservedAddrs().some((o) =>
          o.multiaddr.toString() === aListen && o.confirmed
        )
      );
      // a's announced addresses change: b hears of them through an identify push.
      const pushed = nextEvent(
        b,
        "peer:identify",
        (d) =>
          d.peerId.equals(a.peerId) &&
          (d.listenAddrs ?? []).some((x) => x.toString() === "/memory/announced-later"),
      );
      a.addressManager.confirmObservedAddr(multiaddr("/memory/announced-later"));
      await pushed;
      const info = (await b.peerStore.get(a.peerId))!;
      assert.ok(info.addresses.map(String).includes("/memory/announced-later"));
    } finally {
      await stopAll(a, b, c);
    }
  });
});
