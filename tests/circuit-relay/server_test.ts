/**
 * The relay server over the memory transport (Noise + yamux), driven by a raw HOP client and a
 * STOP handler written by hand: reservations (addresses, voucher, limit), circuits between two
 * peers, limits enforced in both directions, and every refusal's status code.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { utf8Decode, utf8Encode } from "../../src/bytes.ts";
import { multiaddr } from "../../src/multiaddr/mod.ts";
import type { Libp2pNode } from "../../src/node/node.ts";
import { HopType, readHopMessage, Status, StopType } from "../../protocols/circuit-relay/codec.ts";
import { ByteReader } from "../../src/stream/byte_reader.ts";
import {
  type CircuitRelayServer,
  circuitRelayServer,
} from "../../protocols/circuit-relay/server.ts";
import type { CircuitRelayServerOptions } from "../../protocols/circuit-relay/server_types.ts";
import { openVoucher } from "../../protocols/circuit-relay/voucher.ts";
import { stopAll, testNode, until } from "../helpers/nodes.ts";
import {
  connect,
  connectStatus,
  done,
  drain,
  hop,
  hopStatus,
  reserve,
  serveStop,
} from "./relay_client.ts";

type RelayNode = Libp2pNode<{ relay: CircuitRelayServer }>;

async function relayNode(options: CircuitRelayServerOptions = {}): Promise<RelayNode> {
  return await testNode<{ relay: CircuitRelayServer }>({
    services: {
      relay: circuitRelayServer({
        ...options,
        reservations: { addressFilter: () => true, ...options.reservations },
      }),
    },
  });
}

async function trio(options: CircuitRelayServerOptions = {}) {
  const relay = await relayNode(options);
  const source = await testNode();
  const target = await testNode();
  const toRelayFromSource = await source.dial(relay.addrs()[0]);
  const toRelayFromTarget = await target.dial(relay.addrs()[0]);
  return { relay, source, target, toRelayFromSource, toRelayFromTarget };
}

describe("relay server: reservations", () => {
  it("RESERVE is answered with expiry, addresses, a voucher and the limit", async () => {
    const relay = await relayNode();
    const client = await testNode();
    try {
      const conn = await client.dial(relay.addrs()[0]);
      const before = Math.floor(Date.now() / 1000);
      const x = await hop(conn, { type: HopType.RESERVE });
      assert.equal(x.reply.type, HopType.STATUS);
      assert.equal(x.reply.status, Status.OK);
      const r = x.reply.reservation!;
      assert.ok(r.expire >= BigInt(before + 3600 - 1) && r.expire <= BigInt(before + 3601));
      assert.deepEqual(
        r.addrs.map((a) => multiaddr(a).toString()),
        relay.getMultiaddrs().map((a) => a.toString()),
      );
      const voucher = await openVoucher(r.voucher!, { relay: relay.peerId, peer: client.peerId });
      assert.equal(voucher.expiration, r.expire);
      assert.deepEqual(x.reply.limit, { duration: 120, data: 131072n });
      // The relay closed its side after answering.
      assert.equal(await x.reader.readChunk(), undefined);
      assert.equal(relay.services.relay.stats().reservations, 1);
      await done(x);
    } finally {
      await stopAll(relay, client);
    }
  });

  it("the default filter sends public addresses only; applyDefaultLimit false sends no limit", async () => {
    const relay = await testNode<{ relay: CircuitRelayServer }>({
      services: { relay: circuitRelayServer({ reservations: { applyDefaultLimit: false } }) },
    });
    const client = await testNode();
    try {
      const reply = await reserve(await client.dial(relay.addrs()[0]));
      assert.equal(reply.status, Status.OK);
      assert.deepEqual(reply.reservation?.addrs, []); // memory addresses are not public
      assert.equal(reply.limit, undefined);
    } finally {
      await stopAll(relay, client);
    }
  });

  it("re-reserving renews the one slot; the reservation ends with the connection", async () => {
    const { relay, source, target, toRelayFromSource, toRelayFromTarget } = await trio({
      reservations: { maxReservations: 1 },
    });
    try {
      assert.equal((await reserve(toRelayFromTarget)).status, Status.OK);
      assert.equal((await reserve(toRelayFromTarget)).status, Status.OK);
      assert.equal(relay.services.relay.stats().reservesRenewed, 1);
      assert.equal((await reserve(toRelayFromSource)).status, Status.RESERVATION_REFUSED);
      await toRelayFromTarget.close();
      await until(() => relay.services.relay.stats().reservations === 0);
      const again = await target.dial(relay.addrs()[0]);
      void again;
      assert.equal(await connectStatus(toRelayFromSource, target), Status.NO_RESERVATION);
      assert.equal((await reserve(toRelayFromSource)).status, Status.OK);
    } finally {
      await stopAll(relay, source, target);
    }
  });
});

describe("relay server: circuits", () => {
  it("CONNECT reaches the target over STOP and splices the streams", async () => {
    const { relay, source, target, toRelayFromSource, toRelayFromTarget } = await trio();
    const stop = serveStop(target, "echo");
    try {
      assert.equal((await reserve(toRelayFromTarget)).status, Status.OK);
      const x = await connect(toRelayFromSource, target);
      assert.equal(x.reply.status, Status.OK);
      assert.deepEqual(x.reply.limit, { duration: 120, data: 131072n });
      assert.equal(stop.seen.length, 1);
      assert.equal(stop.seen[0].type, StopType.CONNECT);
      assert.deepEqual(stop.seen[0].peer?.id, source.peerId.toBytes());
      assert.deepEqual(stop.seen[0].limit, { duration: 120, data: 131072n });
      await x.writer.write(utf8Encode("hello through the relay"));
      await x.writer.close();
      const back = await x.reader.readExactly(23);
      assert.equal(utf8Decode(back), "hello through the relay");
      assert.equal(await x.reader.readChunk(), undefined);
      await until(() => relay.services.relay.stats().circuitsClosed === 1);
      const stats = relay.services.relay.stats();
      assert.equal(stats.connectsAccepted, 1);
      assert.equal(stats.bytesRelayed, 46n);
      assert.equal(stats.circuits, 0);
      assert.equal(stats.circuitsLimited, 0);
    } finally {
      await stopAll(relay, source, target);
    }
  });

  it("the data limit is enforced from source to target", async () => {
    const { relay, source, target, toRelayFromSource, toRelayFromTarget } = await trio({
      reservations: { defaultDataLimit: 1000n },
    });
    const stop = serveStop(target, "sink");
    try {
      await reserve(toRelayFromTarget);
      const x = await connect(toRelayFromSource, target);
      assert.equal(x.reply.status, Status.OK);
      const writing = (async () => {
        try {
          for (let i = 0; i < 10; i++) await x.writer.write(new Uint8Array(500));
        } catch {
          // reset
        }
      })();
      assert.equal(await stop.sinkEnd, "error");
      assert.ok(stop.sunk <= 1000, `target got ${stop.sunk} bytes`);
      assert.equal((await drain(x.reader)).end, "error");
      await writing;
      await until(() => relay.services.relay.stats().circuitsLimited === 1);
      assert.equal(relay.services.relay.stats().circuits, 0);
    } finally {
      await stopAll(relay, source, target);
    }
  });

  it("the data limit is enforced from target to source", async () => {
    const { relay, source, target, toRelayFromSource, toRelayFromTarget } = await trio({
      reservations: { defaultDataLimit: 1000n },
    });
    const stop = serveStop(target, "flood");
    stop.floodBytes = 5000;
    try {
      await reserve(toRelayFromTarget);
      const x = await connect(toRelayFromSource, target);
      const got = await drain(x.reader);
      assert.equal(got.end, "error");
      assert.ok(got.bytes <= 1000, `source got ${got.bytes} bytes`);
      await until(() => relay.services.relay.stats().circuitsLimited === 1);
    } finally {
      await stopAll(relay, source, target);
    }
  });

  it("the duration limit resets both halves", async () => {
    const { relay, source, target, toRelayFromSource, toRelayFromTarget } = await trio({
      reservations: { defaultDurationLimit: 1000 },
    });
    const stop = serveStop(target, "sink");
    try {
      await reserve(toRelayFromTarget);
      const x = await connect(toRelayFromSource, target);
      assert.deepEqual(x.reply.limit, { duration: 1, data: 131072n });
      await x.writer.write(new Uint8Array(10));
      assert.equal((await drain(x.reader)).end, "error");
      assert.equal(await stop.sinkEnd, "error");
      await until(() => relay.services.relay.stats().circuitsLimited === 1);
    } finally {
      await stopAll(relay, source, target);
    }
  });
});

describe("relay server: refusals", () => {
  it("NO_RESERVATION, CONNECTION_FAILED (refused STOP and no STOP handler)", async () => {
    const { relay, source, target, toRelayFromSource, toRelayFromTarget } = await trio();
    try {
      assert.equal(await connectStatus(toRelayFromSource, target), Status.NO_RESERVATION);
      await reserve(toRelayFromTarget);
      // The target speaks no STOP at all.
      assert.equal(await connectStatus(toRelayFromSource, target), Status.CONNECTION_FAILED);
      serveStop(target, "refuse");
      assert.equal(await connectStatus(toRelayFromSource, target), Status.CONNECTION_FAILED);
      assert.equal(relay.services.relay.stats().circuits, 0);
      assert.equal(relay.services.relay.stats().connectsRefused, 3);
    } finally {
      await stopAll(relay, source, target);
    }
  });

  it("MALFORMED_MESSAGE and UNEXPECTED_MESSAGE", async () => {
    const { relay, source, target, toRelayFromSource } = await trio();
    try {
      const noPeer = await hopStatus(toRelayFromSource, { type: HopType.CONNECT });
      assert.equal(noPeer, Status.MALFORMED_MESSAGE);
      const badId = await hopStatus(toRelayFromSource, {
        type: HopType.CONNECT,
        peer: { id: new Uint8Array([1, 2, 3]), addrs: [] },
      });
      assert.equal(badId, Status.MALFORMED_MESSAGE);
      const status = await hopStatus(toRelayFromSource, { type: HopType.STATUS, status: 100 });
      assert.equal(status, Status.UNEXPECTED_MESSAGE);
      // Garbage: a frame whose body is not a HopMessage.
      const stream = await toRelayFromSource.newStream("/libp2p/circuit/relay/0.2.0/hop");
      const w = stream.writable.getWriter();
      await w.write(new Uint8Array([3, 0xff, 0xff, 0xff]));
      const reply = await readHopMessage(new ByteReader(stream.readable));
      assert.equal(reply.status, Status.MALFORMED_MESSAGE);
      await w.close();
      assert.equal(relay.services.relay.stats().malformed, 4);
    } finally {
      await stopAll(relay, source, target);
    }
  });

  it("a target that never answers STOP costs the source one HOP deadline", async () => {
    const { relay, source, target, toRelayFromSource, toRelayFromTarget } = await trio({
      hopTimeout: 300,
    });
    serveStop(target, "silent");
    try {
      await reserve(toRelayFromTarget);
      const x = await hop(toRelayFromSource, {
        type: HopType.CONNECT,
        peer: { id: target.peerId.toBytes(), addrs: [] },
      }).catch((err) => err);
      // Either a CONNECTION_FAILED answer or a reset at the deadline: never a hang.
      if (!(x instanceof Error)) {
        assert.equal(x.reply.status, Status.CONNECTION_FAILED);
        await done(x);
      }
      await until(() => relay.services.relay.stats().circuits === 0);
    } finally {
      await stopAll(relay, source, target);
    }
  });

  it("stop() resets circuits and drops reservations", async () => {
    const { relay, source, target, toRelayFromSource, toRelayFromTarget } = await trio();
    serveStop(target, "echo");
    try {
      await reserve(toRelayFromTarget);
      const x = await connect(toRelayFromSource, target);
      assert.equal(x.reply.status, Status.OK);
      relay.services.relay.stop();
      assert.equal((await drain(x.reader)).end, "error");
      assert.equal(relay.services.relay.stats().reservations, 0);
      assert.equal(relay.services.relay.stats().circuits, 0);
      assert.ok(!relay.getProtocols().includes("/libp2p/circuit/relay/0.2.0/hop"));
    } finally {
      await stopAll(relay, source, target);
    }
  });
});
