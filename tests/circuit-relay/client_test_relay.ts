/**
 * A minimal relay for the client's tests (RESERVE, CONNECT, STOP, a byte splice), written on
 * the shared codec: the client is tested on the wire protocol, independently of the relay
 * server's policy. The real server (protocols/circuit-relay) is exercised by its own tests and by
 * the client tests that use it.
 */

import type { Connection, Stream } from "../../src/connection.ts";
import { streamChannelOf } from "../../src/connection.ts";
import type { Libp2pNode } from "../../src/node/node.ts";
import { ByteReader } from "../../src/stream/byte_reader.ts";
import type { ByteChannel } from "../../src/stream/channel.ts";
import { peerIdFromBytes } from "../../src/peer_id.ts";
import {
  encodeFrame,
  encodeHopMessage,
  encodeStopMessage,
  HOP_PROTOCOL,
  HopType,
  type Limit,
  readHopMessage,
  readStopMessage,
  Status,
  STOP_PROTOCOL,
  StopType,
} from "../../protocols/circuit-relay/mod.ts";

export interface TestRelayOptions {
  /** Reservation lifetime, s. Default 3600. */
  ttlSeconds?: number;
  /** Limit sent with circuits. Default none (unlimited). */
  limit?: Limit;
  /** Addresses put in reservations instead of the node's own. */
  addrs?: Uint8Array[];
}

export interface TestRelay {
  /** Peers holding a reservation. */
  readonly reserved: Set<string>;
  /** RESERVE requests answered. */
  reserves: number;
  /** Circuits spliced. */
  circuits: number;
}

async function send(channel: ByteChannel, body: Uint8Array): Promise<void> {
  channel.write(encodeFrame(body));
  await channel.drained();
}

async function splice(from: ByteChannel, to: ByteChannel): Promise<void> {
  try {
    for (;;) {
      const chunk = await from.read();
      if (chunk === null) {
        await to.closeWrite();
        return;
      }
      to.write(chunk);
      await to.drained();
    }
  } catch (err) {
    from.abort(err);
    to.abort(err);
  }
}

/** Serve HOP on `node` (with its listen addresses in reservations). */
export function serveTestRelay(node: Libp2pNode, options: TestRelayOptions = {}): TestRelay {
  const state: TestRelay = { reserved: new Set(), reserves: 0, circuits: 0 };
  node.addEventListener("peer:disconnect", (e) => state.reserved.delete(e.detail.toString()));
  node.handle(HOP_PROTOCOL, async (stream: Stream) => {
    const channel = streamChannelOf(stream);
    const reader = new ByteReader(channel);
    const msg = await readHopMessage(reader);
    const from = stream.connection.remotePeer;
    if (msg.type === HopType.RESERVE) {
      state.reserved.add(from.toString());
      state.reserves++;
      const expire = BigInt(Math.floor(Date.now() / 1000) + (options.ttlSeconds ?? 3600));
      await send(
        channel,
        encodeHopMessage({
          type: HopType.STATUS,
          status: Status.OK,
          reservation: {
            expire,
            addrs: options.addrs ?? node.addrs().map((a) => a.decapsulateCode(421).bytes),
          },
          limit: options.limit,
        }),
      );
      await stream.close();
      return;
    }
    if (msg.type !== HopType.CONNECT || msg.peer === undefined) {
      await send(channel, encodeHopMessage({ type: HopType.STATUS, status: 401 }));
      return;
    }
    const target = peerIdFromBytes(msg.peer.id);
    const targetConn: Connection | undefined = node.getConnections(target).find((c) =>
      c.status === "open"
    );
    if (!state.reserved.has(target.toString()) || targetConn === undefined) {
      await send(
        channel,
        encodeHopMessage({ type: HopType.STATUS, status: Status.NO_RESERVATION }),
      );
      await stream.close();
      return;
    }
    const stop = await targetConn.newStream(STOP_PROTOCOL, { idleTimeoutMs: 0 });
    const stopChannel = streamChannelOf(stop);
    const stopReader = new ByteReader(stopChannel);
    await send(
      stopChannel,
      encodeStopMessage({
        type: StopType.CONNECT,
        peer: { id: from.toBytes(), addrs: [] },
        limit: options.limit,
      }),
    );
    const answer = await readStopMessage(stopReader);
    if (answer.status !== Status.OK) {
      await send(
        channel,
        encodeHopMessage({ type: HopType.STATUS, status: Status.CONNECTION_FAILED }),
      );
      await stream.close();
      return;
    }
    await send(
      channel,
      encodeHopMessage({ type: HopType.STATUS, status: Status.OK, limit: options.limit }),
    );
    state.circuits++;
    const a = reader.restChannel();
    const b = stopReader.restChannel();
    splice(a, b);
    splice(b, a);
  }, { idleTimeoutMs: 0 });
  return state;
}
