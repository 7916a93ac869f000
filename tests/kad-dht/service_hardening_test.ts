/**
 * Hardening of the DHT service over the memory transport (HARDENING.md rules 1, 3, 4): a
 * FIND_NODE flood from one peer is capped while honest queries still succeed; oversized,
 * truncated, stalled and malformed messages reset the stream; a peer that never answers times
 * out and the lookup ends without it; a peer announcing huge numbers of provider keys (and
 * others as providers) fills at most its per-peer share of the store, and an honest provider is
 * still found.
 */

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { utf8Encode } from "../../src/bytes.ts";
import { TimeoutError } from "../../src/errors.ts";
import { identify, type IdentifyService } from "../../protocols/identify/service.ts";
import { KAD_PROTOCOL_ID, type KadDHTOptions } from "../../protocols/kad-dht/mod.ts";
import { kadDHTWithInternals as kadDHT } from "../../protocols/kad-dht/operations.ts";
import {
  ConnectionType,
  encodeFrame,
  type KadMessage,
  type KadPeer,
  MessageType,
} from "../../protocols/kad-dht/codec.ts";
import type { KadDHT } from "../../protocols/kad-dht/operations.ts";
import { MessageReader } from "../../protocols/kad-dht/rpc.ts";
import { MemoryProviderStore } from "../../protocols/kad-dht/providers.ts";
import { kadId } from "../../protocols/kad-dht/keyspace.ts";
import { outcome, stopAll, testNode } from "../helpers/nodes.ts";

type S = { identify: IdentifyService; dht: KadDHT };

const QUIET: KadDHTOptions = {
  clientMode: false,
  allowPrivateAddresses: true,
  refreshIntervalMs: 0,
  reprovideIntervalMs: 0,
  sweepIntervalMs: 0,
};

const dhtNode = (options: KadDHTOptions = {}) =>
  testNode<S>({ services: { identify: identify(), dht: kadDHT({ ...QUIET, ...options }) } });
const rawNode = () =>
  testNode<{ identify: IdentifyService }>({ services: { identify: identify() } });

const findNode = (key: Uint8Array): KadMessage => ({
  type: MessageType.FIND_NODE,
  key,
  closerPeers: [],
  providerPeers: [],
});

/** A sha2-256 multihash (a CIDv0's bytes) made from a number. */
function multihashOf(n: number): Uint8Array {
  return new Uint8Array([0x12, 0x20, ...kadId(utf8Encode(`key ${n}`))]);
}

