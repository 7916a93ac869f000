/**
 * The AutoNAT server over TCP on loopback (Noise + yamux), driven by a hand-written requester:
 * one dial-back per request with the nonce, dial data before dialling another IP, private
 * addresses refused by default, rate limits, malformed and oversized requests, and v1's
 * same-IP rule. HARDENING.md rows "autonat".
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { multiaddr } from "../../src/multiaddr/mod.ts";
import type { Libp2pNode } from "../../src/node/node.ts";
import {
  type AutoNAT,
  autoNAT,
  type AutoNATOptions,
  DialStatus,
  ResponseStatus,
  V1Status,
  V1Type,
} from "../../protocols/autonat/mod.ts";
import { stopAll, testTcpNode } from "../helpers/nodes.ts";
import { receiveDialBacks, requestV1, requestV2 } from "./raw.ts";

type ServerNode = Libp2pNode<{ autonat: AutoNAT }>;

function serverNode(options: AutoNATOptions = {}): Promise<ServerNode> {
  return testTcpNode<{ autonat: AutoNAT }>({
    services: { autonat: autoNAT({ client: false, allowPrivateAddresses: true, ...options }) },
  });
}

const bytes = (a: string): Uint8Array => multiaddr(a).bytes;
const listenAddr = (n: Libp2pNode): string => n.addrs()[0].decapsulateCode(421).toString();

describe("AutoNAT v2 server", () => {
  it("dials back exactly one address, the first it may dial, with the nonce", async () => {
    const server = await serverNode();
    const client = await testTcpNode();
    try {
      const nonces = receiveDialBacks(client);
      const conn = await client.dial(server.addrs()[0]);
      const addrs = [
        "/dns4/example.com/tcp/1", // not an IP address: skipped
        "/ip4/127.0.0.1/tcp/1/p2p-circuit", // relayed: skipped
        listenAddr(client),
        "/ip4/127.0.0.1/tcp/2",
      ];
      const r = await requestV2(conn, addrs.map(bytes), 77n);
      assert.equal(r.error, undefined);
      assert.deepEqual(r.messages, [
        { type: "dialResponse", status: ResponseStatus.OK, addrIdx: 2, dialStatus: DialStatus.OK },
      ]);
      assert.deepEqual(nonces, [77n]);
      assert.equal(r.paid, 0); // same IP as the requester: no dial data
      const stats = server.services.autonat.server!.stats();
      assert.equal(stats.dialBacksOk, 1);
      assert.equal(stats.dialBacksFailed, 0);
    } finally {
      await stopAll(server, client);
    }
  });

  it("reports E_DIAL_ERROR for an address nobody listens on", async () => {
    const server = await serverNode();
    const client = await testTcpNode();
    try {
      const conn = await client.dial(server.addrs()[0]);
      const r = await requestV2(conn, [bytes("/ip4/127.0.0.1/tcp/1")], 1n);
      assert.deepEqual(r.messages, [
        {
          type: "dialResponse",
          status: ResponseStatus.OK,
          addrIdx: 0,
          dialStatus: DialStatus.E_DIAL_ERROR,
        },
      ]);
    } finally {
      await stopAll(server, client);
    }
  });

  it("refuses private and loopback targets unless allowPrivateAddresses", async () => {
    const server = await serverNode({ allowPrivateAddresses: false });
    const client = await testTcpNode();
    try {
      const nonces = receiveDialBacks(client);
      const conn = await client.dial(server.addrs()[0]);
      const r = await requestV2(
        conn,
        [bytes(listenAddr(client)), bytes("/ip4/10.0.0.1/tcp/1")],
        5n,
      );
      assert.deepEqual(r.messages, [
        { type: "dialResponse", status: ResponseStatus.E_DIAL_REFUSED, addrIdx: 0, dialStatus: 0 },
      ]);
      assert.deepEqual(nonces, []);
    } finally {
      await stopAll(server, client);
    }
  });

  it("demands dial data before dialling another IP, and dials nobody unpaid", async () => {
    const server = await serverNode({ dialDataBytes: 30_000 });
    // The requester reaches the server from 127.0.0.1 and asks about 127.0.0.2.
    const client = await testTcpNode({ listen: ["/ip4/127.0.0.2/tcp/0"] });
    try {
      const nonces = receiveDialBacks(client);
      const conn = await client.dial(server.addrs()[0]);
      const target = bytes(listenAddr(client));
      const unpaid = await requestV2(conn, [target], 9n, false);
      assert.deepEqual(unpaid.messages, [
        { type: "dialDataRequest", addrIdx: 0, numBytes: 30_000n },
      ]);
      const paid = await requestV2(conn, [target], 10n, true);
      assert.ok(paid.paid >= 30_000);
      assert.deepEqual(paid.messages.at(-1), {
        type: "dialResponse",
        status: ResponseStatus.OK,
        addrIdx: 0,
        dialStatus: DialStatus.OK,
      });
      // Only the paid request was dialled.
      assert.deepEqual(nonces, [10n]);
      const stats = server.services.autonat.server!.stats();
      assert.equal(stats.dialDataRequested, 2);
      assert.equal(stats.dialBacksOk, 1);
    } finally {
      await stopAll(server, client);
    }
  });

  it("rate-limits a requester (per-peer cap) with E_REQUEST_REJECTED", async () => {
    const server = await serverNode({ maxRequestsPerPeerPerMinute: 2 });
    const client = await testTcpNode();
    try {
      receiveDialBacks(client);
      const conn = await client.dial(server.addrs()[0]);
      const statuses: number[] = [];
      for (let i = 0; i < 5; i++) {
        const r = await requestV2(conn, [bytes(listenAddr(client))], BigInt(i));
        const last = r.messages.at(-1);
        statuses.push(last?.type === "dialResponse" ? last.status : -1);
      }
      assert.deepEqual(statuses, [200, 200, 100, 100, 100]);
      assert.equal(server.services.autonat.server!.stats().rejected, 3);
      assert.equal(server.services.autonat.server!.stats().dialBacksOk, 2);
    } finally {
      await stopAll(server, client);
    }
  });

  it("resets an oversized or malformed request without dialling", async () => {
    const server = await serverNode();
    const client = await testTcpNode();
    try {
      const nonces = receiveDialBacks(client);
      const conn = await client.dial(server.addrs()[0]);
      // A frame header announcing 1 MiB.
      const big = await requestV2(conn, [], 0n, true, new Uint8Array([0x80, 0x80, 0x40]));
      assert.ok(big.error !== undefined);
      // A dialResponse where a dialRequest belongs.
      const wrong = await requestV2(conn, [], 0n, true, new Uint8Array([2, 0x12, 0]));
      assert.ok(wrong.error !== undefined);
      assert.equal(server.services.autonat.server!.stats().malformed, 2);
      assert.deepEqual(nonces, []);
    } finally {
      await stopAll(server, client);
    }
  });
});

describe("AutoNAT v1 server", () => {
  it("dials the requester's addresses on its own IP and answers OK with the one that worked", async () => {
    const server = await serverNode();
    const client = await testTcpNode();
    try {
      const conn = await client.dial(server.addrs()[0]);
      const reply = await requestV1(conn, {
        type: V1Type.DIAL,
        peer: {
          id: client.peerId.toBytes(),
          addrs: [bytes("/ip4/127.0.0.1/tcp/1"), bytes(listenAddr(client))],
        },
      });
      assert.equal(reply.response?.status, V1Status.OK);
      assert.equal(multiaddr(reply.response!.addr!).toString(), listenAddr(client));
    } finally {
      await stopAll(server, client);
    }
  });

  it("never dials a third party: addresses on another IP are refused", async () => {
    const server = await serverNode();
    const victim = await testTcpNode({ listen: ["/ip4/127.0.0.2/tcp/0"] });
    const client = await testTcpNode();
    try {
      let victimConns = 0;
      victim.addEventListener("connection:open", () => victimConns++);
      const conn = await client.dial(server.addrs()[0]);
      const reply = await requestV1(conn, {
        type: V1Type.DIAL,
        peer: { id: client.peerId.toBytes(), addrs: [bytes(listenAddr(victim))] },
      });
      assert.equal(reply.response?.status, V1Status.E_DIAL_REFUSED);
      assert.equal(victimConns, 0);
    } finally {
      await stopAll(server, victim, client);
    }
  });

  it("answers E_BAD_REQUEST when the DIAL names another peer", async () => {
    const server = await serverNode();
    const client = await testTcpNode();
    try {
      const conn = await client.dial(server.addrs()[0]);
      const reply = await requestV1(conn, {
        type: V1Type.DIAL,
        peer: { id: server.peerId.toBytes(), addrs: [bytes(listenAddr(client))] },
      });
      assert.equal(reply.response?.status, V1Status.E_BAD_REQUEST);
    } finally {
      await stopAll(server, client);
    }
  });
});
