/**
 * Our relay client against our relay server (protocols/circuit-relay) over loopback TCP, with a
 * third node: reserve and be reached (echo of a few MiB), the relay's default limit making a
 * limited connection (protocols that do not opt in refused, the data limit enforced), renewal
 * before expiry, and a relay that restarts (new node, same key and port) reserved on again
 * without the application doing anything.
 */

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import type { Connection } from "../../src/connection.ts";
import { generateKeyPair } from "../../src/keys/mod.ts";
import type { PrivateKey } from "../../src/keys/types.ts";
import { LimitedConnectionError } from "../../src/node/limits.ts";
import type { Multiaddr } from "../../src/multiaddr/mod.ts";
import type { Libp2pNode, NodeInit } from "../../src/node/node.ts";
import { tcp } from "../../transports/tcp/mod.ts";
import { identify } from "../../protocols/identify/mod.ts";
import {
  type CircuitRelayServer,
  circuitRelayServer,
  type CircuitRelayServerOptions,
} from "../../protocols/circuit-relay/mod.ts";
import {
  type CircuitRelayTransport,
  circuitRelayTransport,
} from "../../transports/circuit-relay/mod.ts";
import { readAll, stopAll, testTcpNode, until } from "../helpers/nodes.ts";

const ECHO = "/test/echo/1.0.0";
const OPEN = "/test/open/1.0.0";

type RelayNode = Libp2pNode<{ relay: CircuitRelayServer }>;

async function relayNode(
  options: CircuitRelayServerOptions = {},
  privateKey?: PrivateKey,
  listen = "/ip4/127.0.0.1/tcp/0",
): Promise<RelayNode> {
  return await testTcpNode<{ relay: CircuitRelayServer }>({
    privateKey,
    listen: [listen],
    services: {
      identify: identify(),
      relay: circuitRelayServer({
        ...options,
        reservations: { addressFilter: () => true, ...options.reservations },
      }),
    },
  } as Partial<NodeInit<{ relay: CircuitRelayServer }>>);
}

async function client(
  listen: string[],
): Promise<{ node: Libp2pNode; relay: CircuitRelayTransport }> {
  let relay: CircuitRelayTransport | undefined;
  const node = await testTcpNode({
    transports: [tcp(), (n) => (relay = circuitRelayTransport()(n) as CircuitRelayTransport)],
    listen,
    services: { identify: identify() },
  } as Partial<NodeInit>);
  node.handle(ECHO, (s) => s.readable.pipeTo(s.writable));
  node.handle(OPEN, (s) => s.readable.pipeTo(s.writable), { runOnLimitedConnection: true });
  return { node, relay: relay! };
}

function circuitAddrs(node: Libp2pNode): Multiaddr[] {
  return node.getMultiaddrs().filter((a) => a.toString().includes("/p2p-circuit"));
}

async function echoBytes(conn: Connection, protocol: string, size: number): Promise<void> {
  const stream = await conn.newStream(protocol, { runOnLimitedConnection: true });
  const data = new Uint8Array(size);
  for (let i = 0; i < size; i++) data[i] = (i * 13 + 1) & 0xff;
  const reading = readAll(stream.readable);
  reading.catch(() => {}); // a failed write rejects first; the read's failure is awaited below
  const writer = stream.writable.getWriter();
  for (let o = 0; o < size; o += 64 * 1024) await writer.write(data.subarray(o, o + 64 * 1024));
  await writer.close();
  const back = await reading;
  assert.equal(back.byteLength, size);
  assert.deepEqual(back, data);
}

describe("relay client with our relay server (loopback TCP)", () => {
  it("reserves, is reached by a third node, echoes 4 MiB both ways", async () => {
    const relay = await relayNode({ reservations: { applyDefaultLimit: false } });
    const a = await client([`${relay.addrs()[0]}/p2p-circuit`]);
    const b = await client([]);
    try {
      await until(() => circuitAddrs(a.node).length > 0);
      assert.equal(relay.services.relay.stats().reservations, 1);
      const conn = await b.node.dial(circuitAddrs(a.node)[0]);
      assert.equal(conn.limited, false);
      await echoBytes(conn, ECHO, 4 * 1024 * 1024);
      await until(() => a.node.getConnections(b.node.peerId).length > 0);
      await echoBytes(a.node.getConnections(b.node.peerId)[0], ECHO, 1024 * 1024);
      assert.equal(relay.services.relay.stats().circuits, 1);
    } finally {
      await stopAll(b.node, a.node, relay);
    }
  });

  it("the default limit makes a limited connection; the relay enforces its data limit", async () => {
    const relay = await relayNode();
    const a = await client([`${relay.addrs()[0]}/p2p-circuit`]);
    const b = await client([]);
    try {
      await until(() => circuitAddrs(a.node).length > 0);
      const conn = await b.node.dial(circuitAddrs(a.node)[0]);
      assert.equal(conn.limited, true);
      assert.equal(conn.limits?.bytes, 128n * 1024n);
      assert.equal(conn.limits?.durationMs, 120_000);
      await assert.rejects(conn.newStream(ECHO), LimitedConnectionError);
      await echoBytes(conn, OPEN, 16 * 1024);
      // Past 128 KiB in one direction the relay resets the circuit.
      await assert.rejects(echoBytes(conn, OPEN, 512 * 1024));
      await until(() => conn.status === "closed");
    } finally {
      await stopAll(b.node, a.node, relay);
    }
  });

  it("renews the reservation before it expires", async () => {
    const relay = await relayNode({
      reservations: { applyDefaultLimit: false, reservationTtl: 4_000 },
    });
    const a = await client([`${relay.addrs()[0]}/p2p-circuit`]);
    const b = await client([]);
    try {
      await until(() => circuitAddrs(a.node).length > 0);
      const first = a.relay.relays()[0].reservation!.expiresAt;
      await until(() => (a.relay.relays()[0].reservation?.expiresAt ?? 0) > first, 10_000);
      assert.ok(relay.services.relay.stats().reservesRenewed >= 1);
      await until(() => Date.now() > first + 500, 10_000);
      // Past the first expiry: still reserved, still reachable.
      assert.equal(relay.services.relay.stats().reservations, 1);
      const conn = await b.node.dial(circuitAddrs(a.node)[0]);
      await echoBytes(conn, ECHO, 64 * 1024);
    } finally {
      await stopAll(b.node, a.node, relay);
    }
  });

  it("a relay that restarts (same key and port) is reserved on again, unasked", async () => {
    const key = await generateKeyPair("Ed25519");
    let relay = await relayNode({ reservations: { applyDefaultLimit: false } }, key);
    const listen = relay.addrs()[0].decapsulateCode(421).toString();
    const a = await client([`${relay.addrs()[0]}/p2p-circuit`]);
    const b = await client([]);
    try {
      await until(() => circuitAddrs(a.node).length > 0);
      const addr = circuitAddrs(a.node)[0].toString();
      await relay.stop();
      await until(() => circuitAddrs(a.node).length === 0);
      relay = await relayNode({ reservations: { applyDefaultLimit: false } }, key, listen);
      await until(() => circuitAddrs(a.node).length > 0, 40_000);
      assert.equal(circuitAddrs(a.node)[0].toString(), addr);
      assert.equal(relay.services.relay.stats().reservations, 1);
      const conn = await b.node.dial(addr);
      await echoBytes(conn, ECHO, 256 * 1024);
    } finally {
      await stopAll(b.node, a.node, relay);
    }
  });
});
