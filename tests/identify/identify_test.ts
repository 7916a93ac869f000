/**
 * identify and identify/push between nodes over the memory transport with Noise + Yamux:
 * the peer store fills both ways, signed peer records, push after handle(), and every identify
 * row of HARDENING.md (oversized message, thousands of entries, a record of another peer, a
 * lower seq, silent or resetting peers on both handlers).
 */

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import type { Stream } from "../../src/connection.ts";
import {
  LimitExceededError,
  PeerIdMismatchError,
  ProtocolNegotiationError,
} from "../../src/errors.ts";
import { generateKeyPair, publicKeyToProtobuf } from "../../src/keys/mod.ts";
import { multiaddr } from "../../src/multiaddr/mod.ts";
import type { Libp2pNode } from "../../src/node/node.ts";
import { sealPeerRecord } from "../../src/record/mod.ts";
import { encodeUvarint } from "../../src/varint.ts";
import {
  identify,
  IDENTIFY_PROTOCOL_ID,
  IDENTIFY_PUSH_PROTOCOL_ID,
  type IdentifyService,
} from "../../protocols/identify/mod.ts";
import {
  decodeIdentifyFrame,
  encodeIdentifyFrame,
  type IdentifyMessage,
} from "../../protocols/identify/codec.ts";
import { MAX_LISTEN_ADDRS, MAX_PROTOCOLS } from "../../protocols/identify/constants.ts";
import { nextEvent, outcome, stopAll, testNode, until } from "../helpers/nodes.ts";

type WithIdentify = { identify: IdentifyService };

async function write(stream: Stream, ...chunks: Uint8Array[]): Promise<void> {
  const writer = stream.writable.getWriter();
  for (const c of chunks) await writer.write(c);
  writer.releaseLock();
}

/** A node without identify whose `/ipfs/id/1.0.0` handler sends what `reply()` returns. */
async function fakePeer(
  reply: (self: Libp2pNode) => Uint8Array[] | Promise<Uint8Array[]>,
): Promise<Libp2pNode> {
  const node = await testNode();
  node.handle(IDENTIFY_PROTOCOL_ID, async (stream) => {
    const writer = stream.writable.getWriter();
    for (const chunk of await reply(node)) await writer.write(chunk);
    await writer.close();
    for await (const _ of stream.readable) { /* wait for the remote to close */ }
  });
  return node;
}

