/**
 * DCUtR interop with js-libp2p (@libp2p/dcutr 3.0.28, run under Deno) over loopback TCP through
 * our relay. js keeps only "public" addresses (DNS names count as public), so our node announces
 * `/dns4/localhost/tcp/<port>` next to its loopback listener.
 *
 * 1. js is A (dials through the relay, listens nowhere), ours is B and initiates: our CONNECT,
 *    js's CONNECT (no addresses), our SYNC, js dials us: the relayed connection is upgraded by
 *    the exchange.
 * 2. js is B and initiates, ours is A: js finds our announced address through identify and
 *    upgrades unilaterally (its first step), so the exchange does not run.
 * 3. js is B, ours is A, and the address js counts as public is closed: js's unilateral dial
 *    fails, js runs the exchange (CONNECT, SYNC) and our A dials js's loopback address on SYNC:
 *    upgraded. (js's own SYNC-time dial, with `initiator: false`, goes to the closed port.)
 */

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { createServer } from "node:net";
import type { PeerId } from "../../src/peer_id.ts";
import { identify } from "../../protocols/identify/mod.ts";
import { dcutr, type DcutrResult, type DcutrService } from "../../protocols/dcutr/mod.ts";
import { tcp } from "../../transports/tcp/mod.ts";
import { circuitRelayTransport } from "../../transports/circuit-relay/mod.ts";
import type { Libp2pNode, NodeInit } from "../../src/node/node.ts";
import { stopAll, testTcpNode, until } from "../helpers/nodes.ts";
import { relayNode, reservedAddr } from "./relay_helpers.ts";
import { startDcutrJsPeer } from "./dcutr_js_process.ts";

/** A free loopback port (bound then released). */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  const port = (server.address() as { port: number }).port;
  await new Promise<void>((r) => server.close(() => r()));
  return port;
}

type JsConn = { limited: boolean; direction: string; remoteAddr: string; status: string };

async function ourNode(
  listen: string[],
  port: number,
  onUpgrade?: (p: PeerId, r: DcutrResult) => void,
): Promise<Libp2pNode<{ dcutr: DcutrService }>> {
  return await testTcpNode({
    transports: [tcp(), circuitRelayTransport()],
    listen: [`/ip4/127.0.0.1/tcp/${port}`, ...listen],
    addresses: { appendAnnounce: [`/dns4/localhost/tcp/${port}`] },
    services: {
      identify: identify(),
      dcutr: dcutr({ allowPrivateAddresses: true, onUpgrade }),
    },
  } as Partial<NodeInit>) as Libp2pNode<{ dcutr: DcutrService }>;
}

describe("dcutr interop with js-libp2p (loopback, our relay)", () => {
  it("js as A, ours as B: the CONNECT/SYNC exchange upgrades to a direct connection", async () => {
    const relay = await relayNode();
    const results: DcutrResult[] = [];
    const b = await ourNode(
      [`${relay.addrs()[0]}/p2p-circuit`],
      await freePort(),
      (_p, r) => results.push(r),
    );
    const js = await startDcutrJsPeer(["a"]);
    try {
      const addr = await reservedAddr(b);
      const relayed = await js.call("dial", { addr: addr.toString() }) as JsConn;
      assert.equal(relayed.limited, true);
      await until(() => results.length > 0, 30_000);
      const r = results[0];
      const seen = JSON.stringify({ ...r, connection: r.connection?.direction });
      assert.equal(r.ok, true, seen);
      assert.equal(r.method, "hole-punch", seen);
      assert.equal(r.connection?.limited, false);
      await until(async () => {
        const conns = await js.call("conns", { peer: b.peerId.toString() }) as JsConn[];
        return conns.some((c) => !c.limited && c.status === "open");
      }, 10_000);
    } finally {
      await js.stop();
      await stopAll(b, relay);
    }
  });

  it("js as B, ours as A: js upgrades unilaterally to our announced address", async () => {
    const relay = await relayNode();
    const a = await ourNode([], await freePort());
    const relayAddr = relay.addrs()[0].toString();
    const js = await startDcutrJsPeer(["b", "--relay", relayAddr]);
    try {
      const circuit = js.addrs.find((x) => x.includes("/p2p-circuit"));
      assert.ok(circuit !== undefined, js.addrs.join(" "));
      const relayed = await a.dial(circuit);
      assert.equal(relayed.limited, true);
      await until(
        () => a.getConnections(relayed.remotePeer).some((c) => !c.limited && c.status === "open"),
        30_000,
      );
      const direct = a.getConnections(relayed.remotePeer).find((c) => !c.limited)!;
      assert.equal(direct.direction, "inbound"); // js dialled our announced address
      // js closes the relayed connection after its upgrade.
      await until(() => relayed.status === "closed", 10_000);
    } finally {
      await js.stop();
      await stopAll(a, relay);
    }
  });

  it("js as B, ours as A, js's unilateral dial fails: js's exchange, our dial on SYNC", async () => {
    const relay = await relayNode();
    const port = await freePort();
    const closed = await freePort();
    const a = await testTcpNode({
      transports: [tcp(), circuitRelayTransport()],
      listen: [`/ip4/127.0.0.1/tcp/${port}`],
      addresses: {
        announce: [`/dns4/localhost/tcp/${closed}`, `/ip4/127.0.0.1/tcp/${port}`],
      },
      services: { identify: identify(), dcutr: dcutr({ allowPrivateAddresses: true }) },
    } as Partial<NodeInit>) as Libp2pNode<{ dcutr: DcutrService }>;
    const js = await startDcutrJsPeer(["b", "--relay", relay.addrs()[0].toString()]);
    try {
      const circuit = js.addrs.find((x) => x.includes("/p2p-circuit"))!;
      const relayed = await a.dial(circuit);
      assert.equal(relayed.limited, true);
      await until(() => a.services.dcutr.stats().responded >= 1, 30_000);
      await until(
        () => a.getConnections(relayed.remotePeer).some((c) => !c.limited && c.status === "open"),
        10_000,
      );
      const direct = a.getConnections(relayed.remotePeer).find((c) => !c.limited)!;
      assert.equal(direct.direction, "outbound"); // our SYNC-time dial
    } finally {
      await js.stop();
      await stopAll(a, relay);
    }
  });
});
