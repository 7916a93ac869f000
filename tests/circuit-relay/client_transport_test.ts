/**
 * The circuit relay client transport end to end over the memory transport, with a minimal relay
 * (client_test_relay.ts): reserve and be reached through the relay (echo of a few MiB), the
 * relayed address announced, limited connections when the relay sets a limit, STOP refused from
 * a peer we hold no reservation with, re-reservation after the relay restarts (new node, same key
 * and address) and after repeated drops (js-libp2p #3601, #2833), discovery of relays among
 * connected HOP peers, and no relay chains.
 */

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import type { Connection } from "../../src/connection.ts";
import { LimitedConnectionError } from "../../src/node/limits.ts";
import { generateKeyPair } from "../../src/keys/mod.ts";
import type { PrivateKey } from "../../src/keys/types.ts";
import { type Multiaddr, multiaddr } from "../../src/multiaddr/mod.ts";
import type { Libp2pNode, NodeInit } from "../../src/node/node.ts";
import { ByteReader } from "../../src/stream/byte_reader.ts";
import { memory } from "../../transports/memory/mod.ts";
import { identify } from "../../protocols/identify/mod.ts";
import {
  encodeFrame,
  encodeStopMessage,
  readStopMessage,
  Status,
  STOP_PROTOCOL,
  StopType,
} from "../../protocols/circuit-relay/mod.ts";
import {
  type CircuitRelayTransport,
  circuitRelayTransport,
  type CircuitRelayTransportOptions,
  parseCircuitAddr,
  RelayChainError,
} from "../../transports/circuit-relay/mod.ts";
import { readAll, stopAll, testNode, until } from "../helpers/nodes.ts";
import { checkNotRelayed } from "../../transports/circuit-relay/dial.ts";
import { serveTestRelay, type TestRelay, type TestRelayOptions } from "./client_test_relay.ts";

const ECHO = "/test/echo/1.0.0";
const OPEN = "/test/open/1.0.0";

let names = 0;

interface Client {
  node: Libp2pNode;
  relay: CircuitRelayTransport;
}

async function relayNode(
  options: TestRelayOptions = {},
  key?: PrivateKey,
  name = `/memory/relay-${Date.now()}-${++names}`,
): Promise<
  { node: Libp2pNode; addr: Multiaddr; key: PrivateKey; name: string; state: TestRelay }
> {
  const privateKey = key ?? await generateKeyPair("Ed25519");
  const node = await testNode({
    privateKey,
    listen: [name],
    services: { identify: identify() },
  } as Partial<NodeInit>);
  const state = serveTestRelay(node, options);
  return { node, addr: node.addrs()[0], key: privateKey, name, state };
}

