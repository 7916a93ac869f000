/**
 * A small edge network on loopback for the metrics tests: an edge node (TCP and WebSocket,
 * relay server, DHT server, byte counting) with its HTTP surface on 127.0.0.1, a bootstrap peer
 * (DHT server) the edge's `/readyz` waits for, and two clients: `a` reserves a slot on the edge's
 * relay, `b` reaches `a` through it over WebSocket.
 */

import type { Connection } from "../../src/connection.ts";
import type { Multiaddr } from "../../src/multiaddr/mod.ts";
import type { Libp2pNode, NodeInit } from "../../src/node/node.ts";
import { tcp } from "../../transports/tcp/mod.ts";
import { websocket } from "../../transports/websocket/mod.ts";
import { circuitRelayTransport } from "../../transports/circuit-relay/mod.ts";
import { identify } from "../../protocols/identify/mod.ts";
import { type CircuitRelayServer, circuitRelayServer } from "../../protocols/circuit-relay/mod.ts";
import { kadDHT, type KadDHTService } from "../../protocols/kad-dht/mod.ts";
import { type EdgeHttpServer, startEdgeHttp } from "../../app/edge/mod.ts";
import { readAll, stopAll, testTcpNode, until } from "../helpers/nodes.ts";

export const ECHO = "/test/echo/1.0.0";

export type EdgeNode = Libp2pNode<{ relay: CircuitRelayServer; dht: KadDHTService }>;

/** The running network. */
export interface EdgeFixture {
  edge: EdgeNode;
  boot: Libp2pNode;
  /** Made by {@link EdgeFixture.relayed}. */
  a: Libp2pNode | undefined;
  b: Libp2pNode;
  server: EdgeHttpServer;
  /** GET `path` on the edge's HTTP address. */
  get(path: string, init?: RequestInit): Promise<Response>;
  /** Make the edge connect to the bootstrap peer (readyz turns 200). */
  connectBootstrap(): Promise<void>;
  /** `a` reserves on the edge's relay; `b` dials `a` through it over WebSocket. */
  relayed(): Promise<Connection>;
  stop(): Promise<void>;
}

function dhtServer(): ReturnType<typeof kadDHT> {
  return kadDHT({
    clientMode: false,
    allowPrivateAddresses: true,
    refreshIntervalMs: 0,
    reprovideIntervalMs: 0,
  });
}

/** Echo `size` bytes over a new stream of `conn`; resolves once they are back. */
export async function echoOver(conn: Connection, size: number): Promise<void> {
  const stream = await conn.newStream(ECHO, { runOnLimitedConnection: true });
  const data = new Uint8Array(size);
  for (let i = 0; i < size; i++) data[i] = (i * 7 + 3) & 0xff;
  const reading = readAll(stream.readable);
  reading.catch(() => {});
  const writer = stream.writable.getWriter();
  for (let o = 0; o < size; o += 64 * 1024) await writer.write(data.subarray(o, o + 64 * 1024));
  await writer.close();
  const back = await reading;
  if (back.byteLength !== size) throw new Error(`echoed ${back.byteLength} of ${size} bytes`);
}

/** Start the network; `sampleIntervalMs` is the bandwidth chart's period. */
export async function startEdgeFixture(sampleIntervalMs = 100): Promise<EdgeFixture> {
  const started: Libp2pNode[] = [];
  try {
    const edge = await testTcpNode<{ relay: CircuitRelayServer; dht: KadDHTService }>({
      transports: [tcp(), websocket()],
      listen: ["/ip4/127.0.0.1/tcp/0", "/ip4/127.0.0.1/tcp/0/ws"],
      countTraffic: true,
      services: {
        identify: identify(),
        relay: circuitRelayServer({
          reservations: { addressFilter: () => true, applyDefaultLimit: false },
        }),
        dht: dhtServer(),
      },
    } as Partial<NodeInit<{ relay: CircuitRelayServer; dht: KadDHTService }>>) as EdgeNode;
    started.push(edge);
    const boot = await testTcpNode({
      services: { identify: identify(), dht: dhtServer() },
    } as Partial<NodeInit>);
    started.push(boot);
    const b = await testTcpNode({
      transports: [websocket(), circuitRelayTransport()],
      listen: [],
      services: { identify: identify() },
    } as Partial<NodeInit>);
    started.push(b);
    const server = await startEdgeHttp({
      node: edge,
      services: { relay: edge.services.relay, dht: edge.services.dht },
      bootstrap: [boot.addrs()[0].toString()],
      hostname: "127.0.0.1",
      port: 0,
      sampleIntervalMs,
      pollMs: 200,
    });
    const tcpAddr = edge.addrs().find((x) => !x.toString().includes("/ws"))!;
    const wsAddr = edge.addrs().find((x) => x.toString().includes("/ws"))!;
    const circuitOf = (n: Libp2pNode): Multiaddr | undefined =>
      n.getMultiaddrs().find((x) => x.toString().includes("/p2p-circuit"));
    const fixture: EdgeFixture = {
      edge,
      boot,
      a: undefined,
      b,
      server,
      get: (path, init) => fetch(`${server.url}${path}`, init),
      connectBootstrap: async () => {
        await edge.dial(boot.addrs()[0]);
      },
      relayed: async () => {
        const a = await testTcpNode({
          transports: [tcp(), circuitRelayTransport()],
          listen: [`${tcpAddr}/p2p-circuit`],
          services: { identify: identify() },
        } as Partial<NodeInit>);
        started.push(a);
        fixture.a = a;
        a.handle(ECHO, (s) => s.readable.pipeTo(s.writable), { runOnLimitedConnection: true });
        await until(() => circuitOf(a) !== undefined, 15_000);
        // b reaches the edge over WebSocket first, so the circuit runs on that connection.
        await b.dial(wsAddr);
        return await b.dial(circuitOf(a)!);
      },
      stop: async () => {
        await server.close();
        await stopAll(...started.reverse());
      },
    };
    return fixture;
  } catch (err) {
    await stopAll(...started.reverse()).catch(() => {});
    throw err;
  }
}
