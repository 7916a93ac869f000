/**
 * DCUtR hardening over loopback through our relay (HARDENING.md "autonat / dcutr" row): a
 * CONNECT listing hundreds of addresses costs at most MAX_DIAL_ADDRS dials; unexpected messages
 * and a peer that never sends SYNC end the exchange (stream reset); an initiator facing a peer
 * that never answers gives up after three attempts.
 */

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import type { Connection, Stream } from "../../src/connection.ts";
import type { Multiaddr } from "../../src/multiaddr/mod.ts";
import { multiaddr } from "../../src/multiaddr/mod.ts";
import { ProtobufWriter } from "../../src/protobuf.ts";
import { ByteReader } from "../../src/stream/byte_reader.ts";
import { encodeUvarint } from "../../src/varint.ts";
import {
  DCUTR_PROTOCOL_ID,
  type DcutrResult,
  encodeHolePunchFrame,
  HolePunchType,
  MAX_OBS_ADDRS,
  readHolePunch,
} from "../../protocols/dcutr/mod.ts";
import { stopAll, until } from "../helpers/nodes.ts";
import { type DcutrNode, peerNode, relayNode, reservedAddr } from "./relay_helpers.ts";

/** MAX_DIAL_ADDRS of constants.ts: dials per round. */
const MAX_DIAL_ADDRS = 8;

/** Our node X (dcutr, responder) dials a plain node Y through the relay; Y's side of it. */
async function relayedPair(
  xOptions: Record<string, unknown>,
  denyDial?: (addr: Multiaddr) => boolean,
): Promise<
  { x: DcutrNode; y: DcutrNode; relay: Awaited<ReturnType<typeof relayNode>>; atY: Connection }
> {
  const relay = await relayNode();
  const y = await peerNode([`${relay.addrs()[0]}/p2p-circuit`], undefined);
  const x = await peerNode([], xOptions, denyDial ? { denyDial } : undefined);
  await x.dial(await reservedAddr(y));
  await until(() => y.getConnections(x.peerId).length > 0);
  return { x, y, relay, atY: y.getConnections(x.peerId)[0] };
}

async function openDcutr(conn: Connection): Promise<Stream> {
  return await conn.newStream(DCUTR_PROTOCOL_ID, { runOnLimitedConnection: true });
}

/** True once the stream ended (EOF or reset) from the other side. */
async function ended(stream: Stream): Promise<boolean> {
  const reader = new ByteReader(stream.readable);
  try {
    for (;;) {
      if ((await reader.readChunk()) === undefined) return true;
    }
  } catch {
    return true;
  }
}

describe("dcutr hardening (loopback, our relay)", () => {
  it("a CONNECT with hundreds of addresses costs at most MAX_DIAL_ADDRS dials", async () => {
    const denied: string[] = [];
    const { x, y, relay, atY } = await relayedPair({}, (addr) => {
      if (addr.toString().startsWith("/ip4/127.0.0.2/")) {
        denied.push(addr.toString());
        return true;
      }
      return false;
    });
    try {
      const stream = await openDcutr(atY);
      const w = new ProtobufWriter().uint(1, HolePunchType.CONNECT);
      let n = 0;
      for (let port = 1000; n < 390; port++, n++) {
        w.bytes(2, multiaddr(`/ip4/127.0.0.2/tcp/${port}`).bytes);
      }
      const body = w.finish();
      const writer = stream.writable.getWriter();
      const frame = new Uint8Array([...encodeUvarint(body.byteLength), ...body]);
      await writer.write(frame);
      const reader = new ByteReader(stream.readable);
      const answer = await readHolePunch(reader);
      assert.equal(answer.type, HolePunchType.CONNECT);
      await writer.write(encodeHolePunchFrame({ type: HolePunchType.SYNC, obsAddrs: [] }));
      await until(() => x.services.dcutr!.stats().responded === 1);
      await until(() => denied.length >= MAX_DIAL_ADDRS);
      await new Promise((r) => setTimeout(r, 300));
      assert.ok(denied.length <= MAX_DIAL_ADDRS, `${denied.length} dials`);
      assert.ok(MAX_DIAL_ADDRS < MAX_OBS_ADDRS);
      assert.equal(new Set(denied).size, denied.length);
    } finally {
      await stopAll(x, y, relay);
    }
  });

  it("an unexpected first message (SYNC) resets the exchange", async () => {
    const { x, y, relay, atY } = await relayedPair({});
    try {
      const stream = await openDcutr(atY);
      const writer = stream.writable.getWriter();
      await writer.write(encodeHolePunchFrame({ type: HolePunchType.SYNC, obsAddrs: [] }));
      assert.equal(await ended(stream), true);
      await until(() => x.services.dcutr!.stats().respondFailed === 1);
      assert.equal(x.services.dcutr!.stats().responded, 0);
    } finally {
      await stopAll(x, y, relay);
    }
  });

  it("a peer that never sends SYNC is dropped at the exchange deadline", async () => {
    const { x, y, relay, atY } = await relayedPair({ exchangeTimeoutMs: 300 });
    try {
      const stream = await openDcutr(atY);
      const writer = stream.writable.getWriter();
      await writer.write(encodeHolePunchFrame({
        type: HolePunchType.CONNECT,
        obsAddrs: [multiaddr("/ip4/127.0.0.1/tcp/9").bytes],
      }));
      assert.equal(
        (await readHolePunch(new ByteReader(stream.readable))).type,
        HolePunchType.CONNECT,
      );
      // No SYNC: the responder gives up at its deadline.
      await until(() => x.services.dcutr!.stats().respondFailed === 1, 5_000);
      assert.equal(x.services.dcutr!.stats().responded, 0);
    } finally {
      await stopAll(x, y, relay);
    }
  });

  it("an initiator whose peer never answers CONNECT gives up after three attempts", async () => {
    const relay = await relayNode();
    const results: DcutrResult[] = [];
    const b = await peerNode([`${relay.addrs()[0]}/p2p-circuit`], {
      exchangeTimeoutMs: 300,
      retryBackoffMs: 50,
      onUpgrade: (_p, r) => results.push(r),
    });
    // The silent peer: takes DCUtR streams on limited connections and never answers.
    const silent = await peerNode([], undefined);
    let streams = 0;
    silent.handle(DCUTR_PROTOCOL_ID, (s) => {
      streams++;
      s.readable.pipeTo(new WritableStream()).catch(() => {});
    }, { runOnLimitedConnection: true });
    try {
      await silent.dial(await reservedAddr(b));
      await until(() => results.length > 0, 15_000);
      assert.equal(results[0].ok, false);
      assert.equal(results[0].method, "none");
      assert.equal(results[0].attempts, 3);
      assert.match(results[0].reason, /3 attempts failed/);
      assert.equal(streams, 3);
      assert.equal(b.services.dcutr!.stats().failed, 1);
    } finally {
      await stopAll(silent, b, relay);
    }
  });

  it("a peer without DCUtR (per identify) is not asked: no stream, no retries", async () => {
    const relay = await relayNode();
    const results: DcutrResult[] = [];
    const b = await peerNode([`${relay.addrs()[0]}/p2p-circuit`], {
      onUpgrade: (_p, r) => results.push(r),
    });
    const plain = await peerNode([], undefined);
    try {
      await plain.dial(await reservedAddr(b));
      await until(() => results.length > 0, 15_000);
      assert.equal(results[0].ok, false);
      assert.equal(results[0].attempts, 0);
      assert.match(results[0].reason, /does not speak/);
    } finally {
      await stopAll(plain, b, relay);
    }
  });
});
