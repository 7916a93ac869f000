/**
 * DCUtR over loopback TCP through our relay: a relayed (limited) connection is upgraded to a
 * direct one, by the unilateral dial when the dialling side is reachable, and by the
 * CONNECT/SYNC exchange when only the receiving side is; the relayed connection is closed after.
 */

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import type { DcutrResult } from "../../protocols/dcutr/mod.ts";
import type { PeerId } from "../../src/peer_id.ts";
import { stopAll, until } from "../helpers/nodes.ts";
import { directConns, peerNode, relayNode, reservedAddr } from "./relay_helpers.ts";

describe("dcutr over our relay (loopback TCP)", () => {
  it("B dials A directly when A announced a reachable address (unilateral upgrade)", async () => {
    const relay = await relayNode();
    const results: DcutrResult[] = [];
    // B: reachable only through the relay; A: listens on TCP and dials B through the relay.
    const b = await peerNode([`${relay.addrs()[0]}/p2p-circuit`], {
      onUpgrade: (_p: PeerId, r: DcutrResult) => results.push(r),
    });
    const a = await peerNode(["/ip4/127.0.0.1/tcp/0"], {});
    try {
      const relayed = await a.dial(await reservedAddr(b));
      assert.equal(relayed.limited, true);
      await until(() => results.length > 0, 15_000);
      assert.equal(results[0].ok, true, results[0].reason);
      assert.equal(results[0].method, "direct");
      await until(() => directConns(a, b).length > 0);
      // The relayed connection is closed once the direct one is up.
      await until(() => relayed.status === "closed");
      assert.equal(b.services.dcutr!.stats().direct, 1);
    } finally {
      await stopAll(a, b, relay);
    }
  });

  it("the exchange upgrades when only B is reachable: A dials B on SYNC", async () => {
    const relay = await relayNode();
    const results: DcutrResult[] = [];
    // B listens on TCP and through the relay; A does not listen at all (nothing to dial).
    const b = await peerNode(["/ip4/127.0.0.1/tcp/0", `${relay.addrs()[0]}/p2p-circuit`], {
      onUpgrade: (_p: PeerId, r: DcutrResult) => results.push(r),
    });
    const a = await peerNode([], {});
    try {
      const relayed = await a.dial(await reservedAddr(b));
      assert.equal(relayed.limited, true);
      await until(() => results.length > 0, 20_000);
      const r = results[0];
      assert.equal(r.ok, true, r.reason);
      assert.equal(r.method, "hole-punch");
      assert.equal(r.attempts, 1);
      assert.equal(r.rtts.length, 1);
      assert.ok(r.rtts[0] >= 0);
      assert.equal(r.connection?.limited, false);
      await until(() => directConns(a, b).length > 0);
      await until(() => relayed.status === "closed");
      assert.equal(a.services.dcutr!.stats().responded, 1);
      assert.equal(b.services.dcutr!.stats().holePunched, 1);
    } finally {
      await stopAll(a, b, relay);
    }
  });
});
