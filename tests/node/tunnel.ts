/**
 * Test helper: a transport whose connections are made from a Stream of another connection, the
 * way circuit relay builds them (a much simplified relay: no reservations, no limits enforced
 * by the relay, one header instead of the hop/stop messages).
 *
 * - `/p2p/<relay>/p2p-circuit/p2p/<target>`: open a `/test/tunnel/1.0.0` stream on our open
 *   connection to the relay and send the target's id; the relay opens a tunnel stream to the
 *   target and splices the two streams.
 * - `/p2p/<target>/p2p-circuit`: the tunnel runs on our connection to the target itself (an
 *   address without a destination peer, so the node does not reuse its open connection).
 *
 * The target's tunnel listener hands the stream to its node as a raw connection; each node's
 * upgrader runs Noise + yamux inside the stream, giving an independent Connection. With
 * `limits`, both ends carry them (marked limited).
 */

import { type Connection, type Stream, streamChannelOf } from "../../src/connection.ts";
import { CODE_P2P_CIRCUIT, type Multiaddr, multiaddr } from "../../src/multiaddr/mod.ts";
import type { ConnectionLimits } from "../../src/node/limits.ts";
import type { Libp2pNode } from "../../src/node/node.ts";
import { peerIdFromString } from "../../src/peer_id.ts";
import { type ByteChannel, prefixChannel } from "../../src/stream/channel.ts";
import type { AbortOptions } from "../../src/stream/types.ts";
import type { Listener, ListenerInit, RawConnection, Transport } from "../../src/transport.ts";

/** The protocol the tunnel runs on. */
export const TUNNEL_PROTOCOL = "/test/tunnel/1.0.0";

/** A raw connection made from a stream: the contract's `{ channel, remoteAddr, close, abort }`. */
export type StreamRawConnection = RawConnection & {
  readonly channel: ByteChannel;
  readonly limits?: ConnectionLimits;
};

/**
 * A RawConnection over `channel` (the bytes of a stream): `{ channel, remoteAddr, close, abort }`
 * carrying `limits` when given.
 */
export function rawFromChannel(
  channel: ByteChannel,
  remoteAddr: Multiaddr,
  limits?: ConnectionLimits,
): StreamRawConnection {
  return {
    channel,
    remoteAddr,
    limits,
    close: () => channel.closeWrite(),
    abort: (reason?: unknown) => channel.abort(reason),
  };
}

/** A RawConnection over a Stream's bytes (its byte channel: no web stream in between). */
export function rawFromStream(
  stream: Stream,
  remoteAddr: Multiaddr,
  limits?: ConnectionLimits,
): StreamRawConnection {
  return rawFromChannel(streamChannelOf(stream), remoteAddr, limits);
}

/** The tunnel transport; `bind(node)` once the node exists. */
export interface TunnelTransport extends Transport {
  /** Serve the tunnel protocol on `node` (as relay and as target) and dial through it. */
  bind(node: Libp2pNode): void;
  /** The raw connections made so far (both directions), for assertions. */
  readonly made: RawConnection[];
}

