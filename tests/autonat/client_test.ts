/**
 * The AutoNAT client against our servers over TCP on loopback: three servers decide an
 * address (public or private) and the node's reachability follows; servers that claim a dial
 * back without delivering our nonce are not believed; v1 is used when no v2 server is known.
 * Timers are injected and never fire: rounds run through `client.probe()`.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { streamChannelOf } from "../../src/connection.ts";
import { multiaddr } from "../../src/multiaddr/mod.ts";
import type { Libp2pNode, NodeInit } from "../../src/node/node.ts";
import type { Reachability } from "../../src/node/address_manager.ts";
import { ByteReader } from "../../src/stream/byte_reader.ts";
import { identify } from "../../protocols/identify/mod.ts";
import {
  type AutoNAT,
  autoNAT,
  type AutoNATOptions,
  decodeV2Message,
  DIAL_BACK_PROTOCOL,
  DIAL_REQUEST_PROTOCOL,
  DialStatus,
  encodeDialBack,
  encodeV2Message,
  frame,
  MAX_V2_MESSAGE_BYTES,
  ResponseStatus,
} from "../../protocols/autonat/mod.ts";
import { stopAll, testTcpNode, until } from "../helpers/nodes.ts";

type Node = Libp2pNode<{ autonat: AutoNAT }>;
const never = { setTimeout: () => 0, clearTimeout: () => {} };

function node(options: AutoNATOptions = {}, init: Partial<NodeInit> = {}): Promise<Node> {
  return testTcpNode<{ autonat: AutoNAT }>({
    ...init,
    services: {
      identify: identify(),
      autonat: autoNAT({ allowPrivateAddresses: true, timers: never, ...options }),
    } as never,
  });
}

async function connectAll(client: Node, servers: Libp2pNode[], version: "v1" | "v2" = "v2") {
  for (const s of servers) await client.dial(s.addrs()[0]);
  await until(() => client.services.autonat.client!.servers()[version].length === servers.length);
}

describe("AutoNAT client", () => {
  it("three servers confirm our address: public, and self:reachability fires", async () => {
    const servers = await Promise.all([1, 2, 3].map(() => node({ client: false })));
    const client = await node({ server: false });
    try {
      const seen: Reachability[] = [];
      client.addEventListener("self:reachability", (e) => seen.push(e.detail.reachability));
      await connectAll(client, servers);
      await client.services.autonat.client!.probe();
      assert.equal(client.addressManager.reachability, "public");
      assert.deepEqual(seen, ["public"]);
      const [a] = client.services.autonat.client!.addresses();
      assert.equal(a.state, "public");
      assert.equal(a.confidence, 3);
      assert.equal(
        servers.reduce((n, s) => n + s.services.autonat.server!.stats().dialBacksOk, 0),
        3,
      );
    } finally {
      await stopAll(client, ...servers);
    }
  });

  it("an address nobody can dial: private after three failures", async () => {
    const servers = await Promise.all([1, 2, 3].map(() => node({ client: false })));
    const client = await node({ server: false }, {
      addresses: { announce: ["/ip4/127.0.0.1/tcp/1"] },
    });
    try {
      await connectAll(client, servers);
      await client.services.autonat.client!.probe();
      assert.equal(client.addressManager.reachability, "private");
      // First: the announced address (observed candidates, ephemeral ports, come after it).
      assert.deepEqual(client.services.autonat.client!.addresses()[0], {
        addr: "/ip4/127.0.0.1/tcp/1",
        state: "private",
        confidence: -3,
      });
    } finally {
      await stopAll(client, ...servers);
    }
  });

  it("one server cannot decide alone: its repeated answers count once", async () => {
    const server = await node({ client: false });
    const client = await node({ server: false, reprobeIntervalMs: 0 });
    try {
      await connectAll(client, [server]);
      for (let i = 0; i < 4; i++) await client.services.autonat.client!.probe();
      assert.equal(client.addressManager.reachability, "unknown");
      assert.equal(client.services.autonat.client!.addresses()[0].confidence, 1);
    } finally {
      await stopAll(client, server);
    }
  });

  it("servers that dial back with a wrong nonce (or not at all) and claim OK are not believed", async () => {
    const liars = await Promise.all(
      [1, 2, 3].map(() => testTcpNode({ services: { identify: identify() } as never })),
    );
    for (const [i, liar] of liars.entries()) {
      liar.handle(DIAL_REQUEST_PROTOCOL, async (stream) => {
        const channel = streamChannelOf(stream);
        const m = decodeV2Message(
          await new ByteReader(channel).readLengthPrefixed(MAX_V2_MESSAGE_BYTES),
        );
        if (m.type !== "dialRequest") return channel.abort();
        if (i > 0) {
          // Dial back, but with another nonce.
          try {
            const conn = await liar.dial(multiaddr(m.addrs[0]));
            const s = await conn.newStream(DIAL_BACK_PROTOCOL);
            const c = streamChannelOf(s);
            c.write(frame(encodeDialBack(m.nonce + 1n)));
            await c.drained();
            await new ByteReader(c).readLengthPrefixed(16).catch(() => {});
            await conn.close();
          } catch {
            // the client reset the stream: expected
          }
        }
        channel.write(frame(encodeV2Message({
          type: "dialResponse",
          status: ResponseStatus.OK,
          addrIdx: 0,
          dialStatus: DialStatus.OK,
        })));
        await channel.drained();
        await channel.closeWrite();
      });
    }
    const client = await node({ server: false });
    try {
      await connectAll(client, liars);
      await client.services.autonat.client!.probe();
      assert.equal(client.addressManager.reachability, "unknown");
      assert.equal(client.services.autonat.client!.addresses()[0].confidence, 0);
    } finally {
      await stopAll(client, ...liars);
    }
  });

  it("falls back to v1 when no server speaks v2", async () => {
    const servers = await Promise.all([1, 2, 3].map(() => node({ client: false })));
    for (const s of servers) s.unhandle(DIAL_REQUEST_PROTOCOL);
    const client = await node({ server: false });
    try {
      await connectAll(client, servers, "v1");
      assert.equal(client.services.autonat.client!.servers().v2.length, 0);
      await client.services.autonat.client!.probe();
      assert.equal(client.addressManager.reachability, "public");
    } finally {
      await stopAll(client, ...servers);
    }
  });
});

describe("AutoNAT client scheduling (injected timers and clock)", () => {
  it("first round after the startup delay, soon on a new server or address change, then retry or re-probe", async () => {
    const delays: number[] = [];
    let pending: (() => void) | undefined;
    const timers = {
      setTimeout: (fn: () => void, ms: number) => {
        delays.push(ms);
        pending = fn;
        return delays.length;
      },
      clearTimeout: () => {
        pending = undefined;
      },
    };
    let now = 1_000_000;
    const servers = await Promise.all([1, 2, 3].map(() => node({ client: false })));
    const client = await node({
      server: false,
      timers,
      now: () => now,
      startupDelayMs: 111,
      retryIntervalMs: 222,
      reprobeIntervalMs: 333_000,
    });
    try {
      assert.equal(delays[0], 111);
      await client.dial(servers[0].addrs()[0]);
      await until(() => client.services.autonat.client!.servers().v2.length === 1);
      assert.equal(delays.at(-1), 1_000); // a new server: a round soon
      // One server cannot decide: the round ends undecided, the next comes at the retry interval.
      const fire = pending!;
      pending = undefined;
      fire();
      await until(() => delays.at(-1) === 222);
      for (const s of servers.slice(1)) await client.dial(s.addrs()[0]);
      await until(() => client.services.autonat.client!.servers().v2.length === 3);
      await client.services.autonat.client!.probe();
      assert.equal(client.addressManager.reachability, "public");
      // Observed candidates (the ephemeral ports servers saw) are still undecided: retried,
      // found private by the three servers in the next rounds, and dropped.
      for (let i = 0; i < 5 && delays.at(-1) !== 333_000; i++) {
        await client.services.autonat.client!.probe();
      }
      assert.equal(delays.at(-1), 333_000); // all decided: re-probed after the interval
      assert.ok(client.services.autonat.client!.addresses().every((a) => a.state !== "unknown"));
      // Our addresses change: a round soon.
      const before = delays.length;
      client.addressManager.confirmObservedAddr(multiaddr("/ip4/127.0.0.1/tcp/9"));
      await until(() => delays.length > before);
      assert.equal(delays.at(-1), 1_000);
      // The decision expires with the clock: the address is due again.
      now += 333_000;
      await client.services.autonat.client!.probe();
      assert.ok(servers.reduce((n, s) => n + s.services.autonat.server!.stats().requests, 0) >= 6);
    } finally {
      await stopAll(client, ...servers);
    }
  });
});