describe("identify over memory (noise+yamux)", () => {
  it("fills the peer store both ways, with a signed peer record", async () => {
    const a = await testNode<WithIdentify>({
      listen: [],
      services: { identify: identify({ agentVersion: "node-a/1.0.0" }) },
    });
    const b = await testNode<WithIdentify>({
      services: { identify: identify({ agentVersion: "node-b/2.0.0" }) },
    });
    try {
      b.handle("/extra/1.0.0", () => {});
      const aSeesB = nextEvent(a, "peer:identify", (d) => d.peerId.equals(b.peerId));
      const bSeesA = nextEvent(b, "peer:identify", (d) => d.peerId.equals(a.peerId));
      await a.dial(b.addrs()[0]);
      const [ab, ba] = await Promise.all([aSeesB, bSeesA]);
      assert.equal(ab.agentVersion, "node-b/2.0.0");
      assert.equal(ba.agentVersion, "node-a/1.0.0");
      assert.equal(ab.protocolVersion, "ipfs/0.1.0");

      const infoB = (await a.peerStore.get(b.peerId))!;
      assert.deepEqual(
        [...infoB.protocols].sort(),
        ["/extra/1.0.0", IDENTIFY_PROTOCOL_ID, IDENTIFY_PUSH_PROTOCOL_ID].sort(),
      );
      assert.equal(infoB.agentVersion, "node-b/2.0.0");
      // identify's copy of the key is the key the connection proved: one object per peer
      assert.equal(infoB.publicKey, a.getConnections(b.peerId)[0].remotePublicKey);
      assert.ok(infoB.publicKey?.equals(b.privateKey.publicKey));
      // b listens: its signed record was accepted and its addresses are the record's.
      assert.equal(typeof infoB.peerRecordSeq, "bigint");
      assert.deepEqual(
        infoB.addresses.map(String),
        b.addrs().map((x) => x.decapsulateCode(421).toString()),
      );

      const infoA = (await b.peerStore.get(a.peerId))!;
      assert.deepEqual(infoA.protocols, [IDENTIFY_PROTOCOL_ID, IDENTIFY_PUSH_PROTOCOL_ID]);
      assert.equal(infoA.agentVersion, "node-a/1.0.0");
      assert.ok(infoA.publicKey?.equals(a.privateKey.publicKey));
      assert.equal(infoA.peerRecordSeq, undefined, "a does not listen: no record");

      // Each side remembers how the other saw it.
      const connOnB = b.getConnections(a.peerId)[0];
      assert.deepEqual(a.services.identify.observedAddrs().map(String), [
        connOnB.remoteAddr.toString(),
      ]);

      // An explicit identify returns the same facts.
      const result = await a.services.identify.identify(a.getConnections(b.peerId)[0]);
      assert.equal(result.agentVersion, "node-b/2.0.0");
      assert.equal(result.signedPeerRecord?.accepted, false, "same seq again: not newer");
      assert.ok(result.peerId.equals(b.peerId));
    } finally {
      await stopAll(a, b);
    }
  });

  it("pushes protocol changes after handle() and unhandle()", async () => {
    const a = await testNode<WithIdentify>({
      services: { identify: identify({ pushDebounceMs: 10 }) },
    });
    const b = await testNode<WithIdentify>({
      services: { identify: identify({ pushDebounceMs: 10 }) },
    });
    try {
      const bSeesA = nextEvent(b, "peer:identify", (d) => d.peerId.equals(a.peerId));
      await a.dial(b.addrs()[0]);
      await bSeesA;
      await until(async () =>
        (await a.peerStore.get(b.peerId))?.protocols.includes(IDENTIFY_PUSH_PROTOCOL_ID) ?? false
      );

      const pushed = nextEvent(b, "peer:identify", (d) => d.protocols.includes("/new/1.0.0"));
      a.handle("/new/1.0.0", () => {});
      await pushed;
      assert.ok((await b.peerStore.get(a.peerId))!.protocols.includes("/new/1.0.0"));

      const removed = nextEvent(b, "peer:identify", (d) => !d.protocols.includes("/new/1.0.0"));
      a.unhandle("/new/1.0.0");
      await removed;
      assert.ok(!(await b.peerStore.get(a.peerId))!.protocols.includes("/new/1.0.0"));
    } finally {
      await stopAll(a, b);
    }
  });

  it("fails cleanly against a peer without identify", async () => {
    const a = await testNode<WithIdentify>({
      services: { identify: identify({ runOnConnectionOpen: false }) },
    });
    const b = await testNode();
    b.handle("/other/1.0.0", () => {});
    try {
      const conn = await a.dial(b.addrs()[0]);
      await assert.rejects(a.services.identify.identify(conn), ProtocolNegotiationError);
      await until(() => conn.streams.length === 0);
    } finally {
      await stopAll(a, b);
    }
  });
});