/** Create a tunnel transport whose connections carry `limits` (none: unlimited). */
export function tunnel(limits?: ConnectionLimits): TunnelTransport {
  let node: Libp2pNode | undefined;
  let listener: ListenerInit | undefined;
  const made: RawConnection[] = [];
  const isCircuit = (a: Multiaddr): boolean => a.protoCodes().includes(CODE_P2P_CIRCUIT);
  const serve = async (stream: Stream): Promise<void> => {
    const channel = streamChannelOf(stream);
    const { target, rest } = await readHeader(channel);
    if (target === "") {
      // We are the destination.
      if (listener === undefined) return channel.abort(new Error("not listening"));
      const from = multiaddr(`/p2p/${stream.remotePeer}/p2p-circuit`);
      const raw = rawFromChannel(rest, from, limits);
      made.push(raw);
      listener.onConnection(raw);
      return;
    }
    // We relay: splice the stream with one to the target.
    const onward = await openTunnel(node!, target, "", undefined);
    splice(rest, onward);
  };
  return {
    name: "tunnel",
    made,
    bind(n: Libp2pNode): void {
      node = n;
      n.handle(TUNNEL_PROTOCOL, (stream) => {
        serve(stream).catch((err) => stream.abort(err));
      }, { idleTimeoutMs: 0 });
    },
    async dial(addr: Multiaddr, options?: AbortOptions): Promise<RawConnection> {
      if (node === undefined) throw new Error("tunnel transport not bound to a node");
      const relay = addr.decapsulateCode(CODE_P2P_CIRCUIT).getPeerId();
      if (relay === undefined) throw new Error(`no relay peer in ${addr}`);
      const target = addr.getPeerId() ?? "";
      const channel = await openTunnel(node, relay, target, options?.signal);
      const raw = rawFromChannel(channel, addr, limits);
      made.push(raw);
      return raw;
    },
    createListener(init: ListenerInit): Listener {
      listener = init;
      return {
        listen: () => Promise.resolve(),
        getAddrs: () => [],
        close: () => {
          listener = undefined;
          return Promise.resolve();
        },
      };
    },
    listenFilter: (addrs) => addrs.filter(isCircuit),
    dialFilter: (addrs) => addrs.filter(isCircuit),
  };
}

/** Open a tunnel stream to `via` naming `target` ("" : `via` is the destination). */
async function openTunnel(
  node: Libp2pNode,
  via: string,
  target: string,
  signal: AbortSignal | undefined,
): Promise<ByteChannel> {
  const conn: Connection | undefined = node.getConnections(peerIdFromString(via))
    .find((c) => c.status === "open" && !c.limited);
  if (conn === undefined) throw new Error(`no connection to ${via} to tunnel through`);
  const stream = await conn.newStream(TUNNEL_PROTOCOL, { signal, idleTimeoutMs: 0 });
  const channel = streamChannelOf(stream);
  const id = new TextEncoder().encode(target);
  channel.write(Uint8Array.of(id.byteLength, ...id));
  await channel.drained();
  return channel;
}

/** Read the 1-byte-length-prefixed target id; `rest` replays what came after it. */
async function readHeader(channel: ByteChannel): Promise<{ target: string; rest: ByteChannel }> {
  let buf = new Uint8Array(0);
  while (buf.byteLength < 1 || buf.byteLength < 1 + buf[0]) {
    const chunk = await channel.read();
    if (chunk === null) throw new Error("tunnel ended before its header");
    const next = new Uint8Array(buf.byteLength + chunk.byteLength);
    next.set(buf);
    next.set(chunk, buf.byteLength);
    buf = next;
  }
  const end = 1 + buf[0];
  const target = new TextDecoder().decode(buf.subarray(1, end));
  const left = buf.subarray(end);
  return { target, rest: left.byteLength > 0 ? prefixChannel(channel, [left]) : channel };
}

/** Copy bytes both ways between two channels until both ends closed (errors abort both). */
function splice(x: ByteChannel, y: ByteChannel): void {
  const pump = async (from: ByteChannel, to: ByteChannel): Promise<void> => {
    for (let chunk = await from.read(); chunk !== null; chunk = await from.read()) {
      to.write(chunk.slice());
      await to.drained();
    }
    await to.closeWrite();
  };
  const fail = (err: unknown): void => {
    x.abort(err);
    y.abort(err);
  };
  pump(x, y).catch(fail);
  pump(y, x).catch(fail);
}

/** The tunnel address of `target` over our own connection to it: `/p2p/<id>/p2p-circuit`. */
export function tunnelAddr(target: Libp2pNode): Multiaddr {
  return multiaddr(`/p2p/${target.peerId.toString()}/p2p-circuit`);
}
