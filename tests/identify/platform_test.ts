/**
 * identify and the services platform: it declares its capabilities (services depend on it),
 * runs on limited (relayed) connections, reports observed addresses to the address manager
 * (except those seen through a relay), and stores addresses with their source.
 */

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { IDENTIFY_CAPABILITY } from "../../src/node/services.ts";
import {
  identify,
  IDENTIFY_PUSH_CAPABILITY,
  type IdentifyService,
} from "../../protocols/identify/service.ts";
import { memory } from "../../transports/memory/mod.ts";
import { nextEvent, stopAll, testNode, until } from "../helpers/nodes.ts";
import { tunnel, tunnelAddr } from "../node/tunnel.ts";

type S = { identify: IdentifyService };

describe("identify on the services platform", () => {
  it("declares the identify and identify-push capabilities", () => {
    assert.deepEqual(identify().serviceCapabilities, [
      IDENTIFY_CAPABILITY,
      IDENTIFY_PUSH_CAPABILITY,
    ]);
  });

  it("runs on limited connections; observations through them do not reach the address manager", async () => {
    const listen = ["/memory/0", "/p2p-circuit"];
    const [ta, tb] = [tunnel({ durationMs: 60_000 }), tunnel({ durationMs: 60_000 })];
    const make = (t: ReturnType<typeof tunnel>) =>
      testNode<S>({
        transports: [memory(), t],
        listen,
        addresses: { observedAddrConfirmations: 1 },
        services: { identify: identify() },
      });
    const [a, b] = [await make(ta), await make(tb)];
    ta.bind(a);
    tb.bind(b);
    try {
      const direct = nextEvent(a, "peer:identify", (d) => d.connection?.limited === false);
      await b.dial(a.addrs()[0]);
      await direct;
      const aListen = a.addrs()[0].decapsulateCode(421).toString();
      await until(() => a.addressManager.getObservedAddrs().length === 1);
      const [observed] = a.addressManager.getObservedAddrs();
      assert.equal(observed.multiaddr.toString(), aListen);
      assert.equal(observed.confirmed, true, "one observer suffices with a threshold of 1");

      const relayed = nextEvent(a, "peer:identify", (d) => d.connection?.limited === true);
      const conn = await b.dial(tunnelAddr(a));
      assert.equal(conn.limited, true);
      const detail = await relayed;
      assert.ok(detail.protocols.includes("/ipfs/id/1.0.0"), "identified over the relay");
      // b saw a at the circuit address: identify keeps it, the address manager does not.
      await until(() =>
        a.services.identify.observedAddrs().some((x) => x.toString().includes("p2p-circuit"))
      );
      assert.deepEqual(
        a.addressManager.getObservedAddrs().map((o) => o.multiaddr.toString()),
        [aListen],
      );
      // b stored a's addresses with their source (once b's own identify of a, which verifies
      // the signed record, has finished); the circuit address is not among them.
      await until(async () =>
        (await b.peerStore.get(a.peerId))?.addressRecords.some((r) => r.source === "peer-record") ??
          false
      );
      const info = (await b.peerStore.get(a.peerId))!;
      assert.ok(info.addressRecords.every((r) => !r.multiaddr.toString().includes("circuit")));
      assert.ok(info.addressRecords.some((r) => r.source === "peer-record"));
    } finally {
      await stopAll(a, b);
    }
  });
});