describe("identify hardening: what the remote sends", () => {
  async function setup(reply: (m: Libp2pNode) => Uint8Array[] | Promise<Uint8Array[]>) {
    const m = await fakePeer(reply);
    const b = await testNode<WithIdentify>({
      listen: [],
      services: { identify: identify({ runOnConnectionOpen: false, timeoutMs: 2000 }) },
    });
    const conn = await b.dial(m.addrs()[0]);
    return { m, b, conn };
  }

  function messageOf(m: Libp2pNode, extra: Partial<IdentifyMessage> = {}): IdentifyMessage {
    return {
      publicKey: publicKeyToProtobuf(m.privateKey.publicKey),
      listenAddrs: [],
      protocols: ["/fake/1.0.0"],
      agentVersion: "fake/0",
      ...extra,
    };
  }

  it("a message above the read limit resets the stream, nothing is stored", async () => {
    const { m, b, conn } = await setup(() => [
      encodeUvarint(8 * 1024 + 1),
      new Uint8Array(8 * 1024 + 1),
    ]);
    try {
      await assert.rejects(b.services.identify.identify(conn), LimitExceededError);
      assert.equal((await b.peerStore.get(m.peerId))?.agentVersion, undefined);
      await until(() => conn.streams.length === 0);
    } finally {
      await stopAll(m, b);
    }
  });

  it("thousands of protocols and addresses are capped", async () => {
    const frames = (m: Libp2pNode): Uint8Array[] => {
      const out: Uint8Array[] = [];
      for (let k = 0; k < 4; k++) {
        const protocols = Array.from({ length: 1000 }, (_, i) => `/${(k * 1000 + i).toString(36)}`);
        out.push(encodeIdentifyFrame({ listenAddrs: [], protocols }));
      }
      for (let k = 0; k < 3; k++) {
        const listenAddrs = Array.from(
          { length: 700 },
          (_, i) => multiaddr(`/ip4/10.0.${k}.1/tcp/${i + 1}`).bytes,
        );
        out.push(encodeIdentifyFrame({ listenAddrs, protocols: [] }));
      }
      out.push(encodeIdentifyFrame(messageOf(m, { protocols: [] })));
      for (const f of out) assert.ok(f.byteLength <= 8 * 1024 + 2);
      return out;
    };
    const s = await setup(frames);
    const m = s.m;
    try {
      const result = await s.b.services.identify.identify(s.conn);
      assert.equal(result.protocols.length, MAX_PROTOCOLS);
      assert.equal(result.listenAddrs.length, MAX_LISTEN_ADDRS);
      assert.equal(result.agentVersion, "fake/0");
      const info = (await s.b.peerStore.get(m.peerId))!;
      assert.ok(info.protocols.length <= MAX_PROTOCOLS && info.protocols.length > 0);
      assert.ok(info.addresses.length <= MAX_LISTEN_ADDRS && info.addresses.length > 0);
    } finally {
      await stopAll(s.m, s.b);
    }
  });

  it("more than MAX_IDENTIFY_MESSAGES messages: the rest is not read", async () => {
    const s = await setup((m) =>
      Array.from(
        { length: 50 },
        (_, i) => encodeIdentifyFrame(messageOf(m, { protocols: [`/${i}`] })),
      )
    );
    try {
      const result = await s.b.services.identify.identify(s.conn);
      assert.deepEqual(result.protocols, Array.from({ length: 10 }, (_, i) => `/${i}`));
    } finally {
      await stopAll(s.m, s.b);
    }
  });

  it("a signed record of another peer is rejected with the whole message", async () => {
    const other = await generateKeyPair("Ed25519");
    const s = await setup(async (m) => {
      const record = await sealPeerRecord(other, [multiaddr("/ip4/192.0.2.66/tcp/1")]);
      return [encodeIdentifyFrame(messageOf(m, { signedPeerRecord: record.encode() }))];
    });
    const m = s.m;
    try {
      await assert.rejects(s.b.services.identify.identify(s.conn), PeerIdMismatchError);
      const info = await s.b.peerStore.get(m.peerId);
      assert.equal(info?.agentVersion, undefined);
      assert.ok(!info?.addresses.some((a) => a.toString().includes("192.0.2.66")));
    } finally {
      await stopAll(s.m, s.b);
    }
  });

  it("a public key of another peer is rejected", async () => {
    const other = await generateKeyPair("Ed25519");
    const s = await setup((m) => [
      encodeIdentifyFrame(messageOf(m, { publicKey: publicKeyToProtobuf(other.publicKey) })),
    ]);
    const m = s.m;
    try {
      await assert.rejects(s.b.services.identify.identify(s.conn), PeerIdMismatchError);
      assert.equal((await s.b.peerStore.get(m.peerId))?.agentVersion, undefined);
    } finally {
      await stopAll(s.m, s.b);
    }
  });

  it("a record with a lower seq than the stored one is ignored", async () => {
    let seq = 100n;
    let addr = "/ip4/192.0.2.10/tcp/10";
    const s = await setup(async (m) => {
      const record = await sealPeerRecord(m.privateKey, [multiaddr(addr)], { seq });
      return [
        encodeIdentifyFrame(
          messageOf(m, {
            signedPeerRecord: record.encode(),
            listenAddrs: [multiaddr("/ip4/192.0.2.99/tcp/99").bytes],
          }),
        ),
      ];
    });
    const m = s.m;
    try {
      const first = await s.b.services.identify.identify(s.conn);
      assert.equal(first.signedPeerRecord?.accepted, true);
      let info = (await s.b.peerStore.get(m.peerId))!;
      assert.equal(info.peerRecordSeq, 100n);
      assert.ok(info.addresses.some((a) => a.toString() === "/ip4/192.0.2.10/tcp/10"));
      assert.ok(!info.addresses.some((a) => a.toString() === "/ip4/192.0.2.99/tcp/99"));

      seq = 50n;
      addr = "/ip4/192.0.2.20/tcp/20";
      const second = await s.b.services.identify.identify(s.conn);
      assert.equal(second.signedPeerRecord?.accepted, false);
      info = (await s.b.peerStore.get(m.peerId))!;
      assert.equal(info.peerRecordSeq, 100n);
      assert.ok(!info.addresses.some((a) => a.toString() === "/ip4/192.0.2.20/tcp/20"));

      seq = 101n;
      const third = await s.b.services.identify.identify(s.conn);
      assert.equal(third.signedPeerRecord?.accepted, true);
      info = (await s.b.peerStore.get(m.peerId))!;
      assert.equal(info.peerRecordSeq, 101n);
      assert.ok(info.addresses.some((a) => a.toString() === "/ip4/192.0.2.20/tcp/20"));
    } finally {
      await stopAll(s.m, s.b);
    }
  });

  it("a peer that answers nothing: identify fails at its deadline, stream reset", async () => {
    const m = await testNode();
    m.handle(IDENTIFY_PROTOCOL_ID, async (stream) => {
      await write(stream, new Uint8Array([0x05])); // a length prefix, then silence
      for await (const _ of stream.readable) { /* until b gives up and resets */ }
    });
    const b = await testNode<WithIdentify>({
      listen: [],
      services: { identify: identify({ runOnConnectionOpen: false, timeoutMs: 200 }) },
    });
    try {
      const conn = await b.dial(m.addrs()[0]);
      await assert.rejects(b.services.identify.identify(conn), (e: Error) => e.name !== "");
      await until(() => conn.streams.length === 0);
    } finally {
      await stopAll(m, b);
    }
  });
});

