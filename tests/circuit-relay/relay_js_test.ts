/**
 * Relay interop over real loopback TCP with js-libp2p (`@libp2p/circuit-relay-v2` 4.2.13 client
 * transport, each js node a separate Deno process): our relay (on the runtime running the test)
 * carries a circuit between two js nodes. js node B listens on `<our relay>/p2p-circuit` (a
 * static reservation through our HOP server, advertising the addresses our reservation carried);
 * js node A dials `<relay>/p2p-circuit/p2p/<B>` (our relay opens STOP to B) and pings and echoes
 * over the relayed, limited connection. Then our own node (with the relay client transport) dials
 * the same js node through our relay and echoes over fresh connections: proposal, data and FIN
 * reach js in one chunk there, which hung js's echo handler until its timeout before our lazy
 * multistream-select held FIN back until the answer (js-libp2p's side is at fault:
 * @libp2p/utils 7.4's AbstractMessageStream loses a remote close that arrives before its
 * handler iterates; src/multistream/service.ts LazySelectChannel.closeWrite).
 */

import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { toHex } from "../../src/bytes.ts";
import type { Libp2pNode } from "../../src/node/node.ts";
import { identify, type IdentifyService } from "../../protocols/identify/mod.ts";
import { type CircuitRelayServer, circuitRelayServer } from "../../protocols/circuit-relay/mod.ts";
import { multiaddr } from "../../src/multiaddr/mod.ts";
import { tcp } from "../../transports/tcp/mod.ts";
import { circuitRelayTransport } from "../../transports/circuit-relay/mod.ts";
import { ECHO_PROTOCOL_ID } from "../../protocols/echo/mod.ts";
import { echoOver } from "../natlab/lab_driver.ts";
import { stopAll, testTcpNode, until } from "../helpers/nodes.ts";
import { type RelayJsPeer, startRelayJsPeer } from "./relay_js_process.ts";

type S = { identify: IdentifyService; relay: CircuitRelayServer };

describe("relay server: a circuit between two js-libp2p nodes", () => {
  let relay: Libp2pNode<S>;
  let target: RelayJsPeer;
  let source: RelayJsPeer;
  let relayed: string;

  before(async () => {
    relay = await testTcpNode<S>({
      connectionManager: { maxInboundPerIp: 64, inboundRatePerIp: Infinity, inboundBurstPerIp: 64 },
      services: {
        identify: identify(),
        relay: circuitRelayServer({ reservations: { addressFilter: () => true } }),
      },
    });
    const relayAddr = relay.addrs()[0].toString();
    target = await startRelayJsPeer(relayAddr);
    source = await startRelayJsPeer();
    // js advertises `<relay addr from our reservation>/p2p-circuit/p2p/<B>` once reserved.
    let addrs: string[] = [];
    await until(async () => {
      addrs = (await target.call("addrs")) as string[];
      return addrs.some((a) => a.includes("/p2p-circuit"));
    }, 20_000);
    relayed = addrs.find((a) => a.includes("/p2p-circuit"))!;
  });

  let ours: Libp2pNode | undefined;
  after(async () => {
    await Promise.all([target?.stop(), source?.stop()]);
    await stopAll(...(ours ? [ours] : []), relay);
  });

  it("js reserved on our relay and advertises the relayed address", () => {
    assert.ok(relayed.startsWith(relay.addrs()[0].toString()), relayed);
    assert.ok(relayed.endsWith(`/p2p-circuit/p2p/${target.peerId}`), relayed);
    const stats = relay.services.relay.stats();
    assert.equal(stats.reservations, 1);
    assert.ok(stats.reservesAccepted >= 1);
  });

  it("another js node pings and echoes the first through our relay", async () => {
    const pong = (await source.call("ping", { addr: relayed })) as { limited: boolean };
    assert.equal(pong.limited, true, "js sees the relayed connection as limited");
    const payload = new Uint8Array(4096).map((_, i) => i % 251);
    const back = await source.call("echo", { addr: relayed, hex: toHex(payload) });
    assert.equal(back, toHex(payload));
    const stats = relay.services.relay.stats();
    assert.ok(stats.connectsAccepted >= 1);
    assert.ok(stats.bytesRelayed > 8192n, `relayed ${stats.bytesRelayed} bytes`);
  });

  it("our node echoes the js node through our relay, over fresh connections", async () => {
    ours = await testTcpNode({
      transports: [tcp(), circuitRelayTransport()],
      listen: [],
    });
    for (let round = 0; round < 4; round++) {
      const conn = await ours.dial(multiaddr(relayed));
      assert.match(conn.remoteAddr.toString(), /\/p2p-circuit/);
      for (const size of [4096, 32_768]) { // within the default limit (128 KiB a direction)
        const stream = await conn.newStream(ECHO_PROTOCOL_ID, { runOnLimitedConnection: true });
        // Bounded well below js's 60 s echo deadline: a lost FIN fails here, not by timeout.
        await Promise.race([
          echoOver(stream, size),
          new Promise((_, reject) =>
            setTimeout(() => reject(new Error(`echo of ${size} bytes stalled`)), 15_000).unref?.()
          ),
        ]);
      }
      await conn.close();
    }
  });
});