async function client(
  listen: string[],
  options: CircuitRelayTransportOptions = {},
): Promise<Client> {
  let relay: CircuitRelayTransport | undefined;
  const node = await testNode({
    transports: [
      memory(),
      (n) => (relay = circuitRelayTransport(options)(n) as CircuitRelayTransport),
    ],
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

/** Echo `size` bytes over a new stream, writing and reading at once. */
async function echoBytes(conn: Connection, protocol: string, size: number): Promise<void> {
  const stream = await conn.newStream(protocol, { runOnLimitedConnection: true });
  const data = new Uint8Array(size);
  for (let i = 0; i < size; i++) data[i] = (i * 31 + 7) & 0xff;
  const reading = readAll(stream.readable);
  reading.catch(() => {}); // a failed write rejects first; the read's failure is awaited below
  const writer = stream.writable.getWriter();
  for (let o = 0; o < size; o += 64 * 1024) await writer.write(data.subarray(o, o + 64 * 1024));
  await writer.close();
  const back = await reading;
  assert.equal(back.byteLength, size);
  assert.deepEqual(back, data);
}

describe("circuit relay client", () => {
  it("reserves on a named relay, announces the relayed address, and is reached through it", async () => {
    const relay = await relayNode();
    const a = await client([`${relay.addr}/p2p-circuit`]);
    const b = await client([]);
    try {
      await until(() => circuitAddrs(a.node).length > 0);
      const announced = circuitAddrs(a.node)[0];
      assert.equal(
        announced.toString(),
        `${relay.addr}/p2p-circuit/p2p/${a.node.peerId}`,
        "<relay addr>/p2p/<relay>/p2p-circuit, with our id",
      );
      assert.equal(a.relay.relays()[0].state, "reserved");
      const conn = await b.node.dial(announced);
      assert.ok(conn.remotePeer.equals(a.node.peerId));
      assert.equal(conn.limited, false, "no limit from the relay: a normal connection");
      assert.ok(conn.remoteAddr.toString().endsWith(`/p2p/${relay.node.peerId}/p2p-circuit`));
      await echoBytes(conn, ECHO, 4 * 1024 * 1024);
      // The target sees it as inbound, and protocols run both ways.
      await until(() => a.node.getConnections(b.node.peerId).length > 0);
      const back = a.node.getConnections(b.node.peerId)[0];
      assert.equal(back.direction, "inbound");
      await echoBytes(back, ECHO, 100_000);
    } finally {
      await stopAll(b.node, a.node, relay.node);
    }
  });

  it("a relay's limit makes a limited connection: only protocols that opt in run", async () => {
    const relay = await relayNode({ limit: { duration: 120, data: 1n << 20n } });
    const a = await client([`${relay.addr}/p2p-circuit`]);
    const b = await client([]);
    try {
      await until(() => circuitAddrs(a.node).length > 0);
      const conn = await b.node.dial(circuitAddrs(a.node)[0]);
      assert.equal(conn.limited, true);
      assert.deepEqual(conn.limits, { durationMs: 120_000, bytes: 1n << 20n });
      // Dialling the relayed address again returns the open limited connection (a second
      // circuit gains nothing); before, only direct addresses were tried and the dial failed.
      assert.equal(await b.node.dial(circuitAddrs(a.node)[0]), conn);
      await assert.rejects(conn.newStream(ECHO), LimitedConnectionError);
      await assert.rejects(
        conn.newStream([ECHO, "/test/missing/1.0.0"], { runOnLimitedConnection: true }),
      );
      await echoBytes(conn, OPEN, 10_000);
      await until(() => a.node.getConnections(b.node.peerId).some((c) => c.limited));
    } finally {
      await stopAll(b.node, a.node, relay.node);
    }
  });

  it("refuses STOP from a peer it holds no reservation with (PERMISSION_DENIED)", async () => {
    const relay = await relayNode();
    const a = await client(["/memory/0", `${relay.addr}/p2p-circuit`]);
    const x = await client([]);
    try {
      await until(() => circuitAddrs(a.node).length > 0);
      const stream = await x.node.dialProtocol(a.node.addrs()[0], STOP_PROTOCOL);
      const writer = stream.writable.getWriter();
      await writer.write(
        encodeFrame(encodeStopMessage({
          type: StopType.CONNECT,
          peer: { id: x.node.peerId.toBytes(), addrs: [] },
        })),
      );
      await writer.close();
      const answer = await readStopMessage(new ByteReader(stream.readable));
      assert.equal(answer.type, StopType.STATUS);
      assert.equal(answer.status, Status.PERMISSION_DENIED);
      assert.equal(a.relay.refusedStops, 1);
      assert.equal(a.node.getConnections(x.node.peerId).length, 1, "no relayed connection made");
    } finally {
      await stopAll(x.node, a.node, relay.node);
    }
  });

  it("malformed or oversized STOP messages are refused without a connection", async () => {
    const relay = await relayNode();
    const a = await client(["/memory/0", `${relay.addr}/p2p-circuit`]);
    const x = await client([]);
    try {
      await until(() => circuitAddrs(a.node).length > 0);
      // A STOP of type STATUS where a CONNECT belongs: UNEXPECTED_MESSAGE.
      const s1 = await x.node.dialProtocol(a.node.addrs()[0], STOP_PROTOCOL);
      const w1 = s1.writable.getWriter();
      await w1.write(encodeFrame(encodeStopMessage({ type: StopType.STATUS, status: 100 })));
      await w1.close();
      const a1 = await readStopMessage(new ByteReader(s1.readable));
      assert.equal(a1.status, Status.UNEXPECTED_MESSAGE);
      // A length prefix over 4,096 bytes: refused on the prefix (HARDENING.md rule 1).
      const s2 = await x.node.dialProtocol(a.node.addrs()[0], STOP_PROTOCOL);
      const w2 = s2.writable.getWriter();
      await w2.write(new Uint8Array([0x80, 0x80, 0x04])); // 65536
      await w2.close();
      const a2 = await readStopMessage(new ByteReader(s2.readable));
      assert.equal(a2.status, Status.MALFORMED_MESSAGE);
      assert.equal(a.node.getConnections(x.node.peerId).length, 1, "no relayed connection");
    } finally {
      await stopAll(x.node, a.node, relay.node);
    }
  });

  it("a reservation listing hundreds of addresses is capped before it is announced", async () => {
    const many = Array.from(
      { length: 120 },
      (_, i) => multiaddr(`/ip4/10.0.${i >> 8}.${i & 255}/tcp/1`).bytes,
    );
    const relay = await relayNode({ addrs: many });
    const a = await client([`${relay.addr}/p2p-circuit`]);
    try {
      await until(() => circuitAddrs(a.node).length > 0);
      assert.equal(circuitAddrs(a.node).length, 32);
    } finally {
      await stopAll(a.node, relay.node);
    }
  });

  it("a relay that restarts (same key and address) gets a fresh reservation unasked", async () => {
    const relay = await relayNode();
    const a = await client([`${relay.addr}/p2p-circuit`]);
    const b = await client([]);
    let relay2: Awaited<ReturnType<typeof relayNode>> | undefined;
    try {
      await until(() => circuitAddrs(a.node).length > 0);
      const addr = circuitAddrs(a.node)[0];
      await relay.node.stop();
      await until(() => circuitAddrs(a.node).length === 0);
      relay2 = await relayNode({}, relay.key, relay.name);
      // Backoff: 0, 1, 2 s... at most 30 s between attempts while the relay was down.
      await until(() => circuitAddrs(a.node).length > 0, 20_000);
      assert.equal(circuitAddrs(a.node)[0].toString(), addr.toString());
      const conn = await b.node.dial(addr);
      await echoBytes(conn, ECHO, 64 * 1024);
    } finally {
      await stopAll(b.node, a.node, relay2?.node ?? relay.node);
    }
  });

  it("keeps coming back after repeated drops of the relay connection", async () => {
    const relay = await relayNode();
    const a = await client([`${relay.addr}/p2p-circuit`]);
    const b = await client([]);
    try {
      for (let i = 1; i <= 5; i++) {
        await until(() => relay.state.reserves === i && circuitAddrs(a.node).length > 0, 10_000);
        await relay.node.hangUp(a.node.peerId);
      }
      // Each drop was followed by a new RESERVE, unasked.
      await until(() => relay.state.reserves === 6 && circuitAddrs(a.node).length > 0, 10_000);
      const conn = await b.node.dial(circuitAddrs(a.node)[0]);
      await echoBytes(conn, ECHO, 64 * 1024);
    } finally {
      await stopAll(b.node, a.node, relay.node);
    }
  });

  it("/p2p-circuit reserves on a connected peer that speaks HOP", async () => {
    const relay = await relayNode();
    const a = await client(["/p2p-circuit"]);
    const b = await client([]);
    try {
      assert.equal(circuitAddrs(a.node).length, 0);
      await a.node.dial(relay.addr);
      await until(() => circuitAddrs(a.node).length > 0);
      assert.ok(a.relay.relays()[0].target.discovered);
      const conn = await b.node.dial(circuitAddrs(a.node)[0]);
      await echoBytes(conn, ECHO, 64 * 1024);
    } finally {
      await stopAll(b.node, a.node, relay.node);
    }
  });

  it("starts when the relay is down and does not dial through a relayed connection", async () => {
    const key = await generateKeyPair("Ed25519");
    const { peerIdFromPrivateKey } = await import("../../src/keys/mod.ts");
    const relayId = peerIdFromPrivateKey(key);
    // js-libp2p #3601: start() throws when the relay is down. Here it starts and keeps trying.
    const a = await client([`/memory/nobody-${Date.now()}/p2p/${relayId}/p2p-circuit`]);
    try {
      assert.equal(a.node.status, "started");
      await until(() => (a.relay.relays()[0]?.failures ?? 0) >= 1);
      assert.equal(circuitAddrs(a.node).length, 0);
      // Parsing: a circuit address whose relay part is itself relayed is no dial target.
      const chain = multiaddr(
        `/memory/x/p2p/${relayId}/p2p-circuit/p2p/${relayId}/p2p-circuit/p2p/${a.node.peerId}`,
      );
      assert.equal(parseCircuitAddr(chain), undefined);
      assert.equal(a.relay.dialFilter([chain]).length, 0);
      // A relay reached only over a relayed connection is not used (no relay chains).
      const relayed = {
        limited: false,
        remoteAddr: multiaddr(`/memory/x/p2p/${relayId}/p2p-circuit`),
        remotePeer: relayId,
      } as unknown as Connection;
      assert.throws(() => checkNotRelayed(relayed), RelayChainError);
      const limited = { ...relayed, limited: true, remoteAddr: multiaddr("/memory/y") };
      assert.throws(() => checkNotRelayed(limited as unknown as Connection), RelayChainError);
      const direct = { ...relayed, remoteAddr: multiaddr("/memory/y") };
      checkNotRelayed(direct as unknown as Connection);
    } finally {
      await stopAll(a.node);
    }
  });
});