describe("identify: aborting", () => {
  it("a caller's signal and node.stop() end an identify in flight", async () => {
    const m = await testNode();
    m.handle(IDENTIFY_PROTOCOL_ID, async (stream) => {
      for await (const _ of stream.readable) { /* silent until reset */ }
    });
    const b = await testNode<WithIdentify>({
      listen: [],
      services: { identify: identify({ runOnConnectionOpen: false, timeoutMs: 60_000 }) },
    });
    try {
      const conn = await b.dial(m.addrs()[0]);
      const controller = new AbortController();
      const first = b.services.identify.identify(conn, { signal: controller.signal });
      controller.abort();
      await assert.rejects(first);
      const second = b.services.identify.identify(conn);
      second.catch(() => {});
      await b.stop();
      await assert.rejects(second);
    } finally {
      await stopAll(m, b);
    }
  });
});

describe("identify hardening: misbehaving clients of our handlers", () => {
  async function setup() {
    const b = await testNode<WithIdentify>({
      services: { identify: identify({ runOnConnectionOpen: false, timeoutMs: 300 }) },
    });
    const m = await testNode({ listen: [] });
    const conn = await m.dial(b.addrs()[0]);
    // The listener may finish its side of the upgrade a little after the dialer.
    await until(() => b.getConnections(m.peerId).length > 0);
    const bConn = () => b.getConnections(m.peerId)[0];
    return { b, m, conn, bConn };
  }

  for (const protocol of [IDENTIFY_PROTOCOL_ID, IDENTIFY_PUSH_PROTOCOL_ID]) {
    it(`${protocol}: 0 bytes then close`, async () => {
      const { b, m, conn, bConn } = await setup();
      try {
        const stream = await conn.newStream(protocol);
        await stream.close();
        const got = await outcome(stream.readable);
        assert.equal(got.kind, "eof");
        if (got.kind !== "eof") return;
        if (protocol === IDENTIFY_PROTOCOL_ID) {
          const frame = decodeIdentifyFrame(got.bytes);
          assert.equal(frame?.length, got.bytes.byteLength, "exactly one message, then EOF");
          assert.ok(frame?.message.protocols.includes(IDENTIFY_PROTOCOL_ID));
        } else {
          assert.equal(got.bytes.byteLength, 0);
          assert.equal((await b.peerStore.get(m.peerId))?.protocols.length ?? 0, 0);
        }
        await until(() => bConn().streams.length === 0);
      } finally {
        await stopAll(m, b);
      }
    });

    it(`${protocol}: 1 byte then reset`, async () => {
      const { b, m, conn, bConn } = await setup();
      try {
        const stream = await conn.newStream(protocol);
        await write(stream, new Uint8Array([0x03]));
        stream.reset();
        await until(() => bConn().streams.length === 0);
        assert.equal((await b.peerStore.get(m.peerId))?.protocols.length ?? 0, 0);
        // The handler still serves the next stream.
        const again = await conn.newStream(IDENTIFY_PROTOCOL_ID);
        await again.close();
        const got = await outcome(again.readable);
        assert.equal(got.kind, "eof");
      } finally {
        await stopAll(m, b);
      }
    });

    it(`${protocol}: a length prefix then silence`, async () => {
      const { b, m, conn, bConn } = await setup();
      try {
        const stream = await conn.newStream(protocol);
        await write(stream, new Uint8Array([0x05]));
        const got = await outcome(stream.readable);
        if (protocol === IDENTIFY_PROTOCOL_ID) {
          // The reply comes, then EOF; our side never closes, so the handler resets the
          // stream at its deadline (the stream is freed on b, below).
          assert.equal(got.kind, "eof");
          await until(() => stream.status === "reset");
        } else {
          // The push handler waits for the message, gives up at its deadline and resets.
          assert.equal(got.kind, "error");
        }
        await until(() => bConn().streams.length === 0);
        assert.equal((await b.peerStore.get(m.peerId))?.protocols.length ?? 0, 0);
      } finally {
        await stopAll(m, b);
      }
    });
  }

  it("a push with a message above the read limit is reset", async () => {
    const { b, m, conn, bConn } = await setup();
    try {
      const stream = await conn.newStream(IDENTIFY_PUSH_PROTOCOL_ID);
      await write(stream, encodeUvarint(100_000), new Uint8Array(1000));
      const got = await outcome(stream.readable);
      assert.equal(got.kind, "error");
      await until(() => bConn().streams.length === 0);
    } finally {
      await stopAll(m, b);
    }
  });

  it("a valid push from a peer updates its entry", async () => {
    const { b, m, conn } = await setup();
    try {
      const seen = nextEvent(b, "peer:identify", (d) => d.peerId.equals(m.peerId));
      const stream = await conn.newStream(IDENTIFY_PUSH_PROTOCOL_ID);
      await write(
        stream,
        encodeIdentifyFrame({ listenAddrs: [], protocols: ["/pushed/1"], agentVersion: "m/1" }),
      );
      await stream.close();
      await outcome(stream.readable);
      const d = await seen;
      assert.deepEqual(d.protocols, ["/pushed/1"]);
      assert.equal((await b.peerStore.get(m.peerId))?.agentVersion, "m/1");
    } finally {
      await stopAll(m, b);
    }
  });
});