describe("kad-dht service hardening", () => {
  it("a peer announcing thousands of provider keys fills only its share; honest ones are found", async () => {
    const PER_PEER = 50;
    const server = await dhtNode({
      providers: new MemoryProviderStore({ maxPerPeer: PER_PEER }),
      // The store's cap is under test here, not the request rate limits.
      requestLimits: { burst: 10_000, perSecond: 10_000, maxInflight: 64 },
    });
    const attacker = await dhtNode();
    const honest = await dhtNode({ bootstrapPeers: [server.addrs()[0].toString()] });
    const seeker = await dhtNode({ bootstrapPeers: [server.addrs()[0].toString()] });
    try {
      const KEYS = 2_000;
      const self: KadPeer = {
        id: attacker.peerId.toBytes(),
        addrs: attacker.addrs().map((a) => a.bytes),
        connection: ConnectionType.NOT_CONNECTED,
      };
      // Half name the attacker (the sender) as provider, half name the honest node: only the
      // sender may be registered, so the second half registers nothing at all.
      const frames: Uint8Array[] = [];
      for (let i = 0; i < KEYS; i++) {
        const provider = i % 2 === 0 ? self : { ...self, id: honest.peerId.toBytes() };
        frames.push(encodeFrame({
          type: MessageType.ADD_PROVIDER,
          key: multihashOf(i),
          closerPeers: [],
          providerPeers: [provider],
        }));
      }
      const s = await attacker.dialProtocol(server.addrs()[0], KAD_PROTOCOL_ID);
      const w = s.writable.getWriter();
      for (let i = 0; i < frames.length; i += 100) {
        await w.write(new Uint8Array(frames.slice(i, i + 100).flatMap((f) => [...f])));
      }
      await w.close().catch(() => {});
      // ADD_PROVIDER gets no answer: wait until the server has taken all it will take.
      const store = server.services.dht.providers;
      let last = -1;
      for (let round = 0; round < 200; round++) {
        await new Promise((r) => setTimeout(r, 20));
        const size = await store.size();
        if (size === last && size > 0) break;
        last = size;
      }
      const size = await store.size();
      assert.ok(size > 0 && size <= PER_PEER, `the store holds ${size} records`);
      for (let i = 1; i < KEYS; i += 2) {
        assert.deepEqual(await store.get(multihashOf(i), Date.now()), [], `key ${i}`);
      }
      // An honest provider still gets in, and is found.
      await honest.services.dht.bootstrap();
      await seeker.services.dht.bootstrap();
      const cid = { multihash: { bytes: multihashOf(KEYS + 1) } };
      assert.ok(await honest.services.dht.provide(cid) > 0);
      const found: string[] = [];
      for await (const p of seeker.services.dht.findProviders(cid, { limit: 1 })) {
        found.push(p.id.toString());
      }
      assert.deepEqual(found, [honest.peerId.toString()]);
    } finally {
      await stopAll(seeker, honest, attacker, server);
    }
  });

  it("a FIND_NODE flood from one peer is capped; an honest peer is still answered", async () => {
    const server = await dhtNode({ requestLimits: { burst: 20, perSecond: 1, maxInflight: 4 } });
    const attacker = await rawNode();
    const honest = await dhtNode({ bootstrapPeers: [server.addrs()[0].toString()] });
    try {
      const STREAMS = 20;
      const PER_STREAM = 30;
      let answered = 0;
      await Promise.all(Array.from({ length: STREAMS }, async () => {
        const s = await attacker.dialProtocol(server.addrs()[0], KAD_PROTOCOL_ID);
        const w = s.writable.getWriter();
        const frames = Array.from(
          { length: PER_STREAM },
          () => encodeFrame(findNode(attacker.peerId.toBytes())),
        );
        w.write(new Uint8Array(frames.flatMap((f) => [...f]))).catch(() => {});
        const r = new MessageReader(s.readable);
        try {
          while (await r.next({ firstByteMs: 5000, messageMs: 5000 }) !== undefined) answered++;
        } catch {
          // Reset by the server once over the limit.
        }
      }));
      assert.ok(
        answered < STREAMS * PER_STREAM / 4,
        `answered ${answered} of ${STREAMS * PER_STREAM}`,
      );
      assert.ok(server.services.dht.stats().refused > 0);
      // The honest node is not limited by the attacker's budget.
      await honest.services.dht.bootstrap();
      let fromServer = 0;
      for await (const ev of honest.services.dht.getClosestPeers(utf8Encode("after the flood"))) {
        if (ev.name === "PEER_RESPONSE" && ev.from.equals(server.peerId)) fromServer++;
      }
      assert.equal(fromServer, 1);
    } finally {
      await stopAll(honest, attacker, server);
    }
  });

  it("oversized, truncated, stalled and undecodable messages reset the stream", async () => {
    const server = await dhtNode({ messageTimeoutMs: 200 });
    const peer = await rawNode();
    try {
      const send = async (bytes: Uint8Array, close: boolean) => {
        const s = await peer.dialProtocol(server.addrs()[0], KAD_PROTOCOL_ID);
        const w = s.writable.getWriter();
        await w.write(bytes);
        if (close) await w.close();
        return await outcome(s.readable);
      };
      // A prefix declaring 5 MiB (over the 4 MiB limit): refused before any allocation.
      const oversized = await send(new Uint8Array([0x80, 0x80, 0xc0, 0x02, 1, 2, 3]), false);
      assert.equal(oversized.kind, "error");
      // Half a frame, then the end of the stream.
      const frame = encodeFrame(findNode(new Uint8Array([1, 2, 3])));
      const truncated = await send(frame.subarray(0, frame.byteLength - 2), true);
      assert.equal(truncated.kind, "error");
      // Half a frame, then nothing: the per-message deadline (200 ms here) resets it.
      const stalled = await send(frame.subarray(0, 3), false);
      assert.equal(stalled.kind, "error");
      // A complete frame whose body is not a message (field 1 with wire type 7).
      const garbage = await send(new Uint8Array([2, 0x0f, 0x01]), false);
      assert.equal(garbage.kind, "error");
      assert.ok(server.services.dht.stats().badStreams >= 4);
      // A well-formed request on a fresh stream is still answered.
      const ok = await peer.dialProtocol(server.addrs()[0], KAD_PROTOCOL_ID);
      const w = ok.writable.getWriter();
      await w.write(frame);
      const answer = await new MessageReader(ok.readable).next({
        firstByteMs: 5000,
        messageMs: 5000,
      });
      assert.equal(answer?.type, MessageType.FIND_NODE);
    } finally {
      await stopAll(peer, server);
    }
  });

  it("a peer that never answers times out and the lookup ends without it", async () => {
    // A node that answers while the asker bootstraps (its lookup check and self-lookup), then
    // goes silent: which request comes first differs between runs and runtimes, so the switch is
    // explicit rather than "the first request".
    const silent = await rawNode();
    let muted = false;
    silent.handle(KAD_PROTOCOL_ID, async (stream) => {
      const reader = new MessageReader(stream.readable);
      const req = await reader.next({ firstByteMs: 5000, messageMs: 5000 });
      if (muted || req === undefined) return; // read, never answer
      const w = stream.writable.getWriter();
      await w.write(encodeFrame({ ...findNode(req.key!), closerPeers: [] }));
      await w.close();
    });
    const asker = await dhtNode({
      requestTimeoutMs: 300,
      bootstrapPeers: [silent.addrs()[0].toString()],
    });
    try {
      await asker.services.dht.bootstrap();
      assert.ok(asker.services.dht.table.has(silent.peerId.toBytes()), "admitted after its check");
      muted = true;
      const events = [];
      for await (const ev of asker.services.dht.getClosestPeers(utf8Encode("anyone?"))) {
        events.push(ev);
      }
      const failure = events.find((e) => e.name === "QUERY_ERROR");
      assert.ok(failure !== undefined && failure.name === "QUERY_ERROR");
      assert.ok(failure.from.equals(silent.peerId));
      assert.ok(
        failure.error instanceof TimeoutError || String(failure.error).includes("deadline"),
        String(failure.error),
      );
      assert.equal(events.filter((e) => e.name === "FINAL_PEER").length, 0);
    } finally {
      await stopAll(asker, silent);
    }
  });
});
