/**
 * Relay server hardening (HARDENING.md, cases table, "relay"): reservation floods from many ids
 * (total cap) and from one address block over loopback TCP (per-block cap and rate), CONNECT
 * floods to one reserved peer (per-peer circuit cap), and RESERVE / CONNECT over a relayed
 * connection (PERMISSION_DENIED). Honest peers still get through each flood.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import type { Libp2pNode } from "../../src/node/node.ts";
import { memory } from "../../transports/memory/mod.ts";
import { HopType, Status } from "../../protocols/circuit-relay/codec.ts";
import {
  type CircuitRelayServer,
  circuitRelayServer,
} from "../../protocols/circuit-relay/server.ts";
import type { CircuitRelayServerOptions } from "../../protocols/circuit-relay/server_types.ts";
import { stopAll, testNode, testTcpNode, until } from "../helpers/nodes.ts";
import { tunnel, tunnelAddr } from "../node/tunnel.ts";
import {
  connect,
  connectStatus,
  done,
  type HopExchange,
  hopStatus,
  reserve,
  serveStop,
} from "./relay_client.ts";

type RelayNode = Libp2pNode<{ relay: CircuitRelayServer }>;

const LOOPBACK_OPEN = {
  maxInboundPerIp: 1024,
  inboundRatePerIp: Infinity,
  inboundBurstPerIp: 1024,
};

function relayOptions(o: CircuitRelayServerOptions = {}): CircuitRelayServerOptions {
  return { ...o, reservations: { addressFilter: () => true, ...o.reservations } };
}

describe("relay hardening: reservation floods", () => {
  it("many ids: the total cap holds, refusals are RESERVATION_REFUSED, a holder still renews", async () => {
    const relay = await testNode<{ relay: CircuitRelayServer }>({
      services: {
        relay: circuitRelayServer(relayOptions({ reservations: { maxReservations: 8 } })),
      },
    });
    const clients: Libp2pNode[] = [];
    try {
      const statuses: (number | undefined)[] = [];
      for (let i = 0; i < 24; i++) {
        const c = await testNode({ listen: [] });
        clients.push(c);
        statuses.push((await reserve(await c.dial(relay.addrs()[0]))).status);
      }
      assert.equal(statuses.filter((s) => s === Status.OK).length, 8);
      assert.equal(statuses.filter((s) => s === Status.RESERVATION_REFUSED).length, 16);
      assert.equal(relay.services.relay.stats().reservations, 8);
      // A peer holding a slot renews it while the table is full.
      assert.equal((await reserve(clients[0].getConnections()[0])).status, Status.OK);
      // A slot freed by a departing peer goes to the next one.
      await clients[1].stop();
      await until(() => relay.services.relay.stats().reservations === 7);
      assert.equal((await reserve(clients[20].getConnections()[0])).status, Status.OK);
    } finally {
      await stopAll(relay, ...clients);
    }
  });

  it("many ids from one address block: per-block cap, then per-block rate", async () => {
    const relay = await testTcpNode<{ relay: CircuitRelayServer }>({
      connectionManager: LOOPBACK_OPEN,
      services: {
        relay: circuitRelayServer(relayOptions({
          reservations: {
            maxReservationsPerBlock: 4,
            blockRate: { burst: 6, perHour: 1 },
          },
        })),
      },
    });
    const clients: Libp2pNode[] = [];
    try {
      const statuses: (number | undefined)[] = [];
      for (let i = 0; i < 10; i++) {
        const c = await testTcpNode({ listen: [] });
        clients.push(c);
        statuses.push((await reserve(await c.dial(relay.addrs()[0]))).status);
      }
      // Every client connects from 127.0.0.1: one block, four slots.
      assert.deepEqual(statuses.slice(0, 4), [100, 100, 100, 100]);
      assert.ok(statuses.slice(4).every((s) => s === Status.RESERVATION_REFUSED));
      assert.equal(relay.services.relay.stats().reservations, 4);
      // Slots freed, but the block spent its burst: refused by rate until tokens return.
      for (const c of clients.slice(0, 4)) await c.stop();
      await until(() => relay.services.relay.stats().reservations === 0);
      const late: (number | undefined)[] = [];
      for (const c of clients.slice(4, 8)) late.push((await reserve(c.getConnections()[0])).status);
      assert.deepEqual(late, [100, 100, 200, 200]);
    } finally {
      await stopAll(relay, ...clients);
    }
  });
});

describe("relay hardening: CONNECT floods", () => {
  it("CONNECTs to one reserved peer stop at its circuit cap; the cap frees as circuits end", async () => {
    const relay = await testNode<{ relay: CircuitRelayServer }>({
      services: {
        relay: circuitRelayServer(relayOptions({ reservations: { maxCircuitsPerPeer: 3 } })),
      },
    });
    const target = await testNode();
    const sources: Libp2pNode[] = [];
    serveStop(target, "echo");
    try {
      assert.equal((await reserve(await target.dial(relay.addrs()[0]))).status, Status.OK);
      const results: HopExchange[] = [];
      for (let i = 0; i < 12; i++) {
        const s = await testNode({ listen: [] });
        sources.push(s);
        results.push(await connect(await s.dial(relay.addrs()[0]), target));
      }
      const ok = results.filter((x) => x.reply.status === Status.OK);
      assert.equal(ok.length, 3);
      assert.equal(
        results.filter((x) => x.reply.status === Status.RESOURCE_LIMIT_EXCEEDED).length,
        9,
      );
      assert.equal(relay.services.relay.stats().circuits, 3);
      for (const x of results) if (x.reply.status !== Status.OK) await done(x);
      // One circuit ends: one more CONNECT gets in.
      await done(ok[0]);
      await until(() => relay.services.relay.stats().circuits === 2);
      assert.equal(await connectStatus(sources[5].getConnections()[0], target), Status.OK);
      // A stranger's CONNECT to another peer is not affected by the flood's target cap.
      assert.equal(
        await connectStatus(sources[6].getConnections()[0], sources[7]),
        Status.NO_RESERVATION,
      );
    } finally {
      await stopAll(relay, target, ...sources);
    }
  });

  it("STOP streams being set up are capped relay-wide (maxOutboundStopStreams)", async () => {
    const relay = await testNode<{ relay: CircuitRelayServer }>({
      services: {
        relay: circuitRelayServer(relayOptions({ maxOutboundStopStreams: 1, hopTimeout: 2000 })),
      },
    });
    const target = await testNode();
    const sources = [await testNode({ listen: [] }), await testNode({ listen: [] })];
    const stop = serveStop(target, "silent");
    try {
      await reserve(await target.dial(relay.addrs()[0]));
      const pending = connect(await sources[0].dial(relay.addrs()[0]), target).catch((e) => e);
      await until(() => stop.seen.length === 1);
      const second = await connectStatus(await sources[1].dial(relay.addrs()[0]), target);
      assert.equal(second, Status.RESOURCE_LIMIT_EXCEEDED);
      // The silent target costs the first source one HOP deadline, then the slot is back.
      const first = await pending;
      if (!(first instanceof Error)) {
        assert.equal(first.reply.status, Status.CONNECTION_FAILED);
        await done(first);
      }
      await until(() => relay.services.relay.stats().circuits === 0);
      stop.mode = "echo";
      assert.equal(await connectStatus(sources[1].getConnections()[0], target), Status.OK);
    } finally {
      await stopAll(relay, target, ...sources);
    }
  });

  it("a HOP stream that sends a length prefix and then nothing is reset at the HOP deadline", async () => {
    const relay = await testNode<{ relay: CircuitRelayServer }>({
      services: { relay: circuitRelayServer(relayOptions({ hopTimeout: 200 })) },
    });
    const client = await testNode({ listen: [] });
    try {
      const conn = await client.dial(relay.addrs()[0]);
      const stream = await conn.newStream("/libp2p/circuit/relay/0.2.0/hop");
      const w = stream.writable.getWriter();
      await w.write(new Uint8Array([0x05]));
      const reader = stream.readable.getReader();
      await assert.rejects(reader.read());
      await until(() => relay.getConnections(client.peerId)[0]?.streams.length === 0);
      assert.equal(relay.services.relay.stats().malformed, 0);
    } finally {
      await stopAll(relay, client);
    }
  });

  it("HOP streams per connection are capped (maxInboundHopStreams)", async () => {
    const relay = await testNode<{ relay: CircuitRelayServer }>({
      services: {
        relay: circuitRelayServer(relayOptions({ maxInboundHopStreams: 2, hopTimeout: 60_000 })),
      },
    });
    const client = await testNode({ listen: [] });
    try {
      const conn = await client.dial(relay.addrs()[0]);
      // Streams that send nothing hold their slot until the HOP deadline.
      const idle = [];
      for (let i = 0; i < 2; i++) {
        idle.push(await conn.newStream("/libp2p/circuit/relay/0.2.0/hop"));
        const w = idle[i].writable.getWriter();
        await w.write(new Uint8Array([0x05])); // a length prefix, then silence
        w.releaseLock();
      }
      await until(() => relay.getConnections(client.peerId)[0]?.streams.length === 2);
      await assert.rejects(hopStatus(conn, { type: HopType.RESERVE }));
      for (const s of idle) s.reset();
      await until(() => relay.getConnections(client.peerId)[0]?.streams.length === 0);
      assert.equal(await hopStatus(conn, { type: HopType.RESERVE }), Status.OK);
    } finally {
      await stopAll(relay, client);
    }
  });
});

describe("relay hardening: requests over a relayed connection", () => {
  for (const limited of [true, false]) {
    it(`RESERVE and CONNECT over a ${limited ? "limited" : "unlimited"} relayed connection: PERMISSION_DENIED`, async () => {
      const limits = limited ? { durationMs: 60_000, bytes: 1n << 20n } : undefined;
      const tr = tunnel(limits);
      const ta = tunnel(limits);
      const listen = ["/memory/0", "/p2p-circuit"];
      const relay: RelayNode = await testNode<{ relay: CircuitRelayServer }>({
        transports: [memory(), tr],
        listen,
        services: { relay: circuitRelayServer(relayOptions()) },
      });
      const client = await testNode({ transports: [memory(), ta], listen });
      const other = await testNode();
      tr.bind(relay);
      ta.bind(client);
      try {
        await client.dial(relay.addrs()[0]);
        const relayed = await client.dial(tunnelAddr(relay));
        assert.equal(relayed.limited, limited);
        assert.equal(await hopStatus(relayed, { type: HopType.RESERVE }), Status.PERMISSION_DENIED);
        assert.equal((await reserve(await other.dial(relay.addrs()[0]))).status, Status.OK);
        assert.equal(await connectStatus(relayed, other), Status.PERMISSION_DENIED);
        assert.equal(relay.services.relay.stats().reservations, 1);
      } finally {
        await stopAll(relay, client, other);
      }
    });
  }
});
